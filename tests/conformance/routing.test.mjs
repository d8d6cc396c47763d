// Routing by merchant id and currency: POST /payments/routes/resolve answers
// the vendor and store of the first matching rule of PAYMENT_ROUTES_FILE,
// reservations may name a route instead of a vendor (and stay readable by the
// original SDK), a reload reads a changed file without a failed request, and
// a broken file is refused at start-up and on reload.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";

import { loadContract } from "../lib/openapi.mjs";
import { startFakeServer, stopFake } from "../lib/fakes.mjs";
import { binary, freePort, sleep, start, tempDir, waitFor } from "../lib/process.mjs";
import {
  baseEnv, control, decryptBody, encryptBody, request, sdkConnection, startServer, stopCleanly,
} from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";
import { iamportDriver, tossDriver } from "../lib/vendor_drivers.mjs";

registerSecret("record password", "route-password");

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;
const contract = loadContract("payment-backend");

const rule = (name, pg, mid, currency, vendor, store_id, fallback) =>
  ({ ...(name ? { name } : {}), pg, mid, currency, vendor, store_id, ...(fallback ? { fallback } : {}) });

// The example without its catch-all (Inicis is not a vendor here), so
// that some keys match no rule.
const firstTable = [
  rule("mid-a-krw-cards", "card", "A", "KRW", "toss.payments", "toss-direct"),
  rule("mid-b", "*", "B", "*", "iamport", "imp-b"),
  rule("usd", "*", "*", "USD", "iamport", "imp-global", { vendor: "toss.payments", store_id: "toss-global" }),
];
// What the reload brings: mid B moves to Toss, and a catch-all without a name.
const secondTable = [
  rule("mid-a-krw-cards", "card", "A", "KRW", "toss.payments", "toss-direct"),
  rule("mid-b", "*", "B", "*", "toss.payments", "toss-b"),
  rule("usd", "*", "*", "USD", "iamport", "imp-global", { vendor: "toss.payments", store_id: "toss-global" }),
  rule(null, "*", "*", "*", "iamport", "everything-else"),
];

const writeTable = (file, rules) => fs.writeFileSync(file, JSON.stringify({ routes: rules }, null, 2));

/** An encrypted POST; the answer decrypted when it succeeded, plain JSON otherwise. */
async function post(server, route, body, agent) {
  const res = await request(server.url(route), {
    method: "POST", agent, headers: { "Content-Type": "text/plain" }, body: await encryptBody(body, server.env),
  });
  const ok = res.status >= 200 && res.status < 300;
  return { status: res.status, json: ok ? await decryptBody(res.body, server.env) : JSON.parse(res.body) };
}

const resolve = (server, key, agent) => post(server, "/payments/routes/resolve", key, agent);

