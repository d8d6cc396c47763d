// The `payments` command line on this machine: --help everywhere, usage
// errors, start in the background until every worker is ready, status,
// reload, stop and wait, and the errors an operator sees for a missing host
// or a master that cannot start.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { binary, freePort, start, tempDir, waitFor } from "../lib/process.mjs";
import { baseEnv, startServer } from "../lib/server.mjs";
import { runCommand, terminate } from "../lib/instance.mjs";

const commands = ["start", "stop", "status", "reload", "migrate", "update", "updater", "instances", "monitor", "call", "fake"];

function payments(args, env = {}, timeoutMs = 60000) {
  return runCommand(binary("payments"), args, { ...baseEnv(), ...env }, undefined, timeoutMs);
}

async function localEnv(dir) {
  if (!process.env.PAYMENT_POSTGRES_URL) throw new Error("PAYMENT_POSTGRES_URL is not set: run through make test");
  return {
    PAYMENT_API_HOST: "127.0.0.1",
    PAYMENT_API_PORT: String(await freePort()),
    PAYMENT_WORKERS: "2",
    PAYMENT_PID_FILE: path.join(dir, "run", "payments.pid"),
    PAYMENT_CONTROL_SOCKET: path.join(dir, "run", "payments.sock"),
    PAYMENT_POSTGRES_URL: process.env.PAYMENT_POSTGRES_URL,
    PAYMENT_POSTGRES_SCHEMA: `t_cli_${process.pid}`,
    PAYMENT_MASTER_BINARY: binary("payments-master"),
  };
}

test("--help on every command, and usage errors exit 2", async () => {
  const top = await payments(["--help"]);
  assert.equal(top.code, 0);
  for (const c of commands) {
    assert.match(top.stdout, new RegExp(`^  ${c} `, "m"), `${c} listed`);
    const help = await payments([c, "--help"]);
    assert.equal(help.code, 0, c);
    assert.match(help.stdout, new RegExp(`^usage: payments ${c}`), c);
  }
  assert.equal((await payments([])).code, 2);
  const unknown = await payments(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command frobnicate/);
  const noMode = await payments(["update"]);
  assert.equal(noMode.code, 2);
  assert.match(noMode.stderr, /which mode/);
  const updater = await runCommand(binary("payments-updater"), ["--help"], baseEnv());
  assert.equal(updater.code, 0);
  assert.match(updater.stdout, /^usage: payments-updater master\|slave/);
});

test("update and monitor name the setting that is missing", async () => {
  const dev = await payments(["update", "dev"], { PAYMENT_UPDATOR_HOST_DEV: "" });
  assert.equal(dev.code, 1);
  assert.match(dev.stderr, /PAYMENT_UPDATOR_HOST_DEV is not set/);
  const monitor = await payments(["monitor", "real"], { PAYMENT_UPDATOR_HOST_REAL: "", PAYMENT_API_HOST_REAL: "" });
  assert.equal(monitor.code, 1);
  assert.match(monitor.stderr, /PAYMENT_UPDATOR_HOST_REAL is not set/);
  const mode = await payments(["update", "staging"]);
  assert.equal(mode.code, 1);
  assert.match(mode.stderr, /unknown mode staging/);
  const nobody = await payments(["update", "local"], { PAYMENT_UPDATOR_PORT: String(await freePort()) });
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /cannot connect to the master updater/);
});

