import { eq, sql } from "drizzle-orm";
import { accessEpoch } from "@/db/control/schema";
import type { Drizzle } from "./database";
import { getControlDb } from "./store";

/**
 * A counter in control.db that moves whenever access may have been taken away: revoking a
 * team token or an AI client, removing or demoting a member, ending a session. It is bumped
 * inside the transaction that makes the change — by the server and by the CLI alike, since
 * both write the same file — so once that change has returned, any reader sees the new value.
 *
 * A live event stream reads it once per event delivered (lib/workspace/event-bus.ts) and asks
 * authorize() again only when it moved: nothing published after a revocation reaches a stream
 * that lost its access, at the price of one tiny read per event rather than a token lookup.
 */
const ROW = 1;

export async function bumpAccessEpoch(tx: Drizzle<Record<string, unknown>>): Promise<void> {
  await tx.update(accessEpoch).set({ value: sql`${accessEpoch.value} + 1` }).where(eq(accessEpoch.id, ROW));
}

export async function readAccessEpoch(): Promise<number> {
  const control = await getControlDb();
  const [row] = await control.db.select({ value: accessEpoch.value }).from(accessEpoch).where(eq(accessEpoch.id, ROW));
  return row?.value ?? 0;
}
