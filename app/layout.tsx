import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { ConsentNotice } from "./_components/consent-notice";
import "./globals.css";

export const metadata: Metadata = { title: "Enclave", description: "Shared context for AI agents, kept by your team." };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page is rendered per request: each response carries its own CSP nonce.
  await connection();
  return (
    <html lang="en">
      <body>
        {children}
        <footer className="site-footer">
          <Link href="/security">Security</Link> · <Link href="/privacy">Privacy</Link> · <Link href="/cookies">Cookies</Link>
        </footer>
        <ConsentNotice />
      </body>
    </html>
  );
}
