// Conformance of fake-toss-payments-server: the real npm SDK
// (toss-payments-server-api) drives every operation, and every successful
// answer is checked against the schemas of fake-toss-payments.swagger.json.
// The main suite runs the fake --strict (as Toss behaves); the default, the
// original fake's behaviour, is checked where the two differ.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import toss from "toss-payments-server-api";

import {
  checkBillingControl, expectVendorError, fakeBilling, fakeRequest, fakeStats, setFakeBilling, startFakeServer,
  startWebhookListener, stopFake,
} from "../lib/fakes.mjs";
import { loadContract } from "../lib/openapi.mjs";
import { binary, freePort, sleep, start, waitFor, waitForPort } from "../lib/process.mjs";

const SECRET = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy";
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$/;
const contract = loadContract("fake-toss-payments");
const api = toss.functional;

const basic = (secret) => `Basic ${Buffer.from(`${secret}:`).toString("base64")}`;

/** Starts the fake on a free port; returns {proc, port, host, connection}. */
async function startFake(args = [], env = {}) {
  const fake = await startFakeServer("fake-toss-payments-server", args, env);
  return { ...fake, connection: { host: fake.host, headers: { Authorization: basic(SECRET) } } };
}

/** Expects the SDK call to fail with status (and Toss's code, when given). */
const expectError = (promise, status, code) =>
  expectVendorError(promise, toss.HttpError, status, (body) => {
    assert.equal(typeof body.code, "string");
    if (code) assert.equal(body.code, code);
  });

/** A raw request, for what the SDK cannot send (bad JSON, no auth). */
const raw = (fake, method, path, { body, headers = { Authorization: basic(SECRET) } } = {}) =>
  fakeRequest(fake, method, path, { body, headers });

const cardInput = (overrides = {}) => ({
  method: "card",
  cardNumber: "1111222233334444",
  cardExpirationYear: "28",
  cardExpirationMonth: "03",
  orderId: `order-${randomUUID()}`,
  orderName: "conformance order",
  amount: 25_000,
  ...overrides,
});

const virtualAccountInput = (overrides = {}) => ({
  method: "virtual-account",
  orderId: `order-${randomUUID()}`,
  orderName: "virtual account order",
  bank: "신한",
  customerName: "홍길동",
  amount: 30_000,
  ...overrides,
});

const refundAccount = { bank: "국민", accountNumber: "12345678901234", holderName: "홍길동" };

function checkPayment(method, route, status, payment) {
  contract.validateResponse(method, route, status, payment);
  assert.match(payment.requestedAt, TIME);
  if (payment.approvedAt !== null) assert.match(payment.approvedAt, TIME);
  for (const cancel of payment.cancels ?? []) assert.match(cancel.canceledAt, TIME);
  return payment;
}

