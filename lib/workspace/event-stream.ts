import type { WorkspaceAccess } from "../access/authorize";
import { getConfig } from "../config";
import { readAccessEpoch } from "../db/access-epoch";
import { storageFault } from "../db/storage-health";
import { assertWorkspaceStorage } from "../db/store";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";
import { subscribe, type BusEvent } from "./event-bus";
import { latestSeq, listEvents } from "./events";

/**
 * A Server-Sent Events stream of a workspace's events, resumable.
 *
 * To lose nothing between "read what was missed" and "follow what is new", the stream
 * subscribes first and buffers live events, then replays the backlog after `lastEventId`
 * page by page, then flushes the buffer, skipping anything already sent (by seq). Every
 * `id:` is the event's seq, so a browser's automatic reconnect (Last-Event-ID) resumes exactly.
 *
 * Access is asked again (`stillAllowed`, which goes through authorize()) before a live event
 * or a page of backlog is sent whenever the access epoch moved since the last check (the
 * first time always: the check in front of the stream may predate a revocation that landed
 * while it opened) (lib/db/access-epoch.ts), so
 * nothing published after a revocation, a removal or a sign-out returned reaches a stream that
 * lost its access. A comment line goes out every heartbeat so proxies keep the connection
 * open, with the same question asked again: that is what ends a stream whose token expired.
 */
export type EventStreamOptions = {
  access: WorkspaceAccess<"events:read">;
  /** The last seq the client has; null for "from now on". */
  after: number | null;
  signal: AbortSignal;
  stillAllowed: () => Promise<boolean>;
};

const encoder = new TextEncoder();
const frame = (event: BusEvent) => encoder.encode(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);

/** Subscribes at once (so a full workspace, or one known to be damaged, is refused before any response starts). */
export function openEventStream({ access, after, signal, stillAllowed }: EventStreamOptions): ReadableStream<Uint8Array> {
  assertWorkspaceStorage(access.workspaceId);
  let lastSent = after ?? Number.MAX_SAFE_INTEGER;
  let live = false;
  const buffered: [BusEvent, Promise<number | null>][] = [];
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  // No epoch is trusted until checked here: the first live event asks again.
  let checkedEpoch: number | null = null;
  let admitting: Promise<void> = Promise.resolve();

  const send = (event: BusEvent) => {
    if (closed || event.seq <= lastSent) return;
    lastSent = event.seq;
    controller.enqueue(frame(event));
  };
  /** Whether the caller may still follow, asked again only when the epoch moved since the last answer. */
  const stillAdmitted = async (epoch: number | null): Promise<boolean> => {
    if (epoch === null) return false;
    if (epoch === checkedEpoch) return true;
    const allowed = await stillAllowed().catch(() => false);
    if (allowed) checkedEpoch = epoch;
    return allowed;
  };
  const admit = async (event: BusEvent, pendingEpoch: Promise<number | null>) => {
    const epoch = await pendingEpoch;
    if (closed) return;
    if (!(await stillAdmitted(epoch))) return close();
    send(event);
  };
  // One at a time, in publish order, however long a check takes.
  const admitInOrder = (event: BusEvent, epoch: Promise<number | null>) => {
    admitting = admitting.then(() => admit(event, epoch));
  };
  const unsubscribe = subscribe(access.workspaceId, (event, epoch) => (live ? admitInOrder(event, epoch) : buffered.push([event, epoch])));
  let heartbeat: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    try {
      controller.close();
    } catch {
      // already closed by the client going away
    }
  };
  signal.addEventListener("abort", close, { once: true });

  return new ReadableStream<Uint8Array>({
    async start(c) {
      controller = c;
      // A client gone before we got here never fires "abort" again.
      if (signal.aborted) return close();
      controller.enqueue(encoder.encode("retry: 3000\n\n"));
      try {
        if (after === null) {
          lastSent = await latestSeq(access);
          // Published after this stream subscribed, though committed before that read: still "from now on".
          const first = buffered[0]?.[0].seq;
          if (first !== undefined) lastSent = Math.min(lastSent, first - 1);
        }
        for (;;) {
          const page = await listEvents(access, { after: lastSent, limit: 500 });
          // The check in front of this stream may predate a revocation that landed since.
          if (!(await stillAdmitted(await readAccessEpoch().catch(() => null)))) return close();
          page.items.forEach(send);
          if (page.items.length < 500 || closed) break;
        }
        for (const [event, epoch] of buffered.splice(0)) admitInOrder(event, epoch);
        live = true;
      } catch (error) {
        // A storage fault met here was logged once where it was recorded: the next request is refused before it streams.
        if (!(storageFault(error) instanceof HttpError)) logger.error({ err: error, workspaceId: access.workspaceId }, "event stream backlog failed");
        close();
        return;
      }
      // The client may have left during the backlog: a heartbeat set now would never be cleared.
      if (closed) return;
      heartbeat = setInterval(() => {
        void stillAllowed().then(
          (allowed) => (allowed && !closed ? controller.enqueue(encoder.encode(": heartbeat\n\n")) : close()),
          () => close(),
        );
      }, getConfig().ENCLAVE_SSE_HEARTBEAT_SECONDS * 1000);
    },
    cancel: close,
  });
}

/** Where a stream starts: after the browser's Last-Event-ID on reconnect, else `?after=`, else from now on. */
export function resumeAfter(request: Request): number | null {
  const raw = request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("after");
  if (raw === null) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}
