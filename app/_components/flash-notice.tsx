"use client";

import { usePathname } from "next/navigation";
import { useEffect, useState } from "react";
import { takeFlash } from "./flash";

/** Shows the notice a previous page left for this one (see flash.ts), once. */
export function FlashNotice() {
  const pathname = usePathname();
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    const flash = takeFlash(pathname);
    if (flash) setMessage(flash);
  }, [pathname]);
  return (
    <div role="status" className={message ? "notice" : undefined}>
      {message}
    </div>
  );
}
