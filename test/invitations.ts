import { expect } from "vitest";
import { jsonOf, request } from "./harness";

/** The token in an invitation link (`/invite?token=…`). */
export const tokenOfLink = (link: string): string => new URL(link).searchParams.get("token") ?? "";

/** Accepts, as the person with `cookie`, the invitation an add-member answer (201) returned the link of. */
export async function acceptFromAnswer(added: Response, cookie: string): Promise<Response> {
  expect(added.status).toBe(201);
  const { link } = await jsonOf<{ link: string | null }>(added);
  expect(link).toMatch(/\/invite\?token=enc_inv_/);
  const accepted = await request("/api/invitations/accept", { cookie, body: { token: tokenOfLink(link!) } });
  expect(accepted.status).toBe(200);
  return accepted;
}
