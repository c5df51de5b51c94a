import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { buffer } from "node:stream/consumers";
import { asc, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { entryOf, readBundle, replaceEntry, runVerifier, writeBundle, type BundleEntries } from "@/test/evidence-bundle";
import { useTempStore } from "@/test/store";
import { authorize } from "../access/authorize";
import { createUser } from "../auth/users";
import { getControlDb, getStore, withWorkspace } from "../db/store";
import { createWorkspace } from "../workspace/workspaces";
import { AuditChainError, auditControl, auditWorkspace, controlAuditLog, workspaceAuditLog } from "./audit";
import { canonicalJson, rowHash, type AuditRow } from "./chain";
import { auditSigner, publicKeyPem } from "./checkpoint";
import { buildEvidenceBundle, evidenceResponse, type EvidenceManifest, type EvidenceSource } from "./evidence";
import { evidencePeriodSchema, type EvidencePeriod } from "./evidence-period";
import { workspaceEvidenceBundle } from "../workspace/audit-evidence";
import { sweepAuditRetention } from "./retention";

useTempStore();

// Rows get their times from a faked clock, so the chain they form is genuine.
const NOW = Date.parse("2026-12-02T12:00:00Z");
const Q1: EvidencePeriod = { from: "2026-01-01", to: "2026-03-31" };
const CONTROL: EvidenceSource = { kind: "control", actor: { type: "system", id: "cli" } };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

async function signInAt(iso: string, who = "ada") {
  vi.setSystemTime(Date.parse(iso));
  await auditControl({ actor: { type: "user", id: who }, action: "user.sign_in", details: { note: `at ${iso}`, ünïcode: "✓" } });
}

/** control.db with rows just before, at both edges of, inside, and just after Q1. */
async function controlHistory() {
  for (const at of ["2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00.000Z", "2026-02-15T10:00:00Z", "2026-03-31T23:59:59.999Z", "2026-04-01T00:00:00.000Z"]) {
    await signInAt(at);
  }
  vi.setSystemTime(NOW);
}

async function bundleOf(source: EvidenceSource, period: EvidencePeriod) {
  const bundle = await buildEvidenceBundle(source, period);
  const bytes = await buffer(bundle.stream);
  return { ...bundle, bytes };
}

const pem = () => publicKeyPem(auditSigner(getStore().masterKey).publicKey);
const controlRows = async (): Promise<AuditRow[]> => (await getControlDb()).db.select().from(controlAuditLog).orderBy(asc(controlAuditLog.seq));
const lines = (entries: BundleEntries) => entryOf(entries, "rows.jsonl").toString("utf8").split("\n").slice(0, -1);
const jsonl = (rows: string[]) => Buffer.from(rows.map((row) => `${row}\n`).join(""), "utf8");
const manifestOf = (entries: BundleEntries) => JSON.parse(entryOf(entries, "manifest.json").toString("utf8")) as EvidenceManifest;

/** The manifest rewritten to fit `rows` (hash and count), its signature left as it was: what a forger without the key can do. */
function withFittedManifest(entries: BundleEntries, rows: Buffer): BundleEntries {
  const manifest = manifestOf(entries);
  manifest.rows.sha256 = createHash("sha256").update(rows).digest("hex");
  return replaceEntry(replaceEntry(entries, "rows.jsonl", rows), "manifest.json", Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
}

/** The same, re-signed with the real key: a bundle only a server bug could produce, to reach the verifier's replay. */
function resigned(entries: BundleEntries, rows: Buffer, change: (manifest: EvidenceManifest) => void = () => undefined): BundleEntries {
  const fitted = withFittedManifest(entries, rows);
  const manifest = manifestOf(fitted);
  change(manifest);
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const signer = auditSigner(getStore().masterKey);
  const signature = { algorithm: "Ed25519", keyId: signer.keyId, signs: "manifest.json", signature: sign(null, manifestBytes, signer.privateKey).toString("base64url") };
  return replaceEntry(replaceEntry(fitted, "manifest.json", manifestBytes), "signature.json", Buffer.from(JSON.stringify(signature)));
}

describe("an evidence bundle", () => {
  it("holds the period's rows (UTC days, both edges included) as canonical JSON Lines, with the anchor before them and the head after", async () => {
    await controlHistory();
    const all = await controlRows();
    const { bytes, manifest, size, fileName } = await bundleOf(CONTROL, Q1);
    expect(bytes.length).toBe(size);
    expect(fileName).toBe("evidence-control-2026-01-01-2026-03-31.zip");
    const entries = await readBundle(bytes);
    expect(entries.map(([name]) => name)).toEqual(["manifest.json", "rows.jsonl", "signature.json"]);
    const inPeriod = all.slice(1, 4);
    expect(lines(entries)).toEqual(inPeriod.map((row) => canonicalJson(row)));
    expect(manifest).toEqual({
      format: "enclave-audit-evidence/1",
      chain: "control",
      workspaceId: null,
      period: Q1,
      rows: { file: "rows.jsonl", count: 3, firstSeq: 2, lastSeq: 4, sha256: createHash("sha256").update(entryOf(entries, "rows.jsonl")).digest("hex") },
      anchor: { seq: 1, hash: all[0]!.hash },
      head: { seq: 4, hash: all[3]!.hash },
      signing: { algorithm: "Ed25519", keyId: auditSigner(getStore().masterKey).keyId, publicKey: pem() },
    });
    expect(entryOf(entries, "manifest.json").toString()).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
    // Nothing in it says when it was made.
    expect(bytes.toString("latin1")).not.toContain("2026-12-02");
  });

  it("is byte-identical when the same closed period is exported again, although each export is audited in the chain", async () => {
    await controlHistory();
    const first = await bundleOf(CONTROL, Q1);
    vi.setSystemTime(NOW + 60_000);
    const second = await bundleOf(CONTROL, Q1);
    expect(second.bytes.equals(first.bytes)).toBe(true);
    // The first entry's DOS time and date: 1980-01-01 00:00 (the CLI test makes bundles in other time zones).
    expect([first.bytes.readUInt16LE(10), first.bytes.readUInt16LE(12)]).toEqual([0, 0x21]);
    const exports = (await controlRows()).filter((row) => row.action === "audit.evidence_export");
    expect(exports).toHaveLength(2);
    expect(JSON.parse(exports[0]!.details)).toEqual({
      from: "2026-01-01",
      to: "2026-03-31",
      anchorSeq: 1,
      headSeq: 4,
      rows: 3,
      manifestSha256: createHash("sha256").update(entryOf(await readBundle(first.bytes), "manifest.json")).digest("hex"),
    });
    expect(exports[0]!.actorId).toBe("cli");
  });

  it("for a period ending today, changes only with the rows appended since — the previous export's own row among them", async () => {
    await controlHistory();
    const today = { from: "2026-12-01", to: "2026-12-02" };
    const first = await bundleOf(CONTROL, today);
    expect(first.manifest.rows.count).toBe(0);
    const second = await bundleOf(CONTROL, today);
    expect(second.manifest.rows.count).toBe(1);
    expect(lines(await readBundle(second.bytes))[0]).toContain('"action":"audit.evidence_export"');
  });

  it("of an empty period anchors at the last row before it, and the head is that anchor", async () => {
    await controlHistory();
    const all = await controlRows();
    const { bytes, manifest } = await bundleOf(CONTROL, { from: "2026-02-16", to: "2026-03-30" });
    expect(manifest.rows).toMatchObject({ count: 0, firstSeq: null, lastSeq: null });
    expect(manifest.anchor).toEqual({ seq: 3, hash: all[2]!.hash });
    expect(manifest.head).toEqual(manifest.anchor);
    expect(runVerifier(bytes, pem()).status).toBe(0);
    // Before anything was written: the genesis.
    expect((await bundleOf(CONTROL, { from: "2025-01-01", to: "2025-01-31" })).manifest.anchor).toEqual({ seq: 0, hash: "0".repeat(64) });
  });

  it("of a period that reaches back past a retention sweep starts at the oldest kept row, anchored at the retention anchor", async () => {
    await signInAt("2025-06-01T00:00:00Z");
    await signInAt("2025-06-02T00:00:00Z");
    await signInAt("2026-06-01T00:00:00Z");
    vi.setSystemTime(NOW);
    await sweepAuditRetention(NOW);
    const swept = await bundleOf(CONTROL, { from: "2025-06-01", to: "2026-06-30" });
    expect(swept.manifest.anchor.seq).toBe(2);
    expect(swept.manifest.rows).toMatchObject({ count: 1, firstSeq: 3 });
    expect(runVerifier(swept.bytes, pem())).toMatchObject({ status: 0 });
  });

  it("of a workspace's chain, through an audit grant, verifies; it is audited in that workspace's chain", async () => {
    vi.setSystemTime(Date.parse("2026-02-01T00:00:00Z"));
    const owner = await createUser({ email: "ada@example.com", password: "correct horse battery" });
    const workspace = await createWorkspace({ type: "user", userId: owner.id }, "Research");
    await auditWorkspace(workspace.id, { actor: { type: "user", id: owner.id }, action: "knowledge.delete", target: "kn_1" });
    vi.setSystemTime(NOW);
    const access = await authorize({ kind: "user", userId: owner.id }, workspace.id, "audit");
    const bundle = await workspaceEvidenceBundle(access, Q1);
    const { manifest, fileName } = bundle;
    const bytes = await buffer(bundle.stream);
    expect(manifest).toMatchObject({ chain: `workspace:${workspace.id}`, workspaceId: workspace.id, rows: { count: 2, firstSeq: 1 } });
    expect(fileName).toBe(`evidence-${workspace.id}-2026-01-01-2026-03-31.zip`);
    const verdict = runVerifier(bytes, pem());
    expect(verdict.status).toBe(0);
    expect(verdict.stdout).toContain(`chain      workspace:${workspace.id}`);
    const exported = await withWorkspace(workspace.id, async (db) => await db.db.select().from(workspaceAuditLog));
    expect(exported.map((row) => row.action)).toEqual(["workspace.create", "knowledge.delete", "audit.evidence_export"]);
    expect(exported[2]!.actorId).toBe(owner.id);
  });

  it("is refused, and nothing audited, when the chain in the period does not verify: a broken chain is never signed", async () => {
    await controlHistory();
    const control = await getControlDb();
    await control.db.run(sql`UPDATE audit_log SET actor_id = 'mallory' WHERE seq = 3`);
    await expect(buildEvidenceBundle(CONTROL, Q1)).rejects.toBeInstanceOf(AuditChainError);
    await control.db.run(sql`DELETE FROM audit_log WHERE seq = 3`);
    await expect(buildEvidenceBundle(CONTROL, Q1)).rejects.toThrow(/row 4|row 3/);
    expect((await controlRows()).some((row) => row.action === "audit.evidence_export")).toBe(false);
  });
});

describe("a bundle whose rows change between its two passes", () => {
  it("fails its download instead of delivering a bundle that contradicts its manifest", async () => {
    await controlHistory();
    const bundle = await buildEvidenceBundle(CONTROL, Q1);
    await (await getControlDb()).db.run(sql`UPDATE audit_log SET actor_id = 'mallory' WHERE seq = 3`);
    await expect(buffer(bundle.stream)).rejects.toThrow(/does not verify at row 3/);
    const again = await buildEvidenceBundle(CONTROL, { from: "2026-04-01", to: "2026-04-30" });
    await (await getControlDb()).db.run(sql`DELETE FROM audit_log WHERE seq = 5`);
    await expect(new Response(evidenceResponse(again).body).arrayBuffer()).rejects.toThrow();
  });
});

describe("the period", () => {
  it.each([
    [{ from: "2026-1-01", to: "2026-03-31" }, /YYYY-MM-DD/],
    [{ from: "2026-02-30", to: "2026-03-31" }, /not a calendar date/],
    [{ from: "2026-03-31", to: "2026-01-01" }, /ends before it starts/],
    [{ from: "2025-01-01", to: "2026-03-31" }, /at most 400 days/],
    [{ from: "2026-12-01", to: "2026-12-03" }, /future/],
  ])("%o is refused", (period, message) => {
    vi.setSystemTime(NOW);
    const result = evidencePeriodSchema.safeParse(period);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });

  it("of 400 days ending today is accepted", () => {
    vi.setSystemTime(NOW);
    expect(evidencePeriodSchema.safeParse({ from: "2025-10-29", to: "2026-12-02" }).success).toBe(true);
  });
});

describe("the standalone verifier", () => {
  let good: Buffer;
  let entries: BundleEntries;
  let rows: string[];
  beforeEach(async () => {
    await controlHistory();
    good = (await bundleOf(CONTROL, Q1)).bytes;
    entries = await readBundle(good);
    rows = lines(entries);
  });

  it("passes a good bundle, naming its chain, period, rows, anchor, head and key", async () => {
    const verdict = runVerifier(good, pem());
    expect(verdict).toMatchObject({ status: 0, stderr: "" });
    const manifest = manifestOf(entries);
    expect(verdict.stdout).toContain("OK: the evidence bundle is intact and signed by the given key");
    expect(verdict.stdout).toContain("rows       3 (seq 2 to 4)");
    expect(verdict.stdout).toContain(`anchor     1:${manifest.anchor.hash}`);
    expect(verdict.stdout).toContain(`head       4:${manifest.head.hash}`);
    expect(verdict.stdout).toContain(`signed by  ${manifest.signing.keyId}`);
    // Taken apart and put back together without data descriptors, it is still the same evidence.
    expect(runVerifier(await writeBundle(entries), pem()).status).toBe(0);
  });

  const changed = (all: string[]) => all.map((row, i) => (i === 1 ? row.replace('"actorId":"ada"', '"actorId":"eve"') : row));
  const tampering: [string, (all: string[]) => string[]][] = [
    ["a changed row", changed],
    ["reordered rows", (all) => [all[1]!, all[0]!, all[2]!]],
    ["a removed row", (all) => [all[0]!, all[2]!]],
    ["a removed last row", (all) => all.slice(0, 2)],
    ["an added row", (all) => [...all, all[2]!.replace('"seq":4', '"seq":5')]],
  ];

  it.each(tampering)("fails on %s with the manifest and signature left as they are", async (_name, tamper) => {
    const verdict = runVerifier(await writeBundle(replaceEntry(entries, "rows.jsonl", jsonl(tamper(rows)))), pem());
    expect(verdict.status).toBe(1);
    expect(verdict.stdout).toMatch(/^BAD BUNDLE: rows\.jsonl is not the file the manifest signed/);
  });

  it.each(tampering)("fails on %s with the manifest's rows hash updated to fit but the signature not", async (_name, tamper) => {
    const verdict = runVerifier(await writeBundle(withFittedManifest(entries, jsonl(tamper(rows)))), pem());
    expect(verdict.status).toBe(1);
    expect(verdict.stdout).toMatch(/^BAD BUNDLE: the signature does not match manifest\.json/);
  });

  it("fails with a wrong public key, and with a changed signature", async () => {
    const other = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(runVerifier(good, other)).toMatchObject({ status: 1, stdout: expect.stringMatching(/^BAD BUNDLE: signed by key \S+, not by the given key/) as string });

    const signature = JSON.parse(entryOf(entries, "signature.json").toString()) as { signature: string };
    const flipped = (signature.signature[5] === "A" ? "B" : "A") + "";
    const forged = { ...signature, signature: signature.signature.slice(0, 5) + flipped + signature.signature.slice(6) };
    const verdict = runVerifier(await writeBundle(replaceEntry(entries, "signature.json", Buffer.from(JSON.stringify(forged)))), pem());
    expect(verdict).toMatchObject({ status: 1, stdout: expect.stringMatching(/^BAD BUNDLE: the signature does not match manifest\.json/) as string });
  });

  it("fails when the signed manifest is changed in any way, even only in its spacing", async () => {
    const manifest = entryOf(entries, "manifest.json").toString();
    for (const edit of [manifest.replace('"count": 3', '"count": 2'), manifest.replace("\n", "\r\n"), `${manifest} `]) {
      expect(runVerifier(await writeBundle(replaceEntry(entries, "manifest.json", Buffer.from(edit))), pem()).status).toBe(1);
    }
  });

  it("replays the chain even when the manifest is genuinely signed: a non-canonical line, a bad hash, a broken link and a gap each fail", async () => {
    const [first, second, third] = rows.map((row) => JSON.parse(row) as AuditRow) as [AuditRow, AuditRow, AuditRow];
    const rehash = (row: AuditRow) => {
      const rest: Partial<AuditRow> = { ...row };
      delete rest.hash;
      return { ...row, hash: rowHash(rest as Omit<AuditRow, "hash">) };
    };
    const cases: [string[], RegExp, ((m: EvidenceManifest) => void)?][] = [
      [[JSON.stringify(first, null, 1).replace(/\n/g, ""), rows[1]!, rows[2]!], /line 1 is not in canonical/],
      [[rows[0]!, canonicalJson({ ...second, target: "forged" }), rows[2]!], /row 3: its hash does not match its contents/],
      // Re-hashed so the row itself is consistent, but its link to the row before is gone.
      [[rows[0]!, canonicalJson(rehash({ ...second, prevHash: "1".repeat(64) })), rows[2]!], /row 3: prevHash is not the hash of the row before it/],
      [[rows[0]!, rows[2]!], /line 2 is row 4, expected 3/],
      [[rows[0]!, rows[1]!], /rows\.jsonl holds 2 rows, the manifest 3/],
      [[rows[1]!, rows[2]!], /prevHash is not the hash of the row before it \(the manifest's anchor\)/, (m) => {
        m.anchor.seq = 2;
        m.rows.count = 2;
        m.rows.firstSeq = 3;
      }],
      [[rows[0]!, rows[1]!, canonicalJson({ ...third, extra: 1 })], /line 3 does not have exactly the audit row's fields/],
      [[rows[0]!, rows[1]!, canonicalJson({ ...third, at: 1.5 })], /line 3: at is not a string, an integer or null/],
    ];
    for (const [tampered, reason, change] of cases) {
      const verdict = runVerifier(await writeBundle(resigned(entries, jsonl(tampered), change)), pem());
      expect(verdict.status, String(reason)).toBe(1);
      expect(verdict.stdout).toMatch(reason);
    }
    // The untouched rows re-signed pass: the cases above failed for their own reasons.
    expect(runVerifier(await writeBundle(resigned(entries, jsonl(rows))), pem()).status).toBe(0);
  });

  it("refuses a ZIP that holds anything unexpected", async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([good, Buffer.from("x")]), /no ZIP end record/],
      [Buffer.concat([Buffer.from("junk"), good]), /does not start where the previous entry ends|central directory/],
      [await writeBundle([...entries, ["extra.txt", Buffer.from("hello")]]), /expected 3 entries, found 4/],
      [await writeBundle([entries[0]!, entries[1]!, entries[0]!]), /in that order/],
      [await writeBundle([entries[1]!, entries[0]!, entries[2]!]), /in that order/],
      [await writeBundle(entries, { compress: true }), /is compressed/],
      [good.subarray(0, good.length - 30), /no ZIP end record|truncated/],
      [Buffer.from("not a zip at all"), /not a ZIP|no ZIP end record/],
    ];
    for (const [bytes, reason] of cases) {
      const verdict = runVerifier(bytes, pem());
      expect(verdict.status, String(reason)).toBe(1);
      expect(verdict.stdout).toMatch(reason);
    }
  });

  it("answers a usage problem with exit 2", () => {
    expect(runVerifier(null, null, []).status).toBe(2);
    expect(runVerifier(good, pem(), ["only-a-bundle.zip"]).status).toBe(2);
    expect(runVerifier(null, null, ["/nonexistent.zip", "--public-key", "/nonexistent.pem"]).status).toBe(2);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    const verdict = runVerifier(good, rsa);
    expect(verdict.status).toBe(2);
    expect(verdict.stderr).toMatch(/not an Ed25519 public key/);
  });
});
