// Vendor failures keep their identity, and a dead vendor fails fast. A fake
// Toss stalled past its own timeout (PAYMENT_TOSS_PAYMENTS_TIMEOUT_MS) five
// times opens the circuit of that vendor and store: the sixth call, a cancel,
// is answered 503 naming the vendor without reaching the fake, and its
// operation is settled at once; after the cool-down a healthy fake closes
// the circuit again. /monitors/performance shows each state, and a vendor's
// refusal answers {statusCode, message, error, vendor: {code, status, ...}}.
// While the circuit is open, resolve answers a routing rule's fallback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import {
  fakeStats, iamportClient, iamportCardPayment, setFakeLatency, startFakeServer, stopFake, tossCardPayment,
} from "../lib/fakes.mjs";
import { errorOf, newSource, send } from "../lib/keyed_request.mjs";
import { operationsOf } from "../lib/operations.mjs";
import { tempDir, waitFor } from "../lib/process.mjs";
import { decryptBody, request, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";
import { iamportDriver } from "../lib/vendor_drivers.mjs";

const STORE_ID = "circuit-store";
const PASSWORD = "circuit-password";
registerSecret("record password", PASSWORD);
const WEBHOOK_URL = "http://127.0.0.1:9/payments/webhook";
const TOSS = "toss.payments";

describe("vendor circuit breakers and vendor errors", () => {
  const fakes = {};
  let server;

  before(async () => {
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    fakes.iamport = await startFakeServer("fake-iamport-server");
    server = await startServer({
      workers: 1, // one worker: one set of circuits
      env: {
        PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host,
        PAYMENT_IAMPORT_URL: fakes.iamport.host,
        PAYMENT_TOSS_PAYMENTS_TIMEOUT_MS: "300",
        PAYMENT_CIRCUIT_FAILURES: "5",
        PAYMENT_CIRCUIT_COOLDOWN: "1s",
      },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    for (const fake of Object.values(fakes)) await stopFake(fake);
  });

  const historyBody = (code, uid, price = 10_000, source = newSource()) =>
    ({ vendor: { code, store_id: STORE_ID, uid }, source, price, password: PASSWORD, webhook_url: WEBHOOK_URL });
  /** A paid payment at the fake Toss for a new order, as the body that records it. */
  const tossPaid = async () => {
    const source = newSource();
    const paid = await tossCardPayment(fakes.toss, { orderId: source.id });
    return historyBody(TOSS, paid.paymentKey, paid.totalAmount, source);
  };
  const cancelBody = (source, price) => ({ source, password: PASSWORD, price, reason: "circuit", account: null });

  /** The serving worker's circuit of vendor and our store, or undefined: a
   * store id the stores file does not list uses the vendor's fallback
   * account, the store "default". */
  const circuitOf = async (vendor) => {
    const res = await request(server.url("/monitors/performance"));
    assert.equal(res.status, 200, res.body);
    const performance = await decryptBody(res.body, server.env);
    assert.ok(Array.isArray(performance.circuits), JSON.stringify(performance));
    return performance.circuits.find((c) => c.vendor === vendor && c.store_id === "default");
  };

  test("a vendor's refusal names the vendor, its status, code and message", async () => {
    const unknown = `unknown-${randomUUID()}`;
    const toss = await send(server, "POST", "/payments/histories", historyBody(TOSS, unknown));
    assert.ok(toss.status >= 400 && toss.status < 500, toss.body);
    const tossError = errorOf(toss);
    assert.equal(tossError.statusCode, toss.status);
    assert.equal(typeof tossError.message, "string");
    assert.equal(typeof tossError.error, "string");
    assert.equal(tossError.vendor.code, TOSS);
    assert.equal(tossError.vendor.status, 404);
    assert.equal(tossError.vendor.vendor_code, "NOT_FOUND_PAYMENT");
    assert.equal(typeof tossError.vendor.message, "string");

    const iamport = await send(server, "POST", "/payments/histories", historyBody("iamport", unknown));
    assert.ok(iamport.status >= 400 && iamport.status < 500, iamport.body);
    const iamportError = errorOf(iamport);
    assert.equal(iamportError.vendor.code, "iamport");
    assert.equal(typeof iamportError.vendor.status, "number");
    assert.ok(iamportError.vendor.message.length > 0, iamport.body);

    // An error of our own has no vendor member.
    const invalid = await send(server, "POST", "/payments/histories", { ...historyBody(TOSS, unknown), price: -1 });
    assert.equal(invalid.status, 400, invalid.body);
    assert.equal(errorOf(invalid).vendor, undefined);
    // A refusal is an answer: the vendor is alive, its circuit stays closed.
    const circuit = await circuitOf(TOSS);
    assert.equal(circuit.state, "closed");
    assert.equal(circuit.consecutive_failures, 0);
  });

  test("five stalled calls open the circuit; the sixth fails at once without reaching the vendor", async () => {
    // A payment recorded while Toss is healthy, to cancel once it is not.
    const recorded = await tossPaid();
    const created = await send(server, "POST", "/payments/histories", recorded);
    assert.equal(created.status, 201, created.body);
    // The iamport payment of the same store goes through another circuit.
    const iamportSource = newSource();
    const iamportPayment = await iamportCardPayment(await iamportClient(fakes.iamport),
      { merchant_uid: iamportSource.id });

    await setFakeLatency(fakes.toss, { ms: 3_000, match: "/v1/payments/", method: "GET" });
    try {
      for (let i = 1; i <= 5; i++) {
        const res = await send(server, "POST", "/payments/histories", await tossPaid());
        assert.equal(res.status, 504, `call ${i}: ${res.body}`);
        assert.equal(errorOf(res).vendor.code, TOSS);
        const circuit = await circuitOf(TOSS);
        assert.equal(circuit.state, i < 5 ? "closed" : "open", `after call ${i}`);
        assert.equal(circuit.consecutive_failures, i);
      }
      const open = await circuitOf(TOSS);
      assert.ok(!Number.isNaN(Date.parse(open.opened_at)), JSON.stringify(open));

      const cancelsBefore = (await fakeStats(fakes.toss)).cancels;
      const refused = await send(server, "PUT", "/payments/histories/cancel", cancelBody(recorded.source, 1_000));
      assert.equal(refused.status, 503, refused.body);
      const error = errorOf(refused);
      assert.match(error.message, /^Toss Payments is unavailable \(circuit open\); retry after \d+ s$/);
      assert.equal(error.error, "Service Unavailable");
      assert.deepEqual(error.vendor, { code: TOSS, status: null, vendor_code: null, message: null });
      assert.match(refused.headers["retry-after"], /^\d+$/);
      assert.equal((await fakeStats(fakes.toss)).cancels, cancelsBefore, "the cancel reached the fake");
      // Never sent, so settled at once: the record is free for the next cancel.
      const [operation] = await operationsOf(server, recorded.vendor.uid);
      assert.equal(operation.state, "refused", JSON.stringify(operation));

      // Another vendor of the same store is not affected.
      const other = await send(server, "POST", "/payments/histories",
        historyBody("iamport", iamportPayment.imp_uid, iamportPayment.amount, iamportSource));
      assert.equal(other.status, 201, other.body);
      assert.equal((await circuitOf("iamport")).state, "closed");
    } finally {
      await setFakeLatency(fakes.toss, { ms: 0 });
    }

    // The fake is healthy again: after the cool-down one trial call goes
    // through and closes the circuit.
    let answer;
    await waitFor(async () => {
      answer = await send(server, "PUT", "/payments/histories/cancel", cancelBody(recorded.source, 1_000));
      return answer.status !== 503;
    }, 30_000, "the circuit letting a trial call through");
    assert.equal(answer.status, 200, answer.body);
    const closed = await circuitOf(TOSS);
    assert.equal(closed.state, "closed");
    assert.equal(closed.consecutive_failures, 0);
    assert.equal(closed.opened_at, null);
  });
});

// While a rule's vendor has its circuit open in this worker, resolve answers
// the rule's fallback and says which primary it passed over; a reservation by
// route is stored under the fallback too. The rule names a store id the
// stores file does not list, so its calls use Toss's default account: the
// histories below name yet another unlisted store id and open that same
// circuit, the one the rule's calls would pass. A rule without a fallback
// keeps answering its primary (whose calls then meet the 503).
describe("routing fallback while a circuit is open", () => {
  const fakes = {};
  let server;

  const key = { pg: "card", mid: "A", currency: "KRW" };
  const noFallbackKey = { pg: "card", mid: "N", currency: "KRW" };
  const primary = { code: TOSS, store_id: "toss-direct" };
  const fallback = { code: "iamport", store_id: "imp-fallback" };

  before(async () => {
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    fakes.iamport = await startFakeServer("fake-iamport-server");
    const routesFile = path.join(tempDir("payments-fallback-routes-"), "routes.json");
    fs.writeFileSync(routesFile, JSON.stringify({
      routes: [
        { name: "mid-a-krw", pg: "card", mid: "A", currency: "KRW", vendor: TOSS, store_id: primary.store_id,
          fallback: { vendor: fallback.code, store_id: fallback.store_id } },
        { name: "mid-n-krw", pg: "card", mid: "N", currency: "KRW", vendor: TOSS, store_id: primary.store_id },
      ],
    }));
    server = await startServer({
      workers: 1, // one worker: one set of circuits, which resolve consults
      env: {
        PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host,
        PAYMENT_IAMPORT_URL: fakes.iamport.host,
        PAYMENT_TOSS_PAYMENTS_TIMEOUT_MS: "300",
        PAYMENT_CIRCUIT_FAILURES: "5",
        // Long enough that the circuit is still open when the checks below
        // run on a loaded machine; the test waits for its end, never times it.
        PAYMENT_CIRCUIT_COOLDOWN: "8s",
        PAYMENT_ROUTES_FILE: routesFile,
      },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    for (const fake of Object.values(fakes)) await stopFake(fake);
  });

  const resolve = async (routeKey) => {
    const res = await send(server, "POST", "/payments/routes/resolve", routeKey);
    assert.equal(res.status, 200, res.body);
    return decryptBody(res.body, server.env);
  };
  const answersPrimary = (name, ruleFallback) => ({
    vendor: primary, route: name, fallback: ruleFallback, used_fallback: false, primary: null,
  });
  const tossHistory = async () => {
    const source = newSource();
    const paid = await tossCardPayment(fakes.toss, { orderId: source.id });
    return { vendor: { code: TOSS, store_id: "another-unlisted-store", uid: paid.paymentKey }, source,
      price: paid.totalAmount, password: PASSWORD, webhook_url: WEBHOOK_URL };
  };
  const tossCircuit = async () => {
    const res = await request(server.url("/monitors/performance"));
    assert.equal(res.status, 200, res.body);
    const performance = await decryptBody(res.body, server.env);
    return performance.circuits.find((c) => c.vendor === TOSS && c.store_id === "default");
  };

  test("resolve answers the fallback while the primary's circuit is open, the primary again once closed", async () => {
    assert.deepEqual(await resolve(key), answersPrimary("mid-a-krw", fallback));

    await setFakeLatency(fakes.toss, { ms: 3_000, match: "/v1/payments/", method: "GET" });
    try {
      for (let i = 1; i <= 5; i++) {
        const res = await send(server, "POST", "/payments/histories", await tossHistory());
        assert.equal(res.status, 504, `call ${i}: ${res.body}`);
      }
    } finally {
      await setFakeLatency(fakes.toss, { ms: 0 });
    }
    assert.equal((await tossCircuit()).state, "open");

    assert.deepEqual(await resolve(key), {
      vendor: fallback, route: "mid-a-krw", fallback, used_fallback: true, primary: { ...primary, state: "open" },
    });
    // Without a fallback the primary is still the answer.
    assert.deepEqual(await resolve(noFallbackKey), answersPrimary("mid-n-krw", null));
    // Asking opened no trial: the circuit is as the calls left it.
    assert.equal((await tossCircuit()).state, "open");

    // A reservation by route goes where resolve points.
    const source = { schema: "shopping", table: "shopping_subscriptions", id: randomUUID() };
    const uid = await iamportDriver(fakes.iamport.host).billingKey(source.id);
    const created = await send(server, "POST", "/payments/reservations",
      { route: key, vendor: { uid }, source, title: "fallback plan", password: PASSWORD });
    assert.equal(created.status, 201, created.body);
    const reservation = await decryptBody(created.body, server.env);
    assert.deepEqual(reservation.vendor, { ...fallback, uid });

    // Once the cool-down ends the primary is answered again (the caller's
    // next call is the trial), and a healthy call closes the circuit.
    await waitFor(async () => !(await resolve(key)).used_fallback, 60_000, "the cool-down to end");
    const healthy = await send(server, "POST", "/payments/histories", await tossHistory());
    assert.equal(healthy.status, 201, healthy.body);
    assert.equal((await tossCircuit()).state, "closed");
    assert.deepEqual(await resolve(key), answersPrimary("mid-a-krw", fallback));
  });
});
