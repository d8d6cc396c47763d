// Conformance of fake-iamport-server: the real npm SDK (iamport-server-api)
// drives every operation, and every successful answer is checked against the
// schemas of fake-iamport.swagger.json. The main suite runs it --strict (as
// iamport behaves); "without --strict" checks the original fake's behaviour,
// the default, where the two differ.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import imp from "iamport-server-api";

import {
  checkBillingControl, expectVendorError, fakeBilling, fakeRequest, fakeStats, setFakeBilling, startFakeServer,
  startWebhookListener, stopFake,
} from "../lib/fakes.mjs";
import { loadContract } from "../lib/openapi.mjs";
import { binary, freePort, sleep, start, waitFor, waitForPort } from "../lib/process.mjs";

const KEY = "test_imp_key";
const SECRET = "test_imp_secret";
const contract = loadContract("fake-iamport");
const api = imp.functional;

/** Starts the fake on a free port; returns {proc, port, host, connector}. */
async function startFake(args = [], env = {}) {
  const fake = await startFakeServer("fake-iamport-server", args, env);
  return { ...fake, connector: new imp.IamportConnector(fake.host, { imp_key: KEY, imp_secret: SECRET }) };
}

/** Expects the call to fail with status and an iamport error envelope. */
const expectError = (promise, status, pattern) =>
  expectVendorError(promise, imp.HttpError, status, (body) => {
    assert.equal(body.code, -1);
    assert.equal(body.response, null);
    if (pattern) assert.match(body.message, pattern);
  });

/** Checks the envelope and the schema of a success; returns the response. */
function ok(method, route, status, output) {
  contract.validateResponse(method, route, status, output);
  assert.equal(output.code, 0);
  assert.equal(typeof output.message, "string");
  return output.response;
}

const cardInput = (overrides = {}) => ({
  card_number: "1111-2222-3333-4444",
  expiry: "2028-12",
  birth: "880311",
  merchant_uid: `order-${randomUUID()}`,
  amount: 25_000,
  name: "conformance order",
  ...overrides,
});

const refund = { refund_holder: "홍길동", refund_bank: "088", refund_account: "110123456789" };

