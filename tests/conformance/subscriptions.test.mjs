// Subscriptions against the real server, the fakes and PostgreSQL: the
// routes (create by reservation id or source, read, pause, resume, cancel,
// each behind the reservation's password), the schedule's checks (a bad
// day, time or zone is a 400 naming the field, and nothing is written), and
// the first due instant computed on the test clock; a missing test clock
// file logged once, not at every tick.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";

import { query } from "../lib/database.mjs";
import { startFakeServer, stopFake } from "../lib/fakes.mjs";
import { waitFor } from "../lib/process.mjs";
import { startServer, stopCleanly } from "../lib/server.mjs";
import {
  SUBSCRIPTION_PASSWORD as PASSWORD, call as callOn, reserve, subscriptionBody as bodyFor, testClock,
} from "../lib/subscriptions.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

registerSecret("record password", PASSWORD);

describe("subscription routes", () => {
  let fake;
  let server;
  let clock; // the test clock
  let reservation; // {id, source}

  const call = (method, route, value) => callOn(server, method, route, value);
  const setClock = (instant) => clock.set(instant);
  const subscriptionBody = (overrides) => bodyFor(reservation, overrides);
  const subscriptionCount = async () =>
    (await query(server.env.PAYMENT_POSTGRES_SCHEMA, "SELECT count(*)::int AS n FROM payment_subscriptions"))[0].n;

  before(async () => {
    fake = await startFakeServer("fake-iamport-server");
    clock = testClock("2027-01-20T00:00:00Z");
    server = await startServer({
      workers: 1,
      env: { PAYMENT_IAMPORT_URL: fake.host, PAYMENT_TEST_CLOCK: clock.file, PAYMENT_SCHEDULER_INTERVAL: "1h" },
    });
    reservation = await reserve(server, "iamport", fake.host);
  });

  after(async () => {
    if (server) await stopCleanly(server);
    if (fake) await stopFake(fake);
  });

  test("created by reservation id, its first due instant is on the test clock, in its zone", async () => {
    const created = await call("POST", "/payments/subscriptions", subscriptionBody());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const s = created.body;
    assert.equal(s.reservation_id, reservation.id);
    assert.equal(s.state, "active");
    assert.deepEqual(s.schedule, { days: [1, 15, "last"], time: "09:00:00", time_zone: "Asia/Seoul" });
    // 2027-01-31 09:00 in Seoul (UTC+9): the last day, after the 20th.
    assert.equal(s.next_due_at, "2027-01-31T00:00:00.000Z");
    const read = await call("PATCH", `/payments/subscriptions/${s.id}`, { password: PASSWORD });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, s);
  });

  test("created by the reservation's source; 31 and last in February are one day, across a DST change", async () => {
    setClock("2027-02-20T00:00:00Z");
    const { reservation_id, ...rest } = subscriptionBody({
      schedule: { days: [31, "last"], time: "02:30", time_zone: "America/New_York" },
    });
    assert.ok(reservation_id);
    const created = await call("POST", "/payments/subscriptions", { ...rest, source: reservation.source });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // February 28th, 02:30 EST (UTC-5).
    assert.equal(created.body.next_due_at, "2027-02-28T07:30:00.000Z");
    setClock("2027-01-20T00:00:00Z");
  });

  test("a bad schedule is a 400 naming the field, and nothing is written", async () => {
    const before = await subscriptionCount();
    const cases = [
      [{ days: [0], time: "09:00", time_zone: "Asia/Seoul" }, /^schedule\.days /],
      [{ days: [32], time: "09:00", time_zone: "Asia/Seoul" }, /^schedule\.days /],
      [{ days: ["first"], time: "09:00", time_zone: "Asia/Seoul" }, /^schedule\.days /],
      [{ days: [], time: "09:00", time_zone: "Asia/Seoul" }, /^schedule\.days /],
      [{ days: [1], time: "24:00", time_zone: "Asia/Seoul" }, /^schedule\.time /],
      [{ days: [1], time: "9:00", time_zone: "Asia/Seoul" }, /^schedule\.time /],
      [{ days: [1], time: "09:00", time_zone: "Mars/Olympus_Mons" }, /^schedule\.time_zone /],
      [{ days: [1], time: "09:00", time_zone: "Asia/Seoul; DROP" }, /^schedule\.time_zone /],
      [undefined, /^schedule /],
    ];
    for (const [schedule, message] of cases) {
      const res = await call("POST", "/payments/subscriptions", subscriptionBody({ schedule }));
      assert.equal(res.status, 400, JSON.stringify(schedule));
      assert.match(res.body.message, message, JSON.stringify(schedule));
    }
    const amount = await call("POST", "/payments/subscriptions", subscriptionBody({ amount: 0 }));
    assert.equal(amount.status, 400);
    assert.match(amount.body.message, /^amount /);
    assert.equal(await subscriptionCount(), before);
  });

  test("every route takes the reservation's password", async () => {
    const before = await subscriptionCount();
    const wrong = await call("POST", "/payments/subscriptions", subscriptionBody({ password: "not-the-password" }));
    assert.equal(wrong.status, 403);
    assert.equal(await subscriptionCount(), before);
    const created = await call("POST", "/payments/subscriptions", subscriptionBody());
    const id = created.body.id;
    for (const [method, route] of [["PATCH", ""], ["PUT", "/pause"], ["PUT", "/resume"], ["PUT", "/cancel"]]) {
      const res = await call(method, `/payments/subscriptions/${id}${route}`, { password: "not-the-password" });
      assert.equal(res.status, 403, route);
    }
    const read = await call("PATCH", `/payments/subscriptions/${id}`, { password: PASSWORD });
    assert.equal(read.body.state, "active");
    const missing = await call("PATCH", "/payments/subscriptions/00000000-0000-4000-8000-000000000000",
      { password: PASSWORD });
    assert.equal(missing.status, 404);
  });

  test("pause, resume and cancel; a cancelled subscription cannot come back", async () => {
    const { id } = (await call("POST", "/payments/subscriptions", subscriptionBody())).body;
    const path = (action) => `/payments/subscriptions/${id}/${action}`;
    const paused = await call("PUT", path("pause"), { password: PASSWORD });
    assert.equal(paused.status, 200);
    assert.equal(paused.body.state, "paused");
    assert.equal(paused.body.next_due_at, null);
    // Resumed on February 3rd: charged from the next due instant, the 15th.
    setClock("2027-02-03T00:00:00Z");
    const resumed = await call("PUT", path("resume"), { password: PASSWORD });
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.state, "active");
    assert.equal(resumed.body.next_due_at, "2027-02-15T00:00:00.000Z");
    setClock("2027-01-20T00:00:00Z");
    const cancelled = await call("PUT", path("cancel"), { password: PASSWORD });
    assert.equal(cancelled.body.state, "cancelled");
    assert.equal((await call("PUT", path("resume"), { password: PASSWORD })).status, 409);
    assert.equal((await call("PUT", path("pause"), { password: PASSWORD })).status, 409);
    assert.equal((await call("PUT", path("cancel"), { password: PASSWORD })).body.state, "cancelled");
  });
});

