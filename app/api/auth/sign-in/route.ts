import { signedInResponse } from "@/lib/auth/responses";
import { signIn, signInSchema } from "@/lib/auth/sign-in";
import { handler, otherMethods } from "@/lib/http/handler";

export const POST = handler({ trust: "public", body: signInSchema }, async ({ body, ip, userAgent }) => {
  const user = await signIn(body, ip);
  return signedInResponse(user.id, { ip, userAgent }, { user: { id: user.id, email: user.email } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
