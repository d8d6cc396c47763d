// A draining worker finishes its work: requests whose client already left,
// their vendor calls and database writes, and password checks on the thread
// pool. HUP (a roll) and QUIT (a graceful stop) wait for them, bounded by
// PAYMENT_DRAIN_TIMEOUT_MS; work still running past it meets closed vendors
// and database, which answer errors, and never a crash.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto, { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import http from "node:http";

import { execute } from "../lib/database.mjs";
import { fakeStats, setFakeLatency, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { sleep, waitFor } from "../lib/process.mjs";
import { startServer } from "../lib/server.mjs";
import { iamportDriver } from "../lib/vendor_drivers.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const STORE_ID = "drain-store";
const PASSWORD = "secret-password";
registerSecret("record password", PASSWORD);
const PRICE = 10_000;
const REFUND = 1_000;
const SLOW_CANCELS = 20;
const HELD_MS = 2_500;
const sanitizerReport = /AddressSanitizer|LeakSanitizer|runtime error/;

const newSource = () => ({ schema: "shopping", table: "shopping_orders", id: randomUUID() });
const connectionOf = (server) => ({
  host: server.url(""),
  encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
});

function encrypt(text, env) {
  const key = Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_KEY);
  const cipher = crypto.createCipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_IV));
  return cipher.update(text, "utf8", "base64") + cipher.final("base64");
}

/** A partial cancel on its own connection, which the caller may cut:
 * {request, answered} (answered resolves with the status, or null when the
 * connection was cut or closed before an answer). */
function sendCancel(server, source) {
  const body = encrypt(JSON.stringify({ source, password: PASSWORD, price: REFUND, reason: "drain", account: null }),
    server.env);
  const request = http.request(server.url("/payments/histories/cancel"), {
    method: "PUT", agent: false, headers: { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) },
  });
  const answered = new Promise((resolve) => {
    request.on("response", (res) => { res.resume(); res.on("end", () => resolve(res.statusCode)); });
    request.on("error", () => resolve(null));
    request.on("close", () => resolve(null));
  });
  request.end(body);
  return { request, answered };
}

/** The master's exit and everything it and its workers printed. */
async function expectCleanExit(server, exit) {
  const { code, signal } = await exit;
  const log = server.process.log();
  assert.equal(signal, null, log);
  assert.equal(code, 0, log);
  assert.doesNotMatch(log, sanitizerReport, log);
  assert.doesNotMatch(log, /killed by signal|exited with status [1-9]/, log);
  return log;
}

