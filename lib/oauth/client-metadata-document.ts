import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { OAuthClientMetadataSchema, type OAuthClientMetadata } from "@modelcontextprotocol/sdk/shared/auth.js";
import { getConfig } from "../config";
import { logger } from "../log/logger";

/**
 * Client ID Metadata Documents (MCP 2025-11-25, draft-ietf-oauth-client-id-metadata-document):
 * a client whose `client_id` is an https URL publishes its metadata at that URL, and we fetch it.
 *
 * Fetching a URL a stranger chose is server-side request forgery waiting to happen, so:
 * - every address the host resolves to must be public unicast, and the connection goes to the
 *   address we checked (pinned), so DNS cannot answer "public" to the check and "10.0.0.1" to
 *   the connect (rebinding);
 * - no redirects (each hop would need the same checks, and the draft does not need them),
 *   one deadline for lookup + connect + body, and a small body cap.
 *
 * ENCLAVE_CIMD_ALLOWED_HOSTS names hosts exempt from the address check AND allowed over plain
 * http. That is a deliberate trade-off for tests and local setups: a loopback or LAN client has
 * no public certificate, and TLS to 127.0.0.1 proves nothing an attacker on that host could not
 * forge anyway. The cost is that a listed host is trusted blindly, so list only hosts you run.
 */

export class ClientMetadataDocumentError extends Error {
  override name = "ClientMetadataDocumentError";
}

export type ClientMetadataDocument = {
  clientId: string;
  clientName: string;
  redirectUris: string[];
  tokenEndpointAuthMethod: "none";
  metadata: OAuthClientMetadata;
};

const MAX_BYTES = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_CACHE_MS = 5 * 60_000;

const cache = new LRUCache<string, ClientMetadataDocument>({ max: 500, ttl: MAX_CACHE_MS });

/** Tests start each case with nothing cached. */
export function clearClientMetadataDocumentCache(): void {
  cache.clear();
}

// The SDK's RFC 7591 schema, narrowed to what a document-identified client may be: public (no
// secret, auth method "none") and able to receive a code (at least one redirect URI).
const documentSchema = OAuthClientMetadataSchema.extend({
  client_id: z.string(),
  redirect_uris: OAuthClientMetadataSchema.shape.redirect_uris.min(1, { error: "must list at least one URI" }),
  token_endpoint_auth_method: z
    .literal("none", { error: 'must be absent or "none": a client identified by a URL is public' })
    .optional(),
  client_secret: z.never({ error: "must not be present: a client identified by a URL is public" }).optional(),
});

/** Bare hostname, IP literals in one canonical spelling, so "::1" and "[0::1]" compare equal. */
function normalizeHost(host: string): string {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return net.isIP(bare) ? ipaddr.parse(bare).toString() : bare;
}

function isAllowListed(hostname: string): boolean {
  const host = normalizeHost(hostname);
  return getConfig().ENCLAVE_CIMD_ALLOWED_HOSTS.some((entry) => normalizeHost(entry) === host);
}

/** Why `clientId` is not a fetchable client ID URL, or null when it is. */
function urlProblem(clientId: string): string | null {
  if (!URL.canParse(clientId)) return "it is not a URL";
  const url = new URL(clientId);
  const allowListed = isAllowListed(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowListed)) return "it must use https";
  if (url.pathname === "/") return "it must have a path, not just a host";
  // `url.hash` is "" for a bare trailing "#", so look at the raw string.
  if (clientId.includes("#")) return "it must not contain a fragment";
  if (url.username || url.password) return "it must not contain a user name or password";
  // The document's client_id must equal this string exactly, and the string must be what we
  // fetch: refuse spellings the URL parser would rewrite (dot segments, case, default port, "@").
  if (url.href !== clientId) return `it is not in canonical form (expected ${url.href})`;
  return null;
}

/** True when `clientId` has the shape that means "fetch my metadata from this URL". */
export function isClientMetadataDocumentUrl(clientId: string): boolean {
  return urlProblem(clientId) === null;
}

