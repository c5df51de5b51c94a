/**
 * Where to go after signing in. Only a path on this site: `//evil.example`, `/\evil.example`
 * and absolute URLs would turn sign-in into an open redirector.
 */
export const DEFAULT_AFTER_SIGN_IN = "/workspaces";

export function safeReturnPath(value: string | string[] | null | undefined): string {
  if (typeof value !== "string" || value.length > 4096) return DEFAULT_AFTER_SIGN_IN;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\") || /[\u0000-\u001f]/.test(value)) return DEFAULT_AFTER_SIGN_IN;
  return value;
}
