import { endpoints } from "@/lib/api/endpoints";
import { getConfig } from "@/lib/config";
import { readBody } from "@/lib/http/body";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { artifactResponse, deleteArtifact, getArtifact, parseArtifactName, parseContentType, putArtifact } from "@/lib/workspace/artifacts";

export const GET = apiRoute(endpoints.getArtifact, async ({ access, params }) => artifactResponse(await getArtifact(access, params.name ?? "")));
export const PUT = apiRoute(endpoints.putArtifact, async ({ access, params, request }) => {
  const name = parseArtifactName(params.name ?? "");
  const contentType = parseContentType(request.headers.get("content-type"));
  const bytes = await readBody(request, getConfig().ENCLAVE_ARTIFACT_MAX_BYTES);
  return putArtifact(access, name, contentType, bytes);
});
export const DELETE = apiRoute(endpoints.deleteArtifact, ({ access, params }) => deleteArtifact(access, params.name ?? ""));
export const { POST, PATCH } = otherMethods("GET", "PUT", "DELETE");
