import { spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomInt, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mintSecret, SECRET_PREFIXES, type SecretKind } from "@/lib/crypto/secrets";
import { ALLOW_MARKER, scanChunks, scanFile } from "@/lib/workspace/secret-scan";
import { secretSamples } from "./secrets";
import { makeTempDir } from "./store";

/**
 * `enclave scan` and the library under it. Every fixture is assembled here at run time from
 * random bytes (test/secrets.ts, mintSecret), so no real-looking secret sits in the repository
 * for this scanner, or anyone else's, to trip on.
 */
const dir = makeTempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, `${fileCount++}-${name}`);
  fs.writeFileSync(file, content);
  return file;
}

function enclaveScan(...files: string[]) {
  const result = spawnSync(process.execPath, ["bin/enclave.mjs", "scan", ...files], {
    env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_CLI_CWD: dir },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const randomFrom = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
const awsKeyId = () => "AKIA" + randomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
const githubToken = () => "ghp_" + randomFrom(ALNUM, 36);
const privateKey = () => (generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string).trim();
const lineOf = (text: string, secret: string) => text.slice(0, text.indexOf(secret)).split("\n").length;

describe("what the scan finds", () => {
  // Two lines before each sample, so line numbers are tested rather than assumed to be 1.
  const header = "# config\n\n";
  const shaped = secretSamples.filter((sample) => sample.kind !== "generic_secret");

  it.each(secretSamples.map((sample, index) => ({ ...sample, index })))("$kind sample $index in a text file, at its line", async ({ kind, secret, text }) => {
    const file = write("notes.txt", header + text + "\n");
    const scan = await scanFile(file);
    expect(scan).toEqual({ file, binary: false, findings: [{ line: 2 + lineOf(text, secret), kind }] });
  });

  it("finds every shape-based kind in source code too, but reads `password: x` there as code", async () => {
    const lines = shaped.map((sample) => JSON.stringify(sample.text) + ",");
    const source = ["export const fixtures = [", ...lines, "];", "const login = { password: fx.admin, token: request.headers.get(name) };"].join("\n");
    const findings = (await scanFile(write("fixtures.ts", source))).findings;
    expect(findings).toEqual(shaped.map((sample, index) => ({ line: index + 2, kind: sample.kind })).sort((a, b) => a.line - b.line));
  });

  it("reads the same assignment as a secret in a .env file and as code in a .ts file", async () => {
    const value = randomFrom(ALNUM, 20) + "#9a";
    expect((await scanFile(write("deploy.env", `DB_PASSWORD=${value}\n`))).findings).toEqual([{ line: 1, kind: "generic_secret" }]);
    expect((await scanFile(write("deploy.ts", `const DB_PASSWORD="${value}";\n`))).findings).toEqual([]);
  });

  it("does not report a credential built from a variable, and does report it written out", async () => {
    const password = randomFrom(ALNUM, 16) + "!x9";
    const text = ["const url = `postgres://app:${password}@db:5432/app`;", "TOKEN=$CI_TOKEN", `const url = "postgres://app:${password}@db:5432/app";`].join("\n");
    expect((await scanFile(write("db.ts", text))).findings).toEqual([{ line: 3, kind: "connection_string_password" }]);
  });

  it(`skips only the line that carries "${ALLOW_MARKER}"`, async () => {
    const text = [`example = "${githubToken()}" # ${ALLOW_MARKER}`, `leaked = "${githubToken()}"`].join("\n");
    expect((await scanFile(write("docs.md", text))).findings).toEqual([{ line: 2, kind: "github_token" }]);
  });

  it("reports two kinds on one line once each, and one kind twice on a line once", async () => {
    const text = `keys ${awsKeyId()} ${githubToken()} ${githubToken()}\n`;
    expect((await scanFile(write("two.txt", text))).findings).toEqual([
      { line: 1, kind: "aws_access_key_id" },
      { line: 1, kind: "github_token" },
    ]);
  });

  it("skips a binary file (a NUL in its first 8 KiB), secret or not", async () => {
    const file = write("blob.bin", Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]), Buffer.from(`\n${githubToken()}\n`)]));
    expect(await scanFile(file)).toEqual({ file, binary: true, findings: [] });
  });

  it("finds nothing in a clean file", async () => {
    const text = `commit ${randomBytes(20).toString("hex")}\nid ${randomUUID()}\npassword: changeme\n`;
    expect((await scanFile(write("clean.txt", text))).findings).toEqual([]);
  });
});

