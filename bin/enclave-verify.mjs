#!/usr/bin/env node
// enclave-verify: checks an Enclave audit evidence bundle offline, trusting nothing but the
// public key it is given (from `enclave audit public-key`, obtained out of band).
//
//   node bin/enclave-verify.mjs ev.zip --public-key audit-key.pem
//
// Exit 0: the bundle is intact. 1: it is not (the verdict says why). 2: usage.
//
// Node's own modules only, no database, nothing from the Enclave code base, so that it can be
// read in one sitting. It checks, in this order, each step trusting only what the previous
// one proved:
//   1. the ZIP holds exactly manifest.json, rows.jsonl and signature.json, stored (not
//      compressed), laid end to end with nothing hidden between, before or after them;
//   2. signature.json is an Ed25519 signature by the given key over manifest.json's bytes;
//   3. rows.jsonl has the SHA-256 the manifest names;
//   4. replaying the chain: each line is one row in RFC 8785 (JCS) form, its `hash` is the
//      SHA-256 of the JCS of the row without `hash`, its `prevHash` is the previous row's hash
//      (the first one's, the manifest's anchor), seqs are consecutive, and the last row is the
//      manifest's head.
// ZIP CRCs are not checked: every byte that matters is covered by the signature or by the
// SHA-256 in the signed manifest, which are stronger.
import { createHash, createPublicKey, verify } from "node:crypto";
import fs from "node:fs";
import { parseArgs } from "node:util";

const USAGE = "usage: node bin/enclave-verify.mjs <bundle.zip> --public-key <key.pem>";
const FORMAT = "enclave-audit-evidence/1";
const ENTRIES = ["manifest.json", "rows.jsonl", "signature.json"];
// The columns of an audit row, sorted as JCS sorts them.
const ROW_FIELDS = ["action", "actorId", "actorType", "at", "details", "hash", "ip", "prevHash", "requestId", "seq", "target", "userAgent"];
const HEX64 = /^[0-9a-f]{64}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 60 * 60 * 1000;
const CHUNK = 1 << 20;

