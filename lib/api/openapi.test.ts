import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { request } from "@/test/harness";
import { useTempStore } from "@/test/store";
import { endpointList } from "./endpoints";

useTempStore();

describe("GET /api/v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document listing every endpoint with its scope", async () => {
    const response = await request("/api/v1/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { "x-required-scope": string }>> };
    const verdict = await new Validator().validate(document);
    expect(verdict.errors ?? []).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
    for (const endpoint of endpointList) {
      expect(document.paths[endpoint.path]?.[endpoint.method.toLowerCase()]?.["x-required-scope"]).toBe(endpoint.scope);
    }
  });

  it("resolves every $ref inside the document", async () => {
    const text = await (await request("/api/v1/openapi.json")).text();
    const document = JSON.parse(text) as { components: { schemas: Record<string, unknown> } };
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const name of refs) expect(document.components.schemas, name).toHaveProperty(name);
  });
});
