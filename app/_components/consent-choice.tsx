"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { consentCookie, type ConsentCategory } from "@/lib/http/consent";

export type ConsentOption = { id: ConsentCategory; label: string; description: string };

/**
 * Allow or decline the optional services this instance could load. It writes the first-party
 * consent cookie from this bundled script (no inline script, so the CSP needs nothing new),
 * then re-renders from the server, which alone decides, with hasConsent, whether to load them.
 */
export function ConsentChoice({ options, https, banner }: { options: ConsentOption[]; https: boolean; banner: boolean }) {
  const router = useRouter();
  const [saved, setSaved] = useState(false);
  const choose = (allowed: ConsentCategory[]) => {
    // Not HttpOnly on purpose: it holds no secret, only the choice, which the page that asks may read.
    document.cookie = consentCookie(allowed, { https });
    setSaved(true);
    router.refresh();
  };
  return (
    <section className={banner ? "consent-banner" : undefined} aria-label="Optional services">
      {banner && <p>This site can load an optional service from a third party. Nothing of it loads unless you allow it.</p>}
      <ul className="list">
        {options.map((option) => (
          <li key={option.id}>
            <strong>{option.label}</strong>: {option.description}
          </li>
        ))}
      </ul>
      <p className="consent-actions">
        <button type="button" onClick={() => choose(options.map((option) => option.id))}>
          Allow
        </button>{" "}
        <button type="button" className="secondary" onClick={() => choose([])}>
          Decline
        </button>{" "}
        {banner && <a href="/cookies">Cookies on this site</a>}
      </p>
      {saved && !banner && <p role="status">Your choice is saved.</p>}
    </section>
  );
}
