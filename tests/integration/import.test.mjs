// `payments import`: a schema in the original server's exact layout, filled
// the way the original writes (AES-CBC with fixed keys and IVs, bcrypt
// passwords, cancels, webhooks and their responses, one source id that is not
// a uuid), is copied into ours. Wrong keys are refused before any write; a
// dry run writes nothing; an import killed halfway finishes when run again,
// without duplicates, and a third run changes nothing; then the original's
// SDK reads a sample through our server with the old passwords and gets the
// documents the original stored.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto, { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { query } from "../lib/database.mjs";
import { binary, start, tempDir } from "../lib/process.mjs";
import { startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

// The original's keys: not ours, so that every document must be opened with
// them (--from-env) and sealed again with ours.
const ORIGINAL_KEYS = {
  PAYMENT_HISTORY_ENCRYPTION_KEY: "original-history-key".padEnd(32, "h"),
  PAYMENT_HISTORY_ENCRYPTION_IV: "orig-history-iv".padEnd(16, "i"),
  PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY: "original-cancel-key".padEnd(32, "c"),
  PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV: "orig-cancel-iv".padEnd(16, "i"),
  PAYMENT_RESERVATION_ENCRYPTION_KEY: "original-reservation-key".padEnd(32, "r"),
  PAYMENT_RESERVATION_ENCRYPTION_IV: "orig-reserve-iv".padEnd(16, "i"),
};
for (const [name, value] of Object.entries(ORIGINAL_KEYS)) registerSecret(`original ${name}`, value);
const PASSWORDS = ["old-password-alpha", "old-password-beta", "old-password-gamma", "old-password-delta"];
PASSWORDS.forEach((p) => registerSecret("record password", p));

const HISTORY_COUNT = 2000;
const RESERVATION_COUNT = 500;
const NOT_UUID_INDEX = 56;
const ORIGINAL_SCHEMA = `original_${process.pid}`;

/** base64(AES-CBC-PKCS#7(text)) with the key and IV as raw bytes, as the original writes. */
function originalEncrypt(text, key, iv) {
  const cipher = crypto.createCipheriv(key.length === 32 ? "aes-256-cbc" : "aes-128-cbc", Buffer.from(key), Buffer.from(iv));
  return Buffer.concat([cipher.update(text, "utf8"), cipher.final()]).toString("base64");
}

/**
 * bcrypt hashes (cost 10) of the passwords, half $2b$ and half $2a$. No bcrypt
 * package is installed beside the tests, so Python's crypt module (libxcrypt)
 * makes them.
 */
function bcryptHashes(passwords) {
  const script = [
    "import crypt, json, sys",
    "out = []",
    "for i, p in enumerate(json.load(sys.stdin)):",
    "    salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)",
    "    out.append(crypt.crypt(p, salt.replace('$2b$', '$2a$', 1) if i % 2 else salt))",
    "print(json.dumps(out))",
  ].join("\n");
  const hashes = JSON.parse(execFileSync("python3", ["-W", "ignore", "-c", script], { input: JSON.stringify(passwords) }));
  hashes.forEach((h, i) => assert.match(h, i % 2 ? /^\$2a\$10\$/ : /^\$2b\$10\$/));
  return hashes;
}

const literal = (v) => (v === null || v === undefined ? "NULL" : `'${String(v).replace(/'/g, "''")}'`);

function psql(script) {
  execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", process.env.PAYMENT_POSTGRES_URL], {
    input: script, maxBuffer: 64 << 20,
  });
}

