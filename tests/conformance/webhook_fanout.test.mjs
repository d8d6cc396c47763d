// Slow receivers do not hold the outbox back. An operator re-sends 150
// failed notifications, one per history, to a receiver that holds every
// request: the worker keeps claiming while its claims come back full, so all
// 150 are in flight at once (a worker's limit is 256). The poll is set to an
// hour, so nothing but the outbox's own claims sends them: with claims only
// after a finished delivery, 64 (one batch) would wait here forever.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";

import { execute, query } from "../lib/database.mjs";
import { startFakeServer, stopFake, tossCardPayment } from "../lib/fakes.mjs";
import { newSource, send } from "../lib/keyed_request.mjs";
import { freePort, waitFor } from "../lib/process.mjs";
import { request, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const HISTORIES = 150;
const PASSWORD = "fanout-password";
registerSecret("record password", PASSWORD);

/** A receiver that answers 200, or holds every request while holding is on. */
async function startReceiver() {
  const port = await freePort();
  const receiver = { holding: false, held: [], answered: 0, url: `http://127.0.0.1:${port}/webhook` };
  receiver.server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (receiver.holding) {
        receiver.held.push(res);
      } else {
        receiver.answered++;
        res.writeHead(200).end("ok");
      }
    });
  });
  await new Promise((resolve) => receiver.server.listen(port, "127.0.0.1", resolve));
  return receiver;
}

let fake;
let receiver;
let server;
const schema = () => server.env.PAYMENT_POSTGRES_SCHEMA;
const delivered = async () =>
  (await query(schema(), "SELECT id FROM payment_webhook_deliveries WHERE status = 'delivered'")).length;
const open = async () => (await query(schema(), "SELECT id FROM payment_webhook_deliveries WHERE status IN ('pending', 'delivering')")).length;

before(async () => {
  fake = await startFakeServer("fake-toss-payments-server");
  receiver = await startReceiver();
  server = await startServer({ workers: 1, env: {
    PAYMENT_TOSS_PAYMENTS_URL: fake.host, PAYMENT_WEBHOOK_POLL_MS: "3600000", PAYMENT_WEBHOOK_TIMEOUT_MS: "60000" } });
});

after(async () => {
  for (const res of receiver.held) res.writeHead(200).end("ok");
  if (server) await stopCleanly(server);
  await stopFake(fake);
  receiver.server.closeAllConnections();
  receiver.server.close();
});

test("150 notifications re-sent at once are all in flight to a receiver that holds them", async () => {
  const sources = [];
  for (let i = 0; i < HISTORIES; i++) {
    const source = newSource();
    const paid = await tossCardPayment(fake, { orderId: source.id });
    const created = await send(server, "POST", "/payments/histories", { source, price: paid.totalAmount,
      vendor: { code: "toss.payments", store_id: "fanout-store", uid: paid.paymentKey }, password: PASSWORD,
      webhook_url: receiver.url });
    assert.equal(created.status, 201, created.body);
    sources.push(source);
  }
  // One real notification (a cancel), delivered, to clone for every history.
  const cancelled = await send(server, "PUT", "/payments/histories/cancel",
    { source: sources[0], password: PASSWORD, price: 1_000, reason: "fan-out", account: null });
  assert.equal(cancelled.status, 200, cancelled.body);
  await waitFor(async () => (await open()) === 0 && receiver.answered >= 1, 20_000, "the cancel's notification");

  const deliveredBefore = await delivered();
  receiver.holding = true;
  await execute(schema(), `
    WITH template AS (SELECT origin, event, previous, current FROM payment_webhooks ORDER BY created_at LIMIT 1),
    hooks AS (
      INSERT INTO payment_webhooks (history_id, vendor_code, origin, event, previous, current)
      SELECT h.id, h.vendor_code, t.origin, t.event, t.previous, t.current
      FROM payment_histories h CROSS JOIN template t RETURNING id, history_id)
    INSERT INTO payment_webhook_deliveries (webhook_id, history_id, status, attempts)
    SELECT id, history_id, 'failed', 1 FROM hooks`);
  const retried = await request(server.adminUrl("/payments/internal/webhooks/retry"),
    { method: "POST", headers: { Authorization: `Bearer ${server.env.PAYMENT_SYSTEM_PASSWORD}` } });
  assert.equal(retried.status, 201, retried.body);
  assert.deepEqual(JSON.parse(retried.body), { retried: HISTORIES });

  await waitFor(() => receiver.held.length >= HISTORIES, 30_000, "every notification in flight").catch((err) => {
    throw new Error(`${err.message}: the receiver holds ${receiver.held.length} of ${HISTORIES}`);
  });
  assert.equal(receiver.held.length, HISTORIES, "a notification was sent twice");

  const held = receiver.held.splice(0);
  receiver.holding = false;
  for (const res of held) res.writeHead(200).end("ok");
  await waitFor(async () => (await open()) === 0, 30_000, "every notification delivered");
  assert.equal(await delivered(), deliveredBefore + HISTORIES);
});
