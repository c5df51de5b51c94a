import { randomBytes } from "node:crypto";

/** Ids are random, lowercase and URL-safe, so they can name folders without escaping. */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString("hex")}`;
}

export const WORKSPACE_ID_PATTERN = /^ws_[0-9a-f]{32}$/;
