// Helpers the conformance tests of the fake vendors share: start a fake on a
// free port and stop it cleanly, listen for its webhooks, send the requests an
// SDK cannot, and check that an SDK call failed with an error document; ask
// a fake for its counters, make it slow, and make payments with raw calls.
import assert from "node:assert/strict";
import { createCipheriv, createHash, randomUUID } from "node:crypto";
import http from "node:http";

import { binary, freePort, start, waitForPort } from "./process.mjs";
import { registerSecret } from "./test_logs.mjs";

/** Starts the fake binary name on a free port; returns {proc, port, host}. */
export async function startFakeServer(name, args = [], env = {}) {
  const port = await freePort();
  const proc = start(binary(name), ["--port", String(port), ...args], { env });
  await waitForPort(port);
  return { proc, port, host: `http://127.0.0.1:${port}` };
}

/** Stops the fake with TERM and checks that it stopped cleanly (exit 0: no
 * crash, and no leak report under the sanitizer build). */
export async function stopFake(fake) {
  const { code, signal } = await fake.proc.stop("SIGTERM");
  assert.equal(signal, null, `fake died by ${signal}:\n${fake.proc.log()}`);
  assert.equal(code, 0, `fake exited with ${code}:\n${fake.proc.log()}`);
}

/** A webhook listener on 127.0.0.1 at path that keeps every document it
 * receives and answers each with status. */
export async function startWebhookListener(path, status) {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      const contentType = req.headers["content-type"] ?? "";
      // Inicis notifies by form, the others by JSON.
      const parsed = contentType.startsWith("application/x-www-form-urlencoded")
        ? Object.fromEntries(new URLSearchParams(body)) : JSON.parse(body);
      received.push({ method: req.method, contentType, body: parsed });
      res.writeHead(status).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}${path}`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A raw request to the fake, for what an SDK cannot send (bad JSON, odd
 * headers); returns {status, text, json} (json null when the answer is not). */
export async function fakeRequest(fake, method, path, { body, headers = {} } = {}) {
  const response = await fetch(`http://127.0.0.1:${fake.port}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, text, json };
}

/** Expects the SDK call to fail with an HttpError of the SDK, the given
 * status and a JSON error document with a message; check(body) then looks
 * at the vendor's own fields. */
export async function expectVendorError(promise, HttpError, status, check) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof HttpError, `not an HttpError: ${error}`);
    assert.equal(error.status, status, `status ${error.status}: ${error.message}`);
    const body = JSON.parse(error.message);
    assert.ok(typeof body.message === "string" && body.message.length > 0, "error without a message");
    check(body);
    return true;
  });
}

/** The fake's counters of effects (GET /fake/stats): {cancels, confirms,
 * charges, idempotent_replays, ..., held_answers}. */
export async function fakeStats(fake) {
  const { status, json } = await fakeRequest(fake, "GET", "/fake/stats");
  assert.equal(status, 200, "GET /fake/stats");
  return json;
}

/** Holds the answers of the fake's routes whose path contains match for ms
 * (PUT /fake/latency; {ms: 0} clears); returns the fake's latency setting. */
export async function setFakeLatency(fake, rule) {
  const { status, json, text } = await fakeRequest(fake, "PUT", "/fake/latency", { body: JSON.stringify(rule) });
  assert.equal(status, 200, `PUT /fake/latency: ${text}`);
  return json;
}

/** Makes the fake decline billing-key charges (PUT /fake/billing):
 * {fail_next: N} the next N, {refuse_amount: X} every one of X (0 clears);
 * returns the rules as they stand, {fail_next, refuse_amount}. */
export async function setFakeBilling(fake, rules) {
  const { status, json, text } = await fakeRequest(fake, "PUT", "/fake/billing", { body: JSON.stringify(rules) });
  assert.equal(status, 200, `PUT /fake/billing: ${text}`);
  return json;
}

/** The billing rules the fake holds (GET /fake/billing). */
export async function fakeBilling(fake) {
  const { status, json, text } = await fakeRequest(fake, "GET", "/fake/billing");
  assert.equal(status, 200, `GET /fake/billing: ${text}`);
  return json;
}

/** Checks what every fake's /fake/billing shares: bad bodies are refused
 * with 400 and change nothing, and the rules read back as set. */
export async function checkBillingControl(fake) {
  assert.deepEqual(await fakeBilling(fake), { fail_next: 0, refuse_amount: 0 });
  for (const body of ['{"fail_nxt": 1}', '{"fail_next": -1}', '{"refuse_amount": 1.5}', "{}", "[]", "not json",
    '{"fail_next": 1, "refuse_amount": "500"}', '{"fail_next": 1000001}']) {
    const answer = await fakeRequest(fake, "PUT", "/fake/billing", { body });
    assert.equal(answer.status, 400, `${body}: ${answer.text}`);
  }
  assert.deepEqual(await fakeBilling(fake), { fail_next: 0, refuse_amount: 0 });
  assert.deepEqual(await setFakeBilling(fake, { refuse_amount: 500 }), { fail_next: 0, refuse_amount: 500 });
  assert.deepEqual(await setFakeBilling(fake, { fail_next: 3 }), { fail_next: 3, refuse_amount: 500 });
  assert.deepEqual(await setFakeBilling(fake, { fail_next: 0, refuse_amount: 0 }), { fail_next: 0, refuse_amount: 0 });
}

