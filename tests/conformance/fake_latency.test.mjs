// The fake vendors made slow: a standing delay from --latency (fixed, or a
// log-normal of median and p99) and a rule set at run time through
// PUT /fake/latency. Only the answer is late: the effect is made at once and
// visible through the vendor's own GET, held answers do not block other
// requests, an answer whose client left is dropped, and a stopping fake sends
// what it holds.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import http from "node:http";

import {
  FAKE_TOSS_SECRET, fakeRequest, fakeStats, iamportCardPayment, iamportClient, setFakeLatency, startFakeServer,
  stopFake, tossCardPayment, tossRequest,
} from "../lib/fakes.mjs";
import { binary, waitFor } from "../lib/process.mjs";

/** Resolves to {result, ms}: how long the request took. */
async function timed(promise) {
  const started = performance.now();
  const result = await promise;
  return { result, ms: performance.now() - started };
}

const tossCancel = (fake, p, amount) =>
  tossRequest(fake, "POST", `/v1/payments/${p.paymentKey}/cancel`, { cancelReason: "slow", cancelAmount: amount });

describe("fake-toss-payments-server: PUT /fake/latency", () => {
  let fake;

  before(async () => { fake = await startFakeServer("fake-toss-payments-server"); });
  after(() => stopFake(fake));

  test("the answer is held while the cancel is already made, and other requests go on", async () => {
    const p = await tossCardPayment(fake);
    const setting = await setFakeLatency(fake, { ms: 1_500, match: "/cancel" });
    assert.deepEqual(setting.rule, { ms: 1_500, p99: 1_500, match: "/cancel" });
    assert.equal(setting.standing, null);
    try {
      const cancel = timed(tossCancel(fake, p, 4_000));
      await waitFor(async () => (await fakeStats(fake)).held_answers === 1, 5_000, "the held answer");
      // The loop is free: a GET answers while the cancel's answer waits, and shows the cancel.
      const read = await timed(tossRequest(fake, "GET", `/v1/payments/${p.paymentKey}`));
      assert.ok(read.ms < 1_000, `a GET took ${read.ms} ms while an answer was held`);
      assert.equal(read.result.json.balanceAmount, 6_000);
      assert.equal(read.result.json.cancels.length, 1);
      const { result, ms } = await cancel;
      assert.equal(result.status, 201);
      assert.equal(result.json.balanceAmount, 6_000);
      assert.ok(ms >= 1_400, `the cancel was answered after ${ms} ms`);
      // Routes the rule does not match answer at once.
      assert.ok((await timed(tossCardPayment(fake))).ms < 1_000);
    } finally {
      assert.equal((await setFakeLatency(fake, { ms: 0 })).rule, null);
    }
    assert.ok((await timed(tossCancel(fake, p, 1_000))).ms < 1_000, "{ms: 0} clears the rule");
  });

  test("a rule of one method holds that method only, on the same path", async () => {
    const p = await tossCardPayment(fake);
    const setting = await setFakeLatency(fake, { ms: 1_500, match: p.paymentKey, method: "POST" });
    assert.deepEqual(setting.rule, { ms: 1_500, p99: 1_500, match: p.paymentKey, method: "POST" });
    try {
      assert.ok((await timed(tossRequest(fake, "GET", `/v1/payments/${p.paymentKey}`))).ms < 1_000, "a GET was held");
      const { ms } = await timed(tossCancel(fake, p, 1_000));
      assert.ok(ms >= 1_400, `the POST was answered after ${ms} ms`);
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
    const bad = await fakeRequest(fake, "PUT", "/fake/latency", { body: JSON.stringify({ ms: 10, method: "" }) });
    assert.equal(bad.status, 400, bad.text);
  });

  test("a held answer whose client has gone is dropped; the fake goes on", async () => {
    const p = await tossCardPayment(fake);
    await setFakeLatency(fake, { ms: 800 });
    try {
      const request = http.request({
        host: "127.0.0.1", port: fake.port, method: "POST", path: `/v1/payments/${p.paymentKey}/cancel`,
        headers: {
          Authorization: `Basic ${Buffer.from(`${FAKE_TOSS_SECRET}:`).toString("base64")}`,
          "Content-Type": "application/json",
        },
      });
      request.on("error", () => { /* we hang up ourselves */ });
      request.end(JSON.stringify({ cancelReason: "client gone", cancelAmount: 500 }));
      await waitFor(async () => (await fakeStats(fake)).held_answers === 1, 5_000, "the held answer");
      request.destroy();
      await waitFor(async () => (await fakeStats(fake)).held_answers === 0, 5_000, "the dropped answer");
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
    const now = await tossRequest(fake, "GET", `/v1/payments/${p.paymentKey}`);
    assert.equal(now.json.balanceAmount, 9_500, "the cancel was made though nobody heard of it");
  });

  test("a rule may be a log-normal (ms is its median, p99 its 99th percentile)", async () => {
    const setting = await setFakeLatency(fake, { ms: 30, p99: 120, match: "/v1/payments/" });
    assert.deepEqual(setting.rule, { ms: 30, p99: 120, match: "/v1/payments/" });
    try {
      const p = await tossCardPayment(fake);
      const times = [];
      for (let i = 0; i < 15; i++) times.push((await timed(tossRequest(fake, "GET", `/v1/payments/${p.paymentKey}`))).ms);
      times.sort((a, b) => a - b);
      assert.ok(times[7] >= 10 && times[7] < 400, `median ${times[7]} ms`);
      assert.ok(times[14] - times[0] > 3, `no spread: ${times.join(", ")}`);
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
  });

  test("bad rules are refused and change nothing", async () => {
    for (const body of ["{", "[]", "{}", '{"ms": -1}', '{"ms": "100"}', '{"ms": 600001}', '{"ms": 1.5}',
      '{"ms": 100, "p99": 50}', '{"ms": 100, "match": 7}', '{"ms": 100, "delay": 5}']) {
      const { status, json } = await fakeRequest(fake, "PUT", "/fake/latency", { body });
      assert.equal(status, 400, body);
      assert.equal(typeof json.message, "string");
    }
    const { status, json } = await fakeRequest(fake, "GET", "/fake/latency");
    assert.equal(status, 200);
    assert.deepEqual(json, { rule: null, standing: null });
    assert.equal((await fakeRequest(fake, "DELETE", "/fake/latency")).status, 405);
    assert.equal((await fakeRequest(fake, "GET", "/fake/nothing")).status, 404);
  });
});

describe("fake-iamport-server: PUT /fake/latency", () => {
  let fake;
  let iamport;

  before(async () => {
    fake = await startFakeServer("fake-iamport-server");
    iamport = await iamportClient(fake);
  });
  after(() => stopFake(fake));

  test("the cancel is recorded at once and its answer comes late", async () => {
    const p = await iamportCardPayment(iamport);
    await setFakeLatency(fake, { ms: 1_200, match: "/payments/cancel" });
    try {
      const cancel = timed(iamport("POST", "/payments/cancel",
        { imp_uid: p.imp_uid, merchant_uid: p.merchant_uid, reason: "slow", amount: 3_000, checksum: 10_000 }));
      await waitFor(async () => (await fakeStats(fake)).held_answers === 1, 5_000, "the held answer");
      const read = await iamport("GET", `/payments/${p.imp_uid}`);
      assert.equal(read.json.response.cancel_amount, 3_000);
      const { result, ms } = await cancel;
      assert.equal(result.status, 201);
      assert.ok(ms >= 1_100, `the cancel was answered after ${ms} ms`);
      assert.equal((await fakeStats(fake)).cancels, 1);
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
  });
});

describe("--latency and <PREFIX>LATENCY", () => {
  test("a fixed delay holds every vendor answer, never the /fake/ routes", async () => {
    const fake = await startFakeServer("fake-iamport-server", ["--latency", "1500"]);
    try {
      const token = await timed(fakeRequest(fake, "POST", "/users/getToken",
        { body: JSON.stringify({ imp_key: "test_imp_key", imp_secret: "test_imp_secret" }) }));
      assert.equal(token.result.status, 201);
      assert.ok(token.ms >= 1_400, `getToken answered after ${token.ms} ms`);
      const stats = await timed(fakeStats(fake));
      assert.ok(stats.ms < 1_000, `/fake/stats took ${stats.ms} ms`);
      assert.deepEqual((await fakeRequest(fake, "GET", "/fake/latency")).json,
        { rule: null, standing: { ms: 1_500, p99: 1_500 } });
    } finally {
      await stopFake(fake);
    }
  });

  test("TERM sends the held answers at once and the fake stops cleanly", async () => {
    const fake = await startFakeServer("fake-toss-payments-server", [], { FAKE_TOSS_LATENCY: "20,60" });
    assert.deepEqual((await fakeRequest(fake, "GET", "/fake/latency")).json.standing, { ms: 20, p99: 60 });
    const p = await tossCardPayment(fake);
    await setFakeLatency(fake, { ms: 60_000, match: "/cancel" });
    const cancel = timed(tossCancel(fake, p, 1_000));
    await waitFor(async () => (await fakeStats(fake)).held_answers === 1, 5_000, "the held answer");
    await stopFake(fake);
    const { result, ms } = await cancel;
    assert.equal(result.status, 201);
    assert.ok(ms < 30_000, `the held answer came after ${ms} ms`);
  });

  test("the distribution parses; bad values are refused with one line", () => {
    for (const name of ["fake-iamport-server", "fake-toss-payments-server"]) {
      for (const good of ["0", "1000", "300,2000", "5,5", "600000"]) {
        const run = spawnSync(binary(name), ["--latency", good, "--help"], { encoding: "utf8" });
        assert.equal(run.status, 0, `${name} --latency ${good}: ${run.stderr}`);
        assert.match(run.stdout, /--latency MS\[,P99\]/);
        assert.match(run.stdout, /PUT \/fake\/latency/);
      }
      for (const bad of ["", "abc", "-1", " 5", "5,", ",5", "5,2", "0,10", "600001", "1,600001", "1,2,3", "1.5"]) {
        const run = spawnSync(binary(name), ["--latency", bad], { encoding: "utf8", timeout: 5_000 });
        assert.equal(run.status, 2, `${name} --latency "${bad}" exited ${run.status}`);
        const lines = run.stderr.trim().split("\n");
        assert.equal(lines.length, 1, run.stderr);
        assert.match(lines[0], /--latency must be MS or MEDIAN,P99/);
      }
      const prefix = name === "fake-iamport-server" ? "FAKE_IAMPORT_" : "FAKE_TOSS_";
      const run = spawnSync(binary(name), [], { encoding: "utf8", timeout: 5_000,
        env: { ...process.env, [`${prefix}LATENCY`]: "300,20" } });
      assert.equal(run.status, 2);
      assert.match(run.stderr.trim(), new RegExp(`^${name}: ${prefix}LATENCY must be MS or MEDIAN,P99`));
    }
  });
});
