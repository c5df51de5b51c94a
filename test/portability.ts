import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";
import { authorize } from "@/lib/access/authorize";
import { OPERATOR } from "@/lib/access/principal";
import { exportWorkspace } from "@/lib/lifecycle/export";

/** Helpers for the export/import tests: archives written, read back, and re-made with changes. */

/** `enclave workspace export`'s lib call, into `file`. */
export async function exportToFile(workspaceId: string, file: string, onProgress?: (figures: { files: number; bytes: number }) => void) {
  const exported = await exportWorkspace(await authorize(OPERATOR, workspaceId, "audit"), onProgress);
  await pipeline(exported.stream, fs.createWriteStream(file));
  return exported.done;
}

export const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/**
 * A ZIP of `files` in order (written with yazl, as the exporter does). `manifest`: "recompute"
 * writes a manifest that matches the files (so only the change under test is wrong), "keep"
 * leaves the one among `files` as it is.
 */
export async function zipOf(file: string, files: [string, Buffer][], manifest: "recompute" | "keep" = "recompute"): Promise<void> {
  const zip = new yazl.ZipFile();
  const listed: { path: string; size: number; sha256: string }[] = [];
  for (const [name, bytes] of files) {
    if (name === "manifest.json" && manifest === "recompute") continue;
    zip.addBuffer(bytes, name);
    if (name !== "manifest.json") listed.push({ path: name, size: bytes.length, sha256: sha256(bytes) });
  }
  if (manifest === "recompute") {
    const body = { format: "enclave-export/1", kind: "workspace", createdAt: new Date().toISOString(), files: listed };
    zip.addBuffer(Buffer.from(JSON.stringify(body)), "manifest.json");
  }
  zip.end();
  await pipeline(zip.outputStream, fs.createWriteStream(file));
}

/** Rewrites entry names in a ZIP's bytes (local headers and central directory alike): for names yazl itself refuses to write. */
export function renameInZip(file: string, from: string, to: string): void {
  if (from.length !== to.length) throw new Error("renames must keep the length");
  const bytes = fs.readFileSync(file);
  const needle = Buffer.from(from);
  let at = bytes.indexOf(needle);
  if (at === -1) throw new Error(`${from} is not in ${path.basename(file)}`);
  while (at !== -1) {
    Buffer.from(to).copy(bytes, at);
    at = bytes.indexOf(needle, at + needle.length);
  }
  fs.writeFileSync(file, bytes);
}
