// The read-only database user: `payments migrate` grants it SELECT on every
// table of the schema, the tables of later migrations included, and nothing
// else, as the original's set-up does; a name that is no role stops the
// migration with a message that says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { binary } from "../lib/process.mjs";
import { baseEnv } from "../lib/server.mjs";
import { runCommand } from "../lib/instance.mjs";

const run = promisify(execFile);
const reader = `payments_reader_${process.pid}`;

/** Runs script through psql as the test's (owning) user; returns stdout, or
 *  throws with psql's error. */
async function psql(script) {
  const child = run("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", process.env.PAYMENT_POSTGRES_URL]);
  child.child.stdin.end(script);
  const { stdout } = await child;
  return stdout.trim();
}

/** Runs statement as the read-only user; the error message, or null. */
async function asReader(schema, statement) {
  try {
    await psql(`SET search_path = "${schema}";\nSET ROLE ${reader};\n${statement};\n`);
    return null;
  } catch (error) {
    return String(error.stderr || error.message);
  }
}

function migrate(schema, env) {
  return runCommand(binary("payments"), ["migrate"], {
    ...baseEnv(),
    PAYMENT_POSTGRES_URL: process.env.PAYMENT_POSTGRES_URL,
    PAYMENT_POSTGRES_SCHEMA: schema,
    ...env,
  });
}

test("the read-only user can SELECT every table and write none", async (t) => {
  if (!process.env.PAYMENT_POSTGRES_URL) throw new Error("PAYMENT_POSTGRES_URL is not set: run through make test");
  const schema = `t_readonly_${process.pid}`;
  await psql(`DROP ROLE IF EXISTS ${reader};\nCREATE ROLE ${reader} NOLOGIN;\n`);
  t.after(() => psql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE;\nDROP OWNED BY ${reader};\nDROP ROLE ${reader};\n`));

  const migrated = await migrate(schema, { PAYMENT_POSTGRES_USERNAME_READONLY: reader });
  assert.equal(migrated.code, 0, migrated.stderr);

  const tables = (await psql(`SELECT tablename FROM pg_tables WHERE schemaname = '${schema}' ORDER BY 1;`)).split("\n");
  assert.ok(tables.includes("payment_histories") && tables.length > 5, tables.join(","));
  for (const table of tables)
    assert.equal(await asReader(schema, `SELECT count(*) FROM "${table}"`), null, `SELECT on ${table}`);

  const insert = await asReader(schema, "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'x', 'x')");
  assert.match(insert ?? "", /permission denied/);
  assert.match((await asReader(schema, "DELETE FROM payment_histories")) ?? "", /permission denied/);

  // A table a later migration makes (as the same owner) is readable too.
  await psql(`CREATE TABLE "${schema}".later_table (id int);\n`);
  assert.equal(await asReader(schema, "SELECT count(*) FROM later_table"), null);
  assert.match((await asReader(schema, "INSERT INTO later_table VALUES (1)")) ?? "", /permission denied/);
});

test("without the setting nothing is granted; a missing role stops the migration", async (t) => {
  const plain = `t_readonly_plain_${process.pid}`;
  const missing = `t_readonly_missing_${process.pid}`;
  await psql(`DROP ROLE IF EXISTS ${reader};\nCREATE ROLE ${reader} NOLOGIN;\n`);
  t.after(() =>
    psql(`DROP SCHEMA IF EXISTS "${plain}" CASCADE;\nDROP SCHEMA IF EXISTS "${missing}" CASCADE;\n` +
      `DROP OWNED BY ${reader};\nDROP ROLE ${reader};\n`));

  const migrated = await migrate(plain, { PAYMENT_POSTGRES_USERNAME_READONLY: "" });
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match((await asReader(plain, `SELECT count(*) FROM "${plain}".payment_histories`)) ?? "", /permission denied/);

  const refused = await migrate(missing, { PAYMENT_POSTGRES_USERNAME_READONLY: "no_such_reader_role" });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /no_such_reader_role \(PAYMENT_POSTGRES_USERNAME_READONLY\) does not exist/);
});
