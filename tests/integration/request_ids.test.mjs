// One id per request: taken from a sane X-Request-Id, else made; answered in
// X-Request-Id; carried by the request's access line and by the lines of the
// vendor calls it made, in JSON log lines (PAYMENT_LOG_FORMAT=json); stored
// with the operation and the notification a cancel caused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { iamportClient, iamportCardPayment, startVendorFakes } from "../lib/fakes.mjs";
import { query } from "../lib/database.mjs";
import { waitFor } from "../lib/process.mjs";
import { decryptBody, encryptBody, request, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

registerSecret("record password", "request-id-password");

let server;
let fakes;

before(async () => {
  fakes = await startVendorFakes();
  server = await startServer({ workers: 1, env: { ...fakes.env, PAYMENT_LOG_FORMAT: "json" } });
});

after(async () => {
  if (server) await stopCleanly(server);
  if (fakes) await fakes.stop();
});

async function send(method, path, body, headers = {}) {
  const res = await request(server.url(path), {
    method,
    headers: { "Content-Type": "text/plain", ...headers },
    body: body === undefined ? undefined : await encryptBody(body, server.env),
  });
  return { ...res, json: res.headers["content-type"]?.startsWith("text/plain") ? await decryptBody(res.body, server.env) : null };
}

/** The server's log lines so far, each parsed (every line must parse). */
function logLines() {
  return server.process.log().split("\n").filter((line) => line.trim() !== "").map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      assert.fail(`a log line that is not JSON: ${line}`);
    }
  });
}

const historyBody = (uid, id, price = 10_000) => ({
  vendor: { code: "iamport", store_id: "default", uid },
  source: { schema: "shop", table: "orders", id },
  price,
  password: "request-id-password",
  webhook_url: server.url("/payments/internal/webhook"),
});

test("the client's id is answered and carried by the request's line and its failed vendor call's", async () => {
  const res = await send("POST", "/payments/histories", historyBody("imp_no_such_payment", randomUUID()),
    { "X-Request-Id": "abc-123" });
  assert.ok(res.status >= 400, `the vendor call fails: ${res.status} ${res.body}`);
  assert.equal(res.headers["x-request-id"], "abc-123");
  let mine = [];
  await waitFor(() => {
    mine = logLines().filter((line) => line.request_id === "abc-123");
    return mine.some((line) => line.message.startsWith("http: POST /payments/histories"));
  }, 10000, "the access line");
  const access = mine.find((line) => line.message.startsWith("http: POST /payments/histories"));
  assert.match(access.message, new RegExp(`^http: POST /payments/histories ${res.status} \\d+ms$`));
  const vendor = mine.find((line) => line.message.startsWith("vendor iamport store default: GET"));
  assert.ok(vendor, `the failed vendor call's line carries the id: ${JSON.stringify(mine, null, 1)}`);
  assert.match(vendor.message, /imp_no_such_payment: HTTP 404/);
  for (const line of [access, vendor]) {
    assert.equal(line.process, "worker");
    assert.equal(typeof line.pid, "number");
    assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(["INFO", "WARN"].includes(line.level), line.level);
  }
});

test("no id, or one that is not sane, gets a fresh one", async () => {
  const made = /^[0-9a-f]{8}-[0-9a-f]+$/;
  const seen = new Set();
  for (const sent of [undefined, "has space", "x".repeat(65), "quote\"d", "", "é"]) {
    const headers = sent === undefined ? {} : { "X-Request-Id": sent };
    let res;
    try {
      res = await request(server.url("/monitors/health"), { headers });
    } catch {
      continue; // a header Node itself refuses to send
    }
    assert.equal(res.status, 200);
    const id = res.headers["x-request-id"];
    assert.match(id, made, `sent ${JSON.stringify(sent)}`);
    assert.ok(!seen.has(id), "each one new");
    seen.add(id);
  }
  assert.ok(seen.size >= 4);
  const longest = "a".repeat(64);
  assert.equal((await request(server.url("/monitors/health"), { headers: { "X-Request-Id": longest } }))
    .headers["x-request-id"], longest, "64 characters are kept");
});

test("a cancel's operation and notification keep the id of the request that caused them", async () => {
  const iamport = await iamportClient(fakes.iamport);
  const id = randomUUID();
  const payment = await iamportCardPayment(iamport, { merchant_uid: id, amount: 10_000 });
  const created = await send("POST", "/payments/histories", historyBody(payment.imp_uid, id), { "X-Request-Id": "create-1" });
  assert.equal(created.status, 201, created.body);
  const cancel = await send("PUT", "/payments/histories/cancel", {
    source: { schema: "shop", table: "orders", id }, password: "request-id-password", price: 3000, reason: "part",
    account: null,
  }, { "X-Request-Id": "cancel-7" });
  assert.equal(cancel.status, 200, cancel.body);
  assert.equal(cancel.headers["x-request-id"], "cancel-7");
  const schema = server.env.PAYMENT_POSTGRES_SCHEMA;
  const operations = await query(schema,
    "SELECT kind, request_id FROM payment_operations WHERE history_id = :'id'", { id: created.json.id });
  assert.deepEqual(operations, [{ kind: "cancel", request_id: "cancel-7" }]);
  const deliveries = await query(schema,
    "SELECT request_id FROM payment_webhook_deliveries WHERE history_id = :'id' ORDER BY sequence", { id: created.json.id });
  assert.ok(deliveries.length >= 1, "a notification was queued");
  assert.equal(deliveries.at(-1).request_id, "cancel-7");
  const listed = await request(server.adminUrl("/payments/internal/operations"),
    { headers: { Authorization: `Bearer ${server.env.PAYMENT_SYSTEM_PASSWORD}` } });
  assert.equal(listed.status, 200, listed.body);
  assert.ok(JSON.parse(listed.body).some((op) => op.request_id === "cancel-7"), "operators see it");
});

test("every line of the master's and the worker's log is JSON", () => {
  const lines = logLines();
  assert.ok(lines.length > 5);
  assert.ok(lines.some((line) => line.process === "master"));
  for (const line of lines) {
    for (const member of ["time", "level", "process", "pid", "message"]) assert.ok(member in line, `${member}: ${JSON.stringify(line)}`);
  }
});
