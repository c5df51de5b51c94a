import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { controlAuditLog } from "@/lib/audit/audit";
import { databaseFiles, readJournal } from "@/lib/backup/rotation-journal";
import { closeStore, getControlDb, getStore } from "@/lib/db/store";
import { mulberry32 } from "@/scripts/bench/corpus";
import { digestDataDir, openWith, seedRotationStore } from "./rotation-fixtures";
import { makeTempDir, useTempStore } from "./store";

/**
 * The crash story, with the real CLI: `enclave key rotate` over 50 workspaces is SIGKILLed
 * again and again, each time after a random number of files (0 to 2) and a random delay, so
 * kills land before the journal exists, between a file's rekey and its journal entry, and
 * inside the rekey of the three large files; then a last run finishes. Nothing may be lost.
 * ROTATE_KILL_SEED=<n> replays a run.
 */
const WORKSPACES = 50;
const KILLS = 20;
const store = useTempStore({ ENCLAVE_ARTIFACT_MAX_BYTES: String(4 * 1024 * 1024) });

type Run = { code: number | null; signal: NodeJS.Signals | null; filesPrinted: number; stderr: string };

/** One CLI run, killed after `afterFiles` progress lines plus `delayMs` (never, if afterFiles is null). */
function rotate(dataDir: string, keyFile: string, kill: { afterFiles: number; delayMs: number } | null): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/enclave.mjs", "key", "rotate", "--new-key-file", keyFile], {
      env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_DATA_DIR: dataDir, LOG_LEVEL: "error" },
    });
    let filesPrinted = 0;
    let stderr = "";
    let armed = false;
    const arm = () => {
      if (armed || !kill) return;
      armed = true;
      setTimeout(() => child.kill("SIGKILL"), kill.delayMs);
    };
    if (kill?.afterFiles === 0) arm();
    child.stdout.on("data", (chunk: Buffer) => {
      filesPrinted += (chunk.toString().match(/^\[\d+\/\d+\]/gm) ?? []).length;
      if (kill && filesPrinted >= kill.afterFiles) arm();
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code, signal) => resolve({ code, signal, filesPrinted, stderr }));
  });
}

it(`survives ${KILLS} SIGKILLs of enclave key rotate over ${WORKSPACES} workspaces`, { timeout: 240_000 }, async () => {
  const seed = Number(process.env.ROTATE_KILL_SEED ?? Date.now() % 2 ** 31);
  console.log(`key rotation kill test: ROTATE_KILL_SEED=${seed}`);
  const random = mulberry32(seed);
  await seedRotationStore(WORKSPACES, { deleteLast: true, bigArtifactBytes: 3 * 1024 * 1024 });
  const dataDir = store.dataDir();
  const oldKey = getStore().masterKey;
  const before = await digestDataDir(dataDir, oldKey);
  expect(Object.keys(before.digests)).toHaveLength(WORKSPACES + 1);
  await closeStore();

  const newKey = randomBytes(32);
  const keyDir = makeTempDir();
  const keyFile = path.join(keyDir, "new.key");
  fs.writeFileSync(keyFile, newKey.toString("hex") + "\n", { mode: 0o600 });

  const landed: string[] = [];
  for (let kill = 0; kill < KILLS; kill += 1) {
    const afterFiles = Math.floor(random() * 3);
    // Before the first file a run spends its time starting up; on an idle machine with a warm cache a
    // whole run once finished inside a 1.5 s delay, so aim early. After one file, a file takes milliseconds.
    const delayMs = afterFiles === 0 ? Math.floor(random() * 400) : Math.floor(random() * 10);
    const run = await rotate(dataDir, keyFile, { afterFiles, delayMs });
    if (run.signal !== "SIGKILL") {
      // It finished before the kill: the rest of the story is the final run's.
      expect(run.code, run.stderr).toBe(0);
      landed.push("finished");
      break;
    }
    const journal = readJournal(dataDir);
    landed.push(journal ? `${journal.done.length}/${journal.files.length}` : "before the journal");
  }
  console.log(`kills landed at (files done): ${landed.join(", ")}`);
  expect(landed.filter((at) => at !== "finished").length).toBeGreaterThanOrEqual(KILLS / 2);

  const final = await rotate(dataDir, keyFile, null);
  expect(final.stderr).toBe("");
  expect(final.code).toBe(0);

  expect(readJournal(dataDir)).toBeNull();
  expect(fs.readdirSync(dataDir).sort()).toEqual(["control.db", "master.key", "workspaces"]);
  expect(fs.readFileSync(path.join(dataDir, "master.key"), "utf8").trim()).toBe(newKey.toString("hex"));
  for (const file of databaseFiles(dataDir)) expect(await openWith(dataDir, file, oldKey), file).toBeNull();
  const after = await digestDataDir(dataDir, newKey);
  expect(after.digests).toEqual(before.digests);
  expect(Object.entries(after.chains).filter(([, ok]) => !ok)).toEqual([]);
  const control = await getControlDb();
  expect(await control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, "key.rotate"))).toHaveLength(1);
  fs.rmSync(keyDir, { recursive: true, force: true });
});
