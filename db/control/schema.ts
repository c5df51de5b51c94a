import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { auditHeadTable, auditLogTable } from "../audit-columns";

// Times are integer milliseconds since the epoch throughout.

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    /**
     * Argon2id. Emptied (never null: rebuilding the table inside a migration would cascade into
     * every table that references it) when a closed account is purged and the row stays as its tombstone.
     */
    passwordHash: text("password_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Base32 TOTP secret; set once MFA is confirmed. control.db is encrypted, so it is at rest encrypted. */
    totpSecret: text("totp_secret"),
    /** Secret shown during set-up, promoted to `totpSecret` when the first code checks out. */
    totpPendingSecret: text("totp_pending_secret"),
    /** Last accepted TOTP time step: a code is good once, even inside its window. */
    totpLastStep: integer("totp_last_step"),
    /**
     * Account closure (lib/lifecycle/closure.ts): set when the person asks to close, with the
     * time the purge job may erase the account; both cleared by "Cancel closure". `closedAt`
     * marks a purged account: only email, created and closed remain (its tombstone).
     */
    closureRequestedAt: integer("closure_requested_at"),
    purgeAt: integer("purge_at"),
    closedAt: integer("closed_at"),
    /**
     * Set by the operator (`POST /api/operator/users/{id}/suspend`): while set, the person's
     * sessions, team tokens they issued and OAuth grants are refused on the next request.
     */
    suspendedAt: integer("suspended_at"),
    /** The Clerk user this account is (Clerk mode): linked on first sight of a verified session or by the user.created webhook. */
    clerkUserId: text("clerk_user_id"),
    /** When the person proved they read mail at `email` (a verify link, or Clerk's own verification); null until then. */
    emailVerifiedAt: integer("email_verified_at"),
  },
  (t) => [uniqueIndex("users_email_unique").on(t.email), uniqueIndex("users_clerk_user_unique").on(t.clerkUserId)],
);

export const backupCodes = sqliteTable(
  "backup_codes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("backup_codes_user").on(t.userId), uniqueIndex("backup_codes_hash").on(t.codeHash)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    /** The id before the last rotation, honoured for a short grace so parallel requests survive it. */
    previousTokenHash: text("previous_token_hash"),
    rotatedAt: integer("rotated_at").notNull(),
    createdAt: integer("created_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /** When the person last re-entered their password (and TOTP) in this session: export and closure ask for it. */
    reauthAt: integer("reauth_at"),
  },
  (t) => [
    uniqueIndex("sessions_token_hash").on(t.tokenHash),
    index("sessions_previous_token_hash").on(t.previousTokenHash),
    index("sessions_user").on(t.userId),
  ],
);

export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  /**
   * Deletion (lib/lifecycle/workspace-deletion.ts): a deleted workspace answers 404 to every
   * principal but its owner's restore until `purgeAt`, when the purge job removes its file and
   * this row. `deletedWith` says why: the owner deleted it, or it goes with a closing account
   * (and comes back if that closure is cancelled).
   */
  deletedAt: integer("deleted_at"),
  deletedBy: text("deleted_by"),
  deletedWith: text("deleted_with", { enum: ["owner", "account_closure"] }),
  purgeAt: integer("purge_at"),
  /**
   * Set while `enclave backup restore --workspace` swaps its file (lib/backup/): every request
   * for the workspace answers 503 until it is cleared, so nothing is written to the file being replaced.
   */
  offlineSince: integer("offline_since"),
});

export const memberships = sqliteTable(
  "memberships",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member", "viewer"] }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId] }), index("memberships_user").on(t.userId)],
);

/**
 * Team tokens: bearer secrets for scripts and agents, bound to one workspace. Only the SHA-256
 * of the token is stored (see lib/access/tokens.ts). `issuedBy` is deliberately not a foreign
 * key: a token issued by someone who is no longer a member must stop working, not become
 * an operator token.
 */
