import { eq } from "drizzle-orm";
import { OAuthClientMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { z } from "zod";
import { oauthClients } from "@/db/control/schema";
import { auditControlTx } from "../audit/audit";
import { constantTimeEqual, hashSecret, mintSecret } from "../crypto/secrets";
import { randomId } from "../crypto/ids";
import { getControlDb } from "../db/store";
import { parseInput } from "../http/body";
import { nameText, text } from "../http/text";
import { HttpError } from "../http/errors";
import { getRequestContext } from "../log/request-context";
import { limitClientDocumentFetch } from "../http/rate-limits";
import { ClientMetadataDocumentError, fetchClientMetadataDocument, isClientMetadataDocumentUrl } from "./client-metadata-document";
import { oauthError } from "./errors";
import type { ClientCredentialsForm } from "./forms";
import { MAX_REDIRECT_URIS, redirectUriProblem } from "./redirect-uris";

/**
 * OAuth clients: registered ones (RFC 7591 dynamic registration, stored in control.db) and
 * ones that name themselves by an https URL (Client ID Metadata Documents, fetched on use).
 */
export type ClientAuthMethod = "none" | "client_secret_post" | "client_secret_basic";

export type OAuthClient = {
  id: string;
  name: string;
  redirectUris: string[];
  authMethod: ClientAuthMethod;
  secretHash: string | null;
  /** RFC 7591 grant_types: a client that did not register `refresh_token` gets no refresh tokens. */
  grantTypes: string[];
  /** For a metadata-document client: the host that vouches for it (its name is self-chosen). */
  documentHost?: string;
};

const supportedGrantTypes = ["authorization_code", "refresh_token"];

/**
 * The SDK's RFC 7591 schema, plus what this server supports. RFC 7591 §2 makes
 * client_secret_basic the default auth method; MCP clients that want none say so.
 * Grant types we do not offer (`urn:ietf:params:oauth:grant-type:device_code`, sent by some
 * VS Code builds) are dropped rather than refused, as RFC 7591 §3.2.1 allows: the client is
 * registered for the rest and the response says so. Every token here starts from a code, so a
 * registration without authorization_code is refused.
 *
 * Registration is open to anyone, and what it stores is kept: the whole document may be at
 * most MAX_METADATA_BYTES, which bounds every field the SDK's schema leaves unbounded.
 */
const MAX_METADATA_BYTES = 16 * 1024;

export const clientRegistrationSchema = OAuthClientMetadataSchema.extend({
  redirect_uris: z.array(text(2048)).min(1, "Register at least one redirect URI.").max(MAX_REDIRECT_URIS),
  // Shown to people on the consent page, as the client named itself.
  client_name: nameText(200).optional(),
  token_endpoint_auth_method: z.enum(["none", "client_secret_post", "client_secret_basic"]).default("client_secret_basic"),
  grant_types: z
    .array(z.string())
    .default(["authorization_code"])
    .transform((types) => supportedGrantTypes.filter((type) => types.includes(type)))
    .refine((types) => types.includes("authorization_code"), "Register the authorization_code grant (and refresh_token to stay connected): no other grant is supported."),
  response_types: z
    .array(z.string())
    .default(["code"])
    .refine((types) => types.every((type) => type === "code"), 'Only the "code" response type is supported.'),
}).superRefine((metadata, ctx) => {
  if (Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
    ctx.addIssue({ code: "custom", message: `The client metadata is larger than ${MAX_METADATA_BYTES} bytes.` });
  }
  // The SDK's URL check is first; the redirect rules here are this server's own.
  metadata.redirect_uris.forEach((uri, index) => {
    const problem = redirectUriProblem(uri);
    if (problem) ctx.addIssue({ code: "custom", path: ["redirect_uris", index], message: `${uri} ${problem}.` });
  });
});
export type ClientRegistration = z.infer<typeof clientRegistrationSchema>;

export async function registerClient(input: unknown) {
  let metadata: ClientRegistration;
  try {
    metadata = parseInput(clientRegistrationSchema, input);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    const badUri = Object.keys(error.fieldErrors ?? {}).some((field) => field.startsWith("redirect_uris"));
    throw oauthError(badUri ? "invalid_redirect_uri" : "invalid_client_metadata", error.message);
  }
  const confidential = metadata.token_endpoint_auth_method !== "none";
  const minted = confidential ? mintSecret("clientSecret") : undefined;
  const secret = minted?.secret;
  const now = Date.now();
  const client = {
    id: randomId("cli"),
    name: metadata.client_name ?? "Unnamed client",
    redirectUris: JSON.stringify(metadata.redirect_uris),
    tokenEndpointAuthMethod: metadata.token_endpoint_auth_method,
    secretHash: minted?.hash ?? null,
    metadata: JSON.stringify(metadata),
    createdAt: now,
  };
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    await tx.insert(oauthClients).values(client);
    await auditControlTx(tx, {
      actor: { type: "anonymous" },
      action: "oauth.client_register",
      target: client.id,
      details: { name: client.name, redirectUris: metadata.redirect_uris, authMethod: client.tokenEndpointAuthMethod, grantTypes: metadata.grant_types },
    });
  });
  return {
    ...metadata,
    client_id: client.id,
    client_id_issued_at: Math.floor(now / 1000),
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
  };
}

