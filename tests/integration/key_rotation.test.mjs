// Key rotation with the real master, the original SDK and the fake Toss:
// records written under keys A are read after rotating to keys B (A
// previous), by old-key and new-key clients alike during the connection
// key's grace period; `payments reseal` moves every stored value to B; with
// A dropped the server starts and serves only new-key clients; a value left
// under A makes start-up refuse, naming the table and the count. A failed
// body gets the same answer, byte for byte, whichever key it was sent under.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import crypto, { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";

import { query } from "../lib/database.mjs";
import { binary, freePort, start, tempDir, waitForPort } from "../lib/process.mjs";
import { runCommand } from "../lib/instance.mjs";
import { startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";
import { tossDriver } from "../lib/vendor_drivers.mjs";
import { wholeAnswer } from "../lib/whole_answer.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const A = {
  history: ["hist-key-A-0123456789abcdef01234", "hist-iv-A-012345"],
  cancel: ["canc-key-A-0123456789abcdef01234", "canc-iv-A-012345"],
  reservation: ["resv-key-A-0123456789abcdef01234", "resv-iv-A-012345"],
  connection: ["conn-key-A-0123456789abcdef01234", "conn-iv-A-012345"],
  password: "password-secret-A-5b1e9c3a7d2f8e4b6a0c",
};
const B = {
  history: ["hist-key-B-0123456789abcdef01234", "hist-iv-B-012345"],
  cancel: ["canc-key-B-0123456789abcdef01234", "canc-iv-B-012345"],
  reservation: ["resv-key-B-0123456789abcdef01234", "resv-iv-B-012345"],
  connection: ["conn-key-B-0123456789abcdef01234", "conn-iv-B-012345"],
  password: "password-secret-B-8d4f2a6c0e9b1d7f3a5e",
};
for (const keys of [A, B]) {
  for (const name of ["history", "cancel", "reservation", "connection"]) {
    registerSecret(`${name} key`, keys[name][0]);
    registerSecret(`${name} iv`, keys[name][1]);
  }
  registerSecret("password secret", keys.password);
}
const PASSWORD = "rotation-record-password";
registerSecret("record password", PASSWORD);

const STORE_ID = "rotation-store";
const SCHEMA = `t_keys_${process.pid}`;

/** The settings of a server whose current keys are `current`. */
function keysEnv(current) {
  return {
    PAYMENT_HISTORY_ENCRYPTION_KEY: current.history[0], PAYMENT_HISTORY_ENCRYPTION_IV: current.history[1],
    PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY: current.cancel[0], PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV: current.cancel[1],
    PAYMENT_RESERVATION_ENCRYPTION_KEY: current.reservation[0],
    PAYMENT_RESERVATION_ENCRYPTION_IV: current.reservation[1],
    PAYMENT_CONNECTION_ENCRYPTION_KEY: current.connection[0], PAYMENT_CONNECTION_ENCRYPTION_IV: current.connection[1],
    PAYMENT_PASSWORD_SECRET: current.password,
  };
}

/** B current, A previous for every table and secret; the connection key's
 * grace ends at `graceUntil`. */
function rotatedEnv(graceUntil) {
  return {
    ...keysEnv(B),
    PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS: A.history.join(":"),
    PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEYS_PREVIOUS: A.cancel.join(":"),
    PAYMENT_RESERVATION_ENCRYPTION_KEYS_PREVIOUS: A.reservation.join(":"),
    PAYMENT_PASSWORD_SECRET_PREVIOUS: A.password,
    PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS: A.connection[0],
    PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS: A.connection[1],
    PAYMENT_CONNECTION_KEY_GRACE_UNTIL: graceUntil,
  };
}

const client = (server, keys) => ({ host: server.url(""), encryption: { key: keys.connection[0], iv: keys.connection[1] } });

/** The key ids (sql/0012) of a sealed column, legacy values as "". */
async function keyIds(table, column) {
  const rows = await query(SCHEMA, `SELECT DISTINCT payment_seal_key_id(${column}) AS id FROM ${table}
                                     WHERE ${column} IS NOT NULL ORDER BY 1`);
  return rows.map((r) => r.id);
}

/** Puts a stored value back into a history's data, as a database restored
 * from an old backup would. */
