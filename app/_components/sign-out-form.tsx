/** The plain form that ends this session (POST /api/auth/sign-out), for the pages a closing or suspended account reaches. */
export function SignOutForm() {
  return (
    <form method="post" action="/api/auth/sign-out">
      <button type="submit" className="secondary">
        Sign out
      </button>
    </form>
  );
}
