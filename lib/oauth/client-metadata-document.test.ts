import dns from "node:dns";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { makeTempDir, testConfig } from "@/test/store";
import {
  ClientMetadataDocumentError,
  clearClientMetadataDocumentCache,
  fetchClientMetadataDocument,
  isClientMetadataDocumentUrl,
} from "./client-metadata-document";

type Reply = (req: http.IncomingMessage, res: http.ServerResponse, url: string) => void;
type TestServer = { url: (path?: string) => string; requests: () => number };

let dataDir = "";
const servers: http.Server[] = [];

beforeEach(() => {
  dataDir = makeTempDir();
  setConfigForTests(testConfig(dataDir, { ENCLAVE_CIMD_ALLOWED_HOSTS: "127.0.0.1" }));
  clearClientMetadataDocumentCache();
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  setConfigForTests(undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A real HTTP server on 127.0.0.1; `reply` gets the full URL the client asked for. */
async function serve(reply: Reply): Promise<TestServer> {
  let count = 0;
  let base = "";
  const server = http.createServer((req, res) => {
    count += 1;
    reply(req, res, `${base}${req.url ?? ""}`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: (path = "/client.json") => `${base}${path}`, requests: () => count };
}

function document(clientId: string, extra: Record<string, unknown> = {}) {
  return { client_id: clientId, client_name: "Test Agent", redirect_uris: ["http://127.0.0.1:7777/callback"], ...extra };
}

function json(res: http.ServerResponse, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(body));
}

/** Serves `document(url)` merged with `extra`, the usual happy-path server. */
const serveDocument = (extra: Record<string, unknown> = {}, headers: http.OutgoingHttpHeaders = {}) =>
  serve((_req, res, url) => json(res, document(url, extra), headers));

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientMetadataDocumentError);
  return (error as Error).message;
}

describe("fetching a valid document", () => {
  it("accepts a document on an allow-listed 127.0.0.1 over http and caches it", async () => {
    const server = await serveDocument();
    const first = await fetchClientMetadataDocument(server.url());
    expect(first).toMatchObject({
      clientId: server.url(),
      clientName: "Test Agent",
      redirectUris: ["http://127.0.0.1:7777/callback"],
      tokenEndpointAuthMethod: "none",
    });
    expect(first.metadata.redirect_uris).toEqual(["http://127.0.0.1:7777/callback"]);
    const second = await fetchClientMetadataDocument(server.url());
    expect(second).toEqual(first);
    expect(server.requests()).toBe(1);
  });

  it.each(["no-store", "max-age=0", "no-cache"])("does not cache a response with Cache-Control: %s", async (value) => {
    const server = await serveDocument({}, { "cache-control": value });
    await fetchClientMetadataDocument(server.url());
    await fetchClientMetadataDocument(server.url());
    expect(server.requests()).toBe(2);
  });

  it("does not cache a failure", async () => {
    const server = await serve((_req, res) => res.writeHead(500).end());
    await refusal(fetchClientMetadataDocument(server.url()));
    await refusal(fetchClientMetadataDocument(server.url()));
    expect(server.requests()).toBe(2);
  });

  it("falls back to the host name when the document has no client_name", async () => {
    const server = await serveDocument({ client_name: undefined });
    expect((await fetchClientMetadataDocument(server.url())).clientName).toBe("127.0.0.1");
  });
});

describe("refusing a bad response", () => {
  it("refuses a document whose client_id is not the URL", async () => {
    const server = await serve((_req, res, url) => json(res, document(`${url}/other`)));
    expect(await refusal(fetchClientMetadataDocument(server.url()))).toMatch(/client_id does not match/);
  });

  it("refuses a non-JSON content type", async () => {
    const server = await serve((_req, res, url) =>
      res.writeHead(200, { "content-type": "text/html" }).end(JSON.stringify(document(url))),
    );
    expect(await refusal(fetchClientMetadataDocument(server.url()))).toMatch(/content type is "text\/html"/);
  });

  it("refuses a body that is not JSON", async () => {
    const server = await serve((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("<html>"));
    expect(await refusal(fetchClientMetadataDocument(server.url()))).toMatch(/not valid JSON/);
  });

  it("refuses a body over 64 KiB with a Content-Length", async () => {
    const server = await serveDocument({ padding: "x".repeat(70 * 1024) });
    expect(await refusal(fetchClientMetadataDocument(server.url()))).toMatch(/larger than 65536 bytes/);
  });

  it("refuses a body over 64 KiB streamed without a Content-Length", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 80; i++) res.write("x".repeat(1024));
      res.end();
    });
    expect(await refusal(fetchClientMetadataDocument(server.url()))).toMatch(/larger than 65536 bytes/);
  });

  it("gives up on a server that does not answer in time", async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    const message = await refusal(fetchClientMetadataDocument(server.url(), { timeoutMs: 200 }));
    expect(message).toMatch(/did not answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("gives up on a server that sends headers and then stalls the body", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{");
    });
    expect(await refusal(fetchClientMetadataDocument(server.url(), { timeoutMs: 200 }))).toMatch(/did not answer/);
  });

  it("does not follow a redirect", async () => {
    const target = await serveDocument();
    const server = await serve((_req, res) => res.writeHead(302, { location: target.url() }).end());
    expect(await refusal(fetchClientMetadataDocument(server.url()))).toMatch(/redirect \(302\)/);
    expect(target.requests()).toBe(0);
  });

  it("refuses a status other than 200", async () => {
    const server = await serve((_req, res, url) =>
      res.writeHead(203, { "content-type": "application/json" }).end(JSON.stringify(document(url))),
    );
    expect(await refusal(fetchClientMetadataDocument(server.url()))).toMatch(/status 203/);
  });

  it("names the failure when nothing listens", async () => {
    const server = await serve(() => undefined);
    const url = server.url();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await refusal(fetchClientMetadataDocument(url))).toMatch(/connection failed \(ECONNREFUSED\)/);
  });
});