describe("a draining worker finishes its work", () => {
  let iamportFake;
  let tossFake;
  let driver;
  const servers = [];

  before(async () => {
    iamportFake = await startFakeServer("fake-iamport-server");
    tossFake = await startFakeServer("fake-toss-payments-server");
    driver = iamportDriver(iamportFake.host);
  });

  after(async () => {
    for (const server of servers) await server.stop("SIGKILL");
    for (const fake of [iamportFake, tossFake]) if (fake) await stopFake(fake);
  });

  const start = async (env = {}, schema = undefined) => {
    const server = await startServer({
      workers: 1, schema,
      env: { PAYMENT_IAMPORT_URL: iamportFake.host, PAYMENT_TOSS_PAYMENTS_URL: tossFake.host, ...env },
    });
    servers.push(server);
    return server;
  };

  /** count iamport payments recorded through server; returns their sources. */
  const recordPayments = async (server, count) => {
    const sources = [];
    for (let i = 0; i < count; i++) {
      const source = newSource();
      const uid = await driver.card(source.id, PRICE);
      await api.histories.create(connectionOf(server), {
        vendor: { code: "iamport", store_id: STORE_ID, uid }, source, price: PRICE, password: PASSWORD,
        webhook_url: "http://127.0.0.1:9/payments/webhook",
      });
      sources.push(source);
    }
    return sources;
  };

  /** Sends a slow cancel for every source and waits until the fake holds
   * every answer (the refunds are made: only the answers wait). */
  const slowCancels = async (server, sources, heldMs = HELD_MS) => {
    await waitFor(async () => (await fakeStats(iamportFake)).held_answers === 0, 20_000, "no answer held before");
    const before = await fakeStats(iamportFake);
    await setFakeLatency(iamportFake, { ms: heldMs, match: "/payments/cancel" });
    const cancels = sources.map((source) => sendCancel(server, source));
    await waitFor(async () => {
      const now = await fakeStats(iamportFake);
      return now.held_answers === sources.length && now.cancels - before.cancels === sources.length;
    }, 20_000, "the fake holding every cancel's answer");
    return { cancels, cancelsBefore: before.cancels };
  };

  const expectRefunded = async (server, sources) => {
    for (const source of sources) {
      const history = await api.histories.get(connectionOf(server), { ...source, password: PASSWORD });
      assert.equal(history.refund, REFUND, `history ${history.id} of ${source.id}`);
      assert.equal(history.cancels.length, 1, `history ${history.id}`);
    }
  };

  test("HUP with 20 slow cancels whose clients left: all 20 recorded, the roll waits for the old worker", async () => {
    const server = await start();
    const sources = await recordPayments(server, SLOW_CANCELS);
    const [oldPid] = await server.readyPids();
    try {
      const { cancels, cancelsBefore } = await slowCancels(server, sources);
      for (const { request } of cancels) request.destroy();
      process.kill(server.process.pid, "SIGHUP");
      // While the old worker drains, the roll is not over.
      let sawDraining = false;
      await waitFor(async () => {
        const status = await server.status();
        const old = status.workers.find((w) => w.pid === oldPid);
        if (old?.state === "draining") {
          sawDraining = true;
          assert.equal(status.master.rolling, true, `the roll ended with the old worker draining: ${JSON.stringify(status)}`);
        }
        return !old;
      }, 20_000, "the old worker's exit");
      assert.ok(sawDraining, "the old worker was never seen draining");
      await waitFor(async () => !(await server.status()).master.rolling, 10_000, "the end of the roll");
      assert.equal((await fakeStats(iamportFake)).cancels - cancelsBefore, SLOW_CANCELS, "cancels at the fake");
    } finally {
      await setFakeLatency(iamportFake, { ms: 0 });
    }
    await expectRefunded(server, sources);
    const log = server.process.log();
    assert.match(log, /drained, exiting/);
    assert.doesNotMatch(log, /still in flight|cancelled at the vendor but not recorded|sanitizer/i, log);
    await expectCleanExit(server, server.stop("SIGQUIT"));
  });

  test("QUIT with 20 slow cancels whose clients left: the stop waits for all 20 within the drain timeout", async () => {
    const server = await start({ PAYMENT_DRAIN_TIMEOUT_MS: "20000" });
    const sources = await recordPayments(server, SLOW_CANCELS);
    let quitAt;
    try {
      const { cancels, cancelsBefore } = await slowCancels(server, sources);
      for (const { request } of cancels) request.destroy();
      quitAt = performance.now();
      const log = await expectCleanExit(server, server.stop("SIGQUIT", 30_000));
      const stoppedAfter = performance.now() - quitAt;
      assert.ok(stoppedAfter < 15_000, `the stop took ${stoppedAfter} ms`);
      assert.match(log, /drained, exiting/);
      assert.doesNotMatch(log, /still in flight|cancelled at the vendor but not recorded/, log);
      assert.equal((await fakeStats(iamportFake)).cancels - cancelsBefore, SLOW_CANCELS, "cancels at the fake");
    } finally {
      await setFakeLatency(iamportFake, { ms: 0 });
    }
    const again = await start({}, server.env.PAYMENT_POSTGRES_SCHEMA);
    await expectRefunded(again, sources);
    await expectCleanExit(again, again.stop("SIGQUIT"));
  });

  test("a drain timeout shorter than the held answers: the worker exits at the timeout, cleanly", async () => {
    const server = await start({ PAYMENT_DRAIN_TIMEOUT_MS: "1000" });
    const sources = await recordPayments(server, 3);
    try {
      const { cancels } = await slowCancels(server, sources, 8_000);
      const quitAt = performance.now();
      const log = await expectCleanExit(server, server.stop("SIGQUIT", 30_000));
      const stoppedAfter = performance.now() - quitAt;
      assert.ok(stoppedAfter < 5_000, `the stop took ${stoppedAfter} ms, past the drain timeout`);
      assert.match(log, /drain: [1-9]\d* piece\(s\) of work and \d+ request\(s\) still in flight after 1000 ms/, log);
      // The clients still connected are cut without an answer.
      for (const { answered } of cancels) assert.equal(await answered, null);
    } finally {
      await setFakeLatency(iamportFake, { ms: 0 });
    }
  });

  test("a password check finishing after the drain timeout gets an error, not a crash", async () => {
    const server = await start({ PAYMENT_DRAIN_TIMEOUT_MS: "100" });
    const [source] = await recordPayments(server, 1);
    // A migrated bcrypt hash of PASSWORD, costly enough (2^14 rounds) that the
    // thread pool is still hashing when the drain gives up.
    const slowHash = "$2b$14$92ihk8oUQbWHRRquQYMXgOlptgqmm4FpklxGgJRieR6gPnZ.62iYG";
    const updated = await execute(server.env.PAYMENT_POSTGRES_SCHEMA,
      "UPDATE payment_histories SET password_hash = :'hash' WHERE source_id = :'source' RETURNING id",
      { hash: slowHash, source: source.id });
    assert.match(updated, /^[0-9a-f-]{36}$/);
    const cancelsBefore = (await fakeStats(iamportFake)).cancels;
    const { answered } = sendCancel(server, source);
    await sleep(300);
    const log = await expectCleanExit(server, server.stop("SIGQUIT", 30_000));
    assert.equal(await answered, null);
    assert.match(log, /drain: [1-9]\d* piece\(s\) of work and \d+ request\(s\) still in flight after 100 ms/, log);
    // The check finished after the pool was shut down: what followed it (the
    // hash's upgrade, the cancel's operation) met a 503 instead of freed memory.
    assert.match(log, /password_upgrade: cannot upgrade a password hash \(503 shutting down\)/, log);
    assert.equal((await fakeStats(iamportFake)).cancels, cancelsBefore, "a cancel reached the fake");
  });
});
