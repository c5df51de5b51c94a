import { headers } from "next/headers";
import { notFound } from "next/navigation";
import { SubscribeForm, SubscriptionAction } from "@/app/_components/billing-actions";
import { formatTime } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { billingOverview, type BillingOverview } from "@/lib/workspace/billing";
import { isFinal, isPaid } from "@/lib/billing/subscriptions";
import { getConfig } from "@/lib/config";

export const metadata = { title: "Billing · Enclave" };

/** An amount in the currency's smallest unit, as Razorpay sends it: "₹499.00". */
function formatAmount(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en-IN", { style: "currency", currency }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

function SubscriptionState({ subscription, workspaceId }: { subscription: BillingOverview["subscription"]; workspaceId: string }) {
  if (!subscription || subscription.status === "created") return <p>No paid subscription: the Free plan applies.</p>;
  const until = subscription.currentEnd ? ` (${formatTime(subscription.currentEnd)})` : "";
  if (isPaid(subscription.status) && subscription.cancelAtPeriodEnd) {
    return (
      <>
        <p>The subscription is cancelled: it ends with its current period{until}, and the Free plan applies after that.</p>
        <SubscriptionAction workspaceId={workspaceId} action="resume" />
      </>
    );
  }
  if (isPaid(subscription.status)) {
    return (
      <>
        <p>
          Subscription {subscription.status}
          {subscription.currentEnd ? `; the current period ends ${formatTime(subscription.currentEnd)}` : ""}.
        </p>
        <SubscriptionAction workspaceId={workspaceId} action="cancel" />
      </>
    );
  }
  return <p>The last subscription is {subscription.status}{isFinal(subscription.status) ? "" : " at Razorpay"}: the Free plan applies.</p>;
}

/** The owner's Billing page: what the workspace is on and uses, the plans, and what was paid. */
export default async function BillingPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const billing = getConfig().billing;
  if (!billing) notFound();
  const gate = await requireWorkspaceAccess(workspaceId, "billing");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const overview = await billingOverview(gate.access);
  // The nonce proxy.ts made for this response: Checkout's script is loaded with it.
  const nonce = (await headers()).get("x-nonce") ?? "";
  const canSubscribe = !overview.subscription || !isPaid(overview.subscription.status);
  return (
    <>
      <h1>Billing</h1>
      <p>
        Current plan: <strong>{overview.plan.name}</strong> · {overview.plan.price}
      </p>
      <SubscriptionState subscription={overview.subscription} workspaceId={workspaceId} />

      <h2>Limits</h2>
      <table aria-label="Limits and usage">
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col">Used / allowed</th>
          </tr>
        </thead>
        <tbody>
          {overview.limits.map((limit) => (
            <tr key={limit.name}>
              <th scope="row">{limit.label}</th>
              <td>
                {limit.used} / {limit.allowed === null ? "unlimited" : limit.allowed}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Plans</h2>
      <ul aria-label="Plans" className="plans">
        {overview.plans.map((plan) => (
          <li key={plan.id}>
            <strong>{plan.name}</strong> · {plan.price}
            {plan.id === overview.plan.id ? <span className="muted"> · your plan</span> : null}
            {canSubscribe && plan.paid ? <SubscribeForm workspaceId={workspaceId} planId={plan.id} planName={plan.name} checkoutScript={billing.checkoutScript} nonce={nonce} /> : null}
          </li>
        ))}
      </ul>

      <h2>Payment history</h2>
      {overview.payments.length === 0 ? (
        <p className="muted">No payments yet.</p>
      ) : (
        <table aria-label="Payment history">
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Kind</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">Invoice</th>
            </tr>
          </thead>
          <tbody>
            {overview.payments.map((payment) => (
              <tr key={payment.id}>
                <td>{formatTime(payment.occurredAt)}</td>
                <td>{payment.kind}</td>
                <td>{formatAmount(payment.kind === "refund" ? -payment.amount : payment.amount, payment.currency)}</td>
                <td>{payment.status}</td>
                <td>{payment.invoiceId ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
