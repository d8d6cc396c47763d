// Our own Idempotency-Key (Stripe's semantics) on POST /payments/histories,
// PUT /payments/histories/cancel and POST /payments/reservations, against
// the real server, both fakes and PostgreSQL: a retry gets the first answer
// byte for byte with no second vendor call, concurrent duplicates get 409,
// another body 422; a key is bound to its source and password; 5xx answers
// release the key; keys expire; a key left in flight by a killed worker is
// free again once its lease ends. Requests without the header are untouched.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

import { query } from "../lib/database.mjs";
import {
  fakeStats, iamportClient, setFakeLatency, startFakeServer, stopFake, tossRequest,
} from "../lib/fakes.mjs";
import { binary, sleep, waitFor } from "../lib/process.mjs";
import { errorOf, newSource, replayed, send } from "../lib/keyed_request.mjs";
import { baseEnv, decryptBody, sdkConnection, startServer, stopCleanly } from "../lib/server.mjs";
import { iamportDriver, tossDriver } from "../lib/vendor_drivers.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const STORE_ID = "idempotency-store";
const PASSWORD = "secret-password";
registerSecret("record password", PASSWORD);
const WEBHOOK_URL = "http://127.0.0.1:9/payments/webhook";
// The short server: vendor calls time out after a second, answers are kept
// two seconds, and a key in flight is held 3 x 1 s + 10 s.
const SHORT_VENDOR_TIMEOUT_MS = 1_000;
const SHORT_TTL_MS = 2_000;
const SHORT_LEASE_MS = 3 * SHORT_VENDOR_TIMEOUT_MS + 10_000;

/** Sends the request of first again with its key and checks that the answer
 * is first's, replayed: status, content type and the same bytes. */
async function expectReplay(server, method, path, value, key, first) {
  const again = await send(server, method, path, value, key);
  assert.equal(again.status, first.status, again.body);
  assert.ok(replayed(again), "not a replay");
  assert.equal(again.body, first.body);
  assert.equal(again.headers["content-type"], first.headers["content-type"]);
}

