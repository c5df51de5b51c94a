import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { readZip } from "@/test/zip";
import { ArchiveWriter, startArchive, toWebStream } from "./archive";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Reads a Node stream to the end, into one buffer. */
async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe("the archive writer", () => {
  it("lets go of each entry's bytes once they are written (yazl keeps every entry until the end)", async () => {
    const archive = new ArchiveWriter(new Date());
    const read = collect(archive.output);
    const refs: WeakRef<Buffer>[] = [];
    for (let i = 0; i < 8; i++) {
      // In a function of its own, so this test holds no reference but the weak one.
      await (async () => {
        const bytes = Buffer.alloc(1024 * 1024, i);
        refs.push(new WeakRef(bytes));
        await archive.add(`file-${i}`, bytes, "store");
      })();
    }
    await nextTask();
    gc();
    await nextTask();
    gc();
    const alive = refs.filter((ref) => ref.deref() !== undefined).length;
    // The last one may still be on its way through yazl's pipes.
    expect(alive).toBeLessThanOrEqual(1);
    await archive.finish("workspace");
    const files = await readZip(await read);
    expect(files.get("file-7")!.equals(Buffer.alloc(1024 * 1024, 7))).toBe(true);
  });

  it("reads its sources only as fast as the web stream is read", async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        await Promise.resolve();
        produced += 1;
        yield Buffer.alloc(64 * 1024, produced % 256);
      }
    }
    let outcome = "";
    const stream = startArchive({
      kind: "workspace",
      readme: "test",
      createdAt: new Date(),
      write: async (archive) => {
        await archive.add("endless.bin", endless(), "store");
      },
      settle: (result) => {
        outcome = result;
        return Promise.resolve();
      },
    });
    const reader = toWebStream(stream).getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // A few 64 KiB chunks sit in yazl's and Node's stream buffers; an unbounded writer would have made thousands.
    expect(produced).toBeLessThan(40);
    await reader.cancel();
    for (let i = 0; i < 50 && outcome === ""; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(outcome).toBe("aborted");
    const before = produced;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(produced).toBe(before);
  });

  it("fails the stream, and settles as failed, when a source throws", async () => {
    let outcome = "";
    async function* broken(): AsyncGenerator<Buffer> {
      yield await Promise.resolve(Buffer.from("some bytes"));
      throw new Error("the disk went away");
    }
    const stream = startArchive({
      kind: "workspace",
      readme: "test",
      createdAt: new Date(),
      write: async (archive) => {
        await archive.add("broken.txt", broken());
      },
      settle: (result) => {
        outcome = result;
        return Promise.resolve();
      },
    });
    await expect(collect(stream)).rejects.toThrow(/the disk went away/);
    for (let i = 0; i < 50 && outcome === ""; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(outcome).toBe("failed");
  });
});
