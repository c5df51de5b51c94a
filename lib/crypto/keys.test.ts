import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir } from "@/test/store";
import { deriveControlKey, deriveWorkspaceKey, loadMasterKey, MASTER_KEY_FILE, MasterKeyError } from "./keys";
import { randomId } from "./ids";

/** RFC 5869 written out with HMAC, independent of node's hkdfSync: pins the derivation. */
function hkdfSha256(ikm: Buffer, salt: string, info: string): Buffer {
  const prk = createHmac("sha256", Buffer.from(salt, "utf8")).update(ikm).digest();
  return createHmac("sha256", prk).update(Buffer.concat([Buffer.from(info, "utf8"), Buffer.from([1])])).digest();
}

describe("key derivation gives every database its own key", () => {
  const master = randomBytes(32);

  it("follows HKDF-SHA256 with the documented salt and info (a silent change would orphan every file)", () => {
    const workspaceId = randomId("ws");
    expect(deriveControlKey(master).equals(hkdfSha256(master, "", "enclave/control/v1"))).toBe(true);
    expect(deriveWorkspaceKey(master, workspaceId).equals(hkdfSha256(master, workspaceId, "enclave/workspace/v1"))).toBe(true);
    expect(deriveControlKey(master)).toHaveLength(32);
  });

  it("never gives two workspaces, or a workspace and control.db, the same key", () => {
    const ids = Array.from({ length: 50 }, () => randomId("ws"));
    const keys = [deriveControlKey(master), deriveWorkspaceKey(master, ""), ...ids.map((id) => deriveWorkspaceKey(master, id))];
    expect(new Set(keys.map((key) => key.toString("hex"))).size).toBe(keys.length);
  });

  it("gives different keys under a different master key", () => {
    const workspaceId = randomId("ws");
    const other = randomBytes(32);
    expect(deriveControlKey(other).equals(deriveControlKey(master))).toBe(false);
    expect(deriveWorkspaceKey(other, workspaceId).equals(deriveWorkspaceKey(master, workspaceId))).toBe(false);
  });
});

describe("the master key file", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = makeTempDir();
    dirs.push(dir);
    return dir;
  };
  const mode = (file: string) => fs.statSync(file).mode & 0o777;

  it("is generated on a fresh data dir as 64 hex characters, mode 0600, in a 0700 folder", () => {
    const dataDir = path.join(tempDir(), "not-yet-there");
    const key = loadMasterKey(dataDir, undefined);
    const keyFile = path.join(dataDir, MASTER_KEY_FILE);
    expect(fs.readFileSync(keyFile, "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(fs.readFileSync(keyFile, "utf8").trim(), "hex").equals(key)).toBe(true);
    expect(mode(keyFile)).toBe(0o600);
    expect(mode(dataDir)).toBe(0o700);
  });

  it("is read back, not regenerated, on the next start", () => {
    const dataDir = tempDir();
    const first = loadMasterKey(dataDir, undefined);
    const bytes = fs.readFileSync(path.join(dataDir, MASTER_KEY_FILE));
    expect(loadMasterKey(dataDir, undefined).equals(first)).toBe(true);
    expect(fs.readFileSync(path.join(dataDir, MASTER_KEY_FILE)).equals(bytes)).toBe(true);
  });

  it("is not written when ENCLAVE_MASTER_KEY is set: the key stays out of the data dir", () => {
    const dataDir = tempDir();
    const fromEnv = randomBytes(32);
    expect(loadMasterKey(dataDir, fromEnv)).toBe(fromEnv);
    expect(fs.existsSync(path.join(dataDir, MASTER_KEY_FILE))).toBe(false);
  });

  it("missing beside an existing control.db is a MasterKeyError, and no new key is written", () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, "control.db"), "existing data");
    expect(() => loadMasterKey(dataDir, undefined)).toThrow(MasterKeyError);
    expect(() => loadMasterKey(dataDir, undefined)).toThrow(/master key missing/);
    expect(fs.existsSync(path.join(dataDir, MASTER_KEY_FILE))).toBe(false);
  });

  it("missing beside existing workspaces (control.db gone) is a MasterKeyError too", () => {
    const dataDir = tempDir();
    fs.mkdirSync(path.join(dataDir, "workspaces", "ws_" + "a".repeat(32)), { recursive: true });
    expect(() => loadMasterKey(dataDir, undefined)).toThrow(/workspaces/);
    expect(fs.existsSync(path.join(dataDir, MASTER_KEY_FILE))).toBe(false);
  });

  it("an empty workspaces folder does not count as data", () => {
    const dataDir = tempDir();
    fs.mkdirSync(path.join(dataDir, "workspaces"));
    expect(loadMasterKey(dataDir, undefined)).toHaveLength(32);
  });

  it.each([
    ["63 hex characters", "a".repeat(63)],
    ["base64 instead of hex", randomBytes(32).toString("base64")],
    ["an empty file", ""],
  ])("holding %s is a MasterKeyError, and the file is left as it was", (_, content) => {
    const dataDir = tempDir();
    const keyFile = path.join(dataDir, MASTER_KEY_FILE);
    fs.writeFileSync(keyFile, content, { mode: 0o600 });
    expect(() => loadMasterKey(dataDir, undefined)).toThrow(MasterKeyError);
    expect(fs.readFileSync(keyFile, "utf8")).toBe(content);
  });
});
