// README's "Your first payment": the commands of its marked block, taken from
// README.md itself (never a copy), run by bash against a server and the fakes
// set up as `make run` sets them up (local mode, the test's PostgreSQL), and
// their output checked. The one change made to them is the API's port: the
// test's server listens on a free port rather than 37821, which a developer's
// own `make run` may hold.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildDir, sourceDir, tempDir, waitFor } from "../lib/process.mjs";
import { startServer, stopCleanly } from "../lib/server.mjs";
import { startVendorFakes } from "../lib/fakes.mjs";
import { runClient } from "../lib/client_output.mjs";
import { registerSecret } from "../lib/test_logs.mjs";

registerSecret("record password", "my-password");

const MARKER = "<!-- The test tests/integration/readme_walkthrough.test.mjs runs the commands of the next block as they are. -->";

/** The lines of the fenced block right after the marker. */
function walkthrough() {
  const lines = fs.readFileSync(path.join(sourceDir, "README.md"), "utf8").split("\n");
  const at = lines.indexOf(MARKER);
  assert.ok(at >= 0, "README.md marks the walkthrough's block");
  assert.equal(lines[at + 1], "```sh", "the block follows the marker");
  const end = lines.indexOf("```", at + 2);
  assert.ok(end > at + 2, "the block ends");
  return lines.slice(at + 2, end).filter((line) => line.trim() !== "");
}

let server;
let fakes;
let workDir;

before(async () => {
  fakes = await startVendorFakes();
  server = await startServer({ workers: 1, env: fakes.env });
  // `build/bin/payments` as the README says it, whichever build runs the test.
  workDir = tempDir("payments-walkthrough-");
  fs.mkdirSync(path.join(workDir, "build"));
  fs.symlinkSync(path.resolve(buildDir, "bin"), path.join(workDir, "build", "bin"));
});

after(async () => {
  if (server) await stopCleanly(server);
  if (fakes) await fakes.stop();
});

/** Runs script with bash in the walkthrough's directory and the server's
 * settings (as its .env would give them). */
function bash(script) {
  return runClient("bash", ["-c", script], { env: server.env, cwd: workDir });
}

/** Each command's stdout and stderr, split at the markers bash printed after it. */
function splitOutputs(text, count) {
  const parts = text.split(/^@@@ \d+\n/m);
  assert.equal(parts.length, count + 1, text);
  return parts.slice(0, count);
}

test("the README's first payment: card at the fake, record, read, cancel half, notification", async () => {
  const lines = walkthrough();
  assert.ok(lines.length >= 5 && lines.length <= 7, `five or six commands: ${lines.length}`);
  const commands = lines.map((line) => line.replaceAll("127.0.0.1:37821", `127.0.0.1:${server.port}`));
  const last = commands.at(-1);
  const state = path.join(workDir, "state");
  const first = ["set -e -o pipefail", ...commands.slice(0, -1).flatMap((command, i) =>
    [command, `echo "@@@ ${i}"`, `echo "@@@ ${i}" >&2`]),
  `printf '%s\\n' "$order" "$uid" "$history" > ${state}`].join("\n");
  const ran = await bash(first);
  assert.equal(ran.code, 0, `${ran.stdout}\n${ran.stderr}`);
  const [order, uid, history] = fs.readFileSync(state, "utf8").trim().split("\n");
  assert.match(order, /^[0-9a-f-]{36}$/);
  assert.match(uid, /^imp_/, "the fake's uid");
  assert.match(history, /^[0-9a-f-]{36}$/, "the history's id");
  const out = splitOutputs(ran.stdout, commands.length - 1);
  const err = splitOutputs(ran.stderr, commands.length - 1);
  assert.match(err[2], /^HTTP 201 \(X-Request-Id: \S+\)\n$/, "recorded");
  const read = JSON.parse(out[3]);
  assert.equal(read.id, history);
  assert.equal(read.price, 10000);
  assert.equal(read.vendor.uid, uid);
  assert.notEqual(read.paid_at, null);
  assert.match(err[3], /^HTTP 200/);
  const cancelled = JSON.parse(out[4]);
  assert.equal(cancelled.cancels.length, 1);
  assert.equal(cancelled.cancels[0].price, 5000);
  assert.match(err[4], /^HTTP 200/);
  // The notification of the cancel, once the outbox delivered it.
  let kept;
  await waitFor(async () => {
    const got = await bash(`history=${history}\n${last}`);
    assert.equal(got.code, 0, got.stderr);
    kept = JSON.parse(got.stdout);
    return kept.some((entry) => JSON.stringify(entry.webhook).includes("half"));
  }, 20000, "the cancel's notification at the test receiver");
  assert.ok(kept.every((entry) => entry.signed === true), "signed with the webhook secret");
});
