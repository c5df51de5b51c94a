import { getConfig } from "../config";
import { logger } from "../http/log";
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
 * A comment line goes out every heartbeat so proxies keep the connection open; at each
 * heartbeat `stillAllowed` is asked again, so a revoked token's stream ends within one beat.
 */
export type EventStreamOptions = {
  workspaceId: string;
  /** The last seq the client has; null for "from now on". */
  after: number | null;
  signal: AbortSignal;
  stillAllowed: () => Promise<boolean>;
};

const encoder = new TextEncoder();
const frame = (event: BusEvent) => encoder.encode(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);

/** Subscribes at once (so a full workspace is refused before any response starts). */
export function openEventStream({ workspaceId, after, signal, stillAllowed }: EventStreamOptions): ReadableStream<Uint8Array> {
  let lastSent = after ?? Number.MAX_SAFE_INTEGER;
  let live = false;
  const buffered: BusEvent[] = [];
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;

  const send = (event: BusEvent) => {
    if (closed || event.seq <= lastSent) return;
    lastSent = event.seq;
    controller.enqueue(frame(event));
  };
  const unsubscribe = subscribe(workspaceId, (event) => (live ? send(event) : buffered.push(event)));
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
        if (after === null) lastSent = await latestSeq(workspaceId);
        for (;;) {
          const page = await listEvents(workspaceId, { after: lastSent, limit: 500 });
          page.items.forEach(send);
          if (page.items.length < 500 || closed) break;
        }
        buffered.splice(0).forEach(send);
        live = true;
      } catch (error) {
        logger.error({ err: error, workspaceId }, "event stream backlog failed");
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
