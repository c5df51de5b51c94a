import { z } from "zod";
import type { ClerkConfig } from "../config";
import { logger } from "../log/logger";

/**
 * The two calls Enclave makes to Clerk's Backend API (CLERK_API_URL, the secret key as a
 * bearer): learn a user's verified email the first time their session is seen before the
 * user.created webhook arrived, and revoke a session at sign-out. Nothing else goes over the
 * network: session tokens verify against CLERK_JWT_KEY locally. Tests point CLERK_API_URL at a
 * local fake; nothing here is mocked.
 */
const TIMEOUT_MS = 5_000;

/** The slice of Clerk's User object (Backend API and webhook payloads alike) Enclave reads. */
export const clerkUserSchema = z.object({
  id: z.string().regex(/^user_[A-Za-z0-9]+$/),
  primary_email_address_id: z.string().nullable().optional(),
  email_addresses: z
    .array(
      z.object({
        id: z.string(),
        email_address: z.string(),
        verification: z.object({ status: z.string() }).nullable().optional(),
      }),
    )
    .default([]),
  updated_at: z.number().int().nonnegative().optional(),
});
export type ClerkUser = z.infer<typeof clerkUserSchema>;

/**
 * The primary email, only when Clerk verified it: an unverified address proves nothing about who
 * signed in, so it never links to (or creates) an Enclave account.
 */
export function primaryVerifiedEmail(user: ClerkUser): string | null {
  const primary = user.email_addresses.find((address) => address.id === user.primary_email_address_id);
  if (!primary || primary.verification?.status !== "verified") return null;
  const email = primary.email_address.trim().toLowerCase();
  return z.email().max(254).safeParse(email).success ? email : null;
}

const bearer = (clerk: ClerkConfig) => ({ authorization: `Bearer ${clerk.secretKey}`, "user-agent": "enclave" });

/** The Clerk user, or null when Clerk says there is none (404) or answers what we cannot read. Network faults throw. */
export async function fetchClerkUser(clerk: ClerkConfig, clerkUserId: string): Promise<ClerkUser | null> {
  const response = await fetch(`${clerk.apiUrl}/v1/users/${encodeURIComponent(clerkUserId)}`, { headers: bearer(clerk), signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) {
    logger.warn({ status: response.status, clerkUserId }, "Clerk Backend API: could not fetch the user");
    return null;
  }
  const parsed = clerkUserSchema.safeParse(await response.json().catch(() => null));
  return parsed.success && parsed.data.id === clerkUserId ? parsed.data : null;
}

/** Ends the session at Clerk; false (logged) when Clerk could not be reached or refused, which the caller survives. */
export async function revokeClerkSession(clerk: ClerkConfig, sessionId: string): Promise<boolean> {
  try {
    const response = await fetch(`${clerk.apiUrl}/v1/sessions/${encodeURIComponent(sessionId)}/revoke`, { method: "POST", headers: bearer(clerk), signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (response.ok) return true;
    logger.warn({ status: response.status, sessionId }, "Clerk Backend API refused to revoke the session; it is refused here anyway");
  } catch (error) {
    logger.warn({ err: error, sessionId }, "Clerk Backend API unreachable to revoke the session; it is refused here anyway");
  }
  return false;
}
