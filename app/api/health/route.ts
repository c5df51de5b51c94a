import { getControlDb } from "@/lib/db/store";
import { handler } from "@/lib/http/handler";

export const GET = handler({ trust: "public" }, async () => {
  await getControlDb();
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
});
