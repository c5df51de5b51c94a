import { beforeEach, describe, expect, it } from "vitest";
import { machineRoutes } from "@/lib/router/machine-routes";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { snapshotWorkspace, workspaceWithTokens } from "./api";
import { appFetch, jsonOf, ORIGIN, request, workspacePath } from "./harness";
import { useTempStore } from "./store";

beforeEach(() => resetRateLimits());

type ErrorBody = { error: string; message: string; requestId: string; fieldErrors?: Record<string, string[]> };
type Page = { items: { id: string; title: string }[]; nextCursor: string | null };

const createKnowledge = (token: string, workspaceId: string, body: unknown) => request(workspacePath(workspaceId, "/knowledge"), { token, body });
const artifactPath = (workspaceId: string, name: string) => workspacePath(workspaceId, `/artifacts/${encodeURIComponent(name)}`);
const sessionPath = (workspaceId: string, name: string) => workspacePath(workspaceId, `/sessions/${encodeURIComponent(name)}`);

async function expectError(response: Response, status: number, error: string, label?: string) {
  expect(response.status, label).toBe(status);
  expect((await jsonOf<ErrorBody>(response)).error, label).toBe(error);
}

/** A POST or PUT to `pathname` of `size` bytes, streamed in 1 KiB chunks, whose Content-Length claims `declared`. */
function lyingRequest(method: string, pathname: string, token: string, declared: number, size: number, contentType = "application/json"): Request {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const chunk = new TextEncoder().encode(" ".repeat(Math.min(1024, size - sent)));
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Request(`${ORIGIN}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": contentType, "content-length": String(declared) },
    body,
    duplex: "half",
  } as RequestInit);
}

describe("with a 2 KiB body limit and a 1 KiB artifact limit", () => {
  useTempStore({ ENCLAVE_BODY_LIMIT_BYTES: "2048", ENCLAVE_ARTIFACT_MAX_BYTES: "1024" });

  it("an oversized JSON body is a 413 and stores nothing", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    await expectError(await createKnowledge(fx.member, fx.workspaceId, { title: "Big", body: "x".repeat(3000) }), 413, "payload_too_large");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await createKnowledge(fx.member, fx.workspaceId, { title: "Small", body: "x".repeat(1500) })).status).toBe(201);
  });

  it("a body that streams more than its Content-Length claims is cut off at the limit with 413", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    await expectError(await appFetch(lyingRequest("POST", workspacePath(fx.workspaceId, "/knowledge"), fx.member, 10, 64 * 1024)), 413, "payload_too_large");
    const artifact = await appFetch(lyingRequest("PUT", artifactPath(fx.workspaceId, "liar.txt"), fx.member, 10, 8 * 1024, "text/plain"));
    await expectError(artifact, 413, "payload_too_large");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("a declared Content-Length over the limit is refused before the body is read", async () => {
    const fx = await workspaceWithTokens();
    await expectError(await appFetch(lyingRequest("POST", workspacePath(fx.workspaceId, "/knowledge"), fx.member, 10_000_000, 10)), 413, "payload_too_large");
  });

  it("an artifact over ENCLAVE_ARTIFACT_MAX_BYTES is a 413 and is not stored; one at the limit is", async () => {
    const fx = await workspaceWithTokens();
    const put = (name: string, size: number) =>
      request(artifactPath(fx.workspaceId, name), {
        token: fx.member,
        method: "PUT",
        rawBody: new Uint8Array(size).fill(7),
        headers: { "content-type": "application/octet-stream" },
      });
    const before = await snapshotWorkspace(fx.workspaceId);
    await expectError(await put("big.bin", 1025), 413, "payload_too_large");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    await expectError(await request(artifactPath(fx.workspaceId, "big.bin"), { token: fx.member }), 404, "not_found");
    expect((await put("exact.bin", 1024)).status).toBe(200);
  });
});

describe("with the default limits", () => {
  useTempStore();

  it("malformed JSON is a 400, a wrong or missing content type a 415, and neither stores anything", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    const raw = (rawBody: BodyInit, headers: Record<string, string> = {}) => request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.member, rawBody, headers });
    for (const rawBody of ["{not json", "", '{"title": "x",}', "\u0000"]) {
      const response = await raw(rawBody, { "content-type": "application/json" });
      expect(response.status, JSON.stringify(rawBody)).toBe(400);
      expect((await jsonOf<ErrorBody>(response)).error).toBe("malformed_json");
    }
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"]) {
      await expectError(await raw('{"title":"x","body":"y"}', { "content-type": type }), 415, "unsupported_media_type", type);
    }
    // Bytes, not a string: fetch gives a string body a text/plain type of its own.
    await expectError(await raw(new TextEncoder().encode('{"title":"x","body":"y"}')), 415, "unsupported_media_type", "no content type");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("invalid fields are a 400 naming each field, and store nothing", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    const cases: [unknown, string][] = [
      [{ body: "no title" }, "title"],
      [{ title: "   ", body: "blank title" }, "title"],
      [{ title: 5, body: "x" }, "title"],
      [{ title: "x".repeat(201), body: "x" }, "title"],
      [{ title: "ok", body: "x", tags: ["a,b"] }, "tags.0"],
      [{ title: "ok", body: "x", tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, "tags"],
      [{ title: "ok", body: "x", source: "" }, "source"],
      [{ title: "ok" }, "body"],
      [null, "_"],
      [["title"], "_"],
    ];
    for (const [body, field] of cases) {
      const response = await createKnowledge(fx.member, fx.workspaceId, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = await jsonOf<ErrorBody>(response);
      expect(error.error).toBe("invalid_request");
      expect(Object.keys(error.fieldErrors ?? {}), JSON.stringify(body).slice(0, 80)).toContain(field);
    }
    const badLink = await request(workspacePath(fx.workspaceId, "/links"), { token: fx.member, body: { from: "kn_x", to: "x", relation: "has space" } });
    expect(badLink.status).toBe(400);
    const linkError = await jsonOf<ErrorBody>(badLink);
    expect(linkError.error).toBe("invalid_request");
    expect(Object.keys(linkError.fieldErrors ?? {}).sort()).toEqual(["from", "relation", "to"]);
    await expectError(await request(workspacePath(fx.workspaceId, "/events"), { token: fx.member, body: { type: "has space" } }), 400, "invalid_request");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("control characters in titles, tags, sources and bodies are a 400; tabs and newlines in a body are fine", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const bad of ["\u0000", "\u0002", "\u0003", "\u0007", "\u001b[31m", "\u007f", "\u000b", "\u000c"]) {
      for (const body of [
        { title: `a${bad}b`, body: "x" },
        { title: "ok", body: `a${bad}b` },
        { title: "ok", body: "x", tags: [`a${bad}`] },
        { title: "ok", body: "x", source: `s${bad}` },
      ]) {
        await expectError(await createKnowledge(fx.member, fx.workspaceId, body), 400, "invalid_request", JSON.stringify(body));
      }
    }
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await createKnowledge(fx.member, fx.workspaceId, { title: "ok", body: "line\n\tindented\r\n" })).status).toBe(201);
  });

  it("session state over 256 KiB and event payloads over 64 KiB are a 413 and store nothing", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    const session = await request(sessionPath(fx.workspaceId, "big"), { token: fx.member, method: "PUT", body: { rev: 0, state: { blob: "x".repeat(256 * 1024) } } });
    await expectError(session, 413, "payload_too_large");
    const event = await request(workspacePath(fx.workspaceId, "/events"), { token: fx.member, body: { type: "big", payload: ["x".repeat(64 * 1024)] } });
    await expectError(event, 413, "payload_too_large");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    const fits = await request(sessionPath(fx.workspaceId, "fits"), { token: fx.member, method: "PUT", body: { rev: 0, state: { blob: "x".repeat(200 * 1024) } } });
    expect(fits.status).toBe(200);
  });

  it("deeply nested JSON is a 400 (never a stack overflow and a 500), and 128 levels are fine", async () => {
    const fx = await workspaceWithTokens();
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const send = (method: string, pathname: string, rawBody: string) =>
      request(pathname, { token: fx.member, method, rawBody, headers: { "content-type": "application/json" } });
    const events = workspacePath(fx.workspaceId, "/events");
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const depth of [129, 5000, 100_000]) {
      const session = await send("PUT", sessionPath(fx.workspaceId, `deep-${depth}`), `{"rev":0,"state":${nested(depth)}}`);
      await expectError(session, 400, "invalid_request", `session ${depth}`);
      const event = await send("POST", events, `{"type":"deep","payload":${nested(depth)}}`);
      await expectError(event, 400, "invalid_request", `event ${depth}`);
      // Brackets inside strings are text, not nesting.
      expect((await send("POST", events, JSON.stringify({ type: "flat", payload: nested(depth).slice(0, 20_000) }))).status).toBe(201);
    }
    const withoutFlat = await snapshotWorkspace(fx.workspaceId);
    const sessionsIn = (snapshot: string) => (JSON.parse(snapshot) as { data: { agent_sessions: unknown } }).data.agent_sessions;
    expect(sessionsIn(withoutFlat)).toEqual(sessionsIn(before));
    expect((await send("PUT", sessionPath(fx.workspaceId, "deep-ok"), `{"rev":0,"state":${nested(127)}}`)).status).toBe(200);
  });

  it("bad names and content types in artifact and session paths are a 400", async () => {
    const fx = await workspaceWithTokens();
    const put = (name: string, type: string) =>
      request(artifactPath(fx.workspaceId, name), { token: fx.member, method: "PUT", rawBody: "x", headers: { "content-type": type } });
    for (const name of ["a/b", "a b", "ä", "x".repeat(201)]) await expectError(await put(name, "text/plain"), 400, "invalid_request", name);
    // No URL can carry "." or ".." as a segment (URL parsing resolves dot segments, %2e spellings
    // included), so these reach the handler directly: it must refuse them on its own.
    for (const name of ["..", "."]) {
      const direct = new Request(`${ORIGIN}${workspacePath(fx.workspaceId, "/artifacts/x")}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${fx.member}`, "content-type": "text/plain" },
        body: "x",
      });
      const putArtifact = machineRoutes.find((route) => route.method === "PUT" && route.path === "/api/v1/workspaces/{workspaceId}/artifacts/{name}");
      await expectError(await putArtifact!.handle(direct, { params: Promise.resolve({ workspaceId: fx.workspaceId, name }) }), 400, "invalid_request", name);
    }
    for (const type of ["text", 'text/plain; charset="x', "text/html x-evil: 1", "a/b; c"]) {
      await expectError(await put("ok.txt", type), 400, "invalid_content_type", type);
    }
    const session = await request(sessionPath(fx.workspaceId, "../x"), { token: fx.member, method: "PUT", body: { rev: 0, state: {} } });
    await expectError(session, 400, "invalid_request");
  });

  it("a forged cursor is a 400; a stale one (its entry since deleted) still continues where it left off", async () => {
    const fx = await workspaceWithTokens();
    for (let i = 0; i < 5; i++) expect((await createKnowledge(fx.member, fx.workspaceId, { title: `Entry ${i}`, body: "x" })).status).toBe(201);
    const list = (query: Record<string, string>) => request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.viewer, query });
    const forged = [
      "garbage!",
      "not-base64-json",
      Buffer.from('["x"]').toString("base64url"),
      Buffer.from('{"updatedAt":1}').toString("base64url"),
      Buffer.from('[1.5,"kn_x"]').toString("base64url"),
      Buffer.from(`[1,"${"k".repeat(65)}"]`).toString("base64url"),
    ];
    for (const cursor of forged) await expectError(await list({ cursor }), 400, "invalid_cursor", cursor.slice(0, 40));
    // Longer than any cursor the API hands out: refused by the query schema, before decoding.
    await expectError(await list({ cursor: "A".repeat(201) }), 400, "invalid_request");

    const all = await jsonOf<Page>(await list({ limit: "100" }));
    const first = await jsonOf<Page>(await list({ limit: "2" }));
    expect(first.items.map((e) => e.id)).toEqual(all.items.slice(0, 2).map((e) => e.id));
    const lastSeen = first.items[1]!.id;
    expect((await request(workspacePath(fx.workspaceId, `/knowledge/${encodeURIComponent(lastSeen)}`), { token: fx.member, method: "DELETE" })).status).toBe(204);
    const rest = await jsonOf<Page>(await list({ cursor: first.nextCursor!, limit: "100" }));
    expect(rest.items.map((e) => e.id)).toEqual(all.items.slice(2).map((e) => e.id));
    expect(rest.nextCursor).toBeNull();
  });

  it("event cursors and limits out of range are a 400; a cursor beyond the end is an empty page", async () => {
    const fx = await workspaceWithTokens();
    const list = (query: Record<string, string>) => request(workspacePath(fx.workspaceId, "/events"), { token: fx.viewer, query });
    const queries: Record<string, string>[] = [{ after: "-1" }, { after: "abc" }, { after: "1.5" }, { limit: "0" }, { limit: "501" }];
    for (const query of queries) await expectError(await list(query), 400, "invalid_request", JSON.stringify(query));
    const beyond = await list({ after: String(Number.MAX_SAFE_INTEGER) });
    expect(beyond.status).toBe(200);
    expect(await beyond.json()).toEqual({ items: [], nextCursor: Number.MAX_SAFE_INTEGER });
  });
});
