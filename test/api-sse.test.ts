import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { MAX_SUBSCRIBERS, subscriberCount } from "@/lib/workspace/event-bus";
import { sessionCookieForUser, teamTokenId, userInWorkspace, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { useTempStore } from "./store";

beforeEach(() => resetRateLimits());

type Frame = { id?: string; data?: string; comment?: string; retry?: string };
type StreamedEvent = { seq: number; type: string; payload: unknown };

/** Reads Server-Sent Events frames off a response body. */
class SseReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(response: Response) {
    if (!response.body) throw new Error("no body");
    this.reader = response.body.getReader();
  }

  /** The next frame, or null once the server has ended the stream. */
  async frame(): Promise<Frame | null> {
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end >= 0) {
        const raw = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const frame: Frame = {};
        for (const line of raw.split("\n")) {
          if (line.startsWith(":")) frame.comment = line.slice(1).trim();
          else {
            const [field, ...rest] = line.split(":");
            (frame as Record<string, string>)[field!] = rest.join(":").trimStart();
          }
        }
        return frame;
      }
      const { done, value } = await this.reader.read();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next `count` events, skipping comments and retry hints; the frame id must equal the event's seq. */
  async events(count: number): Promise<StreamedEvent[]> {
    const out: StreamedEvent[] = [];
    while (out.length < count) {
      const frame = await this.frame();
      if (!frame) throw new Error(`stream ended after ${out.length} of ${count} events`);
      if (frame.data === undefined) continue;
      const event = JSON.parse(frame.data) as StreamedEvent;
      expect(frame.id).toBe(String(event.seq));
      out.push(event);
    }
    return out;
  }
}

/** A query on the workspace's connection: it runs after every query already queued there (FIFO). */
const queuedQueriesDone = (workspaceId: string) => withWorkspace(workspaceId, (db) => db.rows("SELECT seq FROM events ORDER BY seq DESC LIMIT 1"));

const open: AbortController[] = [];
const touched = new Set<string>();

/**
 * A fresh store per test, and every stream closed before it goes. Registered after the store's
 * hooks, so this afterEach runs first: a closed stream may still be reading its backlog, and
 * those queries (FIFO on each workspace's connection) must finish while the store is open.
 */
function useStoreAndStreams(env: Record<string, string> = {}) {
  const store = useTempStore(env);
  afterEach(async () => {
    for (const aborter of open.splice(0)) aborter.abort();
    // Each round lets a closed stream's queued backlog queries finish; a stream left open would
    // re-check its access after the store closed. The wait is bounded by time, not rounds (a
    // loaded machine needs more of them): a stream the abort has not reached yet goes at its next
    // heartbeat write at the latest (ENCLAVE_SSE_HEARTBEAT_SECONDS, 15 s by default).
    const ids = [...touched];
    touched.clear(); // even if the check below fails, the next test must not query this store's workspaces
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && ids.some((id) => subscriberCount(id) > 0)) {
      await Promise.all(ids.map((id) => queuedQueriesDone(id)));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const id of ids) expect(subscriberCount(id), "a stream outlived its test").toBe(0);
  });
  return store;
}

type Fx = Awaited<ReturnType<typeof workspaceWithTokens>>;

async function connect(fx: Fx, options: { lastEventId?: number; token?: string; aborter?: AbortController } = {}) {
  const aborter = options.aborter ?? new AbortController();
  open.push(aborter);
  touched.add(fx.workspaceId);
  const response = await request(workspacePath(fx.workspaceId, "/events/stream"), {
    token: options.token ?? fx.viewer,
    headers: options.lastEventId === undefined ? {} : { "last-event-id": String(options.lastEventId) },
    signal: aborter.signal,
  });
  return { response, aborter, close: () => aborter.abort() };
}

async function publish(fx: Fx, n: number, type = "tick"): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const response = await request(workspacePath(fx.workspaceId, "/events"), { token: fx.member, body: { type, payload: { i } } });
    expect(response.status).toBe(201);
    seqs.push((await jsonOf<{ event: { seq: number } }>(response)).event.seq);
  }
  return seqs;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Proves nothing else is queued: the next event after a sentinel is the sentinel. */
async function expectNextIsSentinel(fx: Fx, reader: SseReader) {
  const [sentinel] = await publish(fx, 1, "sentinel");
  const [next] = await reader.events(1);
  expect(next).toMatchObject({ seq: sentinel, type: "sentinel" });
}

