import { beforeEach, describe, expect, it } from "vitest";
import * as artifactItem from "@/app/api/v1/workspaces/[workspaceId]/artifacts/[name]/route";
import * as eventList from "@/app/api/v1/workspaces/[workspaceId]/events/route";
import * as knowledgeItem from "@/app/api/v1/workspaces/[workspaceId]/knowledge/[id]/route";
import * as knowledgeList from "@/app/api/v1/workspaces/[workspaceId]/knowledge/route";
import * as links from "@/app/api/v1/workspaces/[workspaceId]/links/route";
import * as sessionItem from "@/app/api/v1/workspaces/[workspaceId]/sessions/[name]/route";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { ORIGIN } from "./http";
import { callApi, jsonOf, snapshotWorkspace, workspaceWithTokens } from "./api";
import { useTempStore } from "./store";

beforeEach(() => resetRateLimits());

type ErrorBody = { error: string; message: string; requestId: string; fieldErrors?: Record<string, string[]> };
type Page = { items: { id: string; title: string }[]; nextCursor: string | null };

const createKnowledge = (token: string, workspaceId: string, body: unknown) => callApi(knowledgeList.POST, { token, params: { workspaceId }, body });

/** A body of `size` bytes, streamed in 1 KiB chunks, whose Content-Length claims `declared`. */
function lyingRequest(token: string, declared: number, size: number, contentType = "application/json"): Request {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const chunk = new TextEncoder().encode(" ".repeat(Math.min(1024, size - sent)));
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Request(`${ORIGIN}/api/v1/test`, {
    method: "POST",
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
    const response = await createKnowledge(fx.member, fx.workspaceId, { title: "Big", body: "x".repeat(3000) });
    expect(response.status).toBe(413);
    expect((await jsonOf<ErrorBody>(response)).error).toBe("payload_too_large");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await createKnowledge(fx.member, fx.workspaceId, { title: "Small", body: "x".repeat(1500) })).status).toBe(201);
  });

  it("a body that streams more than its Content-Length claims is cut off at the limit with 413", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    const response = await knowledgeList.POST(lyingRequest(fx.member, 10, 64 * 1024), { params: Promise.resolve({ workspaceId: fx.workspaceId }) });
    expect(response.status).toBe(413);
    const artifact = await artifactItem.PUT(lyingRequest(fx.member, 10, 8 * 1024, "text/plain"), {
      params: Promise.resolve({ workspaceId: fx.workspaceId, name: "liar.txt" }),
    });
    expect(artifact.status).toBe(413);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("a declared Content-Length over the limit is refused before the body is read", async () => {
    const fx = await workspaceWithTokens();
    const response = await knowledgeList.POST(lyingRequest(fx.member, 10_000_000, 10), { params: Promise.resolve({ workspaceId: fx.workspaceId }) });
    expect(response.status).toBe(413);
  });

  it("an artifact over ENCLAVE_ARTIFACT_MAX_BYTES is a 413 and is not stored; one at the limit is", async () => {
    const fx = await workspaceWithTokens();
    const put = (name: string, size: number) =>
      callApi(artifactItem.PUT, {
        token: fx.member,
        method: "PUT",
        params: { workspaceId: fx.workspaceId, name },
        rawBody: new Uint8Array(size).fill(7),
        headers: { "content-type": "application/octet-stream" },
      });
    const before = await snapshotWorkspace(fx.workspaceId);
    const big = await put("big.bin", 1025);
    expect(big.status).toBe(413);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await callApi(artifactItem.GET, { token: fx.member, params: { workspaceId: fx.workspaceId, name: "big.bin" } })).status).toBe(404);
    expect((await put("exact.bin", 1024)).status).toBe(200);
  });
});

