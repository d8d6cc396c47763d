// Charges of a billing key (POST /payments/charges) against the fakes and a
// real PostgreSQL: the history each vendor's charge becomes, read back by
// the original SDK with the reservation's password; refusals kept as
// attempts; Idempotency-Key (one payment at the fake, however often and
// however concurrently it is sent); and a worker killed while the fake
// holds the charge, after which the reconciler records exactly one history
// of exactly one charge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

import { fakeRequest, fakeStats, setFakeBilling, setFakeLatency, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { errorOf, newSource, replayed, send } from "../lib/keyed_request.mjs";
import fs from "node:fs";
import path from "node:path";

import { loadContract, loadDocument } from "../lib/openapi.mjs";
import { killWorkerWhen } from "../lib/operations.mjs";
import { sourceDir, tempDir, waitFor } from "../lib/process.mjs";
import { decryptBody, sdkConnection, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";
import { iamportDriver, inicisDriver, tossDriver } from "../lib/vendor_drivers.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;
const contract = loadContract("payment-backend");
const ours = loadDocument(path.join(sourceDir, "docs", "openapi.json"), "docs/openapi.json");

const STORE_ID = "charges-store";
const PASSWORD = "reservation-password";
registerSecret("record password", PASSWORD);

describe("charges with a billing key", () => {
  const fakes = {};
  const drivers = {};
  let server;

  before(async () => {
    fakes.iamport = await startFakeServer("fake-iamport-server");
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    fakes.inicis = await startFakeServer("fake-inicis-server");
    drivers.iamport = iamportDriver(fakes.iamport.host);
    drivers.toss = tossDriver(fakes.toss.host);
    drivers.inicis = inicisDriver(fakes.inicis.host);
    const routesFile = path.join(tempDir("payments-charges-routes-"), "routes.json");
    fs.writeFileSync(routesFile, JSON.stringify({
      routes: [
        { name: "toss-routed", pg: "card", mid: "T", currency: "KRW", vendor: "toss.payments", store_id: "routed-store" },
        { name: "iamport-routed", pg: "card", mid: "I", currency: "KRW", vendor: "iamport", store_id: "routed-store" },
      ],
    }));
    server = await startServer({
      workers: 1,
      env: {
        PAYMENT_IAMPORT_URL: fakes.iamport.host,
        PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host,
        PAYMENT_INICIS_URL: fakes.inicis.host,
        PAYMENT_RECONCILE_INTERVAL_MS: "200",
        PAYMENT_RECONCILE_AFTER_MS: "1000",
        PAYMENT_VENDOR_TIMEOUT_MS: "5000",
        PAYMENT_ROUTES_FILE: routesFile,
      },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    for (const fake of Object.values(fakes)) {
      await setFakeLatency(fake, { ms: 0 });
      await stopFake(fake);
    }
  });

  /** An encrypted request: {status, body (decrypted, or the plain error), headers}. */
  const call = async (method, path, value, key) => {
    const res = await send(server, method, path, value, key);
    const ok = res.status < 300;
    return { status: res.status, headers: res.headers, body: ok ? await decryptBody(res.body, server.env) : errorOf(res) };
  };

  /** A reservation of a new billing key at the vendor: the stored reservation. */
  const reserve = async (name) => {
    const source = newSource();
    const uid = await drivers[name].billingKey(source.id);
    return api.reservations.create(sdkConnection(server), {
      vendor: { code: drivers[name].code, store_id: STORE_ID, uid }, source, title: "monthly plan", password: PASSWORD,
    });
  };

  const order = (reservation, overrides = {}) => ({
    reservation: { id: reservation.id }, password: PASSWORD, source: newSource(), name: "monthly plan",
    price: 9_900, currency: "KRW", webhook_url: server.url("/payments/internal/webhook"), ...overrides,
  });

  const attempts = async (reservation, password = PASSWORD) =>
    call("PATCH", "/payments/charges/attempts", { reservation_id: reservation.id, password });

  const VENDORS = ["iamport", "toss", "inicis"];
  for (const name of VENDORS) {
    test(`${name}: the charge becomes a history the original SDK reads with the reservation's password`, async () => {
      const reservation = await reserve(name);
      const start = await fakeStats(fakes[name]);
      const body = order(reservation);
      const res = await call("POST", "/payments/charges", body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const history = res.body;
      ours.validateResponse("POST", "/payments/charges", 201, history);
      assert.deepEqual(history.source, body.source);
      assert.equal(history.price, 9_900);
      assert.equal(history.vendor.code, drivers[name].code);
      assert.equal(history.vendor.store_id, STORE_ID);
      assert.equal((await fakeStats(fakes[name])).billing_charges - start.billing_charges, 1);

      const byId = await api.histories.at(sdkConnection(server), history.id, { password: PASSWORD });
      (drivers[name].contract ?? contract).validate(drivers[name].historySchema, byId);
      assert.equal(byId.id, history.id);
      assert.ok(byId.paid_at, "paid");
      const bySource = await api.histories.get(sdkConnection(server), { ...body.source, password: PASSWORD });
      assert.equal(bySource.id, history.id);

      const list = await attempts(reservation);
      assert.equal(list.status, 200);
      ours.validateResponse("PATCH", "/payments/charges/attempts", 200, list.body);
      assert.equal(list.body.length, 1);
      const [attempt] = list.body;
      assert.equal(attempt.result, "succeeded");
      assert.equal(attempt.history_id, history.id);
      assert.equal(attempt.amount, 9_900);
      assert.equal(attempt.currency, "KRW");
      assert.equal(attempt.vendor_code, drivers[name].code);
      assert.match(attempt.order_id, /^ch-[0-9a-f]{32}$/);
      assert.equal(typeof attempt.answer, "object", "the vendor's answer, opened");
      assert.equal((await attempts(reservation, "wrong")).status, 403);

      // The same order again: already charged, nothing sent.
      const again = await call("POST", "/payments/charges", body);
      assert.equal(again.status, 409, JSON.stringify(again.body));
      assert.equal((await fakeStats(fakes[name])).billing_charges - start.billing_charges, 1);
    });

    test(`${name}: a declined card is a 422 naming the vendor, kept as an attempt; a retry may succeed`, async () => {
      const reservation = await reserve(name);
      await setFakeBilling(fakes[name], { fail_next: 1 });
      const body = order(reservation);
      const refused = await call("POST", "/payments/charges", body);
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.equal(refused.body.vendor?.code, drivers[name].code, JSON.stringify(refused.body));
      ours.validateResponse("POST", "/payments/charges", 422, refused.body);
      await assert.rejects(api.histories.get(sdkConnection(server), { ...body.source, password: PASSWORD }),
        (error) => error.status === 404);

      const [attempt] = (await attempts(reservation)).body;
      assert.equal(attempt.result, "refused");
      assert.equal(attempt.history_id, null);
      const one = await call("PATCH", `/payments/charges/attempts/${attempt.id}`, { password: PASSWORD });
      assert.equal(one.status, 200);
      assert.equal(one.body.id, attempt.id);
      assert.equal(one.body.result, "refused");
      ours.validateResponse("PATCH", "/payments/charges/attempts/{id}", 200, one.body);
      assert.equal((await call("PATCH", `/payments/charges/attempts/${attempt.id}`, { password: "wrong" })).status, 403);
      assert.equal((await call("PATCH", `/payments/charges/attempts/${randomUUID()}`, { password: PASSWORD })).status, 404);

      // The client retries the same order: a new vendor order, charged.
      const retried = await call("POST", "/payments/charges", body);
      assert.equal(retried.status, 201, JSON.stringify(retried.body));
      const both = (await attempts(reservation)).body;
      assert.deepEqual(both.map((a) => a.result), ["succeeded", "refused"]);
      assert.notEqual(both[0].order_id, both[1].order_id);
    });
  }

  test("bad input changes nothing: 400 naming the field, 403 for a wrong password, 404 for no reservation", async () => {
    const reservation = await reserve("toss");
    const start = await fakeStats(fakes.toss);
    for (const [overrides, field] of [[{ price: 0 }, /price/], [{ currency: "krw" }, /currency/],
      [{ source: { schema: "s", table: "t", id: "x" } }, /source\.id/], [{ reservation: {} }, /reservation/],
      [{ webhook_url: "ftp://x" }, /webhook_url/]]) {
      const res = await call("POST", "/payments/charges", order(reservation, overrides));
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.message, field);
    }
    assert.equal((await call("POST", "/payments/charges", order(reservation, { password: "wrong" }))).status, 403);
    const missing = await call("POST", "/payments/charges", order(reservation, { reservation: { id: randomUUID() } }));
    assert.equal(missing.status, 404);
    const route = await call("POST", "/payments/charges", order(reservation, { route: "nowhere" }));
    assert.equal(route.status, 422);
    assert.equal((await fakeStats(fakes.toss)).charges, start.charges);
  });

  test("a route is used only when it sends to the reservation's vendor; its store then charges", async () => {
    const reservation = await reserve("toss");
    const start = await fakeStats(fakes.toss);
    const elsewhere = await call("POST", "/payments/charges", order(reservation, { route: "iamport-routed" }));
    assert.equal(elsewhere.status, 422, JSON.stringify(elsewhere.body));
    assert.match(elsewhere.body.message, /route sends to iamport, but the reservation's billing key is toss\.payments's/);
    assert.equal((await fakeStats(fakes.toss)).charges, start.charges);
    const routed = await call("POST", "/payments/charges", order(reservation, { route: "toss-routed" }));
    assert.equal(routed.status, 201, JSON.stringify(routed.body));
    assert.equal(routed.body.vendor.store_id, "routed-store");
  });

  test("a reservation named by its source charges as by its id", async () => {
    const reservation = await reserve("iamport");
    const res = await call("POST", "/payments/charges", order(reservation, { reservation: { source: reservation.source } }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  test("Idempotency-Key: twice is one payment, another body 422, 20 at once one payment", async () => {
    const reservation = await reserve("toss");
    const start = await fakeStats(fakes.toss);
    const body = order(reservation);
    const key = randomUUID();
    const first = await call("POST", "/payments/charges", body, key);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await call("POST", "/payments/charges", body, key);
    assert.equal(second.status, 201);
    assert.ok(replayed(second), "the first answer, replayed");
    assert.equal(second.body.id, first.body.id);
    const other = await call("POST", "/payments/charges", { ...body, price: 1_000 }, key);
    assert.equal(other.status, 422, JSON.stringify(other.body));
    assert.equal((await fakeStats(fakes.toss)).charges - start.charges, 1);

    const crowd = order(reservation);
    const crowdKey = randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => call("POST", "/payments/charges", crowd, crowdKey)));
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => s === 201 || s === 409), statuses.join(","));
    assert.ok(statuses.includes(201), statuses.join(","));
    for (const a of answers.filter((x) => x.status === 201)) assert.deepEqual(a.body.source, crowd.source);
    assert.equal((await fakeStats(fakes.toss)).charges - start.charges, 2);
  });

  test("Idempotency-Key after a vendor timeout: 504, then 409 while pending, then the history, one payment", async () => {
    const reservation = await reserve("toss");
    const fake = fakes.toss;
    const start = await fakeStats(fake);
    const body = order(reservation);
    const key = randomUUID();
    await setFakeLatency(fake, { ms: 6_000, match: "/v1/billing/" });
    let first;
    try {
      first = await call("POST", "/payments/charges", body, key);
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
    assert.equal(first.status, 504, JSON.stringify(first.body));
    const settled = await waitFor(async () => {
      const retry = await call("POST", "/payments/charges", body, key);
      assert.ok([201, 409].includes(retry.status), JSON.stringify(retry.body));
      return retry.status === 201 ? retry : null;
    }, 20_000, "the charge settled by the reconciler");
    assert.deepEqual(settled.body.source, body.source);
    assert.equal((await fakeStats(fake)).billing_charges - start.billing_charges, 1);
  });

  // Where each fake holds the charge's answer, and how the resend after the
  // kill is known not to be a second charge.
  const chargePaths = { iamport: "/subscribe/payments/again", toss: "/v1/billing/", inicis: "/api/v1/billing" };
  for (const name of VENDORS) {
    test(`${name}: a worker killed while the fake holds the charge; the reconciler records one history of one charge`,
      async () => {
        const reservation = await reserve(name);
        const fake = fakes[name];
        const start = await fakeStats(fake);
        const body = order(reservation);
        await setFakeLatency(fake, { ms: 3_000, match: chargePaths[name] });
        const pending = call("POST", "/payments/charges", body).catch((error) => error);
        try {
          await killWorkerWhen(server, fake, "billing_charges", start);
        } finally {
          await setFakeLatency(fake, { ms: 0 });
        }
        assert.ok((await pending) instanceof Error, "the killed worker's client got no answer");
        const history = await waitFor(async () => {
          try {
            return await api.histories.get(sdkConnection(server), { ...body.source, password: PASSWORD });
          } catch {
            return null;
          }
        }, 20_000, "the history recorded by the reconciler");
        assert.equal(history.price, 9_900);
        const stats = await fakeStats(fake);
        assert.equal(stats.billing_charges - start.billing_charges, 1, "one charge at the vendor");
        if (name === "toss") {
          assert.ok(stats.idempotent_replays > start.idempotent_replays, "the resend answered by the first charge");
        } else if (name === "iamport") {
          assert.ok(stats.lookups > start.lookups, "the order looked up before any resend");
        }
        const list = (await attempts(reservation)).body;
        assert.equal(list.length, 1);
        assert.equal(list[0].history_id, history.id);
        assert.equal(list[0].result, "succeeded");
      });
  }
});
