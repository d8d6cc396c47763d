// Chaos: payments recorded and cancelled by several clients at once while a
// random worker is killed (-9) every few seconds and PostgreSQL restarts once,
// with vendors that answer slowly. Afterwards, for every payment made at the
// fakes, the vendor's cancelled amount equals the refund we recorded, a Toss
// payment the vendor took is one we recorded, every recorded change reached
// its owner (by id), and no operation is left pending. Clients retry as real
// ones do, without an Idempotency-Key: the vendor-side keys must hold.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { createRequire } from "node:module";

import { fakeStats, iamportCardPayment, iamportClient, tossCardPayment, tossRequest } from "../lib/fakes.mjs";
import { binary, freePort, sleep, sourceDir, start, tempDir, waitFor, waitForPort } from "../lib/process.mjs";
import { startServer } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;
const run = promisify(execFile);

const LOAD_MS = Number(process.env.CHAOS_LOAD_MS ?? 40_000);
const CLIENTS = 6;
const PASSWORD = "chaos-password";
registerSecret("record password", PASSWORD);
const STORE_ID = "chaos-store";
const PRICE = 10_000;
const sanitizerReport = /AddressSanitizer|LeakSanitizer|runtime error/;

/** The test's own PostgreSQL cluster, so that restarting it disturbs no other test. */
async function startPostgres() {
  const dir = tempDir("payments-chaos-pg-");
  const port = await freePort();
  const script = path.join(sourceDir, "scripts", "postgres");
  const up = async () => (await run(script, ["start", dir, String(port)])).stdout.trim();
  const url = await up();
  return { url, start: up, stop: () => run(script, ["stop", dir]) };
}