describe("fake-iamport-server --strict", () => {
  let fake;
  let hooks;

  const conn = () => fake.connector.get();
  const onetime = async (overrides) =>
    ok("POST", "/subscribe/payments/onetime", 201, await api.subscribe.payments.onetime(await conn(), cardInput(overrides)));
  const at = async (imp_uid) => ok("GET", "/payments/{imp_uid}", 200, await api.payments.at(await conn(), imp_uid, {}));
  const cancel = async (payment, input = {}) =>
    ok("POST", "/payments/cancel", 201, await api.payments.cancel(await conn(), {
      imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: null, reason: "conformance cancel", ...input,
    }));
  const issueVbank = async (overrides = {}) =>
    ok("POST", "/vbanks", 201, await api.vbanks.create(await conn(), {
      merchant_uid: `order-${randomUUID()}`,
      amount: 30_000,
      vbank_code: "088",
      vbank_due: Math.floor(Date.now() / 1000) + 86_400,
      vbank_holder: "홍길동",
      name: "virtual account order",
      buyer_email: "buyer@example.com",
      ...overrides,
    }));
  const webhookFor = (imp_uid, status) =>
    waitFor(() => hooks.received.find((h) => h.body.imp_uid === imp_uid && h.body.status === status),
      10000, `webhook ${status} for ${imp_uid}`);

  before(async () => {
    hooks = await startWebhookListener("/iamport/webhook", 200);
    fake = await startFake(["--webhook-url", hooks.url, "--strict"]);
  });

  after(async () => {
    if (fake) await stopFake(fake);
    if (hooks) await hooks.close();
  });

  test("access token from the key and secret", async () => {
    const before = Date.now() / 1000;
    const user = ok("POST", "/users/getToken", 201,
      await api.users.getToken({ host: fake.host }, { imp_key: KEY, imp_secret: SECRET }));
    assert.match(user.access_token, /^[0-9a-f]{40}$/);
    assert.ok(user.now >= Math.floor(before) - 1);
    assert.ok(Math.abs(user.expired_at - user.now - 1800) <= 1, "tokens live 30 minutes by default");
    const other = ok("POST", "/users/getToken", 201,
      await api.users.getToken({ host: fake.host }, { imp_key: KEY, imp_secret: SECRET }));
    assert.notEqual(other.access_token, user.access_token);
    // The token works on its own, raw or after "Bearer ".
    const payment = await onetime();
    for (const Authorization of [user.access_token, `Bearer ${user.access_token}`]) {
      const res = await fakeRequest(fake, "GET", `/payments/${payment.imp_uid}`, { headers: { Authorization } });
      assert.equal(res.status, 200);
      assert.equal(res.json.response.imp_uid, payment.imp_uid);
    }
  });

  test("wrong credentials and missing or bad tokens are 401", async () => {
    await expectError(api.users.getToken({ host: fake.host }, { imp_key: KEY, imp_secret: "wrong" }), 401);
    await expectError(api.users.getToken({ host: fake.host }, { imp_key: "wrong", imp_secret: SECRET }), 401);
    const payment = await onetime();
    await expectError(api.payments.at({ host: fake.host }, payment.imp_uid, {}), 401);
    await expectError(api.payments.at({ host: fake.host, headers: { Authorization: "not-a-token" } }, payment.imp_uid, {}), 401);
    await expectError(api.subscribe.payments.onetime({ host: fake.host, headers: { Authorization: "0".repeat(40) } },
      cardInput()), 401);
  });

  test("tokens expire", async () => {
    const short = await startFake(["--token-ttl-ms", "1000"]);
    try {
      const user = ok("POST", "/users/getToken", 201,
        await api.users.getToken({ host: short.host }, { imp_key: KEY, imp_secret: SECRET }));
      const connection = { host: short.host, headers: { Authorization: user.access_token } };
      const payment = ok("POST", "/subscribe/payments/onetime", 201,
        await api.subscribe.payments.onetime(connection, cardInput()));
      await sleep(1300);
      await expectError(api.payments.at(connection, payment.imp_uid, {}), 401, /expired/);
      // The SDK's connector notices the expiry and fetches a fresh token.
      ok("GET", "/payments/{imp_uid}", 200, await api.payments.at(await short.connector.get(), payment.imp_uid, {}));
    } finally {
      await stopFake(short);
    }
  });

  test("card payment (onetime) is paid at once, with every field filled", async () => {
    const input = cardInput({ card_quota: 3, buyer_name: "홍길동", buyer_email: "buyer@example.com", currency: "KRW" });
    const payment = await onetime(input);
    assert.equal(payment.pay_method, "card");
    assert.equal(payment.status, "paid");
    assert.match(payment.imp_uid, /^imp_\d{12}$/);
    assert.equal(payment.merchant_uid, input.merchant_uid);
    assert.equal(payment.amount, 25_000);
    assert.equal(payment.cancel_amount, 0);
    assert.equal(payment.card_number, input.card_number);
    assert.equal(payment.card_quota, 3);
    assert.equal(payment.buyer_name, "홍길동");
    assert.equal(payment.customer_uid, null);
    assert.ok(payment.paid_at > 0 && payment.paid_at >= payment.started_at);
    assert.ok(Number.isInteger(payment.paid_at) && Math.abs(payment.paid_at - Date.now() / 1000) < 60, "unix seconds");
    assert.equal(payment.cancelled_at, 0);
    assert.deepEqual(payment.cancel_history, []);
    assert.deepEqual(await at(payment.imp_uid), payment);
    const hook = await webhookFor(payment.imp_uid, "paid");
    assert.deepEqual(hook.body, { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, status: "paid" });
  });

  test("identifiers are random and unique", async () => {
    const payments = await Promise.all(Array.from({ length: 8 }, () => onetime()));
    for (const field of ["imp_uid", "pg_tid", "apply_num"]) {
      const values = new Set(payments.map((p) => p[field]));
      assert.equal(values.size, payments.length, `${field} repeats`);
    }
  });

  test("card full cancel", async () => {
    const payment = await onetime();
    const cancelled = await cancel(payment);
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.cancel_amount, payment.amount);
    assert.equal(cancelled.cancel_reason, "conformance cancel");
    assert.ok(cancelled.cancelled_at > 0);
    assert.equal(cancelled.cancel_history.length, 1);
    assert.equal(cancelled.cancel_history[0].amount, payment.amount);
    assert.equal(cancelled.cancel_history[0].reason, "conformance cancel");
    assert.ok(cancelled.cancel_history[0].cancelled_at > 0);
    assert.deepEqual(await at(payment.imp_uid), cancelled);
    await webhookFor(payment.imp_uid, "cancelled");
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: null, reason: "twice" }), 422);
  });

  test("partial cancels until fully refunded", async () => {
    const payment = await onetime({ amount: 10_000 });
    const steps = [3_000, 2_500, 4_500];
    let refunded = 0;
    for (const [i, amount] of steps.entries()) {
      const cancelled = await cancel(payment, { amount, checksum: 10_000 - refunded });
      refunded += amount;
      assert.equal(cancelled.cancel_amount, refunded);
      assert.equal(cancelled.cancel_history.length, i + 1);
      assert.deepEqual(cancelled.cancel_history.map((c) => c.amount), steps.slice(0, i + 1));
      assert.equal(cancelled.status, i < steps.length - 1 ? "paid" : "cancelled");
      assert.equal(cancelled.amount, 10_000);
    }
    await webhookFor(payment.imp_uid, "cancelled");
  });

  test("a cancel over the remaining amount is refused", async () => {
    const payment = await onetime({ amount: 10_000 });
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: null, reason: "r", amount: 10_001 }), 400);
    await cancel(payment, { amount: 6_000 });
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: null, reason: "r", amount: 5_000 }), 400);
    // A checksum that is not the cancellable amount is refused too.
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: 10_000, reason: "r", amount: 1_000 }), 400);
    const unchanged = await at(payment.imp_uid);
    assert.equal(unchanged.cancel_amount, 6_000);
    assert.equal(unchanged.cancel_history.length, 1);
    assert.equal(unchanged.status, "paid");
    const rest = await cancel(payment);
    assert.equal(rest.status, "cancelled");
    assert.equal(rest.cancel_history[1].amount, 4_000);
  });

  test("cancel by merchant_uid alone", async () => {
    const payment = await onetime();
    const cancelled = ok("POST", "/payments/cancel", 201, await api.payments.cancel(await conn(),
      { imp_uid: "", merchant_uid: payment.merchant_uid, checksum: null, reason: "by order" }));
    assert.equal(cancelled.imp_uid, payment.imp_uid);
    assert.equal(cancelled.status, "cancelled");
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: payment.imp_uid, merchant_uid: "another-order", checksum: null, reason: "r" }), 400);
  });

  test("virtual account waits for its deposit; the deposit sends the webhook", async () => {
    const vbank = await issueVbank();
    assert.equal(vbank.pay_method, "vbank");
    assert.equal(vbank.status, "ready");
    assert.equal(vbank.paid_at, 0);
    assert.equal(vbank.vbank_code, "088");
    assert.equal(vbank.vbank_holder, "홍길동");
    assert.match(vbank.vbank_num, /^\d{10,}$/);
    assert.ok(vbank.vbank_issued_at > 0);
    await webhookFor(vbank.imp_uid, "ready");

    const edited = ok("PUT", "/vbanks", 200, await api.vbanks.update(await conn(),
      { imp_uid: vbank.imp_uid, amount: 35_000, vbank_due: vbank.vbank_date + 3_600 }));
    assert.equal(edited.amount, 35_000);
    assert.equal(edited.vbank_date, vbank.vbank_date + 3_600);
    assert.equal((await at(vbank.imp_uid)).status, "ready");
    const webhooksBefore = (await fakeStats(fake)).webhooks;
    await api.vbanks.update(await conn(), { imp_uid: vbank.imp_uid, amount: 36_000 });
    assert.equal((await fakeStats(fake)).webhooks, webhooksBefore, "strict: an edit sends no webhook");

    const deposited = await api.internal.deposit(await conn(), vbank.imp_uid);
    contract.validateResponse("PUT", "/internal/deposit/{imp_uid}", 200, deposited);
    const hook = await webhookFor(vbank.imp_uid, "paid");
    assert.equal(hook.method, "POST");
    assert.match(hook.contentType, /application\/json/);
    contract.validate("IIamportPayment.IWebhook", hook.body);
    assert.deepEqual(hook.body, { imp_uid: vbank.imp_uid, merchant_uid: vbank.merchant_uid, status: "paid" });
    const paid = await at(vbank.imp_uid);
    assert.equal(paid.status, "paid");
    assert.ok(paid.paid_at > 0);

    await expectError(api.internal.deposit(await conn(), vbank.imp_uid), 422);
    await expectError(api.vbanks.update(await conn(), { imp_uid: vbank.imp_uid, amount: 1 }), 422);
    const card = await onetime();
    await expectError(api.internal.deposit(await conn(), card.imp_uid), 422);
    await expectError(api.internal.deposit(await conn(), "imp_000000000000"), 404);
  });

  test("virtual account cancel needs a refund account once paid", async () => {
    const vbank = await issueVbank({ amount: 30_000 });
    await api.internal.deposit(await conn(), vbank.imp_uid);
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: vbank.imp_uid, merchant_uid: vbank.merchant_uid, checksum: null, reason: "no account" }), 400, /refund/);
    await expectError(api.payments.cancel(await conn(), { imp_uid: vbank.imp_uid, merchant_uid: vbank.merchant_uid,
      checksum: null, reason: "no holder", refund_bank: "088", refund_account: "110123456789" }), 400, /refund/);
    assert.equal((await at(vbank.imp_uid)).status, "paid");

    const partial = await cancel(vbank, { amount: 10_000, ...refund });
    assert.equal(partial.status, "paid");
    assert.equal(partial.cancel_amount, 10_000);
    const full = await cancel(vbank, refund);
    assert.equal(full.status, "cancelled");
    assert.deepEqual(full.cancel_history.map((c) => c.amount), [10_000, 20_000]);
    await webhookFor(vbank.imp_uid, "cancelled");

    // Before the deposit nothing was paid: the account is withdrawn, in full only.
    const waiting = await issueVbank();
    await expectError(api.payments.cancel(await conn(), { imp_uid: waiting.imp_uid, merchant_uid: waiting.merchant_uid,
      checksum: null, reason: "part", amount: 1_000 }), 400);
    const withdrawn = await cancel(waiting);
    assert.equal(withdrawn.status, "cancelled");
    await expectError(api.internal.deposit(await conn(), waiting.imp_uid), 422);
  });

  test("billing key: register, read, pay again, cancel its payments, delete", async () => {
    const customer_uid = `customer-${randomUUID()}`;
    const card = {
      customer_uid,
      card_number: "5555-4444-3333-2222",
      expiry: "2029-12",
      birth: "900101",
      pwd_2digit: "12",
      customer_name: "홍길동",
      customer_email: "someone@example.com",
    };
    const registered = ok("POST", "/subscribe/customers/{customer_uid}", 201,
      await api.subscribe.customers.create(await conn(), customer_uid, card));
    assert.equal(registered.customer_uid, customer_uid);
    assert.equal(registered.card_number, card.card_number);
    assert.equal(registered.customer_name, "홍길동");
    assert.ok(registered.inserted > 0);
    const read = ok("GET", "/subscribe/customers/{customer_uid}", 200,
      await api.subscribe.customers.at(await conn(), customer_uid));
    assert.deepEqual(read, registered);

    const again = async (amount) => ok("POST", "/subscribe/payments/again", 201,
      await api.subscribe.payments.again(await conn(),
        { customer_uid, merchant_uid: `order-${randomUUID()}`, amount, name: "monthly" }));
    const first = await again(12_000);
    assert.equal(first.status, "paid");
    assert.equal(first.pay_method, "card");
    assert.equal(first.customer_uid, customer_uid);
    assert.equal(first.card_number, card.card_number);
    assert.equal(first.card_code, registered.card_code);
    assert.equal(first.buyer_name, "홍길동");
    assert.deepEqual(await at(first.imp_uid), first);
    const second = await again(8_000);
    assert.notEqual(second.imp_uid, first.imp_uid);

    assert.equal((await cancel(first, { amount: 2_000 })).status, "paid");
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: first.imp_uid, merchant_uid: first.merchant_uid, checksum: null, reason: "over", amount: 10_001 }), 400);
    assert.equal((await cancel(first, { amount: 10_000 })).status, "cancelled");
    assert.equal((await cancel(second)).status, "cancelled");

    const erased = ok("DELETE", "/subscribe/customers/{customer_uid}", 200,
      await api.subscribe.customers.erase(await conn(), customer_uid));
    assert.deepEqual(erased, registered);
    await expectError(api.subscribe.customers.at(await conn(), customer_uid), 404);
    await expectError(api.subscribe.payments.again(await conn(),
      { customer_uid, merchant_uid: "o", amount: 1_000, name: "after delete" }), 404);
  });

  test("billing rules decline charges as a declined card: failed payments, no money moved", async () => {
    await checkBillingControl(fake);
    const customer_uid = `customer-${randomUUID()}`;
    ok("POST", "/subscribe/customers/{customer_uid}", 201, await api.subscribe.customers.create(await conn(),
      customer_uid, { customer_uid, card_number: "5555-4444-3333-2222", expiry: "2029-12", birth: "900101" }));
    const again = async (amount) => ok("POST", "/subscribe/payments/again", 201,
      await api.subscribe.payments.again(await conn(),
        { customer_uid, merchant_uid: `order-${randomUUID()}`, amount, name: "monthly" }));
    const before = await fakeStats(fake);

    assert.deepEqual(await setFakeBilling(fake, { fail_next: 2 }), { fail_next: 2, refuse_amount: 0 });
    for (let i = 0; i < 2; i++) {
      const declined = await again(9_900);
      assert.equal(declined.status, "failed");
      assert.equal(declined.paid_at, 0);
      assert.ok(declined.failed_at > 0);
      assert.match(declined.fail_reason, /declined/);
      assert.deepEqual(await at(declined.imp_uid), declined, "the failed payment is recorded");
      // Nothing was paid, so nothing can be refunded.
      await expectError(api.payments.cancel(await conn(),
        { imp_uid: declined.imp_uid, merchant_uid: declined.merchant_uid, checksum: null, reason: "x" }), 422);
    }
    assert.equal((await again(9_900)).status, "paid");
    assert.equal((await fakeBilling(fake)).fail_next, 0);

    await setFakeBilling(fake, { refuse_amount: 7_700 });
    assert.equal((await again(7_700)).status, "failed");
    assert.equal((await again(7_701)).status, "paid");
    await setFakeBilling(fake, { refuse_amount: 0 });
    assert.equal((await again(7_700)).status, "paid");

    const stats = await fakeStats(fake);
    assert.equal(stats.billing_charges, before.billing_charges + 3);
    assert.equal(stats.billing_refusals, before.billing_refusals + 3);
    // A first charge with the card (onetime) is no billing-key charge.
    ok("POST", "/subscribe/payments/onetime", 201, await api.subscribe.payments.onetime(await conn(), cardInput()));
    assert.equal((await fakeStats(fake)).billing_charges, stats.billing_charges);
  });

  test("onetime with customer_uid also registers the card", async () => {
    const customer_uid = `customer-${randomUUID()}`;
    const payment = await onetime({ customer_uid });
    assert.equal(payment.customer_uid, customer_uid);
    const billing = ok("GET", "/subscribe/customers/{customer_uid}", 200,
      await api.subscribe.customers.at(await conn(), customer_uid));
    assert.equal(billing.card_number, payment.card_number);
  });

  test("cash receipt: issue, read, cancel", async () => {
    const vbank = await issueVbank({ amount: 50_000 });
    const input = { imp_uid: vbank.imp_uid, identifier: "01012345678", identifier_type: "phone", type: "person" };
    await expectError(api.receipts.create(await conn(), vbank.imp_uid, input), 422);
    await api.internal.deposit(await conn(), vbank.imp_uid);

    const receipt = ok("POST", "/receipts/{imp_uid}", 201, await api.receipts.create(await conn(), vbank.imp_uid, input));
    assert.equal(receipt.imp_uid, vbank.imp_uid);
    assert.equal(receipt.amount, 50_000);
    assert.equal(receipt.type, "person");
    assert.equal(receipt.vat, Math.round(50_000 / 11));
    assert.ok(receipt.applied_at > 0);
    assert.equal(receipt.cancelled_at, 0);
    assert.equal((await at(vbank.imp_uid)).cash_receipt_issue, true);
    assert.deepEqual(ok("GET", "/receipts/{imp_uid}", 200, await api.receipts.at(await conn(), vbank.imp_uid)), receipt);
    await expectError(api.receipts.create(await conn(), vbank.imp_uid, input), 422);

    const cancelled = ok("DELETE", "/receipts/{imp_uid}", 200, await api.receipts.erase(await conn(), vbank.imp_uid));
    assert.equal(cancelled.receipt_uid, receipt.receipt_uid);
    assert.ok(cancelled.cancelled_at > 0);
    assert.equal((await at(vbank.imp_uid)).cash_receipt_issue, false);
    await expectError(api.receipts.erase(await conn(), vbank.imp_uid), 422);

    // Once cancelled, the payment may take a new receipt.
    const renewed = ok("POST", "/receipts/{imp_uid}", 201,
      await api.receipts.create(await conn(), vbank.imp_uid, { ...input, type: "company" }));
    assert.notEqual(renewed.receipt_uid, receipt.receipt_uid);
    assert.equal(renewed.type, "company");
    await expectError(api.receipts.at(await conn(), "imp_000000000000"), 404);
  });

  test("certification: OTP request, confirm, read, delete", async () => {
    const requested = ok("POST", "/certifications/otp/request", 201, await api.certifications.otp.request(await conn(), {
      name: "홍길동", phone: "010-1234-5678", birth: "19900101", gender_digit: "1", carrier: "SKT",
      merchant_uid: `cert-${randomUUID()}`,
    }));
    assert.match(requested.imp_uid, /^imp_\d{12}$/);
    const pending = ok("GET", "/certifications/{imp_uid}", 200, await api.certifications.at(await conn(), requested.imp_uid));
    assert.equal(pending.certified, false);
    assert.equal(pending.certified_at, 0);
    assert.equal(pending.phone, "01012345678");
    assert.equal(pending.birthday, "19900101");
    assert.equal(pending.birth, Date.UTC(1990, 0, 1) / 1000);
    assert.equal(pending.gender, "male");
    assert.equal(pending.carrier, "SKT");
    assert.match(pending.__otp, /^\d{6}$/);

    const wrong = pending.__otp === "000000" ? "111111" : "000000";
    await expectError(api.certifications.otp.confirm(await conn(), requested.imp_uid, { otp: wrong }), 400);
    const confirmed = ok("POST", "/certifications/otp/confirm/{imp_uid}", 201,
      await api.certifications.otp.confirm(await conn(), requested.imp_uid, { otp: pending.__otp }));
    assert.equal(confirmed.certified, true);
    assert.ok(confirmed.certified_at > 0);
    await expectError(api.certifications.otp.confirm(await conn(), requested.imp_uid, { otp: pending.__otp }), 422);

    const erased = ok("DELETE", "/certifications/{imp_uid}", 200,
      await api.certifications.erase(await conn(), requested.imp_uid));
    assert.equal(erased.imp_uid, requested.imp_uid);
    assert.equal(erased.certified, true);
    await expectError(api.certifications.at(await conn(), requested.imp_uid), 404);
    await expectError(api.certifications.erase(await conn(), requested.imp_uid), 404);
    await expectError(api.certifications.otp.confirm(await conn(), requested.imp_uid, { otp: "123456" }), 404);
  });

  test("the internal webhook listener accepts a webhook", async () => {
    const output = await api.internal.webhook({ host: fake.host },
      { imp_uid: "imp_123456789012", merchant_uid: "order", status: "paid" });
    contract.validateResponse("POST", "/internal/webhook", 201, output);
    await expectError(api.internal.webhook({ host: fake.host },
      { imp_uid: "imp_123456789012", merchant_uid: "order", status: "unknown" }), 400);
  });

  test("unknown ids are 404", async () => {
    const c = await conn();
    await expectError(api.payments.at(c, "imp_000000000000", {}), 404);
    await expectError(api.payments.cancel(c,
      { imp_uid: "imp_000000000000", merchant_uid: "nothing", checksum: null, reason: "r" }), 404);
    await expectError(api.vbanks.update(c, { imp_uid: "imp_000000000000", amount: 1 }), 404);
    await expectError(api.subscribe.customers.at(c, "nobody"), 404);
    await expectError(api.subscribe.customers.erase(c, "nobody"), 404);
    await expectError(api.certifications.at(c, "imp_000000000000"), 404);
    await expectError(api.receipts.erase(c, "imp_000000000000"), 404);
    await expectError(api.receipts.create(c, "imp_000000000000", { imp_uid: "imp_000000000000", identifier: "0101" }), 404);
  });

  test("invalid input is 400 with a message", async () => {
    const c = await conn();
    const bad = [
      () => api.subscribe.payments.onetime(c, cardInput({ card_number: "1111222233334444" })),
      () => api.subscribe.payments.onetime(c, cardInput({ expiry: "2028-13" })),
      () => api.subscribe.payments.onetime(c, cardInput({ amount: "25000" })),
      () => api.subscribe.payments.onetime(c, cardInput({ amount: -5 })),
      () => api.subscribe.payments.onetime(c, cardInput({ currency: "BTC" })),
      () => api.subscribe.payments.onetime(c, cardInput({ buyer_email: "not-an-email" })),
      () => api.subscribe.payments.onetime(c, cardInput({ card_quota: 1.5 })),
      () => api.subscribe.payments.onetime(c, { ...cardInput(), merchant_uid: undefined }),
      () => api.subscribe.customers.create(c, "someone", { customer_uid: "someone-else", card_number: "1111-2222-3333-4444",
        expiry: "2028-12", birth: "880311" }),
      () => api.vbanks.create(c, { merchant_uid: "m", amount: 1000, vbank_code: "088", vbank_holder: "x" }),
      () => api.vbanks.create(c, { merchant_uid: "m", amount: 1000, vbank_code: "088", vbank_due: "tomorrow", vbank_holder: "x" }),
      () => api.payments.cancel(c, { imp_uid: "imp_000000000000", merchant_uid: "m", checksum: null }),
      () => api.certifications.otp.request(c, { name: "n", phone: "010-1234-5678", birth: "1990-01-01", gender_digit: "1",
        carrier: "SKT" }),
      () => api.certifications.otp.request(c, { name: "n", phone: "010-1234-5678", birth: "19900101", gender_digit: "1",
        carrier: "XYZ" }),
      () => api.users.getToken({ host: fake.host }, { imp_key: KEY }),
    ];
    for (const call of bad) await expectError(call(), 400);

    const headers = { Authorization: (await fake.connector.get()).headers.Authorization };
    for (const body of ["{", "[]", "\"text\"", "null", "", "{\"amount\": 1e999}"]) {
      const res = await fakeRequest(fake, "POST", "/subscribe/payments/onetime", { body, headers });
      assert.equal(res.status, 400, `body ${body}: ${res.text}`);
      assert.equal(res.json.code, -1);
      assert.ok(res.json.message.length > 0);
    }
    const query = await fakeRequest(fake, "GET", "/payments/imp_000000000000?extension=maybe", { headers });
    assert.equal(query.status, 400);
  });

  test("no input crashes the server", async () => {
    const headers = { Authorization: (await fake.connector.get()).headers.Authorization };
    const routes = [
      ["POST", "/users/getToken"], ["POST", "/payments/cancel"], ["POST", "/vbanks"], ["PUT", "/vbanks"],
      ["POST", "/subscribe/customers/x"], ["POST", "/subscribe/payments/onetime"], ["POST", "/subscribe/payments/again"],
      ["POST", "/certifications/otp/request"], ["POST", "/certifications/otp/confirm/x"], ["POST", "/receipts/x"],
      ["POST", "/internal/webhook"], ["PUT", "/internal/deposit/x"], ["GET", "/payments/%00"],
    ];
    const fields = ["imp_uid", "merchant_uid", "amount", "checksum", "reason", "customer_uid", "card_number", "expiry",
      "birth", "vbank_due", "vbank_code", "vbank_holder", "otp", "identifier", "name", "phone", "carrier",
      "gender_digit", "imp_key", "imp_secret", "currency", "card_quota", "tax_free", "buyer_email", "status", "type"];
    const values = [null, true, 0, -1, 1e308, "", "x".repeat(5000), [], {}, [1, "a"], { a: { b: [] } }, "\u0000", "한국"];
    for (const [method, path] of routes) {
      for (let i = 0; i < 12; i++) {
        const doc = {};
        for (const field of fields) if ((i + field.length) % 3 !== 0) doc[field] = values[(i * 7 + field.length) % values.length];
        const body = method === "GET" ? undefined : JSON.stringify(doc);
        const res = await fakeRequest(fake, method, path, { body, headers });
        assert.ok(res.status < 500, `${method} ${path} ${JSON.stringify(doc).slice(0, 200)}: ${res.status} ${res.text}`);
      }
    }
    assert.equal(fake.proc.child.exitCode, null, "the fake is still running");
    await at((await onetime()).imp_uid);
  });

  test("--strict: records expire after --ttl-ms, read or not", async () => {
    const short = await startFake(["--ttl-ms", "300", "--strict"]);
    try {
      const c = await short.connector.get();
      const payment = ok("POST", "/subscribe/payments/onetime", 201, await api.subscribe.payments.onetime(c, cardInput()));
      ok("GET", "/payments/{imp_uid}", 200, await api.payments.at(c, payment.imp_uid, {}));
      await sleep(700);
      await expectError(api.payments.at(c, payment.imp_uid, {}), 404);
    } finally {
      await stopFake(short);
    }
  });

  test("past --capacity the oldest record goes first", async () => {
    const small = await startFake([], { FAKE_IAMPORT_CAPACITY: "3" });
    try {
      const c = await small.connector.get();
      const payments = [];
      for (let i = 0; i < 4; i++)
        payments.push(ok("POST", "/subscribe/payments/onetime", 201, await api.subscribe.payments.onetime(c, cardInput())));
      await expectError(api.payments.at(c, payments[0].imp_uid, {}), 404);
      for (const payment of payments.slice(1))
        assert.equal(ok("GET", "/payments/{imp_uid}", 200, await api.payments.at(c, payment.imp_uid, {})).imp_uid,
          payment.imp_uid);
    } finally {
      await stopFake(small);
    }
  });

  test("--help names every option; bad settings exit 2", async () => {
    const help = spawnSync(binary("fake-iamport-server"), ["--help"], { encoding: "utf8" });
    assert.equal(help.status, 0);
    for (const option of ["--host", "--port", "--webhook-url", "--key", "--secret", "--ttl-ms", "--capacity",
      "--token-ttl-ms", "--refuse-amount", "/fake/billing", "--help", "--strict", "FAKE_IAMPORT_STRICT",
      "virtual-account edits", "FAKE_IAMPORT_PORT", "FAKE_IAMPORT_WEBHOOK_URL",
      "FAKE_IAMPORT_REFUSE_AMOUNT", "10851"])
      assert.ok(help.stdout.includes(option), `--help does not mention ${option}`);
    for (const [args, env] of [[["--port", "70000"], {}], [["--capacity", "0"], {}], [["--nope"], {}],
      [[], { FAKE_IAMPORT_TTL_MS: "soon" }], [["--webhook-url", "ftp://x"], {}], [["--refuse-amount", "-5"], {}],
      [[], { FAKE_IAMPORT_REFUSE_AMOUNT: "1000000000001" }], [[], { FAKE_IAMPORT_STRICT: "maybe" }]]) {
      const run = spawnSync(binary("fake-iamport-server"), args, { encoding: "utf8", env: { ...process.env, ...env } });
      assert.equal(run.status, 2, `${args} ${JSON.stringify(env)}: ${run.stderr}`);
      assert.equal(run.stderr.trim().split("\n").length, 1, `one line: ${run.stderr}`);
    }
  });

  test("settings come from the environment; flags win", async () => {
    const port = await freePort();
    const proc = start(binary("fake-iamport-server"), ["--secret", "flag_secret"],
      { env: { FAKE_IAMPORT_PORT: String(port), FAKE_IAMPORT_KEY: "env_key", FAKE_IAMPORT_SECRET: "env_secret" } });
    const fakeEnv = { proc, port, host: `http://127.0.0.1:${port}` };
    try {
      await waitForPort(port);
      assert.match(proc.log(), new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
      ok("POST", "/users/getToken", 201,
        await api.users.getToken({ host: fakeEnv.host }, { imp_key: "env_key", imp_secret: "flag_secret" }));
      await expectError(api.users.getToken({ host: fakeEnv.host }, { imp_key: "env_key", imp_secret: "env_secret" }), 401);
    } finally {
      await stopFake(fakeEnv);
    }
  });

  test("--refuse-amount declines every billing-key charge of that amount from the start", async () => {
    const strict = await startFake(["--refuse-amount", "4400"]);
    try {
      assert.deepEqual(await fakeBilling(strict), { fail_next: 0, refuse_amount: 4_400 });
      const c = await strict.connector.get();
      const customer_uid = `customer-${randomUUID()}`;
      await api.subscribe.customers.create(c, customer_uid,
        { customer_uid, card_number: "5555-4444-3333-2222", expiry: "2029-12", birth: "900101" });
      const again = (amount) => api.subscribe.payments.again(c,
        { customer_uid, merchant_uid: `order-${randomUUID()}`, amount, name: "monthly" });
      assert.equal((await again(4_400)).response.status, "failed");
      assert.equal((await again(4_401)).response.status, "paid");
    } finally {
      await stopFake(strict);
    }
  });
});