describe("routing", () => {
  let iamportFake;
  let tossFake;
  let server;
  let routesFile;
  let connection;
  const drivers = {};

  before(async () => {
    iamportFake = await startFakeServer("fake-iamport-server");
    tossFake = await startFakeServer("fake-toss-payments-server");
    routesFile = path.join(tempDir("payments-routes-"), "routes.json");
    writeTable(routesFile, firstTable);
    server = await startServer({
      env: { PAYMENT_IAMPORT_URL: iamportFake.host, PAYMENT_TOSS_PAYMENTS_URL: tossFake.host, PAYMENT_ROUTES_FILE: routesFile },
    });
    connection = sdkConnection(server);
    drivers.iamport = iamportDriver(iamportFake.host);
    drivers.toss = tossDriver(tossFake.host);
  });

  after(async () => {
    if (server) await stopCleanly(server);
    for (const fake of [iamportFake, tossFake]) if (fake) await stopFake(fake);
  });

  test("each rule picks its vendor and store, first match wins, * matches anything", async () => {
    const cases = [
      [{ pg: "card", mid: "A", currency: "KRW" }, "toss.payments", "toss-direct", "mid-a-krw-cards", null],
      [{ pg: "vbank", mid: "B", currency: "KRW" }, "iamport", "imp-b", "mid-b", null],
      // mid B comes before USD in the file.
      [{ pg: "card", mid: "B", currency: "USD" }, "iamport", "imp-b", "mid-b", null],
      [{ pg: "card", mid: "A", currency: "USD" }, "iamport", "imp-global", "usd",
        { code: "toss.payments", store_id: "toss-global" }],
      [{ pg: "kakaopay", mid: "Z", currency: "USD" }, "iamport", "imp-global", "usd",
        { code: "toss.payments", store_id: "toss-global" }],
    ];
    for (const [key, code, storeId, name, fallback] of cases) {
      const { status, json } = await resolve(server, key);
      assert.equal(status, 200, JSON.stringify({ key, json }));
      assert.deepEqual(json, { vendor: { code, store_id: storeId }, route: name, fallback, used_fallback: false, primary: null },
        JSON.stringify(key));
    }
  });

  test("a key no rule matches is a 400 naming it", async () => {
    for (const key of [{ pg: "vbank", mid: "A", currency: "KRW" }, { pg: "card", mid: "C", currency: "KRW" }]) {
      const { status, json } = await resolve(server, key);
      assert.equal(status, 400);
      assert.equal(json.statusCode, 400);
      assert.equal(json.message, `no route for pg ${key.pg}, mid ${key.mid}, currency ${key.currency}`);
    }
  });

  test("a bad key is a 400 naming the field", async () => {
    const cases = [
      [{ mid: "A", currency: "KRW" }, "pg is required"],
      [{ pg: "card", mid: 7, currency: "KRW" }, "mid must be a string"],
      [{ pg: "card", mid: "", currency: "KRW" }, "mid must not be empty"],
      [{ pg: "card", mid: "A", currency: "krw" }, "currency must be an ISO 4217 code (three capital letters)"],
      [{ pg: "card", mid: "A", currency: "*" }, "currency must be an ISO 4217 code (three capital letters)"],
    ];
    for (const [key, message] of cases) {
      const { status, json } = await resolve(server, key);
      assert.equal(status, 400, JSON.stringify(key));
      assert.equal(json.message, message);
    }
  });

  describe("reservations by route", () => {
    const newSource = () => ({ schema: "shopping", table: "shopping_subscriptions", id: randomUUID() });

    for (const [name, key, storeId] of [
      ["toss", { pg: "card", mid: "A", currency: "KRW" }, "toss-direct"],
      ["iamport", { pg: "card", mid: "B", currency: "KRW" }, "imp-b"],
    ]) {
      test(`${name}: stored with the route's vendor and store, read back by the original SDK`, async () => {
        const vendor = drivers[name];
        const source = newSource();
        const uid = await vendor.billingKey(source.id);
        const created = await post(server, "/payments/reservations", {
          route: key, vendor: { uid }, source, title: "routed plan", password: "route-password",
        });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        assert.equal(created.json.vendor_code, vendor.code);
        assert.deepEqual(created.json.vendor, { code: vendor.code, store_id: storeId, uid });
        contract.validate(vendor.reservationSchema, created.json);
        const byId = await api.reservations.at(connection, created.json.id, { password: "route-password" });
        assert.deepEqual(contract.validate(vendor.reservationSchema, byId), created.json);
        const bySource = await api.reservations.get(connection, { ...source, password: "route-password" });
        assert.deepEqual(bySource, created.json);
      });
    }

    test("an unmatched route, or a route beside a vendor code, is refused and stores nothing", async () => {
      const source = newSource();
      const uid = await drivers.toss.billingKey(source.id);
      const base = { source, title: "routed plan", password: "route-password" };
      const unmatched = await post(server, "/payments/reservations", {
        ...base, route: { pg: "card", mid: "C", currency: "KRW" }, vendor: { uid },
      });
      assert.equal(unmatched.status, 400);
      assert.equal(unmatched.json.message, "no route for pg card, mid C, currency KRW");
      const both = await post(server, "/payments/reservations", {
        ...base, route: { pg: "card", mid: "A", currency: "KRW" }, vendor: { code: "toss.payments", uid },
      });
      assert.equal(both.status, 400);
      assert.equal(both.json.message, "vendor.code must be left out when route names the vendor");
      const badKey = await post(server, "/payments/reservations", {
        ...base, route: { pg: "card", mid: "A", currency: "won" }, vendor: { uid },
      });
      assert.equal(badKey.status, 400);
      assert.equal(badKey.json.message, "route.currency must be an ISO 4217 code (three capital letters)");
      await assert.rejects(api.reservations.get(connection, { ...source, password: "route-password" }),
        (error) => error.status === 404);
    });
  });

  test("a reload reads the changed file with no failed request under load", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const keys = [{ pg: "card", mid: "B", currency: "KRW" }, { pg: "card", mid: "A", currency: "KRW" }];
    const answers = { "imp-b": 0, "toss-b": 0, "toss-direct": 0 };
    const failures = [];
    let running = true;
    const loop = async (index) => {
      for (let i = index; running; i++) {
        try {
          const { status, json } = await resolve(server, keys[i % keys.length], agent);
          if (status === 200 && json.vendor.store_id in answers) answers[json.vendor.store_id]++;
          else failures.push(`status ${status}: ${JSON.stringify(json)}`);
        } catch (e) {
          failures.push(e.message);
        }
      }
    };
    const before = await server.readyPids();
    const loops = Array.from({ length: 4 }, (_, i) => loop(i));
    try {
      await sleep(200);
      writeTable(routesFile, secondTable);
      assert.deepEqual(await control(server.env.PAYMENT_CONTROL_SOCKET, "reload"), { ok: true });
      await waitFor(async () => {
        const s = await server.status();
        const ready = s.workers.filter((w) => w.state === "ready");
        return !s.master.rolling && ready.length === 2 && ready.every((w) => !before.includes(w.pid));
      }, 30000, "the roll to finish");
      const reloaded = answers["toss-b"];
      await waitFor(() => answers["toss-b"] > reloaded + 10, 10000, "answers after the roll");
    } finally {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    }
    assert.deepEqual(failures, []);
    assert.ok(answers["imp-b"] > 0 && answers["toss-b"] > 0 && answers["toss-direct"] > 0, JSON.stringify(answers));
    const { json } = await resolve(server, { pg: "card", mid: "B", currency: "KRW" });
    assert.deepEqual(json, {
      vendor: { code: "toss.payments", store_id: "toss-b" }, route: "mid-b", fallback: null, used_fallback: false, primary: null,
    });
    const catchAll = await resolve(server, { pg: "card", mid: "C", currency: "JPY" });
    assert.deepEqual(catchAll.json, {
      vendor: { code: "iamport", store_id: "everything-else" }, route: null, fallback: null, used_fallback: false, primary: null,
    });
  });

  test("a reload with a broken file is refused and the running table keeps answering", async () => {
    const before = await server.readyPids();
    const broken = [...secondTable, rule("typo", "card", "*", "KRW", "tosspayments", "x")];
    writeTable(routesFile, broken);
    try {
      process.kill(server.process.pid, "SIGHUP");
      const refusal = new RegExp("reload refused, configuration unchanged: PAYMENT_ROUTES_FILE " +
        `${routesFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: routes\\[4\\]: vendor "tosspayments" is not a vendor`);
      await waitFor(() => refusal.test(server.process.log()), 10000, "the refused reload");
      assert.deepEqual(await server.readyPids(), before);
      assert.equal((await server.status()).master.rolling, false);
      const { status, json } = await resolve(server, { pg: "card", mid: "B", currency: "KRW" });
      assert.equal(status, 200);
      assert.equal(json.vendor.store_id, "toss-b");
    } finally {
      writeTable(routesFile, secondTable);
    }
  });
});

