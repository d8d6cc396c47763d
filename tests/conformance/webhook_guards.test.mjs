// The webhook routes outside local mode, against a dev-mode server with one
// worker and both fakes: a caller's webhook_url cannot make the server reach
// its own network (refused at creation by its text, at delivery by the
// address its name resolves to, unless PAYMENT_WEBHOOK_ALLOW_HOSTS names
// it), and a burst of vendor webhooks for one payment cannot turn into a
// burst of vendor calls.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto, { randomUUID } from "node:crypto";
import dns from "node:dns/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import { createRequire } from "node:module";

import { query } from "../lib/database.mjs";
import { FAKE_INICIS, fakeStats, setFakeLatency, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { freePort, waitFor } from "../lib/process.mjs";
import { request, sdkConnection, startServer, stopCleanly } from "../lib/server.mjs";
import { IAMPORT_KEY, IAMPORT_SECRET, TOSS_SECRET, iamportDriver, tossDriver } from "../lib/vendor_drivers.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const STORE_ID = "guard-store";
const PASSWORD = "guard-password";
// What a receiver the allow-list names runs on: a name and a range.
const ALLOWED_NAME = "localhost";
const ALLOWED_ADDRESS = "127.0.0.2";
// How long the fakes hold a payment look-up: every webhook of a burst
// arrives while the first look-up is out.
const HELD_LOOKUP_MS = 2000;

const newSource = () => ({ schema: "shopping", table: "shopping_orders", id: randomUUID() });
const randomText = (bytes) => crypto.randomBytes(bytes).toString("base64url");

/** True for an address no public webhook receiver has (loopback, private, link-local, unique-local). */
function isInternal(address) {
  if (net.isIPv4(address)) {
    const [a, b] = address.split(".").map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) ||
      (a === 169 && b === 254) || a === 0;
  }
  const lower = address.toLowerCase();
  return lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) ||
    (lower.startsWith("::ffff:") && isInternal(lower.slice(7)));
}

/** A receiver on every local address of a free port, counting what it gets. */
async function startReceiver() {
  const requests = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests.push({ host: req.headers.host });
      res.writeHead(200).end("ok");
    });
  });
  const port = await freePort();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, resolve); // "::", which takes IPv4 too
  });
  return { port, requests, close: () => { server.close(); server.closeAllConnections(); } };
}

/** The notifications of a history with their attempts. */
const deliveries = (schema, historyId) => query(schema, `
  SELECT d.status, d.attempts,
    (SELECT coalesce(json_agg(json_build_object('status', r.status, 'error', r.error) ORDER BY r.attempt), '[]')
     FROM payment_webhook_responses r WHERE r.delivery_id = d.id) AS responses
  FROM payment_webhook_deliveries d WHERE d.history_id = :'history' ORDER BY d.sequence`, { history: historyId });