// A test clock whose file is missing: the scheduler takes the real time and
// says so once, not at every tick; once the file was back, its going missing
// again is said again.
describe("a missing test clock file", () => {
  let fake;
  let server;
  let clock;
  const MISSING = "PAYMENT_TEST_CLOCK: cannot open the file";
  const warnings = () => server.process.log().split(MISSING).length - 1;

  before(async () => {
    fake = await startFakeServer("fake-iamport-server");
    clock = testClock("2025-01-01T00:00:00Z");
    server = await startServer({
      workers: 1,
      env: { PAYMENT_IAMPORT_URL: fake.host, PAYMENT_TEST_CLOCK: clock.file, PAYMENT_SCHEDULER_INTERVAL: "50ms" },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    if (fake) await stopFake(fake);
  });

  test("is logged once over many ticks, and again after it came back", async () => {
    const reservation = await reserve(server, "iamport", fake.host);
    const created = await callOn(server, "POST", "/payments/subscriptions",
      bodyFor(reservation, { schedule: { days: [1, 15], time: "09:00", time_zone: "UTC" } }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const periods = async (state) => (await query(server.env.PAYMENT_POSTGRES_SCHEMA,
      "SELECT count(*)::int AS n FROM payment_subscription_periods WHERE state = :'state'", { state }))[0].n;
    assert.equal(await periods("charged"), 0);
    // Gone: real time, in which every period since 2025 is due. Charging them
    // takes several ticks (a claim takes 16 at most), each reading the file.
    fs.rmSync(clock.file);
    await waitFor(async () => await periods("charged") > 32, 60_000, "the periods since 2025 charged");
    assert.equal(warnings(), 1, "said once over many ticks");
    // Back, months ahead of the real time: their periods charged show that a
    // tick read it.
    const charged = await periods("charged");
    clock.set("2027-07-01T00:00:00Z");
    await waitFor(async () => await periods("charged") > charged + 6, 60_000, "a tick with the file back");
    fs.rmSync(clock.file);
    await waitFor(() => warnings() === 2, 20_000, "said again once it went missing again");
  });
});