describe("with the default limits", () => {
  useTempStore();

  it("malformed JSON is a 400, a wrong or missing content type a 415, and neither stores anything", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    const raw = (rawBody: string, headers: Record<string, string>) => callApi(knowledgeList.POST, { token: fx.member, params: { workspaceId: fx.workspaceId }, rawBody, headers });
    for (const rawBody of ["{not json", "", '{"title": "x",}', "\u0000"]) {
      const response = await raw(rawBody, { "content-type": "application/json" });
      expect(response.status, JSON.stringify(rawBody)).toBe(400);
      expect((await jsonOf<ErrorBody>(response)).error).toBe("malformed_json");
    }
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"]) {
      const response = await raw('{"title":"x","body":"y"}', { "content-type": type });
      expect(response.status, type).toBe(415);
    }
    expect((await callApi(knowledgeList.POST, { token: fx.member, params: { workspaceId: fx.workspaceId }, rawBody: '{"title":"x","body":"y"}' })).status).toBe(415);
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
    const badLink = await callApi(links.POST, { token: fx.member, params: { workspaceId: fx.workspaceId }, body: { from: "kn_x", to: "x", relation: "has space" } });
    expect(Object.keys((await jsonOf<ErrorBody>(badLink)).fieldErrors ?? {}).sort()).toEqual(["from", "relation", "to"]);
    const badEvent = await callApi(eventList.POST, { token: fx.member, params: { workspaceId: fx.workspaceId }, body: { type: "has space" } });
    expect(badEvent.status).toBe(400);
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
        const response = await createKnowledge(fx.member, fx.workspaceId, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
      }
    }
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await createKnowledge(fx.member, fx.workspaceId, { title: "ok", body: "line\n\tindented\r\n" })).status).toBe(201);
  });

  it("session state over 256 KiB and event payloads over 64 KiB are a 413 and store nothing", async () => {
    const fx = await workspaceWithTokens();
    const before = await snapshotWorkspace(fx.workspaceId);
    const session = await callApi(sessionItem.PUT, {
      token: fx.member,
      method: "PUT",
      params: { workspaceId: fx.workspaceId, name: "big" },
      body: { rev: 0, state: { blob: "x".repeat(256 * 1024) } },
    });
    expect(session.status).toBe(413);
    const event = await callApi(eventList.POST, { token: fx.member, params: { workspaceId: fx.workspaceId }, body: { type: "big", payload: ["x".repeat(64 * 1024)] } });
    expect(event.status).toBe(413);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    const fits = await callApi(sessionItem.PUT, {
      token: fx.member,
      method: "PUT",
      params: { workspaceId: fx.workspaceId, name: "fits" },
      body: { rev: 0, state: { blob: "x".repeat(200 * 1024) } },
    });
    expect(fits.status).toBe(200);
  });

  it("deeply nested JSON is a 400 (never a stack overflow and a 500), and 128 levels are fine", async () => {
    const fx = await workspaceWithTokens();
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const send = (handler: typeof eventList.POST, method: string, name: string, rawBody: string) =>
      callApi(handler, { token: fx.member, method, params: { workspaceId: fx.workspaceId, name }, rawBody, headers: { "content-type": "application/json" } });
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const depth of [129, 5000, 100_000]) {
      const session = await send(sessionItem.PUT, "PUT", `deep-${depth}`, `{"rev":0,"state":${nested(depth)}}`);
      expect(session.status, `session ${depth}`).toBe(400);
      const event = await send(eventList.POST, "POST", "", `{"type":"deep","payload":${nested(depth)}}`);
      expect(event.status, `event ${depth}`).toBe(400);
      expect((await jsonOf<ErrorBody>(event)).error).toBe("invalid_request");
      // Brackets inside strings are text, not nesting.
      expect((await send(eventList.POST, "POST", "", JSON.stringify({ type: "flat", payload: nested(depth).slice(0, 20_000) }))).status).toBe(201);
    }
    const withoutFlat = await snapshotWorkspace(fx.workspaceId);
    const sessionsIn = (snapshot: string) => (JSON.parse(snapshot) as { data: { agent_sessions: unknown } }).data.agent_sessions;
    expect(sessionsIn(withoutFlat)).toEqual(sessionsIn(before));
    expect((await send(sessionItem.PUT, "PUT", "deep-ok", `{"rev":0,"state":${nested(127)}}`)).status).toBe(200);
  });

  it("bad names and content types in artifact and session paths are a 400", async () => {
    const fx = await workspaceWithTokens();
    const put = (name: string, type: string) =>
      callApi(artifactItem.PUT, { token: fx.member, method: "PUT", params: { workspaceId: fx.workspaceId, name }, rawBody: "x", headers: { "content-type": type } });
    for (const name of ["..", ".", "a/b", "a b", "ä", "x".repeat(201)]) expect((await put(name, "text/plain")).status, name).toBe(400);
    for (const type of ["text", 'text/plain; charset="x', "text/html x-evil: 1", "a/b; c"]) {
      expect((await put("ok.txt", type)).status, type).toBe(400);
    }
    const session = await callApi(sessionItem.PUT, { token: fx.member, method: "PUT", params: { workspaceId: fx.workspaceId, name: "../x" }, body: { rev: 0, state: {} } });
    expect(session.status).toBe(400);
  });

  it("a forged cursor is a 400; a stale one (its entry since deleted) still continues where it left off", async () => {
    const fx = await workspaceWithTokens();
    for (let i = 0; i < 5; i++) expect((await createKnowledge(fx.member, fx.workspaceId, { title: `Entry ${i}`, body: "x" })).status).toBe(201);
    const list = (query: Record<string, string>) => callApi(knowledgeList.GET, { token: fx.viewer, params: { workspaceId: fx.workspaceId }, query });
    const forged = [
      "garbage!",
      "not-base64-json",
      Buffer.from('["x"]').toString("base64url"),
      Buffer.from('{"updatedAt":1}').toString("base64url"),
      Buffer.from('[1.5,"kn_x"]').toString("base64url"),
      Buffer.from(`[1,"${"k".repeat(65)}"]`).toString("base64url"),
      "A".repeat(201),
    ];
    for (const cursor of forged) {
      const response = await list({ cursor });
      expect(response.status, cursor.slice(0, 40)).toBe(400);
      expect(["invalid_cursor", "invalid_request"]).toContain((await jsonOf<ErrorBody>(response)).error);
    }

    const all = await jsonOf<Page>(await list({ limit: "100" }));
    const first = await jsonOf<Page>(await list({ limit: "2" }));
    expect(first.items.map((e) => e.id)).toEqual(all.items.slice(0, 2).map((e) => e.id));
    const lastSeen = first.items[1]!.id;
    expect((await callApi(knowledgeItem.DELETE, { token: fx.member, method: "DELETE", params: { workspaceId: fx.workspaceId, id: lastSeen } })).status).toBe(204);
    const rest = await jsonOf<Page>(await list({ cursor: first.nextCursor!, limit: "100" }));
    expect(rest.items.map((e) => e.id)).toEqual(all.items.slice(2).map((e) => e.id));
    expect(rest.nextCursor).toBeNull();
  });

  it("event cursors and limits out of range are a 400; a cursor beyond the end is an empty page", async () => {
    const fx = await workspaceWithTokens();
    const list = (query: Record<string, string>) => callApi(eventList.GET, { token: fx.viewer, params: { workspaceId: fx.workspaceId }, query });
    const queries: Record<string, string>[] = [{ after: "-1" }, { after: "abc" }, { after: "1.5" }, { limit: "0" }, { limit: "501" }];
    for (const query of queries) {
      expect((await list(query)).status, JSON.stringify(query)).toBe(400);
    }
    const beyond = await list({ after: String(Number.MAX_SAFE_INTEGER) });
    expect(beyond.status).toBe(200);
    expect(await beyond.json()).toEqual({ items: [], nextCursor: Number.MAX_SAFE_INTEGER });
  });
});
