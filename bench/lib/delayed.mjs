// Slow HTTP servers for the scale benchmarks: the upstream nginx proxies to
// in benchmark 7 (a vendor answering after 1 s) and the webhook receivers of
// benchmark 11 (100 receivers answering after 200 ms).
//   delayed.mjs --servers N --delay-ms D
// Each of N servers on a free port of 127.0.0.1 answers every request 200
// "ok" after D ms, keep-alive. Prints {ports: [...]} once all listen, runs
// until SIGTERM, then prints {requests} on stderr.
import http from "node:http";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({ options: { servers: { type: "string" }, "delay-ms": { type: "string" } } });
const count = Number(args.servers ?? 1);
const delay = Number(args["delay-ms"] ?? 1000);
let requests = 0;

function listen() {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      requests++;
      req.resume();
      setTimeout(() => res.end("ok"), delay);
    });
    server.keepAliveTimeout = 600_000;
    server.headersTimeout = 0;
    server.requestTimeout = 0;
    server.maxConnections = Infinity;
    server.on("error", reject);
    server.listen(0, "127.0.0.1", 4096, () => resolve(server));
  });
}

const servers = [];
for (let i = 0; i < count; i++) servers.push(await listen());
console.log(JSON.stringify({ ports: servers.map((s) => s.address().port) }));
process.on("SIGTERM", () => {
  console.error(JSON.stringify({ requests }));
  process.exit(0);
});
