// The subscription scheduler against the real server, the fakes and
// PostgreSQL, driven by the test clock: a subscription on days 1, 15 and
// last charged on exactly the expected days through three months with
// February; dunning (refused twice then charged: no alert; refused to the
// end: past due and exactly one alert); pause, resume and cancel taking
// effect at the next due period, and a cancelled subscription never charged
// again; a signed notification for each charge, refusal and change of
// state; one alert for a run of refusals. "Nothing was charged" is known without waiting on time: a probe
// subscription due at the same instant is charged by the same look.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { query } from "../lib/database.mjs";
import {
  fakeStats, setFakeBilling, setFakeLatency, startFakeServer, startWebhookListener, stopFake,
} from "../lib/fakes.mjs";
import { waitFor } from "../lib/process.mjs";
import { startServer, stopCleanly } from "../lib/server.mjs";
import {
  SUBSCRIPTION_PASSWORD as PASSWORD, call as callOn, notificationTypes, notificationsOf, periodsOf, reserve,
  subscriptionBody, testClock,
} from "../lib/subscriptions.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

registerSecret("record password", PASSWORD);

describe("the subscription scheduler", () => {
  const fakes = {};
  let server;
  let clock;
  let alerts; // the alert webhook's receiver

  const call = (method, route, value) => callOn(server, method, route, value);
  const charges = async (fake) => (await fakeStats(fake)).billing_charges;
  const refusals = async (fake) => (await fakeStats(fake)).billing_refusals;

  /** A new subscription of a new reservation at vendor's fake. */
  const subscribe = async (vendor, overrides) => {
    const fake = vendor === "iamport" ? fakes.iamport : fakes.toss;
    const reservation = await reserve(server, vendor, fake.host);
    const created = await call("POST", "/payments/subscriptions", subscriptionBody(reservation, overrides));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  };

  /** Waits until subscription id has count periods in state. */
  const periodsIn = (id, state, count, what) => waitFor(async () => {
    const periods = await periodsOf(server, id);
    return periods.filter((p) => p.state === state).length === count ? periods : null;
  }, 20_000, what);

  const change = async (id, action) => {
    const res = await call("PUT", `/payments/subscriptions/${id}/${action}`, { password: PASSWORD });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };

  before(async () => {
    fakes.iamport = await startFakeServer("fake-iamport-server");
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    alerts = await startWebhookListener("/alerts", 200);
    clock = testClock("2027-01-10T00:00:00Z");
    server = await startServer({
      workers: 2,
      env: {
        PAYMENT_IAMPORT_URL: fakes.iamport.host,
        PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host,
        PAYMENT_TEST_CLOCK: clock.file,
        PAYMENT_SCHEDULER_INTERVAL: "100ms",
        PAYMENT_ALERT_WEBHOOK_URL: alerts.url,
        PAYMENT_ALERT_FAILURE_RUN: "0",
      },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    for (const fake of Object.values(fakes)) await stopFake(fake);
    if (alerts) await alerts.close();
  });

  test("days 1, 15 and last through three months with February: exactly the expected charges", async () => {
    const before = await charges(fakes.iamport);
    const s = await subscribe("iamport");
    assert.equal(s.next_due_at, "2027-01-15T00:00:00.000Z");
    // 09:00 in Seoul is midnight UTC; February has 28 days in 2027.
    const expected = ["2027-01-15", "2027-01-31", "2027-02-01", "2027-02-15", "2027-02-28", "2027-03-01",
      "2027-03-15", "2027-03-31", "2027-04-01"].map((day) => `${day} 00:00`);
    for (const [i, due] of expected.entries()) {
      clock.set(`${due.replace(" ", "T")}:00Z`);
      const periods = await periodsIn(s.id, "charged", i + 1, `the charge of ${due}`);
      assert.deepEqual(periods.map((p) => p.due), expected.slice(0, i + 1));
    }
    // A probe due on April 10th: once it is charged, the scheduler has looked
    // past every instant before it, and charged nothing more of the first.
    clock.set("2027-04-05T00:00:00Z");
    const probe = await subscribe("iamport", { schedule: { days: [10], time: "00:00", time_zone: "UTC" } });
    clock.set("2027-04-10T00:00:00Z");
    await periodsIn(probe.id, "charged", 1, "the probe's charge");
    const periods = await periodsOf(server, s.id);
    assert.equal(periods.length, expected.length);
    assert.equal(await charges(fakes.iamport) - before, expected.length + 1);
    // Each period's payment is a history whose source is the period.
    const histories = await query(server.env.PAYMENT_POSTGRES_SCHEMA,
      "SELECT h.price::float AS price FROM payment_histories h JOIN payment_subscription_periods p" +
      " ON h.id = p.history_id AND h.source_id = p.id AND h.source_table = 'payment_subscription_periods'" +
      " WHERE p.subscription_id = :'id'", { id: s.id });
    assert.equal(histories.length, expected.length);
    assert.ok(histories.every((h) => h.price === 9900));
    await change(s.id, "cancel");
    await change(probe.id, "cancel");
  });

  test("dunning: refused twice, then charged on the schedule's days; no alert", async () => {
    clock.set("2027-05-20T00:00:00Z");
    const s = await subscribe("toss.payments", {
      schedule: { days: [1], time: "00:00", time_zone: "UTC" }, webhook_url: server.url("/payments/internal/webhook"),
    });
    const before = { charges: await charges(fakes.toss), refusals: await refusals(fakes.toss) };
    await setFakeBilling(fakes.toss, { fail_next: 2 });
    clock.set("2027-06-01T00:00:00Z");
    let periods = await waitFor(async () => {
      const list = await periodsOf(server, s.id);
      return list[0]?.attempts === 1 && list[0].state === "due" ? list : null;
    }, 20_000, "the first refusal");
    assert.equal(periods[0].next_attempt, "2027-06-02 00:00"); // one day later
    assert.match(periods[0].outcome, /^refused by toss\.payments/);
    clock.set("2027-06-02T00:00:00Z");
    periods = await waitFor(async () => {
      const list = await periodsOf(server, s.id);
      return list[0].attempts === 2 && list[0].state === "due" ? list : null;
    }, 20_000, "the second refusal");
    assert.equal(periods[0].next_attempt, "2027-06-05 00:00"); // three days later
    clock.set("2027-06-05T00:00:00Z");
    periods = await periodsIn(s.id, "charged", 1, "the charge after two refusals");
    assert.equal(periods.length, 1);
    assert.equal(periods[0].attempts, 2);
    assert.ok(periods[0].history_id);
    assert.equal(await refusals(fakes.toss) - before.refusals, 2);
    assert.equal(await charges(fakes.toss) - before.charges, 1);
    const read = await call("PATCH", `/payments/subscriptions/${s.id}`, { password: PASSWORD });
    assert.equal(read.body.state, "active");
    assert.equal(alerts.received.length, 0);
    // A signed notification for each refusal and for the charge.
    assert.deepEqual(await notificationTypes(server, s.id, 3), ["charged", "refused", "refused"]);
    const kept = await notificationsOf(server, s.id);
    const charge = kept.find((n) => n.type === "charged");
    assert.equal(charge.period.history_id, periods[0].history_id);
    assert.deepEqual(charge.source, { schema: "payments", table: "payment_subscriptions", id: s.id });
    await change(s.id, "cancel");
  });

  test("dunning: refused to the end, past due, exactly one alert; resumed, charged again", async () => {
    clock.set("2027-07-20T00:00:00Z");
    const s = await subscribe("toss.payments", {
      schedule: { days: [1], time: "00:00", time_zone: "UTC" }, webhook_url: server.url("/payments/internal/webhook"),
    });
    const before = await charges(fakes.toss);
    await setFakeBilling(fakes.toss, { fail_next: 4 });
    // The first attempt, then 1, 3 and 7 days after each refusal.
    for (const [attempts, at] of [[1, "2027-08-01"], [2, "2027-08-02"], [3, "2027-08-05"], [4, "2027-08-12"]]) {
      clock.set(`${at}T00:00:00Z`);
      await waitFor(async () => (await periodsOf(server, s.id))[0]?.attempts === attempts, 20_000, `refusal ${attempts}`);
    }
    const periods = await periodsIn(s.id, "failed", 1, "the failed period");
    assert.equal(periods.length, 1);
    const read = await call("PATCH", `/payments/subscriptions/${s.id}`, { password: PASSWORD });
    assert.equal(read.body.state, "past_due");
    assert.equal(read.body.next_due_at, null);
    await waitFor(() => alerts.received.length === 1, 20_000, "the alert");
    const [alert] = alerts.received;
    assert.deepEqual(Object.keys(alert.body), ["text"]);
    assert.ok(alert.body.text.includes(s.id) && /past due/.test(alert.body.text), alert.body.text);
    assert.ok(!/5555|4444|3333|2222/.test(alert.body.text), "no card number in an alert");
    assert.deepEqual(await notificationTypes(server, s.id, 4), ["past_due", "refused", "refused", "refused"]);
    const pastDue = (await notificationsOf(server, s.id)).find((n) => n.type === "past_due");
    assert.deepEqual([pastDue.previous, pastDue.current], ["active", "past_due"]);
    // Past due charges nothing, even on its next day of the month.
    clock.set("2027-09-01T00:00:00Z");
    const probe = await subscribe("toss.payments", { schedule: { days: [2], time: "00:00", time_zone: "UTC" } });
    clock.set("2027-09-02T00:00:00Z");
    await periodsIn(probe.id, "charged", 1, "the probe's charge");
    assert.equal((await periodsOf(server, s.id)).length, 1);
    // Resumed: charged from the next due instant, never for what it missed.
    const resumed = await change(s.id, "resume");
    assert.equal(resumed.state, "active");
    assert.equal(resumed.next_due_at, "2027-10-01T00:00:00.000Z");
    clock.set("2027-10-01T00:00:00Z");
    await periodsIn(s.id, "charged", 1, "the charge after the resume");
    assert.equal(await charges(fakes.toss) - before, 2);
    assert.equal(alerts.received.length, 1, "one alert per incident");
    await change(s.id, "cancel");
    await change(probe.id, "cancel");
  });

  test("a charge refused while its subscription was cancelled: its period is skipped, never retried", async () => {
    clock.set("2027-09-20T00:00:00Z");
    const s = await subscribe("toss.payments", { schedule: { days: [1], time: "00:00", time_zone: "UTC" } });
    const before = await refusals(fakes.toss);
    await setFakeBilling(fakes.toss, { fail_next: 1 });
    await setFakeLatency(fakes.toss, { ms: 2_000, match: "/v1/billing/" });
    try {
      clock.set("2027-10-01T00:00:00Z");
      await waitFor(async () => await refusals(fakes.toss) - before === 1, 20_000, "the refusal at the fake");
      assert.equal((await change(s.id, "cancel")).state, "cancelled");
    } finally {
      await setFakeLatency(fakes.toss, { ms: 0 });
    }
    const [period] = await periodsIn(s.id, "skipped", 1, "the skipped period");
    assert.equal(period.attempts, 1);
  });

  test("pause, resume and cancel take effect at the next due period; cancelled is never charged again", async () => {
    clock.set("2027-11-10T00:00:00Z");
    const s = await subscribe("iamport", {
      schedule: { days: [1, 15], time: "00:00", time_zone: "UTC" }, webhook_url: server.url("/payments/internal/webhook"),
    });
    const probe = await subscribe("iamport", { schedule: { days: [1, 15], time: "00:00", time_zone: "UTC" } });
    const before = await charges(fakes.iamport);
    await change(s.id, "pause");
    clock.set("2027-11-15T00:00:00Z");
    await periodsIn(probe.id, "charged", 1, "the probe's charge of the 15th");
    assert.equal((await periodsOf(server, s.id)).length, 0, "paused: not charged");
    clock.set("2027-11-20T00:00:00Z");
    const resumed = await change(s.id, "resume");
    assert.equal(resumed.next_due_at, "2027-12-01T00:00:00.000Z");
    clock.set("2027-12-01T00:00:00Z");
    await periodsIn(s.id, "charged", 1, "the charge after the resume");
    await periodsIn(probe.id, "charged", 2, "the probe's charge of the 1st");
    await change(s.id, "cancel");
    for (const [count, at] of [[3, "2027-12-15"], [4, "2028-01-01"]]) {
      clock.set(`${at}T00:00:00Z`);
      await periodsIn(probe.id, "charged", count, `the probe's charge of ${at}`);
    }
    assert.equal((await periodsOf(server, s.id)).length, 1, "cancelled: never charged again");
    assert.equal(await charges(fakes.iamport) - before, 5);
    // Each change of state, and the charge, notified once.
    assert.deepEqual(await notificationTypes(server, s.id, 4), ["cancelled", "charged", "paused", "resumed"]);
    await change(probe.id, "cancel");
  });
});

describe("the alert on a run of refusals", () => {
  let fake;
  let server;
  let clock;
  let alerts;

  before(async () => {
    fake = await startFakeServer("fake-toss-payments-server");
    alerts = await startWebhookListener("/alerts", 200);
    clock = testClock("2027-01-10T00:00:00Z");
    server = await startServer({
      workers: 1, // the run is each worker's own count
      env: {
        PAYMENT_TOSS_PAYMENTS_URL: fake.host,
        PAYMENT_TEST_CLOCK: clock.file,
        PAYMENT_SCHEDULER_INTERVAL: "100ms",
        PAYMENT_ALERT_WEBHOOK_URL: alerts.url,
        PAYMENT_ALERT_FAILURE_RUN: "3",
        PAYMENT_DUNNING_SCHEDULE: "30d", // no retry within the test
      },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    if (fake) await stopFake(fake);
    if (alerts) await alerts.close();
  });

  test("three refusals in a row across subscriptions: one alert, none for the fourth", async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) {
      const reservation = await reserve(server, "toss.payments", fake.host);
      const created = await callOn(server, "POST", "/payments/subscriptions",
        subscriptionBody(reservation, { schedule: { days: [1 + i], time: "00:00", time_zone: "UTC" } }));
      ids.push(created.body.id);
    }
    await setFakeBilling(fake, { fail_next: 4 });
    for (const [i, id] of ids.entries()) {
      clock.set(`2027-02-0${1 + i}T00:00:00Z`);
      await waitFor(async () => (await periodsOf(server, id))[0]?.attempts === 1, 20_000, `refusal ${i + 1}`);
      if (i === 2) await waitFor(() => alerts.received.length === 1, 20_000, "the alert of the run");
    }
    assert.equal(alerts.received.length, 1, "one alert per run");
    assert.match(alerts.received[0].body.text, /3 in a row were refused/);
  });
});
