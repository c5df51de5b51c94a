import { createPrivateKey, hkdfSync, randomBytes, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * One master key, from which every database key is derived:
 *   key = HKDF-SHA256(ikm = master, salt, info)
 * control.db: salt "" and info "enclave/control/v1"; a workspace: salt = its id and info
 * "enclave/workspace/v1". The 32 derived bytes are handed to SQLCipher as a raw key, so
 * opening a file runs no PBKDF2 (see docs/decisions/001-raw-hkdf-keys.md).
 * The audit checkpoint signing key: salt "" and info "enclave/audit-signing/v1", used as an
 * Ed25519 seed (lib/audit/checkpoint.ts). Its own label, so it shares no bytes with a database key.
 */
export const MASTER_KEY_FILE = "master.key";
/** A key rotation's new master key, staged before any file is re-keyed (lib/backup/key-rotation.ts). */
export const MASTER_KEY_NEXT_FILE = "master.key.next";
/** Present while a master-key rotation is under way: which files are done (lib/backup/rotation-journal.ts). */
export const ROTATION_JOURNAL_FILE = "rotation.json";
const CONTROL_INFO = "enclave/control/v1";
const WORKSPACE_INFO = "enclave/workspace/v1";
const AUDIT_SIGNING_INFO = "enclave/audit-signing/v1";
const KEY_ID_INFO = "enclave/key-id/v1";
// node:crypto imports a raw Ed25519 seed only inside PKCS#8: this fixed RFC 8410 header
// (SEQUENCE, version 0, algorithm 1.3.101.112, OCTET STRING of 32 bytes) plus the seed is the whole key.
const ED25519_PKCS8_HEADER = Buffer.from("302e020100300506032b657004220420", "hex");

export class MasterKeyError extends Error {
  override name = "MasterKeyError";
}

function deriveKey(master: Buffer, salt: string, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master, Buffer.from(salt, "utf8"), Buffer.from(info, "utf8"), 32));
}

export const deriveControlKey = (master: Buffer) => deriveKey(master, "", CONTROL_INFO);
export const deriveWorkspaceKey = (master: Buffer, workspaceId: string) =>
  deriveKey(master, workspaceId, WORKSPACE_INFO);

export function deriveAuditSigningKey(master: Buffer): KeyObject {
  const seed = deriveKey(master, "", AUDIT_SIGNING_INFO);
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_HEADER, seed]), format: "der", type: "pkcs8" });
}

/**
 * A master key's public name (`mk_` + 16 hex), for journals, audit rows and messages: derived
 * under its own label, so it says which key without giving away a byte any database key uses.
 */
export const masterKeyId = (master: Buffer): string => `mk_${deriveKey(master, "", KEY_ID_INFO).subarray(0, 8).toString("hex")}`;

/** A master key file's text: 64 hex characters (surrounding whitespace allowed), or a MasterKeyError naming `file`. */
export function parseMasterKeyText(text: string, file: string): Buffer {
  const trimmed = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(trimmed)) throw new MasterKeyError(`master key file ${file} is not 64 hex characters`);
  return Buffer.from(trimmed, "hex");
}

/**
 * The master key from the environment, else DATA_DIR/master.key, else a new one written there
 * (0600) — but only on a data dir that holds no database yet: a missing key file beside an
 * existing control.db or workspace means the key was lost or moved, and a new key would
 * orphan the data.
 */
export function loadMasterKey(dataDir: string, fromEnv: Buffer | undefined): Buffer {
  // Mid-rotation some files open with the old key and some with the new: whatever key is at
  // hand, opening the store now would fail on some, or write old-key pages beside new-key ones.
  if (fs.existsSync(path.join(dataDir, ROTATION_JOURNAL_FILE))) {
    throw new MasterKeyError(`a master-key rotation is under way in ${dataDir} (${ROTATION_JOURNAL_FILE}): run \`enclave key rotate\` to finish it`);
  }
  if (fromEnv) return fromEnv;
  const keyPath = path.join(dataDir, MASTER_KEY_FILE);
  if (fs.existsSync(keyPath)) return parseMasterKeyText(fs.readFileSync(keyPath, "utf8"), keyPath);
  const existing = ["control.db", "workspaces"].filter((name) => hasContent(path.join(dataDir, name)));
  if (existing.length > 0) {
    throw new MasterKeyError(
      `master key missing: ${keyPath} does not exist but ${existing.join(" and ")} do; restore the key file or set ENCLAVE_MASTER_KEY`,
    );
  }
  const key = randomBytes(32);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyPath, key.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  return key;
}

function hasContent(entry: string): boolean {
  if (!fs.existsSync(entry)) return false;
  return !fs.statSync(entry).isDirectory() || fs.readdirSync(entry).length > 0;
}
