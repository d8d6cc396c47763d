// Conformance of fake-inicis-server: INIAPI calls (form fields, hashData
// computed here with node:crypto, independently of the fake), the guards a
// real Inicis keeps (hash, confirmPrice, a refund made once, a moid charged
// once), the refused card, inquiry, and the deposit notification.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";

import {
  FAKE_INICIS, checkBillingControl, fakeBilling, fakeRequest, fakeStats, inicisCardPayment, inicisEncrypt, inicisHash,
  inicisRequest, setFakeBilling, startFakeServer, startWebhookListener, stopFake,
} from "../lib/fakes.mjs";
import { binary, sleep, waitFor } from "../lib/process.mjs";

const refund = (fake, fields) => inicisRequest(fake, "/api/v1/refund", fields);
const billing = (fake, fields) => inicisRequest(fake, "/api/v1/billing", fields);
const inquiry = (fake, fields) => inicisRequest(fake, "/api/v1/inquiry", { type: "Inquiry", ...fields });

/** Expects an INIAPI answer (always 200) with code; returns its JSON. */
function expectResult(answer, code, pattern) {
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json.resultCode, code, answer.text);
  assert.equal(typeof answer.json.resultMsg, "string");
  if (pattern) assert.match(answer.json.resultMsg, pattern);
  return answer.json;
}

async function issueBillkey(fake, cardNumber) {
  const { status, json, text } = await fakeRequest(fake, "POST", "/internal/billkeys",
    { body: JSON.stringify({ cardNumber, buyerName: "홍길동" }) });
  assert.equal(status, 201, text);
  return json.billKey;
}

const charge = (fake, billKey, moid, price = 9_900) => billing(fake, {
  type: "Billing", moid, billKey, price: String(price), goodName: "monthly plan", buyerName: "홍길동",
  buyerEmail: "buyer@example.com", buyerTel: "01012345678",
});