test("no routes file: resolve and reservations by route say so", async () => {
  const server = await startServer({ workers: 1 });
  try {
    const { status, json } = await resolve(server, { pg: "card", mid: "A", currency: "KRW" });
    assert.equal(status, 400);
    assert.equal(json.message, "no routes file is configured on this server");
    const reservation = await post(server, "/payments/reservations", {
      route: { pg: "card", mid: "A", currency: "KRW" }, vendor: { uid: "billing-key" },
      source: { schema: "shopping", table: "shopping_subscriptions", id: randomUUID() }, title: "plan",
      password: "route-password",
    });
    assert.equal(reservation.status, 400);
    assert.equal(reservation.json.message, "no routes file is configured on this server");
  } finally {
    await stopCleanly(server);
  }
});

test("a broken routes file stops the master's start-up naming the file and the rule", async () => {
  const dir = tempDir("payments-routes-");
  const file = path.join(dir, "routes.json");
  writeTable(file, [rule("ok", "*", "*", "KRW", "iamport", "s"), rule("bad", "card", "A", "won", "iamport", "s")]);
  const port = await freePort();
  const proc = start(binary("payments-master"), [], {
    env: {
      ...baseEnv(), PAYMENT_API_HOST: "127.0.0.1", PAYMENT_API_PORT: String(port), PAYMENT_WORKERS: "1",
      PAYMENT_PID_FILE: path.join(dir, "payments.pid"), PAYMENT_CONTROL_SOCKET: path.join(dir, "payments.sock"),
      PAYMENT_POSTGRES_URL: process.env.PAYMENT_POSTGRES_URL ?? "", PAYMENT_ROUTES_FILE: file,
    },
  });
  const guard = setTimeout(() => proc.child.kill("SIGKILL"), 30000);
  const { code, signal } = await proc.exited;
  clearTimeout(guard);
  assert.equal(signal, null, `the master was still running\n${proc.log()}`);
  assert.equal(code, 1, proc.log());
  assert.equal(proc.log().trim(), `payments-master: PAYMENT_ROUTES_FILE ${file}: routes[1]: ` +
    "currency must be an ISO 4217 code (three capital letters) or \"*\"");
});

