export type ApiError = { error: string; message: string; fieldErrors?: Record<string, string[]> };
export type ApiResult<T> = { ok: true; data: T } | { ok: false; status: number; error: ApiError };

/** POSTs JSON to our own API and returns the body or the one error shape. */
export async function postJson<T>(url: string, body?: unknown): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body ?? {}),
    });
  } catch {
    return { ok: false, status: 0, error: { error: "network", message: "Could not reach the server. Try again." } };
  }
  const data: unknown = await response.json().catch(() => ({}));
  if (response.ok) return { ok: true, data: data as T };
  const error = data as Partial<ApiError>;
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
