// The load client of the scale benchmarks, where what matters is how many
// requests wait at once rather than how fast they follow each other.
//   burst.mjs send --url BASE --count N [--file LINES --from K] [--path P] [--pids 1,2] [--sample-ms MS]
//       sends N requests at once, each on a connection of its own: lines
//       K..K+N-1 of LINES ("METHOD PATH BODY", as seed.mjs writes them), or
//       GET P; waits for every answer. With --pids, samples those processes'
//       RSS and open descriptors before the burst and MS after the last
//       request went out (all of them waiting on a slow vendor then).
//       Prints {count, seconds, failed, waiting, idle_rss_kib, peak_rss_kib, peak_fds}.
//   burst.mjs hold --port P --count N [--path P]
//       opens N keep-alive connections, sends one GET on each, then holds
//       them idle; prints {held, failed} once all are open, and on SIGTERM
//       {closed_while_held} on stderr before closing them.
// A request fails on a network error or a status of 400 and above.
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { parseArgs } from "node:util";

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" }, count: { type: "string" }, file: { type: "string" }, from: { type: "string" },
    path: { type: "string" }, pids: { type: "string" }, "sample-ms": { type: "string" }, port: { type: "string" },
    timeout: { type: "string" },
  },
});
const OPEN_AT_ONCE = 500; // connections being opened at a time, to stay within the listen backlog
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fail(message) {
  console.error(`burst: ${message}`);
  process.exit(2);
}

/** RSS (KiB) and open descriptors, summed over pids. */
function sample(pids) {
  let rss = 0;
  let fds = 0;
  for (const pid of pids) {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    fds += fs.readdirSync(`/proc/${pid}/fd`).length;
  }
  return { rss, fds };
}

function requestsToSend(count) {
  if (!args.file) return Array.from({ length: count }, () => ({ method: "GET", path: args.path ?? "/", body: null }));
  const from = Number(args.from ?? 0);
  const lines = fs.readFileSync(args.file, "utf8").split("\n").filter(Boolean).slice(from, from + count);
  if (lines.length < count) fail(`${args.file} has ${lines.length} lines from ${from}, ${count} needed`);
  return lines.map((line) => {
    const [, method, path, body] = /^(\S+) (\S+) ?(.*)$/.exec(line);
    return { method, path, body: body || null };
  });
}

function sendOne(base, { method, path, body }, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.request(new URL(path, base), {
      method, agent: false, timeout: timeoutMs,
      headers: body ? { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) } : {},
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode < 400));
      res.on("error", () => resolve(false));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
    req.end(body ?? undefined);
  });
}

async function send() {
  const count = Number(args.count);
  if (!args.url || !(count > 0)) fail("send needs --url and --count");
  const pids = args.pids ? args.pids.split(",").filter(Boolean).map(Number) : [];
  const requests = requestsToSend(count);
  const idle = sample(pids);
  let answered = 0;
  const started = performance.now();
  const outcomes = requests.map((r) => sendOne(args.url, r, Number(args.timeout ?? 600_000))
    .then((ok) => { answered++; return ok; }));
  let peak = { rss: null, fds: null };
  let waiting = null;
  if (pids.length) {
    await sleep(Number(args["sample-ms"] ?? 500));
    waiting = count - answered;
    peak = sample(pids);
  }
  const results = await Promise.all(outcomes);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({
    count, seconds, failed: results.filter((ok) => !ok).length, waiting,
    idle_rss_kib: pids.length ? idle.rss : null, peak_rss_kib: peak.rss, idle_fds: pids.length ? idle.fds : null,
    peak_fds: peak.fds,
  }));
}

/** One connection, one GET answered, then kept open; resolves with the socket, or null on failure. */
function openHeld(port, path) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    const done = (ok) => {
      socket.removeAllListeners("data");
      if (!ok) socket.destroy();
      resolve(ok ? socket : null);
    };
    socket.on("connect", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    socket.on("data", (chunk) => {
      text += chunk;
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length >= end + 4 + length) done(/^HTTP\/1\.1 2/.test(text));
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  });
}

async function hold() {
  const count = Number(args.count);
  if (!args.port || !(count > 0)) fail("hold needs --port and --count");
  const sockets = [];
  let failed = 0;
  for (let opened = 0; opened < count; opened += OPEN_AT_ONCE) {
    const batch = Math.min(OPEN_AT_ONCE, count - opened);
    for (const socket of await Promise.all(Array.from({ length: batch }, () => openHeld(Number(args.port), args.path ?? "/")))) {
      if (socket) sockets.push(socket);
      else failed++;
    }
  }
  // A connection the server closes while held counts as failed as well.
  for (const socket of sockets) socket.on("close", () => { failed++; });
  console.log(JSON.stringify({ held: sockets.length, failed }));
  process.on("SIGTERM", () => {
    console.error(JSON.stringify({ closed_while_held: failed }));
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
}

const modes = { send, hold };
if (!modes[positionals[0]]) fail("usage: burst.mjs send|hold ...");
await modes[positionals[0]]();
