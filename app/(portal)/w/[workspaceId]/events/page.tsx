import { LiveEvents } from "@/app/_components/live-events";
import { grantCovers } from "@/lib/access/authorize";
import { PublishEventForm } from "@/app/_components/publish-event-form";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { latestSeq, listEvents } from "@/lib/workspace/events";

export const metadata = { title: "Events · Enclave" };

const SHOWN = 50;

export default async function EventsPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "events:read");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  // seq only grows, so the last SHOWN events are those after latest - SHOWN.
  const latest = await latestSeq(gate.access);
  const { items } = await listEvents(gate.access, { after: Math.max(0, latest - SHOWN), limit: SHOWN });
  return (
    <>
      <h1>Events</h1>
      <LiveEvents workspaceId={workspaceId} initial={items} />
      {grantCovers(gate.access, "events:publish") ? (
        <section aria-labelledby="publish-heading">
          <h2 id="publish-heading">Publish a test event</h2>
          <PublishEventForm workspaceId={workspaceId} />
        </section>
      ) : null}
    </>
  );
}
