"use client";

import { useEffect, useState } from "react";

/**
 * False until React has hydrated the page. Forms keep their submit button disabled until
 * then, so an early click cannot fall through to a native submit that skips our handler.
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}
