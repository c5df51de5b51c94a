import Link from "next/link";
import type { MissingScope } from "@/app/_server/auth";
import { scopeDescriptions } from "@/lib/access/scopes";
import { workspacePath } from "./format";

/** What a workspace page shows instead of itself when the person's role lacks its scope. */
export function ScopeRequired({ workspaceId, missing }: { workspaceId: string; missing: MissingScope }) {
  return (
    <section className="scope-required" aria-labelledby="scope-required-heading">
      <h1 id="scope-required-heading">You need the “{missing.scope}” scope</h1>
      <p>
        This page is for people who may {scopeDescriptions[missing.scope].toLowerCase()}. Your role in this workspace
        {missing.role ? <> ({missing.role})</> : null} does not include the <code>{missing.scope}</code> scope.
      </p>
      <p>Ask an admin or owner of the workspace if you need it.</p>
      <Link href={workspacePath(workspaceId)}>Back to the workspace</Link>
    </section>
  );
}