class BadBundle extends Error {}
function bad(message) {
  throw new BadBundle(message);
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
// ignoreBOM keeps a byte-order mark in the text, where it makes the line fail to parse, instead of dropping it silently.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
function text(bytes, what) {
  try {
    return utf8.decode(bytes);
  } catch {
    bad(`${what} is not valid UTF-8`);
  }
}
function json(source, what) {
  try {
    return JSON.parse(source);
  } catch {
    bad(`${what} is not JSON`);
  }
}

// ---- 1. the ZIP: a reader for exactly what the exporter writes, refusing anything else ----

const SIG = { local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, descriptor: 0x08074b50 };
const FLAG_DESCRIPTOR = 0x0008; // sizes and CRC follow the data (the exporter streams rows.jsonl)
const FLAG_UTF8 = 0x0800;

function readAt(fd, position, length) {
  const buffer = Buffer.alloc(length);
  if (fs.readSync(fd, buffer, 0, length, position) !== length) bad("the ZIP is truncated");
  return buffer;
}

function readEntries(fd) {
  const size = fs.fstatSync(fd).size;
  // No archive comment: the end record is the last 22 bytes, exactly.
  if (size < 22) bad("not a ZIP: too short");
  const end = readAt(fd, size - 22, 22);
  if (end.readUInt32LE(0) !== SIG.end) bad("no ZIP end record in the last 22 bytes (a comment, trailing bytes, or not a ZIP)");
  const [disk, directoryDisk, onDisk, total] = [4, 6, 8, 10].map((at) => end.readUInt16LE(at));
  const directorySize = end.readUInt32LE(12);
  const directoryOffset = end.readUInt32LE(16);
  if (disk !== 0 || directoryDisk !== 0 || onDisk !== total) bad("a multi-disk ZIP");
  if (total !== ENTRIES.length) bad(`expected ${ENTRIES.length} entries, found ${total}`);
  if (directoryOffset + directorySize !== size - 22) bad("the central directory does not end where the end record begins");

  const directory = readAt(fd, directoryOffset, directorySize);
  const entries = [];
  let at = 0;
  for (let i = 0; i < total; i++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== SIG.central) bad("a malformed central directory");
    const entry = {
      flags: directory.readUInt16LE(at + 8),
      method: directory.readUInt16LE(at + 10),
      crc: directory.readUInt32LE(at + 16),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      nameLength: directory.readUInt16LE(at + 28),
      extraLength: directory.readUInt16LE(at + 30),
      commentLength: directory.readUInt16LE(at + 32),
      diskStart: directory.readUInt16LE(at + 34),
      offset: directory.readUInt32LE(at + 42),
    };
    if (at + 46 + entry.nameLength > directory.length) bad("a malformed central directory");
    entry.nameBytes = directory.subarray(at + 46, at + 46 + entry.nameLength);
    entry.name = text(entry.nameBytes, "an entry name");
    at += 46 + entry.nameLength + entry.extraLength + entry.commentLength;
    if ((entry.flags & ~(FLAG_DESCRIPTOR | FLAG_UTF8)) !== 0) bad(`${entry.name} uses ZIP features this format never does (encryption, …)`);
    if (entry.method !== 0) bad(`${entry.name} is compressed; bundles store their entries as they are`);
    if (entry.compressedSize !== entry.size) bad(`${entry.name}: its stored and original sizes differ`);
    if (entry.extraLength !== 0 || entry.commentLength !== 0 || entry.diskStart !== 0) bad(`${entry.name} has extra fields or a comment (ZIP64?)`);
    entries.push(entry);
  }
  if (at !== directory.length) bad("the central directory has bytes past its last entry");
  const names = entries.map((entry) => entry.name);
  if (names.join("\n") !== ENTRIES.join("\n")) bad(`expected the entries ${ENTRIES.join(", ")} in that order, found ${names.join(", ")}`);

  // The entries lie back to back from byte 0, each local header agreeing with the directory, then the directory.
  let expected = 0;
  for (const entry of entries) {
    if (entry.offset !== expected) bad(`${entry.name} does not start where the previous entry ends`);
    const header = readAt(fd, entry.offset, 30);
    if (header.readUInt32LE(0) !== SIG.local) bad(`${entry.name}: no local header where the directory says`);
    const streamed = (entry.flags & FLAG_DESCRIPTOR) !== 0;
    const [crc, compressedSize, size] = [14, 18, 22].map((offset) => header.readUInt32LE(offset));
    const sizesAgree = streamed ? crc === 0 && compressedSize === 0 && size === 0 : crc === entry.crc && compressedSize === entry.size && size === entry.size;
    if (header.readUInt16LE(6) !== entry.flags || header.readUInt16LE(8) !== entry.method || !sizesAgree) bad(`${entry.name}: its local header disagrees with the central directory`);
    if (header.readUInt16LE(26) !== entry.nameLength || header.readUInt16LE(28) !== 0) bad(`${entry.name}: its local header disagrees with the central directory`);
    if (!readAt(fd, entry.offset + 30, entry.nameLength).equals(entry.nameBytes)) bad(`${entry.name}: its local header names another file`);
    entry.dataOffset = entry.offset + 30 + entry.nameLength;
    expected = entry.dataOffset + entry.size;
    if (streamed) {
      const descriptor = readAt(fd, expected, 16);
      const agrees = descriptor.readUInt32LE(0) === SIG.descriptor && descriptor.readUInt32LE(4) === entry.crc && descriptor.readUInt32LE(8) === entry.size && descriptor.readUInt32LE(12) === entry.size;
      if (!agrees) bad(`${entry.name}: its data descriptor disagrees with the central directory`);
      expected += 16;
    }
  }
  if (expected !== directoryOffset) bad("there are bytes between the last entry and the central directory");
  return Object.fromEntries(entries.map((entry) => [entry.name, entry]));
}

function readSmall(fd, entry, limit) {
  if (entry.size > limit) bad(`${entry.name} is larger than ${limit} bytes`);
  return readAt(fd, entry.dataOffset, entry.size);
}

/** Calls `fn` with each chunk of an entry's data, so a large rows.jsonl is never whole in memory. */
function forEachChunk(fd, entry, fn) {
  for (let done = 0; done < entry.size; ) {
    const chunk = readAt(fd, entry.dataOffset + done, Math.min(CHUNK, entry.size - done));
    fn(chunk);
    done += chunk.length;
  }
}

// ---- 2. the signature over manifest.json ----

