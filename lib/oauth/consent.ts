import { createHmac } from "node:crypto";
import { z } from "zod";
import { oauthCodes } from "@/db/control/schema";
import { membershipRole } from "../access/authorize";
import { capByRole } from "../access/scopes";
import { auditControlTx } from "../audit/audit";
import { assertRoomFor } from "../billing/limits";
import type { SignedIn } from "../auth/sessions";
import { constantTimeEqual, mintSecret } from "../crypto/secrets";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { getControlDb } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { checkAuthorizationRequest, clientRedirect, type AuthorizationRequest } from "./authorization-request";
import { oauthScopes } from "./resource";

/**
 * The person's answer on the consent page. The page posts back the original query string, the
 * workspace and scopes they picked, and a form token: an HMAC, keyed by their session, over
 * what the page showed. A forged post from another site fails the same-origin check first and
 * the form token second; a post for a different request than the one shown fails the token.
 * Everything is checked again from scratch — the page proves nothing by having rendered.
 */
export const CODE_LIFETIME_MS = 60_000;

export const consentDecisionSchema = z.object({
  query: z.string().max(8192),
  formToken: z.string().max(128),
  approve: z.boolean(),
  workspaceId: z.string().max(64).optional(),
  scopes: z.array(z.enum(oauthScopes)).max(oauthScopes.length).default([]),
});
export type ConsentDecision = z.infer<typeof consentDecisionSchema>;

export function consentFormToken(signedIn: SignedIn, request: AuthorizationRequest): string {
  const shown = JSON.stringify([
    request.client.id,
    request.redirectUri,
    request.codeChallenge,
    request.resource,
    request.scopes,
    request.offlineAccess,
    request.state,
  ]);
  return createHmac("sha256", `enclave/oauth-consent/v1:${signedIn.sessionId}`).update(shown).digest("base64url");
}

/** Returns where to send the browser: the client's redirect URI with a code, or with an error. */
export async function decideConsent(signedIn: SignedIn, decision: ConsentDecision): Promise<{ redirectTo: string }> {
  const check = await checkAuthorizationRequest(new URLSearchParams(decision.query));
  if (!check.ok) {
    if (check.redirect) return { redirectTo: check.location };
    throw new HttpError(400, "invalid_request", check.message);
  }
  const { request } = check;
  if (!constantTimeEqual(decision.formToken, consentFormToken(signedIn, request))) {
    throw new HttpError(403, "invalid_form_token", "This consent form is stale or was not shown to you. Start the connection again from your AI client.");
  }
  const control = await getControlDb();
  const userId = signedIn.user.id;
  if (!decision.approve) {
    await control.transaction((tx) =>
      auditControlTx(tx, { actor: { type: "user", id: userId }, action: "oauth.consent_denied", target: request.client.id, details: { clientName: request.client.name } }),
    );
    return { redirectTo: clientRedirect(request.redirectUri, { error: "access_denied", error_description: "The person declined.", state: request.state }) };
  }
  const workspaceId = decision.workspaceId ?? "";
  const role = WORKSPACE_ID_PATTERN.test(workspaceId) ? await membershipRole(userId, workspaceId) : null;
  if (!role) throw notFound("No such workspace.");
  // Only what was asked for, what the person ticked, and what their role allows.
  const scopes = capByRole(request.scopes.filter((scope) => decision.scopes.includes(scope)), role);
  if (scopes.length === 0) {
    throw new HttpError(403, "scope_exceeds_role", "Pick at least one permission that your role in this workspace allows.");
  }
  const { secret: code, hash: codeHash } = mintSecret("authorizationCode");
  await control.transaction(async (tx) => {
    // Told here, on the consent page, rather than as a failed code exchange: no code is issued.
    // The token endpoint checks again when it makes the grant (lib/oauth/grants.ts).
    await assertRoomFor("aiClients", workspaceId, { reader: tx, connecting: { userId, clientId: request.client.id } });
    await tx.insert(oauthCodes).values({
      codeHash,
      clientId: request.client.id,
      clientName: request.client.name,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      resource: request.resource,
      workspaceId,
      userId,
      scopes: JSON.stringify(scopes),
      offlineAccess: request.offlineAccess,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
    });
    await auditControlTx(tx, {
      actor: { type: "user", id: userId },
      action: "oauth.consent",
      target: request.client.id,
      details: { clientName: request.client.name, workspaceId, scopes, offlineAccess: request.offlineAccess, redirectUri: request.redirectUri },
    });
  });
  return { redirectTo: clientRedirect(request.redirectUri, { code, state: request.state }) };
}
