import { handleRequest, otherMethods } from "@/lib/api/route";
import { receiveClerkWebhook } from "@/lib/webhooks/clerk";

// Not portalRoute: Clerk's servers send no Origin and no cookie; the svix signature is the only trust.
export const POST = (request: Request) =>
  handleRequest(request, undefined, async ({ ip }) => {
    const outcome = await receiveClerkWebhook(request, ip);
    return Response.json({ received: true, outcome: outcome.status }, { headers: { "cache-control": "no-store" } });
  });

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
