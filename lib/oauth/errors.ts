import { HttpError } from "../http/errors";

/**
 * OAuth endpoints answer in RFC 6749's error shape (`error`, `error_description`), which
 * clients parse, and keep our own shape beside it (`message`, `requestId`) like every other
 * endpoint. `error` is the RFC's code, so both readings agree.
 */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target"
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  | "unsupported_token_type";

export function oauthError(code: OAuthErrorCode, description: string, status = 400, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, code, description, { ...headers, pragma: "no-cache" }, undefined, { error_description: description });
}
