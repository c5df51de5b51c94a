import { getControlDb } from "@/lib/db/store";
import { handler, otherMethods } from "@/lib/http/handler";

export const GET = handler({ trust: "public" }, async () => {
  await getControlDb();
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