describe("webhook routes outside local mode", () => {
  const fakes = {};
  const drivers = {};
  const receivers = [];
  let server;
  let connection;

  before(async () => {
    fakes.iamport = await startFakeServer("fake-iamport-server");
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    fakes.inicis = await startFakeServer("fake-inicis-server");
    server = await startServer({
      workers: 1,
      env: {
        PAYMENT_MODE: "dev",
        // What dev mode asks for: vendors on loopback allowed explicitly,
        // secrets of their own, a system password that is not a default.
        PAYMENT_VENDOR_ALLOW_INTERNAL: "1",
        PAYMENT_IAMPORT_URL: fakes.iamport.host,
        PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host,
        PAYMENT_IAMPORT_KEY: IAMPORT_KEY,
        PAYMENT_IAMPORT_SECRET: IAMPORT_SECRET,
        PAYMENT_TOSS_PAYMENTS_SECRET: TOSS_SECRET,
        PAYMENT_INICIS_URL: fakes.inicis.host,
        PAYMENT_INICIS_MID: FAKE_INICIS.mid,
        PAYMENT_INICIS_KEY: FAKE_INICIS.key,
        PAYMENT_INICIS_IV: FAKE_INICIS.iv,
        PAYMENT_WEBHOOK_SECRET: randomText(32),
        PAYMENT_PASSWORD_SECRET: randomText(32),
        PAYMENT_SYSTEM_PASSWORD: randomText(18),
        PAYMENT_WEBHOOK_ALLOW_HOSTS: `${ALLOWED_NAME}, ${ALLOWED_ADDRESS}/32`,
        PAYMENT_WEBHOOK_TIMEOUT_MS: "2000",
        PAYMENT_WEBHOOK_RETRY_SCHEDULE: "100ms,100ms,100ms",
      },
    });
    connection = sdkConnection(server);
    drivers.iamport = iamportDriver(fakes.iamport.host);
    drivers.toss = tossDriver(fakes.toss.host);
  });

  after(async () => {
    for (const receiver of receivers) receiver.close();
    if (server) await stopCleanly(server);
    for (const fake of [fakes.iamport, fakes.toss, fakes.inicis]) if (fake) await stopFake(fake);
  });

  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const schema = () => server.env.PAYMENT_POSTGRES_SCHEMA;
  const record = (vendor, { uid, source, price, webhookUrl }) => api.histories.create(connection, {
    vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, price, password: PASSWORD, webhook_url: webhookUrl,
  });
  const cancel = (source, price) =>
    api.histories.cancel(connection, { source, password: PASSWORD, price, reason: "guard test", account: null });
  const historiesOf = async (source) =>
    (await query(schema(), "SELECT id FROM payment_histories WHERE source_id = :'id'", { id: source.id })).length;

  describe("webhook_url", () => {
    test("an internal address or credentials in webhook_url is 400 naming it, and nothing is written", async () => {
      const cases = [
        ["http://127.0.0.1:9/hook", /^webhook_url must not point at an internal address/],
        ["http://10.0.0.1/hook", /^webhook_url must not point at an internal address/],
        ["http://169.254.169.254/latest/meta-data/", /^webhook_url must not point at an internal address/],
        ["http://[::1]:9/hook", /^webhook_url must not point at an internal address/],
        ["http://api.localhost.:9/hook", /^webhook_url must not point at an internal address/],
        ["http://alice:s3cret@example.com/hook", /^webhook_url must not carry credentials/],
      ];
      for (const [webhookUrl, message] of cases) {
        const source = newSource();
        const uid = await drivers.iamport.card(source.id, 1_000);
        const lookups = (await fakeStats(fakes.iamport)).lookups;
        await assert.rejects(record(drivers.iamport, { uid, source, price: 1_000, webhookUrl }), (error) => {
          assert.ok(error.status, `${webhookUrl}: ${error}`);
          assert.equal(error.status, 400, `${webhookUrl}: ${error.message}`);
          const body = JSON.parse(error.message);
          assert.match(body.message, message, webhookUrl);
          assert.doesNotMatch(body.message, /alice|s3cret/, "the URL's credentials were echoed");
          return true;
        });
        assert.equal(await historiesOf(source), 0, `${webhookUrl} was recorded`);
        assert.equal((await fakeStats(fakes.iamport)).lookups, lookups, `${webhookUrl}: the vendor was asked`);
      }
    });

    test("a host name that resolves to this machine is accepted, and its delivery refused when connecting", async (t) => {
      const name = os.hostname();
      const addresses = (await dns.lookup(name, { all: true })).map((a) => a.address);
      if (addresses.length === 0 || !addresses.every(isInternal) || net.isIP(name)) {
        t.skip(`${name} resolves to ${addresses.join(", ")}: no name of this machine to test with`);
        return;
      }
      const target = await receiver();
      const source = newSource();
      const uid = await drivers.iamport.card(source.id, 5_000);
      const history = await record(drivers.iamport, {
        uid, source, price: 5_000, webhookUrl: `http://${name}:${target.port}/hook`,
      });
      await cancel(source, 1_000);
      const [delivery] = await waitFor(async () => {
        const rows = await deliveries(schema(), history.id);
        return rows.length > 0 && rows[0].status === "failed" && rows;
      }, 15_000, "the refused notification");
      // Refused for good at the first attempt: no retry can make it public.
      assert.equal(delivery.attempts, 1, JSON.stringify(delivery));
      assert.equal(delivery.responses.length, 1);
      assert.equal(delivery.responses[0].status, null);
      assert.match(delivery.responses[0].error,
        new RegExp(`^not sent: webhook_url resolves to an internal address \\(refused to connect to (${
          addresses.map((a) => a.replace(/[.:]/g, "\\$&")).join("|")})`));
      assert.deepEqual(target.requests, [], "the receiver on this machine was reached");
      assert.match(server.process.log(), new RegExp(`notification \\S+ of history ${history.id} not sent: webhook_url ` +
        "resolves to an internal address .*marked failed"));
    });

    test("PAYMENT_WEBHOOK_ALLOW_HOSTS lets a named internal destination through, by name or by address", async () => {
      const target = await receiver();
      for (const host of [ALLOWED_NAME, ALLOWED_ADDRESS]) {
        const source = newSource();
        const uid = await drivers.toss.card(source.id, 4_000);
        const history = await record(drivers.toss, {
          uid, source, price: 4_000, webhookUrl: `http://${host}:${target.port}/hook`,
        });
        const before = target.requests.length;
        await cancel(source, 1_000);
        await waitFor(() => target.requests.length > before, 15_000, `the notification through ${host}`);
        assert.equal(target.requests.at(-1).host, `${host}:${target.port}`);
        const rows = await waitFor(async () => {
          const found = await deliveries(schema(), history.id);
          return found[0]?.status === "delivered" && found;
        }, 10_000, "the delivered notification");
        assert.equal(rows[0].responses[0].status, 200);
      }
    });
  });

  describe("vendor webhooks share their vendor fetches", () => {
    const webhook = (vendor, uid, orderId) => request(server.url(`/payments/webhooks/${vendor === drivers.iamport ? "iamport" : "toss"}`), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(vendor.webhook(uid, orderId, vendor.paidStatus)),
      timeout: 30_000,
    });

    for (const name of ["iamport", "toss"]) {
      test(`100 concurrent ${name} webhooks for one payment make at most two vendor look-ups`, async () => {
        const vendor = drivers[name];
        const fake = fakes[name];
        const source = newSource();
        const uid = await vendor.card(source.id, 7_000);
        await record(vendor, { uid, source, price: 7_000, webhookUrl: "https://hooks.example.com/payments" });
        const before = (await fakeStats(fake)).lookups;
        await setFakeLatency(fake, { ms: HELD_LOOKUP_MS, match: uid, method: "GET" });
        try {
          const answers = await Promise.all(Array.from({ length: 100 }, () => webhook(vendor, uid, source.id)));
          assert.deepEqual(answers.map((a) => a.status), Array(100).fill(201), answers.find((a) => a.status !== 201)?.body);
        } finally {
          await setFakeLatency(fake, { ms: 0 });
        }
        const lookups = (await fakeStats(fake)).lookups - before;
        // The first look-up, and one for every webhook that came while it
        // was out (its answer may predate their events).
        assert.ok(lookups >= 1 && lookups <= 2, `${lookups} vendor look-ups for 100 webhooks`);
      });
    }

    test("a webhook that arrives while a look-up is out waits for a newer answer", async () => {
      const vendor = drivers.iamport;
      const fake = fakes.iamport;
      const source = newSource();
      const uid = await vendor.virtualAccount(source.id, 9_000);
      const history = await record(vendor, { uid, source, price: 9_000, webhookUrl: "https://hooks.example.com/payments" });
      assert.equal(history.paid_at, null);
      const before = (await fakeStats(fake)).lookups;
      await setFakeLatency(fake, { ms: HELD_LOOKUP_MS, match: uid, method: "GET" });
      let forged;
      let real;
      try {
        // A forged "paid" first: its look-up sees the account unpaid, and
        // holds that answer while the deposit happens.
        forged = webhook(vendor, uid, source.id);
        await waitFor(async () => (await fakeStats(fake)).lookups > before, 10_000, "the first look-up");
        await vendor.deposit(uid);
        real = webhook(vendor, uid, source.id);
        assert.deepEqual([(await forged).status, (await real).status], [201, 201]);
      } finally {
        await setFakeLatency(fake, { ms: 0 });
      }
      const now = await api.histories.at(connection, history.id, { password: PASSWORD });
      assert.notEqual(now.paid_at, null, "the deposit's webhook got the answer from before the deposit");
      assert.equal((await fakeStats(fake)).lookups - before, 2);
    });
  });
});