export const teamTokens = sqliteTable(
  "team_tokens",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** The role it was issued with, or null for an explicit scope list. */
    role: text("role", { enum: ["viewer", "member", "admin"] }),
    /** JSON array of scopes it carries (the role's scopes at issue time, or the explicit list). */
    scopes: text("scopes").notNull(),
    /** `user` (then issuedBy is the user id) or `operator` (the CLI, with shell access to the data dir). */
    issuerType: text("issuer_type", { enum: ["user", "operator"] }).notNull(),
    issuedBy: text("issued_by"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("team_tokens_hash").on(t.tokenHash), index("team_tokens_workspace").on(t.workspaceId)],
);

/**
 * OAuth clients registered through dynamic client registration (RFC 7591). Clients that use a
 * Client ID Metadata Document (an https URL as client_id) are not stored here: their document
 * is fetched and cached instead. A confidential client's secret is kept only as its SHA-256.
 */
export const oauthClients = sqliteTable("oauth_clients", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** JSON array of exact redirect URIs. */
  redirectUris: text("redirect_uris").notNull(),
  tokenEndpointAuthMethod: text("token_endpoint_auth_method", { enum: ["none", "client_secret_post", "client_secret_basic"] }).notNull(),
  secretHash: text("secret_hash"),
  /** The validated metadata as registered (JSON), echoed back by registration. */
  metadata: text("metadata").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * One person's consent for one client in one workspace, from the first code redemption on.
 * Every access and refresh token descends from a grant; revoking the grant (the person, an
 * admin, code reuse or refresh-token reuse) kills all of them at once. `clientId` is not a
 * foreign key: metadata-document clients have no row.
 */
export const oauthGrants = sqliteTable(
  "oauth_grants",
  {
    id: text("id").primaryKey(),
    clientId: text("client_id").notNull(),
    clientName: text("client_name").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** JSON array of the scopes consented to. */
    scopes: text("scopes").notNull(),
    resource: text("resource").notNull(),
    redirectUri: text("redirect_uri").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("oauth_grants_user").on(t.userId), index("oauth_grants_workspace").on(t.workspaceId)],
);

/** Authorization codes: single-use, short-lived, bound to everything the consent was for. */
export const oauthCodes = sqliteTable("oauth_codes", {
  codeHash: text("code_hash").primaryKey(),
  clientId: text("client_id").notNull(),
  clientName: text("client_name").notNull(),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  resource: text("resource").notNull(),
  workspaceId: text("workspace_id")
    .notNull()
    .references(() => workspaces.id, { onDelete: "cascade" }),
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  scopes: text("scopes").notNull(),
  offlineAccess: integer("offline_access", { mode: "boolean" }).notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  /** The grant its first redemption created: a second redemption revokes it. */
  grantId: text("grant_id"),
});

/**
 * Access and refresh tokens, by SHA-256 only. A refresh token is used once: redeeming it sets
 * `usedAt`, and presenting it again is reuse, which revokes the grant.
 */
export const oauthTokens = sqliteTable(
  "oauth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    grantId: text("grant_id")
      .notNull()
      .references(() => oauthGrants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["access", "refresh"] }).notNull(),
    /** JSON array: a refresh may narrow the grant's scopes, never widen them. */
    scopes: text("scopes").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("oauth_tokens_grant").on(t.grantId)],
);

export const auditLog = auditLogTable();
export const auditHead = auditHeadTable();

/**
 * One row, bumped in the same transaction as every change that can take access away (a team
 * token or an AI client revoked, a member removed or demoted, a session ended), so a live event
 * stream re-checks its caller before the next event rather than at its next heartbeat
 * (lib/db/access-epoch.ts). A counter, not a log: the audit trail says what changed.
 */
export const accessEpoch = sqliteTable("access_epoch", {
  id: integer("id").primaryKey(),
  value: integer("value").notNull(),
});

/**
 * Periodic work (lib/jobs/): one lease per job, so two processes (the server and a systemd
 * timer's `enclave jobs run`) never run it at once, and one row per run with its outcome.
 * A lease that outlives its holder (a crash) is taken over once it expires.
 */