describe("event stream", () => {
  useStoreAndStreams();

  it("is text/event-stream and, without Last-Event-ID, starts from now on", async () => {
    const fx = await workspaceWithTokens();
    await publish(fx, 3);
    const stream = await connect(fx);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get("cache-control")).toBe("no-store");
    const reader = new SseReader(stream.response);
    expect(await reader.frame()).toEqual({ retry: "3000" });
    const later = await publish(fx, 2);
    expect((await reader.events(2)).map((e) => e.seq)).toEqual(later);
    await expectNextIsSentinel(fx, reader);
  });

  it("resumes with Last-Event-ID losing nothing published while disconnected, and repeating nothing", async () => {
    const fx = await workspaceWithTokens();
    await publish(fx, 5);
    const first = await connect(fx, { lastEventId: 0 });
    const firstReader = new SseReader(first.response);
    const seen = await firstReader.events(3);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3]);
    first.close();
    await publish(fx, 4);

    const second = await connect(fx, { lastEventId: seen.at(-1)!.seq });
    const reader = new SseReader(second.response);
    const resumed = await reader.events(6);
    expect(resumed.map((e) => e.seq)).toEqual(range(4, 9));
    expect(resumed.map((e) => (e.payload as { i: number }).i)).toEqual([3, 4, 0, 1, 2, 3]);
    await expectNextIsSentinel(fx, reader);
  });

  it("loses nothing published while the backlog (more than one page) is being replayed", { timeout: 60_000 }, async () => {
    const fx = await workspaceWithTokens();
    await publish(fx, 520);
    const [stream] = await Promise.all([connect(fx, { lastEventId: 0 }), publish(fx, 40, "during")]);
    const reader = new SseReader(stream.response);
    const events = await reader.events(560);
    expect(events.map((e) => e.seq)).toEqual(range(1, 560));
    expect(events.filter((e) => e.type === "during")).toHaveLength(40);
    await expectNextIsSentinel(fx, reader);
  });

  it(`refuses stream ${MAX_SUBSCRIBERS + 1} on a workspace with 503 and Retry-After, leaves other workspaces alone, and admits again after one closes`, async () => {
    const fx = await workspaceWithTokens();
    const other = await workspaceWithTokens();
    const streams = [];
    for (let i = 0; i < MAX_SUBSCRIBERS; i++) {
      const stream = await connect(fx);
      expect(stream.response.status).toBe(200);
      streams.push(stream);
    }
    const refused = await connect(fx);
    expect(refused.response.status).toBe(503);
    expect(Number(refused.response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await jsonOf(refused.response)).error).toBe("too_many_subscribers");
    expect(subscriberCount(fx.workspaceId)).toBe(MAX_SUBSCRIBERS);

    for (let i = 0; i < MAX_SUBSCRIBERS; i++) expect((await connect(other)).response.status).toBe(200);

    streams[0]!.close();
    expect(subscriberCount(fx.workspaceId)).toBe(MAX_SUBSCRIBERS - 1);
    const admitted = await connect(fx);
    expect(admitted.response.status).toBe(200);
    const reader = new SseReader(admitted.response);
    await reader.frame();
    await expectNextIsSentinel(fx, reader);
  });

  it("a stream whose client leaves during the backlog keeps no subscriber and no heartbeat timer", async () => {
    const fx = await workspaceWithTokens();
    await publish(fx, 3);
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const stream = await connect(fx, { lastEventId: 0 });
      expect(stream.response.status).toBe(200);
      stream.close();
      // Let the stream's backlog queries (queued on the same connection) finish first.
      for (let i = 0; i < 5; i++) await queuedQueriesDone(fx.workspaceId);
      await new Promise((resolve) => setImmediate(resolve));
      expect(subscriberCount(fx.workspaceId)).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a request already aborted when the stream opens keeps no subscriber and no heartbeat timer", async () => {
    const fx = await workspaceWithTokens();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const aborter = new AbortController();
      aborter.abort();
      const stream = await connect(fx, { aborter });
      for (let i = 0; i < 5; i++) await queuedQueriesDone(fx.workspaceId);
      await new Promise((resolve) => setImmediate(resolve));
      // Nobody is left to read it: the stream is answered as usual and closes at once.
      expect(stream.response.status).toBe(200);
      expect(subscriberCount(fx.workspaceId)).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("an unusable Last-Event-ID means from now on, not from the start", async () => {
    const fx = await workspaceWithTokens();
    await publish(fx, 2);
    for (const id of ["-1", "abc", "1e400"]) {
      const aborter = new AbortController();
      open.push(aborter);
      touched.add(fx.workspaceId);
      const response = await request(workspacePath(fx.workspaceId, "/events/stream"), {
        token: fx.viewer,
        headers: { "last-event-id": id },
        signal: aborter.signal,
      });
      expect(response.status).toBe(200);
      const reader = new SseReader(response);
      await expectNextIsSentinel(fx, reader);
      aborter.abort();
    }
  });
});

