// Start-up refusals of the real binaries: an unset PAYMENT_MODE, and in dev
// and real mode internal vendor hosts, missing or short secrets and a weak
// system password. Each stops start-up with one line naming the variable
// and never prints a secret it was given.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { binary, freePort, start, tempDir, waitFor } from "../lib/process.mjs";
import { baseEnv, devEnv, request, startServer } from "../lib/server.mjs";
import { runCommand } from "../lib/instance.mjs";

/** Every secret value a refused start-up was given. */
function secretsOf(env) {
  return Object.entries(env)
    .filter(([name, value]) => /PASSWORD|SECRET|_KEY$|_IV$/.test(name) && value && value.length >= 4)
    .map(([, value]) => value);
}

/** Runs `file` with env until it exits; its output must be one line. */
async function refusedStart(file, env) {
  const dir = tempDir("payments-startup-");
  const port = await freePort();
  const fullEnv = {
    PAYMENT_API_HOST: "127.0.0.1",
    PAYMENT_API_PORT: String(port),
    PAYMENT_WORKERS: "1",
    PAYMENT_PID_FILE: path.join(dir, "payments.pid"),
    PAYMENT_CONTROL_SOCKET: path.join(dir, "payments.sock"),
    ...env,
  };
  const proc = start(binary(file), [], { env: fullEnv });
  // A start-up that is not refused would serve forever: stop it, and fail.
  const guard = setTimeout(() => proc.child.kill("SIGKILL"), 30000);
  const { code, signal } = await proc.exited;
  clearTimeout(guard);
  const output = proc.log();
  assert.equal(signal, null, `${file} was still running: start-up was not refused\n${output}`);
  assert.equal(code, 1, output);
  for (const secret of secretsOf(fullEnv)) assert.ok(!output.includes(secret), `${file} printed a secret: ${output}`);
  const lines = output.trim().split("\n");
  assert.equal(lines.length, 1, output);
  return lines[0];
}

const outsideLocal = (mode, overrides) => ({ ...baseEnv(), ...devEnv(mode), PAYMENT_VENDOR_ALLOW_INTERNAL: "", ...overrides });
// Public literal addresses: judged without a resolver, and never contacted
// since start-up stops first.
const publicVendors = {
  PAYMENT_IAMPORT_URL: "https://8.8.8.8", PAYMENT_TOSS_PAYMENTS_URL: "https://8.8.4.4", PAYMENT_INICIS_URL: "https://1.1.1.1",
};

test("an unset PAYMENT_MODE stops the master, the worker and the updater", async () => {
  const env = { ...baseEnv(), PAYMENT_MODE: "" };
  assert.equal(await refusedStart("payments-master", env), "payments-master: PAYMENT_MODE is not set (local, dev or real)");
  assert.equal(await refusedStart("payments-worker", env), "payments-worker: PAYMENT_MODE is not set (local, dev or real)");
  const updater = start(binary("payments-updater"), ["slave"], { env: { ...env, PAYMENT_UPDATOR_MASTER: "127.0.0.1" } });
  assert.equal((await updater.exited).code, 1);
  assert.equal(updater.log().trim(), "payments-updater: PAYMENT_MODE is not set (local, dev or real)");
});

test("--help needs no environment at all", async () => {
  const bare = { PAYMENT_MODE: "", PAYMENT_SYSTEM_PASSWORD: "", PAYMENT_ENV_FILE: "/nonexistent/.env" };
  for (const [file, args, usage] of [
    ["payments", ["--help"], /^usage: payments /],
    ["payments-updater", ["--help"], /^usage: payments-updater /],
    ["payments-master", ["--help"], /^usage: payments-master/],
  ]) {
    const res = await runCommand(binary(file), args, bare, undefined, 10000);
    assert.equal(res.code, 0, `${file}: ${res.stderr}`);
    assert.match(res.stdout, usage);
  }
});

test("dev and real mode refuse vendor URLs on loopback or private hosts", async () => {
  const internal = [
    ["PAYMENT_IAMPORT_URL", "http://127.0.0.1:10851", "127.0.0.1"],
    ["PAYMENT_IAMPORT_URL", "http://10.0.0.1/", "10.0.0.1"],
    ["PAYMENT_TOSS_PAYMENTS_URL", "http://[::1]:30771", "[::1]"],
    ["PAYMENT_TOSS_PAYMENTS_URL", "http://localhost:30771", "localhost"],
    ["PAYMENT_IAMPORT_URL", "http://user:url-password-9c4e@169.254.169.254/", "169.254.169.254"],
  ];
  for (const mode of ["dev", "real"]) {
    for (const [name, url, host] of internal) {
      const env = outsideLocal(mode, { ...publicVendors, [name]: url });
      const line = await refusedStart("payments-master", env);
      assert.ok(line.startsWith(`payments-master: ${name}: host ${host} is internal`), line);
      assert.match(line, /PAYMENT_VENDOR_ALLOW_INTERNAL=1/);
      assert.doesNotMatch(line, /url-password-9c4e/);
    }
  }
  // Each worker checks again: it may be started with a configuration of its own.
  const worker = await refusedStart("payments-worker",
    outsideLocal("real", { ...publicVendors, PAYMENT_IAMPORT_URL: "http://192.168.0.10" }));
  assert.ok(worker.startsWith("payments-worker: PAYMENT_IAMPORT_URL: host 192.168.0.10 is internal"), worker);
});

