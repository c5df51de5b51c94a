import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sessions } from "@/db/control/schema";
import { useTempStore } from "@/test/store";
import { getControlDb } from "../db/store";
import { createSession, deleteSession, resolveSession, rotateSessionIfDue, ROTATION_GRACE_MS } from "./sessions";
import { createUser } from "./users";

useTempStore({ ENCLAVE_SESSION_IDLE_MINUTES: "30", ENCLAVE_SESSION_MAX_HOURS: "1", ENCLAVE_SESSION_ROTATE_MINUTES: "5" });

async function newSession() {
  const user = await createUser({ email: `s${Math.random()}@example.com`, password: "long enough password" });
  return { user, ...(await createSession(user.id)) };
}

async function ageSession(token: string, fields: Partial<typeof sessions.$inferSelect>) {
  const control = await getControlDb();
  const { sha256Hex } = await import("../crypto/secrets");
  await control.db.update(sessions).set(fields).where(eq(sessions.tokenHash, sha256Hex(token)));
}

describe("sessions", () => {
  it("stores only the hash of the session id", async () => {
    const { token } = await newSession();
    const control = await getControlDb();
    const rows = await control.db.select().from(sessions);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await resolveSession(token)).not.toBeNull();
  });

  it("refuses unknown, empty and oversized ids", async () => {
    await newSession();
    for (const token of [undefined, "", "x", "A".repeat(43), "A".repeat(10_000)]) {
      expect(await resolveSession(token)).toBeNull();
    }
  });

  it("ends a session idle for longer than the idle timeout", async () => {
    const { token } = await newSession();
    await ageSession(token, { lastSeenAt: Date.now() - 31 * 60_000 });
    expect(await resolveSession(token)).toBeNull();
    const control = await getControlDb();
    expect(await control.db.select().from(sessions)).toHaveLength(0);
  });

  it("ends a session past its absolute lifetime even while active", async () => {
    const { token } = await newSession();
    await ageSession(token, { expiresAt: Date.now() - 1 });
    expect(await resolveSession(token)).toBeNull();
  });

  it("does not rotate a fresh id", async () => {
    const { token } = await newSession();
    expect(await rotateSessionIfDue(token)).toBeNull();
  });

  it("rotates a due id, honours the old one only for the grace period", async () => {
    const { token, user } = await newSession();
    await ageSession(token, { rotatedAt: Date.now() - 6 * 60_000 });
    const rotated = await rotateSessionIfDue(token);
    expect(rotated?.token).toBeDefined();
    expect(rotated?.token).not.toBe(token);
    expect((await resolveSession(rotated!.token))?.user.id).toBe(user.id);
    // In-flight requests still carrying the old id keep working for a moment…
    expect((await resolveSession(token))?.user.id).toBe(user.id);
    // …but the old id cannot rotate again (no forked sessions)…
    expect(await rotateSessionIfDue(token)).toBeNull();
    // …and once the grace is over it opens nothing.
    await ageSession(rotated!.token, { rotatedAt: Date.now() - ROTATION_GRACE_MS - 1 });
    expect(await resolveSession(token)).toBeNull();
    expect(await resolveSession(rotated!.token)).not.toBeNull();
  });

  it("sign-out with the just-replaced id still ends the session", async () => {
    const { token } = await newSession();
    await ageSession(token, { rotatedAt: Date.now() - 6 * 60_000 });
    const rotated = await rotateSessionIfDue(token);
    expect(await deleteSession(token)).not.toBeNull();
    expect(await resolveSession(rotated!.token)).toBeNull();
  });

  it("does not rotate an expired session back to life", async () => {
    const { token } = await newSession();
    await ageSession(token, { rotatedAt: Date.now() - 6 * 60_000, expiresAt: Date.now() - 1 });
    expect(await rotateSessionIfDue(token)).toBeNull();
  });
});
