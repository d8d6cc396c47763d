// An Idempotency-Key follows the operation its request committed: a cancel
// or a Toss confirm whose vendor answer comes later than
// PAYMENT_VENDOR_TIMEOUT_MS (the fakes hold it, the effect already made)
// answers 504 and keeps its key; a retry with that key gets 409 while the
// operation is pending, never a second vendor call, and once the reconciler
// settled it the first request's answer, kept for the retries after it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

import { query } from "../lib/database.mjs";
import { fakeStats, setFakeLatency, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { operationsOf } from "../lib/operations.mjs";
import { sleep } from "../lib/process.mjs";
import { errorOf, newSource, replayed, send } from "../lib/keyed_request.mjs";
import { decryptBody, sdkConnection, startServer, stopCleanly } from "../lib/server.mjs";
import { iamportDriver, tossDriver } from "../lib/vendor_drivers.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const STORE_ID = "idempotency-operations-store";
const PASSWORD = "secret-password";
registerSecret("record password", PASSWORD);
const WEBHOOK_URL = "http://127.0.0.1:9/payments/webhook";
// Vendor calls time out after half a second; the fakes hold the answer far
// longer, and the reconciler takes an operation once it is 1.5 s old.
const VENDOR_TIMEOUT_MS = 500;
const HELD_MS = 4_000;

/** Sends until the answer is no longer the 409 of an unsettled operation;
 * every 409 on the way is that one, with Retry-After. */
async function retryUntilSettled(server, method, path, value, key) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await send(server, method, path, value, key);
    if (res.status !== 409) return res;
    assert.match(errorOf(res).message, /not settled yet/, res.body);
    assert.ok(Number(res.headers["retry-after"]) >= 1, "no Retry-After");
    assert.ok(!replayed(res), "a 409 was kept");
    if (Date.now() > deadline) throw new Error("the operation was never settled");
    await sleep(250);
  }
}

