import { EvidenceForm } from "@/app/_components/evidence-form";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { evidenceSigningKey } from "@/lib/audit/evidence";
import { MAX_EVIDENCE_PERIOD_DAYS, utcToday } from "@/lib/audit/evidence-period";

export const metadata = { title: "Audit evidence · Enclave" };

// Scope `audit`: owners and admins, who can already read every row the bundle holds.
export default async function AuditEvidencePage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "audit");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const key = evidenceSigningKey();
  return (
    <>
      <h1>Audit evidence</h1>
      <p>
        A signed bundle of this workspace&apos;s audit trail for a period, for an auditor to check offline. It holds the
        period&apos;s rows as canonical JSON Lines, the hash before the first row and after the last, a manifest, and an
        Ed25519 signature with this server&apos;s audit key. The same period always gives the same file, byte for byte,
        unless it ends today and rows were added since. Periods are whole UTC days, up to {MAX_EVIDENCE_PERIOD_DAYS} days;
        making a bundle is itself recorded in the audit trail.
      </p>
      <EvidenceForm action={`/api/workspaces/${encodeURIComponent(workspaceId)}/audit/evidence`} today={utcToday()} />
      <section aria-labelledby="verify-heading">
        <h2 id="verify-heading">Checking a bundle</h2>
        <p>
          The auditor runs <code>node bin/enclave-verify.mjs bundle.zip --public-key audit-key.pem</code> from an Enclave
          checkout (Node alone, no database). It should be given the public key by the server&apos;s operator
          (<code>enclave audit public-key</code>), not taken from this page or from the bundle.
        </p>
        <p>
          Key id <code>{key.keyId}</code>
        </p>
        <pre aria-label="Audit public key">{key.publicKeyPem}</pre>
      </section>
    </>
  );
}
