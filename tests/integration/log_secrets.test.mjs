// Secrets never reach a log, checked: the last test of a build searches
// every log the other tests' processes wrote (test-logs/ of the build) for
// every secret they registered (tests/lib/test_logs.mjs), as is, in base64
// and URL-encoded, and fails on any hit, naming the file and the secret but
// never printing the value. It first proves that it can fail: a secret
// planted in a scratch log must be found.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { tempDir } from "../lib/process.mjs";
import { logDir, logFiles, readSecrets, scanLogs } from "../lib/test_logs.mjs";

test("the scanner finds a planted secret in every form, and names it without its value", () => {
  const dir = tempDir("payments-log-secrets-");
  try {
    const secrets = [
      { name: "PAYMENT_SYSTEM_PASSWORD", value: "planted-system-password" },
      { name: "card number", value: "9999-8888-7777-6666" },
      { name: "PAYMENT_WEBHOOK_SECRET", value: "planted webhook/secret+" },
      { name: "record password", value: "never-written-anywhere" },
    ];
    fs.writeFileSync(path.join(dir, "plain.log"), "INFO worker[1] checking planted-system-password\n");
    fs.writeFileSync(path.join(dir, "base64.log"),
      `Authorization: Basic ${Buffer.from("9999-8888-7777-6666").toString("base64")}\n`);
    fs.writeFileSync(path.join(dir, "url.log"), `GET /?s=${encodeURIComponent("planted webhook/secret+")}\n`);
    const hits = scanLogs(dir, secrets);
    assert.deepEqual(hits.map((h) => `${h.file} ${h.name} ${h.form}`).sort(), [
      "base64.log card number base64",
      "plain.log PAYMENT_SYSTEM_PASSWORD as is",
      "url.log PAYMENT_WEBHOOK_SECRET URL-encoded",
    ]);
    assert.doesNotMatch(JSON.stringify(hits), /planted|9999|never-written/, "a hit never carries the value");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("no log of this build's tests holds a registered secret", (t) => {
  const files = logFiles();
  if (files.length === 0) {
    t.skip(`no test logs in ${logDir}: run after the other tests (make test, or ctest of the whole build)`);
    return;
  }
  const secrets = readSecrets();
  assert.ok(secrets.length > 0, `logs without registered secrets in ${logDir}`);
  const hits = scanLogs();
  const report = hits.map((h) => `${h.file}: ${h.name} (${h.form})`).join("\n");
  assert.equal(hits.length, 0, `secrets in the test logs (${files.length} logs, ${secrets.length} secrets):\n${report}`);
});
