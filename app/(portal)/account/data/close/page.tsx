import Link from "next/link";
import { requireUser } from "@/app/_server/auth";
import { CloseAccountForm } from "@/app/_components/close-account-form";
import { formatTime, workspacePath } from "@/app/_components/format";
import { isMfaEnabled } from "@/lib/auth/mfa";
import { getConfig } from "@/lib/config";
import { closurePlan, type ClosurePlan } from "@/lib/lifecycle/closure";

export const metadata = { title: "Close my account · Enclave" };

const others = (members: number) => (members === 2 ? "1 other member" : `${members - 1} other members`);

function WorkspaceList({ label, workspaces, settingsLinks }: { label: string; workspaces: ClosurePlan["staying"]; settingsLinks?: boolean }) {
  return (
    <ul className="list" aria-label={label}>
      {workspaces.map((workspace) => (
        <li key={workspace.id}>
          {settingsLinks ? <Link href={workspacePath(workspace.id, "settings")}>{workspace.name}</Link> : workspace.name}
          {workspace.members > 1 ? <span className="muted"> · {others(workspace.members)}</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** Says exactly what closing does to this person's account and workspaces, then asks for the password (and code) to do it. */
export default async function CloseAccountPage() {
  const { user } = await requireUser();
  const plan = await closurePlan(user.id);
  const holdDays = getConfig().ENCLAVE_CLOSURE_HOLD_DAYS;
  return (
    <>
      <p className="muted">
        <Link href="/account">Account</Link> › <Link href="/account/data">Data</Link> › Close my account
      </p>
      <h1>Close my account</h1>
      <h2>What happens</h2>
      <ul className="list">
        <li>You are signed out at once, on every device.</li>
        <li>Every team token you issued and every AI client you connected is revoked. Cancelling the closure does not bring them back.</li>
        <li>
          For {holdDays} days, until {formatTime(plan.purgeAt)}, your account is closing: signing in shows only a page where you can cancel the closure.
        </li>
        <li>Then it is erased: your sessions, two-factor secrets, memberships and password. Only your email and when the account was created and closed are kept.</li>
      </ul>
      {plan.transferFirst.length > 0 ? (
        <section aria-labelledby="transfer-first">
          <h2 id="transfer-first">Transfer these first</h2>
          <p>
            Other people use these workspaces, and you are their only owner. Hand each one over in its settings (Transfer ownership), or it is deleted with your account and
            they lose it too.
          </p>
          <WorkspaceList label="Workspaces to transfer first" workspaces={plan.transferFirst} settingsLinks />
        </section>
      ) : null}
      {plan.deletedWithAccount.length > 0 ? (
        <section aria-labelledby="deleted-with">
          <h2 id="deleted-with">Deleted with your account</h2>
          <p>Only you use these workspaces: they are deleted now and erased with your account.</p>
          <WorkspaceList label="Workspaces deleted with your account" workspaces={plan.deletedWithAccount} />
        </section>
      ) : null}
      {plan.staying.length > 0 ? (
        <section aria-labelledby="staying">
          <h2 id="staying">Staying with their other owners</h2>
          <WorkspaceList label="Workspaces that stay" workspaces={plan.staying} />
        </section>
      ) : null}
      <h2>Confirm it is you</h2>
      <CloseAccountForm mfa={isMfaEnabled(user)} confirmBy={getConfig().clerk ? "recent-sign-in" : "password"} />
    </>
  );
}
