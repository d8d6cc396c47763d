// The unit files in systemd/ pass `systemd-analyze verify` without a single
// warning, with their /opt/payments paths pointed at this tree and build, and
// keep the properties the master and the updater rely on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildDir, sourceDir, tempDir } from "../lib/process.mjs";

const units = ["payments.service", "payments-updater-master.service", "payments-updater-slave.service"];
const analyzer = spawnSync("systemd-analyze", ["--version"]);
const missing = analyzer.error ? "systemd-analyze is not installed" : false;

function unitText(name) {
  return fs.readFileSync(path.join(sourceDir, "systemd", name), "utf8");
}

test("every unit passes systemd-analyze verify without warnings", { skip: missing }, () => {
  const dir = tempDir("payments-units-");
  try {
    for (const name of units) {
      const text = unitText(name).replaceAll("/opt/payments/build", buildDir).replaceAll("/opt/payments", sourceDir);
      fs.writeFileSync(path.join(dir, name), text);
      const run = spawnSync("systemd-analyze", ["verify", "--man=no", path.join(dir, name)], { encoding: "utf8" });
      assert.equal(run.status, 0, `${name}: ${run.stderr}`);
      assert.equal(run.stderr.trim(), "", `${name} has warnings`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the master's unit: readiness notified, reload by HUP, graceful stop with a limit", () => {
  const text = unitText("payments.service");
  assert.match(text, /^Type=notify$/m);
  assert.match(text, /^NotifyAccess=all$/m, "an upgraded master notifies from a new pid");
  assert.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.match(text, /^KillSignal=SIGQUIT$/m);
  assert.match(text, /^KillMode=mixed$/m, "QUIT to the master only; it drains its workers");
  assert.match(text, /^TimeoutStopSec=\d+$/m);
});

test("the updaters' units run each role against the master's control socket", () => {
  const socket = unitText("payments.service").match(/^Environment=PAYMENT_CONTROL_SOCKET=(.+)$/m)[1];
  for (const [name, role] of [["payments-updater-master.service", "master"], ["payments-updater-slave.service", "slave"]]) {
    const text = unitText(name);
    assert.match(text, new RegExp(`^ExecStart=\\S+/payments-updater ${role}$`, "m"));
    assert.match(text, new RegExp(`^Environment=PAYMENT_CONTROL_SOCKET=${socket}$`, "m"));
    assert.match(text, /^After=.*payments\.service/m);
  }
});
