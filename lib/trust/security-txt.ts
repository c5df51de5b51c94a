import type { Config } from "../config";

/**
 * /.well-known/security.txt (RFC 9116) for this instance. Contact is the one field the RFC
 * requires, and only the operator knows it (ENCLAVE_SECURITY_CONTACT): without it there is no
 * file (null → the route answers 404 and logs how to set it), rather than a file pointing
 * reporters at nobody, or at Enclave's developers for a server they do not run.
 */
const EXPIRES_DAYS = 180;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Midnight UTC of `now`'s day plus 180 days: the same all day, so caches and the file agree. */
export function securityTxtExpires(now: number): Date {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS + EXPIRES_DAYS * DAY_MS);
}

export function securityTxt(config: Pick<Config, "ENCLAVE_PUBLIC_URL" | "ENCLAVE_SECURITY_CONTACT" | "ENCLAVE_SECURITY_POLICY_URL">, now: number): string | null {
  if (config.ENCLAVE_SECURITY_CONTACT === undefined) return null;
  const origin = config.ENCLAVE_PUBLIC_URL.origin;
  return [
    `Contact: ${config.ENCLAVE_SECURITY_CONTACT}`,
    `Expires: ${securityTxtExpires(now).toISOString()}`,
    `Policy: ${config.ENCLAVE_SECURITY_POLICY_URL ?? `${origin}/security`}`,
    `Canonical: ${origin}/.well-known/security.txt`,
    "Preferred-Languages: en",
    "",
  ].join("\n");
}
