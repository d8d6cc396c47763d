// `payments call` and `payments fake` against a local server and the fakes:
// payments made at each fake with the helpers, then every route of the API
// through `payments call` (encrypted both ways), the status on stderr, the
// exit status of a refusal, and one clear line for a key that is not the
// server's, whichever way the body failed to decrypt.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { binary, tempDir } from "../lib/process.mjs";
import { baseEnv, startServer, stopCleanly } from "../lib/server.mjs";
import { startVendorFakes } from "../lib/fakes.mjs";
import { runClient } from "../lib/client_output.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

registerSecret("record password", "call-password");

let server;
let fakes;

before(async () => {
  fakes = await startVendorFakes();
  server = await startServer({ workers: 1, env: fakes.env });
});

after(async () => {
  if (server) await stopCleanly(server);
  if (fakes) await fakes.stop();
});

/** `payments ARGS` with the server's settings (its port, its keys). */
function payments(args, env = {}) {
  return runClient(binary("payments"), args, { env: { ...server.env, ...env } });
}

/** `payments call ...`, expecting success: the printed document. */
async function call(method, route, body, options = []) {
  const args = ["call", method, route, ...(body === undefined ? [] : [JSON.stringify(body)]), ...options];
  const got = await payments(args);
  assert.equal(got.code, 0, `${method} ${route}: ${got.stderr}${got.stdout}`);
  assert.match(got.stderr, /^HTTP 2\d\d \(X-Request-Id: [^)]+\)\n$/, got.stderr);
  return JSON.parse(got.stdout);
}

async function fake(...args) {
  const got = await payments(["fake", ...args]);
  assert.equal(got.code, 0, `fake ${args.join(" ")}: ${got.stderr}`);
  assert.match(got.stdout, /^\S+\n$/, "one uid, one line");
  return got.stdout.trim();
}

const source = (id) => ({ schema: "shop", table: "orders", id });

test("card payments at each fake, recorded, read, cancelled in part through payments call", async () => {
  const cases = [
    { fake: "iamport", code: "iamport", order: randomUUID() },
    { fake: "toss", code: "toss.payments", order: randomUUID() },
    { fake: "inicis", code: "inicis", order: randomUUID() },
  ];
  for (const c of cases) {
    const uid = await fake(c.fake, "card", "--order", c.order, "--amount", "12000");
    const history = await call("POST", "/payments/histories", {
      vendor: { code: c.code, store_id: "default", uid },
      source: source(c.order), price: 12000, password: "call-password", webhook_url: server.url("/payments/internal/webhook"),
    });
    assert.equal(history.vendor_code, c.code);
    assert.equal(history.price, 12000);
    assert.equal(history.source.id, c.order);
    const read = await call("PATCH", "/payments/histories/get", { ...source(c.order), password: "call-password" });
    assert.equal(read.id, history.id);
    const byId = await call("PATCH", `/payments/histories/${history.id}`, { password: "call-password" });
    assert.equal(byId.id, history.id);
    const cancelled = await call("PUT", "/payments/histories/cancel", {
      source: source(c.order), password: "call-password", price: 2000, reason: "half", account: null,
    });
    assert.equal(cancelled.cancels.length, 1, c.fake);
    assert.equal(cancelled.cancels[0].price, 2000);
  }
});

test("a virtual account paid with payments fake deposit", async () => {
  for (const [vendor, code] of [["iamport", "iamport"], ["toss", "toss.payments"], ["inicis", "inicis"]]) {
    const order = randomUUID();
    const uid = await fake(vendor, "vbank", "--order", order, "--amount", "5000");
    assert.equal(await fake(vendor, "deposit", uid), uid);
    const paid = await call("POST", "/payments/histories", {
      vendor: { code, store_id: "default", uid }, source: source(order), price: 5000, password: "call-password",
      webhook_url: server.url("/payments/internal/webhook"),
    });
    assert.notEqual(paid.paid_at, null, `${vendor}: the deposit paid it`);
  }
});