test("dev and real mode refuse missing or short secrets and a weak system password", async () => {
  const cases = [
    [{ PAYMENT_WEBHOOK_SECRET: "" }, "PAYMENT_WEBHOOK_SECRET is not set"],
    [{ PAYMENT_WEBHOOK_SECRET: "webhook-secret-of-31-characters" }, "PAYMENT_WEBHOOK_SECRET must be at least 32"],
    [{ PAYMENT_PASSWORD_SECRET: "" }, "PAYMENT_PASSWORD_SECRET is not set"],
    [{ PAYMENT_PASSWORD_SECRET: "password-secret-short" }, "PAYMENT_PASSWORD_SECRET must be at least 32"],
    [{ PAYMENT_SYSTEM_PASSWORD: "short-pass-15ch" }, "PAYMENT_SYSTEM_PASSWORD must be at least 16"],
    [{ PAYMENT_SYSTEM_PASSWORD: "test-system-password" }, "PAYMENT_SYSTEM_PASSWORD is a well-known default"],
    [{ PAYMENT_SYSTEM_PASSWORD: "ChangeMeChangeMe" }, "PAYMENT_SYSTEM_PASSWORD is a well-known default"],
  ];
  for (const mode of ["dev", "real"]) {
    for (const [overrides, expected] of cases) {
      const line = await refusedStart("payments-master", outsideLocal(mode, { ...publicVendors, ...overrides }));
      assert.ok(line.startsWith(`payments-master: ${expected}`), `${mode}: ${line}`);
    }
  }
  // The updater proves the same system password to its peers.
  const updater = start(binary("payments-updater"), ["slave"], {
    env: { ...outsideLocal("dev", { PAYMENT_SYSTEM_PASSWORD: "test-system-password" }), PAYMENT_UPDATOR_MASTER: "127.0.0.1" },
  });
  assert.equal((await updater.exited).code, 1);
  assert.match(updater.log().trim(), /^payments-updater: PAYMENT_SYSTEM_PASSWORD is a well-known default[^\n]*$/);
});

test("dev mode serves with the fakes explicitly allowed; a reload that drops the allowance is refused", async () => {
  // The allowance comes from the .env file, so that a reload can take it back.
  const dir = tempDir("payments-startup-env-");
  const envFile = path.join(dir, ".env");
  fs.writeFileSync(envFile, "PAYMENT_VENDOR_ALLOW_INTERNAL=1\n");
  const { PAYMENT_VENDOR_ALLOW_INTERNAL, ...dev } = devEnv();
  assert.equal(PAYMENT_VENDOR_ALLOW_INTERNAL, "1");
  const server = await startServer({
    workers: 1,
    env: {
      ...dev, PAYMENT_ENV_FILE: envFile,
      PAYMENT_IAMPORT_URL: "http://127.0.0.1:10851", PAYMENT_TOSS_PAYMENTS_URL: "http://[::1]:30771",
      PAYMENT_INICIS_URL: "http://127.0.0.1:40571",
    },
  });
  try {
    const status = await server.status();
    assert.equal(status.master.mode, "dev");
    const before = await server.readyPids();
    fs.writeFileSync(envFile, "PAYMENT_VENDOR_ALLOW_INTERNAL=0\n");
    server.process.child.kill("SIGHUP");
    await waitFor(() => /reload refused, configuration unchanged: PAYMENT_IAMPORT_URL: host 127\.0\.0\.1 is internal/
      .test(server.process.log()), 10000, "the refused reload");
    assert.deepEqual(await server.readyPids(), before);
    assert.equal((await server.status()).master.rolling, false);
    assert.equal((await request(server.url("/monitors/health"))).status, 200);
  } finally {
    await server.stop();
  }
});

test("the test clock is refused outside local mode, by the master and the worker", async () => {
  for (const mode of ["dev", "real"]) {
    const env = outsideLocal(mode, { ...publicVendors, PAYMENT_TEST_CLOCK: "/tmp/payments-clock" });
    for (const file of ["payments-master", "payments-worker"]) {
      const line = await refusedStart(file, env);
      assert.equal(line, `${file}: PAYMENT_TEST_CLOCK is refused in ${mode} mode: only a local server may bill by a test clock`);
    }
  }
});
