// Alerts are incidents counted in PostgreSQL: two masters on one database,
// each with its own test clock so that the subscriptions due refuse in turn
// on one instance then the other, make one run across them, and exactly one
// alert when it reaches PAYMENT_ALERT_FAILURE_RUN (each worker alone never
// would); refusals past it add none; a charge that succeeds ends the run and
// the next run alerts again, even when every worker is killed while its
// alert is on the way. No card data and no secret in an alert.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";

import { query } from "../lib/database.mjs";
import { fakeStats, setFakeBilling, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { waitFor } from "../lib/process.mjs";
import { startServer, stopCleanly } from "../lib/server.mjs";
import {
  SUBSCRIPTION_PASSWORD as PASSWORD, call, killEveryWorker, periodsOf, reserve, subscriptionBody, testClock,
} from "../lib/subscriptions.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

registerSecret("record password", PASSWORD);

const RUN = 4;

/** The alert receiver: answers 200 and keeps what it accepted, or, while
 * holding, keeps the request unanswered (its sender dies with it). */
async function startAlertReceiver() {
  const accepted = [];
  const held = [];
  let holding = false;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      const alert = {
        id: req.headers["x-payments-webhook-id"],
        contentType: req.headers["content-type"],
        signed: Boolean(req.headers["x-payments-signature"] && req.headers["x-payments-timestamp"]),
        raw: body,
        body: JSON.parse(body),
      };
      if (holding) {
        held.push({ alert, res });
        return;
      }
      accepted.push(alert);
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/alerts`,
    accepted,
    held,
    hold(on) { holding = on; },
    close() {
      for (const { res } of held) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("alerts across instances", () => {
  let fake;
  let alerts;
  const servers = [];
  const clocks = [];
  let schema;
  let day = 0; // the last day of February given to a subscription
  let turn = 0; // the instance charging next

  /** A subscription due on the next free day of February, at 00:00 UTC. */
  const subscribe = async () => {
    day += 1;
    const reservation = await reserve(servers[0], "toss.payments", fake.host);
    const created = await call(servers[0], "POST", "/payments/subscriptions",
      subscriptionBody(reservation, { schedule: { days: [day], time: "00:00", time_zone: "UTC" } }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.id, day };
  };

  /** Moves the clock of instance (0 or 1) to the subscription's day, so
   * that instance alone charges it, and waits for its outcome. */
  const chargeOn = async (instance, subscription, outcome) => {
    clocks[instance].set(`2027-02-${String(subscription.day).padStart(2, "0")}T00:00:00Z`);
    return waitFor(async () => {
      const [period] = await periodsOf(servers[0], subscription.id);
      if (outcome === "refused") return period?.attempts === 1 ? period : null;
      return period?.state === "charged" ? period : null;
    }, 20_000, `the ${outcome} charge of day ${subscription.day}`);
  };

  /** Refusals of count new subscriptions, alternating between the instances. */
  const refuseInTurn = async (count) => {
    await setFakeBilling(fake, { fail_next: count });
    for (let i = 0; i < count; i++) await chargeOn(turn++ % 2, await subscribe(), "refused");
  };

  const incidents = () => query(schema,
    "SELECT kind, closed_at IS NULL AS open FROM payment_alert_incidents ORDER BY opened_at");
  const queuedAlerts = async () => (await query(schema,
    "SELECT count(*)::int AS n FROM payment_webhooks WHERE origin = 'alert'"))[0].n;

  /** Every setting's secret value, the password and the card's digits:
   * none may appear in an alert. */
  const assertNothingSecret = (alert) => {
    for (const [name, value] of Object.entries(servers[0].env)) {
      if (/KEY|IV|PASSWORD|SECRET/.test(name) && value && value.length >= 6) {
        assert.ok(!alert.raw.includes(value), `${name} in an alert`);
      }
    }
    assert.ok(!alert.raw.includes(PASSWORD), "the record password in an alert");
    assert.ok(!/\d{12,}/.test(alert.raw), "no card number in an alert");
  };

  before(async () => {
    fake = await startFakeServer("fake-toss-payments-server");
    alerts = await startAlertReceiver();
    schema = `t_${process.pid}_subscription_alerts`;
    for (let i = 0; i < 2; i++) {
      clocks.push(testClock("2027-01-10T00:00:00Z"));
      servers.push(await startServer({
        workers: 2,
        schema,
        env: {
          PAYMENT_TOSS_PAYMENTS_URL: fake.host,
          PAYMENT_TEST_CLOCK: clocks[i].file,
          PAYMENT_SCHEDULER_INTERVAL: "100ms",
          PAYMENT_DUNNING_SCHEDULE: "30d", // no retry within the test
          PAYMENT_ALERT_WEBHOOK_URL: alerts.url,
          PAYMENT_ALERT_FAILURE_RUN: String(RUN),
          PAYMENT_WEBHOOK_TIMEOUT_MS: "1000",
          PAYMENT_WEBHOOK_RETRY_SCHEDULE: "200ms,200ms,200ms,200ms,200ms",
          PAYMENT_VENDOR_TIMEOUT_MS: "4000",
        },
      }));
    }
  });

  after(async () => {
    for (const server of servers) await stopCleanly(server);
    if (fake) await stopFake(fake);
    if (alerts) await alerts.close();
  });

  test("refusals in turn on two instances: one alert when the run reaches the threshold, none after", async () => {
    await refuseInTurn(RUN - 1);
    assert.equal(await queuedAlerts(), 0, "no alert before the run is long enough");
    await refuseInTurn(1);
    await waitFor(() => alerts.accepted.length === 1, 20_000, "the alert of the run");
    await refuseInTurn(2);
    assert.deepEqual(await incidents(), [{ kind: "refusal_run", open: true }]);
    assert.equal(await queuedAlerts(), 1, "one alert per incident");
    const [alert] = alerts.accepted;
    assert.deepEqual(Object.keys(alert.body), ["text"]);
    assert.match(alert.body.text, new RegExp(`${RUN} in a row were refused`));
    assert.equal(alert.contentType, "application/json");
    assert.ok(alert.signed, "signed like every notification");
    assertNothingSecret(alert);
  });

  test("a success ends the run; the next run alerts again though every worker dies as it is sent", async () => {
    const billingBefore = await fakeStats(fake);
    await chargeOn(turn++ % 2, await subscribe(), "charged");
    assert.equal((await fakeStats(fake)).billing_charges - billingBefore.billing_charges, 1);
    assert.deepEqual(await incidents(), [{ kind: "refusal_run", open: false }]);
    await refuseInTurn(RUN - 1);
    alerts.hold(true);
    await refuseInTurn(1);
    await waitFor(() => alerts.held.length >= 1, 20_000, "the second run's alert on its way");
    await killEveryWorker(servers);
    alerts.hold(false);
    for (const { res } of alerts.held) res.destroy(); // its sender is gone: no answer comes
    await waitFor(() => alerts.accepted.length === 2, 30_000, "the second run's alert, sent again");
    const second = alerts.accepted[1];
    assert.equal(second.id, alerts.held[0].alert.id, "the same alert, not a new one");
    assert.notEqual(second.id, alerts.accepted[0].id);
    assert.match(second.body.text, new RegExp(`${RUN} in a row were refused`));
    assertNothingSecret(second);
    assert.equal(await queuedAlerts(), 2);
    assert.deepEqual((await incidents()).map((i) => i.open), [false, true]);
  });
});