test("start runs the master in the background until every worker is ready; stop waits until it is gone", async () => {
  const dir = tempDir("payments-cli-");
  const env = await localEnv(dir);
  const log = path.join(dir, "log", "payments.log");
  let pid = 0;
  try {
    const started = await payments(["start", "--log", log], env);
    assert.equal(started.code, 0, started.stderr);
    pid = Number(fs.readFileSync(env.PAYMENT_PID_FILE, "utf8"));
    assert.match(started.stdout, new RegExp(`started: pid ${pid}, 2 worker\\(s\\) ready; log: ${log}`));
    assert.ok(fs.statSync(log).size > 0, "the master logs to the file");

    const again = await payments(["start"], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`already running \\(pid ${pid}\\)`));

    const status = await payments(["status"], env);
    assert.equal(status.code, 0);
    const doc = JSON.parse(status.stdout);
    assert.equal(doc.master.pid, pid);
    assert.equal(doc.workers.filter((w) => w.state === "ready").length, 2);
    const before = doc.workers.map((w) => w.pid);

    // -C DIR and --env FILE: an instance's .env elsewhere names its socket.
    const other = tempDir("payments-cli-other-");
    fs.writeFileSync(path.join(other, ".env"), `PAYMENT_CONTROL_SOCKET=${env.PAYMENT_CONTROL_SOCKET}\n`);
    fs.writeFileSync(path.join(other, "instance.env"), `PAYMENT_CONTROL_SOCKET=${env.PAYMENT_CONTROL_SOCKET}\n`);
    const { PAYMENT_CONTROL_SOCKET: socket, ...elsewhere } = env;
    assert.ok(socket);
    const lost = await payments(["status"], elsewhere);
    assert.equal(lost.code, 1, "without -C the default socket is relative to the working directory");
    const fromDir = await payments(["-C", other, "status"], elsewhere);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    assert.equal(JSON.parse(fromDir.stdout).master.pid, pid);
    const fromFile = await payments(["--env", path.join(other, "instance.env"), "status"], elsewhere);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const badDir = await payments(["-C", path.join(other, "missing"), "status"], elsewhere);
    assert.equal(badDir.code, 2);
    assert.match(badDir.stderr, /-C .*missing: No such file or directory/);
    fs.rmSync(other, { recursive: true, force: true });

    const reload = await payments(["reload"], env);
    assert.equal(reload.code, 0, reload.stderr);
    await waitFor(async () => {
      const s = JSON.parse((await payments(["status"], env)).stdout);
      const ready = s.workers.filter((w) => w.state === "ready");
      return !s.master.rolling && ready.length === 2 && ready.every((w) => !before.includes(w.pid));
    }, 30000, "the reload to replace both workers");

    const stopped = await payments(["stop"], env);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`payments-master \\(pid ${pid}\\) stopped`));
    assert.throws(() => process.kill(pid, 0), "the master is gone when stop returns");
    const status2 = await payments(["status"], env);
    assert.equal(status2.code, 1);
    assert.match(status2.stderr, /no master answers/);
    const stopAgain = await payments(["stop"], env);
    assert.equal(stopAgain.code, 0);
    assert.match(stopAgain.stdout, /not running/);
  } finally {
    await terminate(pid, "SIGKILL", 2000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("start reports a master that cannot come up, with the end of its log", async () => {
  const dir = tempDir("payments-cli-");
  const env = await localEnv(dir);
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(Number(env.PAYMENT_API_PORT), "127.0.0.1", resolve));
  try {
    const res = await payments(["start", "--log", path.join(dir, "p.log"), "--timeout", "30"], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /payments-master exited with status 1 during start-up/);
    assert.match(res.stderr, /cannot listen on 127\.0\.0\.1/);
  } finally {
    blocker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("updaters link up, a failing update is reported by both instances, and they stop cleanly", async () => {
  const server = await startServer({ workers: 1 });
  const dir = tempDir("payments-updater-");
  const env = {
    ...server.env,
    PAYMENT_UPDATOR_PORT: String(await freePort()),
    PAYMENT_UPDATOR_BIND: "127.0.0.1",
    PAYMENT_UPDATE_CHECKOUT: dir, // not a git checkout: the fetch fails
    PAYMENT_UPDATOR_HEARTBEAT_MS: "300",
  };
  const master = start(binary("payments-updater"), ["master"],
    { env: { ...env, PAYMENT_UPDATE_INSTANCE: "one", PAYMENT_UPDATER_PID_FILE: path.join(dir, "one.pid") } });
  const slave = start(binary("payments-updater"), ["slave"],
    { env: { ...env, PAYMENT_UPDATE_INSTANCE: "two", PAYMENT_UPDATER_PID_FILE: path.join(dir, "two.pid") } });
  try {
    await waitFor(async () => {
      const listed = await payments(["instances", "local", "--json"], env, 10000);
      return listed.code === 0 && JSON.parse(listed.stdout).instances.length === 2;
    }, 20000, "the slave to connect");
    const res = await payments(["update", "local", "--json"], env);
    assert.equal(res.code, 1, res.stderr);
    const doc = JSON.parse(res.stdout);
    assert.deepEqual(doc.instances.map((r) => r.instance).sort(), ["one", "two"]);
    for (const result of doc.instances) {
      assert.equal(result.ok, false);
      assert.equal(result.step, "fetch");
      assert.match(result.error, /git exited with status 128/);
      assert.ok(result.output.some((line) => /not a git repository/.test(line)), result.output.join("\n"));
      assert.equal(result.master.pid_before, server.process.pid);
    }
    assert.match(res.stderr, /^\[two\] updating two$/m, "progress of the slave reaches the client");
    const wrong = await payments(["instances", "local"], { ...env, PAYMENT_SYSTEM_PASSWORD: "wrong" }, 10000);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused: authentication failed/);
  } finally {
    const [m, s] = [await master.stop("SIGTERM"), await slave.stop("SIGTERM")];
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    // a sanitizer build exits non-zero on a leak or an error at exit
    assert.deepEqual([m.code, s.code], [0, 0], `updater exits:\n${master.log()}\n${slave.log()}`);
  }
  assert.ok(!/Sanitizer/.test(master.log() + slave.log()));
});

test("updater start, status and stop manage the updater like the master: pid file, log, role and links", async () => {
  const server = await startServer({ workers: 1 });
  const dir = tempDir("payments-updater-cli-");
  const common = {
    ...server.env,
    PAYMENT_UPDATOR_PORT: String(await freePort()),
    PAYMENT_UPDATOR_BIND: "127.0.0.1",
    PAYMENT_UPDATE_CHECKOUT: dir,
    PAYMENT_UPDATOR_HEARTBEAT_MS: "300",
    PAYMENT_UPDATER_LOG_FILE: "",
  };
  const masterEnv = { ...common, PAYMENT_UPDATE_INSTANCE: "one", PAYMENT_UPDATER_PID_FILE: path.join(dir, "one", "updater.pid") };
  const slaveEnv = { ...common, PAYMENT_UPDATE_INSTANCE: "two", PAYMENT_UPDATER_PID_FILE: path.join(dir, "two", "updater.pid") };
  const masterLog = path.join(dir, "logs", "master.log");
  const pids = [];
  const statusOf = async (env) => {
    const res = await payments(["updater", "status", "--json"], env, 10000);
    return res.code === 0 ? JSON.parse(res.stdout) : null;
  };
  try {
    const none = await payments(["updater", "status"], masterEnv);
    assert.equal(none.code, 1);
    assert.match(none.stdout, /payments-updater is not running/);

    const started = await payments(["updater", "start", "master", "--log", masterLog], masterEnv);
    assert.equal(started.code, 0, started.stderr);
    const pid = Number(started.stdout.match(/^payments-updater master started: pid (\d+); log: /m)?.[1]);
    pids.push(pid);
    assert.equal(Number(fs.readFileSync(masterEnv.PAYMENT_UPDATER_PID_FILE, "utf8")), pid, "the pid file names it");
    assert.match(fs.readFileSync(masterLog, "utf8"), /master updater one listening on 127\.0\.0\.1:/, "it logs to --log");

    const again = await payments(["updater", "start", "master"], masterEnv);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`payments-updater is already running \\(pid ${pid}`));
    const direct = await runCommand(binary("payments-updater"), ["master"], { ...baseEnv(), ...masterEnv }, undefined, 30000);
    assert.equal(direct.code, 1, "a second updater on the same pid file refuses to start");
    assert.match(direct.stderr, new RegExp(`another updater is running \\(pid ${pid}`));

    const slave = await payments(["updater", "start", "slave", "--log", path.join(dir, "logs", "slave.log")], slaveEnv);
    assert.equal(slave.code, 0, slave.stderr);
    pids.push(Number(slave.stdout.match(/started: pid (\d+)/)?.[1]));

    const linked = await waitFor(async () => {
      const s = await statusOf(masterEnv);
      return s?.instances?.length === 2 && s.instances[1].api ? s : null;
    }, 20000, "the master updater to list the slave with its addresses");
    assert.equal(linked.role, "master");
    assert.equal(linked.pid, pid);
    assert.deepEqual(linked.instances.map((i) => [i.instance, i.role]), [["one", "master"], ["two", "slave"]]);
    assert.equal(linked.instances[1].api, `127.0.0.1:${server.env.PAYMENT_API_PORT}`);
    const text = await payments(["updater", "status"], masterEnv);
    assert.match(text.stdout, new RegExp(`^payments-updater master: pid ${pid}, instance one$`, "m"));
    assert.match(text.stdout, /^ {2}two \(slave, 127\.0\.0\.1:\d+\): api 127\.0\.0\.1:\d+/m);

    const slaveState = await waitFor(async () => {
      const s = await statusOf(slaveEnv);
      return s?.link === "connected" ? s : null;
    }, 20000, "the slave to report its link");
    assert.equal(slaveState.master, `127.0.0.1:${common.PAYMENT_UPDATOR_PORT}`);
    assert.match((await payments(["updater", "status"], slaveEnv)).stdout,
      new RegExp(`^master updater 127\\.0\\.0\\.1:${common.PAYMENT_UPDATOR_PORT}: connected$`, "m"));

    const stopped = await payments(["updater", "stop"], masterEnv);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`payments-updater \\(pid ${pid}\\) stopped`));
    assert.ok(!fs.existsSync(masterEnv.PAYMENT_UPDATER_PID_FILE), "the pid file is removed");
    await waitFor(async () => (await statusOf(slaveEnv))?.link === "connecting", 20000, "the slave to notice");
    assert.equal((await payments(["updater", "stop"], slaveEnv)).code, 0);
    assert.equal((await payments(["updater", "status"], slaveEnv)).code, 1);
    assert.match((await payments(["updater", "stop"], slaveEnv)).stdout, /payments-updater is not running/);
    const logs = fs.readFileSync(masterLog, "utf8") + fs.readFileSync(path.join(dir, "logs", "slave.log"), "utf8");
    assert.match(logs, /stopping/, "both stopped on TERM");
    assert.ok(!/Sanitizer/.test(logs), logs);
  } finally {
    for (const p of pids) await terminate(p);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
