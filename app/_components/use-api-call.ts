"use client";

import { useState } from "react";
import { sendJson, type ApiError, type Method } from "./post-json";
import { useHydrated } from "./use-hydrated";

/**
 * The state every portal form around one API call shares. `call` sends the JSON, marks the
 * form pending meanwhile, keeps the API's error (or clears it) and resolves to the response
 * body, or to `undefined` when the call was refused (a 204 resolves to `null`). `ready` is for
 * the submit button: disabled until hydrated, so an early click cannot fall through to a
 * native submit, and while a call is in flight. `setError` is for errors found before sending.
 */
export function useApiCall() {
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();
  const [pending, setPending] = useState(false);

  async function call<T>(method: Method, url: string, body?: unknown): Promise<T | undefined> {
    setPending(true);
    const result = await sendJson<T>(method, url, body);
    setPending(false);
    setError(result.ok ? undefined : result.error);
    return result.ok ? result.data : undefined;
  }

  return { error, setError, pending, ready: hydrated && !pending, call };
}
