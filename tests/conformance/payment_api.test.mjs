// Conformance of the payment API: the real SDK of the original server
// (@samchon/payment-backend lib/api, with @nestia/fetcher@5) drives our
// server, the vendor SDKs create the payments on our fake vendors, and every
// answer is checked against the schemas of payment-backend.swagger.json. The
// same cases run for KG Inicis: the SDK passes vendor.code "inicis" through
// as it is, the payments are made with the fake Inicis' own routes, and the
// answers are checked against our docs/openapi.json, whose vendor unions
// have the Inicis member the original's lack.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto, { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

import { loadContract } from "../lib/openapi.mjs";
import { binary, freePort, start, waitForPort } from "../lib/process.mjs";
import { startServer } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";
import { iamportDriver, inicisDriver, tossDriver } from "../lib/vendor_drivers.mjs";

// The record passwords these tests send.
registerSecret("record password", "secret-password");
registerSecret("record password", "billing-password");

const require = createRequire(import.meta.url);
const backend = require("@samchon/payment-backend/lib/api");
const api = backend.functional.payments;
const reference = loadContract("payment-backend");
/** A vendor's schemas: the original's, or our own where it has none. */
const contractOf = (vendor) => vendor.contract ?? reference;

const STORE_ID = "conformance-store";
const WEBHOOK_URL = "http://127.0.0.1:9/payments/webhook";

// ---- helpers ----

const newSource = (id = randomUUID()) => ({ schema: "shopping", table: "shopping_orders", id });

/** Expects an SDK call to fail with status and a plain JSON error body. */
async function expectStatus(promise, status, pattern) {
  let message;
  await assert.rejects(promise, (error) => {
    assert.equal(error.status, status, `status ${error.status}: ${error.message}`);
    const body = JSON.parse(error.message);
    assert.equal(body.statusCode, status);
    assert.equal(typeof body.error, "string");
    assert.ok(typeof body.message === "string" && body.message.length > 0, "error without a message");
    if (pattern) assert.match(body.message, pattern);
    message = body.message;
    return true;
  });
  return message;
}

function encrypt(text, key, iv) {
  const cipher = crypto.createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return cipher.update(text, "utf8", "base64") + cipher.final("base64");
}

/** A raw request with a text/plain body, for what the SDK cannot send. */
async function raw(server, method, path, body) {
  const response = await fetch(server.url(path), { method, headers: { "Content-Type": "text/plain" }, body });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type"), json: JSON.parse(text) };
}