/** The original's DDL: its tables and columns as its README describes them. */
function originalSchemaSql(s) {
  return `
CREATE SCHEMA ${s};
CREATE TABLE ${s}.payment_histories (
  id uuid PRIMARY KEY, source_schema varchar NOT NULL, source_table varchar NOT NULL, source_id varchar NOT NULL,
  vendor_code varchar NOT NULL, vendor_uid varchar NOT NULL, vendor_store_id varchar NOT NULL,
  currency varchar NOT NULL, price double precision NOT NULL, refund double precision,
  webhook_url varchar(1024), data text NOT NULL, password varchar NOT NULL,
  created_at timestamptz NOT NULL, paid_at timestamptz, cancelled_at timestamptz,
  UNIQUE (source_schema, source_table, source_id), UNIQUE (vendor_code, vendor_uid));
CREATE TABLE ${s}.payment_history_cancels (
  id uuid PRIMARY KEY, payment_history_id uuid NOT NULL REFERENCES ${s}.payment_histories ON DELETE CASCADE,
  amount double precision NOT NULL, reason text NOT NULL, data text NOT NULL, created_at timestamptz NOT NULL,
  UNIQUE (payment_history_id, amount, reason, created_at));
CREATE TABLE ${s}.payment_reservations (
  id uuid PRIMARY KEY, source_schema varchar NOT NULL, source_table varchar NOT NULL, source_id varchar NOT NULL,
  vendor_code varchar NOT NULL, vendor_uid varchar NOT NULL, vendor_store_id varchar NOT NULL,
  title varchar NOT NULL, data text NOT NULL, password varchar NOT NULL, created_at timestamptz NOT NULL,
  UNIQUE (source_schema, source_table, source_id), UNIQUE (vendor_code, vendor_uid));
CREATE TABLE ${s}.payment_history_webhooks (
  id uuid PRIMARY KEY, payment_history_id uuid NOT NULL REFERENCES ${s}.payment_histories ON DELETE CASCADE,
  previous text NOT NULL, current text NOT NULL, data text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE ${s}.payment_history_webhook_responses (
  id uuid PRIMARY KEY,
  payment_history_webhook_id uuid NOT NULL REFERENCES ${s}.payment_history_webhooks ON DELETE CASCADE,
  status int, body text, created_at timestamptz NOT NULL);
`;
}

/** The rows the original would hold, as JS objects, and what an import must do with them. */
function originalRows() {
  const hashes = bcryptHashes(PASSWORDS);
  const base = Date.parse("2025-03-01T09:00:00.000Z");
  const at = (ms) => new Date(ms).toISOString();
  const rows = { histories: [], cancels: [], reservations: [], webhooks: [], responses: [] };
  for (let i = 0; i < HISTORY_COUNT; i++) {
    const iamport = i % 2 === 1;
    const created = base + i * 60_000 + 123;
    const usd = i % 50 === 0;
    const price = usd ? 19.75 : 1000 + i * 10;
    const cancels = [];
    if (i % 4 === 0) cancels.push({ amount: usd ? 5.5 : 100, reason: "partial: it's \"late\"" });
    if (i % 8 === 0) cancels.push({ amount: usd ? 14.25 : price - 100, reason: "the rest" });
    const refund = cancels.length ? cancels.reduce((s, c) => s + c.amount, 0) : null;
    const uid = iamport ? `imp_${100000 + i}` : `tpk_${100000 + i}`;
    const document = iamport
      ? { imp_uid: uid, merchant_uid: `order_${i}`, amount: price, status: cancels.length ? "cancelled" : "paid",
          buyer_name: "김철수 ünïcode", cancel_history: cancels.map((c) => ({ amount: c.amount, reason: c.reason })) }
      : { paymentKey: uid, orderId: `order_${i}`, totalAmount: price, status: i % 8 === 0 ? "CANCELED" : "DONE",
          cancels: cancels.map((c) => ({ cancelAmount: c.amount, cancelReason: c.reason })) };
    const history = {
      id: randomUUID(), source_schema: "shop", source_table: "orders",
      source_id: i === NOT_UUID_INDEX ? `order-${i}` : randomUUID(),
      vendor_code: iamport ? "iamport" : "toss.payments", vendor_uid: uid, vendor_store_id: "store-1",
      currency: usd ? "USD" : "KRW", price, refund, webhook_url: i % 3 ? "http://127.0.0.1:9/hook" : null,
      document, password: PASSWORDS[i % 4], password_hash: hashes[i % 4],
      created_at: at(created), paid_at: at(created + 1500), cancelled_at: i % 8 === 0 ? at(created + 90_000) : null,
    };
    rows.histories.push(history);
    cancels.forEach((c, k) => rows.cancels.push({
      id: randomUUID(), payment_history_id: history.id, amount: c.amount, reason: c.reason,
      document: { amount: c.amount, reason: c.reason, at: k }, created_at: at(created + 60_000 + k * 1000),
    }));
    if (i % 7 === 0) {
      const webhook = {
        id: randomUUID(), payment_history_id: history.id,
        previous: JSON.stringify({ id: history.id, paid_at: null }),
        current: JSON.stringify({ id: history.id, paid_at: history.paid_at }),
        data: JSON.stringify({ imp_uid: uid, status: "paid" }), created_at: at(created + 2000),
      };
      rows.webhooks.push(webhook);
      const statuses = i % 14 === 0 ? [500, 200] : i % 21 === 0 ? [null] : [];
      statuses.forEach((status, k) => rows.responses.push({
        id: randomUUID(), payment_history_webhook_id: webhook.id, status, body: status ? `answer ${k}` : null,
        created_at: at(created + 3000 + k * 1000),
      }));
    }
  }
  for (let i = 0; i < RESERVATION_COUNT; i++) {
    const toss = i % 2 === 0;
    rows.reservations.push({
      id: randomUUID(), source_schema: "shop", source_table: "members", source_id: randomUUID(),
      vendor_code: toss ? "toss.payments" : "iamport", vendor_uid: `billing_${i}`, vendor_store_id: "store-1",
      title: `card ${i}`, document: toss ? { billingKey: `billing_${i}`, customerKey: `member_${i}` }
        : { customer_uid: `billing_${i}`, card_name: "카드" },
      password: PASSWORDS[(i + 1) % 4], password_hash: hashes[(i + 1) % 4],
      created_at: at(base + i * 30_000 + 7),
    });
  }
  return rows;
}

