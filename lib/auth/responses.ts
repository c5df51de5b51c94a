import { noteActor } from "../log/request-context";
import { createSession } from "./sessions";
import { sessionCookie } from "./cookies";
import { recordSignInDevice } from "./devices";

/** A JSON response that also signs `userId` in with a brand-new session id (and notes its device: a new one is mailed a notice). */
export async function signedInResponse(
  userId: string,
  meta: { ip: string; userAgent?: string },
  body: unknown,
  status = 200,
): Promise<Response> {
  const { token, expiresAt } = await createSession(userId, meta);
  await recordSignInDevice(userId, meta);
  noteActor(`user:${userId}`);
  return Response.json(body, {
    status,
    headers: { "set-cookie": sessionCookie(token, expiresAt), "cache-control": "no-store" },
  });
}
