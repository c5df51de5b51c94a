import { and, eq, isNotNull } from "drizzle-orm";
import { z } from "zod";
import { users, type User } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { randomId } from "../crypto/ids";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError } from "../http/errors";
import { hashPassword, passwordSchema } from "./password";

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email("Enter a valid email address.").max(254));

export const credentialsSchema = z.object({ email: emailSchema, password: passwordSchema });
export type Credentials = z.infer<typeof credentialsSchema>;

export async function findUserByEmail(email: string): Promise<User | undefined> {
  const control = await getControlDb();
  return control.db.query.users.findFirst({ where: eq(users.email, email) });
}

/**
 * Creates an account (sign-up, or `enclave user create` with a system actor). An email whose
 * account was closed and purged still has its tombstone (lib/lifecycle/purge.ts): signing up
 * with it again brings that row back as a fresh account — new password, no MFA, new created
 * date — so the person can come back. The created date is the fresh account's on purpose: what
 * shows a person their own history (export, activity) should start there, since nothing proves
 * whoever signs up with the email now is who closed the account then. A live account, closing
 * or not, is a 409.
 */
/**
 * Writes a new account's row, or brings a purged account's tombstone (`tombstoneId`) back as
 * one: every column but id and email starts afresh. The one place a user row is born, for local
 * sign-up and for a Clerk user seen for the first time (lib/auth/clerk-users.ts).
 */
export async function insertFreshAccount(
  tx: ControlTx,
  account: { email: string; passwordHash: string; tombstoneId?: string; clerkUserId?: string; emailVerifiedAt?: number | null; now?: number },
): Promise<User> {
  const fresh = {
    email: account.email,
    passwordHash: account.passwordHash,
    createdAt: account.now ?? Date.now(),
    totpSecret: null,
    totpPendingSecret: null,
    totpLastStep: null,
    closureRequestedAt: null,
    purgeAt: null,
    closedAt: null,
    suspendedAt: null,
    clerkUserId: account.clerkUserId ?? null,
    emailVerifiedAt: account.emailVerifiedAt ?? null,
  };
  const user: User = { id: account.tombstoneId ?? randomId("usr"), ...fresh };
  if (account.tombstoneId) await tx.update(users).set(fresh).where(and(eq(users.id, account.tombstoneId), isNotNull(users.closedAt)));
  else await tx.insert(users).values(user);
  return user;
}

export async function createUser(credentials: Credentials, actor?: Actor): Promise<User> {
  const passwordHash = await hashPassword(credentials.password);
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const existing = await tx.query.users.findFirst({ where: eq(users.email, credentials.email), columns: { id: true, closedAt: true } });
    if (existing && existing.closedAt === null) throw new HttpError(409, "email_taken", "An account with this email already exists.");
    const user = await insertFreshAccount(tx, { email: credentials.email, passwordHash, tombstoneId: existing?.id });
    await auditControlTx(tx, {
      actor: actor ?? { type: "user", id: user.id },
      action: actor ? "user.create" : "user.sign_up",
      target: user.id,
      details: { email: user.email, ...(existing ? { reactivated: true, closedAt: existing.closedAt } : {}) },
    });
    return user;
  });
}
