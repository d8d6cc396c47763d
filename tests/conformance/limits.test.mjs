// No unlimited guessing, and no flood of vendor webhooks: wrong record
// passwords are limited per record and per client address (429 with
// Retry-After, even for the right password, until the delay passes), wrong
// system passwords per client address, and the vendor webhook routes take a
// bounded rate per client address. The operators' routes answer on the
// operators' listener only. One worker, so that one table counts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

import { startFakeServer, stopFake } from "../lib/fakes.mjs";
import { waitFor } from "../lib/process.mjs";
import { encryptBody, request, startServer, stopCleanly } from "../lib/server.mjs";
import { iamportDriver } from "../lib/vendor_drivers.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const PASSWORD = "the-right-password";
const DELAY_SECONDS = 4;

describe("limits on guessing and on webhook rates", () => {
  let fake;
  let server;
  let driver;

  before(async () => {
    fake = await startFakeServer("fake-iamport-server");
    driver = iamportDriver(fake.host);
    server = await startServer({
      workers: 1,
      env: {
        PAYMENT_IAMPORT_URL: fake.host,
        PAYMENT_GUESS_FREE: "5",
        PAYMENT_GUESS_DELAY: `${DELAY_SECONDS}s`,
        PAYMENT_GUESS_DELAY_MAX: `${DELAY_SECONDS}s`,
        PAYMENT_WEBHOOK_RATE: "1",
        PAYMENT_WEBHOOK_BURST: "5",
      },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    if (fake) await stopFake(fake);
  });

  const connection = () => ({
    host: server.url(""),
    encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
  });

  const newHistory = async () => {
    const source = { schema: "shopping", table: "shopping_orders", id: randomUUID() };
    const uid = await driver.card(source.id, 1_000);
    return api.histories.create(connection(), {
      vendor: { code: "iamport", store_id: "limits-store", uid }, source, price: 1_000, password: PASSWORD,
      webhook_url: "http://127.0.0.1:9/webhook",
    });
  };

  /** PATCH /payments/histories/:id, raw, so that the headers can be read. */
  const read = async (id, password) =>
    request(server.url(`/payments/histories/${id}`), {
      method: "PATCH",
      headers: { "Content-Type": "text/plain" },
      body: await encryptBody({ password }, server.env),
    });

  const retryAfter = (res) => {
    const seconds = Number(res.headers["retry-after"]);
    assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= DELAY_SECONDS, `Retry-After ${res.headers["retry-after"]}`);
    return seconds;
  };

  /** Waits until the right password opens the history again. */
  const waitUntilOpen = (id) =>
    waitFor(async () => (await read(id, PASSWORD)).status === 200, 4 * DELAY_SECONDS * 1000, "the delay to pass");

  test("50 wrong record passwords: 429 with Retry-After, the right one waits too, then opens", async () => {
    const history = await newHistory();
    const statuses = [];
    for (let i = 0; i < 50; i++) {
      const res = await read(history.id, `wrong-${i}`);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter(res);
        assert.match(JSON.parse(res.body).message, /too many wrong passwords/);
      }
    }
    assert.deepEqual(statuses.slice(0, 6), [403, 403, 403, 403, 403, 403], "five free failures, the sixth trips");
    assert.equal(statuses.at(-1), 429);
    assert.ok(statuses.filter((s) => s === 429).length >= 40, `statuses: ${statuses}`);
    const right = await read(history.id, PASSWORD);
    assert.equal(right.status, 429, "the right password is refused while blocked");
    retryAfter(right);
    await waitUntilOpen(history.id);
    assert.match(server.process.log(), new RegExp(`record ${history.id} blocked for \\d+ s`));
    assert.match(server.process.log(), /client 127\.0\.0\.1 blocked for \d+ s after repeated wrong passwords/);
    assert.doesNotMatch(server.process.log(), /wrong-\d+/, "passwords tried never reach the log");
  });

  test("wrong passwords spread over records are limited by the client address", async () => {
    const first = await newHistory();
    const second = await newHistory();
    const third = await newHistory();
    for (let i = 0; i < 3; i++) assert.equal((await read(first.id, `wrong-${i}`)).status, 403);
    for (let i = 0; i < 3; i++) assert.equal((await read(second.id, `wrong-${i}`)).status, 403);
    // Neither record failed more than three times: the address did, six.
    const untouched = await read(third.id, PASSWORD);
    assert.equal(untouched.status, 429, untouched.body);
    retryAfter(untouched);
    // A 429 is not an answer kept for an Idempotency-Key: its retry runs.
    const key = randomUUID();
    const cancelThird = async () =>
      request(server.url("/payments/histories/cancel"), {
        method: "PUT",
        headers: { "Content-Type": "text/plain", "Idempotency-Key": key },
        body: await encryptBody({ source: third.source, password: PASSWORD, price: 1_000, reason: "limits", account: null },
          server.env),
      });
    assert.equal((await cancelThird()).status, 429);
    await waitUntilOpen(third.id);
    const cancelled = await cancelThird();
    assert.equal(cancelled.status, 200, cancelled.body);
    assert.equal(cancelled.headers["idempotent-replayed"], undefined);
  });

  test("wrong system passwords: 429 with Retry-After on the operators' routes", async () => {
    const retry = (password) =>
      request(server.adminUrl("/payments/internal/webhooks/retry"), {
        method: "POST", headers: { Authorization: `Bearer ${password}` },
      });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await retry(`guess-${i}`)).status);
    assert.deepEqual(statuses, [403, 403, 403, 403, 403, 403, 429, 429]);
    const right = await retry(server.env.PAYMENT_SYSTEM_PASSWORD);
    assert.equal(right.status, 429, "the right system password waits too");
    retryAfter(right);
    await waitFor(async () => (await retry(server.env.PAYMENT_SYSTEM_PASSWORD)).status === 201,
      4 * DELAY_SECONDS * 1000, "the delay to pass");
    assert.match(server.process.log(), /system_auth: client 127\.0\.0\.1 blocked/);
    assert.doesNotMatch(server.process.log(), /guess-\d+/);
  });

  test("operators' routes answer on the operators' listener only", async () => {
    const headers = { Authorization: `Bearer ${server.env.PAYMENT_SYSTEM_PASSWORD}` };
    assert.equal((await request(server.url("/payments/internal/operations"), { headers })).status, 404);
    assert.equal((await request(server.adminUrl("/payments/internal/operations"), { headers })).status, 200);
    assert.equal((await request(server.adminUrl("/payments/histories/get"), { method: "PATCH" })).status, 404,
      "the API is not on the operators' listener");
  });

  test("vendor webhooks past the rate of a client address: 429 with Retry-After", async () => {
    const post = (path, body) =>
      request(server.url(path), {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
    const statuses = [];
    let limited;
    for (let i = 0; i < 8; i++) {
      const res = await post("/payments/webhooks/iamport", { imp_uid: `imp_${i}`, merchant_uid: `m_${i}`, status: "ready" });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    assert.deepEqual(statuses.slice(0, 5), [201, 201, 201, 201, 201], "the burst passes");
    assert.ok(limited, `statuses: ${statuses}`);
    assert.ok(Number(limited.headers["retry-after"]) >= 1);
    // One bucket per address serves both vendors' routes.
    const toss = [];
    for (let i = 0; i < 3; i++) toss.push((await post("/payments/webhooks/toss", { eventType: "x", data: {} })).status);
    assert.ok(toss.includes(429), `toss statuses: ${toss}`);
    // A name no adapter has is an unknown path, before any rate.
    const unknown = await post("/payments/webhooks/paypal", {});
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).message, "Cannot POST /payments/webhooks/paypal");
  });
});