describe("fake-toss-payments-server --strict", () => {
  let fake;
  let hooks;
  let connection;

  const keyIn = async (overrides) =>
    checkPayment("POST", "/v1/payments/key-in", 201, await api.v1.payments.key_in(connection, cardInput(overrides)));
  const at = async (paymentKey) =>
    checkPayment("GET", "/v1/payments/{paymentKey}", 200, await api.v1.payments.at(connection, paymentKey));
  const cancel = async (payment, input = {}) =>
    checkPayment("POST", "/v1/payments/{paymentKey}/cancel", 201,
      await api.v1.payments.cancel(connection, payment.paymentKey,
        { paymentKey: payment.paymentKey, cancelReason: "conformance cancel", ...input }));
  const issueVirtualAccount = async (overrides) =>
    checkPayment("POST", "/v1/virtual-accounts", 201,
      await api.v1.virtual_accounts.create(connection, virtualAccountInput(overrides)));
  const deposit = async (paymentKey) =>
    checkPayment("PUT", "/internal/{paymentKey}/deposit", 200, await api.internal.deposit(connection, paymentKey));
  const webhookFor = (paymentKey, status) =>
    waitFor(() => hooks.received.find((h) => h.body.data?.paymentKey === paymentKey && h.body.data?.status === status),
      10000, `webhook ${status} for ${paymentKey}`);

  before(async () => {
    hooks = await startWebhookListener("/toss/webhook", 201);
    fake = await startFake(["--webhook-url", hooks.url, "--strict"]);
    connection = fake.connection;
  });

  after(async () => {
    if (fake) await stopFake(fake);
    if (hooks) await hooks.close();
  });

  test("card key-in is paid at once, with every field filled", async () => {
    const input = cardInput({ cardInstallmentPlan: 3, taxFreeAmount: 3_000 });
    const payment = checkPayment("POST", "/v1/payments/key-in", 201, await api.v1.payments.key_in(connection, input));
    assert.equal(payment.method, "카드");
    assert.equal(payment.type, "NORMAL");
    assert.equal(payment.status, "DONE");
    assert.equal(payment.orderId, input.orderId);
    assert.equal(payment.orderName, input.orderName);
    assert.equal(payment.currency, "KRW");
    assert.equal(payment.totalAmount, 25_000);
    assert.equal(payment.balanceAmount, 25_000);
    assert.equal(payment.taxFreeAmount, 3_000);
    assert.equal(payment.suppliedAmount + payment.vat + payment.taxFreeAmount, 25_000);
    assert.equal(payment.card.number, input.cardNumber);
    assert.equal(payment.card.installmentPlanMonths, 3);
    assert.match(payment.card.approveNo, /^\d{8}$/);
    assert.equal(payment.cancels, null);
    assert.equal(payment.cashReceipt, null);
    assert.deepEqual(await at(payment.paymentKey), payment);
  });

  test("identifiers are random and unique", async () => {
    const payments = await Promise.all(Array.from({ length: 8 }, () => keyIn()));
    for (const field of ["paymentKey", "transactionKey"]) {
      const values = new Set(payments.map((p) => p[field]));
      assert.equal(values.size, payments.length, `${field} repeats`);
      for (const value of values) assert.ok(value.length >= 16, `${field} ${value} is short`);
    }
  });

  test("confirm checks orderId and amount, then approves", async () => {
    const pending = await keyIn({ __approved: false });
    assert.equal(pending.status, "IN_PROGRESS");
    assert.equal(pending.approvedAt, null);

    await expectError(api.v1.payments.approve(connection, pending.paymentKey,
      { orderId: "another-order", amount: pending.totalAmount }), 400, "NOT_MATCHES_ORDER_ID");
    await expectError(api.v1.payments.approve(connection, pending.paymentKey,
      { orderId: pending.orderId, amount: pending.totalAmount + 1 }), 400, "NOT_MATCHES_AMOUNT");
    assert.equal((await at(pending.paymentKey)).status, "IN_PROGRESS");
    await expectError(api.v1.payments.cancel(connection, pending.paymentKey,
      { paymentKey: pending.paymentKey, cancelReason: "not yet approved" }), 403, "NOT_CANCELABLE_PAYMENT");

    const approved = checkPayment("POST", "/v1/payments/{paymentKey}", 201,
      await api.v1.payments.approve(connection, pending.paymentKey, { orderId: pending.orderId, amount: pending.totalAmount }));
    assert.equal(approved.status, "DONE");
    assert.match(approved.approvedAt, TIME);
    assert.equal((await at(pending.paymentKey)).status, "DONE");

    // A merchant confirms every payment it is told about: a paid one stays as it is.
    const again = checkPayment("POST", "/v1/payments/{paymentKey}", 201,
      await api.v1.payments.approve(connection, pending.paymentKey, { orderId: pending.orderId, amount: pending.totalAmount }));
    assert.deepEqual(again, approved);
  });

  test("full cancel", async () => {
    const payment = await keyIn();
    const cancelled = await cancel(payment);
    assert.equal(cancelled.status, "CANCELED");
    assert.equal(cancelled.balanceAmount, 0);
    assert.equal(cancelled.cancels.length, 1);
    assert.equal(cancelled.cancels[0].cancelAmount, payment.totalAmount);
    assert.equal(cancelled.cancels[0].cancelReason, "conformance cancel");
    assert.equal(cancelled.cancels[0].refundableAmount, 0);
    assert.equal(cancelled.card.acquireStatus, "CANCELED");
    assert.deepEqual(await at(payment.paymentKey), cancelled);
    await webhookFor(payment.paymentKey, "CANCELED");
    await expectError(api.v1.payments.cancel(connection, payment.paymentKey,
      { paymentKey: payment.paymentKey, cancelReason: "twice" }), 400, "ALREADY_CANCELED_PAYMENT");
  });

  test("partial cancels until fully refunded", async () => {
    const payment = await keyIn({ amount: 10_000 });
    for (let i = 1; i <= 5; i++) {
      const cancelled = await cancel(payment, { cancelAmount: 2_000 });
      assert.equal(cancelled.balanceAmount, 10_000 - 2_000 * i);
      assert.equal(cancelled.cancels.length, i);
      assert.equal(cancelled.cancels.reduce((sum, c) => sum + c.cancelAmount, 0), 2_000 * i);
      assert.equal(cancelled.cancels[i - 1].refundableAmount, 10_000 - 2_000 * i);
      assert.equal(cancelled.status, i < 5 ? "PARTIAL_CANCELED" : "CANCELED");
      assert.equal(cancelled.totalAmount, 10_000);
    }
    await webhookFor(payment.paymentKey, "PARTIAL_CANCELED");
    const webhook = await webhookFor(payment.paymentKey, "CANCELED");
    contract.validate("ITossPaymentWebhook", webhook.body);
  });

  test("a cancel over the remaining amount is refused", async () => {
    const payment = await keyIn({ amount: 10_000 });
    await expectError(api.v1.payments.cancel(connection, payment.paymentKey,
      { paymentKey: payment.paymentKey, cancelReason: "too much", cancelAmount: 10_001 }), 403, "NOT_CANCELABLE_AMOUNT");
    await cancel(payment, { cancelAmount: 6_000 });
    await expectError(api.v1.payments.cancel(connection, payment.paymentKey,
      { paymentKey: payment.paymentKey, cancelReason: "too much", cancelAmount: 5_000 }), 403, "NOT_CANCELABLE_AMOUNT");
    const unchanged = await at(payment.paymentKey);
    assert.equal(unchanged.balanceAmount, 4_000);
    assert.equal(unchanged.cancels.length, 1);
    assert.equal(unchanged.status, "PARTIAL_CANCELED");
    const rest = await cancel(payment);
    assert.equal(rest.status, "CANCELED");
    assert.equal(rest.cancels[1].cancelAmount, 4_000);
  });

  test("virtual account waits for its deposit; the deposit sends the webhook", async () => {
    const input = virtualAccountInput();
    const payment = checkPayment("POST", "/v1/virtual-accounts", 201, await api.v1.virtual_accounts.create(connection, input));
    assert.equal(payment.method, "가상계좌");
    assert.equal(payment.status, "WAITING_FOR_DEPOSIT");
    assert.equal(payment.approvedAt, null);
    assert.equal(payment.virtualAccount.bank, input.bank);
    assert.equal(payment.virtualAccount.customerName, input.customerName);
    assert.match(payment.virtualAccount.accountNumber, /^\d{10,}$/);
    assert.match(payment.virtualAccount.dueDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(payment.virtualAccount.settlementStatus, "INCOMPLETED");
    assert.ok(payment.secret.length > 0);
    await webhookFor(payment.paymentKey, "WAITING_FOR_DEPOSIT");

    // The payment server confirms what it registers: a waiting account stays waiting.
    const confirmed = await api.v1.payments.approve(connection, payment.paymentKey,
      { orderId: payment.orderId, amount: payment.totalAmount });
    assert.equal(confirmed.status, "WAITING_FOR_DEPOSIT");

    const paid = await deposit(payment.paymentKey);
    assert.equal(paid.status, "DONE");
    assert.match(paid.approvedAt, TIME);
    assert.equal(paid.virtualAccount.settlementStatus, "COMPLETED");
    const webhook = await webhookFor(payment.paymentKey, "DONE");
    assert.equal(webhook.method, "POST");
    assert.match(webhook.contentType, /application\/json/);
    contract.validate("ITossPaymentWebhook", webhook.body);
    assert.deepEqual(webhook.body, {
      eventType: "PAYMENT_STATUS_CHANGED",
      data: { paymentKey: payment.paymentKey, orderId: payment.orderId, status: "DONE" },
    });
    assert.deepEqual(await at(payment.paymentKey), paid);

    await expectError(api.internal.deposit(connection, payment.paymentKey), 400, "ALREADY_PROCESSED_PAYMENT");
    const card = await keyIn();
    await expectError(api.internal.deposit(connection, card.paymentKey), 400);
  });

  test("virtual account cancel needs a refund account once paid", async () => {
    const payment = await issueVirtualAccount({ amount: 30_000 });
    await deposit(payment.paymentKey);
    await expectError(api.v1.payments.cancel(connection, payment.paymentKey,
      { paymentKey: payment.paymentKey, cancelReason: "no account" }), 400, "INVALID_REFUND_ACCOUNT_INFO");
    assert.equal((await at(payment.paymentKey)).status, "DONE");

    const partial = await cancel(payment, { cancelAmount: 10_000, refundReceiveAccount: refundAccount });
    assert.equal(partial.status, "PARTIAL_CANCELED");
    assert.equal(partial.balanceAmount, 20_000);
    assert.equal(partial.virtualAccount.refundStatus, "COMPLETED");
    await webhookFor(payment.paymentKey, "PARTIAL_CANCELED");
    await expectError(api.v1.payments.cancel(connection, payment.paymentKey,
      { paymentKey: payment.paymentKey, cancelReason: "no account" }), 400, "INVALID_REFUND_ACCOUNT_INFO");
    const full = await cancel(payment, { refundReceiveAccount: refundAccount });
    assert.equal(full.status, "CANCELED");
    assert.equal(full.balanceAmount, 0);
    assert.deepEqual(full.cancels.map((c) => c.cancelAmount), [10_000, 20_000]);
    await webhookFor(payment.paymentKey, "CANCELED");

    // Before the deposit nothing was paid: the account is withdrawn, in full only.
    const waiting = await issueVirtualAccount();
    await expectError(api.v1.payments.cancel(connection, waiting.paymentKey,
      { paymentKey: waiting.paymentKey, cancelReason: "part", cancelAmount: 1_000 }), 403, "NOT_CANCELABLE_AMOUNT");
    const withdrawn = await cancel(waiting);
    assert.equal(withdrawn.status, "CANCELED");
    assert.equal(withdrawn.virtualAccount.refundStatus, "NONE");
    await expectError(api.internal.deposit(connection, waiting.paymentKey), 400);
  });

  test("billing key: issue, look up, pay, and cancel its payments", async () => {
    const customerKey = `customer-${randomUUID()}`;
    const billing = contract.validateResponse("POST", "/v1/billing/authorizations/card", 201,
      await api.v1.billing.authorizations.card.create(connection, {
        customerKey,
        cardNumber: "5555444433332222",
        cardExpirationYear: "29",
        cardExpirationMonth: "12",
        cardPassword: "12",
        customerBirthday: "900101",
        customerEmail: "someone@example.com",
      }));
    assert.equal(billing.customerKey, customerKey);
    assert.equal(billing.cardNumber, "5555444433332222");
    assert.equal(billing.method, "카드");
    assert.match(billing.authenticatedAt, TIME);

    const found = contract.validateResponse("POST", "/v1/billing/authorizations/{billingKey}", 201,
      await api.v1.billing.authorizations.at(connection, billing.billingKey, { customerKey }));
    assert.deepEqual(found, billing);
    await expectError(api.v1.billing.authorizations.at(connection, billing.billingKey, { customerKey: "someone-else" }),
      403, "NOT_MATCHES_CUSTOMER_KEY");

    const pay = (amount) => api.v1.billing.pay(connection, billing.billingKey, {
      method: "billing", billingKey: billing.billingKey, customerKey, orderId: `order-${randomUUID()}`, amount,
    });
    const first = checkPayment("POST", "/v1/billing/{billingKey}", 201, await pay(12_000));
    assert.equal(first.type, "BILLING");
    assert.equal(first.status, "DONE");
    assert.equal(first.card.number, billing.cardNumber);
    assert.deepEqual(await at(first.paymentKey), first);
    const second = checkPayment("POST", "/v1/billing/{billingKey}", 201, await pay(8_000));
    assert.notEqual(second.paymentKey, first.paymentKey);

    assert.equal((await cancel(first, { cancelAmount: 2_000 })).status, "PARTIAL_CANCELED");
    await expectError(api.v1.payments.cancel(connection, first.paymentKey,
      { paymentKey: first.paymentKey, cancelReason: "over", cancelAmount: 10_001 }), 403, "NOT_CANCELABLE_AMOUNT");
    assert.equal((await cancel(first, { cancelAmount: 10_000 })).status, "CANCELED");
    assert.equal((await cancel(second)).status, "CANCELED");

    await expectError(api.v1.billing.pay(connection, billing.billingKey,
      { method: "billing", billingKey: billing.billingKey, customerKey: "someone-else", orderId: "o", amount: 1 }),
      403, "NOT_MATCHES_CUSTOMER_KEY");
  });

  test("billing rules decline charges as a card company does: REJECT_CARD_COMPANY, no payment", async () => {
    await checkBillingControl(fake);
    const customerKey = `customer-${randomUUID()}`;
    const billing = await api.v1.billing.authorizations.card.create(connection, {
      customerKey, cardNumber: "5555444433332222", cardExpirationYear: "29", cardExpirationMonth: "12",
      cardPassword: "12", customerBirthday: "900101",
    });
    const pay = (amount, orderId = `order-${randomUUID()}`) => api.v1.billing.pay(connection, billing.billingKey,
      { method: "billing", billingKey: billing.billingKey, customerKey, orderId, amount });
    const before = await fakeStats(fake);

    assert.deepEqual(await setFakeBilling(fake, { fail_next: 2 }), { fail_next: 2, refuse_amount: 0 });
    const orderId = `order-${randomUUID()}`;
    await expectError(pay(9_900, orderId), 403, "REJECT_CARD_COMPANY");
    await expectError(pay(9_900), 403, "REJECT_CARD_COMPANY");
    // The declined order made no payment: the same orderId is then paid once.
    const paid = checkPayment("POST", "/v1/billing/{billingKey}", 201, await pay(9_900, orderId));
    assert.equal(paid.status, "DONE");
    assert.equal((await fakeBilling(fake)).fail_next, 0);

    await setFakeBilling(fake, { refuse_amount: 7_700 });
    await expectError(pay(7_700), 403, "REJECT_CARD_COMPANY");
    assert.equal((await pay(7_701)).status, "DONE");
    await setFakeBilling(fake, { refuse_amount: 0 });
    assert.equal((await pay(7_700)).status, "DONE");

    const stats = await fakeStats(fake);
    assert.equal(stats.billing_charges, before.billing_charges + 3);
    assert.equal(stats.billing_refusals, before.billing_refusals + 3);
    assert.equal(stats.charges, before.charges + 3);
  });

  test("cash receipt: issue and cancel", async () => {
    const payment = await issueVirtualAccount({ amount: 50_000 });
    const receiptInput = {
      type: "소득공제",
      paymentKey: payment.paymentKey,
      orderId: payment.orderId,
      orderName: payment.orderName,
      registrationNumber: "01012345678",
      amount: payment.totalAmount,
    };
    await expectError(api.v1.cash_receipts.create(connection, receiptInput), 400, "NOT_ISSUABLE_CASH_RECEIPT");
    await deposit(payment.paymentKey);
    await expectError(api.v1.cash_receipts.create(connection, { ...receiptInput, orderId: "another" }),
      400, "NOT_MATCHES_ORDER_ID");

    const receipt = contract.validateResponse("POST", "/v1/cash-receipts", 201,
      await api.v1.cash_receipts.create(connection, receiptInput));
    assert.equal(receipt.type, "소득공제");
    assert.equal(receipt.orderId, payment.orderId);
    assert.equal(receipt.canceledAt, null);
    assert.match(receipt.approvedAt, TIME);
    const withReceipt = await at(payment.paymentKey);
    assert.equal(withReceipt.cashReceipt.issueNumber, receipt.approvalNumber);
    assert.equal(withReceipt.cashReceipt.receiptUrl, receipt.receiptUrl);
    assert.equal(withReceipt.cashReceipt.amount, 50_000);
    await expectError(api.v1.cash_receipts.create(connection, receiptInput), 400, "ALREADY_ISSUED_CASH_RECEIPT");

    const part = contract.validateResponse("POST", "/v1/cash-receipts/{receiptKey}/cancel", 201,
      await api.v1.cash_receipts.cancel(connection, receipt.receiptKey, { amount: 20_000 }));
    assert.equal(part.canceledAt, null);
    assert.equal((await at(payment.paymentKey)).cashReceipt.amount, 30_000);
    await expectError(api.v1.cash_receipts.cancel(connection, receipt.receiptKey, { amount: 30_001 }),
      403, "NOT_CANCELABLE_AMOUNT");

    const cancelled = contract.validateResponse("POST", "/v1/cash-receipts/{receiptKey}/cancel", 201,
      await api.v1.cash_receipts.cancel(connection, receipt.receiptKey, {}));
    assert.match(cancelled.canceledAt, TIME);
    assert.equal(cancelled.receiptKey, receipt.receiptKey);
    assert.equal((await at(payment.paymentKey)).cashReceipt, null);
    await expectError(api.v1.cash_receipts.cancel(connection, receipt.receiptKey, {}), 400, "ALREADY_CANCELED_CASH_RECEIPT");

    // Once cancelled, the payment may take a new receipt.
    const again = await api.v1.cash_receipts.create(connection, { ...receiptInput, type: "지출증빙", amount: 1_000 });
    assert.notEqual(again.receiptKey, receipt.receiptKey);
  });

  test("the internal webhook listener swallows webhooks", async () => {
    const result = await api.internal.webhook(connection, {
      eventType: "PAYMENT_STATUS_CHANGED",
      data: { paymentKey: "any", orderId: "any", status: "DONE" },
    });
    assert.equal(result, undefined);
    const bad = await raw(fake, "POST", "/internal/webhook", { body: JSON.stringify({ eventType: 3 }) });
    assert.equal(bad.status, 400);
  });

  test("a wrong secret key is refused with 401", async () => {
    const wrong = { ...connection, headers: { Authorization: basic("test_sk_wrong") } };
    await expectError(api.v1.payments.key_in(wrong, cardInput()), 401, "UNAUTHORIZED_KEY");
    const payment = await keyIn();
    await expectError(api.v1.payments.at(wrong, payment.paymentKey), 401, "UNAUTHORIZED_KEY");
    await expectError(api.v1.payments.cancel(wrong, payment.paymentKey,
      { paymentKey: payment.paymentKey, cancelReason: "x" }), 401, "UNAUTHORIZED_KEY");
    await expectError(api.internal.deposit(wrong, payment.paymentKey), 401, "UNAUTHORIZED_KEY");
    for (const headers of [{}, { Authorization: "Bearer abc" }, { Authorization: "Basic !!!" },
      { Authorization: `Basic ${Buffer.from(SECRET).toString("base64")}` },
      { Authorization: `Basic ${Buffer.from(`${SECRET}:password`).toString("base64")}` }]) {
      const answer = await raw(fake, "GET", `/v1/payments/${payment.paymentKey}`, { headers });
      assert.equal(answer.status, 401, JSON.stringify(headers));
      assert.equal(answer.json.code, "UNAUTHORIZED_KEY");
    }
    assert.equal((await at(payment.paymentKey)).status, "DONE");
  });

  test("unknown identifiers answer 404 with Toss's error document", async () => {
    const unknown = "unknown-key-0000";
    await expectError(api.v1.payments.at(connection, unknown), 404, "NOT_FOUND_PAYMENT");
    await expectError(api.v1.payments.approve(connection, unknown, { orderId: "o", amount: 1 }), 404, "NOT_FOUND_PAYMENT");
    await expectError(api.v1.payments.cancel(connection, unknown, { paymentKey: unknown, cancelReason: "x" }),
      404, "NOT_FOUND_PAYMENT");
    await expectError(api.internal.deposit(connection, unknown), 404, "NOT_FOUND_PAYMENT");
    await expectError(api.v1.billing.authorizations.at(connection, unknown, { customerKey: "c" }), 404, "NOT_FOUND_BILLING");
    await expectError(api.v1.billing.pay(connection, unknown,
      { method: "billing", billingKey: unknown, customerKey: "c", orderId: "o", amount: 1 }), 404, "NOT_FOUND_BILLING");
    await expectError(api.v1.cash_receipts.cancel(connection, unknown, {}), 404, "NOT_FOUND_CASH_RECEIPT");
    await expectError(api.v1.cash_receipts.create(connection, {
      type: "소득공제", paymentKey: unknown, orderId: "o", orderName: "n", registrationNumber: "1", amount: 1,
    }), 404, "NOT_FOUND_PAYMENT");
  });

  test("invalid input answers 400 with a message", async () => {
    const payment = await keyIn();
    const invalid = [
      ["POST", "/v1/payments/key-in", "{not json"],
      ["POST", "/v1/payments/key-in", "[1, 2]"],
      ["POST", "/v1/payments/key-in", ""],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ amount: "25000" }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ amount: -1 }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ amount: 10.5 }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ amount: 1e300 }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ cardNumber: "111122223333444" }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ cardNumber: 1111222233334444 }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ cardExpirationMonth: "13" }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ orderId: "" }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ orderId: { nested: true } }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ method: "transfer" }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ __approved: "no" }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ customerEmail: "not an email" }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ taxFreeAmount: 25_001 }))],
      ["POST", "/v1/payments/key-in", JSON.stringify(cardInput({ vbv: "x" }))],
      ["POST", `/v1/payments/${payment.paymentKey}`, JSON.stringify({ orderId: payment.orderId })],
      ["POST", `/v1/payments/${payment.paymentKey}`, JSON.stringify({ orderId: 1, amount: 1 })],
      ["POST", `/v1/payments/${payment.paymentKey}/cancel`, JSON.stringify({})],
      ["POST", `/v1/payments/${payment.paymentKey}/cancel`, JSON.stringify({ cancelReason: "x", cancelAmount: 0 })],
      ["POST", `/v1/payments/${payment.paymentKey}/cancel`, JSON.stringify({ cancelReason: "x", paymentKey: "other" })],
      ["POST", `/v1/payments/${payment.paymentKey}/cancel`,
        JSON.stringify({ cancelReason: "x", refundReceiveAccount: { bank: "b", accountNumber: "12-34", holderName: "h" } })],
      ["POST", `/v1/payments/${payment.paymentKey}/cancel`, JSON.stringify({ cancelReason: "x", refundReceiveAccount: [] })],
      ["POST", "/v1/virtual-accounts", JSON.stringify(virtualAccountInput({ bank: 7 }))],
      ["POST", "/v1/virtual-accounts", JSON.stringify(virtualAccountInput({ customerName: undefined }))],
      ["POST", "/v1/billing/authorizations/card", JSON.stringify({ customerKey: "c", cardNumber: "1111222233334444" })],
      ["POST", "/v1/billing/authorizations/card", JSON.stringify({
        customerKey: "c", cardNumber: "1111222233334444", cardExpirationYear: "29", cardExpirationMonth: "01",
        cardPassword: "12", customerBirthday: "901301" })],
      ["POST", "/v1/cash-receipts", JSON.stringify({ type: "영수증", paymentKey: payment.paymentKey })],
    ];
    for (const [method, path, body] of invalid) {
      const answer = await raw(fake, method, path, { body });
      assert.equal(answer.status, 400, `${method} ${path} ${body}: ${answer.text}`);
      assert.equal(answer.json.code, "INVALID_REQUEST", answer.text);
      assert.ok(answer.json.message.length > 0);
    }
    // Nothing of the above changed the payment.
    assert.equal((await at(payment.paymentKey)).status, "DONE");
  });

  test("no input crashes it", async () => {
    const paths = ["/v1/payments/key-in", "/v1/virtual-accounts", "/v1/billing/authorizations/card",
      "/v1/cash-receipts", "/internal/webhook", "/v1/payments/x/cancel", "/v1/billing/x", "/v1/cash-receipts/x/cancel"];
    const values = [null, true, 0, -1, 1.5, 1e20, "", "x".repeat(5000), [], {}, [[{}]], { a: null }];
    const fields = ["orderId", "amount", "cardNumber", "cancelAmount", "refundReceiveAccount", "data", "type",
      "paymentKey", "customerKey", "cancelReason", "vbv", "taxFreeAmount"];
    for (const path of paths) {
      for (const value of values) {
        const body = Object.fromEntries(fields.map((f) => [f, value]));
        const answer = await raw(fake, "POST", path, { body: JSON.stringify(body) });
        assert.ok(answer.status >= 400 && answer.status < 500, `${path} ${answer.status} ${answer.text}`);
      }
      assert.ok((await raw(fake, "POST", path, { body: "\u0000\u0001{" })).status < 500);
    }
    assert.equal(fake.proc.child.exitCode, null, "the fake stopped");
    assert.equal((await at((await keyIn()).paymentKey)).status, "DONE");
  });
});