export const jobLocks = sqliteTable("job_locks", {
  job: text("job").primaryKey(),
  holder: text("holder").notNull(),
  acquiredAt: integer("acquired_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

export const jobRuns = sqliteTable(
  "job_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    job: text("job").notNull(),
    /** `schedule` (the in-process runner), `cli` (`enclave jobs run`, a systemd timer), `operator` (the operator API). */
    trigger: text("trigger", { enum: ["schedule", "cli", "operator"] }).notNull(),
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
    outcome: text("outcome", { enum: ["running", "ok", "failed", "skipped"] }).notNull(),
    /** JSON object: what the run did (rows swept, workspaces purged, …). */
    figures: text("figures").notNull().default("{}"),
    error: text("error"),
  },
  (t) => [index("job_runs_job").on(t.job, t.id)],
);

/**
 * The operator token (`enclave operator token`): only its SHA-256 is kept. Minting a new one
 * revokes the one before, so there is one live operator token at a time.
 */
export const operatorTokens = sqliteTable(
  "operator_tokens",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("operator_tokens_hash").on(t.tokenHash)],
);

/**
 * Restore drills (lib/backup/drill.ts): which backup was restored, each step of the smoke test
 * (JSON: name, ok, ms, figures, error) and the verdict, shown to operators.
 */
export const backupDrills = sqliteTable(
  "backup_drills",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    backupId: text("backup_id"),
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
    outcome: text("outcome", { enum: ["running", "ok", "failed"] }).notNull(),
    steps: text("steps").notNull().default("[]"),
    error: text("error"),
  },
  (t) => [index("backup_drills_started").on(t.startedAt)],
);

/**
 * Clerk session ids a `session.revoked`/`session.ended`/`session.removed` webhook (or sign-out)
 * ended: a still-unexpired JWT for one of them is refused at once. Rows go when the longest a
 * Clerk session token can live has passed (`expiresAt`).
 */
export const clerkEndedSessions = sqliteTable(
  "clerk_ended_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    endedAt: integer("ended_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("clerk_ended_sessions_expires").on(t.expiresAt)],
);

/**
 * Signed webhooks already handled, by provider and the provider's own delivery id (svix-id,
 * X-Razorpay-Event-Id): a replay finds its row and changes nothing.
 */
export const webhookReceipts = sqliteTable(
  "webhook_receipts",
  {
    provider: text("provider", { enum: ["clerk", "razorpay"] }).notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.eventId] }), index("webhook_receipts_received").on(t.receivedAt)],
);

/**
 * Invitations (lib/access/invitations.ts): a single-use link for one email, kept as the
 * SHA-256 of its secret. `workspaceId` null is an invitation to sign up only (an answered
 * access request); otherwise accepting it joins that workspace with `role`.
 */
export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    email: text("email").notNull(),
    workspaceId: text("workspace_id").references(() => workspaces.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["viewer", "member", "admin"] }),
    /** The admin who invited; null when the operator did (an answered access request). */
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    acceptedAt: integer("accepted_at"),
    acceptedBy: text("accepted_by").references(() => users.id, { onDelete: "set null" }),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("invitations_token_hash").on(t.tokenHash), index("invitations_workspace").on(t.workspaceId), index("invitations_email").on(t.email)],
);

/** Requests to join when sign-up is not open (the public /request-access form), answered by the operator. */
export const accessRequests = sqliteTable(
  "access_requests",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    message: text("message").notNull().default(""),
    ip: text("ip"),
    createdAt: integer("created_at").notNull(),
    status: text("status", { enum: ["pending", "approved", "declined"] }).notNull().default("pending"),
    answeredAt: integer("answered_at"),
    /** The sign-up invitation an approval issued. */
    invitationId: text("invitation_id").references(() => invitations.id, { onDelete: "set null" }),
  },
  (t) => [index("access_requests_status").on(t.status, t.createdAt), index("access_requests_email").on(t.email)],
);

/**
 * Single-use links sent by email: a password reset (30 minutes) or an email verification.
 * Only the SHA-256 of the secret is kept.
 */