describe("refusing a document that does not describe a public client", () => {
  it.each([
    ["client_secret_basic", { token_endpoint_auth_method: "client_secret_basic" }, /token_endpoint_auth_method/],
    ["client_secret_post", { token_endpoint_auth_method: "client_secret_post" }, /token_endpoint_auth_method/],
    ["a client_secret", { client_secret: "s3cret" }, /client_secret must not be present/],
    ["a javascript: redirect URI", { redirect_uris: ["javascript:alert(1)"] }, /redirect_uris\.0 .*javascript/],
    ["no redirect URIs", { redirect_uris: [] }, /redirect_uris must list at least one/],
    ["redirect_uris not a list", { redirect_uris: "https://a.example/cb" }, /redirect_uris/],
  ])("refuses %s", async (_, extra, why) => {
    const server = await serveDocument(extra);
    const message = await refusal(fetchClientMetadataDocument(server.url()));
    expect(message).toMatch(why);
    expect(message).not.toContain("s3cret");
  });
});

describe("refusing non-public addresses before connecting", () => {
  it.each([
    ["https://10.0.0.1/c.json", "private"],
    ["https://192.168.1.5/c", "private"],
    ["https://169.254.169.254/latest", "linkLocal"],
    ["https://100.64.0.1/c", "carrierGradeNat"],
    ["https://[::1]/c", "loopback"],
    // IPv4-mapped 127.0.0.1, in the only spelling the shape check lets through (see below).
    ["https://[::ffff:7f00:1]/c", "loopback"],
    ["https://[::ffff:a00:1]/c", "private"],
    ["https://[fd00::1]/c", "uniqueLocal"],
    ["https://[64:ff9b::a00:1]/c", "rfc6052"],
    ["https://0.0.0.0/c", "unspecified"],
    ["https://localhost/c", "loopback"],
  ])("refuses %s (%s)", async (clientId, range) => {
    const httpsRequest = vi.spyOn(https, "request");
    const httpRequest = vi.spyOn(http, "request");
    const message = await refusal(fetchClientMetadataDocument(clientId));
    expect(message).toContain(`non-public address (${range})`);
    expect(httpsRequest).not.toHaveBeenCalled();
    expect(httpRequest).not.toHaveBeenCalled();
  });

  it("refuses a name when any one of its addresses is not public", async () => {
    vi.spyOn(dns.promises, "lookup").mockResolvedValue([
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.1", family: 4 },
    ] as never);
    const httpsRequest = vi.spyOn(https, "request");
    expect(await refusal(fetchClientMetadataDocument("https://mixed.test/c"))).toContain("non-public address (private)");
    expect(httpsRequest).not.toHaveBeenCalled();
  });

  it("connects to the address it checked, once, and still sends the name as Host", async () => {
    // DNS answers exactly once; a second lookup at connect time (the rebinding window) would
    // go to the real resolver, which has never heard of rebind.test.
    const lookup = vi.spyOn(dns.promises, "lookup").mockResolvedValue([{ address: "127.0.0.1", family: 4 }] as never);
    setConfigForTests(testConfig(dataDir, { ENCLAVE_CIMD_ALLOWED_HOSTS: "rebind.test" }));
    const hosts: (string | undefined)[] = [];
    const server = await serve((req, res) => {
      hosts.push(req.headers.host);
      json(res, document(`http://${req.headers.host}${req.url}`));
    });
    const clientId = server.url().replace("127.0.0.1", "rebind.test");
    expect((await fetchClientMetadataDocument(clientId)).clientId).toBe(clientId);
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(hosts).toEqual([new URL(clientId).host]);
  });

  it("refuses https://[::ffff:127.0.0.1]/c: the parser rewrites the host, so it is not canonical", async () => {
    const httpsRequest = vi.spyOn(https, "request");
    const message = await refusal(fetchClientMetadataDocument("https://[::ffff:127.0.0.1]/c"));
    expect(message).toContain("not in canonical form (expected https://[::ffff:7f00:1]/c)");
    expect(httpsRequest).not.toHaveBeenCalled();
  });

  it("refuses a loopback server that is not allow-listed, over http or https", async () => {
    setConfigForTests(testConfig(dataDir));
    const server = await serveDocument();
    expect(await refusal(fetchClientMetadataDocument(server.url("/x")))).toMatch(/must use https/);
    const overHttps = server.url("/x").replace("http:", "https:");
    expect(await refusal(fetchClientMetadataDocument(overHttps))).toMatch(/non-public address \(loopback\)/);
    expect(server.requests()).toBe(0);
  });
});

