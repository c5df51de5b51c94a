import { z } from "zod";
import { text } from "../http/text";

/**
 * What the token and revocation endpoints read from their form bodies (RFC 6749 §3.2, RFC
 * 7009 §2.1). Every field is optional here: which ones a grant needs is the grant's to say, in
 * OAuth's own error words. Parameters not listed are ignored, as RFC 6749 §3.1 asks.
 */
const field = text(4096).optional();

const clientCredentials = { client_id: text(2048).optional(), client_secret: field };

export const tokenFormSchema = z.object({
  grant_type: text(256).optional(),
  code: field,
  code_verifier: field,
  redirect_uri: field,
  refresh_token: field,
  scope: text(1024).optional(),
  resource: field,
  ...clientCredentials,
});
export type TokenForm = z.infer<typeof tokenFormSchema>;

export const revokeFormSchema = z.object({
  // Any length the form cap allows: RFC 7009 answers a token it does not know with 200, however odd.
  token: text(16 * 1024).optional(),
  token_type_hint: text(64).optional(),
  ...clientCredentials,
});
export type RevokeForm = z.infer<typeof revokeFormSchema>;

/** Client authentication reads only these. */
export type ClientCredentialsForm = Pick<TokenForm, keyof typeof clientCredentials>;