/** The client `clientId` names, or an `invalid_client` error saying why not. */
export async function resolveClient(clientId: string): Promise<OAuthClient> {
  if (isClientMetadataDocumentUrl(clientId)) {
    await limitClientDocumentFetch(getRequestContext()?.ip ?? "unknown");
    let document;
    try {
      document = await fetchClientMetadataDocument(clientId);
    } catch (error) {
      if (error instanceof ClientMetadataDocumentError) throw oauthError("invalid_client", error.message, 401);
      throw error;
    }
    // The same redirect rules as for registered clients.
    const refused = document.redirectUris.map((uri) => ({ uri, problem: redirectUriProblem(uri) })).find(({ problem }) => problem);
    if (refused) throw oauthError("invalid_client", `The client's metadata document lists ${refused.uri}, which ${refused.problem}.`, 401);
    return {
      id: clientId,
      name: document.clientName,
      redirectUris: document.redirectUris,
      authMethod: "none",
      secretHash: null,
      grantTypes: document.metadata.grant_types ?? ["authorization_code"],
      documentHost: new URL(clientId).host,
    };
  }
  const control = await getControlDb();
  const [row] = clientId.length <= 100 ? await control.db.select().from(oauthClients).where(eq(oauthClients.id, clientId)).limit(1) : [];
  if (!row) throw oauthError("invalid_client", "Unknown client_id.", 401);
  return {
    id: row.id,
    name: row.name,
    redirectUris: JSON.parse(row.redirectUris) as string[],
    authMethod: row.tokenEndpointAuthMethod,
    secretHash: row.secretHash,
    grantTypes: (JSON.parse(row.metadata) as ClientRegistration).grant_types,
  };
}

function basicCredentials(header: string | null): { id: string; secret: string } | null {
  const match = header ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim()) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  try {
    // RFC 6749 §2.3.1: both halves are form-urlencoded before joining.
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, " "));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * Who is calling the token or revocation endpoint: a public client by its client_id, a
 * confidential one by its secret (HTTP Basic or in the form), compared as hashes in constant
 * time. A confidential client without its secret is refused.
 */
export async function authenticateClient(request: Request, form: ClientCredentialsForm): Promise<OAuthClient> {
  const header = request.headers.get("authorization");
  const basic = basicCredentials(header);
  if (header && !basic) throw oauthError("invalid_client", "Malformed Basic client credentials.", 401, { "WWW-Authenticate": 'Basic realm="enclave"' });
  const clientId = basic?.id ?? form.client_id;
  if (!clientId) throw oauthError("invalid_client", "Say which client you are (client_id).", 401);
  if (basic && form.client_id !== undefined && form.client_id !== basic.id) {
    throw oauthError("invalid_request", "client_id in the form and in the Authorization header differ.");
  }
  const client = await resolveClient(clientId);
  if (client.authMethod === "none") return client;
  const secret = basic?.secret ?? form.client_secret;
  if (!secret || !client.secretHash || !constantTimeEqual(hashSecret(secret), client.secretHash)) {
    throw oauthError("invalid_client", "Client authentication failed.", 401, basic ? { "WWW-Authenticate": 'Basic realm="enclave"' } : {});
  }
  return client;
}
