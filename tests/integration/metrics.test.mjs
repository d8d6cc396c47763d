// GET /metrics: the Prometheus text of a whole instance on the operators'
// listener (never on the API port), parsed strictly; counters that move with
// requests and sum every worker's share, whichever worker answers; and counts
// that survive a worker's death; vendor calls by vendor, operation and
// outcome, and the circuits the workers hold; `payments monitor --watch`,
// which redraws from /metrics like top.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startFakeServer, stopFake, tossCardPayment } from "../lib/fakes.mjs";
import { newSource, send } from "../lib/keyed_request.mjs";
import { spawn } from "node:child_process";
import { runCommand } from "../lib/instance.mjs";
import { binary, sleep, waitFor } from "../lib/process.mjs";
import { request, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";
import { parseExposition, sampleValue, samples } from "../lib/prometheus.mjs";

const health = { listener: "api", method: "GET", route: "/monitors/health", status: "200" };

async function scrape(server) {
  const res = await request(server.adminUrl("/metrics"));
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers["content-type"], /^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

/** Workers that answered at least one API request, from their own figures. */
async function workersServed(server) {
  const status = await server.status();
  return status.workers.filter((w) => w.stats && JSON.parse(JSON.stringify(w.stats)).http?.requests > 0).length;
}

/** One request per new connection, so that the kernel spreads them over the workers. */
async function healthOnce(server) {
  const res = await request(server.url("/monitors/health"), { agent: new http.Agent({ keepAlive: false }) });
  assert.equal(res.status, 200);
}

test("/metrics: strict format, 404 on the API port, counts of both workers summed", async () => {
  const server = await startServer({ workers: 2 });
  try {
    const onApi = await request(server.url("/metrics"));
    assert.equal(onApi.status, 404, "not served on the public API port");
    const before = await scrape(server);
    assert.equal(sampleValue(before, "payments_http_requests_total", health), 0);

    let sent = 0;
    await waitFor(async () => {
      for (let i = 0; i < 10; i++, sent++) await healthOnce(server);
      await sleep(1100); // the workers report their figures each second
      return (await workersServed(server)) === 2;
    }, 30000, "both workers served a request");

    const after = await scrape(server);
    assert.equal(sampleValue(after, "payments_http_requests_total", health), sent,
      "every request counted once, whichever worker served it");
    const hist = { listener: "api", method: "GET", route: "/monitors/health" };
    assert.equal(sampleValue(after, "payments_http_request_duration_seconds_count", hist), sent);
    assert.ok(sampleValue(after, "payments_http_request_duration_seconds_sum", hist) > 0);
    assert.ok(samples(after, "payments_http_request_duration_seconds_bucket").length > 0);
    // the scrape that answered before is counted too, on the operators' listener
    assert.ok(sampleValue(after, "payments_http_requests_total", { listener: "operators", route: "/metrics" }) >= 1);

    const unmatchedApi = { listener: "api", route: "unmatched", status: "404" };
    const missing = await request(server.url("/nowhere/12345"));
    assert.equal(missing.status, 404);
    const unmatched = await scrape(server);
    assert.equal(sampleValue(unmatched, "payments_http_requests_total", unmatchedApi),
      sampleValue(after, "payments_http_requests_total", unmatchedApi) + 1,
      "an unknown path counts under one label, never its raw path");
    assert.ok(!JSON.stringify(unmatched).includes("12345"));

    const pids = await server.readyPids();
    const cpu = samples(unmatched, "payments_process_cpu_seconds_total");
    assert.deepEqual(cpu.filter((s) => s.labels.process === "worker").map((s) => Number(s.labels.pid)).sort(), pids);
    assert.equal(Number(cpu.find((s) => s.labels.process === "master").labels.pid), server.process.pid);
    for (const s of samples(unmatched, "payments_process_resident_memory_bytes")) assert.ok(s.value > 0);
    for (const name of ["payments_operations_pending", "payments_webhook_outbox_pending",
      "payments_webhook_outbox_failed", "payments_database_pool_in_use", "payments_database_pool_waiting"])
      assert.equal(samples(unmatched, name).length, 1, name);
  } finally {
    await stopCleanly(server);
  }
});

test("/metrics: a worker killed keeps its counts; the restart is counted", async () => {
  const server = await startServer({ workers: 2 });
  try {
    for (let i = 0; i < 20; i++) await healthOnce(server);
    const before = await scrape(server);
    assert.equal(sampleValue(before, "payments_worker_restarts_total"), 0);
    const [victim] = await server.readyPids();
    process.kill(victim, "SIGKILL");
    await waitFor(async () => {
      const pids = await server.readyPids();
      return pids.length === 2 && !pids.includes(victim);
    }, 10000, "the replacement worker ready");
    const after = await scrape(server);
    assert.equal(sampleValue(after, "payments_worker_restarts_total"), 1);
    assert.equal(sampleValue(after, "payments_http_requests_total", health), 20,
      "the dead worker's requests still count");
    const workerPids = samples(after, "payments_process_cpu_seconds_total")
      .filter((s) => s.labels.process === "worker").map((s) => Number(s.labels.pid));
    assert.ok(!workerPids.includes(victim), "the dead worker is no process any more");
  } finally {
    await stopCleanly(server);
  }
});

test("/metrics: vendor calls by vendor, operation and outcome; the circuit each worker holds", async () => {
  const PASSWORD = "metrics-password";
  registerSecret("record password", PASSWORD);
  const toss = await startFakeServer("fake-toss-payments-server");
  const server = await startServer({ workers: 1, env: { PAYMENT_TOSS_PAYMENTS_URL: toss.host } });
  const record = (uid, price, source = newSource()) => send(server, "POST", "/payments/histories", {
    vendor: { code: "toss.payments", store_id: "metrics-store", uid }, source, price, password: PASSWORD,
    webhook_url: server.url("/payments/internal/webhook"), // the local test receiver
  });
  try {
    const call = (operation, outcome) => ({ vendor: "toss.payments", operation, outcome });
    const before = await scrape(server);
    assert.equal(sampleValue(before, "payments_vendor_calls_total", { vendor: "toss.payments" }), 0);
    const source = newSource();
    const paid = await tossCardPayment(toss, { orderId: source.id });
    const recorded = await record(paid.paymentKey, paid.totalAmount, source);
    assert.equal(recorded.status, 201, recorded.body);
    const refused = await record(`unknown-${Date.now()}`, 1000);
    assert.ok(refused.status >= 400 && refused.status < 500, refused.body);
    const cancelled = await send(server, "PUT", "/payments/histories/cancel",
      { source, password: PASSWORD, price: 100, reason: "metrics", account: null });
    assert.equal(cancelled.status, 200);

    const after = await scrape(server);
    assert.equal(sampleValue(after, "payments_vendor_calls_total", call("fetch", "succeeded")), 1, "the payment read");
    assert.equal(sampleValue(after, "payments_vendor_calls_total", call("fetch", "refused")), 1, "the unknown one");
    assert.equal(sampleValue(after, "payments_vendor_call_duration_seconds_count",
      { vendor: "toss.payments", operation: "fetch" }), 2);
    assert.equal(sampleValue(after, "payments_vendor_calls_total", call("cancel", "succeeded")), 1, "the cancel");
    // the cancel's notification reaches the test receiver, and leaves the outbox
    // (counted as the attempt ends, then recorded: the backlog follows)
    const delivered = await waitFor(async () => {
      const now = await scrape(server);
      return sampleValue(now, "payments_webhook_deliveries_total", { outcome: "delivered" }) === 1 &&
        samples(now, "payments_webhook_outbox_pending")[0]?.value === 0 ? now : null;
    }, 10000, "the delivery counted and recorded");
    assert.equal(sampleValue(delivered, "payments_webhook_deliveries_total", { outcome: "failed" }), 0);
    assert.equal(sampleValue(delivered, "payments_webhook_delivery_duration_seconds_count"), 1);
    assert.equal(sampleValue(delivered, "payments_operations_pending"), 0, "the cancel settled");
    const circuit = await waitFor(async () => samples(await scrape(server), "payments_vendor_circuit_workers")
      .find((s) => s.labels.vendor === "toss.payments"), 5000, "the worker publishes its circuit");
    assert.deepEqual({ ...circuit.labels, value: circuit.value },
      { vendor: "toss.payments", store: "default", state: "closed", value: 1 });
  } finally {
    await stopCleanly(server);
    await stopFake(toss);
  }
});

test("monitor --watch: frames of CPU percent, memory and rates until Ctrl-C", async () => {
  const server = await startServer({ workers: 2 });
  const env = { ...server.env, PAYMENT_ADMIN_PORT: String(server.adminPort) };
  try {
    for (let i = 0; i < 5; i++) await healthOnce(server);
    const run = await runCommand(binary("payments"), ["monitor", "local", "--watch", "--interval", "0.3", "--count", "2"],
      env, undefined, 30000);
    assert.equal(run.code, 0, run.stderr);
    const frames = run.stdout.split(/^(?=payments monitor local: )/m).filter(Boolean);
    assert.equal(frames.length, 2, run.stdout);
    const pids = [server.process.pid, ...(await server.readyPids())];
    const rows = (frame) => [...frame.matchAll(/^ {2}(master|worker) +(\d+) +(\S+) +([\d.]+)$/gm)];
    for (const frame of frames) {
      assert.match(frame, new RegExp(`http://127\\.0\\.0\\.1:${server.adminPort}/metrics every 0\\.3 s`));
      assert.deepEqual(rows(frame).map((r) => Number(r[2])).sort(), pids.sort(), frame);
      for (const r of rows(frame)) assert.ok(Number(r[4]) > 0, `rss of ${r[2]}`);
    }
    // the first frame has nothing to compare with; the second has rates
    assert.ok(rows(frames[0]).every((r) => r[3] === "-"), frames[0]);
    assert.match(frames[0], /requests\/s - \(total 5\)/);
    assert.ok(rows(frames[1]).every((r) => Number(r[3]) >= 0), frames[1]);
    assert.match(frames[1], /requests\/s [\d.]+ \(total \d+\)   failing vendor calls\/s [\d.]+ \(total 0\)/);

    const watching = spawn(binary("payments"), ["monitor", "local", "--watch", "--interval", "0.2"],
      { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    watching.stdout.on("data", (d) => { out += d; });
    const exited = new Promise((resolve) => watching.on("close", (code, signal) => resolve({ code, signal })));
    await waitFor(() => (out.match(/^payments monitor local: /gm) ?? []).length >= 2, 10000, "two frames");
    watching.kill("SIGINT");
    const { signal } = await exited;
    assert.equal(signal, "SIGINT", "Ctrl-C ends it");

    const wrong = await runCommand(binary("payments"), ["monitor", "local", "--watch", "--metrics",
      `http://127.0.0.1:${server.port}/metrics`], env, undefined, 30000);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /HTTP 404/, "the API port does not serve /metrics");
  } finally {
    await stopCleanly(server);
  }
});
