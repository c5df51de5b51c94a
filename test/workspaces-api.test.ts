import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { memberships } from "@/db/control/schema";
import { setConfigForTests } from "@/lib/config";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { userInWorkspace } from "./api";
import { jsonOf, request } from "./harness";
import { testConfig, useTempStore } from "./store";

const store = useTempStore({ ENCLAVE_MAX_WORKSPACES_PER_USER: "3" });
beforeEach(() => resetRateLimits());

/** Every file and folder under the data dir, so a test can show a refusal made none. */
const dataFiles = () => fs.readdirSync(store.dataDir(), { recursive: true, encoding: "utf8" }).sort();
const workspaceFolders = () => fs.readdirSync(path.join(store.dataDir(), "workspaces")).sort();

async function person() {
  const { user, cookie } = await userInWorkspace("", null);
  return { user, cookie, create: (name: unknown, ip?: string) => request("/api/workspaces", { cookie, body: { name }, ip }) };
}

describe("POST /api/workspaces refuses what it cannot store, and leaves nothing behind", () => {
  it.each([
    ["an unpaired high surrogate", "x\ud800"],
    ["an unpaired low surrogate", "\udc00 notes"],
    ["a NUL", "a\u0000b"],
    ["a control character", "tab\tname"],
    ["a right-to-left override", "Claude\u202Egnp.exe"],
    ["only spaces", "   "],
    ["81 characters", "n".repeat(81)],
  ])("a name with %s is a 400 with a field error, and no file or row is made", async (_what, name) => {
    const { create } = await person();
    const before = dataFiles();
    const response = await create(name);
    expect(response.status).toBe(400);
    const body = await jsonOf<{ error: string; fieldErrors: Record<string, string[]> }>(response);
    expect(body.error).toBe("invalid_request");
    expect(Object.keys(body.fieldErrors)).toEqual(["name"]);
    expect(dataFiles()).toEqual(before);
    const control = await getControlDb();
    expect(await control.db.$count(memberships)).toBe(0);
  });

  it("a well-formed name with emoji and accents is created", async () => {
    const { create } = await person();
    const response = await create("Café 🍜 notes");
    expect(response.status).toBe(201);
    const { workspace } = await jsonOf<{ workspace: { id: string; name: string } }>(response);
    expect(workspace.name).toBe("Café 🍜 notes");
    expect(workspaceFolders()).toEqual([workspace.id]);
  });
});

describe("how many workspaces a person may make", () => {
  it("owns at most ENCLAVE_MAX_WORKSPACES_PER_USER: the next is a 403 and leaves no file", async () => {
    const { create } = await person();
    for (const name of ["one", "two", "three"]) expect((await create(name)).status).toBe(201);
    const before = dataFiles();
    const refused = await create("four");
    expect(refused.status).toBe(403);
    expect((await jsonOf(refused)).error).toBe("workspace_limit");
    expect(dataFiles()).toEqual(before);
  });

  it("ten concurrent creations under a cap of three make exactly three workspaces and three files", async () => {
    const { create } = await person();
    const statuses = (await Promise.all(Array.from({ length: 10 }, (_, i) => create(`parallel ${i}`)))).map((r) => r.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 403)).toHaveLength(7);
    expect(workspaceFolders()).toHaveLength(3);
    const control = await getControlDb();
    expect(await control.db.$count(memberships)).toBe(3);
  });

  it("the CLI, acting for the operator, is not capped", async () => {
    const { user, create } = await person();
    for (const name of ["one", "two", "three"]) expect((await create(name)).status).toBe(201);
    await expect(createWorkspace({ type: "operator", ownerId: user.id }, "fourth, by the operator")).resolves.toMatchObject({ role: "owner" });
    expect(workspaceFolders()).toHaveLength(4);
  });
});

describe("creation brakes", () => {
  it("one person: the eleventh creation within the hour is a 429 with Retry-After, before anything is written", async () => {
    useUncappedStore();
    const { create } = await person();
    for (let i = 0; i < 10; i++) expect((await create(`w${i}`, `10.0.0.${i}`)).status).toBe(201);
    const before = dataFiles();
    const refused = await create("eleventh", "10.0.1.1");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(dataFiles()).toEqual(before);
  });

  it("one IP: the thirty-first creation within the hour is a 429, whoever asks", async () => {
    useUncappedStore();
    for (let i = 0; i < 10; i++) {
      const { create } = await person();
      for (let j = 0; j < 3; j++) expect((await create(`w${i}-${j}`, "192.0.2.7")).status).toBe(201);
    }
    const { create } = await person();
    expect((await create("one more", "192.0.2.7")).status).toBe(429);
    expect((await create("from elsewhere", "192.0.2.8")).status).toBe(201);
  });
});

/** The brakes, not the cap, are under test: lift the cap for this test only. */
function useUncappedStore(): void {
  setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_MAX_WORKSPACES_PER_USER: "1000" }));
}
