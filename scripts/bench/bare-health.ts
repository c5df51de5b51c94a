/**
 * The floor for GET /api/health in `npm run bench:api`: plain node:http answering the same JSON
 * body with the same content headers, and nothing else (no request id, no security headers, no
 * log line, no storage). Listens on $HOST:$PORT; run by the benchmark through ServerProcess.
 */
import http from "node:http";

const body = JSON.stringify({ status: "ok" });
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));
