import { Writable } from "node:stream";
import readline from "node:readline/promises";
import { CliUsageError } from "./args";

/**
 * Where `enclave user create` and `enclave user reset-password` take the password from — never from a flag, which every user
 * on the machine can read in `ps` and which the shell keeps in its history:
 *   --password-stdin   the first line of standard input (scripts: `printf %s "$PW" | enclave …`);
 *   a terminal         a prompt that does not echo, asked twice.
 */
export async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return firstLine(await readAll(process.stdin));
  if (!process.stdin.isTTY) throw new CliUsageError("give the password on standard input with --password-stdin, or run this in a terminal to be asked for it");
  const password = await promptHidden("Password: ");
  if ((await promptHidden("Again: ")) !== password) throw new CliUsageError("the two passwords differ");
  return password;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

const firstLine = (text: string) => text.split(/\r?\n/)[0] ?? "";

/** Asks on the terminal, showing the question but not what is typed. */
async function promptHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = true;
    return await answer;
  } finally {
    rl.close();
    process.stdout.write("\n");
  }
}
