import { handleRequest } from "@/lib/api/route";
import { notFound } from "@/lib/http/errors";

// Any /api path no route claims: the JSON 404, never Next's HTML page.
const unknownRoute = (request: Request) => handleRequest(request, undefined, () => Promise.reject(notFound("No such API route.")));

export { unknownRoute as GET, unknownRoute as POST, unknownRoute as PUT, unknownRoute as PATCH, unknownRoute as DELETE };
