import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Decrypter, Encrypter } from "age-encryption";

/**
 * age over Node streams, a chunk at a time (a 500 MB workspace is never in memory), with the
 * byte count and SHA-256 of what passes: the manifest records them for the plaintext and the
 * ciphertext, and a restore checks both.
 */
export type StreamFigures = { bytes: number; sha256: string };

export type Tally = { readonly stream: Readable; figures(): StreamFigures };

/** Passes `source` through unchanged, counting and hashing it; `onChunk` sees the running byte count. */
export function tally(source: Readable | AsyncIterable<Uint8Array>, onChunk?: (bytes: number) => void): Tally {
  const hash = createHash("sha256");
  let bytes = 0;
  let digest: string | undefined;
  async function* counted() {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      onChunk?.(bytes);
      yield chunk;
    }
    digest = hash.digest("hex");
  }
  return {
    stream: Readable.from(counted(), { objectMode: false }),
    figures() {
      if (digest === undefined) throw new Error("the stream was not read to its end");
      return { bytes, sha256: digest };
    },
  };
}

// The library speaks web streams (the WHATWG ones Node also implements); Node's own types name them apart.
const toWeb = (stream: Readable) => Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
const fromWeb = (stream: ReadableStream<Uint8Array>) => Readable.fromWeb(stream as unknown as WebReadableStream<Uint8Array>);

/** `plaintext` encrypted to every recipient (age X25519, `age1…`), as a stream. */
export async function ageEncrypt(plaintext: Readable, recipients: readonly string[]): Promise<Readable> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  return fromWeb(await encrypter.encrypt(toWeb(plaintext)));
}

/**
 * `ciphertext` decrypted with the identities (`AGE-SECRET-KEY-1…`). The header is read before
 * this resolves, so a file for other recipients fails here; a damaged or truncated body fails
 * while the stream is read (age authenticates every 64 KiB chunk and the last one).
 */
export async function ageDecrypt(ciphertext: Readable, identities: readonly string[]): Promise<Readable> {
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  return fromWeb(await decrypter.decrypt(toWeb(ciphertext)));
}

/**
 * The identities in an age identity file (what `age-keygen` writes): one `AGE-SECRET-KEY-1…`
 * per line, with `#` comments and blank lines ignored.
 */
export function parseIdentityFile(text: string): string[] {
  const identities = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (identities.length === 0 || identities.some((line) => !/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(line))) {
    // Never echo the lines: they are secret keys.
    throw new Error("the identity file holds no age identity (lines of AGE-SECRET-KEY-1…, as age-keygen writes)");
  }
  return identities;
}
