import { beforeEach, describe, expect, it } from "vitest";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { toFtsQuery } from "@/lib/workspace/search";
import { workspaceWithTokens } from "./api";
import { jsonOf, ORIGIN, request, workspacePath } from "./harness";
import { useTempStore } from "./store";

// 10,000 searches from one "IP": lift the per-minute brake for this file.
useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "1000000" });
beforeEach(() => resetRateLimits());

type Hit = { id: string; title: string; tags: string[]; score: number; snippet: { text: string; match: boolean }[] };

async function seeded() {
  const fx = await workspaceWithTokens();
  const add = async (title: string, body: string, tags: string[] = []) => {
    const response = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.member, body: { title, body, tags } });
    expect(response.status).toBe(201);
    return (await jsonOf<{ entry: { id: string } }>(response)).entry.id;
  };
  const ids = {
    inTitle: await add("Kubernetes rollout plan", "Steps for the cluster upgrade, one zone at a time."),
    inTag: await add("Platform notes", "Nothing about orchestration here.", ["kubernetes", "ops"]),
    inBody: await add("Weekly sync", "We talked briefly about kubernetes and then lunch."),
    unrelated: await add("Café menu", "Crème brûlée, naïve résumé, 東京 ramen 🍜."),
  };
  const search = (query: Record<string, string>) => request(workspacePath(fx.workspaceId, "/search"), { token: fx.viewer, query });
  const find = async (q: string) => {
    const response = await search({ q });
    expect(response.status, q).toBe(200);
    return (await jsonOf<{ results: Hit[] }>(response)).results;
  };
  return { ...fx, ids, find, search };
}

describe("search finds what was stored", () => {
  it("by title, tag and body term, ranked by bm25 (title over tags over body)", async () => {
    const fx = await seeded();
    const hits = await fx.find("kubernetes");
    expect(hits.map((hit) => hit.id)).toEqual([fx.ids.inTitle, fx.ids.inTag, fx.ids.inBody]);
    const scores = hits.map((hit) => hit.score);
    expect([...scores].sort((a, b) => a - b)).toEqual(scores);
    expect(hits.find((hit) => hit.id === fx.ids.inTag)?.tags).toEqual(["kubernetes", "ops"]);
  });

  it("marks the matched words in the snippet, as parts with match: true", async () => {
    const fx = await seeded();
    const hits = await fx.find("kubernetes");
    for (const hit of hits) {
      // Only the query's words are marked, and the markers themselves never reach the client.
      for (const part of hit.snippet.filter((p) => p.match)) expect(part.text.toLowerCase(), hit.title).toBe("kubernetes");
      expect(hit.snippet.map((part) => part.text).join("")).not.toMatch(/[\u0002\u0003]/);
    }
    const inBody = hits.find((hit) => hit.id === fx.ids.inBody);
    expect(inBody?.snippet.filter((part) => part.match).map((part) => part.text)).toEqual(["kubernetes"]);
    expect(inBody?.snippet.map((part) => part.text).join("")).toContain("We talked briefly about kubernetes");
    const [body] = await fx.find("lunch");
    expect(body?.id).toBe(fx.ids.inBody);
    expect(body?.snippet.find((part) => part.match)?.text).toBe("lunch");
  });

  it("finds accented, CJK and case-folded terms, and treats FTS syntax as plain words", async () => {
    const fx = await seeded();
    expect((await fx.find("creme BRULEE")).map((hit) => hit.id)).toEqual([fx.ids.unrelated]);
    expect((await fx.find("東京")).map((hit) => hit.id)).toEqual([fx.ids.unrelated]);
    for (const q of ['"kubernetes', "kubernetes*", "title:kubernetes", "NEAR(kubernetes", "(kubernetes)", "-kubernetes", "^kubernetes", "kubernetes AND"]) {
      expect((await fx.find(q)).map((hit) => hit.id), q).toContain(fx.ids.inTitle);
    }
    expect(await fx.find("NOT")).toEqual([]);
    expect(await fx.find("")).toEqual([]);
    expect(await fx.find('"*:^()-')).toEqual([]);
  });

  it("cuts a query to its first 16 terms", () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    expect(toFtsQuery(words.join(" "))?.split(" OR ")).toHaveLength(16);
  });
});

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYNTAX = ['"', "*", "NEAR(", "NEAR/3", "AND", "OR", "NOT", ":", "^", "(", ")", "-", "+", "title:x", "body:", "tags:ops", "{title body}:x", "'", "\\", "\u0000", " ", "%", "&", "#", "?", "kubernetes"];
const EMOJI = ["🍜", "👩🏽‍💻", "🏳️‍🌈", "\u{1F600}", "\u200d", "\ufeff"];

function randomQuery(random: () => number): string {
  const pick = <T,>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const pieces: string[] = [];
  const count = 1 + Math.floor(random() * 12);
  for (let i = 0; i < count; i++) {
    const kind = random();
    if (kind < 0.35) pieces.push(pick(SYNTAX));
    else if (kind < 0.5) pieces.push(pick(EMOJI));
    else if (kind < 0.8) {
      // Random code points from the whole range, lone surrogates included.
      const length = 1 + Math.floor(random() * 8);
      pieces.push(Array.from({ length }, () => String.fromCharCode(Math.floor(random() * 0x10000))).join(""));
    } else if (kind < 0.97) pieces.push(random().toString(36).slice(2));
    else pieces.push(pick(["a", '"', "(", "ü", "x y "]).repeat(100 + Math.floor(random() * 600)));
  }
  return pieces.join(random() < 0.5 ? " " : "");
}

describe("whatever is typed into search", () => {
  it("10,000 random queries are each a 200 (or a 400 when over 500 characters or holding a NUL), never a 500", { timeout: 300_000 }, async () => {
    const fx = await seeded();
    const random = prng(20240601);
    const statuses = new Map<number, number>();
    const queries = Array.from({ length: 10_000 }, () => randomQuery(random));
    for (let start = 0; start < queries.length; start += 100) {
      await Promise.all(
        queries.slice(start, start + 100).map(async (q) => {
          const response = await fx.search({ q });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          // What the server sees after URL encoding (lone surrogates become U+FFFD), counted in code points as zod does.
          const sent = new URL(`${ORIGIN}/?${new URLSearchParams({ q })}`).searchParams.get("q") ?? "";
          // NUL is refused in every client string (lib/http/text.ts).
          const expected = [...sent].length > 500 || sent.includes("\u0000") ? 400 : 200;
          if (response.status !== expected) throw new Error(`q=${JSON.stringify(q)} answered ${response.status}: ${await response.text()}`);
          const body = await jsonOf<{ results?: Hit[]; error?: string }>(response);
          if (expected === 200) expect(Array.isArray(body.results)).toBe(true);
          else expect(body.error).toBe("invalid_request");
        }),
      );
    }
    expect(statuses.get(500)).toBeUndefined();
    expect((statuses.get(200) ?? 0) + (statuses.get(400) ?? 0)).toBe(10_000);
    expect(statuses.get(400)).toBeGreaterThan(0);
  });

  it("a bad limit is a 400, a query string repeated or empty is fine", async () => {
    const fx = await seeded();
    for (const limit of ["0", "51", "-1", "x", "1e3"]) {
      const response = await fx.search({ q: "kubernetes", limit });
      expect(response.status, limit).toBe(400);
      expect((await jsonOf(response)).error, limit).toBe("invalid_request");
    }
    const one = await fx.search({ q: "kubernetes", limit: "1" });
    expect((await jsonOf<{ results: Hit[] }>(one)).results).toHaveLength(1);
  });
});
