import net from "node:net";
import { E2E_PORT } from "../playwright.config";
import { createWorkspace, expect, signUp, test, uniqueEmail } from "./fixtures";

/**
 * Every answer the server gives carries the security headers — the refusals it makes before
 * Next runs, Next's own error pages, and what Node's parser rejects — and every error a
 * client can cause is a 4xx in the JSON error shape, never a 500 or a stack trace. The
 * requests go over a raw socket, so nothing (fetch, Playwright) tidies them up on the way.
 */
type Raw = { status: number; headers: Record<string, string>; body: string };

function rawRequest(head: string, body = ""): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(E2E_PORT, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${head.split("\r\n")[0]}`)));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [headText = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = headText.split("\r\n");
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()] as const),
      );
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    });
    // Written, not ended: a half-closed socket is not what clients send, and a streamed answer may be cut short by it.
    socket.write(`${head}\r\nHost: localhost:${E2E_PORT}\r\nConnection: close\r\n\r\n${body}`);
  });
}

const get = (target: string, extra = "") => rawRequest(`GET ${target} HTTP/1.1${extra}`);

function expectSecurityHeaders(answer: Raw, label: string): void {
  const h = answer.headers;
  expect(h["strict-transport-security"], label).toBe("max-age=63072000; includeSubDomains; preload");
  expect(h["x-content-type-options"], label).toBe("nosniff");
  expect(h["x-frame-options"], label).toBe("DENY");
  expect(h["referrer-policy"], label).toBe("strict-origin-when-cross-origin");
  expect(h["permissions-policy"], label).toContain("camera=()");
  expect(h["cross-origin-opener-policy"], label).toBe("same-origin");
  expect(h["cross-origin-resource-policy"], label).toMatch(/^(same-origin|cross-origin)$/);
  expect(h["content-security-policy"], label).toContain("frame-ancestors 'none'");
  expect(h["x-request-id"], label).toMatch(/^[0-9a-f-]{36}$/);
  expect(h["x-powered-by"], label).toBeUndefined();
}

/** Answers the client caused: a 4xx in our shape, with the request id of the response, and no trace of our code. */
function expectJsonError(answer: Raw, status: number, error: string, label: string): void {
  expect(answer.status, label).toBe(status);
  expect(answer.headers["content-type"], label).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body.includes("{") ? answer.body.slice(answer.body.indexOf("{"), answer.body.lastIndexOf("}") + 1) : "{}") as Record<string, unknown>;
  expect(body, label).toMatchObject({ error, requestId: answer.headers["x-request-id"] });
  expect(typeof body.message, label).toBe("string");
  expect(answer.body, label).not.toMatch(/at .*\.(js|ts):\d+|node_modules|Error:/);
}

test("refusals before any route: malformed paths, unknown methods, broken requests", async () => {
  const cases: [string, () => Promise<Raw>, number, string][] = [
    ["/api/%FF", () => get("/api/%FF"), 400, "malformed_path"],
    ["/w/%FF/knowledge", () => get("/w/%FF/knowledge"), 400, "malformed_path"],
    ["a knowledge id %zz", () => get("/api/v1/workspaces/ws_00000000000000000000000000000000/knowledge/%zz"), 400, "malformed_path"],
    ["an escaped NUL", () => get("/api/%00"), 400, "malformed_path"],
    ["an escaped newline in a page path", () => get("/sign-in%0Aevil"), 400, "malformed_path"],
    ["TRACE /", () => rawRequest("TRACE / HTTP/1.1"), 405, "method_not_allowed"],
    ["PROPFIND /api/health", () => rawRequest("PROPFIND /api/health HTTP/1.1"), 405, "method_not_allowed"],
    ["a method Node does not know", () => rawRequest("FOO / HTTP/1.1"), 400, "malformed_request"],
    ["a broken request line", () => rawRequest("GARBAGE"), 400, "malformed_request"],
    ["CONNECT", () => rawRequest(`CONNECT localhost:${E2E_PORT} HTTP/1.1`), 405, "method_not_allowed"],
    ["32 KiB of headers", () => get("/api/health", `\r\nX-Padding: ${"a".repeat(32 * 1024)}`), 431, "headers_too_large"],
    // The machine router's own refusals (lib/router): what its node adapter cannot read, and paths it owns but no route serves.
    ["a backslash in a machine path", () => get("/api/v1\\x"), 400, "malformed_request"],
    ["an unknown path under /api/v1", () => get("/api/v1/nope"), 404, "not_found"],
    ["dot segments into /api/v1 from a page path", () => get("/w/../api/v1/nope"), 404, "not_found"],
    ["an unknown webhook", () => rawRequest("POST /api/webhooks/nope HTTP/1.1\r\nContent-Length: 0"), 404, "not_found"],
  ];
  for (const [label, send, status, error] of cases) {
    const answer = await send();
    expectJsonError(answer, status, error, label);
    expectSecurityHeaders(answer, label);
    if (status === 405) expect(answer.headers.allow, label).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  }
});

test("error answers from routes and from Next's own pages carry the headers too", async ({ page, request }) => {
  // Signed out: the JSON errors of every surface, and the redirect a page answers with.
  const jsonErrors: [string, () => Promise<Raw>, number, string][] = [
    ["an unknown API path", () => get("/api/nope"), 404, "not_found"],
    ["a method the route does not serve", () => rawRequest("DELETE /api/health HTTP/1.1"), 405, "method_not_allowed"],
    ["an unknown /.well-known path", () => get("/.well-known/openid-configuration"), 404, "not_found"],
    ["REST without a token", () => get("/api/v1/workspaces/ws_00000000000000000000000000000000/knowledge"), 401, "unauthenticated"],
    ["GET /mcp", () => get("/mcp"), 405, "method_not_allowed"],
    ["malformed JSON", () => rawRequest("POST /api/auth/sign-in HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 5", "{oops"), 400, "malformed_json"],
    [
      "an unpaired surrogate in a client name",
      () => {
        const body = '{"redirect_uris":["https://app.example/cb"],"client_name":"x\\ud800"}';
        return rawRequest(`POST /oauth/register HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`, body);
      },
      400,
      "invalid_client_metadata",
    ],
  ];
  for (const [label, send, status, error] of jsonErrors) {
    const answer = await send();
    expectJsonError(answer, status, error, label);
    expectSecurityHeaders(answer, label);
  }
  for (const target of ["/", "/workspaces", "/favicon.ico", "/_next/static/missing.js"]) {
    expectSecurityHeaders(await get(target), target);
  }

  // Signed in: Next's not-found page for a workspace that is not yours, and for no page at all.
  await signUp(page, uniqueEmail("errors"));
  await createWorkspace(page, "Error paths");
  for (const target of ["/w/ws_00000000000000000000000000000000", "/no/such/page"]) {
    const answer = await page.request.get(target);
    expect(answer.status(), target).toBe(404);
    const headers = answer.headers();
    expect(headers["content-security-policy"], target).toMatch(/script-src 'self' 'nonce-/);
    expect(headers["x-frame-options"], target).toBe("DENY");
    expect(headers["cross-origin-opener-policy"], target).toBe("same-origin");
    expect(headers["cross-origin-resource-policy"], target).toBe("same-origin");
    expect(await answer.text(), target).not.toMatch(/at .*\.(js|ts):\d+/);
  }
  expect((await request.get("/favicon.ico")).headers()["content-type"]).toBe("image/x-icon");
});

test("the OAuth consent page keeps its opener (no COOP); every other page has COOP same-origin", async ({ request }) => {
  const consent = await request.get("/oauth/authorize?client_id=nobody", { maxRedirects: 0 });
  expect(consent.headers()["cross-origin-opener-policy"]).toBe("unsafe-none");
  const signIn = await request.get("/sign-in?returnTo=%2Foauth%2Fauthorize%3Fclient_id%3Dx");
  expect(signIn.headers()["cross-origin-opener-policy"]).toBe("unsafe-none");
  expect((await request.get("/sign-in")).headers()["cross-origin-opener-policy"]).toBe("same-origin");
});
