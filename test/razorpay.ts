import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * Razorpay, faked only where Enclave meets it: a local node:http server standing in for the
 * REST API at RAZORPAY_API_URL (the real `razorpay` SDK talks to it, basic auth and all), a
 * stand-in Checkout script at RAZORPAY_CHECKOUT_URL for the browser test, and signatures made
 * exactly as Razorpay makes them: HMAC-SHA256, hex, of the raw webhook body with the webhook
 * secret, and of `payment_id|subscription_id` with the key secret for Checkout's answer.
 */
export type RazorpayKeys = { keyId: string; keySecret: string; webhookSecret: string };

export function razorpayKeys(): RazorpayKeys {
  return { keyId: `rzp_test_${randomBytes(7).toString("hex")}`, keySecret: randomBytes(18).toString("base64url"), webhookSecret: randomBytes(16).toString("hex") };
}

export const TEAM_PLAN = "plan_TeamTest0001";
export const BUSINESS_PLAN = "plan_BizTest00001";

/** A plans file in a temp dir: free with small limits, so tests reach them quickly. */
export function writePlansFile(limits: Partial<Record<"members" | "storageMb" | "teamTokens" | "aiClients", number | null>> = {}): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "enclave-plans-")), "plans.json");
  const plans = {
    plans: [
      { id: "free", name: "Free", razorpayPlanId: null, price: { amount: 0, currency: "INR", interval: "month" }, limits: { members: 2, storageMb: 1, teamTokens: 1, aiClients: 1, ...limits } },
      { id: "team", name: "Team", razorpayPlanId: TEAM_PLAN, price: { amount: 49900, currency: "INR", interval: "month" }, limits: { members: 10, storageMb: 50, teamTokens: 10, aiClients: 10 } },
      { id: "business", name: "Business", razorpayPlanId: BUSINESS_PLAN, price: { amount: 999900, currency: "INR", interval: "year" }, limits: { members: null, storageMb: null, teamTokens: null, aiClients: null } },
    ],
  };
  fs.writeFileSync(file, JSON.stringify(plans, null, 2));
  return file;
}

export function billingEnv(keys: RazorpayKeys, apiUrl: string, plansFile = writePlansFile(), extra: Record<string, string> = {}): Record<string, string> {
  return {
    RAZORPAY_KEY_ID: keys.keyId,
    RAZORPAY_KEY_SECRET: keys.keySecret,
    RAZORPAY_WEBHOOK_SECRET: keys.webhookSecret,
    RAZORPAY_API_URL: apiUrl,
    RAZORPAY_CHECKOUT_URL: `${apiUrl}/checkout.js`,
    ENCLAVE_PLANS_FILE: plansFile,
    ...extra,
  };
}

export const hmacHex = (secret: string, payload: string) => createHmac("sha256", secret).update(payload).digest("hex");

/** X-Razorpay-Signature for a raw body. */
export const webhookSignature = (rawBody: string, secret: string) => hmacHex(secret, rawBody);

/** razorpay_signature in Checkout's answer for a subscription. */
export const checkoutSignature = (paymentId: string, subscriptionId: string, keySecret: string) => hmacHex(keySecret, `${paymentId}|${subscriptionId}`);

export const newRazorpayId = (prefix: "sub" | "pay" | "rfnd" | "inv" | "evt") => `${prefix}_${randomBytes(7).toString("hex")}`;

export type FakeSubscription = {
  id: string;
  entity: "subscription";
  plan_id: string;
  status: string;
  current_start: number | null;
  current_end: number | null;
  total_count: number;
  notes: Record<string, string> | [];
  has_scheduled_changes: boolean;
  created_at: number;
  short_url: string;
};

/** A webhook body as Razorpay sends it: `payload` holds the entities the event is about. */
export function webhookEvent(
  event: string,
  entities: { subscription?: Partial<FakeSubscription> & { id: string }; payment?: Record<string, unknown>; refund?: Record<string, unknown> },
  createdAt = Math.floor(Date.now() / 1000),
) {
  const payload: Record<string, { entity: unknown }> = {};
  for (const [name, entity] of Object.entries(entities)) if (entity) payload[name] = { entity: { entity: name, ...entity } };
  return { entity: "event", account_id: "acc_TestAccount01", event, contains: Object.keys(payload), payload, created_at: createdAt };
}

export type FakeRazorpay = {
  url: string;
  subscriptions: Map<string, FakeSubscription>;
  requests: { method: string; path: string; body: unknown }[];
  /** The next `count` API calls answer `status` (a 5xx by default): Razorpay having a bad minute. */
  failNext(count?: number, status?: number): void;
  close(): Promise<void>;
};

