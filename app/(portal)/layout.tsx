import Link from "next/link";
import type { ReactNode } from "react";
import { requireUser } from "@/app/_server/auth";

export default async function PortalLayout({ children }: { children: ReactNode }) {
  const { user } = await requireUser();
  return (
    <>
      <header className="topbar">
        <Link href="/workspaces" className="brand">
          Enclave
        </Link>
        <nav aria-label="Main">
          <Link href="/workspaces">Workspaces</Link>
          <Link href="/account">Account</Link>
        </nav>
        <form method="post" action="/api/auth/sign-out" className="sign-out">
          <span className="who">{user.email}</span>
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main className="page">{children}</main>
    </>
  );
}
