import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { authorize } from "@/lib/access/authorize";
import { setConfigForTests } from "@/lib/config";
import { findUserByEmail } from "@/lib/auth/users";
import { closeStore } from "@/lib/db/store";
import { putArtifact } from "@/lib/workspace/artifacts";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { makeTempDir, testConfig } from "./store";
import { zipOf } from "./portability";
import { readZip } from "./zip";
import { runEnclave } from "./cli-helpers";

const dataDir = makeTempDir();
const outDir = makeTempDir();
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
});

const BIN = path.resolve("bin/enclave.mjs");

/** The CLI, run from `cwd` (the project root unless told), on its own data dir. */
const enclave = (args: string[], options: { input?: string; cwd?: string } = {}) => runEnclave(dataDir, args, { ...options, bin: BIN });
const lastLine = (text: string) => text.split("\n").at(-1)!;
/** The workspaces `workspace list` prints (a loaded machine may add log lines about slow queries). */
const listedWorkspaces = () => enclave(["workspace", "list"]).stdout.split("\n").filter((line) => line.startsWith("ws_"));
// Each CLI run starts Node and tsx afresh: seconds apiece on a busy machine.
const SLOW = { timeout: 180_000 };

/** Writes into the CLI's data dir through lib/, between CLI runs. */
async function withStore<T>(fn: () => Promise<T>): Promise<T> {
  setConfigForTests(testConfig(dataDir));
  try {
    return await fn();
  } finally {
    await closeStore();
    setConfigForTests(undefined);
  }
}

async function contentHashes(file: string): Promise<string[]> {
  const files = await readZip(fs.readFileSync(file));
  const manifest = JSON.parse(files.get("manifest.json")!.toString()) as { files: { path: string; sha256: string }[] };
  return manifest.files
    .filter((entry) => /^workspaces\/ws_[0-9a-f]+\/(?!workspace\.json|audit\.jsonl)/.test(entry.path))
    .map((entry) => `${entry.path.replace(/^workspaces\/ws_[0-9a-f]+\//, "")} ${entry.sha256}`)
    .sort();
}

describe("enclave workspace export / import", () => {
  let workspaceId = "";

  it("exports a workspace to a new 0600 file, and never overwrites one", SLOW, async () => {
    expect(enclave(["user", "create", "--email", "ada@example.com", "--password-stdin"], { input: "a long passphrase\n" }).status).toBe(0);
    expect(enclave(["user", "create", "--email", "grace@example.com", "--password-stdin"], { input: "a long passphrase\n" }).status).toBe(0);
    workspaceId = lastLine(enclave(["workspace", "create", "--owner", "ada@example.com", "--name", "Lab"]).stdout);
    await withStore(async () => {
      const ada = await findUserByEmail("ada@example.com");
      const principal = { kind: "user", userId: ada!.id } as const;
      await createKnowledge(await authorize(principal, workspaceId, "knowledge"), { title: "Notes", body: "Findings so far.", tags: ["lab"] });
      await putArtifact(await authorize(principal, workspaceId, "artifacts"), "data.bin", "application/octet-stream", Buffer.alloc(200_000, 3));
    });

    const out = path.join(outDir, "lab.zip");
    const exported = enclave(["workspace", "export", "--workspace", workspaceId, "--out", out]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(lastLine(exported.stdout)).toMatch(new RegExp(`^exported workspace ${workspaceId} to ${out}: \\d+ files, 0\\.2 MB$`));
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(outDir)).toEqual(["lab.zip"]);
    const before = fs.readFileSync(out);

    const again = enclave(["workspace", "export", "--workspace", workspaceId, "--out", out]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/exists; export does not overwrite files/);
    expect(fs.readFileSync(out).equals(before)).toBe(true);
    expect(enclave(["workspace", "export", "--workspace", "ws_nope", "--out", path.join(outDir, "x.zip")]).status).toBe(2);
    expect(enclave(["workspace", "export", "--workspace", workspaceId, "--out", path.join(outDir, "no/such/dir.zip")]).stderr).toMatch(/there is no folder/);
    expect(enclave(["workspace", "export", "--workspace", workspaceId]).status).toBe(2);
    expect(fs.readdirSync(outDir)).toEqual(["lab.zip"]);
  });

  it("takes --out and --file relative to where it is run, not the project root", SLOW, () => {
    const exported = enclave(["workspace", "export", "--workspace", workspaceId, "--out", "relative.zip"], { cwd: outDir });
    expect(exported.status, exported.stderr).toBe(0);
    expect(fs.existsSync(path.join(outDir, "relative.zip"))).toBe(true);
    const imported = enclave(["workspace", "import", "--file", "relative.zip", "--owner", "grace@example.com"], { cwd: outDir });
    expect(imported.status, imported.stderr).toBe(0);
    fs.rmSync(path.join(outDir, "relative.zip"));
  });

  it("imports into a new workspace for the owner named, and export → import → export keeps the content hashes", SLOW, async () => {
    const imported = enclave(["workspace", "import", "--file", path.join(outDir, "lab.zip"), "--owner", "grace@example.com", "--name", "Lab (copy)"]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`imported workspace "Lab \\(copy\\)" from ${workspaceId}, owned by grace@example.com: 1 knowledge entries, 0 sessions, 0 events, 0 links, 1 artifacts`));
    const copy = lastLine(imported.stdout);
    expect(copy).toMatch(/^ws_[0-9a-f]{32}$/);
    expect(copy).not.toBe(workspaceId);
    expect(listedWorkspaces().some((line) => line.startsWith(`${copy}\t`))).toBe(true);
    expect(enclave(["audit", "verify", "--workspace", copy]).stdout).toMatch(/intact, 1 rows/);

    const second = path.join(outDir, "copy.zip");
    expect(enclave(["workspace", "export", "--workspace", copy, "--out", second]).status).toBe(0);
    expect(await contentHashes(second)).toEqual(await contentHashes(path.join(outDir, "lab.zip")));
    fs.rmSync(second);
  });

  it("refuses a tampered archive, an unknown owner or a missing file, and leaves no workspace behind", SLOW, async () => {
    const files = await readZip(fs.readFileSync(path.join(outDir, "lab.zip")));
    const knowledgePath = [...files.keys()].find((name) => name.endsWith("/knowledge.jsonl"))!;
    files.set(knowledgePath, Buffer.from(files.get(knowledgePath)!.toString().replace("Findings", "Fiddling")));
    const tampered = path.join(outDir, "tampered.zip");
    await zipOf(tampered, [...files.entries()], "keep");
    const listed = listedWorkspaces();
    const folders = fs.readdirSync(path.join(dataDir, "workspaces")).sort();

    const refused = enclave(["workspace", "import", "--file", tampered, "--owner", "grace@example.com"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^enclave: This is not an archive Enclave can import: .*knowledge\.jsonl does not match its SHA-256 in the manifest$/);
    expect(enclave(["workspace", "import", "--file", path.join(outDir, "lab.zip"), "--owner", "nobody@example.com"]).stderr).toMatch(/no user with email nobody@example.com/);
    expect(enclave(["workspace", "import", "--file", path.join(outDir, "missing.zip"), "--owner", "grace@example.com"]).status).toBe(2);
    expect(enclave(["workspace", "import", "--file", path.join(outDir, "lab.zip"), "--owner", "grace@example.com", "--workspace", "../x"]).status).toBe(2);

    expect(listedWorkspaces()).toEqual(listed);
    expect(fs.readdirSync(path.join(dataDir, "workspaces")).sort()).toEqual(folders);
  });
});
