import { HttpError } from "../http/errors";
import { logger } from "../http/log";

/**
 * In-process fan-out of newly committed events to live subscribers (SSE streams), per
 * workspace. One process serves an instance, so no broker is needed. Each workspace takes at
 * most MAX_SUBSCRIBERS at once: every stream holds a socket and a timer, and an unbounded
 * number would let one workspace's clients exhaust the server.
 */
export const MAX_SUBSCRIBERS = 64;

export type BusEvent = { seq: number; type: string; payload: unknown; actor: string; at: number };
type Listener = (event: BusEvent) => void;

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

/** Fans out after commit; one broken stream must not fail the publisher's request or starve the others. */
export function publish(workspaceId: string, event: BusEvent): void {
  for (const listener of listeners.get(workspaceId) ?? []) {
    try {
      listener(event);
    } catch (error) {
      logger.warn({ err: error, workspaceId }, "event listener failed");
    }
  }
}

export const subscriberCount = (workspaceId: string) => listeners.get(workspaceId)?.size ?? 0;