function insertSql(table, columns, rows) {
  const statements = [];
  for (let i = 0; i < rows.length; i += 400) {
    const values = rows.slice(i, i + 400).map((r) => `(${r.map(literal).join(", ")})`).join(",\n");
    statements.push(`INSERT INTO ${ORIGINAL_SCHEMA}.${table} (${columns.join(", ")}) VALUES\n${values};`);
  }
  return statements.join("\n");
}

/** Writes the rows as the original does: documents encrypted with its fixed keys. */
function fillOriginal(rows) {
  const k = ORIGINAL_KEYS;
  const sql = [
    originalSchemaSql(ORIGINAL_SCHEMA),
    insertSql("payment_histories",
      ["id", "source_schema", "source_table", "source_id", "vendor_code", "vendor_uid", "vendor_store_id", "currency",
        "price", "refund", "webhook_url", "data", "password", "created_at", "paid_at", "cancelled_at"],
      rows.histories.map((h) => [h.id, h.source_schema, h.source_table, h.source_id, h.vendor_code, h.vendor_uid,
        h.vendor_store_id, h.currency, h.price, h.refund, h.webhook_url,
        originalEncrypt(JSON.stringify(h.document), k.PAYMENT_HISTORY_ENCRYPTION_KEY, k.PAYMENT_HISTORY_ENCRYPTION_IV),
        h.password_hash, h.created_at, h.paid_at, h.cancelled_at])),
    insertSql("payment_history_cancels", ["id", "payment_history_id", "amount", "reason", "data", "created_at"],
      rows.cancels.map((c) => [c.id, c.payment_history_id, c.amount, c.reason,
        originalEncrypt(JSON.stringify(c.document), k.PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY,
          k.PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV), c.created_at])),
    insertSql("payment_reservations",
      ["id", "source_schema", "source_table", "source_id", "vendor_code", "vendor_uid", "vendor_store_id", "title",
        "data", "password", "created_at"],
      rows.reservations.map((r) => [r.id, r.source_schema, r.source_table, r.source_id, r.vendor_code, r.vendor_uid,
        r.vendor_store_id, r.title,
        originalEncrypt(JSON.stringify(r.document), k.PAYMENT_RESERVATION_ENCRYPTION_KEY,
          k.PAYMENT_RESERVATION_ENCRYPTION_IV), r.password_hash, r.created_at])),
    insertSql("payment_history_webhooks", ["id", "payment_history_id", "previous", "current", "data", "created_at"],
      rows.webhooks.map((w) => [w.id, w.payment_history_id, w.previous, w.current, w.data, w.created_at])),
    insertSql("payment_history_webhook_responses",
      ["id", "payment_history_webhook_id", "status", "body", "created_at"],
      rows.responses.map((r) => [r.id, r.payment_history_webhook_id, r.status, r.body, r.created_at])),
  ].join("\n");
  psql(sql);
}

/** Parses the summary lines: { table: { copied, present, refused, total } }. */
function summary(output) {
  const counts = {};
  for (const m of output.matchAll(/^(\w+): (\d+) (?:copied|to copy), (\d+) already present, (\d+) refused \(of (\d+)\)$/gm))
    counts[m[1]] = { copied: +m[2], present: +m[3], refused: +m[4], total: +m[5] };
  return counts;
}