test("payments-worker --check-config: silent and 0 when usable, one line and 1 when not", async () => {
  const dir = tempDir("payments-routes-");
  const good = path.join(dir, "good.json");
  const broken = path.join(dir, "broken.json");
  writeTable(good, firstTable);
  writeTable(broken, [rule("typo", "card", "A", "KRW", "tosspayments", "x")]);
  const check = async (env) => {
    const proc = start(binary("payments-worker"), ["--check-config"], { env: { ...baseEnv(), ...env } });
    const guard = setTimeout(() => proc.child.kill("SIGKILL"), 30000);
    const { code, signal } = await proc.exited;
    clearTimeout(guard);
    assert.equal(signal, null, proc.log());
    return { code, output: proc.log() };
  };
  assert.deepEqual(await check({ PAYMENT_ROUTES_FILE: good }), { code: 0, output: "" });
  assert.deepEqual(await check({ PAYMENT_ROUTES_FILE: broken }), {
    code: 1,
    output: `payments-worker: PAYMENT_ROUTES_FILE ${broken}: routes[0]: vendor "tosspayments" is not a vendor of this server\n`,
  });
  const missing = path.join(dir, "missing.json");
  assert.deepEqual(await check({ PAYMENT_ROUTES_FILE: missing }), {
    code: 1, output: `payments-worker: PAYMENT_ROUTES_FILE ${missing}: cannot be read: No such file or directory\n`,
  });
  // The other files and settings a starting worker reads are judged too.
  const stores = path.join(dir, "stores.json");
  fs.writeFileSync(stores, "{\"iamport\": [1]}");
  const refused = await check({ PAYMENT_ROUTES_FILE: good, PAYMENT_VENDOR_STORES_FILE: stores });
  assert.equal(refused.code, 1);
  assert.match(refused.output, new RegExp(`^payments-worker: PAYMENT_VENDOR_STORES_FILE ${stores}: [^\n]+\n$`));
  assert.deepEqual(await check({ PAYMENT_MODE: "" }), {
    code: 1, output: "payments-worker: PAYMENT_MODE is not set (local, dev or real)\n",
  });
});