describe("a large file is read in bounded windows", () => {
  const filler = (lines: number) => Array.from({ length: lines }, (_, i) => `line ${i} of ordinary text, nothing to see here.`).join("\n") + "\n";

  it("finds secrets across window edges, at their exact lines, however the chunks are cut", async () => {
    const pem = privateKey();
    const token = githubToken();
    const aws = awsKeyId();
    // Windows are cut every 2^20 characters: the PEM block straddles the first edge and the token the second.
    const padTo = (text: string, length: number) => {
      let padded = text;
      while (padded.length + 21 <= length) padded += "more ordinary text.\n";
      return padded + " ".repeat(length - padded.length - 1) + "\n";
    };
    const upToToken = padTo(padTo(filler(20_000), 2 ** 20 - 60) + pem + "\n" + filler(20_000), 2 * 2 ** 20 - 20);
    const text = upToToken + `${token}\n` + filler(10) + aws;
    expect(text.indexOf(token)).toBe(2 * 2 ** 20 - 20);
    const expected = [
      { line: lineOf(text, pem), kind: "private_key" },
      { line: lineOf(text, token), kind: "github_token" },
      { line: lineOf(text, aws), kind: "aws_access_key_id" },
    ];
    expect(Math.abs(text.indexOf(pem) - 2 ** 20)).toBeLessThan(pem.length);
    for (const size of [1, 4093, 65_536, 2 ** 20, text.length]) {
      const chunks = function* () {
        // One-character chunks only over the region around the first edge: the whole text one character at a time would take minutes.
        if (size === 1) {
          yield text.slice(0, 2 ** 20 - 2000);
          for (let at = 2 ** 20 - 2000; at < 2 ** 20 + 2000; at++) yield text[at]!;
          yield text.slice(2 ** 20 + 2000);
          return;
        }
        for (let at = 0; at < text.length; at += size) yield text.slice(at, at + size);
      };
      expect(await scanChunks(chunks(), { sourceCode: false })).toEqual(expected);
    }
    const file = write("big.log", text);
    expect((await scanFile(file)).findings).toEqual(expected);
  });
});

describe("enclave scan", () => {
  const enclaveTokens = (Object.keys(SECRET_PREFIXES) as SecretKind[]).map((kind) => ({ kind, secret: mintSecret(kind).secret }));

  it("exits 1 and prints FILE:LINE: KIND for an AWS key, a GitHub token, a private key and every kind of Enclave token, never the secret", () => {
    const aws = awsKeyId();
    const github = githubToken();
    const pem = privateKey();
    const config = write("ci.yml", `env:\n  AWS_ACCESS_KEY_ID: ${aws}\n  GITHUB_TOKEN: ${github}\n`);
    const key = write("id_ed25519", `${pem}\n`);
    const tokens = write("tokens.ts", enclaveTokens.map(({ kind, secret }) => `export const ${kind} = "${secret}";`).join("\n"));
    const clean = write("clean.md", "# Nothing here\n");
    const result = enclaveScan(path.basename(config), path.basename(key), path.basename(tokens), path.basename(clean));
    expect(result.status).toBe(1);
    expect(result.stdout.trim().split("\n")).toEqual([
      `${path.basename(config)}:2: aws_access_key_id`,
      `${path.basename(config)}:3: github_token`,
      `${path.basename(key)}:1: private_key`,
      ...enclaveTokens.map((_, index) => `${path.basename(tokens)}:${index + 1}: enclave_token`),
    ]);
    expect(result.stderr).toMatch(/\d+ secret\(s\) in 4 file\(s\)/);
    for (const secret of [aws, github, pem.split("\n")[1]!, ...enclaveTokens.map((token) => token.secret)]) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
  });

  it("exits 0 on clean files and counts the binary ones it skipped", () => {
    const clean = write("readme.txt", "Deploy with `npm start`.\n");
    const binary = write("image.png", Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]), Buffer.from(githubToken())]));
    const result = enclaveScan(clean, binary);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/no secrets in 2 file\(s\) \(1 binary skipped\)/);
  });

  it("refuses a missing file, a directory, an unknown option or no file at all (exit 2), scanning nothing", () => {
    const leaky = write("leaky.txt", githubToken());
    for (const args of [[leaky, path.join(dir, "missing.txt")], [leaky, dir], ["--all", leaky], []]) {
      const result = enclaveScan(...args);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe("");
    }
  });

  it("takes a file named like an option after --", () => {
    const file = path.join(dir, "-dash.txt");
    fs.writeFileSync(file, githubToken());
    const result = enclaveScan("--", "-dash.txt");
    expect(result.status).toBe(1);
    expect(result.stdout.trim()).toBe("-dash.txt:1: github_token");
  });
});