describe("without --strict (the original fake)", () => {
  test("a billing payment with another customerKey than the billing key's is made", async () => {
    const fake = await startFake();
    try {
      const customerKey = `customer-${randomUUID()}`;
      const billing = await api.v1.billing.authorizations.card.create(fake.connection, {
        customerKey, cardNumber: "5555444433332222", cardExpirationYear: "29", cardExpirationMonth: "12",
        cardPassword: "12", customerBirthday: "900101",
      });
      const payment = checkPayment("POST", "/v1/billing/{billingKey}", 201,
        await api.v1.billing.pay(fake.connection, billing.billingKey, {
          method: "billing", billingKey: billing.billingKey, customerKey: "someone-else",
          orderId: `order-${randomUUID()}`, amount: 5_000,
        }));
      assert.equal(payment.status, "DONE");
      assert.equal(payment.type, "BILLING");
      // Reading the billing key still takes its own customer.
      await expectError(api.v1.billing.authorizations.at(fake.connection, billing.billingKey,
        { customerKey: "someone-else" }), 403, "NOT_MATCHES_CUSTOMER_KEY");
    } finally {
      await stopFake(fake);
    }
  });

  test("an expired record stays readable until another is stored", async () => {
    const fake = await startFake(["--ttl-ms", "300"]);
    try {
      const payment = await api.v1.payments.key_in(fake.connection, cardInput());
      await sleep(700);
      assert.equal((await api.v1.payments.at(fake.connection, payment.paymentKey)).paymentKey, payment.paymentKey);
      const next = await api.v1.payments.key_in(fake.connection, cardInput());
      await expectError(api.v1.payments.at(fake.connection, payment.paymentKey), 404, "NOT_FOUND_PAYMENT");
      assert.equal((await api.v1.payments.at(fake.connection, next.paymentKey)).paymentKey, next.paymentKey);
    } finally {
      await stopFake(fake);
    }
  });
});

