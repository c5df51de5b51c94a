import { createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "../audit/chain";
import { auditKeyId, type AuditSigner } from "../audit/checkpoint";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";

/**
 * A backup set is one folder (or S3 prefix) named by its id:
 *
 *   <backupId>/control.db.age
 *   <backupId>/workspaces/<workspaceId>.db.age
 *   <backupId>/manifest.json          written last: a set without it is incomplete
 *
 * Each `.age` file is age-encrypted (X25519, to ENCLAVE_BACKUP_RECIPIENTS) and its plaintext is
 * a consistent SQLCipher snapshot of one database, still encrypted with the key derived from
 * the master key — so opening a backup takes both the age identity and the master key, and
 * neither is in the backup. `manifest.json` is `{ manifest, signature }`: Ed25519 over the
 * RFC 8785 (JCS) encoding of `manifest`, with the audit signing key (lib/crypto/keys.ts).
 */
export const BACKUP_FORMAT = "enclave-backup/1";
export const MANIFEST_FILE = "manifest.json";

/** `20261202T053000Z-1a2b3c`: sorts by time, and names nothing but itself on a path. */
export const BACKUP_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
export const backupIdSchema = z.string().regex(BACKUP_ID_PATTERN, "not a backup id such as 20261202T053000Z-1a2b3c");

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const backupFileSchema = z.strictObject({
  /** Relative to the set: `control.db.age` or `workspaces/<id>.db.age`. */
  path: z.string(),
  /** The database this file restores: `control`, or a workspace id. */
  database: z.union([z.literal("control"), z.string().regex(WORKSPACE_ID_PATTERN)]),
  /** Migrations applied to the snapshot (rows in its __drizzle_migrations). */
  schemaVersion: z.number().int().nonnegative(),
  plaintextBytes: z.number().int().nonnegative(),
  plaintextSha256: sha256Hex,
  ciphertextBytes: z.number().int().nonnegative(),
  ciphertextSha256: sha256Hex,
});
export type BackupFile = z.infer<typeof backupFileSchema>;

// Strict: a field added to a signed manifest makes a different manifest, not one that verifies.
export const manifestSchema = z
  .strictObject({
    format: z.literal(BACKUP_FORMAT),
    backupId: backupIdSchema,
    /** ms since the epoch, when the snapshot of control.db began. */
    createdAt: z.number().int().nonnegative(),
    enclaveVersion: z.string(),
    /** RFC 7638 thumbprint of the audit signing key, as in checkpoints. */
    keyId: z.string(),
    recipients: z.array(z.string()).min(1),
    files: z.array(backupFileSchema).min(1),
  })
  .superRefine((manifest, ctx) => {
    const paths = new Set<string>();
    for (const file of manifest.files) {
      if (file.path !== backupFilePath(file.database)) ctx.addIssue({ code: "custom", message: `file ${file.path} does not match its database ${file.database}` });
      if (paths.has(file.path)) ctx.addIssue({ code: "custom", message: `file ${file.path} is listed twice` });
      paths.add(file.path);
    }
    if (!paths.has(backupFilePath("control"))) ctx.addIssue({ code: "custom", message: "the manifest lists no control.db" });
  });
export type Manifest = z.infer<typeof manifestSchema>;

const signedManifestSchema = z.strictObject({ manifest: z.unknown(), signature: z.string() });

/** The one place a database's file name inside a set is spelled (`control`, or a workspace id). */
export function backupFilePath(database: string): string {
  return database === "control" ? "control.db.age" : `workspaces/${database}.db.age`;
}

/**
 * The names a file of a set may have: a target refuses any other before it touches a path, so
 * a forged manifest or a caller's typo cannot reach `../` or an absolute path.
 */
export function isSetFileName(file: string): boolean {
  if (file === MANIFEST_FILE || file === backupFilePath("control")) return true;
  const workspace = /^workspaces\/([^/]+)\.db\.age$/.exec(file);
  return workspace !== null && WORKSPACE_ID_PATTERN.test(workspace[1] ?? "");
}

export function signManifest(signer: AuditSigner, manifest: Manifest): string {
  const signature = sign(null, Buffer.from(canonicalJson(manifest), "utf8"), signer.privateKey).toString("base64url");
  return JSON.stringify({ manifest, signature }, null, 2) + "\n";
}

export type ManifestVerdict = { ok: true; manifest: Manifest } | { ok: false; reason: string };

/**
 * Checks manifest.json's text against a public key: its shape, that it was signed by this key,
 * and the signature. A backup taken before a master-key rotation verifies only with the old
 * key's public half (and restores only with the old master key).
 */
export function verifyManifest(text: string, publicKey: KeyObject | string): ManifestVerdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "manifest.json is not JSON" };
  }
  const signed = signedManifestSchema.safeParse(value);
  if (!signed.success) return { ok: false, reason: "manifest.json is not {manifest, signature}" };
  const parsed = manifestSchema.safeParse(signed.data.manifest);
  if (!parsed.success) return { ok: false, reason: `manifest.json: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  if (parsed.data.keyId !== auditKeyId(key)) {
    return { ok: false, reason: `the manifest was signed by key ${parsed.data.keyId}, not by this master key's (${auditKeyId(key)}): a backup from before a key rotation needs the old master key` };
  }
  const signature = Buffer.from(signed.data.signature, "base64url");
  if (signature.length !== 64 || signature.toString("base64url") !== signed.data.signature) return { ok: false, reason: "the signature is not 64 bytes of base64url" };
  if (!verify(null, Buffer.from(canonicalJson(parsed.data), "utf8"), key, signature)) return { ok: false, reason: "the manifest's signature does not match" };
  return { ok: true, manifest: parsed.data };
}
