/**
 * A coarse, human name for a User-Agent header: "Firefox on Linux". Coarse on purpose — no
 * versions — so the sessions list reads well and a browser update is not a "new device"
 * (lib/auth/devices.ts keys on this label). The header is the client's to choose: this is a
 * description for the person, never a security decision on its own. Order matters: Edge and
 * Opera say "Chrome", Chrome says "Safari".
 */
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bChrom(e|ium)\/|\bCriOS\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/\bcurl\//, "curl"],
  [/\bnode\b|\bundici\b/i, "Node.js"],
];

const SYSTEMS: [RegExp, string][] = [
  [/\b(iPhone|iPad|iPod)\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bWindows\b/, "Windows"],
  [/\bLinux\b/, "Linux"],
];

const first = (table: [RegExp, string][], userAgent: string) => table.find(([pattern]) => pattern.test(userAgent))?.[1];

export function describeUserAgent(userAgent: string | null | undefined): { browser: string; os: string; label: string } {
  const ua = userAgent ?? "";
  const browser = first(BROWSERS, ua) ?? "Unknown browser";
  const os = first(SYSTEMS, ua) ?? "unknown system";
  return { browser, os, label: `${browser} on ${os}` };
}