describe("fake-inicis-server", () => {
  let fake;
  let hooks;

  before(async () => {
    hooks = await startWebhookListener("/payments/webhooks/inicis", 200);
    fake = await startFakeServer("fake-inicis-server", ["--webhook-url", hooks.url]);
  });
  // The listener closes even when the fake did not stop cleanly, or the
  // test would hang instead of failing.
  after(async () => {
    try {
      if (fake) await stopFake(fake);
    } finally {
      if (hooks) await hooks.close();
    }
  });

  test("the published AES vector of Inicis' FAQ is what our helper makes", () => {
    // Inicis' FAQ: refundAcctNum 123456789 for INIpayTest is this text.
    assert.equal(inicisEncrypt("123456789"), "qwMHVJqsmXKoR+d8wQTS4g==");
  });

  test("a wrong hashData is refused and refunds nothing", async () => {
    const payment = await inicisCardPayment(fake);
    const fields = { type: "Refund", tid: payment.tid, msg: "test" };
    const wrong = inicisHash({ ...fields, paymethod: "Card", timestamp: "20260101000000", clientIp: "127.0.0.1", mid: FAKE_INICIS.mid });
    expectResult(await refund(fake, { ...fields, hashData: wrong }), "02", /hashData/);
    // Signed with another key: refused as well.
    const otherKey = inicisHash({ ...fields, paymethod: "Card", timestamp: "20260101000000", clientIp: "127.0.0.1",
      mid: FAKE_INICIS.mid }, "0000000000000000");
    expectResult(await refund(fake, { ...fields, timestamp: "20260101000000", hashData: otherKey }), "02");
    const after = await fakeRequest(fake, "GET", `/internal/payments/${payment.tid}`);
    assert.equal(after.json.status, "paid");
    assert.equal(after.json.remains, 10_000);
    assert.ok((await fakeStats(fake)).hash_refusals >= 2);
  });

  test("another mid, a JSON body and an unknown type are refused", async () => {
    const payment = await inicisCardPayment(fake);
    expectResult(await refund(fake, { type: "Refund", tid: payment.tid, mid: "OtherMid01" }), "03");
    expectResult(await refund(fake, { type: "Charge", tid: payment.tid, hashData: "0".repeat(128) }), "01", /type/);
    const json = await fakeRequest(fake, "POST", "/api/v1/refund", { body: JSON.stringify({ type: "Refund" }) });
    expectResult(json, "01", /form-urlencoded/);
  });

  test("a refund is made once; a repeat is refused and refunds nothing more", async () => {
    const payment = await inicisCardPayment(fake, { price: 15_000 });
    const before = (await fakeStats(fake)).refunds;
    const first = expectResult(await refund(fake, { type: "Refund", tid: payment.tid, msg: "cancel" }), "00");
    assert.match(first.cancelDate, /^\d{8}$/);
    assert.match(first.cancelTime, /^\d{6}$/);
    expectResult(await refund(fake, { type: "Refund", tid: payment.tid, msg: "cancel" }), "05", /already/);
    const stats = await fakeStats(fake);
    assert.equal(stats.refunds, before + 1);
    assert.ok(stats.refund_repeats >= 1);
    const found = expectResult(await inquiry(fake, { tid: payment.tid }), "00");
    assert.equal(found.status, "refunded");
    assert.equal(found.remains, 0);
    assert.equal(found.refunds.length, 1);
  });

  test("a partial refund needs the remaining amount as confirmPrice", async () => {
    const payment = await inicisCardPayment(fake, { price: 10_000 });
    const partial = (price, confirmPrice) =>
      refund(fake, { type: "PartialRefund", tid: payment.tid, price: String(price), confirmPrice: String(confirmPrice), msg: "part" });
    expectResult(await partial(3_000, 10_000), "06", /7000/);
    expectResult(await partial(12_000, 0), "07");
    const first = expectResult(await partial(3_000, 7_000), "00");
    assert.equal(first.prtcTid, payment.tid);
    assert.equal(first.prtcPrice, 3_000);
    assert.equal(first.prtcRemains, 7_000);
    assert.equal(first.prtcCnt, 1);
    assert.notEqual(first.tid, payment.tid);
    // The same request again names a remaining amount that is no longer true.
    expectResult(await partial(3_000, 7_000), "06", /4000/);
    const last = expectResult(await partial(7_000, 0), "00");
    assert.equal(last.prtcRemains, 0);
    const found = expectResult(await inquiry(fake, { tid: payment.tid }), "00");
    assert.equal(found.status, "refunded");
    assert.deepEqual(found.refunds.map((r) => r.price), [3_000, 7_000]);
  });

  test("a paid virtual account is refunded to an encrypted account only", async () => {
    const issued = await fakeRequest(fake, "POST", "/internal/vbanks",
      { body: JSON.stringify({ moid: `order-${randomUUID()}`, price: 20_000 }) });
    assert.equal(issued.status, 201, issued.text);
    const paid = await fakeRequest(fake, "PUT", `/internal/vbanks/${issued.json.tid}/deposit`);
    assert.equal(paid.status, 200, paid.text);
    const fields = { type: "PartialRefund", paymethod: "Vacct", tid: issued.json.tid, price: "5000", confirmPrice: "15000",
      refundBankCode: "88", refundAcctName: "홍길동" };
    expectResult(await refund(fake, fields), "09", /refundAcctNum/);
    expectResult(await refund(fake, { ...fields, refundAcctNum: inicisEncrypt("not digits") }), "09");
    // Encrypted with another IV: not the merchant's account number.
    expectResult(await refund(fake, { ...fields, refundAcctNum: inicisEncrypt("110123456789", FAKE_INICIS.key, "0000000000000000") }), "09");
    const ok = expectResult(await refund(fake, { ...fields, refundAcctNum: inicisEncrypt("110123456789") }), "00");
    assert.equal(ok.prtcRemains, 15_000);
  });

  test("the refused card number is declined, and a card that is not charges", async () => {
    const refused = await fakeRequest(fake, "POST", "/internal/payments", { body: JSON.stringify({
      moid: `order-${randomUUID()}`, price: 1_000, cardNumber: FAKE_INICIS.refusedCard }) });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.json.resultCode, "08");
    const billKey = await issueBillkey(fake, FAKE_INICIS.refusedCard);
    expectResult(await charge(fake, billKey, `order-${randomUUID()}`), "08", /declined/);
    assert.ok((await fakeStats(fake)).card_refusals >= 2);
  });

  test("a billing charge is made once per moid; a repeat gets the first answer", async () => {
    const billKey = await issueBillkey(fake, "4111111111111111");
    const moid = `order-${randomUUID()}`;
    const before = await fakeStats(fake);
    const first = expectResult(await charge(fake, billKey, moid), "00");
    assert.equal(first.price, 9_900);
    assert.match(first.tid, /^.{40}$/);
    assert.match(first.payDate, /^\d{8}$/);
    const again = expectResult(await charge(fake, billKey, moid), "00");
    assert.deepEqual(again, first);
    const stats = await fakeStats(fake);
    assert.equal(stats.charges, before.charges + 1);
    assert.equal(stats.charge_replays, before.charge_replays + 1);
    const found = expectResult(await inquiry(fake, { moid }), "00");
    assert.equal(found.tid, first.tid);
    assert.equal(found.status, "paid");
    assert.equal(found.cardNum, "411111******1111");
    assert.equal(found.cardNumber, undefined);
    // A billing key the fake never issued.
    expectResult(await charge(fake, "unknown-billkey", `order-${randomUUID()}`), "04");
    // The hash covers price: a changed price with the old hash is refused.
    const fields = { type: "Billing", moid: `order-${randomUUID()}`, billKey, price: "100", goodName: "x", buyerName: "y",
      paymethod: "Card", timestamp: "20260101000000", clientIp: "127.0.0.1", mid: FAKE_INICIS.mid };
    expectResult(await billing(fake, { ...fields, price: "99999", hashData: inicisHash(fields) }), "02");
  });

  test("billing rules decline charges as a refused card (08): no payment, counted", async () => {
    await checkBillingControl(fake);
    const billKey = await issueBillkey(fake, "4111111111111111");
    const before = await fakeStats(fake);

    assert.deepEqual(await setFakeBilling(fake, { fail_next: 2 }), { fail_next: 2, refuse_amount: 0 });
    for (let i = 0; i < 2; i++) {
      const moid = `order-${randomUUID()}`;
      expectResult(await charge(fake, billKey, moid), "08", /declined/);
      // Nothing was charged: there is no payment to find or refund.
      expectResult(await inquiry(fake, { moid }), "04");
    }
    expectResult(await charge(fake, billKey, `order-${randomUUID()}`), "00");
    assert.equal((await fakeBilling(fake)).fail_next, 0);

    await setFakeBilling(fake, { refuse_amount: 7_700 });
    expectResult(await charge(fake, billKey, `order-${randomUUID()}`, 7_700), "08");
    expectResult(await charge(fake, billKey, `order-${randomUUID()}`, 7_701), "00");
    await setFakeBilling(fake, { refuse_amount: 0 });
    expectResult(await charge(fake, billKey, `order-${randomUUID()}`, 7_700), "00");
    // An unknown billing key is refused whatever the rules, and uses none of them.
    await setFakeBilling(fake, { fail_next: 1 });
    expectResult(await charge(fake, "unknown-billkey", `order-${randomUUID()}`), "04");
    assert.equal((await fakeBilling(fake)).fail_next, 1);
    await setFakeBilling(fake, { fail_next: 0 });

    const stats = await fakeStats(fake);
    assert.equal(stats.billing_charges, before.billing_charges + 3);
    assert.equal(stats.billing_refusals, before.billing_refusals + 3);
    assert.equal(stats.charges, before.charges + 3);
  });

  test("inquiry finds a payment by tid or by moid, and says when none", async () => {
    const payment = await inicisCardPayment(fake, { price: 4_000 });
    const byTid = expectResult(await inquiry(fake, { tid: payment.tid }), "00");
    assert.equal(byTid.moid, payment.moid);
    assert.equal(byTid.price, 4_000);
    assert.equal(byTid.paymethod, "Card");
    const byMoid = expectResult(await inquiry(fake, { moid: payment.moid }), "00");
    assert.equal(byMoid.tid, payment.tid);
    expectResult(await inquiry(fake, { tid: "StdpayCARDINIpayTest00000000000000000000" }), "04");
    expectResult(await inquiry(fake, {}), "01");
  });

  test("a deposit to a virtual account notifies the merchant by form", async () => {
    const moid = `order-${randomUUID()}`;
    const issued = await fakeRequest(fake, "POST", "/internal/vbanks", { body: JSON.stringify({ moid, price: 33_000 }) });
    assert.equal(issued.status, 201, issued.text);
    assert.equal(issued.json.status, "ready");
    assert.match(issued.json.vacct.number, /^\d{14}$/);
    const waiting = hooks.received.length;
    const paid = await fakeRequest(fake, "PUT", `/internal/vbanks/${issued.json.tid}/deposit`);
    assert.equal(paid.json.status, "paid");
    await waitFor(() => hooks.received.length > waiting, 10_000, "the deposit notification");
    const note = hooks.received.at(-1);
    assert.match(note.contentType, /^application\/x-www-form-urlencoded/);
    assert.equal(note.body.no_tid, issued.json.tid);
    assert.equal(note.body.no_oid, moid);
    assert.equal(note.body.id_merchant, FAKE_INICIS.mid);
    assert.equal(note.body.type_msg, "0200");
    assert.equal(note.body.amt_input, "33000");
    assert.equal(note.body.no_vacct, issued.json.vacct.number);
    // A second deposit to the same account is refused and notifies nothing.
    const again = await fakeRequest(fake, "PUT", `/internal/vbanks/${issued.json.tid}/deposit`);
    assert.equal(again.status, 409);
  });
});

