import { handleMcpPost, handleMcpPreflight, refuseMcpMethod } from "@/lib/mcp/endpoint";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const POST = (request: Request) => handleMcpPost(request);
export const OPTIONS = (request: Request) => handleMcpPreflight(request);
export const GET = (request: Request) => refuseMcpMethod(request);
export const DELETE = (request: Request) => refuseMcpMethod(request);
export const PUT = (request: Request) => refuseMcpMethod(request);
export const PATCH = (request: Request) => refuseMcpMethod(request);
