"use client";

/**
 * A one-time notice carried across a client navigation (e.g. "2 secrets were redacted" after
 * saving, shown on the entry's page). Kept in sessionStorage, not the URL, so a crafted link
 * cannot make the portal display a notice it never issued.
 */
const KEY = "enclave:flash";

type Flash = { path: string; message: string };

export function setFlash(path: string, message: string): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ path, message } satisfies Flash));
  } catch {
    // Storage may be disabled; the notice is a courtesy, the write already succeeded.
  }
}

/** The notice left for `path`, removed as it is read. */
export function takeFlash(path: string): string | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const flash = JSON.parse(raw) as Partial<Flash>;
    if (flash.path !== path || typeof flash.message !== "string") return null;
    sessionStorage.removeItem(KEY);
    return flash.message;
  } catch {
    return null;
  }
}
