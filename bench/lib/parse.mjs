// Turns the text a load tool printed into one JSON line for the results,
// so that every figure bench/run reports is read in one place.
//   parse.mjs wrk FILE [key=value ...]      wrk --latency (+ replay.lua) output
//   parse.mjs pgbench FILE [key=value ...]  pgbench output
//   parse.mjs pgbench-log FILE [...]         pgbench -l --log-prefix=FILE.log output:
//                                            also p50/p99 of its per-transaction log
// The key=value pairs (bench=..., side=..., round=...) are copied into the
// line. A request counts as failed when wrk saw a socket error (connect,
// read, write, timeout) or a status of 400 and above, or pgbench a failed
// transaction; replay.lua's "wrapped" counts runs past the prepared requests.
import fs from "node:fs";
import path from "node:path";

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };

function toMs(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`unreadable latency "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]];
}

const number = (text, pattern, fallback) => {
  const match = pattern.exec(text);
  if (match) return Number(match[1]);
  if (fallback !== undefined) return fallback;
  throw new Error(`no ${pattern} in the output:\n${text}`);
};

function parseWrk(text) {
  const result = {
    requests: number(text, /(\d+) requests in/),
    per_second: number(text, /Requests\/sec:\s+([\d.]+)/),
    non_2xx: number(text, /Non-2xx or 3xx responses: (\d+)/, 0),
    wrapped: number(text, /replay: wrapped (\d+)/, 0),
  };
  for (const percent of [50, 75, 90, 99]) {
    const match = new RegExp(`^\\s+${percent}%\\s+(\\S+)`, "m").exec(text);
    if (!match) throw new Error(`no ${percent}% latency (was wrk run with --latency?):\n${text}`);
    result[`p${percent}_ms`] = Math.round(toMs(match[1]) * 1000) / 1000;
  }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const [connect, read, write, timeout] = errors ? errors.slice(1).map(Number) : [0, 0, 0, 0];
  result.socket_errors = { connect, read, write, timeout };
  result.failed = result.non_2xx + connect + read + write + timeout;
  return result;
}

function parsePgbench(text) {
  const processed = number(text, /number of transactions actually processed: (\d+)/);
  const failed = number(text, /number of failed transactions: (\d+)/, 0);
  return {
    requests: processed,
    // pgbench prints no rate when no transaction finished (a very short run).
    per_second: number(text, /tps = ([\d.]+) \(without initial connection time\)/, processed ? undefined : 0),
    average_ms: number(text, /latency average = ([\d.]+) ms/, processed ? undefined : null),
    failed,
  };
}

/** pgbench's own log of every transaction (-l, --log-prefix=FILE.log: files
 * FILE.log.PID and FILE.log.PID.THREAD), whose third column is the latency
 * in µs: the percentiles wrk reports for our side, from the same kind of
 * per-request record. */
function parsePgbenchLog(text, file) {
  const result = parsePgbench(text);
  const prefix = `${path.basename(file)}.log.`;
  const latencies = [];
  for (const name of fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith(prefix))) {
    for (const line of fs.readFileSync(path.join(path.dirname(file), name), "utf8").split("\n")) {
      const fields = line.split(" ");
      if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
    }
  }
  if (latencies.length === 0) throw new Error(`no transaction log ${prefix}* beside ${file}`);
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 1000) / 1000;
  return { ...result, p50_ms: at(0.5), p99_ms: at(0.99) };
}

const [tool, file, ...pairs] = process.argv.slice(2);
const parsers = { wrk: parseWrk, pgbench: parsePgbench, "pgbench-log": parsePgbenchLog };
if (!parsers[tool] || !file) {
  console.error("usage: parse.mjs wrk|pgbench|pgbench-log FILE [key=value ...]");
  process.exit(2);
}
const labels = Object.fromEntries(pairs.map((pair) => {
  const at = pair.indexOf("=");
  const value = pair.slice(at + 1);
  return [pair.slice(0, at), /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value];
}));
try {
  console.log(JSON.stringify({ ...labels, tool, ...parsers[tool](fs.readFileSync(file, "utf8"), file) }));
} catch (error) {
  console.error(`parse: ${file}: ${error.message}`);
  process.exit(1);
}
