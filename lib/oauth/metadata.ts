import { issuer, mcpResourceUrl, OFFLINE_ACCESS, oauthScopes, oauthUrl } from "./resource";

/** RFC 9728: what a client learns from the MCP endpoint's 401 about where to get a token. */
export function protectedResourceMetadata() {
  return {
    resource: mcpResourceUrl(),
    authorization_servers: [issuer()],
    scopes_supported: [...oauthScopes, OFFLINE_ACCESS],
    bearer_methods_supported: ["header"],
    resource_name: "Enclave",
  };
}

/** RFC 8414: the authorization server's endpoints and what it supports. */
export function authorizationServerMetadata() {
  return {
    issuer: issuer(),
    authorization_endpoint: oauthUrl("authorize"),
    token_endpoint: oauthUrl("token"),
    registration_endpoint: oauthUrl("register"),
    revocation_endpoint: oauthUrl("revoke"),
    scopes_supported: [...oauthScopes, OFFLINE_ACCESS],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
    revocation_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
  };
}
