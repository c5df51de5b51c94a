import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import yauzl from "yauzl";
import { ZipFile } from "yazl";
import { makeTempDir } from "./store";

/** Helpers for evidence bundle tests: take a bundle apart with yauzl, put one together with yazl, run the standalone verifier on it. */

export type BundleEntries = [name: string, bytes: Buffer][];

export async function readBundle(bytes: Buffer): Promise<BundleEntries> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true });
  const entries: BundleEntries = [];
  for await (const entry of zip.eachEntry()) entries.push([entry.fileName, await buffer(await zip.openReadStreamPromise(entry))]);
  return entries;
}

/** A ZIP of `entries` as given (yazl, stored unless `compress`): the bundle as someone who took it apart might put it back. */
export async function writeBundle(entries: BundleEntries, options: { compress?: boolean } = {}): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(bytes, name, { compress: options.compress ?? false, mtime: new Date(1980, 0, 1), mode: 0o100644, forceDosTimestamp: true });
  zip.end();
  return buffer(zip.outputStream as Readable);
}

export const entryOf = (entries: BundleEntries, name: string): Buffer => entries.find(([entryName]) => entryName === name)![1];
export const replaceEntry = (entries: BundleEntries, name: string, bytes: Buffer): BundleEntries =>
  entries.map(([entryName, old]) => [entryName, entryName === name ? bytes : old]);

const scratch = makeTempDir();

/** `node bin/enclave-verify.mjs <bundle> --public-key <pem>`, on bytes written to a scratch file (or with `args` as given). */
export function runVerifier(bundle: Buffer | null, publicKeyPem: string | null, args?: string[]) {
  const name = `${Math.random().toString(36).slice(2)}`;
  const bundleFile = path.join(scratch, `${name}.zip`);
  const keyFile = path.join(scratch, `${name}.pem`);
  if (bundle) fs.writeFileSync(bundleFile, bundle);
  if (publicKeyPem !== null) fs.writeFileSync(keyFile, publicKeyPem);
  const result = spawnSync(process.execPath, ["bin/enclave-verify.mjs", ...(args ?? [bundleFile, "--public-key", keyFile])], {
    env: { PATH: process.env.PATH, NODE_ENV: "test" },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}
