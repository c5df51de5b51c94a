import { createHash, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveAuditSigningKey, deriveControlKey } from "../crypto/keys";
import { auditSigner, checkpointRefSchema, publicKeyPem, signCheckpoint, verifyCheckpointLine, type Checkpoint } from "./checkpoint";

// Pure: no database, only keys and bytes.
const master = randomBytes(32);
const signer = auditSigner(master);
const pem = publicKeyPem(signer.publicKey);
const checkpoint: Checkpoint = { chain: "workspace:ws_0123456789abcdef0123456789abcdef", seq: 42, hash: "ab".repeat(32), at: 1_796_000_000_000 };
/** What the log store holds: the pino line, with the fields pino adds around ours. */
const logLine = (line: object) => JSON.stringify({ level: 30, time: 1_796_000_000_001, ...line, msg: "audit checkpoint" });

describe("the audit signing key", () => {
  it("is Ed25519 from the HKDF seed with its own label: stable for one master key, distinct per master key and from the control key", () => {
    const seed = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), Buffer.from("enclave/audit-signing/v1"), 32));
    const key = deriveAuditSigningKey(master);
    expect(key.asymmetricKeyType).toBe("ed25519");
    expect(Buffer.from(key.export({ format: "jwk" }).d!, "base64url")).toEqual(seed);
    expect(seed).not.toEqual(deriveControlKey(master));
    expect(auditSigner(master).keyId).toBe(signer.keyId);
    expect(publicKeyPem(auditSigner(master).publicKey)).toBe(pem);
    expect(auditSigner(randomBytes(32)).keyId).not.toBe(signer.keyId);
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
  });

  it("has a key id any holder of the PEM can recompute (RFC 7638 thumbprint)", () => {
    const { x } = createPublicKey(pem).export({ format: "jwk" });
    const thumbprint = createHash("sha256").update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest("base64url");
    expect(signer.keyId).toBe(thumbprint);
  });
});

describe("a signed checkpoint line", () => {
  const signed = signCheckpoint(signer, checkpoint);

  it("verifies with the public key alone, from the log line's text or its parsed object", () => {
    expect(verifyCheckpointLine(logLine(signed), pem)).toEqual({ ok: true, checkpoint });
    expect(verifyCheckpointLine(JSON.parse(logLine(signed)), signer.publicKey)).toEqual({ ok: true, checkpoint });
  });

  it.each<[string, Partial<Checkpoint> & Record<string, unknown>]>([
    ["chain", { chain: "control" }],
    ["seq", { seq: 41 }],
    ["hash", { hash: "cd".repeat(32) }],
    ["at", { at: checkpoint.at + 1 }],
    ["an added field", { note: "x" }],
  ])("fails when %s is altered", (_field, change) => {
    const verdict = verifyCheckpointLine(logLine({ ...signed, checkpoint: { ...checkpoint, ...change } }), pem);
    expect(verdict.ok).toBe(false);
  });

  it("fails when the signature is altered, in any character, or swapped for another checkpoint's", () => {
    const other = signCheckpoint(signer, { ...checkpoint, seq: 43 });
    const flips = [0, 40, signed.signature.length - 1].map((at) => {
      const c = signed.signature[at] === "A" ? "B" : "A";
      return signed.signature.slice(0, at) + c + signed.signature.slice(at + 1);
    });
    // The last character carries 4 spare bits: changing only those must not pass as the same signature.
    const last = signed.signature.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const spare = alphabet[alphabet.indexOf(last) ^ 1]!;
    for (const signature of [...flips, signed.signature.slice(0, -1) + spare, other.signature, signed.signature + "A", ""]) {
      expect(verifyCheckpointLine(logLine({ ...signed, signature }), pem), signature).toMatchObject({ ok: false });
    }
  });

  it("fails with another master key's public key, even when the line is relabelled with that key's id", () => {
    const other = auditSigner(randomBytes(32));
    const otherPem = publicKeyPem(other.publicKey);
    expect(verifyCheckpointLine(logLine(signed), otherPem)).toMatchObject({ ok: false, reason: expect.stringMatching(/not by this key/) as string });
    expect(verifyCheckpointLine(logLine({ ...signed, keyId: other.keyId }), otherPem)).toEqual({
      ok: false,
      reason: "the signature does not match the checkpoint",
    });
    expect(verifyCheckpointLine(logLine({ ...signed, keyId: other.keyId }), pem)).toMatchObject({ ok: false });
  });

  it("refuses what is not a checkpoint line, and a key that is not Ed25519", () => {
    expect(verifyCheckpointLine("not json", pem)).toEqual({ ok: false, reason: "not JSON" });
    expect(verifyCheckpointLine(logLine({ msg: "request" }), pem)).toMatchObject({ ok: false });
    expect(verifyCheckpointLine(logLine({ ...signed, checkpoint: { ...checkpoint, chain: "workspace:../x" } }), pem)).toMatchObject({ ok: false });
    const x25519 = generateKeyPairSync("x25519").publicKey;
    expect(verifyCheckpointLine(logLine(signed), x25519)).toEqual({ ok: false, reason: "the public key is not an Ed25519 key" });
  });
});

describe("a --checkpoint reference", () => {
  it("is <seq>:<64 hex>, nothing else", () => {
    expect(checkpointRefSchema.parse(`7:${"AB".repeat(32)}`)).toEqual({ seq: 7, hash: "ab".repeat(32) });
    expect(checkpointRefSchema.parse(`0:${"0".repeat(64)}`)).toEqual({ seq: 0, hash: "0".repeat(64) });
    for (const bad of ["7", `7:${"ab".repeat(31)}`, `-1:${"ab".repeat(32)}`, `07:${"ab".repeat(32)}`, `7:${"ab".repeat(32)}:x`, `1e3:${"ab".repeat(32)}`, `99999999999999999:${"ab".repeat(32)}`]) {
      expect(checkpointRefSchema.safeParse(bad).success, bad).toBe(false);
    }
  });
});
