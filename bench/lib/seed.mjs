// Prepares the data of the API benchmarks through the real interfaces: card
// payments on the fake iamport server, histories recorded by our API, and the
// request files bench/wrk/replay.lua sends ("METHOD PATH BODY" per line, the
// body already encrypted, so wrk spends no time on crypto).
//
//   seed.mjs histories --api URL --vendor URL --count N --out FILE
//       records N payments through POST /payments/histories, then writes one
//       PATCH /payments/histories/:id with its encrypted {password} per history,
//       in random order. The ids written are the source ids, which number the
//       orders 1..N ("00000000-0000-0000-0000-" and 12 digits): bench/run sets
//       each history's id to its source id, so that pgbench, which cannot
//       hold a string, can address the same rows with lpad(n, 32, '0')::uuid
//   seed.mjs payments --vendor URL --count N --out FILE
//       makes N vendor payments and writes the POST /payments/histories that
//       records each (one use each: a second POST of one is a 409)
//   seed.mjs webhook --api URL --vendor URL --receiver URL --out FILE
//       records one payment whose webhook_url is the receiver and cancels it
//       through PUT /payments/histories/cancel, so that the server queues one
//       real notification; writes the history's id
//
// Keys: PAYMENT_CONNECTION_ENCRYPTION_KEY / _IV from the environment.
// Prints one JSON line: {count, seconds, per_second}.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";

const CONCURRENCY = 32;
const STORE_ID = "bench-store";
const IAMPORT_KEY = process.env.PAYMENT_IAMPORT_KEY || "test_imp_key";
const IAMPORT_SECRET = process.env.PAYMENT_IAMPORT_SECRET || "test_imp_secret";

const key = Buffer.from(process.env.PAYMENT_CONNECTION_ENCRYPTION_KEY ?? "");
const iv = Buffer.from(process.env.PAYMENT_CONNECTION_ENCRYPTION_IV ?? "");
if (![16, 32].includes(key.length) || iv.length !== 16) {
  fail("PAYMENT_CONNECTION_ENCRYPTION_KEY (16 or 32 bytes) and _IV (16 bytes) must be set");
}

function fail(message) {
  console.error(`seed: ${message}`);
  process.exit(1);
}

const encrypt = (value) => {
  const cipher = crypto.createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]).toString("base64");
};

const decrypt = (text) => {
  const decipher = crypto.createDecipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return JSON.parse(Buffer.concat([decipher.update(Buffer.from(text, "base64")), decipher.final()]).toString());
};

// node:http rather than fetch: fetch sends headers and body in two writes,
// and Nagle's algorithm then holds the body until the peer's delayed ACK.
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(url, { method = "POST", headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method, agent, timeout: 30000, headers: { ...headers, "Content-Length": Buffer.byteLength(body ?? "") },
    }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** The fake iamport server: one token, then one card payment per order. */
async function iamport(base) {
  const json = { "Content-Type": "application/json" };
  const auth = await call(`${base}/users/getToken`, {
    headers: json, body: JSON.stringify({ imp_key: IAMPORT_KEY, imp_secret: IAMPORT_SECRET }),
  });
  const token = JSON.parse(auth.text)?.response?.access_token;
  if (!token) fail(`no iamport token (${auth.status}): ${auth.text.slice(0, 200)}`);
  return async (orderId, amount) => {
    const res = await call(`${base}/subscribe/payments/onetime`, {
      headers: { ...json, Authorization: token },
      body: JSON.stringify({
        card_number: "1111-2222-3333-4444", expiry: "2028-12", birth: "880311",
        merchant_uid: orderId, amount, name: "bench order",
      }),
    });
    const uid = res.status < 300 ? JSON.parse(res.text)?.response?.imp_uid : null;
    if (!uid) fail(`vendor payment refused (${res.status}): ${res.text.slice(0, 200)}`);
    return uid;
  };
}

const numberedId = (n) => `00000000-0000-0000-0000-${String(n).padStart(12, "0")}`;

/** One order: a vendor payment and the body that records it. */
async function order(pay, index, sourceId = crypto.randomUUID()) {
  const source = { schema: "bench", table: "bench_orders", id: sourceId };
  const price = 1000 + (index % 1000) * 10;
  const password = crypto.randomBytes(12).toString("hex");
  const uid = await pay(source.id, price);
  const create = {
    vendor: { code: "iamport", store_id: STORE_ID, uid },
    source, price, password, webhook_url: "http://127.0.0.1:9/bench/webhook",
  };
  return { create, password };
}

/** Runs task(i) for i < count, CONCURRENCY at a time, keeping results in order. */
async function pool(count, task) {
  const results = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, lane));
  return results;
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

async function seedHistories(args, pay) {
  const lines = await pool(args.count, async (i) => {
    const { create, password } = await order(pay, i, numberedId(i + 1));
    const res = await call(`${args.api}/payments/histories`, {
      headers: { "Content-Type": "text/plain" }, body: encrypt(create),
    });
    if (res.status !== 201) fail(`POST /payments/histories answered ${res.status}: ${res.text.slice(0, 300)}`);
    const history = decrypt(res.text);
    if (history.source?.id !== create.source.id) fail(`POST /payments/histories answered another source: ${res.text}`);
    return `PATCH /payments/histories/${create.source.id} ${encrypt({ password })}`;
  });
  return shuffle(lines);
}

async function seedWebhook(args, pay) {
  const { create, password } = await order(pay, 0);
  create.webhook_url = args.receiver;
  const recorded = await call(`${args.api}/payments/histories`, {
    headers: { "Content-Type": "text/plain" }, body: encrypt(create),
  });
  if (recorded.status !== 201) fail(`POST /payments/histories answered ${recorded.status}: ${recorded.text.slice(0, 300)}`);
  const cancel = { source: create.source, password, price: create.price, reason: "bench webhook", account: null };
  const cancelled = await call(`${args.api}/payments/histories/cancel`, {
    method: "PUT", headers: { "Content-Type": "text/plain" }, body: encrypt(cancel),
  });
  if (cancelled.status !== 200) fail(`PUT /payments/histories/cancel answered ${cancelled.status}: ${cancelled.text.slice(0, 300)}`);
  return [decrypt(recorded.text).id];
}

async function seedPayments(args, pay) {
  return pool(args.count, async (i) => {
    const { create } = await order(pay, i);
    return `POST /payments/histories ${encrypt(create)}`;
  });
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    api: { type: "string" }, vendor: { type: "string" }, count: { type: "string" }, out: { type: "string" },
    receiver: { type: "string" },
  },
});
const mode = positionals[0];
args.count = mode === "webhook" ? 1 : Number(args.count);
if (!["histories", "payments", "webhook"].includes(mode) || !args.vendor || !args.out || !(args.count > 0) ||
    (mode !== "payments" && !args.api) || (mode === "webhook" && !args.receiver)) {
  fail("usage: seed.mjs histories --api URL | payments | webhook --api URL --receiver URL, " +
    "--vendor URL --count N --out FILE");
}

const started = performance.now();
const pay = await iamport(args.vendor);
const seeders = { histories: seedHistories, payments: seedPayments, webhook: seedWebhook };
const lines = await seeders[mode](args, pay);
fs.writeFileSync(args.out, `${lines.join("\n")}\n`);
agent.destroy();
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ count: lines.length, seconds: +seconds.toFixed(2), per_second: Math.round(lines.length / seconds) }));
