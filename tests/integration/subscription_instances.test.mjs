// Exactly one charge per subscription period across instances: two masters
// (two workers each) on one database charge periods due at one instant
// once each; and with every worker of both killed (SIGKILL) while the fake
// holds their charges, the periods are still charged once each at the
// vendor: the reconciler resends the same orders, which the vendor answers
// with the first payments, and the periods' next claims find the histories.
// A refusal whose worker was killed counts toward dunning: the period waits
// for its retry instead of being charged again at once, also after a refusal
// decided before any vendor call.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { execute, query } from "../lib/database.mjs";
import { fakeStats, setFakeBilling, setFakeLatency, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { waitFor } from "../lib/process.mjs";
import { startServer, stopCleanly } from "../lib/server.mjs";
import {
  SUBSCRIPTION_PASSWORD as PASSWORD, call, killEveryWorker, periodsOf, reserve, subscriptionBody, testClock,
} from "../lib/subscriptions.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

registerSecret("record password", PASSWORD);

describe("subscriptions on two instances", () => {
  let fake;
  let clock;
  const servers = [];

  const charges = async () => (await fakeStats(fake)).billing_charges;

  /** count subscriptions of new reservations, all due on day of the month at 00:00 UTC. */
  const subscribeMany = async (count, day) => {
    const ids = [];
    for (let i = 0; i < count; i++) {
      const server = servers[i % servers.length];
      const reservation = await reserve(server, "toss.payments", fake.host);
      const created = await call(server, "POST", "/payments/subscriptions",
        subscriptionBody(reservation, { schedule: { days: [day], time: "00:00", time_zone: "UTC" } }));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      ids.push(created.body.id);
    }
    return ids;
  };

  /** Waits until every subscription of ids has charged periods, then returns them. */
  const charged = (ids, periods, timeout) => waitFor(async () => {
    const all = await Promise.all(ids.map((id) => periodsOf(servers[0], id)));
    return all.every((list) => list.filter((p) => p.state === "charged").length === periods) ? all : null;
  }, timeout, "every period charged");

  before(async () => {
    fake = await startFakeServer("fake-toss-payments-server");
    clock = testClock("2027-01-10T00:00:00Z");
    const env = {
      PAYMENT_TOSS_PAYMENTS_URL: fake.host,
      PAYMENT_TEST_CLOCK: clock.file,
      PAYMENT_SCHEDULER_INTERVAL: "100ms",
      PAYMENT_VENDOR_TIMEOUT_MS: "4000",
      PAYMENT_RECONCILE_INTERVAL_MS: "200",
      PAYMENT_RECONCILE_AFTER_MS: "1000",
    };
    const schema = `t_${process.pid}_subscription_instances`;
    servers.push(await startServer({ workers: 2, schema, env }));
    servers.push(await startServer({ workers: 2, schema, env }));
  });

  after(async () => {
    for (const server of servers) await stopCleanly(server);
    if (fake) {
      await setFakeLatency(fake, { ms: 0 });
      await stopFake(fake);
    }
  });

  test("periods due at one instant are charged once each by four workers of two instances", async () => {
    const ids = await subscribeMany(6, 1);
    const before = await charges();
    clock.set("2027-02-01T00:00:00Z");
    await charged(ids, 1, 30_000);
    assert.equal(await charges() - before, 6);
  });

  test("every worker killed while the fake holds the charges: still one charge per period", async () => {
    const ids = await subscribeMany(3, 15);
    const before = await charges();
    const replaysBefore = (await fakeStats(fake)).idempotent_replays;
    await setFakeLatency(fake, { ms: 3_000, match: "/v1/billing/" });
    try {
      clock.set("2027-02-15T00:00:00Z");
      await waitFor(async () => await charges() - before === 3, 20_000, "the three charges at the fake");
      await killEveryWorker(servers);
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
    const periods = await charged(ids, 1, 60_000);
    assert.equal(await charges() - before, 3, "one charge per period at the vendor");
    assert.ok((await fakeStats(fake)).idempotent_replays > replaysBefore, "the resends got the first charges");
    const historyIds = periods.map((list) => list[0].history_id);
    const histories = await query(servers[0].env.PAYMENT_POSTGRES_SCHEMA,
      "SELECT id FROM payment_histories WHERE source_table = 'payment_subscription_periods'" +
      " AND id = ANY (string_to_array(:'ids', ',')::uuid[])", { ids: historyIds.join(",") });
    assert.equal(histories.length, 3);
  });

  test("a refusal whose worker was killed counts toward dunning: not charged again before its retry", async () => {
    const [id] = await subscribeMany(1, 20);
    const before = { charges: await charges(), refusals: (await fakeStats(fake)).billing_refusals };
    await setFakeBilling(fake, { fail_next: 1 });
    await setFakeLatency(fake, { ms: 3_000, match: "/v1/billing/" });
    try {
      clock.set("2027-02-20T00:00:00Z");
      await waitFor(async () => (await fakeStats(fake)).billing_refusals - before.refusals === 1, 20_000,
        "the refusal at the fake");
      await killEveryWorker(servers);
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
    const [period] = await waitFor(async () => {
      const list = await periodsOf(servers[0], id);
      return list[0]?.attempts === 1 ? list : null;
    }, 60_000, "the refusal counted");
    assert.equal(period.state, "due");
    assert.equal(period.next_attempt, "2027-02-21 00:00");
    assert.equal(await charges() - before.charges, 0, "not charged again before its retry");
    clock.set("2027-02-21T00:00:00Z");
    await charged([id], 1, 30_000);
    assert.equal(await charges() - before.charges, 1);
  });

  test("a refusal before any vendor call, then a vendor's refusal whose worker was killed: each counts once", async () => {
    clock.set("2027-02-21T12:00:00Z"); // its first period is the 22nd's, whichever tests ran before
    const [id] = await subscribeMany(1, 22);
    const schema = servers[0].env.PAYMENT_POSTGRES_SCHEMA;
    /* The reservation out of sight (its id moved, the foreign key's
     * triggers off for that statement's session), then back: a 404 decided
     * before any vendor call. */
    const [{ reservation_id: reservationId }] = await query(schema,
      "SELECT reservation_id FROM payment_subscriptions WHERE id = :'id'", { id });
    const hidden = randomUUID();
    const moveReservation = (from, to) => execute(schema,
      "SET session_replication_role = replica; UPDATE payment_reservations SET id = :'to' WHERE id = :'from'",
      { from, to });
    await moveReservation(reservationId, hidden);
    clock.set("2027-02-22T00:00:00Z");
    await waitFor(async () => (await periodsOf(servers[0], id))[0]?.attempts === 1, 20_000,
      "the refusal before any call");
    await moveReservation(hidden, reservationId);
    const before = { charges: await charges(), refusals: (await fakeStats(fake)).billing_refusals };
    await setFakeBilling(fake, { fail_next: 1 });
    await setFakeLatency(fake, { ms: 3_000, match: "/v1/billing/" });
    try {
      clock.set("2027-02-23T00:00:00Z");
      await waitFor(async () => (await fakeStats(fake)).billing_refusals - before.refusals === 1, 20_000,
        "the vendor's refusal at the fake");
      await killEveryWorker(servers);
    } finally {
      await setFakeLatency(fake, { ms: 0 });
    }
    const [period] = await waitFor(async () => {
      const list = await periodsOf(servers[0], id);
      return list[0]?.attempts === 2 ? list : null;
    }, 60_000, "the vendor's refusal counted");
    assert.equal(period.state, "due");
    assert.equal(period.next_attempt, "2027-02-26 00:00", "the schedule's second wait, from the second refusal");
    assert.equal(await charges() - before.charges, 0, "not charged again before its retry");
  });
});
