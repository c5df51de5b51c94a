import { handleRequest, otherMethods } from "@/lib/api/route";
import { receiveRazorpayWebhook } from "@/lib/webhooks/razorpay";

// Not portalRoute: Razorpay's servers send no Origin and no cookie; the HMAC of the body is the only trust.
export const POST = (request: Request) =>
  handleRequest(request, undefined, async ({ ip }) => {
    const outcome = await receiveRazorpayWebhook(request, ip);
    return Response.json({ received: true, outcome: outcome.status }, { headers: { "cache-control": "no-store" } });
  });

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
