import { evidencePeriodSchema } from "../audit/evidence-period";
import { acceptInvitationSchema } from "../access/invitations";
import { accessRequestSchema } from "../access/access-requests";
import { signUpSchema } from "../access/sign-up";
import { mfaCodeSchema } from "../auth/mfa-schemas";
import { reauthSchema } from "../auth/reauth";
import { signInSchema } from "../auth/sign-in";
import { changePasswordSchema } from "../auth/password-change";
import { forgotPasswordSchema, resetPasswordSchema } from "../auth/password-reset";
import { verifyEmailSchema } from "../auth/email-verification";
import { subscribeSchema, verifyCheckoutSchema } from "../workspace/billing";
import { transferSchema } from "../lifecycle/transfer";
import { deleteWorkspaceSchema } from "../lifecycle/workspace-deletion";
import { consentDecisionSchema } from "../oauth/consent";
import { createWorkspaceSchema } from "../workspace/workspaces";
import { definePortalEndpoint as endpoint } from "./endpoint";

/** The portal's own JSON endpoints (besides /api/v1). Route files build their handlers from these entries. */
export const portalEndpoints = {
  health: endpoint({ operationId: "health", method: "GET", path: "/api/health", summary: "Liveness: 200 once control.db is open; status degraded (still 200) with reasons while the disk is full or low, or a file is damaged", trust: "public" }),
  openApi: endpoint({ operationId: "openApi", method: "GET", path: "/api/v1/openapi.json", summary: "The OpenAPI document of /api/v1", trust: "public" }),
  signUp: endpoint({ operationId: "signUp", method: "POST", path: "/api/auth/sign-up", summary: "Create an account and sign in, as ENCLAVE_SIGNUP allows (open; invite: with `invitation`; closed: only with an operator's sign-up pass)", trust: "public", localAuthOnly: true, body: signUpSchema }),
  acceptInvitation: endpoint({ operationId: "acceptInvitation", method: "POST", path: "/api/invitations/accept", summary: "Accept an invitation sent to your (verified, when mail is on) email: join its workspace with its role", trust: "user", body: acceptInvitationSchema }),
  requestAccess: endpoint({ operationId: "requestAccess", method: "POST", path: "/api/access-requests", summary: "Ask the operator for access when sign-up is not open: the same answer whatever the email", trust: "public", body: accessRequestSchema }),
  signIn: endpoint({ operationId: "signIn", method: "POST", path: "/api/auth/sign-in", summary: "Sign in with email, password and (when on) a second factor", trust: "public", localAuthOnly: true, body: signInSchema }),
  signOut: endpoint({ operationId: "signOut", method: "POST", path: "/api/auth/sign-out", summary: "End this session", trust: "public" }),
  listWorkspaces: endpoint({ operationId: "listWorkspaces", method: "GET", path: "/api/workspaces", summary: "The workspaces you belong to, and apart the deleted ones you own (restorable until purged)", trust: "user" }),
  createWorkspace: endpoint({ operationId: "createWorkspace", method: "POST", path: "/api/workspaces", summary: "Create a workspace you own", trust: "user", body: createWorkspaceSchema }),
  transferWorkspace: endpoint({ operationId: "transferWorkspace", method: "POST", path: "/api/workspaces/{workspaceId}/transfer", summary: "Hand the workspace to another member; you become an admin (owner only)", trust: "user", body: transferSchema }),
  deleteWorkspace: endpoint({ operationId: "deleteWorkspace", method: "DELETE", path: "/api/workspaces/{workspaceId}", summary: "Delete the workspace, typing its name to confirm; its owner can restore it until it is purged (owner only)", trust: "user", body: deleteWorkspaceSchema }),
  restoreWorkspace: endpoint({ operationId: "restoreWorkspace", method: "POST", path: "/api/workspaces/{workspaceId}/restore", summary: "Bring back a deleted workspace you own, before it is purged", trust: "user" }),
  // Billing (owner only, scope `billing`): each answers 404 while billing is off (no Razorpay keys).
  billingOverview: endpoint({ operationId: "billingOverview", method: "GET", path: "/api/workspaces/{workspaceId}/billing", summary: "The plan in force, every plan, each limit with its usage, the latest subscription and the payment history (owner only)", trust: "user" }),
  subscribe: endpoint({ operationId: "subscribe", method: "POST", path: "/api/workspaces/{workspaceId}/billing/subscribe", summary: "Create a Razorpay subscription to a paid plan and get what Checkout needs to pay for it (owner only)", trust: "user", body: subscribeSchema }),
  verifyCheckout: endpoint({ operationId: "verifyCheckout", method: "POST", path: "/api/workspaces/{workspaceId}/billing/verify", summary: "Checkout's answer, believed only when Razorpay's signature checks out: the subscription is then authenticated (owner only)", trust: "user", body: verifyCheckoutSchema }),
  cancelSubscription: endpoint({ operationId: "cancelSubscription", method: "POST", path: "/api/workspaces/{workspaceId}/billing/cancel", summary: "Cancel the paid subscription at the end of its current period (owner only)", trust: "user" }),
  resumeSubscription: endpoint({ operationId: "resumeSubscription", method: "POST", path: "/api/workspaces/{workspaceId}/billing/resume", summary: "Keep a subscription that was set to end with its period (owner only)", trust: "user" }),
  closeAccount: endpoint({ operationId: "closeAccount", method: "POST", path: "/api/account/close", summary: "Close your account (password, and code when MFA is on): signed out at once, erased after the hold", trust: "user", body: reauthSchema }),
  cancelClosure: endpoint({ operationId: "cancelClosure", method: "POST", path: "/api/account/cancel-closure", summary: "Cancel your account's closure during the hold", trust: "user", accountStates: "any" }),
  startMfa: endpoint({ operationId: "startMfa", method: "POST", path: "/api/account/mfa/setup", summary: "Start setting up TOTP", trust: "user", localAuthOnly: true }),
  confirmMfa: endpoint({ operationId: "confirmMfa", method: "POST", path: "/api/account/mfa/confirm", summary: "Turn TOTP on with a first code", trust: "user", localAuthOnly: true, body: mfaCodeSchema }),
  disableMfa: endpoint({ operationId: "disableMfa", method: "POST", path: "/api/account/mfa/disable", summary: "Turn TOTP off with a code", trust: "user", localAuthOnly: true, body: mfaCodeSchema }),
  listAccountClients: endpoint({ operationId: "listAccountClients", method: "GET", path: "/api/account/clients", summary: "Your connected AI clients, in every workspace", trust: "user" }),
  revokeAccountClient: endpoint({ operationId: "revokeAccountClient", method: "DELETE", path: "/api/account/clients/{grantId}", summary: "Disconnect one of your AI clients", trust: "user" }),
  auditEvidence: endpoint({ operationId: "auditEvidence", method: "GET", path: "/api/workspaces/{workspaceId}/audit/evidence", summary: "A signed evidence bundle (ZIP) of the workspace's audit rows for a period of UTC days", trust: "user", query: evidencePeriodSchema }),
  reauthenticate: endpoint({ operationId: "reauthenticate", method: "POST", path: "/api/account/reauth", summary: "Enter your password (and code) again, for export and closure", trust: "user", localAuthOnly: true, body: reauthSchema }),
  exportAccount: endpoint({ operationId: "exportAccount", method: "GET", path: "/api/account/export", summary: "Download your data as a ZIP (needs a re-auth in the last 10 minutes)", trust: "user" }),
  changePassword: endpoint({ operationId: "changePassword", method: "POST", path: "/api/account/password", summary: "Change your password (current password, and code when MFA is on): every other session ends, this one gets a new id", trust: "user", body: changePasswordSchema, localAuthOnly: true }),
  forgotPassword: endpoint({ operationId: "forgotPassword", method: "POST", path: "/api/auth/forgot-password", summary: "Mail a single-use reset link (30 minutes); the same answer whether or not the email has an account; 409 when this instance sends no mail", trust: "public", body: forgotPasswordSchema, localAuthOnly: true }),
  resetPassword: endpoint({ operationId: "resetPassword", method: "POST", path: "/api/auth/reset-password", summary: "Set a new password with a mailed reset link; every session ends", trust: "public", body: resetPasswordSchema, localAuthOnly: true }),
  verifyEmail: endpoint({ operationId: "verifyEmail", method: "POST", path: "/api/auth/verify-email", summary: "Confirm your email with a mailed verification link", trust: "public", body: verifyEmailSchema, localAuthOnly: true }),
  resendEmailVerification: endpoint({ operationId: "resendEmailVerification", method: "POST", path: "/api/account/email/verification", summary: "Mail a new verification link (409 when mail is off or the email is confirmed)", trust: "user", localAuthOnly: true }),
  listAccountSessions: endpoint({ operationId: "listAccountSessions", method: "GET", path: "/api/account/sessions", summary: "Your signed-in sessions: device, IP, last used, which is this one", trust: "user", localAuthOnly: true }),
  endOtherAccountSessions: endpoint({ operationId: "endOtherAccountSessions", method: "POST", path: "/api/account/sessions/end-others", summary: "Sign out everywhere else: every session but this one", trust: "user", localAuthOnly: true }),
  endAccountSession: endpoint({ operationId: "endAccountSession", method: "DELETE", path: "/api/account/sessions/{sessionId}", summary: "Sign out one of your sessions (404 for any id that is not yours)", trust: "user", localAuthOnly: true }),
  decideConsent: endpoint({ operationId: "decideConsent", method: "POST", path: "/oauth/authorize/decision", summary: "The consent page's answer", trust: "user", body: consentDecisionSchema }),
};

export const portalEndpointList = Object.values(portalEndpoints);
