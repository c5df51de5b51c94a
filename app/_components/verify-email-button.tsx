import { PostThenSayButton } from "./post-then-say-button";

/**
 * Confirms the email with the link's token on a click, not on page load: mail scanners open
 * links to look at them, and a GET that used the token would spend it for them.
 */
export function VerifyEmailButton({ token }: { token: string }) {
  return <PostThenSayButton path="/api/auth/verify-email" body={{ token }} label="Confirm my email" pendingLabel="Confirming…" done="Your email is confirmed." />;
}
