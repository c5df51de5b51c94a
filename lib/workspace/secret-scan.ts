import fs from "node:fs";
import { defaultPolicy, findSecrets } from "./redaction";
import { VARIABLE_REFERENCE } from "./secret-detectors";

/**
 * `enclave scan` (and the pre-commit hook): the secrets in files, found with exactly the
 * detectors redaction uses at `standard` (secret-patterns.ts), so there is one list of secret
 * shapes. A finding names the file, the line and the kind, never the secret.
 *
 * Bounded: a file is read in windows of WINDOW characters, each scanned with the last OVERLAP
 * characters of the one before it, so memory stays flat whatever the file's size and a secret
 * across a window's edge is still seen whole (the longest built-in shape, a PEM block, is at
 * most 16 KiB: secret-patterns.ts). A file whose first 8 KiB hold a NUL byte is binary (git's
 * own test) and skipped: the detectors read text.
 *
 * What it reports: every shape-based kind of `standard` (PEM private keys, provider tokens —
 * AWS, GitHub, every kind of Enclave token, … —, values known by the name in front of them,
 * URL passwords), in every file; the context-only `generic_secret` rule (`DB_PASSWORD=…`) in
 * every file but JavaScript/TypeScript source: there it reads `token: fx.admin` or `password:
 * z.string()` as a value (200 false findings over this repository), while in a .env, YAML, JSON
 * or shell file an assignment is a value. Never a value that is an interpolation or a variable
 * (`https://u:${s}@host`, `TOKEN=$CI_TOKEN`): that builds a credential, it is not one.
 *
 * A line that carries `enclave-scan: allow` is not reported: for a test fixture or a document
 * that must show a secret's shape. The marker sits on the line itself, so the exception is
 * seen in review next to what it excuses.
 */
export type ScanFinding = { line: number; kind: string };
export type FileScan = { file: string; binary: boolean; findings: ScanFinding[] };

export const ALLOW_MARKER = "enclave-scan: allow";
const WINDOW = 1 << 20;
const OVERLAP = 32 * 1024;
const BINARY_PROBE = 8 * 1024;

const SOURCE_CODE = /\.(?:[cm]?[jt]s|[jt]sx)$/i;
export type ScanOptions = { sourceCode: boolean };

/** Findings in one piece of text, lines counted from `firstLine`. */
function scanWindow(text: string, firstLine: number, options: ScanOptions, seen: Set<string>, findings: ScanFinding[]): void {
  const spans = findSecrets(text, defaultPolicy).filter(
    (span) => !(options.sourceCode && span.kind === "generic_secret") && !VARIABLE_REFERENCE.test(text.slice(span.start, span.end)),
  );
  if (spans.length === 0) return;
  let line = firstLine;
  let cursor = 0;
  for (const span of spans) {
    for (let at = text.indexOf("\n", cursor); at !== -1 && at < span.start; at = text.indexOf("\n", at + 1)) line += 1;
    cursor = span.start;
    const lineStart = text.lastIndexOf("\n", span.start - 1) + 1;
    const lineEnd = text.indexOf("\n", span.start);
    if (text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).includes(ALLOW_MARKER)) continue;
    const key = `${line}:${span.kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push({ line, kind: span.kind });
  }
}

function countLines(text: string): number {
  let lines = 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) lines += 1;
  return lines;
}

/** Scans text arriving in pieces of any size (a file stream): windows of WINDOW characters plus the OVERLAP before each. */
export async function scanChunks(chunks: AsyncIterable<string> | Iterable<string>, options: ScanOptions): Promise<ScanFinding[]> {
  const findings: ScanFinding[] = [];
  const seen = new Set<string>();
  let carry = ""; // the tail of the last window scanned, seen again at the head of the next
  let pending = "";
  let carryFirstLine = 1;
  const flush = () => {
    const text = carry + pending;
    scanWindow(text, carryFirstLine, options, seen, findings);
    // Line numbers stay exact wherever the cut falls: the carry's first line is the one the cut is in.
    const cut = Math.max(0, text.length - OVERLAP);
    carryFirstLine += countLines(text.slice(0, cut));
    carry = text.slice(cut);
    pending = "";
  };
  for await (const chunk of chunks) {
    pending += chunk;
    while (pending.length >= WINDOW) {
      const rest = pending.slice(WINDOW);
      pending = pending.slice(0, WINDOW);
      flush();
      pending = rest;
    }
  }
  if (pending.length > 0) flush();
  return findings.sort((a, b) => a.line - b.line || a.kind.localeCompare(b.kind));
}

function looksBinary(file: string): boolean {
  const probe = Buffer.alloc(BINARY_PROBE);
  const fd = fs.openSync(file, "r");
  try {
    return probe.subarray(0, fs.readSync(fd, probe, 0, BINARY_PROBE, 0)).includes(0);
  } finally {
    fs.closeSync(fd);
  }
}

export async function scanFile(file: string): Promise<FileScan> {
  if (looksBinary(file)) return { file, binary: true, findings: [] };
  const stream = fs.createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 });
  return { file, binary: false, findings: await scanChunks(stream as AsyncIterable<string>, { sourceCode: SOURCE_CODE.test(file) }) };
}
