// Reads the test database directly (psql on PAYMENT_POSTGRES_URL), for what
// no route shows: outbox rows, stored idempotency keys.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Rows of sql (psql variables :'name' from vars) in schema, as JSON objects. */
export async function query(schema, sql, vars = {}) {
  const args = ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-v", `schema=${schema}`];
  for (const [name, value] of Object.entries(vars)) args.push("-v", `${name}=${value}`);
  const script = `SET search_path = :"schema";\nSELECT coalesce(json_agg(t), '[]') FROM (${sql}) t;\n`;
  const child = run("psql", [...args, process.env.PAYMENT_POSTGRES_URL]);
  child.child.stdin.end(script);
  const { stdout } = await child;
  return JSON.parse(stdout.trim());
}

/** Runs one statement in schema (psql variables :'name' from vars), for
 * writes no route makes; returns psql's unaligned output. */
export async function execute(schema, sql, vars = {}) {
  const args = ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-v", `schema=${schema}`];
  for (const [name, value] of Object.entries(vars)) args.push("-v", `${name}=${value}`);
  const child = run("psql", [...args, process.env.PAYMENT_POSTGRES_URL]);
  child.child.stdin.end(`SET search_path = :"schema";\n${sql};\n`);
  return (await child).stdout.trim();
}