/** The secret key the fake Toss accepts by default. */
export const FAKE_TOSS_SECRET = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy";
registerSecret("Toss secret key", FAKE_TOSS_SECRET);
registerSecret("iamport key", "test_imp_key");
registerSecret("iamport secret", "test_imp_secret");
for (const card of ["1111-2222-3333-4444", "1111222233334444"]) registerSecret("card number", card);

/** A raw request to the fake Toss with a secret key (by default its own) and,
 * when given, an Idempotency-Key; body is sent as JSON. */
export function tossRequest(fake, method, path, body, { key, secret = FAKE_TOSS_SECRET } = {}) {
  const headers = { Authorization: `Basic ${Buffer.from(`${secret}:`).toString("base64")}` };
  if (key !== undefined) headers["Idempotency-Key"] = key;
  return fakeRequest(fake, method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers });
}

/** A card payment made at the fake Toss (key-in), paid unless overrides say
 * __approved: false. */
export async function tossCardPayment(fake, overrides = {}) {
  const { status, json, text } = await tossRequest(fake, "POST", "/v1/payments/key-in", {
    method: "card", cardNumber: "1111222233334444", cardExpirationYear: "28", cardExpirationMonth: "03",
    orderId: `order-${randomUUID()}`, orderName: "test order", amount: 10_000, ...overrides,
  });
  assert.equal(status, 201, `key-in: ${text}`);
  return json;
}

/** A raw client of the fake iamport with a fresh access token:
 * (method, path, body) => {status, text, json}. */
export async function iamportClient(fake) {
  const got = await fakeRequest(fake, "POST", "/users/getToken",
    { body: JSON.stringify({ imp_key: "test_imp_key", imp_secret: "test_imp_secret" }) });
  assert.equal(got.status, 201, `getToken: ${got.text}`);
  const token = got.json.response.access_token;
  return (method, path, body) =>
    fakeRequest(fake, method, path, { body: body && JSON.stringify(body), headers: { Authorization: token } });
}

/** A card payment made at the fake iamport (subscribe/payments/onetime), paid. */
export async function iamportCardPayment(iamport, overrides = {}) {
  const { status, json, text } = await iamport("POST", "/subscribe/payments/onetime", {
    card_number: "1111-2222-3333-4444", expiry: "2028-12", birth: "880311",
    merchant_uid: `order-${randomUUID()}`, amount: 10_000, name: "test order", ...overrides,
  });
  assert.equal(status, 201, `onetime: ${text}`);
  return json.response;
}

/** KG Inicis' published test merchant, INIAPI key and IV: the fake Inicis'
 * defaults. */
export const FAKE_INICIS = { mid: "INIpayTest", key: "ItEQKi3rY7uvDS8l", iv: "HYb3yQ4f65QL89==", refusedCard: "4000000000000002" };
registerSecret("INIAPI key", FAKE_INICIS.key);
registerSecret("INIAPI IV", FAKE_INICIS.iv);
for (const card of ["4000000000000002", "4111111111111111"]) registerSecret("card number", card);

/** The fields hashData covers after the key, per INIAPI type, in order. */
export const INICIS_HASHED = {
  Refund: ["type", "paymethod", "timestamp", "clientIp", "mid", "tid", "refundAcctNum"],
  PartialRefund: ["type", "paymethod", "timestamp", "clientIp", "mid", "tid", "price", "confirmPrice", "refundAcctNum"],
  Billing: ["type", "paymethod", "timestamp", "clientIp", "mid", "moid", "price", "billKey"],
  Inquiry: ["type", "paymethod", "timestamp", "clientIp", "mid", "tid", "moid"],
};

/** hex SHA-512 of the key and the type's fields (absent ones: ""). */
export function inicisHash(fields, key = FAKE_INICIS.key) {
  const text = key + INICIS_HASHED[fields.type].map((name) => fields[name] ?? "").join("");
  return createHash("sha512").update(text, "utf8").digest("hex");
}

/** An [ENC] field: base64 of AES-128-CBC with the INIAPI key and IV. */
export function inicisEncrypt(plain, key = FAKE_INICIS.key, iv = FAKE_INICIS.iv) {
  const cipher = createCipheriv("aes-128-cbc", Buffer.from(key), Buffer.from(iv));
  return Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]).toString("base64");
}

/** "20261203173000", the form of INIAPI's timestamp. */
const inicisTimestamp = () => new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);

/** An INIAPI call: the common fields and hashData are added unless fields
 * name them; sent as a form. Returns {status, text, json}. */
export function inicisRequest(fake, path, fields) {
  const full = { paymethod: "Card", timestamp: inicisTimestamp(), clientIp: "127.0.0.1", mid: FAKE_INICIS.mid, ...fields };
  if (full.hashData === undefined) full.hashData = inicisHash(full);
  const form = new URLSearchParams(Object.entries(full).filter(([, value]) => value !== undefined));
  return fakeRequest(fake, "POST", path,
    { body: form.toString(), headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" } });
}

/** A paid card payment at the fake Inicis (test helper route); returns the record. */
export async function inicisCardPayment(fake, overrides = {}) {
  const { status, json, text } = await fakeRequest(fake, "POST", "/internal/payments", {
    body: JSON.stringify({ moid: `order-${randomUUID()}`, price: 10_000, cardNumber: "4111111111111111", ...overrides }),
  });
  assert.equal(status, 201, `card payment: ${text}`);
  return json;
}
