// KG Inicis end to end, beyond the cases payment_api.test.mjs runs for every
// vendor (Inicis included): refunds reach the fake's payment, a deposit
// arrives by Inicis' notification and is forwarded signed, a paid virtual
// account is refunded to an account, and the notification route's answers.
// It speaks the encrypted API itself, with vendor.code "inicis".
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { fakeRequest, inicisCardPayment } from "../lib/fakes.mjs";
import { binary, freePort, start, waitFor, waitForPort } from "../lib/process.mjs";
import { decryptBody, encryptBody, request, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const STORE_ID = "inicis-store";
const PASSWORD = "inicis-record-password";
registerSecret("record password", PASSWORD);

const newSource = () => ({ schema: "shopping", table: "shopping_orders", id: randomUUID() });

describe("inicis", () => {
  let server;
  let fake;

  before(async () => {
    const port = await freePort();
    const host = `http://127.0.0.1:${port}`;
    server = await startServer({ workers: 1, env: { PAYMENT_INICIS_URL: host } });
    const proc = start(binary("fake-inicis-server"),
      ["--port", String(port), "--webhook-url", server.url("/payments/webhooks/inicis")]);
    await waitForPort(port);
    fake = { proc, port, host };
  });

  after(async () => {
    if (server) await stopCleanly(server);
    if (fake) await fake.proc.stop("SIGTERM");
  });

  /** One call of our encrypted API: {status, body} with body decrypted when it is. */
  const call = async (method, path, value) => {
    const res = await request(server.url(path), {
      method,
      headers: { "Content-Type": "text/plain" },
      body: await encryptBody(value, server.env),
    });
    let body = res.body;
    try { body = await decryptBody(res.body, server.env); } catch { body = JSON.parse(res.body); }
    return { status: res.status, body };
  };
  const record = (uid, source, price) => call("POST", "/payments/histories", {
    vendor: { code: "inicis", store_id: STORE_ID, uid }, source, price, password: PASSWORD,
    webhook_url: server.url("/payments/internal/webhook"),
  });
  const read = (id) => call("PATCH", `/payments/histories/${id}`, { password: PASSWORD });
  const cancel = (source, price, reason, account = null) => call("PUT", "/payments/histories/cancel", {
    source, password: PASSWORD, price, reason, account,
  });
  const received = async (historyId) => {
    const res = await request(server.url(`/payments/internal/webhook?history_id=${historyId}`));
    assert.equal(res.status, 200, res.body);
    return decryptBody(res.body, server.env);
  };

  test("a card payment cancelled half and then the rest is refunded at Inicis", async () => {
    const source = newSource();
    const payment = await inicisCardPayment(fake, { moid: source.id, price: 10_000 });
    const created = await record(payment.tid, source, 10_000);
    assert.equal(created.status, 201, JSON.stringify(created.body));

    const half = await cancel(source, 5_000, "half");
    assert.equal(half.status, 200, JSON.stringify(half.body));
    assert.equal(half.body.refund, 5_000);
    assert.deepEqual(half.body.cancels.map((c) => [c.price, c.reason]), [[5_000, "half"]]);
    const rest = await cancel(source, 5_000, "the rest");
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal(rest.body.refund, 10_000);
    assert.notEqual(rest.body.cancelled_at, null);
    const atFake = await fakeRequest(fake, "GET", `/internal/payments/${payment.tid}`);
    assert.equal(atFake.json.status, "refunded");
    assert.equal(atFake.json.remains, 0);

    const tooMuch = await cancel(source, 1_000, "nothing left");
    assert.ok(tooMuch.status >= 400 && tooMuch.status < 500, JSON.stringify(tooMuch.body));
  });

  test("a deposit on a virtual account arrives by Inicis' notification and is forwarded", async () => {
    const source = newSource();
    const issued = await fakeRequest(fake, "POST", "/internal/vbanks",
      { body: JSON.stringify({ moid: source.id, price: 30_000 }) });
    assert.equal(issued.status, 201, issued.text);
    const created = await record(issued.json.tid, source, 30_000);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.paid_at, null);

    const deposit = await fakeRequest(fake, "PUT", `/internal/vbanks/${issued.json.tid}/deposit`);
    assert.equal(deposit.status, 200, deposit.text);
    const notices = await waitFor(async () => {
      const list = await received(created.body.id);
      return list.length > 0 && list;
    }, 10000, "the deposit's notification");
    const paid = await read(created.body.id);
    assert.notEqual(paid.body.paid_at, null);
    assert.equal(notices.length, 1);
    assert.equal(notices[0].signed, true);
    assert.deepEqual(notices[0].webhook.previous, created.body);
    assert.deepEqual(notices[0].webhook.current, paid.body);

    // A paid virtual account is refunded to the account the caller names.
    const refund = await cancel(source, 10_000, "to the buyer's account",
      { bank: "88", account: "110123456789", holder: "Hong", mobile: "01012345678" });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    assert.equal(refund.body.refund, 10_000);
    const atFake = await fakeRequest(fake, "GET", `/internal/payments/${issued.json.tid}`);
    assert.equal(atFake.json.remains, 20_000);
  });

  test("Inicis' notification is answered OK, a malformed one 400, an unknown tid 404", async () => {
    const post = (fields) => request(server.url("/payments/webhooks/inicis"), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    const other = await post({ no_tid: "StdpayVBNKINIpayTest0", type_msg: "0400" });
    assert.equal(other.status, 200);
    assert.equal(other.body, "OK");
    assert.equal((await post({ type_msg: "0200" })).status, 400);
    assert.equal((await post({ no_tid: `unknown-${randomUUID()}`, no_oid: "o", type_msg: "0200" })).status, 404);
  });
});
