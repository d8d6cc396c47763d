// Webhooks end to end: both fakes send their webhooks to our server, which
// records every change of a history and delivers a notification of it to the
// history's webhook_url: our own test receiver (/payments/internal/webhook),
// or receivers of this test that fail, hang, vanish or outlive the worker
// that called them. The real SDKs are the clients throughout.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto, { randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";

import { query } from "../lib/database.mjs";
import { loadContract } from "../lib/openapi.mjs";
import { binary, freePort, sleep, start, waitFor, waitForPort } from "../lib/process.mjs";
import { decryptBody, devEnv, request, startServer, stopCleanly } from "../lib/server.mjs";
import { iamportDriver, tossDriver } from "../lib/vendor_drivers.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;
const contract = loadContract("payment-backend");

const STORE_ID = "webhook-store";
const PASSWORD = "secret-password";
registerSecret("record password", PASSWORD);
const WEBHOOK_SECRET = "test-webhook-secret";
const SYSTEM_PASSWORD = "test-system-password"; // baseEnv's PAYMENT_SYSTEM_PASSWORD
// Five attempts in all; the long third delay leaves the retry test time to
// see the third attempt refused before it listens again.
const SCHEDULE = "200ms,300ms,2s,500ms";
const LOST_ATTEMPT = /worker delivering it stopped/;

const newSource = () => ({ schema: "shopping", table: "shopping_orders", id: randomUUID() });

/** Settings of our servers in this test: short timeouts and retries, a known secret. */
const serverEnv = (fakes, timeoutMs) => ({
  PAYMENT_IAMPORT_URL: fakes.iamport,
  PAYMENT_TOSS_PAYMENTS_URL: fakes.toss,
  PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  PAYMENT_WEBHOOK_TIMEOUT_MS: String(timeoutMs),
  PAYMENT_WEBHOOK_RETRY_SCHEDULE: SCHEDULE,
});

/** The notifications of a history with every attempt, oldest first. */
const deliveries = (schema, historyId) => query(schema, `
  SELECT d.status, d.attempts, d.schedule_start,
    (SELECT coalesce(json_agg(json_build_object('attempt', r.attempt, 'status', r.status, 'body', r.body,
       'error', r.error) ORDER BY r.attempt, r.created_at), '[]')
     FROM payment_webhook_responses r WHERE r.delivery_id = d.id) AS responses
  FROM payment_webhook_deliveries d WHERE d.history_id = :'history' ORDER BY d.sequence`, { history: historyId });

const webhookCount = async (schema, historyId) =>
  (await query(schema, "SELECT id FROM payment_webhooks WHERE history_id = :'history'", { history: historyId })).length;

/** What our test receiver kept for a history: [{signed, webhook}]. */
async function received(server, historyId) {
  const res = await request(server.url(`/payments/internal/webhook?history_id=${historyId}`));
  assert.equal(res.status, 200, res.body);
  return decryptBody(res.body, server.env);
}

/** Checks the signature headers as a receiver would: HMAC and a recent timestamp. */
function assertSigned(entry) {
  const timestamp = entry.headers["x-payments-timestamp"];
  const mac = crypto.createHmac("sha256", WEBHOOK_SECRET).update(`${timestamp}.${entry.body}`).digest("hex");
  assert.equal(entry.headers["x-payments-signature"], `v1=${mac}`);
  assert.ok(Math.abs(Date.now() / 1000 - Number(timestamp)) < 300, `stale timestamp ${timestamp}`);
  assert.match(entry.headers["content-type"], /^text\/plain/);
}

/**
 * A receiver of our own on a fixed loopback port: handle(entry, res, n) answers
 * the n-th request (or not). stopListening() refuses new connections while
 * held ones stay open; open() listens again on the same port.
 */
async function startReceiver(handle) {
  const port = await freePort();
  const requests = [];
  const servers = [];
  const open = () => new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const entry = { headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now(),
          remotePort: req.socket.remotePort };
        requests.push(entry);
        handle(entry, res, requests.length);
      });
    });
    servers.push(server);
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  await open();
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    requests,
    open,
    stopListening: () => servers.at(-1).close(),
    closeAll() {
      for (const server of servers) {
        server.close();
        server.closeAllConnections();
      }
    },
  };
}