describe("an Idempotency-Key whose request left an operation pending", () => {
  const fakes = {};
  const drivers = {};
  let server;
  let connection;

  before(async () => {
    fakes.iamport = await startFakeServer("fake-iamport-server");
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    drivers.iamport = iamportDriver(fakes.iamport.host);
    drivers.toss = tossDriver(fakes.toss.host);
    server = await startServer({
      workers: 1,
      env: {
        PAYMENT_IAMPORT_URL: fakes.iamport.host,
        PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host,
        PAYMENT_VENDOR_TIMEOUT_MS: String(VENDOR_TIMEOUT_MS),
        PAYMENT_RECONCILE_INTERVAL_MS: "200",
        PAYMENT_RECONCILE_AFTER_MS: "1500",
      },
    });
    connection = sdkConnection(server);
  });

  after(async () => {
    if (server) await stopCleanly(server);
    for (const fake of Object.values(fakes)) {
      await setFakeLatency(fake, { ms: 0 });
      await stopFake(fake);
    }
  });

  const recorded = async (vendor, price) => {
    const source = newSource();
    const uid = await vendor.card(source.id, price);
    const history = await api.histories.create(connection, {
      vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, price, password: PASSWORD,
      webhook_url: WEBHOOK_URL,
    });
    return { source, uid, history };
  };
  const cancelBody = (source, price) => ({ source, password: PASSWORD, price, reason: "late answer", account: null });
  /** Sends once while the fake holds the answers of rule: the 504. */
  const timedOut = async (name, rule, method, path, body, key) => {
    await setFakeLatency(fakes[name], { ms: HELD_MS, ...rule });
    try {
      return await send(server, method, path, body, key);
    } finally {
      await setFakeLatency(fakes[name], { ms: 0 });
    }
  };

  for (const name of ["iamport", "toss"]) {
    test(`${name}: a cancel timed out keeps its key; the retry gets the settled cancel, once`, async () => {
      const { source, uid, history } = await recorded(drivers[name], 10_000);
      const start = (await fakeStats(fakes[name])).cancels;
      const key = randomUUID();
      const body = cancelBody(source, 3_000);
      const first = await timedOut(name, { match: "/cancel" }, "PUT", "/payments/histories/cancel", body, key);
      assert.equal(first.status, 504, first.body);
      const [pending] = await operationsOf(server, uid);
      const rows = await query(server.env.PAYMENT_POSTGRES_SCHEMA,
        "SELECT awaiting_operation, status, expires_at::text AS expires, locked_until::text AS locked"
        + " FROM payment_idempotency_keys WHERE operation_id = :'op'", { op: pending.id });
      assert.deepEqual(rows, [{ awaiting_operation: true, status: null, expires: "infinity", locked: "infinity" }],
        "the key awaits its operation, with no expiry");

      const settled = await retryUntilSettled(server, "PUT", "/payments/histories/cancel", body, key);
      assert.equal(settled.status, 200, settled.body);
      const answered = await decryptBody(settled.body, server.env);
      assert.equal(answered.id, history.id);
      assert.equal(answered.refund, 3_000);
      assert.equal(answered.cancels.length, 1);
      const [op] = await operationsOf(server, uid);
      assert.equal(op.state, "succeeded");

      // Kept from now on: the same bytes, replayed, and still one refund.
      const again = await send(server, "PUT", "/payments/histories/cancel", body, key);
      assert.equal(again.status, 200, again.body);
      assert.ok(replayed(again));
      assert.equal(again.body, settled.body);
      assert.equal((await fakeStats(fakes[name])).cancels - start, 1, "refunds at the fake");
      const read = await api.histories.get(connection, { ...source, password: PASSWORD });
      assert.equal(read.refund, 3_000);
      assert.equal(read.cancels.length, 1);
    });
  }

  test("toss: a confirm timed out keeps its key; the retry gets the history the reconciler made", async () => {
    const source = newSource();
    const uid = await drivers.toss.card(source.id, 12_000);
    const start = (await fakeStats(fakes.toss)).confirms;
    const key = randomUUID();
    const body = { vendor: { code: drivers.toss.code, store_id: STORE_ID, uid }, source, price: 12_000,
      password: PASSWORD, webhook_url: WEBHOOK_URL };
    // Only the confirm (a POST on the payment's path) is held, not the fetch before it.
    const first = await timedOut("toss", { match: uid, method: "POST" }, "POST", "/payments/histories", body, key);
    assert.equal(first.status, 504, first.body);

    const settled = await retryUntilSettled(server, "POST", "/payments/histories", body, key);
    assert.equal(settled.status, 201, settled.body);
    const history = await decryptBody(settled.body, server.env);
    assert.deepEqual(history.vendor, { code: "toss.payments", store_id: STORE_ID, uid });
    assert.equal(history.price, 12_000);
    assert.deepEqual(await api.histories.at(connection, history.id, { password: PASSWORD }), history);

    const again = await send(server, "POST", "/payments/histories", body, key);
    assert.equal(again.status, 201, again.body);
    assert.ok(replayed(again));
    assert.equal(again.body, settled.body);
    assert.equal((await fakeStats(fakes.toss)).confirms - start, 1, "confirms at the fake");
  });

  test("a 409 is never kept: another request's unsettled cancel, then the key runs", async () => {
    const { source } = await recorded(drivers.iamport, 10_000);
    // A cancel without a key times out: its operation stays pending a while.
    const unkeyed = await timedOut("iamport", { match: "/cancel" }, "PUT", "/payments/histories/cancel",
      cancelBody(source, 1_000));
    assert.equal(unkeyed.status, 504, unkeyed.body);
    const key = randomUUID();
    const body = cancelBody(source, 2_000);
    const busy = await send(server, "PUT", "/payments/histories/cancel", body, key);
    assert.equal(busy.status, 409, busy.body);
    assert.match(errorOf(busy).message, /previous cancel of this payment is not settled yet/);
    const settled = await retryUntilSettled(server, "PUT", "/payments/histories/cancel", body, key);
    assert.equal(settled.status, 200, settled.body);
    assert.ok(!replayed(settled));
    assert.equal((await decryptBody(settled.body, server.env)).refund, 3_000);
  });
});
