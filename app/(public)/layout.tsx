import Link from "next/link";
import type { ReactNode } from "react";

/** The public trust pages: readable without an account, so no session is asked for here. */
export default function PublicLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="topbar">
        <Link href="/" className="brand">
          Enclave
        </Link>
        <nav aria-label="About this instance">
          <Link href="/security">Security</Link>
          <Link href="/privacy">Privacy</Link>
          <Link href="/cookies">Cookies</Link>
        </nav>
      </header>
      <main className="page">{children}</main>
    </>
  );
}
