import fs from "node:fs";
import path from "node:path";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { setConfigForTests } from "@/lib/config";
import { createUser } from "@/lib/auth/users";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { authorize } from "@/lib/access/authorize";
import { closeStore, getStore } from "@/lib/db/store";
import { DirectoryTarget } from "@/lib/backup/directory-target";
import { makeTempDir, testConfig } from "./store";

/** An age key pair made with the library (the interop test uses the real age-keygen). */
export async function ageKeyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export type BackupWorld = {
  dataDir: string;
  backupDir: string;
  identity: string;
  recipient: string;
  target: DirectoryTarget;
  masterKey: Buffer;
  scratch: string;
};

/**
 * A fresh data dir whose config encrypts backups to a new age key, backups going to a
 * directory beside it, and a scratch folder for restores; all removed by `cleanup`.
 */
export async function backupWorld(extraEnv: Record<string, string> = {}): Promise<BackupWorld> {
  const root = makeTempDir();
  const dataDir = path.join(root, "data");
  const backupDir = path.join(root, "backups");
  const scratch = path.join(root, "scratch");
  fs.mkdirSync(scratch);
  const { identity, recipient } = await ageKeyPair();
  setConfigForTests(testConfig(dataDir, { ENCLAVE_BACKUP_DIR: backupDir, ENCLAVE_BACKUP_RECIPIENTS: recipient, ...extraEnv }));
  await getStore().control;
  return { dataDir, backupDir, identity, recipient, target: new DirectoryTarget(backupDir), masterKey: getStore().masterKey, scratch };
}

export async function cleanupWorld(world: BackupWorld): Promise<void> {
  await closeStore();
  setConfigForTests(undefined);
  fs.rmSync(path.dirname(world.dataDir), { recursive: true, force: true });
}

/** A person owning `count` workspaces, each with a few searchable knowledge entries. */
export async function populate(count = 2): Promise<{ userId: string; workspaceIds: string[] }> {
  const owner = await createUser({ email: `owner-${Math.random().toString(36).slice(2)}@example.com`, password: "correct horse battery" });
  const workspaceIds: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const workspace = await createWorkspace({ type: "user", userId: owner.id }, `Team ${i}`);
    const access = await authorize({ kind: "user", userId: owner.id }, workspace.id, "knowledge");
    for (let n = 0; n < 3; n += 1) {
      await createKnowledge(access, { title: `Runbook ${i}.${n}`, body: `zebra${i} crossing note ${n}`, tags: ["ops"] });
    }
    workspaceIds.push(workspace.id);
  }
  return { userId: owner.id, workspaceIds };
}