test("billing keys from payments fake, recorded as reservations", async () => {
  for (const [vendor, code] of [["iamport", "iamport"], ["toss", "toss.payments"]]) {
    const customer = randomUUID();
    const uid = await fake(vendor, "billing", "--customer", customer);
    registerSecret("billing key", uid);
    const reservation = await call("POST", "/payments/reservations", {
      vendor: { code, store_id: "default", uid }, source: { schema: "shop", table: "customers", id: customer },
      title: "monthly", password: "call-password",
    });
    assert.equal(reservation.vendor_code, code);
    const read = await call("PATCH", "/payments/reservations/get",
      { schema: "shop", table: "customers", id: customer, password: "call-password" });
    assert.equal(read.id, reservation.id);
    const byId = await call("PATCH", `/payments/reservations/${reservation.id}`, { password: "call-password" });
    assert.equal(byId.id, reservation.id);
  }
});

test("GET routes, --raw, a body from a file, a refusal's plain error and exit status", async () => {
  const health = await payments(["call", "GET", "/monitors/health"]);
  assert.equal(health.code, 0, health.stderr);
  const system = await payments(["call", "GET", "/monitors/system", "--raw"]);
  assert.equal(system.code, 0, system.stderr);
  assert.match(system.stdout, /^\{.*\}\n$/, "one line");
  assert.ok(JSON.parse(system.stdout).package, "decrypted");
  const pretty = await payments(["call", "GET", "/monitors/system"]);
  assert.ok(pretty.stdout.split("\n").length > 3, "indented");
  const dir = tempDir("payments-call-");
  const file = path.join(dir, "body.json");
  fs.writeFileSync(file, JSON.stringify({ ...source(randomUUID()), password: "call-password" }));
  const missing = await payments(["call", "PATCH", "/payments/histories/get", `@${file}`]);
  assert.equal(missing.code, 1, "a 404 exits 1");
  assert.match(missing.stderr, /^HTTP 404/);
  assert.equal(JSON.parse(missing.stdout).statusCode, 404, "the plain error, as it came");
  const notJson = await payments(["call", "POST", "/payments/histories", "{not json"]);
  assert.equal(notJson.code, 1);
  assert.match(notJson.stderr, /^payments call: the body is not JSON/);
  assert.equal((await payments(["call", "GET"])).code, 2, "usage");
  const help = await payments(["call", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: payments call METHOD PATH/);
});

test("a key that is not the server's gives one clear line, and no key is printed", async () => {
  const wrong = { PAYMENT_CONNECTION_ENCRYPTION_KEY: "wrong-key-0123456789abcdef012345" };
  const body = JSON.stringify({ ...source(randomUUID()), password: "call-password" });
  const sent = await payments(["call", "PATCH", "/payments/histories/get", body], wrong);
  assert.equal(sent.code, 1);
  assert.equal(sent.stdout, "");
  const lines = sent.stderr.trim().split("\n");
  assert.equal(lines.length, 2, sent.stderr);
  assert.match(lines[0], /^HTTP 400/);
  assert.equal(lines[1], "payments call: the server cannot decrypt the request: "
    + "PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV differ from the server's");
  const answered = await payments(["call", "GET", "/monitors/system"], wrong);
  assert.equal(answered.code, 1);
  assert.equal(answered.stdout, "");
  assert.match(answered.stderr, /^HTTP 200 .*\npayments call: the answer to GET \/monitors\/system does not decrypt/);
  for (const text of [sent.stderr, answered.stderr]) {
    assert.ok(!text.includes(wrong.PAYMENT_CONNECTION_ENCRYPTION_KEY), "the key is never printed");
    assert.ok(!text.includes(baseEnv().PAYMENT_CONNECTION_ENCRYPTION_KEY), "the key is never printed");
  }
  const noKey = await payments(["call", "GET", "/monitors/system"], { PAYMENT_CONNECTION_ENCRYPTION_KEY: "" });
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /PAYMENT_CONNECTION_ENCRYPTION_KEY .* needed/);
});
