import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * The AI client's side of the e2e OAuth flows, beside the SDK's `auth()` and the shared
 * in-memory provider (test/oauth-provider.ts): a loopback listener that receives the
 * browser's redirect (as Claude Code and Cursor do) and can also publish a Client ID Metadata
 * Document over https.
 */
export type Listener = { origin: string; close: () => Promise<void>; nextCallback: () => Promise<URLSearchParams> };

function listen(server: http.Server | https.Server, scheme: "http" | "https", documents: Map<string, unknown>): Promise<Listener> {
  let resolveCallback: ((params: URLSearchParams) => void) | undefined;
  server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://placeholder");
    const document = documents.get(url.pathname);
    if (document !== undefined) {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document));
      return;
    }
    if (url.pathname === "/callback") {
      resolveCallback?.(url.searchParams);
      response.writeHead(200, { "content-type": "text/plain" }).end("You can close this window.");
      return;
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `${scheme}://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
        nextCallback: () => new Promise((done) => (resolveCallback = done)),
      });
    });
  });
}

/** A loopback http listener for the redirect. */
export const callbackListener = () => listen(http.createServer(), "http", new Map());

/**
 * A loopback https server for a metadata document, with a certificate the Enclave server under
 * test trusts through NODE_EXTRA_CA_CERTS (set in playwright.config.ts from `e2eCertificate`).
 */
export function documentServer(documents: Map<string, unknown>): Promise<Listener> {
  const { key, cert } = e2eCertificate();
  return listen(https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }), "https", documents);
}

/** A self-signed certificate for 127.0.0.1, made once per machine with openssl. */
export function e2eCertificate(): { key: string; cert: string } {
  const dir = path.join(os.tmpdir(), "enclave-e2e-tls");
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  if (!fs.existsSync(cert)) {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], {
      stdio: "ignore",
    });
  }
  return { key, cert };
}
