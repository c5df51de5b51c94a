import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { getMemberWorkspace, requireUser } from "@/app/_server/auth";
import { workspacePath } from "@/app/_components/format";
import { WorkspaceNav, type NavLink } from "@/app/_components/workspace-nav";
import { grantCovers, workspaceGrant, WorkspaceOfflineError } from "@/lib/access/authorize";
import type { Scope } from "@/lib/access/scopes";
import { getConfig } from "@/lib/config";

const sections: { segment: string; label: string; scope: Scope }[] = [
  { segment: "knowledge", label: "Knowledge", scope: "search" },
  { segment: "search", label: "Search", scope: "search" },
  { segment: "sessions", label: "Sessions", scope: "search" },
  { segment: "events", label: "Events", scope: "events:read" },
  { segment: "artifacts", label: "Artifacts", scope: "search" },
  { segment: "tokens", label: "Tokens", scope: "tokens" },
  { segment: "members", label: "Members", scope: "members" },
  { segment: "clients", label: "AI clients", scope: "clients" },
  { segment: "settings", label: "Settings", scope: "settings" },
  { segment: "audit", label: "Audit", scope: "audit" },
];

// Owners only (scope `billing`), and only while billing is on: with no Razorpay keys nothing of it shows.
const billingSection = { segment: "billing", label: "Billing", scope: "billing" } as const;

/**
 * The workspace frame: its name and the sections this person's role can use. Hiding a link is
 * only courtesy; every page checks its own scope with requireWorkspaceAccess().
 */
export default async function WorkspaceLayout({ children, params }: { children: ReactNode; params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const { user } = await requireUser();
  const [workspace, grant] = await Promise.all([
    getMemberWorkspace(user.id, workspaceId),
    // The page below is not rendered while a restore has the workspace offline: it would only fail the same way.
    workspaceGrant({ kind: "user", userId: user.id }, workspaceId).catch((error: unknown) => {
      if (error instanceof WorkspaceOfflineError) return error;
      throw error;
    }),
  ]);
  if (!workspace || !grant) notFound();
  if (grant instanceof WorkspaceOfflineError) {
    return (
      <div className="workspace">
        <p className="workspace-name">{workspace.name}</p>
        <p role="status">{grant.message}</p>
      </div>
    );
  }
  const links: NavLink[] = [
    { href: workspacePath(workspaceId), label: "Overview" },
    ...[...sections, ...(getConfig().billing ? [billingSection] : [])]
      .filter((section) => grantCovers(grant, section.scope)).map((section) => ({ href: workspacePath(workspaceId, section.segment), label: section.label })),
  ];
  return (
    <div className="workspace">
      <div className="workspace-head">
        <p className="workspace-name">
          {workspace.name} <span className="muted">· {workspace.role}</span>
        </p>
        <WorkspaceNav label="Workspace" links={links} />
      </div>
      {children}
    </div>
  );
}
