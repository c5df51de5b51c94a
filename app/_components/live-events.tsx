"use client";

import { useEffect, useRef, useState } from "react";
import type { WorkspaceEvent } from "@/lib/api/types";
import { apiPath, formatTime, isoTime } from "./format";

type Status = "connecting" | "live" | "reconnecting" | "stopped";

const SHOWN = 50;
const statusText: Record<Status, string> = {
  connecting: "Connecting…",
  live: "Live: new events appear as they are published.",
  reconnecting: "Connection lost; reconnecting…",
  stopped: "Live updates stopped. Reload the page to try again.",
};

function parseEvent(data: string): WorkspaceEvent | null {
  try {
    const value = JSON.parse(data) as Partial<WorkspaceEvent>;
    if (typeof value.seq !== "number" || typeof value.type !== "string" || typeof value.actor !== "string" || typeof value.at !== "number") return null;
    return value as WorkspaceEvent;
  } catch {
    return null;
  }
}

/**
 * The last events, server-rendered, then followed live over Server-Sent Events from the seq of
 * the last one shown, so nothing published in between is missed. EventSource reconnects on
 * its own, resuming with Last-Event-ID.
 */
export function LiveEvents({ workspaceId, initial }: { workspaceId: string; initial: WorkspaceEvent[] }) {
  const [events, setEvents] = useState(initial);
  const [status, setStatus] = useState<Status>("connecting");
  const lastSeq = useRef(initial.at(-1)?.seq ?? 0);

  useEffect(() => {
    const source = new EventSource(`${apiPath(workspaceId, "events", "stream")}?after=${lastSeq.current}`);
    source.onopen = () => setStatus("live");
    source.onerror = () => setStatus(source.readyState === EventSource.CLOSED ? "stopped" : "reconnecting");
    source.onmessage = (message: MessageEvent<string>) => {
      const event = parseEvent(message.data);
      if (!event || event.seq <= lastSeq.current) return;
      lastSeq.current = event.seq;
      setEvents((shown) => [...shown, event].slice(-SHOWN));
    };
    return () => source.close();
  }, [workspaceId]);

  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Latest events</h2>
      <p role="status" className="muted" data-status={status}>
        {statusText[status]}
      </p>
      {events.length === 0 ? (
        <p className="muted">No events yet.</p>
      ) : (
        <ol className="events" aria-label="Latest events" reversed>
          {events.toReversed().map((event) => (
            <li key={event.seq}>
              <p>
                <strong className="event-type">{event.type}</strong> <span className="muted">#{event.seq} · {event.actor} · </span>
                <time dateTime={isoTime(event.at)}>{formatTime(event.at)}</time>
              </p>
              <pre className="json">{JSON.stringify(event.payload, null, 2)}</pre>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
