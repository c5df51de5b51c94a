import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ensurePrivateDir } from "./files";

/**
 * The data dir's lease: DATA_DIR/lease.json names the one process that owns the files — the
 * server while it serves, or `enclave key rotate` while it re-keys — so neither starts under
 * the other. A rotation under a running server would re-key files whose open handles still
 * hold the old key, and their next write would put old-key pages into a new-key file.
 *
 * A lease left by a crash must not block for ever, and no heartbeat is needed to tell: the
 * holder is alive only if its pid exists AND (on Linux) that pid's start time, from
 * /proc/<pid>/stat, is the one recorded — so a pid reused after a reboot or in a restarted
 * container does not count. The lease is created with link(2), which fails if the name
 * exists, so two processes cannot both take it; a stale one is removed and taken over.
 */
export const LEASE_FILE = "lease.json";

export type LeasePurpose = "server" | "key-rotation";

const holderSchema = z.object({
  pid: z.number().int().positive(),
  processStart: z.string().nullable(),
  purpose: z.enum(["server", "key-rotation"]),
  since: z.string(),
});
export type LeaseHolder = z.infer<typeof holderSchema>;

const PURPOSE_TEXT: Record<LeasePurpose, string> = {
  server: "an Enclave server",
  "key-rotation": "`enclave key rotate`",
};

export class LeaseHeldError extends Error {
  override name = "LeaseHeldError";
  constructor(
    readonly holder: LeaseHolder,
    wanted: LeasePurpose,
  ) {
    const doing = wanted === "server" ? "serve" : "rotate the master key";
    const advice = holder.purpose === "server" ? "stop the server first" : "let it finish (or kill it and run `enclave key rotate` again)";
    super(`${PURPOSE_TEXT[holder.purpose]} (pid ${holder.pid}, since ${holder.since}) is using this data dir: cannot ${doing} now; ${advice}`);
  }
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or null where /proc is not available. */
export function processStartOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(holder: LeaseHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but belongs to someone else, which is still a live process.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  if (holder.processStart === null) return true;
  const now = processStartOf(holder.pid);
  return now === null || now === holder.processStart;
}

function readHolder(file: string): LeaseHolder | null {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    // Gone meanwhile, or unreadable: a torn or foreign file names no live holder.
    return null;
  }
}

/** Who holds the lease now, or null if nobody does (no file, or its holder is gone). */
export function liveLeaseHolder(dataDir: string): LeaseHolder | null {
  const holder = readHolder(path.join(dataDir, LEASE_FILE));
  return holder && isAlive(holder) ? holder : null;
}

export type Lease = { holder: LeaseHolder; release: () => void };

/** Takes the data dir's lease for `purpose`, or throws LeaseHeldError naming the live process that holds it. */
export function acquireLease(dataDir: string, purpose: LeasePurpose): Lease {
  ensurePrivateDir(dataDir);
  const file = path.join(dataDir, LEASE_FILE);
  const holder: LeaseHolder = { pid: process.pid, processStart: processStartOf(process.pid), purpose, since: new Date().toISOString() };
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(holder) + "\n", { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        // link(2) creates the name only if it does not exist, with the whole content already in place.
        fs.linkSync(temporary, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) throw error;
        const current = readHolder(file);
        if (current && isAlive(current)) throw new LeaseHeldError(current, purpose);
        fs.rmSync(file, { force: true });
      }
    }
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  return {
    holder,
    release: () => {
      // Only our own: a lease another process took over after ours was (wrongly) judged stale stays.
      const current = readHolder(file);
      if (current?.pid === holder.pid && current.since === holder.since) fs.rmSync(file, { force: true });
    },
  };
}