describe("fake-inicis-server settings", () => {
  test("without --strict an expired record stays readable until another is stored", async () => {
    const fake = await startFakeServer("fake-inicis-server", ["--ttl-ms", "300"]);
    try {
      const payment = await inicisCardPayment(fake);
      await sleep(700);
      expectResult(await inquiry(fake, { tid: payment.tid }), "00");
      await inicisCardPayment(fake);
      expectResult(await inquiry(fake, { tid: payment.tid }), "04");
    } finally {
      await stopFake(fake);
    }
  });

  test("--strict: records expire after --ttl-ms, read or not", async () => {
    const fake = await startFakeServer("fake-inicis-server", ["--ttl-ms", "300", "--strict"]);
    try {
      const payment = await inicisCardPayment(fake);
      expectResult(await inquiry(fake, { tid: payment.tid }), "00");
      await sleep(700);
      expectResult(await inquiry(fake, { tid: payment.tid }), "04");
      expectResult(await refund(fake, { type: "Refund", tid: payment.tid }), "04");
    } finally {
      await stopFake(fake);
    }
  });

  test("--help names the merchant settings without their values; a bad IV exits 2", () => {
    const help = spawnSync(binary("fake-inicis-server"), ["--help"], { encoding: "utf8" });
    assert.equal(help.status, 0);
    for (const option of ["--merchant-id", "--key", "--iv", "--refused-card", "--refuse-amount", "/fake/billing",
      "FAKE_INICIS_IV", "40571", "INIpayTest"])
      assert.ok(help.stdout.includes(option), `--help does not mention ${option}`);
    for (const secret of [FAKE_INICIS.key, FAKE_INICIS.iv, FAKE_INICIS.refusedCard])
      assert.ok(!help.stdout.includes(secret), "--help prints a credential");
    const bad = spawnSync(binary("fake-inicis-server"), ["--iv", "short"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--iv must be 16 characters/);
    // The other fakes have no merchant settings.
    const toss = spawnSync(binary("fake-toss-payments-server"), ["--merchant-id", "x"], { encoding: "utf8" });
    assert.equal(toss.status, 2);
    assert.match(toss.stderr, /unknown option --merchant-id/);
  });

  test("--refuse-amount declines every billing charge of that amount from the start", async () => {
    const fake = await startFakeServer("fake-inicis-server", ["--refuse-amount", "4400"]);
    try {
      assert.deepEqual(await fakeBilling(fake), { fail_next: 0, refuse_amount: 4_400 });
      const billKey = await issueBillkey(fake, "4111111111111111");
      expectResult(await charge(fake, billKey, `order-${randomUUID()}`, 4_400), "08");
      expectResult(await charge(fake, billKey, `order-${randomUUID()}`, 4_401), "00");
    } finally {
      await stopFake(fake);
    }
  });

  test("its own merchant id, key and IV are the ones it checks", async () => {
    const mid = "OtherShop1";
    const key = "abcdefghijklmnop";
    const fake = await startFakeServer("fake-inicis-server", [], {
      FAKE_INICIS_MERCHANT_ID: mid, FAKE_INICIS_KEY: key, FAKE_INICIS_IV: "ponmlkjihgfedcba" });
    try {
      const payment = await inicisCardPayment(fake);
      expectResult(await refund(fake, { type: "Refund", tid: payment.tid }), "03");
      const fields = { type: "Refund", tid: payment.tid, mid, paymethod: "Card", timestamp: "20260101000000", clientIp: "127.0.0.1" };
      expectResult(await refund(fake, { ...fields, hashData: inicisHash(fields) }), "02");
      expectResult(await refund(fake, { ...fields, hashData: inicisHash(fields, key) }), "00");
    } finally {
      await stopFake(fake);
    }
  });
});
