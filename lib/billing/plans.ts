import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * The operator's plans (ENCLAVE_PLANS_FILE, ops/plans.example.json), validated once at start.
 * A limit of null is no limit. The `free` plan is what a workspace is on without a paid
 * subscription; every other plan names the Razorpay plan a subscription to it is created on.
 * With billing off there is no file and every workspace is on UNLIMITED.
 */
const limit = z.number().int().min(0).max(1_000_000_000).nullable();

export const planLimitsSchema = z.strictObject({
  members: limit.describe("people in the workspace, pending invitations included"),
  storageMb: limit.describe("megabytes of data in the workspace's encrypted database (pages in use: deleting data makes room)"),
  teamTokens: limit.describe("team tokens that still work (not revoked, not expired)"),
  aiClients: limit.describe("connected AI clients (OAuth grants) in the workspace"),
});
export type PlanLimits = z.infer<typeof planLimitsSchema>;
export type LimitName = keyof PlanLimits;

const planSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "must be lowercase letters, digits and dashes"),
  name: z.string().min(1).max(60),
  razorpayPlanId: z.string().regex(/^plan_[A-Za-z0-9]{1,40}$/, "must be a Razorpay plan id (plan_…)").nullable(),
  /** For display only: Razorpay's plan holds the price that is charged. */
  price: z.strictObject({
    amount: z.number().int().min(0).describe("in the currency's smallest unit (paise for INR)"),
    currency: z.string().regex(/^[A-Z]{3}$/),
    interval: z.enum(["month", "year"]),
  }),
  /** Billing cycles a subscription runs for (Razorpay's total_count). */
  totalCount: z.number().int().min(1).max(1200).default(120),
  limits: planLimitsSchema,
});
export type Plan = z.infer<typeof planSchema>;

export const plansFileSchema = z
  .strictObject({ plans: z.array(planSchema).min(1).max(50) })
  .superRefine(({ plans }, ctx) => {
    const ids = new Set<string>();
    const razorpayIds = new Set<string>();
    for (const [index, plan] of plans.entries()) {
      if (ids.has(plan.id)) ctx.addIssue({ code: "custom", path: ["plans", index, "id"], message: `plan id "${plan.id}" appears twice` });
      ids.add(plan.id);
      if (plan.id === "free" && plan.razorpayPlanId !== null) ctx.addIssue({ code: "custom", path: ["plans", index, "razorpayPlanId"], message: "the free plan has no Razorpay plan: set it to null" });
      if (plan.id !== "free" && plan.razorpayPlanId === null) ctx.addIssue({ code: "custom", path: ["plans", index, "razorpayPlanId"], message: `plan "${plan.id}" needs its Razorpay plan id` });
      if (plan.razorpayPlanId && razorpayIds.has(plan.razorpayPlanId)) ctx.addIssue({ code: "custom", path: ["plans", index, "razorpayPlanId"], message: `Razorpay plan ${plan.razorpayPlanId} appears twice` });
      if (plan.razorpayPlanId) razorpayIds.add(plan.razorpayPlanId);
    }
    if (!ids.has("free")) ctx.addIssue({ code: "custom", path: ["plans"], message: 'a plan with id "free" is required: it applies without a subscription' });
  });

/** Billing off: one plan, no limits. */
export const UNLIMITED: Plan = {
  id: "free",
  name: "Free",
  razorpayPlanId: null,
  price: { amount: 0, currency: "INR", interval: "month" },
  totalCount: 1,
  limits: { members: null, storageMb: null, teamTokens: null, aiClients: null },
};

/** Reads and checks the file; the message names the file and every problem in it. */
export function loadPlansFile(file: string): Plan[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`ENCLAVE_PLANS_FILE: ${file} is not readable JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const result = plansFileSchema.safeParse(json);
  if (!result.success) {
    throw new Error(`ENCLAVE_PLANS_FILE: ${file}: ${result.error.issues.map((issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`).join("; ")}`);
  }
  return result.data.plans;
}

/** "₹499.00 / month", in the plan's currency, for the Billing page. */
export function formatPrice(price: Plan["price"]): string {
  if (price.amount === 0) return "free";
  const money = new Intl.NumberFormat("en-IN", { style: "currency", currency: price.currency }).format(price.amount / 100);
  return `${money} / ${price.interval}`;
}