/** The pid among pids whose socket has local port `port` on this machine. */
function socketOwner(port, pids) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = new Set();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length > 9 && columns[1].endsWith(hex)) inodes.add(columns[9]);
    }
  }
  for (const pid of pids) {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
        if (target && inodes.has(target[1])) return pid;
      } catch { /* closed meanwhile */ }
    }
  }
  return null;
}

describe("webhooks", () => {
  const fakes = {};
  const receivers = [];
  const drivers = {};
  let server;
  let connection;

  const startFake = async (name, port, vendor) => {
    const proc = start(binary(name), ["--port", String(port), "--webhook-url",
      server.url(`/payments/webhooks/${vendor}`)]);
    await waitForPort(port);
    return proc;
  };

  before(async () => {
    const ports = { iamport: await freePort(), toss: await freePort() };
    fakes.urls = { iamport: `http://127.0.0.1:${ports.iamport}`, toss: `http://127.0.0.1:${ports.toss}` };
    server = await startServer({ env: serverEnv(fakes.urls, 1000) });
    fakes.iamport = await startFake("fake-iamport-server", ports.iamport, "iamport");
    fakes.toss = await startFake("fake-toss-payments-server", ports.toss, "toss");
    connection = {
      host: server.url(""),
      encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
    };
    drivers.iamport = iamportDriver(fakes.urls.iamport);
    drivers.toss = tossDriver(fakes.urls.toss);
  });

  after(async () => {
    for (const receiver of receivers) receiver.closeAll();
    if (server) await stopCleanly(server);
    for (const fake of [fakes.iamport, fakes.toss]) if (fake) await fake.stop("SIGTERM");
  });

  const receiver = async (handle) => {
    const r = await startReceiver(handle);
    receivers.push(r);
    return r;
  };
  const internalUrl = () => server.url("/payments/internal/webhook");
  const record = async (vendor, { uid, source, price, webhookUrl = internalUrl(), via = connection }) =>
    contract.validate(vendor.historySchema, await api.histories.create(via, {
      vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, price, password: PASSWORD,
      webhook_url: webhookUrl,
    }));
  const readById = async (vendor, id) =>
    contract.validate(vendor.historySchema, await api.histories.at(connection, id, { password: PASSWORD }));
  const cancel = async (vendor, source, price, { reason = "partial cancel", via = connection } = {}) =>
    contract.validate(vendor.historySchema, await api.histories.cancel(via, {
      source, password: PASSWORD, price, reason, account: null,
    }));
  const vendorWebhook = (vendor, input) =>
    vendor.code === "iamport" ? api.webhooks.iamport(connection, input) : api.webhooks.toss(connection, input);
  const schema = () => server.env.PAYMENT_POSTGRES_SCHEMA;

  for (const name of ["iamport", "toss"]) {
    describe(`vendor ${name}`, () => {
      const vendor = () => drivers[name];

      test("a virtual account's deposit reaches the owner within a second", async (t) => {
        const source = newSource();
        const uid = await vendor().virtualAccount(source.id, 30_000);
        const history = await record(vendor(), { uid, source, price: 30_000 });
        assert.equal(history.paid_at, null);
        await vendor().deposit(uid);
        const depositedAt = Date.now();
        const notices = await waitFor(async () => {
          const list = await received(server, history.id);
          return list.length > 0 && list;
        }, 10000, "the deposit's notification");
        const paid = await readById(vendor(), history.id);
        const elapsed = Date.now() - depositedAt;
        t.diagnostic(`paid and notified ${elapsed} ms after the deposit call returned`);
        assert.ok(elapsed <= 1000, `the deposit took ${elapsed} ms to show`);
        assert.notEqual(paid.paid_at, null);
        const [{ signed, webhook }] = notices;
        assert.equal(signed, true, "the signature headers did not verify");
        assert.match(webhook.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.deepEqual(webhook.source, source);
        contract.validate(vendor().historySchema, webhook.previous);
        contract.validate(vendor().historySchema, webhook.current);
        assert.equal(webhook.previous.id, history.id);
        assert.equal(webhook.previous.paid_at, null);
        assert.deepEqual(webhook.previous, history);
        assert.deepEqual(webhook.current, paid);
        await sleep(300);
        assert.equal((await received(server, history.id)).length, 1, "the deposit was notified twice");
      });

      test("five partial cancels give five notifications, in order", async () => {
        const source = newSource();
        const uid = await vendor().card(source.id, 10_000);
        const history = await record(vendor(), { uid, source, price: 10_000 });
        for (let i = 1; i <= 5; i++) await cancel(vendor(), source, 2_000, { reason: `part ${i}` });
        await waitFor(async () => (await received(server, history.id)).length >= 5, 10000, "five notifications");
        await sleep(300);
        const notices = await received(server, history.id);
        assert.equal(notices.length, 5, "a cancel was notified more than once");
        notices.forEach(({ signed, webhook }, k) => {
          assert.equal(signed, true);
          assert.equal(webhook.current.id, history.id);
          assert.equal(webhook.previous.refund, k === 0 ? null : 2_000 * k);
          assert.equal(webhook.current.refund, 2_000 * (k + 1));
          assert.deepEqual(webhook.previous.cancels.map((c) => c.reason),
            Array.from({ length: k }, (_, j) => `part ${j + 1}`));
          assert.deepEqual(webhook.current.cancels.map((c) => c.reason),
            Array.from({ length: k + 1 }, (_, j) => `part ${j + 1}`));
          assert.deepEqual(webhook.current.cancels.map((c) => c.price), Array(k + 1).fill(2_000));
        });
        assert.deepEqual(notices[4].webhook.current, await readById(vendor(), history.id));
        assert.equal(await webhookCount(schema(), history.id), 5);
      });

      test("a forged webhook claiming payment leaves the history unpaid", async () => {
        const source = newSource();
        const uid = await vendor().virtualAccount(source.id, 20_000);
        const history = await record(vendor(), { uid, source, price: 20_000 });
        await vendorWebhook(vendor(), vendor().webhook(uid, source.id, vendor().paidStatus));
        assert.deepEqual(await readById(vendor(), history.id), history);
        await sleep(300);
        assert.deepEqual(await received(server, history.id), []);
        assert.equal(await webhookCount(schema(), history.id), 0);
        // A payment we do not know is 404, so that the vendor tries again.
        await assert.rejects(vendorWebhook(vendor(), vendor().webhook(`unknown-${randomUUID()}`, source.id,
          vendor().paidStatus)), (error) => error.status === 404);
      });

      test("a repeated vendor event is notified once", async () => {
        const source = newSource();
        const uid = await vendor().virtualAccount(source.id, 15_000);
        const history = await record(vendor(), { uid, source, price: 15_000 });
        await vendor().deposit(uid);
        await waitFor(async () => (await received(server, history.id)).length > 0, 10000, "the deposit's notification");
        const event = vendor().webhook(uid, source.id, vendor().paidStatus);
        await Promise.all([vendorWebhook(vendor(), event), vendorWebhook(vendor(), event)]);
        await vendorWebhook(vendor(), event);
        await sleep(300);
        assert.equal((await received(server, history.id)).length, 1);
        assert.equal(await webhookCount(schema(), history.id), 1);
      });
    });
  }

  test("events not worth recording and malformed bodies", async () => {
    await api.webhooks.iamport(connection, { imp_uid: `imp_${Date.now()}`, merchant_uid: randomUUID(), status: "ready" });
    await api.webhooks.toss(connection, {
      eventType: "PAYMENT_STATUS_CHANGED", data: { paymentKey: "nothing", orderId: randomUUID(), status: "WAITING_FOR_DEPOSIT" },
    });
    for (const [vendor, body] of [["iamport", "{\"imp_uid\": 1}"], ["toss", "[]"], ["iamport", "not json"]]) {
      const res = await request(server.url(`/payments/webhooks/${vendor}`), {
        method: "POST", headers: { "Content-Type": "application/json" }, body,
      });
      assert.equal(res.status, 400, res.body);
    }
  });

  test("a receiver failing with 500, a timeout and a refused connection gets it once it recovers", async () => {
    const held = [];
    const flaky = await receiver((entry, res, n) => {
      if (n === 1) {
        res.writeHead(500).end("try later");
      } else if (n === 2) {
        flaky.stopListening(); // this attempt times out, the next one is refused
        held.push(res);
      } else {
        res.writeHead(200).end("ok");
      }
    });
    const vendor = drivers.iamport;
    const source = newSource();
    const uid = await vendor.card(source.id, 10_000);
    const history = await record(vendor, { uid, source, price: 10_000, webhookUrl: flaky.url });
    await cancel(vendor, source, 3_000);
    await waitFor(async () => (await deliveries(schema(), history.id))[0]?.responses.length >= 3, 15000,
      "three failed attempts");
    await flaky.open();
    const [delivered] = await waitFor(async () => {
      const rows = await deliveries(schema(), history.id);
      return rows[0]?.status === "delivered" && rows;
    }, 15000, "the delivery");
    await sleep(500);
    for (const res of held) res.destroy();
    assert.equal(flaky.requests.length, 3, "the receiver was called again after it answered 200");
    assert.equal(delivered.attempts, 4);
    const [first, second, third, fourth] = delivered.responses;
    assert.equal(delivered.responses.length, 4);
    assert.deepEqual([first.attempt, first.status, first.body], [1, 500, "try later"]);
    assert.deepEqual([second.attempt, second.status], [2, null]);
    assert.match(second.error, /time/i);
    assert.deepEqual([third.attempt, third.status], [3, null]);
    assert.match(third.error, /connect/i);
    assert.deepEqual([fourth.attempt, fourth.status, fourth.body, fourth.error], [4, 200, "ok", null]);
    const last = flaky.requests.at(-1);
    assertSigned(last);
    const notice = await decryptBody(last.body, server.env);
    assert.equal(notice.current.id, history.id);
    assert.equal(notice.current.refund, 3_000);
    assert.equal(notice.previous.refund, null);
    assert.deepEqual(notice.source, source);
  });

  test("a notification that failed every attempt is re-sent by the admin route", async () => {
    let healthy = false;
    const down = await receiver((entry, res) => {
      res.writeHead(healthy ? 200 : 503).end(healthy ? "ok" : "down");
    });
    const vendor = drivers.toss;
    const source = newSource();
    const uid = await vendor.card(source.id, 8_000);
    const history = await record(vendor, { uid, source, price: 8_000, webhookUrl: down.url });
    await cancel(vendor, source, 8_000);
    const [failed] = await waitFor(async () => {
      const rows = await deliveries(schema(), history.id);
      return rows[0]?.status === "failed" && rows;
    }, 20000, "the notification to fail");
    assert.equal(failed.attempts, 5);
    assert.deepEqual(failed.responses.map((r) => r.status), [503, 503, 503, 503, 503]);
    assert.match(server.process.log(), new RegExp(`history ${history.id} failed after 5 attempts`));
    assert.doesNotMatch(server.process.log(), new RegExp(WEBHOOK_SECRET));

    const retry = (headers, query = `?history_id=${history.id}`) =>
      request(server.adminUrl(`/payments/internal/webhooks/retry${query}`), { method: "POST", headers });
    // An operators' route: on the public API port it does not exist.
    const onApiPort = await request(server.url(`/payments/internal/webhooks/retry`),
      { method: "POST", headers: { Authorization: `Bearer ${SYSTEM_PASSWORD}` } });
    assert.equal(onApiPort.status, 404);
    assert.equal((await retry({})).status, 401);
    assert.equal((await retry({ Authorization: "Bearer wrong" })).status, 403);
    assert.equal((await retry({ Authorization: `Bearer ${SYSTEM_PASSWORD}` }, "?history_id=x")).status, 400);
    healthy = true;
    const answer = await retry({ Authorization: `Bearer ${SYSTEM_PASSWORD}` });
    assert.equal(answer.status, 201, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { retried: 1 });
    const [delivered] = await waitFor(async () => {
      const rows = await deliveries(schema(), history.id);
      return rows[0]?.status === "delivered" && rows;
    }, 10000, "the re-sent notification");
    assert.equal(delivered.attempts, 6);
    assert.deepEqual(delivered.responses.at(-1), { attempt: 6, status: 200, body: "ok", error: null });
    assert.equal(down.requests.length, 6);
    assertSigned(down.requests.at(-1));
    const notice = await decryptBody(down.requests.at(-1).body, server.env);
    assert.equal(notice.current.refund, 8_000);
  });

  test("the test receiver keeps what the SDK sends, in local mode only", async () => {
    const historyId = randomUUID();
    const notice = { id: randomUUID(), source: newSource(), previous: { id: historyId }, current: { id: historyId } };
    await api.internal.webhook(connection, notice);
    assert.deepEqual(await received(server, historyId), [{ signed: false, webhook: notice }]);
    assert.equal((await request(server.url("/payments/internal/webhook?history_id=x"))).status, 400);
    const dev = await startServer({
      workers: 1,
      env: { ...serverEnv(fakes.urls, 1000), ...devEnv() },
    });
    try {
      const devConnection = { ...connection, host: dev.url("") };
      await assert.rejects(api.internal.webhook(devConnection, notice), (error) => error.status === 404);
      assert.equal((await request(dev.url(`/payments/internal/webhook?history_id=${historyId}`))).status, 404);
    } finally {
      await stopCleanly(dev);
    }
  });

  test("a notification in flight survives kill -9 of its worker and restarts of the whole server", async () => {
    let holdNext = false;
    const held = [];
    const slow = await receiver((entry, res) => {
      if (holdNext) {
        holdNext = false;
        held.push({ entry, res });
        return;
      }
      res.writeHead(200).end("ok");
    });
    // A server of its own (its own schema), so the main server's workers
    // cannot take its notifications over; attempts long enough to be killed.
    const env = serverEnv(fakes.urls, 3000);
    let crashing = await startServer({ env });
    const crashSchema = crashing.env.PAYMENT_POSTGRES_SCHEMA;
    const via = () => ({ ...connection, host: crashing.url("") });
    const vendor = drivers.iamport;
    const source = newSource();
    const uid = await vendor.card(source.id, 10_000);
    const history = await record(vendor, { uid, source, price: 10_000, webhookUrl: slow.url, via: via() });
    const holdOne = async () => {
      holdNext = true;
      await cancel(vendor, source, 1_000, { via: via() });
      await waitFor(() => !holdNext, 10000, "the receiver to hold a notification");
      return held.at(-1);
    };
    const deliveredNotices = async (count) => waitFor(async () => {
      const rows = await deliveries(crashSchema, history.id);
      return rows.length === count && rows.every((row) => row.status === "delivered") && rows;
    }, 20000, `${count} delivered notifications`);
    try {
      // kill -9 of the worker holding the attempt; its replacement starts.
      const first = await holdOne();
      const owner = socketOwner(first.entry.remotePort, await crashing.readyPids());
      assert.ok(owner, "no worker holds the notification's connection");
      process.kill(owner, "SIGKILL");
      await waitFor(async () => {
        const pids = await crashing.readyPids();
        return pids.length === 2 && !pids.includes(owner);
      }, 20000, "a replacement worker");
      const replacedAt = Date.now();
      first.res.destroy(); // the receiver answers late: nobody listens any more
      let rows = await deliveredNotices(1);
      assert.ok(slow.requests.at(-1).at >= replacedAt, "delivered before the replacement started");
      assert.equal(rows[0].attempts, 2);
      assert.match(rows[0].responses[0].error, LOST_ATTEMPT);
      assert.equal(rows[0].responses[1].status, 200);

      // Graceful stop (QUIT) with an attempt in flight: it is put back, uncounted.
      const second = await holdOne();
      await stopCleanly(crashing, "SIGQUIT");
      second.res.destroy();
      rows = await deliveries(crashSchema, history.id);
      assert.match(rows[1].responses[0].error, /client closed/);
      assert.ok(rows[1].schedule_start >= 1, "the interrupted attempt counted toward the schedule");
      crashing = await startServer({ env, schema: crashSchema });
      rows = await deliveredNotices(2);
      assert.equal(rows[1].responses.at(-1).status, 200);

      // Fast stop (TERM): the claim expires and the next server takes it over.
      const third = await holdOne();
      await crashing.stop("SIGTERM");
      third.res.destroy();
      assert.equal((await deliveries(crashSchema, history.id))[2].status, "delivering");
      crashing = await startServer({ env, schema: crashSchema });
      rows = await deliveredNotices(3);
      assert.match(rows[2].responses[0].error, LOST_ATTEMPT);
      assert.equal(rows[2].responses.at(-1).status, 200);
      const refunds = [];
      for (const entry of slow.requests.filter((e) => !held.some((h) => h.entry === e))) {
        assertSigned(entry);
        refunds.push((await decryptBody(entry.body, crashing.env)).current.refund);
      }
      assert.deepEqual(refunds, [1_000, 2_000, 3_000]);
    } finally {
      await stopCleanly(crashing);
    }
  });
});