describe("storage", () => {
  test("--strict: records expire after --ttl-ms, read or not", async () => {
    const fake = await startFake(["--ttl-ms", "300", "--strict"]);
    try {
      const payment = await api.v1.payments.key_in(fake.connection, cardInput());
      assert.equal((await api.v1.payments.at(fake.connection, payment.paymentKey)).paymentKey, payment.paymentKey);
      await sleep(700);
      await expectError(api.v1.payments.at(fake.connection, payment.paymentKey), 404, "NOT_FOUND_PAYMENT");
    } finally {
      await stopFake(fake);
    }
  });

  test("past --capacity the oldest record goes first", async () => {
    const fake = await startFake(["--capacity", "3"]);
    try {
      const payments = [];
      for (let i = 0; i < 4; i++) payments.push(await api.v1.payments.key_in(fake.connection, cardInput()));
      await expectError(api.v1.payments.at(fake.connection, payments[0].paymentKey), 404, "NOT_FOUND_PAYMENT");
      for (const payment of payments.slice(1))
        assert.equal((await api.v1.payments.at(fake.connection, payment.paymentKey)).paymentKey, payment.paymentKey);
    } finally {
      await stopFake(fake);
    }
  });
});

describe("settings", () => {
  test("--help exits 0 and names the options", async () => {
    const proc = start(binary("fake-toss-payments-server"), ["--help"]);
    const { code } = await proc.exited;
    assert.equal(code, 0);
    for (const option of ["--port", "--host", "--webhook-url", "--secret", "--ttl-ms", "--capacity", "--refuse-amount",
      "/fake/billing", "--strict", "FAKE_TOSS_STRICT", "billing customerKey", "record expiry"])
      assert.ok(proc.log().includes(option), `--help does not name ${option}`);
  });

  test("the secret key and port come from the environment", async () => {
    const port = await freePort();
    const proc = start(binary("fake-toss-payments-server"), [],
      { env: { FAKE_TOSS_PORT: String(port), FAKE_TOSS_SECRET: "test_sk_custom", FAKE_TOSS_REFUSE_AMOUNT: "4400" } });
    const fake = { proc, port };
    try {
      await waitForPort(port);
      const custom = { host: `http://127.0.0.1:${port}`, headers: { Authorization: basic("test_sk_custom") } };
      const payment = await api.v1.payments.key_in(custom, cardInput());
      assert.equal(payment.status, "DONE");
      await expectError(api.v1.payments.at({ ...custom, headers: { Authorization: basic(SECRET) } }, payment.paymentKey),
        401, "UNAUTHORIZED_KEY");
      assert.deepEqual(await fakeBilling(fake), { fail_next: 0, refuse_amount: 4_400 });
    } finally {
      await stopFake(fake);
    }
  });
});
