import "server-only";
import { HttpError } from "@/lib/http/errors";

/** The value, or null when lib answered "no such thing" (a 404 HttpError); anything else still throws. */
export async function findOrNull<T>(lookup: Promise<T>): Promise<T | null> {
  try {
    return await lookup;
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return null;
    throw error;
  }
}
