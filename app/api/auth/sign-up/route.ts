import { limitSignUp } from "@/lib/http/rate-limits";
import { signedInResponse } from "@/lib/auth/responses";
import { createUser, credentialsSchema } from "@/lib/auth/users";
import { handler, otherMethods } from "@/lib/http/handler";

export const POST = handler({ trust: "public", body: credentialsSchema }, async ({ body, ip, userAgent }) => {
  await limitSignUp(ip);
  const user = await createUser(body);
  return signedInResponse(user.id, { ip, userAgent }, { user: { id: user.id, email: user.email } }, 201);
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
