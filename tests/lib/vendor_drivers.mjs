// How each vendor makes payments on its fake, through the vendor's real SDK
// (iamport-server-api, toss-payments-server-api; Inicis has none, its fake's
// own routes stand in): card payments, virtual accounts and their deposit,
// billing keys. Shared by the end-to-end tests.
import path from "node:path";
import imp from "iamport-server-api";
import toss from "toss-payments-server-api";

import { loadDocument } from "./openapi.mjs";
import { sourceDir } from "./process.mjs";
import { registerSecret } from "./test_logs.mjs";

export const IAMPORT_KEY = "test_imp_key";
export const IAMPORT_SECRET = "test_imp_secret";
export const TOSS_SECRET = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy";
registerSecret("iamport key", IAMPORT_KEY);
registerSecret("iamport secret", IAMPORT_SECRET);
registerSecret("Toss secret key", TOSS_SECRET);
for (const card of ["1111-2222-3333-4444", "1111222233334444", "5555-4444-3333-2222", "5555444433332222",
  "4111111111111111"])
  registerSecret("card number", card);

/** The iamport fake at host, as our server's vendor "iamport". */
export function iamportDriver(host) {
  const connector = new imp.IamportConnector(host, { imp_key: IAMPORT_KEY, imp_secret: IAMPORT_SECRET });
  const fn = imp.functional;
  const conn = () => connector.get();
  return {
    code: "iamport",
    historySchema: "IPaymentHistory.IamportType",
    reservationSchema: "IPaymentReservation.IamportType",
    refundAccount: { bank: "088", account: "110123456789", holder: "홍길동", mobile: "01012345678" },
    async card(orderId, amount) {
      const { response } = await fn.subscribe.payments.onetime(await conn(), {
        card_number: "1111-2222-3333-4444", expiry: "2028-12", birth: "880311",
        merchant_uid: orderId, amount, name: "test order",
      });
      return response.imp_uid;
    },
    async virtualAccount(orderId, amount) {
      const { response } = await fn.vbanks.create(await conn(), {
        merchant_uid: orderId, amount, vbank_code: "088", vbank_due: Math.floor(Date.now() / 1000) + 86_400,
        vbank_holder: "홍길동", name: "virtual account order", buyer_email: "buyer@example.com",
      });
      return response.imp_uid;
    },
    async deposit(uid) {
      await fn.internal.deposit(await conn(), uid);
    },
    async billingKey(customerKey) {
      const customer_uid = `customer-${customerKey}`;
      await fn.subscribe.customers.create(await conn(), customer_uid, {
        customer_uid, card_number: "5555-4444-3333-2222", expiry: "2029-12", birth: "900101", pwd_2digit: "12",
        customer_name: "홍길동", customer_email: "someone@example.com",
      });
      return customer_uid;
    },
    /** The vendor's webhook claiming status for the payment (what a forger would send). */
    webhook(uid, orderId, status) {
      return { imp_uid: uid, merchant_uid: orderId, status };
    },
    paidStatus: "paid",
  };
}

/** The Toss fake at host, as our server's vendor "toss.payments". */
export function tossDriver(host) {
  const connection = { host, headers: { Authorization: `Basic ${Buffer.from(`${TOSS_SECRET}:`).toString("base64")}` } };
  const fn = toss.functional;
  return {
    code: "toss.payments",
    historySchema: "IPaymentHistory.TossType",
    reservationSchema: "IPaymentReservation.TossType",
    refundAccount: { bank: "국민", account: "12345678901234", holder: "홍길동", mobile: "01012345678" },
    // Awaiting approval, so that recording it exercises the confirm call.
    async card(orderId, amount) {
      const payment = await fn.v1.payments.key_in(connection, {
        method: "card", cardNumber: "1111222233334444", cardExpirationYear: "28", cardExpirationMonth: "03",
        orderId, orderName: "test order", amount, __approved: false,
      });
      return payment.paymentKey;
    },
    async virtualAccount(orderId, amount) {
      const payment = await fn.v1.virtual_accounts.create(connection, {
        method: "virtual-account", orderId, orderName: "virtual account order", bank: "신한",
        customerName: "홍길동", amount,
      });
      return payment.paymentKey;
    },
    async deposit(uid) {
      await fn.internal.deposit(connection, uid);
    },
    async billingKey(customerKey) {
      const billing = await fn.v1.billing.authorizations.card.create(connection, {
        customerKey, cardNumber: "5555444433332222", cardExpirationYear: "29", cardExpirationMonth: "12",
        cardPassword: "12", customerBirthday: "900101", customerEmail: "someone@example.com",
      });
      return billing.billingKey;
    },
    /** The payment's status at the vendor (iamport's driver has none: it never awaits approval). */
    async status(uid) {
      return (await fn.v1.payments.at(connection, uid)).status;
    },
    webhook(uid, orderId, status) {
      return { eventType: "PAYMENT_STATUS_CHANGED", data: { paymentKey: uid, orderId, status } };
    },
    paidStatus: "DONE",
  };
}

/** A JSON call of the fake Inicis' own routes: the answer's JSON, or throws. */
async function inicisInternal(host, method, path, body) {
  const response = await fetch(`${host}${path}`, {
    method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`fake Inicis ${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** The Inicis fake at host, as our server's vendor "inicis". There is no
 * Inicis SDK: what the buyer does in Inicis' payment window is done with the
 * fake's own routes (/internal/). Its schemas are our contract's
 * (docs/openapi.json), since the original's vendor union has no Inicis. */
export function inicisDriver(host) {
  return {
    code: "inicis",
    contract: loadDocument(path.join(sourceDir, "docs", "openapi.json"), "docs/openapi.json"),
    historySchema: "IPaymentHistory.InicisType",
    reservationSchema: "IPaymentReservation.InicisType",
    // Inicis takes a two-digit bank code and the holder's name.
    refundAccount: { bank: "88", account: "110123456789", holder: "Hong", mobile: "01012345678" },
    async card(orderId, amount) {
      return (await inicisInternal(host, "POST", "/internal/payments",
        { moid: orderId, price: amount, cardNumber: "4111111111111111" })).tid;
    },
    async virtualAccount(orderId, amount) {
      return (await inicisInternal(host, "POST", "/internal/vbanks", { moid: orderId, price: amount })).tid;
    },
    async deposit(uid) {
      await inicisInternal(host, "PUT", `/internal/vbanks/${encodeURIComponent(uid)}/deposit`);
    },
    async billingKey(customerKey) {
      return (await inicisInternal(host, "POST", "/internal/billkeys",
        { cardNumber: "4111111111111111", buyerName: customerKey })).billKey;
    },
    /** Inicis' deposit notification (a form, as fields) for the payment;
     * Inicis notifies deposits only, so status is not sent. */
    webhook(uid, orderId) {
      return { no_tid: uid, no_oid: orderId, id_merchant: "INIpayTest", type_msg: "0200" };
    },
    webhookContentType: "application/x-www-form-urlencoded",
    paidStatus: "paid",
  };
}
