import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { ZipFile } from "yazl";
import { logger } from "../log/logger";
import { EXPORT_FORMAT, jsonLine, MANIFEST_FILE, README_FILE, type Manifest } from "./export-format";

/**
 * A ZIP archive written as it is read: yazl streams each entry from a source that is only
 * pulled when the reader has taken the previous bytes (yazl pipes entries one at a time, with
 * backpressure), so memory holds a chunk or one artifact, never the archive. The SHA-256 and
 * size of every entry are counted on the way through and written last, in manifest.json.
 */
export type ArchiveKind = Manifest["kind"];
export type ArchiveFigures = { files: number; bytes: number };
export type ArchiveOutcome = "complete" | "aborted" | "failed";
/** Bytes for one entry: a buffer, or chunks made on demand (an async generator reading a page at a time). */
export type EntrySource = Buffer | AsyncIterable<Buffer>;

export class ArchiveAbortedError extends Error {
  override name = "ArchiveAbortedError";
  constructor() {
    super("the archive's reader went away");
  }
}

// JSON Lines are text and shrink well; a binary artifact (an image, an archive) rarely does, and deflating it costs CPU a busy server needs.
export type Compression = "deflate" | "store";

const SLICE_BYTES = 64 * 1024;

export class ArchiveWriter {
  private readonly zip = new ZipFile();
  private readonly files: Manifest["files"] = [];
  private bytes = 0;
  /** Rejects once the output is gone before the archive is complete: every wait races it. */
  private readonly gone: Promise<never>;

  constructor(
    private readonly createdAt: Date,
    private readonly onProgress?: (figures: ArchiveFigures) => void,
  ) {
    this.gone = new Promise<never>((_resolve, reject) => {
      this.output.once("close", () => reject(new ArchiveAbortedError()));
      this.output.once("error", reject);
    });
    this.gone.catch(() => undefined);
    this.zip.on("error", (error: Error) => this.output.destroy(error));
  }

  get output(): Readable {
    return this.zip.outputStream as Readable;
  }

  get figures(): ArchiveFigures {
    return { files: this.files.length, bytes: this.bytes };
  }

  /** Adds one entry and resolves once its last byte has been handed on, so the next is read only then. */
  async add(path: string, source: EntrySource, compression: Compression = "deflate"): Promise<{ size: number; sha256: string }> {
    const hash = createHash("sha256");
    let size = 0;
    // yazl keeps every entry's stream function until the archive ends (for the central
    // directory), and through it the stream and its source: both are handed over once and
    // dropped, or every artifact's bytes would stay in memory to the end.
    let input: EntrySource | undefined = source;
    const counted = async function* (this: ArchiveWriter) {
      const chunks = Buffer.isBuffer(input) ? [input] : input!;
      input = undefined;
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        this.bytes += chunk.length;
        // Views, not copies: backpressure then works in 64 KiB steps, so the next artifact is
        // read only once this one has left, not while all of it still waits in a socket buffer.
        for (let at = 0; at < chunk.length; at += SLICE_BYTES) yield chunk.subarray(at, at + SLICE_BYTES);
      }
    }.call(this);
    let readable: Readable | undefined = Readable.from(counted, { objectMode: false, highWaterMark: 64 * 1024 });
    const stream = readable;
    const consumed = new Promise<void>((resolve, reject) => {
      stream.once("end", resolve);
      stream.once("error", reject);
    });
    this.zip.addReadStreamLazy(path, { mtime: this.createdAt, compress: compression === "deflate" }, (callback) => {
      const handOver = readable!;
      readable = undefined;
      callback(null, handOver);
    });
    try {
      await Promise.race([consumed, this.gone]);
    } catch (error) {
      stream.destroy();
      throw error;
    }
    const written = { size, sha256: hash.digest("hex") };
    this.files.push({ path, ...written });
    this.onProgress?.(this.figures);
    return written;
  }

  /** Writes manifest.json (every other entry's size and SHA-256) and ends the archive; resolves when the reader has it all. */
  async finish(kind: ArchiveKind): Promise<void> {
    const manifest: Manifest = { format: EXPORT_FORMAT, kind, createdAt: this.createdAt.toISOString(), files: this.files };
    const bytes = Buffer.from(jsonLine(manifest));
    const ended = new Promise<void>((resolve) => this.output.once("end", resolve));
    this.zip.addBuffer(bytes, MANIFEST_FILE, { mtime: this.createdAt });
    this.zip.end();
    await Promise.race([ended, this.gone]);
  }
}

export type ArchivePlan = {
  kind: ArchiveKind;
  readme: string;
  createdAt: Date;
  /** Adds every entry but the README (first) and the manifest (last). */
  write: (archive: ArchiveWriter) => Promise<void>;
  /** Told how it ended, always once (the audit row): complete, the reader left, or an error. */
  settle: (outcome: ArchiveOutcome, figures: ArchiveFigures) => Promise<void>;
  onProgress?: (figures: ArchiveFigures) => void;
};

/**
 * Starts an archive and returns its bytes as a Node stream. Nothing is read until the stream
 * is; destroying the stream (a client that hangs up) stops the writer at its next entry.
 */
export function startArchive(plan: ArchivePlan): Readable {
  const archive = new ArchiveWriter(plan.createdAt, plan.onProgress);
  const run = async (): Promise<ArchiveOutcome> => {
    try {
      await archive.add(README_FILE, Buffer.from(plan.readme));
      await plan.write(archive);
      await archive.finish(plan.kind);
      return "complete";
    } catch (error) {
      if (error instanceof ArchiveAbortedError) return "aborted";
      logger.error({ err: error }, "export archive failed");
      archive.output.destroy(error instanceof Error ? error : new Error(String(error)));
      return "failed";
    }
  };
  void run()
    .then((outcome) => plan.settle(outcome, archive.figures))
    .catch((error: unknown) => logger.error({ err: error }, "export archive could not record its outcome"));
  return archive.output;
}

/**
 * A web ReadableStream over a Node stream that reads a chunk only when asked (highWaterMark 0),
 * so a slow client slows the archive down instead of filling memory; cancelling it (the
 * client went away) destroys the Node stream.
 */
export function toWebStream(readable: Readable): ReadableStream<Uint8Array> {
  const chunks = readable[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next: IteratorResult<Buffer> = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        readable.destroy();
        await chunks.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
