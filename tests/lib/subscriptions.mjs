// What the subscription tests share: encrypted calls, a reservation at a
// fake, the test clock's file, and the periods as the database holds them.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { query } from "./database.mjs";
import { errorOf, newSource, send } from "./keyed_request.mjs";
import { tempDir, waitFor } from "./process.mjs";
import { decryptBody, request } from "./server.mjs";
import { iamportDriver, tossDriver } from "./vendor_drivers.mjs";

export const SUBSCRIPTION_STORE_ID = "subscription-store";
export const SUBSCRIPTION_PASSWORD = "subscription-password";

/** An encrypted request to server: {status, body} (an error's JSON below 300 or not). */
export async function call(server, method, route, value) {
  const res = await send(server, method, route, value);
  const body = res.status < 300 ? await decryptBody(res.body, server.env) : errorOf(res);
  return { status: res.status, body };
}

/** A test clock: its file (PAYMENT_TEST_CLOCK) and set(instant). */
export function testClock(instant) {
  const file = path.join(tempDir("payments-clock-"), "now");
  const set = (at) => fs.writeFileSync(file, `${at}\n`);
  set(instant);
  return { file, set };
}

/** A billing key at the fake of vendor ("iamport" or "toss.payments"),
 * recorded as a reservation: {id, source}. */
export async function reserve(server, vendor, fakeHost) {
  const source = newSource();
  const driver = vendor === "iamport" ? iamportDriver(fakeHost) : tossDriver(fakeHost);
  const uid = await driver.billingKey(source.id);
  const created = await call(server, "POST", "/payments/reservations", {
    vendor: { code: vendor, store_id: SUBSCRIPTION_STORE_ID, uid }, source, title: "plan",
    password: SUBSCRIPTION_PASSWORD,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: created.body.id, source };
}

/** A subscription's create body for reservation, with overrides. */
export const subscriptionBody = (reservation, overrides = {}) => ({
  reservation_id: reservation.id,
  password: SUBSCRIPTION_PASSWORD,
  amount: 9900,
  currency: "KRW",
  name: "monthly plan",
  schedule: { days: [1, 15, "last"], time: "09:00", time_zone: "Asia/Seoul" },
  webhook_url: "http://127.0.0.1:9/payments/webhook",
  ...overrides,
});

/** A subscription's periods, oldest first: {due (UTC, minutes), state,
 * attempts, outcome, history_id, next_attempt}. */
export function periodsOf(server, subscriptionId) {
  return query(server.env.PAYMENT_POSTGRES_SCHEMA,
    "SELECT to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS due, state, attempts, outcome, history_id," +
    " to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS next_attempt" +
    " FROM payment_subscription_periods WHERE subscription_id = :'id' ORDER BY due_at", { id: subscriptionId });
}

/** The notifications of subscription id the local test receiver kept
 * (webhook_url: server.url("/payments/internal/webhook")): [{signed, type,
 * previous, current, period}] (states, and the event's period). */
export async function notificationsOf(server, id) {
  const res = await request(server.url(`/payments/internal/webhook?history_id=${id}`));
  assert.equal(res.status, 200, res.body);
  return (await decryptBody(res.body, server.env)).map(({ signed, webhook }) => ({
    signed, type: webhook.event?.type, previous: webhook.previous.state, current: webhook.current.state,
    period: webhook.event?.period ?? null, source: webhook.source,
  }));
}

/** Waits until subscription id has count notifications; returns their types, sorted. */
export async function notificationTypes(server, id, count) {
  const list = await waitFor(async () => {
    const kept = await notificationsOf(server, id);
    return kept.length >= count ? kept : null;
  }, 20_000, `${count} notifications`);
  assert.equal(list.length, count, JSON.stringify(list));
  assert.ok(list.every((n) => n.signed), "every notification signed");
  return list.map((n) => n.type).sort();
}

/** SIGKILL to every worker of every server; waits until each master has as
 * many workers ready again, none of them killed. */
export async function killEveryWorker(servers) {
  const killed = [];
  for (const server of servers) {
    for (const pid of await server.readyPids()) {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    }
  }
  await waitFor(async () => {
    const ready = (await Promise.all(servers.map((s) => s.readyPids()))).flat();
    return ready.length === killed.length && ready.every((pid) => !killed.includes(pid));
  }, 30_000, "the respawned workers");
}
