import { PostThenSayButton } from "./post-then-say-button";

export function ResendVerificationButton() {
  return (
    <PostThenSayButton
      path="/api/account/email/verification"
      label="Send the confirmation link again"
      pendingLabel="Sending…"
      done="A new link is on its way; it works once, within 24 hours."
    />
  );
}