/** `port` 0 (the default) takes any free port; the e2e spec fixes one, since its server's env names the fake's URL before the fake starts. */
export async function startFakeRazorpay(keys: RazorpayKeys, port = 0): Promise<FakeRazorpay> {
  const subscriptions = new Map<string, FakeSubscription>();
  const requests: FakeRazorpay["requests"] = [];
  let failures = { count: 0, status: 500 };
  const expectedAuth = `Basic ${Buffer.from(`${keys.keyId}:${keys.keySecret}`).toString("base64")}`;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const raw = Buffer.concat(chunks).toString("utf8");
      const send = (status: number, body: unknown, type = "application/json") => {
        res.writeHead(status, { "content-type": type });
        res.end(typeof body === "string" ? body : JSON.stringify(body));
      };
      if (req.method === "GET" && url.pathname === "/checkout.js") return send(200, checkoutScript(keys), "text/javascript");
      let body: unknown = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        return send(400, { error: { code: "BAD_REQUEST_ERROR", description: "invalid JSON" } });
      }
      requests.push({ method: req.method ?? "", path: url.pathname, body });
      if (req.headers.authorization !== expectedAuth) return send(401, { error: { code: "BAD_REQUEST_ERROR", description: "Authentication failed" } });
      if (failures.count > 0) {
        failures = { ...failures, count: failures.count - 1 };
        return send(failures.status, { error: { code: "SERVER_ERROR", description: "The fake is having a bad minute" } });
      }
      const answer = route(req.method ?? "", url.pathname, body as Record<string, unknown>);
      send(answer.status, answer.body);
    });
  });

  function route(method: string, pathname: string, body: Record<string, unknown>): { status: number; body: unknown } {
    const now = Math.floor(Date.now() / 1000);
    if (method === "POST" && pathname === "/v1/subscriptions") {
      if (typeof body.plan_id !== "string" || typeof body.total_count !== "number") return badRequest("plan_id and total_count are required");
      const id = newRazorpayId("sub");
      const subscription: FakeSubscription = {
        id,
        entity: "subscription",
        plan_id: body.plan_id,
        status: "created",
        current_start: null,
        current_end: null,
        total_count: body.total_count,
        notes: (body.notes as Record<string, string> | undefined) ?? [],
        has_scheduled_changes: false,
        created_at: now,
        short_url: `https://rzp.io/i/${id}`,
      };
      subscriptions.set(id, subscription);
      return { status: 200, body: subscription };
    }
    const match = /^\/v1\/subscriptions\/([^/]+)(?:\/(cancel|cancel_scheduled_changes))?$/.exec(pathname);
    const subscription = match ? subscriptions.get(match[1]!) : undefined;
    if (!match || !subscription) return { status: 400, body: { error: { code: "BAD_REQUEST_ERROR", description: "The id provided does not exist" } } };
    if (method === "GET" && !match[2]) return { status: 200, body: subscription };
    if (method === "POST" && match[2] === "cancel") {
      if (["cancelled", "completed", "expired"].includes(subscription.status)) return badRequest(`Subscription is not cancellable in ${subscription.status} status.`);
      if (body.cancel_at_cycle_end === 1 || body.cancel_at_cycle_end === true) subscription.has_scheduled_changes = true;
      else subscription.status = "cancelled";
      return { status: 200, body: subscription };
    }
    if (method === "POST" && match[2] === "cancel_scheduled_changes") {
      if (!subscription.has_scheduled_changes) return badRequest("Subscription has no scheduled changes");
      subscription.has_scheduled_changes = false;
      return { status: 200, body: subscription };
    }
    return { status: 404, body: { error: { code: "BAD_REQUEST_ERROR", description: "no such route" } } };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const listening = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${listening}`,
    subscriptions,
    requests,
    failNext: (count = 1, status = 500) => {
      failures = { count, status };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const badRequest = (description: string) => ({ status: 400, body: { error: { code: "BAD_REQUEST_ERROR", description } } });

/**
 * The stand-in Checkout: `new Razorpay(options).open()` "pays" at once and calls
 * options.handler with an answer signed as Razorpay signs it. The key secret is in this script
 * because it is a test fake; the real Checkout never sees it.
 */
function checkoutScript(keys: RazorpayKeys): string {
  return `(() => {
  const secret = ${JSON.stringify(keys.keySecret)};
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  window.Razorpay = function (options) {
    this.open = async () => {
      const paymentId = "pay_" + Math.random().toString(16).slice(2, 16).padEnd(14, "0");
      const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const signature = hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(paymentId + "|" + options.subscription_id)));
      window.__razorpayOpened = { key: options.key, subscription_id: options.subscription_id };
      options.handler({ razorpay_payment_id: paymentId, razorpay_subscription_id: options.subscription_id, razorpay_signature: signature });
    };
  };
})();
`;
}
