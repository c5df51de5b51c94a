import yauzl from "yauzl";

/** Every file entry of a ZIP, by path, read with yauzl (the reader the import uses too). */
export async function readZip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(bytes, { strictFileNames: true });
  const files = new Map<string, Buffer>();
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.endsWith("/")) continue;
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    if (files.has(entry.fileName)) throw new Error(`${entry.fileName} is in the archive twice`);
    files.set(entry.fileName, Buffer.concat(chunks));
  }
  return files;
}

/** The lines of a JSON Lines file, parsed. */
export function jsonLinesOf<T = Record<string, unknown>>(bytes: Buffer | undefined): T[] {
  if (bytes === undefined) throw new Error("no such file in the archive");
  return bytes
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as T);
}