describe("payments import", () => {
  let server;
  let rows;
  let envFile;
  let expected; // what a complete import holds, per original table
  let refusedHistory;
  const ours = {
    payment_histories: "payment_histories",
    payment_reservations: "payment_reservations",
    payment_history_cancels: "payment_history_cancels",
    payment_history_webhooks: "payment_webhooks",
    payment_history_webhook_responses: "payment_webhook_responses",
  };

  const countOurs = async () => {
    const counts = {};
    for (const [original, table] of Object.entries(ours))
      counts[original] = (await query(server.env.PAYMENT_POSTGRES_SCHEMA, `SELECT count(*)::int AS n FROM ${table}`))[0].n;
    return counts;
  };
  const startImport = (extra = [], env = {}) => start(binary("payments"),
    ["import", "--from", process.env.PAYMENT_POSTGRES_URL, "--schema", ORIGINAL_SCHEMA, ...extra],
    { env: { ...server.env, ...env } });
  const runImport = async (extra, env) => {
    const proc = startImport(extra, env);
    const { code, signal } = await proc.exited;
    return { code, signal, output: proc.log() };
  };

  before(async () => {
    rows = originalRows();
    fillOriginal(rows);
    refusedHistory = rows.histories[NOT_UUID_INDEX];
    const refusedWebhooks = new Set(rows.webhooks.filter((w) => w.payment_history_id === refusedHistory.id).map((w) => w.id));
    expected = {
      payment_histories: HISTORY_COUNT - 1,
      payment_reservations: RESERVATION_COUNT,
      payment_history_cancels: rows.cancels.filter((c) => c.payment_history_id !== refusedHistory.id).length,
      payment_history_webhooks: rows.webhooks.length - refusedWebhooks.size,
      payment_history_webhook_responses:
        rows.responses.filter((r) => !refusedWebhooks.has(r.payment_history_webhook_id)).length,
    };
    assert.ok(refusedWebhooks.size > 0 && rows.responses.some((r) => refusedWebhooks.has(r.payment_history_webhook_id)));
    const dir = tempDir("payments-import-");
    envFile = path.join(dir, "original.env");
    fs.writeFileSync(envFile, Object.entries(ORIGINAL_KEYS).map(([k, v]) => `${k}=${v}\n`).join(""));
    server = await startServer({ workers: 1 });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    psql(`DROP SCHEMA IF EXISTS ${ORIGINAL_SCHEMA} CASCADE;`);
  });

  test("--help, and usage errors exit 2 writing nothing", async () => {
    const help = start(binary("payments"), ["import", "--help"], { env: server.env });
    assert.equal((await help.exited).code, 0);
    assert.match(help.log(), /^usage: payments import --from URL/);
    const top = start(binary("payments"), ["--help"], { env: server.env });
    await top.exited;
    assert.match(top.log(), /^  import /m);
    const noSource = start(binary("payments"), ["import", "--schema", ORIGINAL_SCHEMA], { env: server.env });
    assert.equal((await noSource.exited).code, 2);
    assert.match(noSource.log(), /--from <PostgreSQL URL of the original> is required/);
    const badBatch = await runImport(["--batch", "0"]);
    assert.equal(badBatch.code, 2, badBatch.output);
    const noSchema = await runImport(["--from-env", envFile, "--schema", "nowhere"]);
    assert.equal(noSchema.code, 1, noSchema.output);
    assert.match(noSchema.output, /payments import: reading payment_histories: .*"nowhere\.payment_histories" does not exist/);
  });

  test("wrong keys are refused on the first rows, before anything is written", async () => {
    // Without --from-env the keys are ours, which are not the original's.
    const { code, output } = await runImport();
    assert.equal(code, 1, output);
    assert.match(output, /payment_histories do not decrypt with PAYMENT_HISTORY_ENCRYPTION_KEY\/_IV: wrong key/);
    const wrongCancelKey = path.join(path.dirname(envFile), "wrong-cancel.env");
    fs.writeFileSync(wrongCancelKey, fs.readFileSync(envFile, "utf8")
      .replace(ORIGINAL_KEYS.PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY, "not-the-cancel-key".padEnd(32, "x")));
    const second = await runImport(["--from-env", wrongCancelKey]);
    assert.equal(second.code, 1, second.output);
    assert.match(second.output, /payment_history_cancels do not decrypt with PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY/);
    assert.deepEqual(Object.values(await countOurs()), [0, 0, 0, 0, 0]);
  });

  test("a dry run reads, decrypts and checks everything and writes nothing", async () => {
    const { code, output } = await runImport(["--from-env", envFile, "--dry-run"]);
    assert.equal(code, 0, output);
    assert.match(output, /^dry run: nothing was written$/m);
    const counts = summary(output);
    for (const [table, n] of Object.entries(expected)) assert.equal(counts[table].copied, n, `${table}: ${output}`);
    assert.equal(counts.payment_histories.refused, 1);
    assert.deepEqual(Object.values(await countOurs()), [0, 0, 0, 0, 0]);
  });

  test("killed halfway and run again, it completes without duplicates; a third run changes nothing", async () => {
    const killed = startImport(["--from-env", envFile, "--batch", "50"]);
    let seen = "";
    killed.child.stderr.on("data", (d) => {
      seen += d;
      if (/import: payment_histories \d+\/2000 rows/.test(seen)) killed.child.kill("SIGKILL");
    });
    const { signal } = await killed.exited;
    assert.equal(signal, "SIGKILL", killed.log());
    const partial = (await countOurs()).payment_histories;
    assert.ok(partial > 0 && partial < expected.payment_histories, `histories after the kill: ${partial}`);

    const second = await runImport(["--from-env", envFile]);
    assert.equal(second.code, 0, second.output);
    const counts = summary(second.output);
    assert.deepEqual(counts.payment_histories,
      { copied: expected.payment_histories - partial, present: partial, refused: 1, total: HISTORY_COUNT });
    for (const [table, n] of Object.entries(expected)) {
      assert.equal(counts[table].copied + counts[table].present, n, `${table}: ${second.output}`);
      assert.equal(counts[table].copied + counts[table].present + counts[table].refused, counts[table].total);
    }
    assert.deepEqual(await countOurs(), expected);
    // The source id that is not a uuid is reported, and so is what hangs on it.
    assert.match(second.output,
      new RegExp(`^refused payment_histories ${refusedHistory.id}: source_id "order-${NOT_UUID_INDEX}" is not a uuid$`, "m"));
    assert.match(second.output, new RegExp(`^refused payment_history_cancels \\S+: its payment_histories row ${refusedHistory.id} was refused$`, "m"));
    assert.match(second.output, /^refused payment_history_webhook_responses \S+: its payment_history_webhooks row \S+ was refused$/m);

    const snapshot = async () => {
      const parts = [];
      for (const table of Object.values(ours))
        parts.push((await query(server.env.PAYMENT_POSTGRES_SCHEMA,
          `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS h FROM ${table} t`))[0].h);
      return parts;
    };
    const before = await snapshot();
    const third = await runImport(["--from-env", envFile]);
    assert.equal(third.code, 0, third.output);
    for (const [table, n] of Object.entries(summary(third.output)))
      assert.deepEqual({ copied: n.copied, present: n.present }, { copied: 0, present: expected[table] }, table);
    assert.deepEqual(await snapshot(), before);
  });

  test("cancels and refunds add up, and webhooks keep their delivery outcome", async () => {
    const schema = server.env.PAYMENT_POSTGRES_SCHEMA;
    const [mismatch] = await query(schema, `SELECT count(*)::int AS n FROM payment_histories h
      WHERE coalesce(h.refund, 0) <> coalesce((SELECT sum(c.price) FROM payment_history_cancels c WHERE c.history_id = h.id), 0)`);
    assert.equal(mismatch.n, 0);
    const [sums] = await query(schema,
      "SELECT (SELECT sum(price)::float8 FROM payment_histories) AS price, (SELECT sum(refund)::float8 FROM payment_histories) AS refund");
    const kept = rows.histories.filter((h) => h !== refusedHistory);
    assert.ok(Math.abs(sums.price - kept.reduce((s, h) => s + h.price, 0)) < 1e-6);
    assert.ok(Math.abs(sums.refund - kept.reduce((s, h) => s + (h.refund ?? 0), 0)) < 1e-6);
    const answered = new Set(rows.responses.filter((r) => r.status === 200).map((r) => r.payment_history_webhook_id));
    const deliveries = await query(schema, "SELECT webhook_id, status, attempts FROM payment_webhook_deliveries");
    assert.equal(deliveries.length, expected.payment_history_webhooks);
    for (const d of deliveries) {
      assert.equal(d.status, answered.has(d.webhook_id) ? "delivered" : "failed", d.webhook_id);
      assert.equal(d.attempts, rows.responses.filter((r) => r.payment_history_webhook_id === d.webhook_id).length);
    }
  });

  test("the original SDK reads histories and reservations with their old passwords", async () => {
    const connection = {
      host: server.url(""),
      encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
    };
    const time = (t) => (t === null ? null : Date.parse(t));
    const cancelsOf = (id) => rows.cancels.filter((c) => c.payment_history_id === id)
      .map((c) => ({ reason: c.reason, price: c.amount, created_at: time(c.created_at) }));
    const sample = rows.histories.filter((h, i) => i % 97 === 3 || (i % 8 === 0 && i % 97 === 0));
    for (const [n, h] of sample.entries()) {
      const read = n % 2
        ? await api.histories.at(connection, h.id, { password: h.password })
        : await api.histories.get(connection,
          { schema: h.source_schema, table: h.source_table, id: h.source_id, password: h.password });
      assert.equal(read.id, h.id);
      assert.deepEqual(read.vendor, { code: h.vendor_code, store_id: h.vendor_store_id, uid: h.vendor_uid });
      assert.deepEqual(read.source, { schema: h.source_schema, table: h.source_table, id: h.source_id });
      assert.deepEqual(read.data, h.document);
      assert.equal(read.currency, h.currency);
      assert.equal(read.price, h.price);
      assert.equal(read.refund ?? null, h.refund);
      assert.equal(read.webhook_url ?? null, h.webhook_url);
      assert.deepEqual([read.created_at, read.paid_at, read.cancelled_at].map(time),
        [h.created_at, h.paid_at, h.cancelled_at].map(time));
      assert.deepEqual(read.cancels.map((c) => ({ ...c, created_at: time(c.created_at) })), cancelsOf(h.id));
    }
    const wrong = sample[0];
    await assert.rejects(api.histories.at(connection, wrong.id, { password: `${wrong.password}-not` }),
      (e) => e.status === 403);
    for (const r of rows.reservations.filter((_, i) => i % 61 === 5)) {
      const read = await api.reservations.at(connection, r.id, { password: r.password });
      assert.equal(read.id, r.id);
      assert.equal(read.title, r.title);
      assert.deepEqual(read.data, r.document);
      assert.deepEqual(read.source, { schema: r.source_schema, table: r.source_table, id: r.source_id });
      assert.equal(Date.parse(read.created_at), Date.parse(r.created_at));
    }
    // A bcrypt hash that verified is replaced by ours, as for any record.
    const [stored] = await query(server.env.PAYMENT_POSTGRES_SCHEMA,
      "SELECT password_hash FROM payment_histories WHERE id = :'id'", { id: sample[0].id });
    assert.match(stored.password_hash, /^h1\$/);
  });

  test("a row whose vendor uid another record of ours holds is refused, in a dry run as in a real one", async () => {
    // A payment recorded by our server while the original still ran, and
    // the original's own record of the same vendor payment.
    const model = rows.histories[1];
    const twin = { ...model, id: randomUUID(), source_id: randomUUID(), vendor_uid: "imp_recorded_twice" };
    psql(`SET search_path = "${server.env.PAYMENT_POSTGRES_SCHEMA}";
      INSERT INTO payment_histories (vendor_code, vendor_store_id, vendor_uid, source_schema, source_table, source_id,
        password_hash, currency, price, data)
      VALUES ('iamport', 'store-1', 'imp_recorded_twice', 'shop', 'orders', '${randomUUID()}', 'x', 'KRW', 1, 'x');`);
    const k = ORIGINAL_KEYS;
    psql(insertSql("payment_histories",
      ["id", "source_schema", "source_table", "source_id", "vendor_code", "vendor_uid", "vendor_store_id", "currency",
        "price", "data", "password", "created_at"],
      [[twin.id, twin.source_schema, twin.source_table, twin.source_id, twin.vendor_code, twin.vendor_uid,
        twin.vendor_store_id, twin.currency, twin.price,
        originalEncrypt("{}", k.PAYMENT_HISTORY_ENCRYPTION_KEY, k.PAYMENT_HISTORY_ENCRYPTION_IV), twin.password_hash,
        twin.created_at]]));
    const refusal = new RegExp(`^refused payment_histories ${twin.id}: another record of ours has the same source or vendor uid$`, "m");
    for (const extra of [["--dry-run"], []]) {
      const { code, output } = await runImport(["--from-env", envFile, ...extra]);
      assert.equal(code, 0, output);
      assert.match(output, refusal);
      assert.deepEqual(summary(output).payment_histories,
        { copied: 0, present: expected.payment_histories, refused: 2, total: HISTORY_COUNT + 1 });
    }
    assert.equal((await countOurs()).payment_histories, expected.payment_histories + 1);
  });
});