describe("payment API", () => {
  let iamportFake;
  let tossFake;
  let inicisFake;
  let server;
  let connection;
  const drivers = {};

  const startFake = async (name) => {
    const port = await freePort();
    const proc = start(binary(name), ["--port", String(port)]);
    await waitForPort(port);
    return { proc, host: `http://127.0.0.1:${port}` };
  };

  before(async () => {
    iamportFake = await startFake("fake-iamport-server");
    tossFake = await startFake("fake-toss-payments-server");
    inicisFake = await startFake("fake-inicis-server");
    server = await startServer({
      env: {
        PAYMENT_IAMPORT_URL: iamportFake.host, PAYMENT_TOSS_PAYMENTS_URL: tossFake.host,
        PAYMENT_INICIS_URL: inicisFake.host,
      },
    });
    connection = {
      host: server.url(""),
      encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
    };
    drivers.iamport = iamportDriver(iamportFake.host);
    drivers.toss = tossDriver(tossFake.host);
    drivers.inicis = inicisDriver(inicisFake.host);
  });

  // A graceful stop lets every worker free what it holds, so that the
  // sanitizer build reports any leak or misuse in the log.
  after(async () => {
    if (server) {
      const { code, signal } = await server.stop("SIGQUIT");
      const log = server.process.log();
      assert.equal(signal, null, log);
      assert.equal(code, 0, log);
      assert.doesNotMatch(log, /AddressSanitizer|LeakSanitizer|runtime error/, log);
    }
    for (const fake of [iamportFake, tossFake, inicisFake]) if (fake) await fake.proc.stop("SIGTERM");
  });

  const record = async (vendor, { uid, source, price, password = "secret-password" }) => {
    const history = await api.histories.create(connection, {
      vendor: { code: vendor.code, store_id: STORE_ID, uid },
      source, price, password, webhook_url: WEBHOOK_URL,
    });
    return contractOf(vendor).validate(vendor.historySchema, history);
  };
  const readById = async (vendor, id, password = "secret-password") =>
    contractOf(vendor).validate(vendor.historySchema, await api.histories.at(connection, id, { password }));
  const readBySource = async (vendor, source, password = "secret-password") =>
    contractOf(vendor).validate(vendor.historySchema, await api.histories.get(connection, { ...source, password }));
  const cancel = async (vendor, source, price, { account = null, reason = "conformance cancel" } = {}) =>
    contractOf(vendor).validate(vendor.historySchema, await api.histories.cancel(connection, {
      source, password: "secret-password", price, reason, account,
    }));

  for (const name of ["iamport", "toss", "inicis"]) {
    describe(`vendor ${name}`, () => {
      const vendor = () => drivers[name];

      test("card payment recorded, read back by id and by source", async () => {
        const source = newSource();
        const uid = await vendor().card(source.id, 25_000);
        const history = await record(vendor(), { uid, source, price: 25_000 });
        assert.equal(history.vendor_code, vendor().code);
        assert.deepEqual(history.vendor, { code: vendor().code, store_id: STORE_ID, uid });
        assert.deepEqual(history.source, source);
        assert.equal(history.price, 25_000);
        assert.equal(history.currency, "KRW");
        assert.equal(history.refund, null);
        assert.deepEqual(history.cancels, []);
        assert.equal(history.webhook_url, WEBHOOK_URL);
        assert.notEqual(history.paid_at, null);
        assert.equal(history.cancelled_at, null);
        assert.match(history.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        assert.equal(typeof history.data, "object");
        if (vendor().status) assert.equal(await vendor().status(uid), "DONE", "the payment was not confirmed");
        assert.deepEqual(await readById(vendor(), history.id), history);
        assert.deepEqual(await readBySource(vendor(), source), history);
      });

      test("full cancel", async () => {
        const source = newSource();
        const uid = await vendor().card(source.id, 30_000);
        await record(vendor(), { uid, source, price: 30_000 });
        const cancelled = await cancel(vendor(), source, 30_000, { reason: "changed my mind" });
        assert.equal(cancelled.refund, 30_000);
        assert.equal(cancelled.cancels.length, 1);
        assert.equal(cancelled.cancels[0].price, 30_000);
        assert.equal(cancelled.cancels[0].reason, "changed my mind");
        assert.equal(cancelled.cancelled_at, cancelled.cancels[0].created_at);
        assert.deepEqual(await readBySource(vendor(), source), cancelled);
      });

      test("five partial cancels of one fifth each", async () => {
        const source = newSource();
        const uid = await vendor().card(source.id, 10_000);
        const history = await record(vendor(), { uid, source, price: 10_000 });
        let firstCancelTime = null;
        for (let i = 1; i <= 5; i++) {
          const cancelled = await cancel(vendor(), source, 2_000, { reason: `part ${i}` });
          assert.equal(cancelled.id, history.id);
          assert.equal(cancelled.price, 10_000);
          assert.equal(cancelled.refund, 2_000 * i);
          assert.deepEqual(cancelled.cancels.map((c) => c.price), Array(i).fill(2_000));
          assert.deepEqual(cancelled.cancels.map((c) => c.reason), Array.from({ length: i }, (_, k) => `part ${k + 1}`));
          firstCancelTime ??= cancelled.cancelled_at;
          assert.equal(cancelled.cancelled_at, firstCancelTime);
          assert.equal(cancelled.cancelled_at, cancelled.cancels[0].created_at);
          assert.deepEqual(await readById(vendor(), history.id), cancelled);
        }
      });

      test("cancel beyond the remaining amount is refused and changes nothing", async () => {
        const source = newSource();
        const uid = await vendor().card(source.id, 10_000);
        await record(vendor(), { uid, source, price: 10_000 });
        const partial = await cancel(vendor(), source, 6_000);
        await expectStatus(cancel(vendor(), source, 5_000), 422);
        assert.deepEqual(await readBySource(vendor(), source), partial);
        const rest = await cancel(vendor(), source, 4_000);
        assert.equal(rest.refund, 10_000);
        assert.deepEqual(rest.cancels.map((c) => c.price), [6_000, 4_000]);
      });

      test("billing key registered, read back by id and by source", async () => {
        const source = newSource();
        const uid = await vendor().billingKey(source.id);
        const created = await api.reservations.create(connection, {
          vendor: { code: vendor().code, store_id: STORE_ID, uid }, source, title: "monthly plan",
          password: "billing-password",
        });
        const schemas = contractOf(vendor());
        schemas.validate(vendor().reservationSchema, created);
        assert.equal(created.vendor_code, vendor().code);
        assert.deepEqual(created.vendor, { code: vendor().code, store_id: STORE_ID, uid });
        assert.deepEqual(created.source, source);
        assert.equal(created.title, "monthly plan");
        assert.equal(typeof created.data, "object");
        // Inicis cannot look a billing key up: it is kept as given, for the
        // store's merchant, and proven by its first charge.
        if (name === "inicis") assert.deepEqual(created.data, { billKey: uid, mid: "INIpayTest", verified: false });
        const byId = await api.reservations.at(connection, created.id, { password: "billing-password" });
        assert.deepEqual(schemas.validate(vendor().reservationSchema, byId), created);
        const bySource = await api.reservations.get(connection, { ...source, password: "billing-password" });
        assert.deepEqual(schemas.validate(vendor().reservationSchema, bySource), created);
        await expectStatus(api.reservations.at(connection, created.id, { password: "wrong" }), 403);
        await expectStatus(api.reservations.create(connection, {
          vendor: { code: vendor().code, store_id: STORE_ID, uid }, source: newSource(), title: "again",
          password: "x",
        }), 409);
      });

      test("virtual account recorded unpaid", async () => {
        const source = newSource();
        const uid = await vendor().virtualAccount(source.id, 30_000);
        const history = await record(vendor(), { uid, source, price: 30_000 });
        assert.equal(history.paid_at, null);
        assert.equal(history.cancelled_at, null);
        assert.equal(history.refund, null);
        assert.deepEqual(history.cancels, []);
        assert.deepEqual(await readById(vendor(), history.id), history);
      });

      test("virtual account cancel with a refund account, after the deposit", async () => {
        const source = newSource();
        const uid = await vendor().virtualAccount(source.id, 30_000);
        const history = await record(vendor(), { uid, source, price: 30_000 });
        assert.equal(history.paid_at, null);
        await vendor().deposit(uid);
        const partial = await cancel(vendor(), source, 10_000, { account: vendor().refundAccount });
        assert.notEqual(partial.paid_at, null, "the deposit did not show");
        assert.equal(partial.refund, 10_000);
        const full = await cancel(vendor(), source, 20_000, { account: vendor().refundAccount });
        assert.equal(full.refund, 30_000);
        assert.deepEqual(full.cancels.map((c) => c.price), [10_000, 20_000]);
        assert.deepEqual(await readBySource(vendor(), source), full);
      });

      test("amount or order id mismatch is refused and stores nothing", async () => {
        const source = newSource();
        const uid = await vendor().card(source.id, 25_000);
        const mismatch = await expectStatus(record(vendor(), { uid, source, price: 24_000 }), 422, /price/);
        assert.doesNotMatch(mismatch, /25000|25,000/, "the vendor's amount is not revealed");
        await expectStatus(record(vendor(), { uid, source: newSource(), price: 25_000 }), 422);
        const foreign = newSource();
        const foreignUid = await vendor().card(randomUUID(), 5_000);
        await expectStatus(record(vendor(), { uid: foreignUid, source: foreign, price: 5_000 }), 422, /order/i);
        await expectStatus(readBySource(vendor(), source), 404);
        // Nothing was stored: the same source and uid record fine now.
        const history = await record(vendor(), { uid, source, price: 25_000 });
        assert.equal(history.price, 25_000);
      });
    });
  }

  describe("refusals", () => {
    test("wrong password is 403, unknown id 404", async () => {
      const source = newSource();
      const uid = await drivers.iamport.card(source.id, 1_000);
      const history = await record(drivers.iamport, { uid, source, price: 1_000 });
      await expectStatus(api.histories.at(connection, history.id, { password: "wrong" }), 403, /password/);
      await expectStatus(api.histories.get(connection, { ...source, password: "wrong" }), 403);
      await expectStatus(api.histories.cancel(connection, {
        source, password: "wrong", price: 1_000, reason: "x", account: null,
      }), 403);
      assert.equal((await readById(drivers.iamport, history.id)).refund, null);
      await expectStatus(api.histories.at(connection, randomUUID(), { password: "x" }), 404);
      await expectStatus(api.histories.get(connection, { ...newSource(), password: "x" }), 404);
      await expectStatus(api.reservations.at(connection, randomUUID(), { password: "x" }), 404);
      await expectStatus(api.histories.cancel(connection, {
        source: newSource(), password: "x", price: 1, reason: "x", account: null,
      }), 404);
    });

    test("duplicate source or vendor uid is 409", async () => {
      const source = newSource();
      const uid = await drivers.toss.card(source.id, 3_000);
      await record(drivers.toss, { uid, source, price: 3_000 });
      const otherUid = await drivers.toss.card(source.id, 3_000);
      await expectStatus(record(drivers.toss, { uid: otherUid, source, price: 3_000 }), 409, /source/);
      await expectStatus(record(drivers.toss, { uid, source: newSource(), price: 3_000 }), 409, /uid/);
      assert.equal(await drivers.toss.status(otherUid), "IN_PROGRESS", "a refused duplicate was confirmed");
    });

    test("a payment or billing key the vendor does not know is 422", async () => {
      for (const vendor of [drivers.iamport, drivers.toss, drivers.inicis]) {
        await expectStatus(record(vendor, { uid: `unknown-${randomUUID()}`, source: newSource(), price: 1_000 }), 422);
        const reserve = () => api.reservations.create(connection, {
          vendor: { code: vendor.code, store_id: STORE_ID, uid: `unknown-${randomUUID()}` }, source: newSource(),
          title: "t", password: "p",
        });
        if (vendor.code !== "inicis") {
          await expectStatus(reserve(), 422);
          continue;
        }
        // Adapted for Inicis, which has no billing-key lookup: the key is
        // kept unverified, and its first charge refuses it.
        const kept = vendor.contract.validate(vendor.reservationSchema, await reserve());
        assert.equal(kept.data.verified, false);
      }
    });

    test("invalid input is 400 naming the field", async () => {
      const base = () => ({
        vendor: { code: "iamport", store_id: STORE_ID, uid: "imp_000000000001" },
        source: newSource(), price: 1_000, password: "x", webhook_url: WEBHOOK_URL,
      });
      const cases = [
        [{ ...base(), source: { ...newSource(), id: "not-a-uuid" } }, /^source\.id must be a UUID$/],
        [{ ...base(), vendor: { code: "paypal", store_id: STORE_ID, uid: "u" } }, /^vendor\.code must be one of/],
        [{ ...base(), price: -1 }, /^price must be at least 0$/],
        [{ ...base(), price: "1000" }, /^price must be a number$/],
        [{ ...base(), webhook_url: "not a url" }, /^webhook_url must be/],
        [(({ password, ...rest }) => rest)(base()), /^password is required$/],
        [{ ...base(), vendor: undefined }, /^vendor is required$/],
      ];
      for (const [input, message] of cases)
        await expectStatus(api.histories.create(connection, input), 400, message);
      await expectStatus(api.histories.at(connection, "not-a-uuid", { password: "x" }), 400, /UUID/);
      await expectStatus(api.histories.cancel(connection, {
        source: newSource(), password: "x", price: 0, reason: "x", account: null,
      }), 400, /price/);
    });

    test("bodies that cannot be read are 400 with plain JSON errors", async () => {
      const { PAYMENT_CONNECTION_ENCRYPTION_KEY: key, PAYMENT_CONNECTION_ENCRYPTION_IV: iv } = server.env;
      const expect400 = async (body, pattern) => {
        const response = await raw(server, "PATCH", "/payments/histories/get", body);
        assert.equal(response.status, 400, JSON.stringify(response.json));
        assert.match(response.contentType, /application\/json/);
        assert.equal(response.json.statusCode, 400);
        assert.equal(response.json.error, "Bad Request");
        assert.match(response.json.message, pattern);
      };
      // One message for every cause, so that none serves as a padding oracle
      // (conformance/body_oracle.test.mjs tries thousands).
      const unreadable = /^request body cannot be read with the connection key$/;
      await expect400("%%% not base64 %%%", unreadable);
      await expect400(encrypt("{\"schema\": ", key, iv), unreadable);
      await expect400(encrypt("[1, 2, 3]", key, iv), unreadable);
      const otherKey = "another-key-0123456789abcdef0123";
      await expect400(encrypt(JSON.stringify({ ...newSource(), password: "x" }), otherKey, iv), unreadable);
      await expect400("", unreadable);
    });

    test("vendor down is 502 and stores nothing", async () => {
      const closed = await freePort();
      const down = await startServer({
        workers: 1,
        schema: server.env.PAYMENT_POSTGRES_SCHEMA,
        env: {
          PAYMENT_IAMPORT_URL: `http://127.0.0.1:${closed}`, PAYMENT_TOSS_PAYMENTS_URL: `http://127.0.0.1:${closed}`,
          PAYMENT_INICIS_URL: `http://127.0.0.1:${closed}`,
        },
      });
      try {
        const downConnection = { ...connection, host: down.url("") };
        for (const vendor of [drivers.iamport, drivers.toss, drivers.inicis]) {
          const source = newSource();
          const uid = await vendor.card(source.id, 7_000);
          const input = {
            vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, price: 7_000, password: "p",
            webhook_url: WEBHOOK_URL,
          };
          await expectStatus(api.histories.create(downConnection, input), 502);
          const history = contractOf(vendor).validate(vendor.historySchema, await api.histories.create(connection, input));
          assert.deepEqual(history.source, source);
        }
      } finally {
        await down.stop("SIGQUIT");
        assert.doesNotMatch(down.process.log(), /AddressSanitizer|LeakSanitizer|runtime error/, down.process.log());
      }
    });
  });
});
