import type { ApiErrorBody } from "@/lib/api/types";

/** An API error as a form shows it (the request id is for logs, not for the form). */
export type ApiError = Omit<ApiErrorBody, "requestId">;
export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError };
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Sends JSON to our own API with the session cookie (same origin) and returns the body or the
 * one error shape. A 204 comes back as `data: null`.
 */
export async function sendJson<T>(method: Method, url: string, body?: unknown): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? { accept: "application/json" } : { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, error: { error: "network", message: "Could not reach the server. Try again." } };
  }
  const data: unknown = response.status === 204 ? null : await response.json().catch(() => ({}));
  if (response.ok) return { ok: true, status: response.status, data: data as T };
  const error = (data ?? {}) as Partial<ApiError>;
  return {
    ok: false,
    status: response.status,
    error: {
      error: error.error ?? "unknown",
      message: error.message ?? `The server answered ${response.status}.`,
      fieldErrors: error.fieldErrors,
    },
  };
}

/** POSTs JSON (an empty object when there is no body), as the sign-in and account forms expect. */
export function postJson<T>(url: string, body?: unknown): Promise<ApiResult<T>> {
  return sendJson<T>("POST", url, body ?? {});
}
