import { stillAuthorized } from "@/lib/access/authorize";
import { restSurface } from "@/lib/access/principal";
import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { openEventStream, resumeAfter } from "@/lib/workspace/event-stream";

export const GET = apiRoute(endpoints.streamEvents, ({ access, request }) => {
  const stream = openEventStream({
    access,
    after: resumeAfter(request),
    signal: request.signal,
    stillAllowed: () => stillAuthorized(request, restSurface, access.workspaceId, endpoints.streamEvents.scope),
  });
  return Promise.resolve(
    new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    }),
  );
});
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
