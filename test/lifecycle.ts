import fs from "node:fs";
import { and, eq } from "drizzle-orm";
import { generate } from "otplib";
import { expect } from "vitest";
import { memberships, users, type Role } from "@/db/control/schema";
import { controlAuditLog, workspaceAuditLog, type AuditAction } from "@/lib/audit/audit";
import { confirmTotpSetup, startTotpSetup } from "@/lib/auth/mfa";
import { createUser } from "@/lib/auth/users";
import { getControlDb, withWorkspace } from "@/lib/db/store";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { ORIGIN, request, sessionCookieFrom } from "./harness";

/** Shared by the lifecycle tests (transfer, deletion, closure, purges). */
export const PASSWORD = "correct horse battery";
export const DAY_MS = 24 * 60 * 60 * 1000;

/** A person with a real password (so re-authentication and sign-in work), and their first session's cookie. */
export async function person(email = `p-${Math.random().toString(36).slice(2)}@example.com`) {
  const user = await createUser({ email, password: PASSWORD });
  return { user, cookie: await signIn(email) };
}

/** Signs in through the portal endpoint; the cookie it set. */
export async function signIn(email: string, password = PASSWORD, code?: string): Promise<string> {
  const response = await request("/api/auth/sign-in", { body: { email, password, code }, headers: { origin: ORIGIN } });
  expect(response.status, await response.clone().text()).toBe(200);
  return sessionCookieFrom(response);
}

/** Turns TOTP on for `userId`; returns a function giving a fresh code (the next unused step) each call. */
export async function withTotp(userId: string, email: string): Promise<{ nextCode: () => Promise<string> }> {
  const { secret } = await startTotpSetup(userId, email);
  const stepMs = 30_000;
  let step = Math.floor(Date.now() / stepMs) - 1;
  const enabledAt = step * stepMs;
  await confirmTotpSetup(userId, await generate({ secret, epoch: Math.floor(enabledAt / 1000) }), enabledAt);
  // One step of drift is allowed each way: the current and next steps are still fresh.
  return { nextCode: () => generate({ secret, epoch: Math.floor((++step * stepMs) / 1000) }) };
}

export async function ownedWorkspace(ownerId: string, name: string): Promise<string> {
  return (await createWorkspace({ type: "user", userId: ownerId }, name)).id;
}

export async function addMembership(workspaceId: string, userId: string, role: Role): Promise<void> {
  const control = await getControlDb();
  await control.db.insert(memberships).values({ workspaceId, userId, role, createdAt: Date.now() });
}

export async function roleIn(workspaceId: string, userId: string): Promise<Role | null> {
  const control = await getControlDb();
  const [row] = await control.db.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  return row?.role ?? null;
}

export async function userRow(userId: string) {
  const control = await getControlDb();
  const [row] = await control.db.select().from(users).where(eq(users.id, userId));
  return row;
}

/** Control audit rows with `action` (all of them without one). */
export async function controlAudit(action?: AuditAction) {
  const control = await getControlDb();
  const rows = await control.db.select().from(controlAuditLog);
  return action ? rows.filter((row) => row.action === action) : rows;
}

export async function workspaceAudit(workspaceId: string, action: AuditAction) {
  return withWorkspace(workspaceId, (db) => db.db.select().from(workspaceAuditLog).where(eq(workspaceAuditLog.action, action)));
}

/** Every path under `dir`, files and folders, relative to it. */
export function pathsUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

/** GET /api/workspaces as this cookie: the ids of the live ones and of the deleted ones listed apart. */
export async function listed(cookie: string): Promise<{ live: string[]; deleted: string[] }> {
  const response = await request("/api/workspaces", { cookie });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { workspaces: { id: string }[]; deleted: { id: string }[] };
  return { live: body.workspaces.map((w) => w.id).sort(), deleted: body.deleted.map((w) => w.id).sort() };
}

export const transferRequest = (workspaceId: string, cookie: string | undefined, userId: string, token?: string) =>
  request(`/api/workspaces/${workspaceId}/transfer`, { ...(cookie ? { cookie } : {}), ...(token ? { token } : {}), body: { userId } });
export const deleteRequest = (workspaceId: string, cookie: string, confirmName: string) =>
  request(`/api/workspaces/${workspaceId}`, { cookie, method: "DELETE", body: { confirmName } });
export const restoreRequest = (workspaceId: string, cookie: string) => request(`/api/workspaces/${workspaceId}/restore`, { cookie, method: "POST" });
export const closeRequest = (cookie: string, body: unknown) => request("/api/account/close", { cookie, body });
export const cancelRequest = (cookie: string) => request("/api/account/cancel-closure", { cookie, method: "POST" });

/** The error code of a JSON error response, with its status. */
export async function refusalOf(response: Response): Promise<{ status: number; error: unknown }> {
  const body = (await response.json()) as { error?: unknown };
  return { status: response.status, error: body.error };
}
