import { ClerkProvider } from "@clerk/nextjs";
import type { Metadata } from "next";
import { headers } from "next/headers";
import Link from "next/link";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { getConfig } from "@/lib/config";
import { ConsentNotice } from "./_components/consent-notice";
import "./globals.css";

export const metadata: Metadata = { title: "Enclave", description: "Shared context for AI agents, kept by your team." };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page is rendered per request: each response carries its own CSP nonce.
  await connection();
  const page = (
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
  const clerk = getConfig().clerk;
  if (!clerk) return page;
  // Clerk mode only: clerk-js loads with this response's nonce (lib/http/csp.ts), per request (`dynamic`), telemetry off.
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    <ClerkProvider publishableKey={clerk.publishableKey} nonce={nonce} dynamic telemetry={false} signInUrl="/sign-in" signUpUrl="/sign-up">
      {page}
    </ClerkProvider>
  );
}
