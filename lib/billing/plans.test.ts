import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatPrice, loadPlansFile } from "./plans";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-plans-test-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const free = { id: "free", name: "Free", razorpayPlanId: null, price: { amount: 0, currency: "INR", interval: "month" }, limits: { members: 3, storageMb: 50, teamTokens: 2, aiClients: 2 } };
const team = { id: "team", name: "Team", razorpayPlanId: "plan_Team0001", price: { amount: 49900, currency: "INR", interval: "month" }, limits: { members: 25, storageMb: 2048, teamTokens: 25, aiClients: 25 } };

let written = 0;
function fileWith(content: unknown): string {
  const file = path.join(dir, `plans-${(written += 1)}.json`);
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

/** The message loadPlansFile stops the server with, for a file holding `content`. */
function refusal(content: unknown): string {
  const file = fileWith(content);
  try {
    loadPlansFile(file);
  } catch (error) {
    const message = (error as Error).message;
    expect(message).toContain(`ENCLAVE_PLANS_FILE: ${file}`);
    return message;
  }
  throw new Error("the file was accepted");
}

describe("the plans file (ENCLAVE_PLANS_FILE)", () => {
  it("loads a free plan and a paid one, with a default totalCount", () => {
    const plans = loadPlansFile(fileWith({ plans: [free, team] }));
    expect(plans.map((plan) => plan.id)).toEqual(["free", "team"]);
    expect(plans[1]).toMatchObject({ razorpayPlanId: "plan_Team0001", totalCount: 120, limits: { members: 25 } });
  });

  it("the shipped ops/plans.example.json loads, with a free plan and Razorpay plan ids on the rest", () => {
    const plans = loadPlansFile(path.resolve(import.meta.dirname, "../../ops/plans.example.json"));
    expect(plans.find((plan) => plan.id === "free")?.razorpayPlanId).toBeNull();
    for (const plan of plans.filter((p) => p.id !== "free")) expect(plan.razorpayPlanId).toMatch(/^plan_/);
  });

  it("refuses a plan id given twice", () => {
    expect(refusal({ plans: [free, team, { ...team, razorpayPlanId: "plan_Other0001" }] })).toMatch(/plans\.2\.id: plan id "team" appears twice/);
  });

  it("refuses a file without the free plan", () => {
    expect(refusal({ plans: [team] })).toMatch(/a plan with id "free" is required/);
  });

  it("refuses a paid plan without its Razorpay plan id, and a free plan with one", () => {
    expect(refusal({ plans: [free, { ...team, razorpayPlanId: null }] })).toMatch(/plans\.1\.razorpayPlanId: plan "team" needs its Razorpay plan id/);
    expect(refusal({ plans: [{ ...free, razorpayPlanId: "plan_Free0001" }, team] })).toMatch(/plans\.0\.razorpayPlanId: the free plan has no Razorpay plan/);
  });

  it("refuses the same Razorpay plan on two plans", () => {
    expect(refusal({ plans: [free, team, { ...team, id: "team-2" }] })).toMatch(/Razorpay plan plan_Team0001 appears twice/);
  });

  it("refuses an unknown field, at the top, on a plan and among the limits", () => {
    expect(refusal({ plans: [free, team], extra: true })).toMatch(/\(file\): Unrecognized key/);
    expect(refusal({ plans: [free, { ...team, discount: 10 }] })).toMatch(/plans\.1: Unrecognized key.*discount/);
    expect(refusal({ plans: [free, { ...team, limits: { ...team.limits, seats: 5 } }] })).toMatch(/plans\.1\.limits: Unrecognized key.*seats/);
  });

  it("refuses a bad value: a negative or fractional limit, a bad currency, an id with capitals", () => {
    expect(refusal({ plans: [free, { ...team, limits: { ...team.limits, members: -1 } }] })).toMatch(/plans\.1\.limits\.members/);
    expect(refusal({ plans: [free, { ...team, limits: { ...team.limits, storageMb: 1.5 } }] })).toMatch(/plans\.1\.limits\.storageMb/);
    expect(refusal({ plans: [free, { ...team, price: { ...team.price, currency: "inr" } }] })).toMatch(/plans\.1\.price\.currency/);
    expect(refusal({ plans: [free, { ...team, id: "Team" }] })).toMatch(/plans\.1\.id: must be lowercase/);
  });

  it("refuses a file that is not JSON, or not there", () => {
    expect(refusal('{"plans": [')).toMatch(/is not readable JSON/);
    expect(() => loadPlansFile(path.join(dir, "missing.json"))).toThrow(/is not readable JSON/);
    expect(refusal({ plans: [] })).toMatch(/plans/);
  });

  it("formats a price for the Billing page", () => {
    expect(formatPrice({ amount: 0, currency: "INR", interval: "month" })).toBe("free");
    expect(formatPrice({ amount: 49900, currency: "INR", interval: "month" })).toBe("₹499.00 / month");
  });
});