describe("event stream heartbeats (every second)", () => {
  useStoreAndStreams({ ENCLAVE_SSE_HEARTBEAT_SECONDS: "1" });

  it("sends a heartbeat comment, and ends the stream of a token revoked meanwhile", async () => {
    const fx = await workspaceWithTokens();
    const stream = await connect(fx, { token: fx.viewer });
    const reader = new SseReader(stream.response);
    let frame = await reader.frame();
    while (frame && frame.comment === undefined) frame = await reader.frame();
    expect(frame).toEqual({ comment: "heartbeat" });

    const tokenId = await teamTokenId(fx.viewer);
    const revoked = await request(workspacePath(fx.workspaceId, `/tokens/${encodeURIComponent(tokenId)}`), { token: fx.admin, method: "DELETE" });
    expect(revoked.status).toBe(204);
    const after: Frame[] = [];
    for (let next = await reader.frame(); next; next = await reader.frame()) after.push(next);
    // At most a heartbeat already on its way; never an event after the revocation took hold.
    expect(after.every((f) => f.comment === "heartbeat")).toBe(true);
    expect(subscriberCount(fx.workspaceId)).toBe(0);
  });
});

/** Every frame until the server ends the stream. */
async function rest(reader: SseReader): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (let next = await reader.frame(); next; next = await reader.frame()) frames.push(next);
  return frames;
}

describe("a stream that loses its access receives nothing published after that, long before a heartbeat", () => {
  // An hour between heartbeats: whatever ends these streams, it is not the heartbeat.
  const store = useStoreAndStreams({ ENCLAVE_SSE_HEARTBEAT_SECONDS: "3600" });

  it("a revoked team token: the events published after the revocation returned never reach it, and the stream ends", async () => {
    const fx = await workspaceWithTokens();
    const reader = new SseReader((await connect(fx, { token: fx.viewer })).response);
    const [before] = await publish(fx, 1, "before");
    expect((await reader.events(1))[0]?.seq).toBe(before);
    const revoked = await request(workspacePath(fx.workspaceId, `/tokens/${await teamTokenId(fx.viewer)}`), { token: fx.admin, method: "DELETE" });
    expect(revoked.status).toBe(204);
    await publish(fx, 3, "after");
    expect((await rest(reader)).filter((frame) => frame.data !== undefined)).toEqual([]);
    expect(subscriberCount(fx.workspaceId)).toBe(0);
  });

  it("a member removed: their portal stream (cookie) gets nothing published after the removal", async () => {
    const fx = await workspaceWithTokens();
    const { user, cookie } = await userInWorkspace(fx.workspaceId, "member");
    touched.add(fx.workspaceId);
    const aborter = new AbortController();
    open.push(aborter);
    const reader = new SseReader(await request(workspacePath(fx.workspaceId, "/events/stream"), { cookie, signal: aborter.signal }));
    await publish(fx, 1);
    expect(await reader.events(1)).toHaveLength(1);
    const removed = await request(workspacePath(fx.workspaceId, `/members/${user.id}`), { token: fx.admin, method: "DELETE" });
    expect(removed.status).toBe(204);
    await publish(fx, 2, "after");
    expect((await rest(reader)).filter((frame) => frame.data !== undefined)).toEqual([]);
  });

  it("signing out ends the portal stream of that session before the next event", async () => {
    const fx = await workspaceWithTokens();
    const cookie = await sessionCookieForUser(fx.owner.id);
    touched.add(fx.workspaceId);
    const aborter = new AbortController();
    open.push(aborter);
    const reader = new SseReader(await request(workspacePath(fx.workspaceId, "/events/stream"), { cookie, signal: aborter.signal }));
    expect((await request("/api/auth/sign-out", { cookie, method: "POST" })).status).toBe(204);
    await publish(fx, 2, "after");
    expect((await rest(reader)).filter((frame) => frame.data !== undefined)).toEqual([]);
  });

  it("a token revoked by the CLI, another process, is cut off too: the check reads control.db, not this process's memory", async () => {
    const fx = await workspaceWithTokens();
    const reader = new SseReader((await connect(fx, { token: fx.viewer })).response);
    const cli = spawnSync(process.execPath, ["bin/enclave.mjs", "token", "revoke", await teamTokenId(fx.viewer)], {
      env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_DATA_DIR: store.dataDir() },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(cli.status, cli.stderr).toBe(0);
    await publish(fx, 2, "after");
    expect((await rest(reader)).filter((frame) => frame.data !== undefined)).toEqual([]);
  });

  it("a change that takes nothing from it (another token revoked) costs one re-check and delivers everything", async () => {
    const fx = await workspaceWithTokens();
    const reader = new SseReader((await connect(fx, { token: fx.viewer })).response);
    const revoked = await request(workspacePath(fx.workspaceId, `/tokens/${await teamTokenId(fx.member)}`), { token: fx.admin, method: "DELETE" });
    expect(revoked.status).toBe(204);
    const published = [];
    for (let i = 0; i < 3; i++) {
      const response = await request(workspacePath(fx.workspaceId, "/events"), { token: fx.admin, body: { type: "still-here" } });
      published.push((await jsonOf<{ event: { seq: number } }>(response)).event.seq);
    }
    expect((await reader.events(3)).map((event) => event.seq)).toEqual(published);
  });
});