describe("fake-iamport-server without --strict (the original fake)", () => {
  let fake;
  let hooks;
  let notices;

  const conn = () => fake.connector.get();
  const onetime = async (overrides) =>
    ok("POST", "/subscribe/payments/onetime", 201, await api.subscribe.payments.onetime(await conn(), cardInput(overrides)));
  const cancel = async (payment, input = {}) =>
    ok("POST", "/payments/cancel", 201, await api.payments.cancel(await conn(), {
      imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: null, reason: "original cancel", ...input,
    }));
  const hooksFor = (listener, imp_uid) => listener.received.filter((h) => h.body.imp_uid === imp_uid);

  before(async () => {
    hooks = await startWebhookListener("/iamport/webhook", 200);
    notices = await startWebhookListener("/notice", 200);
    fake = await startFake(["--webhook-url", hooks.url]);
  });

  after(async () => {
    if (fake) await stopFake(fake);
    if (hooks) await hooks.close();
    if (notices) await notices.close();
  });

  test("every cancel, partial ones included, marks the payment cancelled and sends a webhook", async () => {
    const payment = await onetime({ amount: 10_000 });
    await waitFor(() => hooksFor(hooks, payment.imp_uid).length === 1, 10000, "the payment's webhook");
    const partial = await cancel(payment, { amount: 3_000 });
    assert.equal(partial.status, "cancelled");
    assert.equal(partial.cancel_amount, 3_000);
    await waitFor(() => hooksFor(hooks, payment.imp_uid).length === 2, 10000, "the partial cancel's webhook");
    assert.deepEqual(hooksFor(hooks, payment.imp_uid)[1].body,
      { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, status: "cancelled" });
    // What is left can still be refunded, and no more.
    const second = await cancel(payment, { amount: 2_000 });
    assert.equal(second.cancel_amount, 5_000);
    await waitFor(() => hooksFor(hooks, payment.imp_uid).length === 3, 10000, "the second cancel's webhook");
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: null, reason: "r", amount: 5_001 }), 400);
    const rest = await cancel(payment);
    assert.equal(rest.cancel_amount, 10_000);
    assert.deepEqual(rest.cancel_history.map((c) => c.amount), [3_000, 2_000, 5_000]);
    await expectError(api.payments.cancel(await conn(),
      { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid, checksum: null, reason: "again" }), 422);
  });

  test("a virtual-account edit sends a webhook", async () => {
    const vbank = ok("POST", "/vbanks", 201, await api.vbanks.create(await conn(), {
      merchant_uid: `order-${randomUUID()}`, amount: 30_000, vbank_code: "088",
      vbank_due: Math.floor(Date.now() / 1000) + 86_400, vbank_holder: "홍길동",
    }));
    await waitFor(() => hooksFor(hooks, vbank.imp_uid).length === 1, 10000, "the issue's webhook");
    ok("PUT", "/vbanks", 200, await api.vbanks.update(await conn(), { imp_uid: vbank.imp_uid, amount: 35_000 }));
    await waitFor(() => hooksFor(hooks, vbank.imp_uid).length === 2, 10000, "the edit's webhook");
    assert.equal(hooksFor(hooks, vbank.imp_uid)[1].body.status, "ready");
  });

  test("a payment made with a notice_url sends its webhooks there", async () => {
    const payment = await onetime({ notice_url: notices.url });
    await waitFor(() => hooksFor(notices, payment.imp_uid).length === 1, 10000, "the payment's notice");
    await cancel(payment);
    await waitFor(() => hooksFor(notices, payment.imp_uid).length === 2, 10000, "the cancel's notice");
    assert.equal(hooksFor(notices, payment.imp_uid)[1].body.status, "cancelled");
    assert.equal(hooksFor(hooks, payment.imp_uid).length, 0, "nothing to the webhook URL");
  });

  test("an expired record stays readable until another is stored", async () => {
    const short = await startFake(["--ttl-ms", "300"]);
    try {
      const c = await short.connector.get();
      const payment = ok("POST", "/subscribe/payments/onetime", 201, await api.subscribe.payments.onetime(c, cardInput()));
      await sleep(700);
      assert.equal(ok("GET", "/payments/{imp_uid}", 200, await api.payments.at(c, payment.imp_uid, {})).imp_uid,
        payment.imp_uid, "the newest record is read past its ttl");
      const next = ok("POST", "/subscribe/payments/onetime", 201, await api.subscribe.payments.onetime(c, cardInput()));
      await expectError(api.payments.at(c, payment.imp_uid, {}), 404);
      ok("GET", "/payments/{imp_uid}", 200, await api.payments.at(c, next.imp_uid, {}));
    } finally {
      await stopFake(short);
    }
  });
});