describe("the shape of a client ID URL", () => {
  it.each([
    ["https://client.example/client.json"],
    ["https://client.example:8443/oauth/metadata?v=1"],
  ])("accepts %s", (clientId) => {
    expect(isClientMetadataDocumentUrl(clientId)).toBe(true);
  });

  it("accepts http only for an allow-listed host", () => {
    expect(isClientMetadataDocumentUrl("http://127.0.0.1:8080/c")).toBe(true);
    setConfigForTests(testConfig(dataDir));
    expect(isClientMetadataDocumentUrl("http://127.0.0.1:8080/c")).toBe(false);
  });

  it.each([
    ["https://client.example", /must have a path/],
    ["https://client.example/", /must have a path/],
    ["https://client.example/c#frag", /fragment/],
    ["https://client.example/c#", /fragment/],
    ["https://user:pw@client.example/c", /user name or password/], // enclave-scan: allow
    ["https://user@client.example/c", /user name or password/],
    ["https://@client.example/c", /canonical form/],
    ["https://client.example/a/../c", /canonical form/],
    ["https://CLIENT.example/c", /canonical form/],
    ["https://client.example:443/c", /canonical form/],
    ["http://client.example/c", /must use https/],
    ["javascript:alert(1)//c", /must use https/],
    ["ftp://client.example/c", /must use https/],
    ["a0b1c2d3-client", /not a URL/],
  ])("refuses %s", async (clientId, why) => {
    expect(isClientMetadataDocumentUrl(clientId)).toBe(false);
    const httpsRequest = vi.spyOn(https, "request");
    expect(await refusal(fetchClientMetadataDocument(clientId))).toMatch(why);
    expect(httpsRequest).not.toHaveBeenCalled();
  });
});
