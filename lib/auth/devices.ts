import { and, eq } from "drizzle-orm";
import { knownDevices, users } from "@/db/control/schema";
import { sha256Hex } from "../crypto/secrets";
import { getControlDb } from "../db/store";
import { sendSecurityNotice } from "./security-notices";
import { describeUserAgent } from "./user-agent";

/**
 * The devices a person has signed in from, to tell them of a sign-in from a new one. A device
 * is its coarse label (browser + system, lib/auth/user-agent.ts), so a browser update is not
 * new; the key is SHA-256(user id + label), so the table lists no one's browsers in the clear
 * and one person's key says nothing about another's. The very first device of an account (the
 * sign-up, or the first sign-in of an account the operator made) is recorded silently: there
 * is nothing it could be "new" against.
 */
export const deviceKey = (userId: string, label: string): string => sha256Hex(`${userId}\n${label}`);

/** Records this sign-in's device; returns whether it was new to an account that had others (and so a notice was due). */
export async function recordSignInDevice(userId: string, meta: { ip?: string; userAgent?: string }, now = Date.now()): Promise<boolean> {
  const { label } = describeUserAgent(meta.userAgent);
  const control = await getControlDb();
  const hash = deviceKey(userId, label);
  const outcome = await control.transaction(async (tx) => {
    const known = await tx.update(knownDevices).set({ lastSeenAt: now }).where(and(eq(knownDevices.userId, userId), eq(knownDevices.deviceHash, hash))).returning({ userId: knownDevices.userId });
    if (known.length > 0) return { notify: false as const };
    const others = await tx.$count(knownDevices, eq(knownDevices.userId, userId));
    await tx.insert(knownDevices).values({ userId, deviceHash: hash, firstSeenAt: now, lastSeenAt: now });
    if (others === 0) return { notify: false as const };
    const user = await tx.query.users.findFirst({ where: eq(users.id, userId), columns: { email: true } });
    return user ? { notify: true as const, email: user.email } : { notify: false as const };
  });
  if (!outcome.notify) return false;
  await sendSecurityNotice(outcome.email, { kind: "new_device", device: label }, { ip: meta.ip, at: now });
  return true;
}
