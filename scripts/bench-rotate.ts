/**
 * npm run bench:rotate — what `enclave key rotate` costs per GB, beside `cp` of the same bytes
 * in the same run. A store of BENCH_ROTATE_MB (default 1024) megabytes of artifacts spread over
 * BENCH_ROTATE_WORKSPACES (default 16) workspaces is made through lib/ (real SQLCipher files),
 * copied with `cp -r` (after a sync, page cache warm for both), then rotated in-process with
 * rotateMasterKey, the same function the CLI calls. Prints one table, and the rotation's CPU
 * time (SQLCipher's decrypt and encrypt are CPU-bound: on a busy machine wall time overstates it).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { authorize } from "../lib/access/authorize";
import { createUser } from "../lib/auth/users";
import { rotateMasterKey } from "../lib/backup/key-rotation";
import { databaseFiles } from "../lib/backup/rotation-journal";
import { parseConfig, setConfigForTests } from "../lib/config";
import { closeStore, getStore } from "../lib/db/store";
import { putArtifact } from "../lib/workspace/artifacts";
import { createWorkspace } from "../lib/workspace/workspaces";

const TOTAL_MB = Number(process.env.BENCH_ROTATE_MB ?? 1024);
const WORKSPACES = Number(process.env.BENCH_ROTATE_WORKSPACES ?? 16);
const CHUNK = 4 * 1024 * 1024;

function bytesOf(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const full = path.join(dir, entry.name);
    return sum + (entry.isDirectory() ? bytesOf(full) : fs.statSync(full).size);
  }, 0);
}

async function seed(): Promise<void> {
  await getStore().control;
  const owner = await createUser({ email: "bench@example.com", password: "correct horse battery" });
  const chunks = Math.ceil((TOTAL_MB * 1024 * 1024) / CHUNK);
  const ids: string[] = [];
  for (let index = 0; index < WORKSPACES; index += 1) ids.push((await createWorkspace({ type: "operator", ownerId: owner.id }, `Bench ${index}`)).id);
  for (let chunk = 0; chunk < chunks; chunk += 1) {
    const workspaceId = ids[chunk % ids.length] ?? "";
    const access = await authorize({ kind: "user", userId: owner.id }, workspaceId, "artifacts");
    await putArtifact(access, `blob-${chunk}.bin`, "application/octet-stream", randomBytes(CHUNK));
  }
  await closeStore();
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-bench-rotate-"));
  const dataDir = path.join(root, "data");
  try {
    setConfigForTests(parseConfig({ ENCLAVE_DATA_DIR: dataDir, LOG_LEVEL: "warn" }));
    const seeding = performance.now();
    await seed();
    const bytes = databaseFiles(dataDir).reduce((sum, file) => sum + fs.statSync(path.join(dataDir, file)).size, 0);
    console.log(`seeded ${(bytes / 1024 ** 2).toFixed(0)} MB in ${databaseFiles(dataDir).length} files in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);

    execFileSync("sync");
    const copying = performance.now();
    execFileSync("cp", ["-r", dataDir, path.join(root, "copy")]);
    execFileSync("sync");
    const cpSeconds = (performance.now() - copying) / 1000;
    fs.rmSync(path.join(root, "copy"), { recursive: true, force: true });

    const keyFile = path.join(root, "new.key");
    fs.writeFileSync(keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
    const rotating = performance.now();
    const cpu = process.cpuUsage();
    const result = await rotateMasterKey({ newKeyFile: keyFile });
    const { user, system } = process.cpuUsage(cpu);
    execFileSync("sync");
    const rotateSeconds = (performance.now() - rotating) / 1000;
    const cpuSeconds = (user + system) / 1e6;

    const gb = bytes / 1024 ** 3;
    console.log("");
    console.log("| what | MB | files | seconds | s/GB | MB/s | × cp |");
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    const row = (what: string, seconds: number) =>
      console.log(`| ${what} | ${(bytes / 1024 ** 2).toFixed(0)} | ${result.files} | ${seconds.toFixed(2)} | ${(seconds / gb).toFixed(2)} | ${(bytes / 1024 ** 2 / seconds).toFixed(0)} | ${(seconds / cpSeconds).toFixed(2)} |`);
    row("cp -r (+ sync)", cpSeconds);
    row("enclave key rotate (+ sync)", rotateSeconds);
    console.log(`\nrotation CPU time ${cpuSeconds.toFixed(2)} s (${(cpuSeconds / gb).toFixed(2)} CPU-s/GB: what an idle core would take; wall time above is on a shared machine)`);
    console.log(`CPUs: ${os.cpus().length}, load average ${os.loadavg().map((load) => load.toFixed(1)).join(" ")}; data dir ${(bytesOf(dataDir) / 1024 ** 2).toFixed(0)} MB after`);
  } finally {
    setConfigForTests(undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
