// Money safety end to end: every vendor call that moves money is an
// operation recorded before it is made, and the reconciler finishes what a
// timeout, a killed worker or a stopped database interrupted. Our server
// runs against both fakes, which hold their answers (PUT /fake/latency)
// while the effect is already made, and count effects (/fake/stats).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";

import { fakeStats, iamportClient, setFakeLatency, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { killWorkerWhen, listOperations, notificationCount, operationsOf } from "../lib/operations.mjs";
import { freePort, sourceDir, tempDir, waitFor } from "../lib/process.mjs";
import { startServer } from "../lib/server.mjs";
import { iamportDriver, tossDriver } from "../lib/vendor_drivers.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const STORE_ID = "operations-store";
const PASSWORD = "secret-password";
registerSecret("record password", PASSWORD);
const sanitizerReport = /AddressSanitizer|LeakSanitizer|runtime error/;
const newSource = () => ({ schema: "shopping", table: "shopping_orders", id: randomUUID() });

/** Expects an SDK call to fail with status; answers the error's message. */
async function expectStatus(promise, status) {
  let message;
  await assert.rejects(promise, (error) => {
    assert.equal(error.status, status, `status ${error.status}: ${error.message}`);
    message = JSON.parse(error.message).message;
    return true;
  });
  return message;
}

/** A graceful stop, checked: no crash, no sanitizer report. */
async function stopChecked(server) {
  const { code, signal } = await server.stop("SIGQUIT");
  const log = server.process.log();
  assert.equal(signal, null, log);
  assert.equal(code, 0, log);
  assert.doesNotMatch(log, sanitizerReport, log);
}

const postgres = (...args) => execFileSync(path.join(sourceDir, "scripts", "postgres"), args).toString().trim();

describe("operations that move money", () => {
  const fakes = {};
  const drivers = {};
  const servers = [];
  let ownPostgres;

  /** A server of one worker on the fakes with a fast reconciler. */
  const serve = async (env) => {
    const server = await startServer({
      workers: 1,
      env: {
        PAYMENT_IAMPORT_URL: fakes.iamport.host,
        PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host,
        PAYMENT_RECONCILE_INTERVAL_MS: "200",
        PAYMENT_RECONCILE_AFTER_MS: "1000",
        PAYMENT_WEBHOOK_RETRY_SCHEDULE: "200ms,200ms",
        ...env,
      },
    });
    servers.push(server);
    return server;
  };
  const connectionOf = (server) => ({
    host: server.url(""),
    encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
  });
  const record = (server, vendor, uid, source, price) => api.histories.create(connectionOf(server), {
    vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, price, password: PASSWORD,
    webhook_url: server.url("/payments/internal/webhook"),
  });
  const cancel = (server, source, price) => api.histories.cancel(connectionOf(server), {
    source, password: PASSWORD, price, reason: "money safety", account: null,
  });
  const read = (server, source) => api.histories.get(connectionOf(server), { ...source, password: PASSWORD });
  /** A recorded card payment of amount: {source, uid, history}. */
  const paid = async (server, name, amount) => {
    const source = newSource();
    const uid = await drivers[name].card(source.id, amount);
    return { source, uid, history: await record(server, drivers[name], uid, source, amount) };
  };

  before(async () => {
    fakes.iamport = await startFakeServer("fake-iamport-server");
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    drivers.iamport = iamportDriver(fakes.iamport.host);
    drivers.toss = tossDriver(fakes.toss.host);
  });

  after(async () => {
    for (const server of servers) await stopChecked(server);
    for (const fake of Object.values(fakes)) {
      await setFakeLatency(fake, { ms: 0 });
      await stopFake(fake);
    }
    if (ownPostgres) postgres("stop", ownPostgres);
  });

  describe("a vendor answer later than PAYMENT_VENDOR_TIMEOUT_MS", () => {
    let server;
    before(async () => { server = await serve({ PAYMENT_VENDOR_TIMEOUT_MS: "500" }); });

    for (const name of ["iamport", "toss"]) {
      test(`${name}: 504, a retry refused while unsettled, then the refund recorded and notified once`, async () => {
        const fake = fakes[name];
        const { source, uid, history } = await paid(server, name, 10_000);
        const start = await fakeStats(fake);
        await setFakeLatency(fake, { ms: 1_500, match: "/cancel" });
        try {
          await expectStatus(cancel(server, source, 3_000), 504);
          const retried = await expectStatus(cancel(server, source, 3_000), 409);
          assert.match(retried, /not settled yet/);
        } finally {
          await setFakeLatency(fake, { ms: 0 });
        }
        await waitFor(async () => (await read(server, source)).refund === 3_000, 15_000, "the reconciled refund");
        const [op] = await operationsOf(server, uid);
        assert.equal(op.kind, "cancel");
        assert.equal(op.state, "succeeded");
        assert.equal(op.history_id, history.id);
        assert.match(op.decision, /performed at the vendor/);
        await waitFor(async () => (await notificationCount(server, history.id)) >= 1, 10_000, "the notification");
        const now = await read(server, source);
        assert.equal(now.cancels.length, 1);
        assert.equal((await fakeStats(fake)).cancels - start.cancels, 1, "one refund at the vendor");
        assert.equal(await notificationCount(server, history.id), 1, "the owner is notified exactly once");
      });
    }

    test("iamport amount mismatch: 422, the payment cancelled at the vendor, the operation says why", async () => {
      const source = newSource();
      const uid = await drivers.iamport.card(source.id, 10_000);
      const message = await expectStatus(record(server, drivers.iamport, uid, source, 9_000), 422);
      assert.match(message, /amount mismatch.*cancelled at the vendor/);
      assert.doesNotMatch(message, /10000/, "the vendor's amount is not revealed");
      const iamport = await iamportClient(fakes.iamport);
      const { json } = await iamport("GET", `/payments/${uid}`);
      assert.equal(json.response.status, "cancelled");
      assert.equal(json.response.cancel_amount, 10_000);
      const [op] = await operationsOf(server, uid);
      assert.equal(op.kind, "mismatch_cancel");
      assert.equal(op.state, "succeeded");
      assert.equal(op.amount, 10_000);
      assert.match(op.reason, /amount mismatch/);
    });

    test("iamport mismatch cancel answered too late: settled by the reconciler", async () => {
      const source = newSource();
      const uid = await drivers.iamport.card(source.id, 7_000);
      const start = await fakeStats(fakes.iamport);
      await setFakeLatency(fakes.iamport, { ms: 1_500, match: "/cancel" });
      try {
        const message = await expectStatus(record(server, drivers.iamport, uid, source, 6_000), 422);
        assert.match(message, /amount mismatch.*being cancelled at the vendor/);
      } finally {
        await setFakeLatency(fakes.iamport, { ms: 0 });
      }
      const op = await waitFor(async () => {
        const [latest] = await operationsOf(server, uid);
        return latest?.state === "succeeded" && latest;
      }, 15_000, "the reconciled mismatch cancel");
      assert.equal(op.kind, "mismatch_cancel");
      assert.match(op.decision, /performed at the vendor/);
      assert.equal((await fakeStats(fakes.iamport)).cancels - start.cancels, 1, "cancelled once");
    });

    test("iamport: a cancel carries the amount we know is cancellable, and a stale one is refused", async () => {
      const { source, uid } = await paid(server, "iamport", 10_000);
      // A refund made at the vendor that we have not recorded (this fake sends no webhooks).
      const iamport = await iamportClient(fakes.iamport);
      const direct = await iamport("POST", "/payments/cancel", { imp_uid: uid, amount: 1_000, reason: "at the console" });
      assert.equal(direct.status, 201, direct.text);
      const start = await fakeStats(fakes.iamport);
      const message = await expectStatus(cancel(server, source, 2_000), 422);
      assert.match(message, /checksum/);
      const stats = await fakeStats(fakes.iamport);
      assert.equal(stats.checksum_refusals - start.checksum_refusals, 1, "refused for its checksum");
      assert.equal(stats.cancels, start.cancels, "no second refund");
      const [op] = await operationsOf(server, uid);
      assert.equal(op.state, "refused");
      assert.deepEqual((await read(server, source)).cancels, [], "nothing recorded");
      const { json } = await iamport("GET", `/payments/${uid}`);
      assert.equal(json.response.cancel_amount, 1_000);
    });

    test("a Toss payment awaiting approval that mismatches is not confirmed", async () => {
      const source = newSource();
      const uid = await drivers.toss.card(source.id, 10_000);
      const start = await fakeStats(fakes.toss);
      await expectStatus(record(server, drivers.toss, uid, source, 9_000), 422);
      assert.equal(await drivers.toss.status(uid), "IN_PROGRESS");
      assert.equal((await fakeStats(fakes.toss)).confirms, start.confirms);
      assert.deepEqual(await operationsOf(server, uid), []);
    });

    test("operators list operations by state, with the system password only", async () => {
      const res = await fetch(server.adminUrl("/payments/internal/operations?state=pending"));
      assert.equal(res.status, 401);
      const wrong = await fetch(server.adminUrl("/payments/internal/operations"), { headers: { Authorization: "Bearer no" } });
      assert.equal(wrong.status, 403);
      const onApiPort = await fetch(server.url("/payments/internal/operations"),
        { headers: { Authorization: `Bearer ${server.env.PAYMENT_SYSTEM_PASSWORD}` } });
      assert.equal(onApiPort.status, 404, "an operators' route is not on the public API port");
      const bad = await fetch(server.adminUrl("/payments/internal/operations?state=lost"),
        { headers: { Authorization: `Bearer ${server.env.PAYMENT_SYSTEM_PASSWORD}` } });
      assert.equal(bad.status, 400);
      for (const op of await listOperations(server, "succeeded")) {
        assert.equal(op.state, "succeeded");
        assert.equal(op.input, undefined, "inputs stay sealed in the table");
      }
    });
  });

  describe("a worker killed while the vendor holds its answer", () => {
    let server;
    before(async () => { server = await serve({ PAYMENT_VENDOR_TIMEOUT_MS: "5000" }); });

    /** Kills the worker once counter grew at the fake; waits for its successor. */
    const killWhen = (fake, counter, start) => killWorkerWhen(server, fake, counter, start);

    for (const name of ["iamport", "toss"]) {
      test(`${name}: a cancel is recorded by the reconciler after the respawn`, async () => {
        const fake = fakes[name];
        const { source } = await paid(server, name, 20_000);
        const start = await fakeStats(fake);
        await setFakeLatency(fake, { ms: 3_000, match: "/cancel" });
        const pending = cancel(server, source, 5_000).catch((error) => error);
        try {
          await killWhen(fake, "cancels", start);
        } finally {
          await setFakeLatency(fake, { ms: 0 });
        }
        assert.ok((await pending) instanceof Error, "the killed worker's client got no answer");
        await waitFor(async () => (await read(server, source)).refund === 5_000, 15_000, "the reconciled refund");
        assert.equal((await fakeStats(fake)).cancels - start.cancels, 1);
      });
    }

    test("toss: a confirm made before the kill becomes its history", async () => {
      const fake = fakes.toss;
      const source = newSource();
      const uid = await drivers.toss.card(source.id, 15_000);
      const start = await fakeStats(fake);
      // The fetch before the confirm is held too: both share the payment's path.
      await setFakeLatency(fake, { ms: 1_500, match: uid });
      const pending = record(server, drivers.toss, uid, source, 15_000).catch((error) => error);
      try {
        await killWhen(fake, "confirms", start);
      } finally {
        await setFakeLatency(fake, { ms: 0 });
      }
      assert.ok((await pending) instanceof Error);
      const history = await waitFor(async () => {
        try { return await read(server, source); } catch { return null; }
      }, 15_000, "the history created by the reconciler");
      assert.equal(history.price, 15_000);
      assert.deepEqual(history.vendor, { code: "toss.payments", store_id: STORE_ID, uid });
      const [op] = await operationsOf(server, uid);
      assert.equal(op.kind, "confirm");
      assert.equal(op.state, "succeeded");
      assert.equal(op.history_id, history.id);
      assert.equal((await fakeStats(fake)).confirms - start.confirms, 1);
    });
  });

  test("PostgreSQL stopped after the vendor call is sent: 503, then reconciled", async () => {
    ownPostgres = tempDir("payments-operations-pg-");
    const port = await freePort();
    const url = postgres("start", ownPostgres, String(port));
    const server = await serve({ PAYMENT_VENDOR_TIMEOUT_MS: "5000", PAYMENT_POSTGRES_URL: url });
    const fake = fakes.iamport;
    const { source } = await paid(server, "iamport", 8_000);
    const start = await fakeStats(fake);
    await setFakeLatency(fake, { ms: 1_500, match: "/cancel" });
    const answered = expectStatus(cancel(server, source, 2_000), 503);
    try {
      await waitFor(async () => (await fakeStats(fake)).cancels > start.cancels, 10_000, "the cancel at the vendor");
      postgres("stop", ownPostgres);
      await answered;
    } finally {
      await setFakeLatency(fake, { ms: 0 });
      postgres("start", ownPostgres, String(port));
    }
    await waitFor(async () => {
      try { return (await read(server, source)).refund === 2_000; } catch { return false; }
    }, 30_000, "the refund reconciled once the database is back");
    assert.equal((await fakeStats(fake)).cancels - start.cancels, 1);
  });
});