describe("Idempotency-Key of our API", () => {
  const fakes = {};
  const drivers = {};
  let server; // two workers, default settings
  let short; // one worker, short vendor timeout and TTL
  let connection;

  before(async () => {
    fakes.iamport = await startFakeServer("fake-iamport-server");
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    const vendors = { PAYMENT_IAMPORT_URL: fakes.iamport.host, PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host };
    server = await startServer({ env: vendors });
    short = await startServer({
      workers: 1,
      env: {
        ...vendors,
        PAYMENT_VENDOR_TIMEOUT_MS: String(SHORT_VENDOR_TIMEOUT_MS),
        PAYMENT_IDEMPOTENCY_TTL: `${SHORT_TTL_MS / 1000}s`,
      },
    });
    connection = sdkConnection(server);
    drivers.iamport = iamportDriver(fakes.iamport.host);
    drivers.toss = tossDriver(fakes.toss.host);
  });

  after(async () => {
    for (const s of [server, short]) if (s) await stopCleanly(s);
    for (const fake of Object.values(fakes)) await stopFake(fake);
  });

  /** A card payment at the vendor, recorded without a key. */
  const recorded = async (vendor, price = 10_000) => {
    const source = newSource();
    const uid = await vendor.card(source.id, price);
    const history = await api.histories.create(connection, {
      vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, price, password: PASSWORD,
      webhook_url: WEBHOOK_URL,
    });
    return { source, uid, history };
  };

  /** The cancels the vendor holds for a payment: [{amount}]. */
  const vendorCancels = async (name, uid) => {
    if (name === "iamport") {
      const iamport = await iamportClient(fakes.iamport);
      const { json } = await iamport("GET", `/payments/${uid}`);
      return json.response.cancel_history.map((c) => ({ amount: c.amount }));
    }
    const { json } = await tossRequest(fakes.toss, "GET", `/v1/payments/${uid}`);
    return json.cancels.map((c) => ({ amount: c.cancelAmount }));
  };

  /** A new billing key at the vendor, as the body that records it. */
  const reservationBody = async (vendor) => {
    const source = newSource();
    const uid = await vendor.billingKey(source.id);
    return { vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, title: "plan", password: PASSWORD };
  };

  /** A billing key recorded on target with a new key, and the replay of
   * that request checked: {body, key, first}. */
  const reservedWithKey = async (target, vendor) => {
    const body = await reservationBody(vendor);
    const key = randomUUID();
    const first = await send(target, "POST", "/payments/reservations", body, key);
    assert.equal(first.status, 201, first.body);
    await expectReplay(target, "POST", "/payments/reservations", body, key, first);
    return { body, key, first };
  };

  const cancelBody = (source, price, password = PASSWORD) =>
    ({ source, password, price, reason: "idempotent cancel", account: null });

  for (const name of ["iamport", "toss"]) {
    test(`${name}: 20 concurrent cancels with one key make one refund; the retry answers the first bytes`, async () => {
      const vendor = drivers[name];
      const { source, uid, history } = await recorded(vendor);
      const before = (await fakeStats(fakes[name])).cancels;
      const key = `cancel-${randomUUID()}`;
      const body = cancelBody(source, 3_000);
      // The vendor's answer is held, so that every duplicate arrives while the first is in flight.
      await setFakeLatency(fakes[name], { ms: 600, match: "/cancel" });
      let answers;
      try {
        answers = await Promise.all(Array.from({ length: 20 }, () => send(server, "PUT", "/payments/histories/cancel", body, key)));
      } finally {
        await setFakeLatency(fakes[name], { ms: 0 });
      }
      const first = answers.filter((res) => res.status === 200 && !replayed(res));
      assert.equal(first.length, 1, `statuses: ${answers.map((res) => res.status)}`);
      for (const res of answers) {
        if (res.status === 409) {
          assert.match(errorOf(res).message, /Idempotency-Key is still in progress/);
          assert.equal(res.headers["retry-after"], "1");
        } else {
          assert.equal(res.status, 200, res.body);
          assert.equal(res.body, first[0].body, "a 200 that is not the first answer");
        }
      }
      assert.ok(answers.some((res) => res.status === 409), "no duplicate found the first in flight");
      const cancelled = await decryptBody(first[0].body, server.env);
      assert.equal(cancelled.id, history.id);
      assert.equal(cancelled.refund, 3_000);
      assert.equal((await fakeStats(fakes[name])).cancels - before, 1, "refunds at the fake");
      assert.deepEqual(await vendorCancels(name, uid), [{ amount: 3_000 }]);

      // The same request afterwards: the first answer, byte for byte, and still one refund.
      await expectReplay(server, "PUT", "/payments/histories/cancel", body, key, first[0]);
      assert.equal((await fakeStats(fakes[name])).cancels - before, 1);
      const read = await api.histories.get(connection, { ...source, password: PASSWORD });
      assert.equal(read.refund, 3_000);
      assert.equal(read.cancels.length, 1);

      // The same key with another body: 422, and no vendor call.
      const other = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, 2_000), key);
      assert.equal(other.status, 422, other.body);
      assert.match(errorOf(other).message, /Idempotency-Key was used with another request body/);
      assert.equal((await fakeStats(fakes[name])).cancels - before, 1);
    });
  }

  test("a key is bound to its source and password: elsewhere it is a key of its own", async () => {
    const vendor = drivers.iamport;
    const mine = await recorded(vendor);
    const theirs = await recorded(vendor);
    const key = `shared-${randomUUID()}`;
    const first = await send(server, "PUT", "/payments/histories/cancel", cancelBody(mine.source, 1_000), key);
    assert.equal(first.status, 200, first.body);
    // Another service's payment, same header value and body shape: it runs, on its own payment.
    const other = await send(server, "PUT", "/payments/histories/cancel", cancelBody(theirs.source, 1_000), key);
    assert.equal(other.status, 200, other.body);
    assert.ok(!replayed(other));
    assert.notEqual(other.body, first.body);
    assert.equal((await decryptBody(other.body, server.env)).id, theirs.history.id);
    // The same source with a wrong password reads nothing of the first answer: 403.
    const guess = await send(server, "PUT", "/payments/histories/cancel", cancelBody(mine.source, 1_000, "guess"), key);
    assert.equal(guess.status, 403, guess.body);
    assert.ok(!replayed(guess));
    assert.deepEqual(await vendorCancels("iamport", mine.uid), [{ amount: 1_000 }]);
    assert.deepEqual(await vendorCancels("iamport", theirs.uid), [{ amount: 1_000 }]);
  });

  for (const name of ["iamport", "toss"]) {
    test(`${name}: POST /payments/histories with a key is replayed, with one confirm`, async () => {
      const vendor = drivers[name];
      const source = newSource();
      const uid = await vendor.card(source.id, 12_000);
      const confirms = (await fakeStats(fakes[name])).confirms ?? 0;
      const body = { vendor: { code: vendor.code, store_id: STORE_ID, uid }, source, price: 12_000,
        password: PASSWORD, webhook_url: WEBHOOK_URL };
      const key = randomUUID();
      const first = await send(server, "POST", "/payments/histories", body, key);
      assert.equal(first.status, 201, first.body);
      await expectReplay(server, "POST", "/payments/histories", body, key, first);
      const history = await decryptBody(first.body, server.env);
      assert.deepEqual(await api.histories.at(connection, history.id, { password: PASSWORD }), history);
      if (name === "toss") assert.equal((await fakeStats(fakes.toss)).confirms - confirms, 1, "confirms at the fake");
      // Without the key, the same body is a new request: the source is taken.
      const unkeyed = await send(server, "POST", "/payments/histories", body);
      assert.equal(unkeyed.status, 409, unkeyed.body);
    });
  }

  test("POST /payments/reservations with a key is replayed; a refusal (4xx) is replayed too", async () => {
    const { body, key } = await reservedWithKey(server, drivers.toss);

    // An unknown billing key is refused (422); the refusal is kept for the key.
    const unknown = { ...body, source: newSource(), vendor: { ...body.vendor, uid: `unknown-${randomUUID()}` } };
    const refused = await send(server, "POST", "/payments/reservations", unknown, key);
    assert.equal(refused.status, 422, refused.body);
    assert.ok(!replayed(refused));
    await expectReplay(server, "POST", "/payments/reservations", unknown, key, refused);
  });

  test("malformed keys are refused with 400 naming the header; invalid input is never kept", async () => {
    const { source } = await recorded(drivers.iamport);
    for (const key of ["", "x".repeat(256), "tab\there"]) {
      const res = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, 1_000), key);
      assert.equal(res.status, 400, `key ${JSON.stringify(key)}: ${res.body}`);
      assert.match(errorOf(res).message, /Idempotency-Key must be 1 to 255 printable ASCII characters/);
    }
    const longest = "k".repeat(255);
    const ok = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, 1_000), longest);
    assert.equal(ok.status, 200, ok.body);
    // A body that fails validation is answered before the key is looked at,
    // so fixing it with the same key runs.
    const key = randomUUID();
    const invalid = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, -5), key);
    assert.equal(invalid.status, 400, invalid.body);
    const fixed = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, 500), key);
    assert.equal(fixed.status, 200, fixed.body);
    assert.ok(!replayed(fixed));
  });

  test("without the header nothing is kept and nothing is replayed", async () => {
    const { source } = await recorded(drivers.toss);
    const schema = server.env.PAYMENT_POSTGRES_SCHEMA;
    const count = async () => (await query(schema, "SELECT key FROM payment_idempotency_keys")).length;
    const rows = await count();
    const a = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, 1_000));
    const b = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, 1_000));
    assert.equal(a.status, 200, a.body);
    assert.equal(b.status, 200, b.body);
    assert.ok(!replayed(a) && !replayed(b));
    assert.equal((await decryptBody(b.body, server.env)).refund, 2_000, "two requests, two cancels");
    assert.equal(await count(), rows);
  });

  test("stored rows hold neither the header, the password nor plaintext", async () => {
    const { source } = await recorded(drivers.iamport);
    const key = `visible-${randomUUID()}`;
    const res = await send(server, "PUT", "/payments/histories/cancel", cancelBody(source, 1_000), key);
    assert.equal(res.status, 200, res.body);
    const rows = await query(server.env.PAYMENT_POSTGRES_SCHEMA,
      "SELECT key, body_hash, status, content_type, body FROM payment_idempotency_keys WHERE body = :'body'",
      { body: res.body });
    assert.equal(rows.length, 1);
    const text = JSON.stringify(rows[0]);
    for (const secret of [key, PASSWORD, source.id]) assert.ok(!text.includes(secret), `a row holds ${secret}`);
    assert.match(rows[0].key, /^[0-9a-f]{64}$/);
    assert.equal(rows[0].status, 200);
  });

  test("a 5xx releases the key: the retry runs again", async () => {
    const vendor = drivers.iamport;
    const body = await reservationBody(vendor);
    const key = randomUUID();
    await setFakeLatency(fakes.iamport, { ms: SHORT_VENDOR_TIMEOUT_MS + 1_000, match: "/subscribe/customers" });
    let timedOut;
    try {
      timedOut = await send(short, "POST", "/payments/reservations", body, key);
    } finally {
      await setFakeLatency(fakes.iamport, { ms: 0 });
    }
    assert.equal(timedOut.status, 504, timedOut.body);
    const retried = await send(short, "POST", "/payments/reservations", body, key);
    assert.equal(retried.status, 201, retried.body);
    assert.ok(!replayed(retried));
    await expectReplay(short, "POST", "/payments/reservations", body, key, retried);
  });

  test("keys expire after PAYMENT_IDEMPOTENCY_TTL, and expired keys are purged", async () => {
    const vendor = drivers.toss;
    const { body, key } = await reservedWithKey(short, vendor);
    await sleep(SHORT_TTL_MS + 500);
    // Expired: the request runs again, and finds its reservation recorded.
    const later = await send(short, "POST", "/payments/reservations", body, key);
    assert.equal(later.status, 409, later.body);
    assert.ok(!replayed(later));
    await sleep(SHORT_TTL_MS + 500);
    // Another key's claim purges what expired.
    const other = await send(short, "POST", "/payments/reservations", await reservationBody(vendor), randomUUID());
    assert.equal(other.status, 201, other.body);
    const expired = await query(short.env.PAYMENT_POSTGRES_SCHEMA,
      "SELECT key FROM payment_idempotency_keys WHERE expires_at < now()");
    assert.deepEqual(expired, []);
  });

  test("a key left in flight by a killed worker is refused (409) until its lease ends, then runs", async () => {
    const vendor = drivers.iamport;
    const body = await reservationBody(vendor);
    const key = randomUUID();
    const [worker] = await short.readyPids();
    await setFakeLatency(fakes.iamport, { ms: 800, match: "/subscribe/customers" });
    const claimedAt = Date.now();
    const lost = send(short, "POST", "/payments/reservations", body, key).catch((e) => e);
    try {
      await waitFor(async () => (await fakeStats(fakes.iamport)).held_answers === 1, 5_000, "the held answer");
      process.kill(worker, "SIGKILL");
      assert.ok((await lost) instanceof Error, "the killed worker answered");
    } finally {
      await setFakeLatency(fakes.iamport, { ms: 0 });
    }
    await waitFor(async () => {
      const pids = await short.readyPids();
      return pids.length === 1 && pids[0] !== worker;
    }, 20_000, "the respawned worker");
    const blocked = await send(short, "POST", "/payments/reservations", body, key);
    assert.equal(blocked.status, 409, blocked.body);
    await sleep(Math.max(0, claimedAt + SHORT_LEASE_MS + 1_000 - Date.now()));
    const taken = await send(short, "POST", "/payments/reservations", body, key);
    assert.equal(taken.status, 201, taken.body);
    assert.ok(!replayed(taken));
  });

  test("a malformed PAYMENT_IDEMPOTENCY_TTL stops start-up with one line naming it", () => {
    for (const ttl of ["forever", "0s", "24 h", "31d"]) {
      const run = spawnSync(binary("payments-worker"), [], {
        env: { ...process.env, ...baseEnv(), PAYMENT_IDEMPOTENCY_TTL: ttl }, encoding: "utf8", timeout: 10_000,
      });
      assert.equal(run.status, 1, `${ttl}: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0], /PAYMENT_IDEMPOTENCY_TTL must be a duration/);
    }
  });
});
