// Writes the pgbench script of benchmark 2 from the SELECT our server really
// sent, as PostgreSQL logged it (log_min_duration_statement = 0 while one
// PATCH /payments/histories/:id ran), so the reference runs the same query
// even when the server's SQL changes.
//   pgbench-script.mjs POSTGRES_LOG COUNT OUT
// Two rewrites, neither changing what PostgreSQL executes:
// - the id: pgbench variables hold numbers, so $1 becomes
//   lpad(:n::text, 32, '0')::uuid over the rows bench/run numbered 1..COUNT;
// - pgbench takes every ":name" for a variable, also inside a string
//   literal, so a literal holding ':' is written E'...' with \x3a instead.
import fs from "node:fs";

const [logFile, count, out] = process.argv.slice(2);
if (!logFile || !(Number(count) > 0) || !out) {
  console.error("usage: pgbench-script.mjs POSTGRES_LOG COUNT OUT");
  process.exit(2);
}

const marker = /execute [^:]*: (SELECT .*FROM payment_histories h WHERE h\.id = \$1)$/;
const statements = fs.readFileSync(logFile, "utf8").split("\n").map((line) => marker.exec(line)?.[1]).filter(Boolean);
if (statements.length === 0) {
  console.error(`pgbench-script: no "SELECT ... FROM payment_histories h WHERE h.id = $1" in ${logFile}`);
  process.exit(1);
}
const select = statements.at(-1)
  .replace(/'([^']*)'/g, (literal, body) =>
    body.includes(":") ? `E'${body.replace(/\\/g, "\\\\").replace(/:/g, "\\x3a")}'` : literal)
  .replace("$1", "lpad(:n::text, 32, '0')::uuid");
fs.writeFileSync(out, `\\set n random(1, ${Number(count)})\n${select};\n`);