async function plant(id, data) {
  const psql = promisify(execFile)("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", `schema=${SCHEMA}`,
    "-v", `id=${id}`, "-v", `data=${data}`, process.env.PAYMENT_POSTGRES_URL]);
  psql.child.stdin.end(`SET search_path = :"schema";\nUPDATE payment_histories SET data = :'data' WHERE id = :'id';\n`);
  await psql;
}

function encrypt(keys, plain) {
  const [key, iv] = keys.connection.map((s) => Buffer.from(s));
  const cipher = crypto.createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return Buffer.concat([cipher.update(plain), cipher.final()]);
}

/** Bodies no key reads, each made under one key: bad padding, not JSON,
 * not an object. */
function unreadableBodies(keys) {
  const good = encrypt(keys, JSON.stringify({ schema: "s", table: "t", id: "x", password: "p" }));
  const badPadding = Buffer.from(good);
  badPadding[badPadding.length - 1] ^= 0x5a;
  return [badPadding, encrypt(keys, "{not json"), encrypt(keys, "[1,2,3]")].map((b) => b.toString("base64"));
}

describe("key rotation", () => {
  let toss;
  let tossUrl;
  let driver;
  const written = {};

  before(async () => {
    const port = await freePort();
    toss = start(binary("fake-toss-payments-server"), ["--port", String(port)]);
    await waitForPort(port);
    tossUrl = `http://127.0.0.1:${port}`;
    driver = tossDriver(tossUrl);
  });
  after(async () => {
    if (toss) await toss.stop("SIGTERM");
  });

  const serve = (keys) => startServer({ workers: 1, schema: SCHEMA, env: { PAYMENT_TOSS_PAYMENTS_URL: tossUrl, ...keys } });
  const readBoth = async (connection) => ({
    history: await api.histories.at(connection, written.history.id, { password: PASSWORD }),
    reservation: await api.reservations.at(connection, written.reservation.id, { password: PASSWORD }),
  });

  test("records written under keys A", async () => {
    const server = await serve(keysEnv(A));
    try {
      const connection = client(server, A);
      const source = { schema: "shopping", table: "shopping_orders", id: randomUUID() };
      const uid = await driver.card(source.id, 20_000);
      await api.histories.create(connection, {
        vendor: { code: driver.code, store_id: STORE_ID, uid }, source, price: 20_000, password: PASSWORD,
        webhook_url: "http://127.0.0.1:9/payments/webhook",
      });
      written.history = await api.histories.cancel(connection, {
        source, password: PASSWORD, price: 5_000, reason: "partial", account: null,
      });
      const reservationSource = { schema: "shopping", table: "shopping_members", id: randomUUID() };
      const billingKey = await driver.billingKey(reservationSource.id);
      written.reservation = await api.reservations.create(connection, {
        vendor: { code: driver.code, store_id: STORE_ID, uid: billingKey }, source: reservationSource,
        title: "monthly plan", password: PASSWORD,
      });
    } finally {
      await stopCleanly(server);
    }
    assert.equal(written.history.cancels.length, 1);
    for (const [table, column] of [["payment_histories", "data"], ["payment_history_cancels", "data"],
      ["payment_reservations", "data"]])
      assert.equal((await keyIds(table, column)).length, 1, `${table}.${column}`);
    [written.historyKeyA] = await keyIds("payment_histories", "data");
    written.hashes = await query(SCHEMA, "SELECT id, password_hash FROM payment_histories");
  });

  test("rotated to keys B with A previous: old and new clients read both, new writes go under B", async () => {
    const server = await serve(rotatedEnv("2999-01-01T00:00:00Z"));
    try {
      assert.deepEqual(await readBoth(client(server, B)), pick(written));
      assert.deepEqual(await readBoth(client(server, A)), pick(written));
      // A body no key reads gets one answer, whichever key made it.
      const answers = new Set();
      for (const body of [...unreadableBodies(A), ...unreadableBodies(B), "not base64!"])
        answers.add(await wholeAnswer(server.url("/payments/histories/get"), body));
      assert.equal(answers.size, 1, [...answers].join("\n----\n"));
      assert.match([...answers][0], /^HTTP\/1\.1 400 /);
      // A record password hashed under secret A verified, then hashed anew.
      const [before] = written.hashes;
      const [now] = await query(SCHEMA, "SELECT password_hash FROM payment_histories WHERE id = :'id'", { id: before.id });
      assert.notEqual(now.password_hash, before.password_hash);
      const source = { schema: "shopping", table: "shopping_orders", id: randomUUID() };
      const uid = await driver.card(source.id, 7_000);
      await api.histories.create(client(server, B), {
        vendor: { code: driver.code, store_id: STORE_ID, uid }, source, price: 7_000, password: PASSWORD,
        webhook_url: "http://127.0.0.1:9/payments/webhook",
      });
    } finally {
      await stopCleanly(server);
    }
    const ids = await keyIds("payment_histories", "data");
    assert.equal(ids.length, 2, "a new record was sealed under B");
    assert.ok(ids.includes(written.historyKeyA));
    written.planted = (await query(SCHEMA, "SELECT id, data FROM payment_histories WHERE payment_seal_key_id(data) = :'key'",
      { key: written.historyKeyA }))[0];
  });

  test("payments reseal moves every value to B, and a second run has nothing to do", async () => {
    const env = { PAYMENT_POSTGRES_SCHEMA: SCHEMA, PAYMENT_ENV_FILE: "", PAYMENT_MODE: "local",
      PAYMENT_SYSTEM_PASSWORD: "test-system-password", ...rotatedEnv("2999-01-01T00:00:00Z") };
    const first = await runCommand(binary("payments"), ["reseal", "--batch", "1"], env, undefined, 120000);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^payment_histories\.data: 1 value\(s\) resealed$/m);
    assert.match(first.stdout, /^payment_history_cancels\.data: 1 value\(s\) resealed$/m);
    assert.match(first.stdout, /^payment_reservations\.data: 1 value\(s\) resealed$/m);
    assert.match(first.stderr, /payment_histories\.data 1\/1/);
    for (const [table, column] of [["payment_histories", "data"], ["payment_history_cancels", "data"],
      ["payment_reservations", "data"]]) {
      const ids = await keyIds(table, column);
      assert.equal(ids.length, 1, `${table}.${column}: ${ids}`);
      assert.notEqual(ids[0], written.historyKeyA);
    }
    const second = await runCommand(binary("payments"), ["reseal"], env, undefined, 120000);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /: [1-9]\d* value\(s\) resealed/);
  });

  test("keys A dropped: start-up succeeds, only new-key clients are served after the grace period", async () => {
    const server = await serve({ ...rotatedEnv("2000-01-01T00:00:00Z"), PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS: "",
      PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEYS_PREVIOUS: "", PAYMENT_RESERVATION_ENCRYPTION_KEYS_PREVIOUS: "",
      PAYMENT_PASSWORD_SECRET_PREVIOUS: "" });
    try {
      assert.deepEqual(await readBoth(client(server, B)), pick(written));
      await assert.rejects(api.histories.at(client(server, A), written.history.id, { password: PASSWORD }),
        (error) => error.status === 400);
    } finally {
      await stopCleanly(server);
    }
  });

  test("a value left under a dropped key: start-up refused, naming the table and the count", async () => {
    await plant(written.planted.id, written.planted.data);
    const dir = tempDir("payments-keys-");
    const port = await freePort();
    const master = start(binary("payments-master"), [], { env: {
      ...keysEnv(B), PAYMENT_MODE: "local", PAYMENT_ENV_FILE: "", PAYMENT_SYSTEM_PASSWORD: "test-system-password",
      PAYMENT_API_HOST: "127.0.0.1", PAYMENT_API_PORT: String(port), PAYMENT_WORKERS: "1", PAYMENT_ADMIN_PORT: "0",
      PAYMENT_PID_FILE: path.join(dir, "payments.pid"), PAYMENT_CONTROL_SOCKET: path.join(dir, "payments.sock"),
      PAYMENT_POSTGRES_SCHEMA: SCHEMA, PAYMENT_TOSS_PAYMENTS_URL: tossUrl,
    } });
    const guard = setTimeout(() => master.child.kill("SIGKILL"), 30000);
    const { code, signal } = await master.exited;
    clearTimeout(guard);
    assert.equal(signal, null, `start-up was not refused:\n${master.log()}`);
    assert.equal(code, 1, master.log());
    assert.match(master.log(), new RegExp(`payment_histories\\.data: 1 value\\(s\\) sealed with key ${written.historyKeyA}`));
  });
});

/** What the records read as: the history and the reservation. */
function pick(written) {
  return { history: written.history, reservation: written.reservation };
}
