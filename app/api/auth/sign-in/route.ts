import { signedInResponse } from "@/lib/auth/responses";
import { signIn, signInSchema } from "@/lib/auth/sign-in";
import { handler } from "@/lib/http/handler";

export const POST = handler({ trust: "public", body: signInSchema }, async ({ body, ip, userAgent }) => {
  const user = await signIn(body, ip);
  return signedInResponse(user.id, { ip, userAgent }, { user: { id: user.id, email: user.email } });
});