/** Rows of sql in schema as JSON objects, through psql. */
async function query(url, schema, sql) {
  const child = run("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url]);
  child.child.stdin.end(`SET search_path = "${schema}";\nSELECT coalesce(json_agg(t), '[]') FROM (${sql}) t;\n`);
  return JSON.parse((await child).stdout.trim());
}

/** A client call that retries what a real client retries (5xx, 409, a lost
 * connection) a few times, without an Idempotency-Key. */
async function withRetries(figures, call) {
  for (let attempt = 0; attempt < 6; attempt++) {
    figures.requests++;
    try {
      return await call();
    } catch (error) {
      const status = error.status ?? 0;
      figures.failures[status] = (figures.failures[status] ?? 0) + 1;
      if (status !== 0 && status !== 409 && status < 500) return null; // refused: the answer is final
      await sleep(200 + Math.random() * 800);
    }
  }
  return null;
}

let pg, server, fakes, connection;
const payments = []; // {vendor, uid, source}
const figures = { requests: 0, failures: {}, kills: 0, pgRestarts: 0 };

before(async () => {
  pg = await startPostgres();
  const ports = { iamport: await freePort(), toss: await freePort() };
  server = await startServer({
    workers: 2,
    env: {
      PAYMENT_POSTGRES_URL: pg.url,
      PAYMENT_IAMPORT_URL: `http://127.0.0.1:${ports.iamport}`,
      PAYMENT_TOSS_PAYMENTS_URL: `http://127.0.0.1:${ports.toss}`,
      PAYMENT_VENDOR_TIMEOUT_MS: "1000",
      PAYMENT_RECONCILE_INTERVAL_MS: "300",
      PAYMENT_RECONCILE_AFTER_MS: "2000",
      PAYMENT_WEBHOOK_TIMEOUT_MS: "2000",
      PAYMENT_WEBHOOK_RETRY_SCHEDULE: "200ms,500ms,1s,1s,1s,1s,1s,1s,1s,1s",
    },
  });
  // Slow vendors: each answer comes 30 ms (median) to 700 ms (p99) late.
  const startFake = async (name, port, vendor) => {
    const proc = start(binary(name), ["--port", String(port), "--latency", "30,700",
      "--webhook-url", server.url(`/payments/webhooks/${vendor}`)]);
    try {
      await waitForPort(port);
    } catch (error) {
      await proc.stop("SIGKILL");
      throw new Error(`${name}: ${error.message}\n${proc.log()}`);
    }
    return { proc, port };
  };
  fakes = {
    iamport: await startFake("fake-iamport-server", ports.iamport, "iamport"),
    toss: await startFake("fake-toss-payments-server", ports.toss, "toss"),
  };
  connection = {
    host: server.url(""),
    encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
  };
});

after(async () => {
  if (server) await server.stop("SIGTERM");
  for (const fake of Object.values(fakes ?? {})) await fake.proc.stop("SIGTERM");
  if (pg) await pg.stop().catch(() => {});
});

/** Makes a payment at a fake, records it, then cancels part of it once or twice. */
async function customer(deadline, iamport) {
  while (Date.now() < deadline) {
    const vendor = Math.random() < 0.5 ? "iamport" : "toss";
    const source = { schema: "shopping", table: "shopping_orders", id: randomUUID() };
    const uid = vendor === "iamport"
      ? (await iamportCardPayment(iamport, { merchant_uid: source.id, amount: PRICE })).imp_uid
      : (await tossCardPayment(fakes.toss, { orderId: source.id, amount: PRICE, __approved: false })).paymentKey;
    payments.push({ vendor, uid, source });
    const recorded = await withRetries(figures, () => api.histories.create(connection, {
      vendor: { code: vendor === "iamport" ? "iamport" : "toss.payments", store_id: STORE_ID, uid },
      source, price: PRICE, password: PASSWORD, webhook_url: server.url("/payments/internal/webhook"),
    }));
    if (!recorded) continue;
    const cancels = 1 + Math.floor(Math.random() * 2);
    for (let i = 0; i < cancels; i++)
      await withRetries(figures, () => api.histories.cancel(connection, {
        source, password: PASSWORD, price: 1_000 * (1 + i), reason: `chaos cancel ${i}`, account: null,
      }));
  }
}

/** Kills a random ready worker every few seconds; restarts PostgreSQL once, midway. */
async function chaos(deadline) {
  let restarted = false;
  while (Date.now() < deadline - 3000) {
    await sleep(2500 + Math.random() * 1500);
    if (!restarted && Date.now() > deadline - LOAD_MS / 2) {
      restarted = true;
      await pg.stop();
      await sleep(1500);
      await pg.start();
      figures.pgRestarts++;
      continue;
    }
    const workers = (await server.status()).workers.filter((w) => w.state === "ready");
    if (workers.length === 0) continue;
    process.kill(workers[Math.floor(Math.random() * workers.length)].pid, "SIGKILL");
    figures.kills++;
  }
}

/** What the vendor says it refunded of a payment, and whether it took the money. */
async function vendorView(payment, iamport) {
  if (payment.vendor === "iamport") {
    const { json } = await iamport("GET", `/payments/${payment.uid}`);
    return { refunded: json.response.cancel_amount, taken: json.response.status !== "ready" };
  }
  const { json } = await tossRequest(fakes.toss, "GET", `/v1/payments/${payment.uid}`);
  return { refunded: json.totalAmount - json.balanceAmount, taken: json.status !== "IN_PROGRESS" && json.status !== "READY" };
}

test("money and notifications survive worker kills and a PostgreSQL restart", { timeout: 300_000 }, async () => {
  const iamport = await iamportClient(fakes.iamport);
  const deadline = Date.now() + LOAD_MS;
  await Promise.all([chaos(deadline), ...Array.from({ length: CLIENTS }, () => customer(deadline, iamport))]);
  const schema = server.env.PAYMENT_POSTGRES_SCHEMA;
  const q = (sql) => query(pg.url, schema, sql);

  // The reconciler and the outbox finish what the kills interrupted.
  await waitFor(async () => {
    const [open] = await q(`SELECT
      (SELECT count(*) FROM payment_operations WHERE state = 'pending') AS operations,
      (SELECT count(*) FROM payment_webhook_deliveries WHERE status IN ('pending', 'delivering')) AS deliveries`);
    return Number(open.operations) === 0 && Number(open.deliveries) === 0;
  }, 90_000, "no pending operation or notification");

  // attempts counts the reconciler's claims: an operation with one was settled by it.
  const operations = await q(`SELECT kind, state, count(*) AS n, count(*) FILTER (WHERE attempts > 0) AS reconciled
    FROM payment_operations GROUP BY kind, state ORDER BY kind, state`);
  const stuck = operations.filter((o) => o.state === "pending" || o.state === "unknown");
  assert.deepEqual(stuck, [], "operations left unsettled");

  const recorded = new Map((await q("SELECT vendor_uid, refund FROM payment_histories"))
    .map((h) => [h.vendor_uid, Number(h.refund)]));
  for (const payment of payments) {
    const view = await vendorView(payment, iamport);
    const ours = recorded.get(payment.uid);
    if (ours === undefined) {
      assert.equal(view.refunded, 0, `${payment.vendor} ${payment.uid}: refunded at the vendor, never recorded`);
      if (payment.vendor === "toss")
        assert.equal(view.taken, false, `toss ${payment.uid}: confirmed at the vendor, never recorded`);
    } else {
      assert.equal(ours, view.refunded, `${payment.vendor} ${payment.uid}: vendor refunded ${view.refunded}, we ${ours}`);
    }
  }

  const changes = (await q("SELECT id FROM payment_webhooks")).map((w) => w.id).sort();
  const received = await q("SELECT webhook_id, count(*) AS n FROM payment_internal_webhooks GROUP BY webhook_id");
  assert.deepEqual(received.map((r) => r.webhook_id).sort(), changes, "every recorded change reached its owner");
  const failed = await q("SELECT count(*) AS n FROM payment_webhook_deliveries WHERE status = 'failed'");
  assert.equal(Number(failed[0].n), 0, "no notification failed");

  const log = server.process.log();
  assert.doesNotMatch(log, sanitizerReport, log.split("\n").filter((l) => sanitizerReport.test(l)).join("\n"));
  const stats = { iamport: await fakeStats(fakes.iamport), toss: await fakeStats(fakes.toss) };
  const redelivered = received.filter((r) => Number(r.n) > 1).length;
  console.log(`chaos: ${payments.length} payments, ${figures.requests} requests ` +
    `(failures by status ${JSON.stringify(figures.failures)}), ${figures.kills} worker kills, ` +
    `${figures.pgRestarts} PostgreSQL restart, operations ${JSON.stringify(operations)}, ` +
    `${changes.length} changes notified (${redelivered} delivered more than once), ` +
    `vendor cancels iamport ${stats.iamport.cancels} toss ${stats.toss.cancels}, confirms ${stats.toss.confirms}`);
  assert.ok(figures.kills >= 5, `only ${figures.kills} kills`);
  assert.ok(payments.length >= 20, `only ${payments.length} payments`);
});
