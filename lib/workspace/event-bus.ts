import { readAccessEpoch } from "../db/access-epoch";
import type { JsonValue } from "./text";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";

/**
 * In-process fan-out of newly committed events to live subscribers (SSE streams), per
 * workspace. One process serves an instance, so no broker is needed. Each workspace takes at
 * most MAX_SUBSCRIBERS at once: every stream holds a socket and a timer, and an unbounded
 * number would let one workspace's clients exhaust the server.
 *
 * Each event is handed over at once, with the access epoch as read after it was published (one
 * read for all of the workspace's streams): a stream whose caller's access may have changed
 * since its last check asks authorize() again before it sends anything (event-stream.ts).
 */
export const MAX_SUBSCRIBERS = 64;

export type BusEvent = { seq: number; type: string; payload: JsonValue; actor: string; at: number };
/** `accessEpoch` settles to null when it could not be read: access is unknown, so the stream must end (its client resumes with Last-Event-ID). */
export type Listener = (event: BusEvent, accessEpoch: Promise<number | null>) => void;

// On globalThis: the custom server and Next's bundle load this module separately but must share it.
const globalForBus = globalThis as unknown as { enclaveEventBus?: Map<string, Set<Listener>> };
const listeners = (globalForBus.enclaveEventBus ??= new Map<string, Set<Listener>>());

/** Adds a listener; returns its removal. A full workspace answers 503 with Retry-After. */
export function subscribe(workspaceId: string, listener: Listener): () => void {
  const set = listeners.get(workspaceId) ?? new Set<Listener>();
  if (set.size >= MAX_SUBSCRIBERS) {
    throw new HttpError(503, "too_many_subscribers", `This workspace already has ${MAX_SUBSCRIBERS} live event streams. Try again shortly.`, {
      "Retry-After": "10",
    });
  }
  set.add(listener);
  listeners.set(workspaceId, set);
  return () => {
    set.delete(listener);
    if (set.size === 0 && listeners.get(workspaceId) === set) listeners.delete(workspaceId);
  };
}

/**
 * Fans out after commit, synchronously, so a stream has every event in hand in publish order
 * before anything else runs. One broken stream must not fail the publisher's request or
 * starve the others.
 */
export function publish(workspaceId: string, event: BusEvent): void {
  const set = listeners.get(workspaceId);
  if (!set) return;
  const epoch = readAccessEpoch().catch((error: unknown) => {
    logger.error({ err: error, workspaceId }, "could not read the access epoch: live streams end and resume");
    return null;
  });
  for (const listener of set) {
    try {
      listener(event, epoch);
    } catch (error) {
      logger.warn({ err: error, workspaceId }, "event listener failed");
    }
  }
}

export const subscriberCount = (workspaceId: string) => listeners.get(workspaceId)?.size ?? 0;
