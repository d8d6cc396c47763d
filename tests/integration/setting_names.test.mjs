// Settings an operator misspells are reported, not silently ignored: every
// unknown PAYMENT_* name is a warning with the nearest known name, in the
// master's log at start-up; the original's UPDATOR settings also answer to
// the UPDATER spelling; an empty variable that hides the .env's value is
// called that, not "not set". And the table of known names stays complete:
// every setting the README documents or the code reads is known.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { binary, sourceDir, tempDir } from "../lib/process.mjs";
import { baseEnv, startServer, stopCleanly } from "../lib/server.mjs";

/** `payments-worker --check-config` with exactly env (nothing inherited). */
function checkConfig(env, cwd = tempDir("payments-settings-")) {
  const run = spawnSync(path.resolve(binary("payments-worker")), ["--check-config"], {
    cwd, env: { PATH: process.env.PATH, ...baseEnv(), ...env }, encoding: "utf8", timeout: 30000,
  });
  return { status: run.status, output: run.stderr + run.stdout };
}

/** Every name the README's Configuration section documents. */
function documentedNames() {
  const readme = fs.readFileSync(path.join(sourceDir, "README.md"), "utf8");
  return [...readme.matchAll(/^\| `(PAYMENT_[A-Z0-9_]+)`/gm)].map((m) => m[1]);
}

/** Every name the C sources read through one of the configuration readers. */
function namesReadByCode() {
  const names = new Set();
  const reader = /(?:read_[a-z_]+|dotenv_get|settings_get|settings_integer|getenv|cfg_setting)\([^;]*?"(PAYMENT_[A-Z0-9_]+)"/gs;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith(".c")) for (const m of fs.readFileSync(file, "utf8").matchAll(reader)) names.add(m[1]);
    }
  };
  for (const dir of ["common", "master", "worker", "updater", "cli"]) walk(path.join(sourceDir, dir));
  return [...names];
}

test("the table of known settings covers every documented and every read setting", () => {
  const names = [...new Set([...documentedNames(), ...namesReadByCode()])];
  assert.ok(names.length > 60, `only ${names.length} names found: the search itself is broken`);
  // Empty values keep each default, so the configuration stays valid.
  const env = Object.fromEntries(names.filter((name) => !(name in baseEnv())).map((name) => [name, ""]));
  delete env.PAYMENT_MODE;
  const { status, output } = checkConfig(env);
  assert.equal(status, 0, output);
  assert.doesNotMatch(output, /unknown setting/, "a setting is missing from common/setting_names.c");
});

test("a misspelled setting is named with the nearest known one", () => {
  const { status, output } = checkConfig({
    PAYMENT_WEBHOK_SECRET: "x", PAYMENT_IAMPORT_KYE: "y", PAYMENT_TOSSPAYMENTS_TIMEOUT_MS: "100", PAYMENT_FOO: "1",
  });
  assert.equal(status, 0, output);
  assert.match(output, /unknown setting PAYMENT_WEBHOK_SECRET \(did you mean PAYMENT_WEBHOOK_SECRET\?\)/);
  assert.match(output, /unknown setting PAYMENT_IAMPORT_KYE \(did you mean PAYMENT_IAMPORT_KEY\?\)/);
  assert.match(output, /unknown setting PAYMENT_TOSSPAYMENTS_TIMEOUT_MS \(did you mean PAYMENT_TOSS_PAYMENTS_TIMEOUT_MS\?\)/);
  assert.match(output, /unknown setting PAYMENT_FOO\n/);
});

test("the master logs each unknown setting once at start-up and still serves", async () => {
  const server = await startServer({ workers: 2, env: { PAYMENT_WEBHOK_SECRET: "misspelled" } });
  try {
    const res = await fetch(server.url("/monitors/health"));
    assert.equal(res.status, 200);
    const log = server.process.log();
    const lines = log.split("\n").filter((l) => l.includes("unknown setting PAYMENT_WEBHOK_SECRET"));
    assert.equal(lines.length, 1, log);
    assert.match(lines[0], /did you mean PAYMENT_WEBHOOK_SECRET/);
    assert.ok(!log.includes("misspelled"), "the value of an unknown setting reached the log");
  } finally {
    await stopCleanly(server);
  }
});

test("PAYMENT_UPDATER_* is read as the original's PAYMENT_UPDATOR_*", () => {
  // The admin port must differ from the updater's: a clash read through the
  // UPDATER spelling proves that spelling is honoured.
  const clash = checkConfig({ PAYMENT_API_PORT: "41001", PAYMENT_ADMIN_PORT: "41002", PAYMENT_UPDATER_PORT: "41002" });
  assert.equal(clash.status, 1, clash.output);
  assert.match(clash.output, /PAYMENT_ADMIN_PORT must differ/);
  assert.doesNotMatch(clash.output, /unknown setting/);
  const fine = checkConfig({ PAYMENT_API_PORT: "41001", PAYMENT_ADMIN_PORT: "41002", PAYMENT_UPDATER_PORT: "41003" });
  assert.equal(fine.status, 0, fine.output);
  assert.doesNotMatch(fine.output, /unknown setting/);
});

test("an empty variable hiding the .env's value is called that", () => {
  const dir = tempDir("payments-settings-");
  fs.writeFileSync(path.join(dir, ".env"), "PAYMENT_SYSTEM_PASSWORD=a-password-in-the-env-file\n");
  const hidden = checkConfig({ PAYMENT_SYSTEM_PASSWORD: "", PAYMENT_ENV_FILE: ".env" }, dir);
  assert.equal(hidden.status, 1, hidden.output);
  assert.match(hidden.output, /PAYMENT_SYSTEM_PASSWORD is empty in the environment, which overrides its value in \.env/);
  assert.ok(!hidden.output.includes("a-password-in-the-env-file"));
  const unset = checkConfig({ PAYMENT_SYSTEM_PASSWORD: "", PAYMENT_ENV_FILE: "" }, tempDir("payments-settings-"));
  assert.match(unset.output, /PAYMENT_SYSTEM_PASSWORD is not set/);
});
