/**
 * Which redirect URIs a client may register, and when a requested one matches.
 *
 * Allowed: https anywhere; plain http only on a loopback host (a native app's local listener,
 * RFC 8252 §7.3); and private-use schemes (`cursor://…`, `com.example.app:/cb`, RFC 8252
 * §7.1). Schemes a browser would run or render in place are refused outright.
 */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const REFUSED_SCHEMES = new Set(["javascript:", "data:", "file:", "vbscript:", "blob:", "about:", "ftp:", "ws:", "wss:", "mailto:", "filesystem:"]);
const SCHEME = /^[a-z][a-z0-9+.-]*:$/;

export const MAX_REDIRECT_URIS = 10;

/** Why `uri` cannot be registered, or null when it can. */
export function redirectUriProblem(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "is not an absolute URL";
  }
  if (url.hash || uri.includes("#")) return "must not contain a fragment";
  if (url.username || url.password) return "must not contain credentials";
  if (url.protocol === "https:") return url.hostname ? null : "needs a host";
  if (url.protocol === "http:") return LOOPBACK_HOSTS.has(url.hostname) ? null : "may use http only on localhost, 127.0.0.1 or [::1]";
  if (REFUSED_SCHEMES.has(url.protocol) || !SCHEME.test(url.protocol)) return `may not use the ${url.protocol} scheme`;
  return null;
}

// A loopback http URI as written: scheme and host exactly, an optional port, then the path
// and query. Read from the text, not from `new URL`, which would also forgive case, `..`
// segments and percent-encoding: nothing but the port and an empty path is loosened.
const LOOPBACK_URI = /^(http:\/\/(?:localhost|127\.0\.0\.1|\[::1\]))(?::\d{1,5})?([/?].*)?$/s;

/** A loopback http URI without its port, with an empty path written as `/`; null for any other URI. */
function loopbackWithoutPort(uri: string): string | null {
  const match = LOOPBACK_URI.exec(uri);
  if (!match?.[1]) return null;
  const rest = match[2] ?? "";
  return `${match[1]}${rest.startsWith("/") ? rest : `/${rest}`}`;
}

/**
 * Exact string comparison — case, trailing slash and query all count — except for loopback
 * http (RFC 8252 §7.3): a native app picks a free port per sign-in, so any port matches, and
 * `http://127.0.0.1` and `http://127.0.0.1:54321/` are the same URL (an empty path is `/`).
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const left = loopbackWithoutPort(registered);
  return left !== null && left === loopbackWithoutPort(requested) && URL.canParse(requested);
}

/**
 * True when the code goes to a program on the person's own machine: any local program can
 * claim any client name, so the consent page warns about it.
 */
export function isLoopbackRedirect(uri: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(uri).hostname);
  } catch {
    return false;
  }
}