export const emailTokens = sqliteTable(
  "email_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["password_reset", "email_verification"] }).notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [uniqueIndex("email_tokens_hash").on(t.tokenHash), index("email_tokens_user").on(t.userId, t.purpose)],
);

/**
 * Devices a person has signed in from (a hash of the user agent family, never the raw string
 * as a key): a sign-in from one not seen before sends a security notice when SMTP is set.
 */
export const knownDevices = sqliteTable(
  "known_devices",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    deviceHash: text("device_hash").notNull(),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.deviceHash] })],
);

/**
 * Billing (lib/billing/), only when Razorpay keys are set. One row per Razorpay subscription we
 * created: the workspace it pays for is ours, fixed at creation, never taken from a webhook's
 * notes. `status` is Razorpay's; `eventAt` is the `created_at` (ms) of the newest webhook
 * applied, so an older delivery arriving late changes nothing. No foreign keys: the row (like
 * the payments) outlives the workspace's purge, as the record of what was sold.
 */
export const subscriptions = sqliteTable(
  "subscriptions",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    /** The owner who subscribed: the account the payments belong to. */
    userId: text("user_id").notNull(),
    planId: text("plan_id").notNull(),
    status: text("status", {
      enum: ["created", "authenticated", "active", "pending", "halted", "cancelled", "completed", "expired", "paused"],
    }).notNull(),
    currentEnd: integer("current_end"),
    /** Cancel at the end of the period was asked (and not resumed). */
    cancelAtPeriodEnd: integer("cancel_at_period_end", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    eventAt: integer("event_at").notNull().default(0),
    /**
     * An immediate cancellation owed to Razorpay because the workspace is deleted or its owner's
     * account closed: set in the same transaction, cleared when the SDK call succeeds; the
     * billing-cancellations job retries it, and the operator status shows what is still owed.
     */
    cancelOwedSince: integer("cancel_owed_since"),
    cancelAttempts: integer("cancel_attempts").notNull().default(0),
    cancelError: text("cancel_error"),
  },
  (t) => [index("subscriptions_workspace").on(t.workspaceId, t.createdAt), index("subscriptions_cancel_owed").on(t.cancelOwedSince)],
);

/**
 * Payment history: a payment (captured or failed) or a refund, keyed by Razorpay's own id so a
 * repeated delivery is the same row. Linked to account and workspace by id only, and kept after
 * closure and purge (the account's tombstone keeps its id): the purge never touches this table.
 */
export const payments = sqliteTable(
  "payments",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["payment", "refund"] }).notNull(),
    workspaceId: text("workspace_id").notNull(),
    userId: text("user_id").notNull(),
    subscriptionId: text("subscription_id"),
    /** The payment a refund returns. */
    paymentId: text("payment_id"),
    invoiceId: text("invoice_id"),
    /** In the currency's smallest unit (paise), as Razorpay sends it. */
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    status: text("status").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    recordedAt: integer("recorded_at").notNull(),
  },
  (t) => [index("payments_workspace").on(t.workspaceId, t.occurredAt), index("payments_user").on(t.userId, t.occurredAt)],
);

export const controlSchema = {
  users,
  backupCodes,
  sessions,
  workspaces,
  memberships,
  teamTokens,
  oauthClients,
  oauthGrants,
  oauthCodes,
  oauthTokens,
  auditLog,
  auditHead,
  accessEpoch,
  jobLocks,
  jobRuns,
  operatorTokens,
  backupDrills,
  clerkEndedSessions,
  webhookReceipts,
  invitations,
  accessRequests,
  emailTokens,
  knownDevices,
  subscriptions,
  payments,
};
export type ControlSchema = typeof controlSchema;
export type User = typeof users.$inferSelect;
export type Role = (typeof memberships.$inferSelect)["role"];
export type TeamToken = typeof teamTokens.$inferSelect;
export type OAuthClientRow = typeof oauthClients.$inferSelect;
export type OAuthGrantRow = typeof oauthGrants.$inferSelect;
export type JobRun = typeof jobRuns.$inferSelect;
export type BackupDrill = typeof backupDrills.$inferSelect;
export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type PaymentRow = typeof payments.$inferSelect;
