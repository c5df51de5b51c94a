import type { ReactNode } from "react";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main className="auth">
      <p className="brand">Enclave</p>
      {children}
    </main>
  );
}
