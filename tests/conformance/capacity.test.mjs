// The limits that keep a worker answering under load, each reached on
// purpose: PAYMENT_VENDOR_CONCURRENCY (vendor calls held by a slow fake
// Toss), PAYMENT_MAX_CONNECTIONS (idle connections), and the descriptor
// limit itself (the worker's RLIMIT_NOFILE lowered with prlimit). Past each,
// the client gets 503 with Retry-After at once, nothing is sent to the
// vendor, the worker stays up and the fast routes keep answering.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";

import { fakeStats, setFakeLatency, startFakeServer, stopFake, tossCardPayment } from "../lib/fakes.mjs";
import { errorOf, newSource, send } from "../lib/keyed_request.mjs";
import { operationsOf, workerPid } from "../lib/operations.mjs";
import { waitFor } from "../lib/process.mjs";
import { request, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const STORE_ID = "capacity-store";
const PASSWORD = "capacity-password";
registerSecret("record password", PASSWORD);
const WEBHOOK_URL = "http://127.0.0.1:9/payments/webhook";
const TOSS = "toss.payments";

/** A raw connection to port; resolves once connected. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

/** Connects without sending anything and collects what the server says
 * before it closes the connection. */
async function refusedAnswer(port) {
  const socket = await connect(port);
  return new Promise((resolve, reject) => {
    let text = "";
    socket.on("data", (d) => { text += d; });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

/** Sends a health request on an open keep-alive connection; resolves with the answer's head. */
function healthOn(socket) {
  return new Promise((resolve) => {
    let text = "";
    const onData = (d) => {
      text += d;
      if (text.includes("\r\n\r\n") && text.includes("}")) {
        socket.off("data", onData);
        resolve(text);
      }
    };
    socket.on("data", onData);
    socket.write("GET /monitors/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  });
}

function assertBusy(text) {
  assert.match(text, /^HTTP\/1\.1 503 /, text);
  assert.match(text, /\r\nRetry-After: 1\r\n/i, text);
  assert.match(text, /\r\nConnection: close\r\n/i, text);
}

const openDescriptors = (pid) => fs.readdirSync(`/proc/${pid}/fd`).map(Number);
const softLimit = (pid) => Number(fs.readFileSync(`/proc/${pid}/limits`, "utf8").match(/Max open files\s+(\d+)/)[1]);
const setSoftLimit = (pid, n) => execFileSync("prlimit", ["--pid", String(pid), `--nofile=${n}:`]);

describe("the worker's limits answer 503 with Retry-After", () => {
  const fakes = {};
  const servers = [];

  before(async () => { fakes.toss = await startFakeServer("fake-toss-payments-server"); });

  after(async () => {
    for (const server of servers) await stopCleanly(server);
    await setFakeLatency(fakes.toss, { ms: 0 });
    await stopFake(fakes.toss);
  });

  const serve = async (env) => {
    const server = await startServer({ workers: 1, env: { PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host, ...env } });
    servers.push(server);
    return server;
  };
  const tossPaid = async () => {
    const source = newSource();
    const paid = await tossCardPayment(fakes.toss, { orderId: source.id });
    return { vendor: { code: TOSS, store_id: STORE_ID, uid: paid.paymentKey }, source, price: paid.totalAmount,
      password: PASSWORD, webhook_url: WEBHOOK_URL };
  };

  test("past PAYMENT_VENDOR_CONCURRENCY a call is refused unsent, a cancel settled refused, health answers", async () => {
    const server = await serve({ PAYMENT_VENDOR_CONCURRENCY: "2" });
    const recorded = await tossPaid();
    const created = await send(server, "POST", "/payments/histories", recorded);
    assert.equal(created.status, 201, created.body);
    const bodies = [await tossPaid(), await tossPaid(), await tossPaid()];

    // Two lookups held by the fake fill the worker's two places.
    await setFakeLatency(fakes.toss, { ms: 3_000, match: "/v1/payments/", method: "GET" });
    let held;
    try {
      held = bodies.slice(0, 2).map((body) => send(server, "POST", "/payments/histories", body));
      await waitFor(async () => (await fakeStats(fakes.toss)).held_answers === 2, 10_000, "two held lookups");
      const before = await fakeStats(fakes.toss);

      const refused = await send(server, "POST", "/payments/histories", bodies[2]);
      assert.equal(refused.status, 503, refused.body);
      assert.equal(refused.headers["retry-after"], "1");
      const error = errorOf(refused);
      assert.match(error.message, /^Toss Payments is unavailable \(too many calls waiting\); retry after 1 s$/);
      assert.equal(error.vendor.code, TOSS);

      // A money-moving call refused by the limit is never sent, and settled at once.
      const cancel = await send(server, "PUT", "/payments/histories/cancel",
        { source: recorded.source, password: PASSWORD, price: 1_000, reason: "capacity", account: null });
      assert.equal(cancel.status, 503, cancel.body);
      assert.equal(cancel.headers["retry-after"], "1");
      const [operation] = await operationsOf(server, recorded.vendor.uid);
      assert.equal(operation.state, "refused", JSON.stringify(operation));

      const health = await request(server.url("/monitors/health"));
      assert.equal(health.status, 200, "the fast route answers while the calls wait");
      const afterwards = await fakeStats(fakes.toss);
      assert.equal(afterwards.lookups, before.lookups, "the refused lookup reached the fake");
      assert.equal(afterwards.cancels, before.cancels, "the refused cancel reached the fake");
    } finally {
      await setFakeLatency(fakes.toss, { ms: 0 });
    }
    for (const res of await Promise.all(held)) assert.equal(res.status, 201, res.body);
    // The places are free again: the refused record goes through now.
    const retried = await send(server, "POST", "/payments/histories", bodies[2]);
    assert.equal(retried.status, 201, retried.body);
  });

  test("past PAYMENT_MAX_CONNECTIONS a new connection gets 503 and is closed; the open ones go on", async () => {
    const server = await serve({ PAYMENT_MAX_CONNECTIONS: "2" });
    const open = [await connect(server.port), await connect(server.port)];
    try {
      for (const socket of open) assert.match(await healthOn(socket), /^HTTP\/1\.1 200 /);
      assertBusy(await refusedAnswer(server.port));
      assert.match(await healthOn(open[0]), /^HTTP\/1\.1 200 /, "a kept connection still answers");
    } finally {
      open[1].destroy();
    }
    await waitFor(async () => (await request(server.url("/monitors/health"))).status === 200, 10_000,
      "a new connection once one closed");
    open[0].destroy();
  });

  test("out of descriptors: each waiting client gets 503, one log line, the worker stays up", async () => {
    const server = await serve({});
    const pid = await workerPid(server);
    const original = softLimit(pid);
    // Room for two more descriptors: holes below the limit count as room.
    const numbers = openDescriptors(pid);
    const limit = Math.max(...numbers) + 3;
    const room = limit - numbers.filter((n) => n < limit).length;
    const holders = [];
    setSoftLimit(pid, limit);
    try {
      for (let i = 0; i < room; i++) holders.push(await connect(server.port));
      await waitFor(() => openDescriptors(pid).length >= numbers.length + room, 10_000, "the held connections");
      for (let i = 0; i < 3; i++) assertBusy(await refusedAnswer(server.port));
    } finally {
      setSoftLimit(pid, original);
      for (const socket of holders) socket.destroy();
    }
    const health = await request(server.url("/monitors/health"));
    assert.equal(health.status, 200);
    assert.equal(await workerPid(server), pid, "the worker was replaced");
    await waitFor(() => /accepting again; 3 connections were refused/.test(server.process.log()), 10_000,
      "the line of the burst's end");
    const log = server.process.log();
    assert.equal(log.match(/out of descriptors/g)?.length, 1, log);
  });

  // Requests held by a slow vendor come back to the database together: the
  // worker queues their statements (PAYMENT_POSTGRES_QUEUE) rather than
  // refusing them. A stopping fake sends every held answer at once, which
  // makes the burst. The default must hold more than the 1,024 statements the
  // queue was once capped at; a queue of 16 proves the setting is obeyed.
  const burst = async (count, queue) => {
    const fake = await startFakeServer("fake-toss-payments-server", ["--capacity", String(count)]);
    const server = await startServer({ workers: 1, env: {
      PAYMENT_TOSS_PAYMENTS_URL: fake.host, PAYMENT_POSTGRES_POOL: "2",
      ...(queue ? { PAYMENT_POSTGRES_QUEUE: String(queue) } : {}) } });
    servers.push(server);
    const bodies = [];
    for (let i = 0; i < count; i++) {
      const source = newSource();
      const paid = await tossCardPayment(fake, { orderId: source.id });
      bodies.push({ vendor: { code: TOSS, store_id: STORE_ID, uid: paid.paymentKey }, source,
        price: paid.totalAmount, password: PASSWORD, webhook_url: WEBHOOK_URL });
    }
    await setFakeLatency(fake, { ms: 60_000, match: "/v1/payments/", method: "GET" });
    let answered = 0;
    const answers = bodies.map((body) => send(server, "POST", "/payments/histories", body)
      .finally(() => { answered++; }));
    // Every request is either held at the fake or already answered.
    await waitFor(async () => (await fakeStats(fake)).held_answers + answered === count, 30_000,
      "every request held at the fake or answered");
    await stopFake(fake);
    return Promise.all(answers);
  };

  test("a burst back from a slow vendor is queued for the database up to PAYMENT_POSTGRES_QUEUE", async () => {
    const small = await burst(120, 16);
    const busy = small.filter((res) => res.status === 503);
    assert.ok(busy.length > 0, "a queue of 16 refused nothing: the setting is not obeyed");
    for (const res of busy) {
      assert.match(errorOf(res).message, /database busy/);
      assert.equal(res.headers["retry-after"], "1");
    }
    for (const res of small) assert.ok(res.status === 201 || res.status === 503, `${res.status} ${res.body}`);
    const whole = await burst(1_100);
    const refused = whole.filter((res) => res.status !== 201);
    assert.equal(refused.length, 0, `the default queue refused ${refused.length} of a burst: ${refused[0]?.status} ${refused[0]?.body}`);
  });
});
