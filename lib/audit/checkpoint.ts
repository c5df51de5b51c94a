import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { z } from "zod";
import { deriveAuditSigningKey } from "../crypto/keys";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { canonicalJson, workspaceIdOfChain, type AuditChain } from "./chain";

/**
 * A checkpoint is a chain's head at a moment, signed, and written to the log stream: once an
 * external log store holds it, someone who can rewrite the database (rows and head alike)
 * cannot make the chain contain it again. One pino line, for example:
 *
 *   {"level":30,"time":…,"checkpoint":{"chain":"control","seq":42,"hash":"<64 hex>","at":<ms>},
 *    "signature":"<86 base64url>","keyId":"<43 base64url>","msg":"audit checkpoint"}
 *
 * `signature` is Ed25519 over the RFC 8785 (JCS) encoding of `checkpoint`, with the key derived
 * from the master key (lib/crypto/keys.ts). `keyId` is the key's RFC 7638 JWK thumbprint, so
 * an auditor holding only the PEM from `enclave audit public-key` can check a line with any
 * Ed25519 and JCS implementation, or with `verifyCheckpointLine` below.
 */
export const CHECKPOINT_MESSAGE = "audit checkpoint";

const auditChainSchema = z.custom<AuditChain>(
  (value) => value === "control" || (typeof value === "string" && WORKSPACE_ID_PATTERN.test(workspaceIdOfChain(value) ?? "")),
  'expected "control" or "workspace:<id>"',
);

// Strict: a field added to a signed checkpoint is a different checkpoint, not one that verifies.
export const checkpointSchema = z.strictObject({
  chain: auditChainSchema,
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.number().int().nonnegative(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

const checkpointLineSchema = z.object({
  checkpoint: checkpointSchema,
  signature: z.string(),
  keyId: z.string(),
});
export type CheckpointLine = z.infer<typeof checkpointLineSchema>;

export type AuditSigner = { privateKey: KeyObject; publicKey: KeyObject; keyId: string };

export function auditSigner(masterKey: Buffer): AuditSigner {
  const privateKey = deriveAuditSigningKey(masterKey);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: auditKeyId(publicKey) };
}

export const publicKeyPem = (publicKey: KeyObject): string => publicKey.export({ type: "spki", format: "pem" }).toString();

/** RFC 7638 thumbprint: SHA-256 over the JCS of the public JWK's {crv, kty, x}. */
export function auditKeyId(publicKey: KeyObject): string {
  const { crv, kty, x } = publicKey.export({ format: "jwk" });
  return createHash("sha256").update(encode({ crv, kty, x })).digest("base64url");
}

const encode = (value: unknown): Buffer => Buffer.from(canonicalJson(value), "utf8");

export function signCheckpoint(signer: AuditSigner, checkpoint: Checkpoint): CheckpointLine {
  const signature = sign(null, encode(checkpoint), signer.privateKey).toString("base64url");
  return { checkpoint, signature, keyId: signer.keyId };
}

export type CheckpointVerdict = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

/**
 * Checks one checkpoint log line (its JSON text or the parsed object) against a public key
 * (PEM or KeyObject), trusting nothing else: no database, no master key, no clock.
 */
export function verifyCheckpointLine(line: unknown, publicKey: string | KeyObject): CheckpointVerdict {
  let value: unknown = line;
  if (typeof line === "string") {
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, reason: "not JSON" };
    }
  }
  const parsed = checkpointLineSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: `not a checkpoint line: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  const { checkpoint, signature, keyId } = parsed.data;
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  if (key.asymmetricKeyType !== "ed25519") return { ok: false, reason: "the public key is not an Ed25519 key" };
  if (keyId !== auditKeyId(key)) return { ok: false, reason: `signed by key ${keyId}, not by this key (${auditKeyId(key)})` };
  const bytes = Buffer.from(signature, "base64url");
  // Node's base64url decoder skips stray characters and spare bits: only the canonical text counts.
  if (bytes.length !== 64 || bytes.toString("base64url") !== signature) return { ok: false, reason: "the signature is not 64 bytes of base64url" };
  if (!verify(null, encode(checkpoint), key, bytes)) return { ok: false, reason: "the signature does not match the checkpoint" };
  return { ok: true, checkpoint };
}

/** `<seq>:<hash>`, as an operator copies it from a checkpoint line, for `enclave audit verify --checkpoint`. */
export const checkpointRefSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15}):[0-9a-fA-F]{64}$/, "expected <seq>:<64 hex hash>, as in a checkpoint line")
  .transform((value) => {
    const [seq = "", hash = ""] = value.split(":");
    return { seq: Number(seq), hash: hash.toLowerCase() };
  })
  .refine((ref) => Number.isSafeInteger(ref.seq), "seq is too large");
