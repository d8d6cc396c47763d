// The fake vendors' guards against a call made twice, as the vendors document
// them: Toss's Idempotency-Key (the same request is answered once and then
// replayed; another request under the key, an overlong key and a repeat
// while the first is in flight are refused) and iamport's cancel checksum (a
// cancel whose checksum is not the amount still cancellable is not made).
// Effects are counted through the fake's /fake/stats and seen in the
// vendor's own record of the payment.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import {
  fakeStats, iamportCardPayment, iamportClient, setFakeLatency, startFakeServer, startWebhookListener, stopFake,
  tossCardPayment, tossRequest,
} from "../lib/fakes.mjs";
import { sleep, waitFor } from "../lib/process.mjs";

/** A Toss request with the fake's secret key and, when given, an Idempotency-Key. */
const toss = (fake, method, path, body, key, secret) => tossRequest(fake, method, path, body, { key, secret });

/** The change between two readings of the fake's counters of effects
 * (lookups counts reads, which these tests make as they please). */
const grew = (before, after) => Object.fromEntries(Object.keys(after)
  .filter((k) => k !== "lookups" && after[k] !== before[k]).map((k) => [k, after[k] - before[k]]));

describe("fake-toss-payments-server: Idempotency-Key", () => {
  let fake;
  let hooks;

  before(async () => {
    hooks = await startWebhookListener("/hooks", 200);
    fake = await startFakeServer("fake-toss-payments-server", ["--webhook-url", hooks.url]);
  });
  after(async () => {
    await stopFake(fake);
    await hooks.close();
  });

  const payment = (overrides) => tossCardPayment(fake, overrides);
  const read = async (paymentKey) => (await toss(fake, "GET", `/v1/payments/${paymentKey}`)).json;
  const cancelPath = (p) => `/v1/payments/${p.paymentKey}/cancel`;
  const webhooksFor = (paymentKey) => hooks.received.filter((h) => h.body.data.paymentKey === paymentKey).length;

  test("the same key and body: the first answer again, and one cancel", async () => {
    const p = await payment();
    const body = { cancelReason: "partial", cancelAmount: 3_000 };
    const start = await fakeStats(fake);
    const first = await toss(fake, "POST", cancelPath(p), body, "cancel-1");
    assert.equal(first.status, 201);
    assert.equal(first.json.balanceAmount, 7_000);
    await waitFor(() => webhooksFor(p.paymentKey) === 1, 10_000, "the cancel's webhook");
    // The same members in another order are the same request.
    const again = await toss(fake, "POST", cancelPath(p), { cancelAmount: 3_000, cancelReason: "partial" }, "cancel-1");
    assert.equal(again.status, 201);
    assert.equal(again.text, first.text, "a replay is the first answer, byte for byte");
    const now = await read(p.paymentKey);
    assert.equal(now.cancels.length, 1);
    assert.equal(now.balanceAmount, 7_000);
    assert.deepEqual(grew(start, await fakeStats(fake)), { cancels: 1, webhooks: 1, idempotent_replays: 1 });
    await sleep(200);
    assert.equal(webhooksFor(p.paymentKey), 1, "a replay sends no second webhook");
  });

  test("a refusal is replayed too, even once the refusal no longer holds", async () => {
    const p = await payment({ amount: 5_000 });
    const over = await toss(fake, "POST", cancelPath(p), { cancelReason: "too much", cancelAmount: 6_000 }, "over-1");
    assert.equal(over.status, 403);
    assert.equal(over.json.code, "NOT_CANCELABLE_AMOUNT");
    const again = await toss(fake, "POST", cancelPath(p), { cancelReason: "too much", cancelAmount: 6_000 }, "over-1");
    assert.equal(again.status, 403);
    assert.equal(again.text, over.text);
  });

  test("the same key with another body is refused, with no effect", async () => {
    const p = await payment();
    const start = await fakeStats(fake);
    assert.equal((await toss(fake, "POST", cancelPath(p), { cancelReason: "a", cancelAmount: 1_000 }, "k-other")).status,
      201);
    const other = await toss(fake, "POST", cancelPath(p), { cancelReason: "a", cancelAmount: 2_000 }, "k-other");
    assert.equal(other.status, 400);
    assert.equal(other.json.code, "INVALID_IDEMPOTENCY_KEY");
    assert.equal((await read(p.paymentKey)).cancels.length, 1);
    assert.deepEqual(grew(start, await fakeStats(fake)), { cancels: 1, webhooks: 1, idempotent_mismatches: 1 });
  });

  test("a key is scoped by the URL, the method and the secret key", async () => {
    const [a, b] = [await payment(), await payment()];
    const body = { cancelReason: "scoped", cancelAmount: 1_000 };
    assert.equal((await toss(fake, "POST", cancelPath(a), body, "shared")).status, 201);
    // Another URL: another request, made.
    assert.equal((await toss(fake, "POST", cancelPath(b), body, "shared")).status, 201);
    assert.equal((await read(b.paymentKey)).cancels.length, 1);
    // Another secret key: its own scope (refused here as unauthorized, not replayed).
    const stranger = await toss(fake, "POST", cancelPath(a), body, "shared", "test_sk_someone_else");
    assert.equal(stranger.status, 401);
    assert.equal(stranger.json.code, "UNAUTHORIZED_KEY");
  });

  test("a confirm, a billing charge and a key-in are answered once per key", async () => {
    const waiting = await payment({ __approved: false });
    assert.equal(waiting.status, "IN_PROGRESS");
    const confirm = { paymentKey: waiting.paymentKey, orderId: waiting.orderId, amount: waiting.totalAmount };
    const start = await fakeStats(fake);
    const first = await toss(fake, "POST", `/v1/payments/${waiting.paymentKey}`, confirm, "confirm-1");
    const again = await toss(fake, "POST", `/v1/payments/${waiting.paymentKey}`, confirm, "confirm-1");
    assert.equal(first.status, 201);
    assert.equal(first.json.status, "DONE");
    assert.equal(again.text, first.text);

    const card = {
      customerKey: "customer-1", cardNumber: "1111222233334444", cardExpirationYear: "28",
      cardExpirationMonth: "03", customerBirthday: "880311", cardPassword: "12",
    };
    const billing = (await toss(fake, "POST", "/v1/billing/authorizations/card", card, "billing-1")).json;
    const charge = { customerKey: "customer-1", orderId: `order-${randomUUID()}`, orderName: "monthly", amount: 9_900 };
    const charged = await toss(fake, "POST", `/v1/billing/${billing.billingKey}`, charge, "charge-1");
    const charged2 = await toss(fake, "POST", `/v1/billing/${billing.billingKey}`, charge, "charge-1");
    assert.equal(charged.status, 201);
    assert.equal(charged2.json.paymentKey, charged.json.paymentKey, "one payment, not two");

    const input = {
      method: "card", cardNumber: "1111222233334444", cardExpirationYear: "28", cardExpirationMonth: "03",
      orderId: `order-${randomUUID()}`, amount: 5_000,
    };
    const made = await toss(fake, "POST", "/v1/payments/key-in", input, "key-in-1");
    const made2 = await toss(fake, "POST", "/v1/payments/key-in", input, "key-in-1");
    assert.equal(made2.json.paymentKey, made.json.paymentKey);

    const counted = grew(start, await fakeStats(fake));
    assert.equal(counted.confirms, 1);
    assert.equal(counted.charges, 1);
    assert.equal(counted.payments, 1);
    assert.equal(counted.billing_keys, 1);
    assert.equal(counted.idempotent_replays, 3);
  });

  test("keys over 300 characters are refused; 300 are taken; GET ignores the key", async () => {
    const p = await payment();
    const body = { cancelReason: "long key", cancelAmount: 1_000 };
    const long = await toss(fake, "POST", cancelPath(p), body, "k".repeat(301));
    assert.equal(long.status, 400);
    assert.equal(long.json.code, "INVALID_IDEMPOTENCY_KEY");
    assert.equal((await read(p.paymentKey)).cancels, null, "a refused key makes no cancel");
    // Toss counts characters: 300 Hangul syllables (900 bytes of UTF-8) are a valid key.
    const hangul = Buffer.from("가".repeat(300)).toString("latin1");
    assert.equal((await toss(fake, "POST", cancelPath(p), body, hangul)).status, 201);
    assert.equal((await toss(fake, "POST", cancelPath(p), body, "k".repeat(300))).status, 201);
    assert.equal((await read(p.paymentKey)).cancels.length, 2);
    const get = await toss(fake, "GET", `/v1/payments/${p.paymentKey}`, undefined, "k".repeat(400));
    assert.equal(get.status, 200);
  });

  test("duplicates while the first answer is held: 409 IDEMPOTENT_REQUEST_PROCESSING, one cancel", async () => {
    const p = await payment();
    const body = { cancelReason: "slow", cancelAmount: 2_500 };
    await setFakeLatency(fake, { ms: 1_500, match: "/cancel" });
    try {
      const start = await fakeStats(fake);
      const first = toss(fake, "POST", cancelPath(p), body, "slow-1");
      await waitFor(async () => (await fakeStats(fake)).held_answers === 1, 5_000, "the held answer");
      const duplicates = await Promise.all(Array.from({ length: 5 }, () => toss(fake, "POST", cancelPath(p), body, "slow-1")));
      for (const d of duplicates) {
        assert.equal(d.status, 409);
        assert.equal(d.json.code, "IDEMPOTENT_REQUEST_PROCESSING");
      }
      // The effect is made already; only the answer is late.
      assert.equal((await read(p.paymentKey)).balanceAmount, 7_500);
      const answered = await first;
      assert.equal(answered.status, 201);
      await setFakeLatency(fake, { ms: 0 });
      const replay = await toss(fake, "POST", cancelPath(p), body, "slow-1");
      assert.equal(replay.text, answered.text);
      assert.equal((await read(p.paymentKey)).cancels.length, 1);
      assert.deepEqual(grew(start, await fakeStats(fake)),
        { cancels: 1, webhooks: 1, idempotent_in_progress: 5, idempotent_replays: 1 });
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
  });
});

describe("fake-iamport-server: cancel checksum", () => {
  let fake;
  let iamport;

  before(async () => {
    fake = await startFakeServer("fake-iamport-server", ["--strict"]); // the payment stays paid between cancels
    iamport = await iamportClient(fake);
  });
  after(() => stopFake(fake));

  const payment = () => iamportCardPayment(iamport);
  const cancel = (p, fields) =>
    iamport("POST", "/payments/cancel", { imp_uid: p.imp_uid, merchant_uid: p.merchant_uid, reason: "r", ...fields });
  const read = async (p) => (await iamport("GET", `/payments/${p.imp_uid}`)).json.response;

  test("a checksum that is the cancellable amount: cancelled; the same cancel again: refused", async () => {
    const p = await payment();
    const start = await fakeStats(fake);
    const first = await cancel(p, { amount: 4_000, checksum: 10_000 });
    assert.equal(first.status, 201);
    assert.equal(first.json.response.cancel_amount, 4_000);
    // A retry of the same partial cancel still carries 10000: not made twice.
    const again = await cancel(p, { amount: 4_000, checksum: 10_000 });
    assert.equal(again.status, 400);
    assert.equal(again.json.code, -1);
    assert.equal(again.json.response, null);
    assert.match(again.json.message, /checksum/);
    const now = await read(p);
    assert.equal(now.cancel_amount, 4_000);
    assert.equal(now.cancel_history.length, 1);
    // The next cancel names what is left.
    assert.equal((await cancel(p, { amount: 1_000, checksum: 6_000 })).status, 201);
    assert.deepEqual(grew(start, await fakeStats(fake)), { cancels: 2, checksum_refusals: 1 });
  });

  test("a full cancel with a stale checksum is refused and leaves the payment paid", async () => {
    const p = await payment();
    assert.equal((await cancel(p, { amount: 2_000, checksum: null })).status, 201);
    const stale = await cancel(p, { checksum: 10_000 });
    assert.equal(stale.status, 400);
    const now = await read(p);
    assert.equal(now.status, "paid");
    assert.equal(now.cancel_amount, 2_000);
    assert.equal((await cancel(p, { checksum: 8_000 })).status, 201);
    assert.equal((await read(p)).status, "cancelled");
  });

  test("a checksum below 0 or not a number is refused", async () => {
    const p = await payment();
    assert.equal((await cancel(p, { checksum: -1 })).status, 400);
    assert.equal((await cancel(p, { checksum: "10000" })).status, 400);
    assert.equal((await read(p)).cancel_amount, 0);
  });
});
