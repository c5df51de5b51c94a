import { openApiDocument } from "@/lib/api/openapi";
import { getConfig } from "@/lib/config";
import { handler, otherMethods } from "@/lib/http/handler";

export const GET = handler({ trust: "public" }, () =>
  Promise.resolve(Response.json(openApiDocument(getConfig().ENCLAVE_PUBLIC_URL.origin), { headers: { "cache-control": "no-cache" } })),
);
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