/** RFC 7638 thumbprint of the Ed25519 key, as Enclave names its audit key. */
function keyIdOf(publicKey) {
  const { crv, kty, x } = publicKey.export({ format: "jwk" });
  return createHash("sha256").update(JSON.stringify({ crv, kty, x })).digest("base64url");
}

function checkSignature(manifestBytes, signatureBytes, publicKey) {
  const signed = json(text(signatureBytes, "signature.json"), "signature.json");
  if (signed?.algorithm !== "Ed25519" || signed.signs !== "manifest.json" || typeof signed.signature !== "string") bad("signature.json is not an Ed25519 signature of manifest.json");
  const keyId = keyIdOf(publicKey);
  if (signed.keyId !== keyId) bad(`signed by key ${signed.keyId}, not by the given key (${keyId})`);
  const signature = Buffer.from(signed.signature, "base64url");
  // Node's base64url decoder skips stray characters: only the exact text of 64 bytes counts.
  if (signature.length !== 64 || signature.toString("base64url") !== signed.signature) bad("the signature is not 64 bytes of base64url");
  if (!verify(null, manifestBytes, publicKey, signature)) bad("the signature does not match manifest.json (it was changed, or signed by another key)");
  return keyId;
}

// ---- the manifest, now trusted, checked for sense ----

const isSeq = (value) => Number.isSafeInteger(value) && value >= 0;
const isPoint = (value) => isSeq(value?.seq) && typeof value.hash === "string" && HEX64.test(value.hash);

function checkManifest(manifestBytes, keyId) {
  const m = json(text(manifestBytes, "manifest.json"), "manifest.json");
  if (m?.format !== FORMAT) bad(`manifest.json is not format ${FORMAT}`);
  const chainFits = m.chain === "control" ? m.workspaceId === null : typeof m.workspaceId === "string" && m.chain === `workspace:${m.workspaceId}`;
  if (!chainFits) bad("manifest.json: chain and workspaceId do not agree");
  if (!DAY.test(m.period?.from) || !DAY.test(m.period?.to) || m.period.from > m.period.to) bad("manifest.json: the period is not two dates in order");
  if (!isPoint(m.anchor) || !isPoint(m.head)) bad("manifest.json: anchor and head must each be a seq and a SHA-256 hash");
  const rows = m.rows;
  if (rows?.file !== "rows.jsonl" || !isSeq(rows.count) || typeof rows.sha256 !== "string" || !HEX64.test(rows.sha256)) bad("manifest.json: rows is malformed");
  if (m.head.seq - m.anchor.seq !== rows.count) bad("manifest.json: the row count is not the distance from anchor to head");
  const ends = rows.count === 0 ? [null, null] : [m.anchor.seq + 1, m.head.seq];
  if (rows.firstSeq !== ends[0] || rows.lastSeq !== ends[1]) bad("manifest.json: firstSeq and lastSeq do not follow from anchor and head");
  if (rows.count === 0 && m.head.hash !== m.anchor.hash) bad("manifest.json: an empty period must end where it starts");
  if (m.signing?.keyId !== keyId) bad("manifest.json names another signing key");
  return m;
}

// ---- 3 and 4. rows.jsonl: its hash, then the chain replayed line by line ----

/** JCS for what a row may hold (strings, integers, null; flat): JSON.stringify with the keys sorted. */
function canonical(row) {
  return JSON.stringify(row, Object.keys(row).sort());
}

