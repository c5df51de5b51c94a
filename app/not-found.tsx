import Link from "next/link";

export default function NotFound() {
  return (
    <main className="auth">
      <h1>Not found</h1>
      <p>There is nothing here, or you do not have access to it.</p>
      <Link href="/workspaces">Back to your workspaces</Link>
    </main>
  );
}