/** Resolves the host and returns the one address to connect to, after checking all of them. */
async function checkedAddress(url: URL): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const literal = net.isIP(host);
  const addresses = literal
    ? [{ address: host, family: literal }]
    : await dns.promises.lookup(host, { all: true, verbatim: true }).catch(() => {
        throw new ClientMetadataDocumentError(`the host ${host} could not be resolved`);
      });
  if (addresses.length === 0) throw new ClientMetadataDocumentError(`the host ${host} could not be resolved`);
  if (!isAllowListed(host)) {
    for (const { address } of addresses) {
      // process() unwraps IPv4-mapped IPv6 (::ffff:127.0.0.1), which would otherwise pass as IPv6.
      const range = ipaddr.process(address).range();
      if (range !== "unicast") {
        throw new ClientMetadataDocumentError(`the host ${host} resolves to a non-public address (${range})`);
      }
    }
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** A lookup that always answers with the checked address: the pin against DNS rebinding. */
function pinnedLookup(address: string, family: 4 | 6): net.LookupFunction {
  return (_hostname, options, callback) => {
    // Node asks for `all` when it races address families (autoSelectFamily).
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

type Fetched = { body: Buffer; cacheControl: string | undefined };

function get(url: URL, pinned: { address: string; family: 4 | 6 }, signal: AbortSignal): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;
    const request = client.request(
      {
        method: "GET",
        // The hostname, not the address: TLS verifies the certificate (SNI) and Host names it.
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { accept: "application/json", "accept-encoding": "identity", "user-agent": "Enclave" },
        lookup: pinnedLookup(pinned.address, pinned.family),
        // A pooled keep-alive socket could be connected to some other address; always dial fresh.
        agent: false,
        signal,
      },
      (response) => {
        const refuse = (why: string) => {
          response.destroy();
          reject(new ClientMetadataDocumentError(why));
        };
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400) return refuse(`it answered with a redirect (${status}), which is not followed`);
        if (status !== 200) return refuse(`it answered with status ${status}, not 200`);
        const type = (response.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
        if (type !== "application/json") return refuse(`its content type is "${type}", not application/json`);
        if (Number(response.headers["content-length"]) > MAX_BYTES) return refuse(`it is larger than ${MAX_BYTES} bytes`);
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES) return refuse(`it is larger than ${MAX_BYTES} bytes`);
          chunks.push(chunk);
        });
        response.on("end", () => resolve({ body: Buffer.concat(chunks), cacheControl: response.headers["cache-control"] }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end();
  });
}

/** Runs `work` under one deadline; the signal tears the connection down when it passes. */
async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ClientMetadataDocumentError(`it did not answer within ${ms} ms`));
      controller.abort();
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a response may be cached: 0 for no-store/no-cache, never more than five minutes. */
function cacheMs(cacheControl: string | undefined): number {
  const directives = (cacheControl ?? "").toLowerCase().split(",").map((d) => d.trim());
  if (directives.includes("no-store") || directives.includes("no-cache")) return 0;
  const maxAge = directives.find((d) => /^max-age=\d+$/.test(d));
  return maxAge ? Math.min(Number(maxAge.slice("max-age=".length)) * 1000, MAX_CACHE_MS) : MAX_CACHE_MS;
}

function parseDocument(clientId: string, body: Buffer): ClientMetadataDocument {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ClientMetadataDocumentError("its body is not valid JSON");
  }
  const parsed = documentSchema.safeParse(json);
  if (!parsed.success) {
    // Issue messages describe the expectation, never the received value, so none of the body
    // reaches the error page or the log.
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "document"} ${i.message}`);
    throw new ClientMetadataDocumentError(`it is not valid client metadata: ${issues.join("; ")}`);
  }
  const { client_id: documentClientId, ...metadata } = parsed.data;
  if (documentClientId !== clientId) {
    throw new ClientMetadataDocumentError("its client_id does not match the URL it was fetched from");
  }
  return {
    clientId,
    // Without a name, the host is the most honest thing to show on the consent screen.
    clientName: metadata.client_name?.trim() || new URL(clientId).hostname,
    redirectUris: metadata.redirect_uris,
    tokenEndpointAuthMethod: "none",
    metadata,
  };
}

/** A socket or TLS failure, named by its code (ECONNREFUSED, CERT_HAS_EXPIRED), never its stack. */
function connectionProblem(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? `the connection failed (${code})` : "the connection failed";
}

/**
 * Fetches, checks and caches the metadata document a URL `client_id` points at. Throws
 * ClientMetadataDocumentError with a sentence fit for an error page on any failure.
 */
export async function fetchClientMetadataDocument(
  clientId: string,
  options: { timeoutMs?: number } = {},
): Promise<ClientMetadataDocument> {
  const cached = cache.get(clientId);
  if (cached) return structuredClone(cached);
  try {
    const problem = urlProblem(clientId);
    if (problem) throw new ClientMetadataDocumentError(problem);
    const url = new URL(clientId);
    const fetched = await withDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, async (signal) =>
      get(url, await checkedAddress(url), signal),
    );
    const document = parseDocument(clientId, fetched.body);
    const ttl = cacheMs(fetched.cacheControl);
    if (ttl > 0) cache.set(clientId, document, { ttl });
    return structuredClone(document);
  } catch (error) {
    const reason = error instanceof ClientMetadataDocumentError ? error.message : connectionProblem(error);
    // The client_id is whatever a stranger typed: cap it before it reaches a page or a log line.
    const shown = clientId.length > 200 ? `${clientId.slice(0, 200)}…` : clientId;
    // warn, not error: a client's broken document is its problem, not an incident here.
    logger.warn({ clientId: shown, reason }, "client metadata document refused");
    throw new ClientMetadataDocumentError(`The client metadata document at ${shown} cannot be used: ${reason}.`, {
      cause: error,
    });
  }
}