function checkRows(fd, entry, manifest) {
  const digest = createHash("sha256");
  forEachChunk(fd, entry, (chunk) => digest.update(chunk));
  if (digest.digest("hex") !== manifest.rows.sha256) bad("rows.jsonl is not the file the manifest signed (a row changed, added, removed or moved)");

  const from = Date.parse(`${manifest.period.from}T00:00:00Z`);
  const end = Date.parse(`${manifest.period.to}T00:00:00Z`) + DAY_MS;
  let previous = manifest.anchor;
  let line = 0;
  let pending = Buffer.alloc(0);
  const replay = (bytes) => {
    line += 1;
    const source = text(bytes, `line ${line}`);
    const row = json(source, `line ${line}`);
    if (typeof row !== "object" || row === null || Array.isArray(row)) bad(`line ${line} is not an object`);
    if (Object.keys(row).sort().join() !== ROW_FIELDS.join()) bad(`line ${line} does not have exactly the audit row's fields`);
    for (const [field, value] of Object.entries(row)) {
      if (!(value === null || typeof value === "string" || Number.isSafeInteger(value))) bad(`line ${line}: ${field} is not a string, an integer or null`);
    }
    if (canonical(row) !== source) bad(`line ${line} is not in canonical (RFC 8785) form`);
    if (!isSeq(row.seq) || !Number.isSafeInteger(row.at) || typeof row.hash !== "string" || !HEX64.test(row.hash)) bad(`line ${line}: seq, at or hash is malformed`);
    const { hash, ...rest } = row;
    if (row.seq !== previous.seq + 1) bad(`line ${line} is row ${row.seq}, expected ${previous.seq + 1}`);
    if (row.prevHash !== previous.hash) bad(`row ${row.seq}: prevHash is not the hash of the row before it${line === 1 ? " (the manifest's anchor)" : ""}`);
    if (sha256(canonical(rest)) !== hash) bad(`row ${row.seq}: its hash does not match its contents`);
    if (line === 1 && row.at < from) bad(`row ${row.seq}, the first, is stamped before the period`);
    previous = { seq: row.seq, hash, at: row.at };
  };
  forEachChunk(fd, entry, (chunk) => {
    let data = Buffer.concat([pending, chunk]);
    for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a)) {
      replay(data.subarray(0, newline));
      data = data.subarray(newline + 1);
    }
    pending = data;
  });
  if (pending.length > 0) bad("rows.jsonl does not end with a newline");
  if (line !== manifest.rows.count) bad(`rows.jsonl holds ${line} rows, the manifest ${manifest.rows.count}`);
  if (previous.seq !== manifest.head.seq || previous.hash !== manifest.head.hash) bad("the last row is not the manifest's head");
  if (line > 0 && previous.at >= end) bad(`row ${previous.seq}, the last, is stamped after the period`);
}

// ---- the command ----

function run(argv) {
  let args;
  try {
    args = parseArgs({ args: argv, options: { "public-key": { type: "string" } }, allowPositionals: true, strict: true });
  } catch (error) {
    return usage(error.message);
  }
  const keyFile = args.values["public-key"];
  if (args.positionals.length !== 1 || !keyFile) return usage("give one bundle and --public-key");
  let publicKey;
  try {
    publicKey = createPublicKey(fs.readFileSync(keyFile));
  } catch (error) {
    return usage(`cannot read the public key ${keyFile}: ${error.message}`);
  }
  if (publicKey.asymmetricKeyType !== "ed25519") return usage(`${keyFile} is not an Ed25519 public key`);
  let fd;
  try {
    fd = fs.openSync(args.positionals[0], "r");
  } catch (error) {
    return usage(`cannot open ${args.positionals[0]}: ${error.message}`);
  }
  try {
    const entries = readEntries(fd);
    const manifestBytes = readSmall(fd, entries["manifest.json"], 64 * 1024);
    const keyId = checkSignature(manifestBytes, readSmall(fd, entries["signature.json"], 4 * 1024), publicKey);
    const manifest = checkManifest(manifestBytes, keyId);
    checkRows(fd, entries["rows.jsonl"], manifest);
    const { rows, anchor, head, period } = manifest;
    console.log("OK: the evidence bundle is intact and signed by the given key");
    console.log(`  chain      ${manifest.chain}`);
    console.log(`  period     ${period.from} to ${period.to} (UTC days, both included)`);
    console.log(`  rows       ${rows.count}${rows.count > 0 ? ` (seq ${rows.firstSeq} to ${rows.lastSeq})` : ""}`);
    console.log(`  anchor     ${anchor.seq}:${anchor.hash}`);
    console.log(`  head       ${head.seq}:${head.hash}`);
    console.log(`  signed by  ${keyId}`);
    return 0;
  } catch (error) {
    if (!(error instanceof BadBundle)) throw error;
    console.log(`BAD BUNDLE: ${error.message}`);
    return 1;
  } finally {
    fs.closeSync(fd);
  }
}

function usage(problem) {
  console.error(`enclave-verify: ${problem}\n${USAGE}`);
  return 2;
}

process.exitCode = run(process.argv.slice(2));
