import Link from "next/link";
import { AuditPager, AuditTable } from "@/app/_components/audit-table";
import { auditPageHref, parseAuditSearch } from "@/app/_server/audit-query";
import { requireUser } from "@/app/_server/auth";
import { readAccountActivity } from "@/lib/audit/activity";

export const metadata = { title: "Activity · Enclave" };

const PAGE_SIZE = 50;
const BASE = "/account/activity";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** The signed-in person's own rows of control.db's audit trail (lib/audit/activity.ts says which), newest first. */
export default async function ActivityPage({ searchParams }: Props) {
  const { user } = await requireUser();
  const search = parseAuditSearch(await searchParams, PAGE_SIZE);
  const page = search.query ? await readAccountActivity(user, search.query) : null;
  return (
    <>
      <p>
        <Link href="/account">← Account</Link>
      </p>
      <h1>Activity</h1>
      <p className="muted">
        Sign-ins (and failed attempts with your email), two-factor changes, tokens you issued, AI clients you connected, exports and closure
        requests, and changes others made to your account. Another person&apos;s IP address is not shown.
      </p>
      {!page ? (
        <p role="alert">
          That page link is not valid. <Link href={BASE}>Start from your newest activity</Link>.
        </p>
      ) : page.items.length === 0 ? (
        <p className="muted">No activity recorded.</p>
      ) : (
        <>
          <AuditTable label="Your activity" rows={page.items} />
          <AuditPager page={page} href={(cursor) => auditPageHref(BASE, search.given, cursor)} />
        </>
      )}
    </>
  );
}
