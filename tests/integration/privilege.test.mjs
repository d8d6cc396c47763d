// Least privilege: a master started as root keeps root and runs every
// worker as PAYMENT_USER (here `payments`, created when missing, as
// `make run` does), also after a reload; the workers still serve a payment
// end to end, with settings they could only get from a root-only .env
// through the master. A missing user stops start-up, and so does a routes
// file only root can read (the master checks the configuration as the
// workers' user, at start-up and on reload); the fakes leave root with
// --user once bound. Needs root: skipped, with the reason, otherwise.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { startFakeServer, stopFake } from "../lib/fakes.mjs";
import { binary, start, tempDir, waitFor } from "../lib/process.mjs";
import { baseEnv, sanitizerReport, startServer } from "../lib/server.mjs";
import { keepLog, registerSecret } from "../lib/test_logs.mjs";
import { iamportDriver } from "../lib/vendor_drivers.mjs";

const require = createRequire(import.meta.url);
const api = require("@samchon/payment-backend/lib/api").functional.payments;

const USER = "payments";
const PASSWORD = "privilege-password";
registerSecret("record password", PASSWORD);
const isRoot = process.getuid?.() === 0;

/** The user's uid and gid, creating the system user when it is missing. */
function ensureUser(name) {
  const id = (flag) => Number(execFileSync("id", [flag, name]).toString().trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

/** Real, effective, saved and filesystem ids, and supplementary groups, of pid. */
function credentials(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const ids = (field) => status.match(new RegExp(`^${field}:\\s*(.*)$`, "m"))[1].trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: ids("Uid"), gid: ids("Gid"), groups: ids("Groups") };
}

function assertRunsAs(pid, user, what) {
  const { uid, gid, groups } = credentials(pid);
  assert.deepEqual(uid, [user.uid, user.uid, user.uid, user.uid], `${what} (pid ${pid}) uids`);
  assert.deepEqual(gid, [user.gid, user.gid, user.gid, user.gid], `${what} (pid ${pid}) gids`);
  assert.ok(!groups.includes(0), `${what} (pid ${pid}) keeps group root: ${groups}`);
  assert.notEqual(user.uid, 0);
}

describe("least privilege", { skip: isRoot ? false : "not running as root: there is no privilege to drop" }, () => {
  let user;
  let fake;
  let server;
  let dir;

  before(async () => {
    user = ensureUser(USER);
    fake = await startFakeServer("fake-iamport-server", ["--user", USER]);
    // Settings the workers can only have from the master: a root-only .env.
    dir = tempDir("payments-privilege-");
    const envFile = path.join(dir, "root-only.env");
    fs.writeFileSync(envFile, `PAYMENT_IAMPORT_URL=${fake.host}\n`, { mode: 0o600 });
    const logDir = path.join(dir, "log");
    fs.mkdirSync(logDir, { mode: 0o755 });
    fs.chmodSync(dir, 0o711); /* the log directory is reachable, the .env is not */
    server = await startServer({
      workers: 2,
      env: { PAYMENT_USER: USER, PAYMENT_ENV_FILE: envFile, PAYMENT_LOG_FILE: path.join(logDir, "payments.log") },
    });
  });

  after(async () => {
    if (server) {
      const { code, signal } = await server.stop("SIGQUIT");
      const log = fs.readFileSync(server.env.PAYMENT_LOG_FILE, "utf8");
      keepLog("privilege-payments.log", log); /* searched for secrets with the others */
      assert.equal(signal, null, log);
      assert.equal(code, 0, log);
      assert.doesNotMatch(log + server.process.log(), sanitizerReport, log);
    }
    if (fake) await stopFake(fake);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const connection = () => ({
    host: server.url(""),
    encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
  });

  /** Records a card payment made at the fake and reads it back. */
  async function recordAndRead() {
    const source = { schema: "shopping", table: "shopping_orders", id: randomUUID() };
    const uid = await iamportDriver(fake.host).card(source.id, 12_000);
    const created = await api.histories.create(connection(), {
      vendor: { code: "iamport", store_id: "privilege-store", uid }, source, price: 12_000, password: PASSWORD,
      webhook_url: server.url("/payments/internal/webhook"),
    });
    assert.equal(created.price, 12_000);
    const read = await api.histories.get(connection(), { ...source, password: PASSWORD });
    assert.equal(read.id, created.id);
  }

  test("the master stays root; every worker runs as the user, with no group of root", async () => {
    assert.equal(credentials(server.process.pid).uid[1], 0, "the master keeps root");
    const pids = await server.readyPids();
    assert.equal(pids.length, 2);
    for (const pid of pids) assertRunsAs(pid, user, "worker");
  });

  test("workers serve a payment end to end with settings from a .env only root can read", async () => {
    assert.throws(() => execFileSync("runuser", ["-u", USER, "--", "cat", server.env.PAYMENT_ENV_FILE], { stdio: "pipe" }),
      "the user cannot read the .env itself");
    await recordAndRead();
  });

  test("the log file belongs to the user, and the workers write to it", async () => {
    const log = server.env.PAYMENT_LOG_FILE;
    assert.equal(fs.statSync(log).uid, user.uid);
    const pids = await server.readyPids();
    const text = fs.readFileSync(log, "utf8");
    for (const pid of pids) assert.match(text, new RegExp(`worker\\[${pid}\\]`), `worker ${pid} logs to the file`);
  });

  test("a reload replaces the workers with workers of the user that serve", async () => {
    const old = await server.readyPids();
    server.process.child.kill("SIGHUP");
    const fresh = await waitFor(async () => {
      const status = await server.status();
      const ready = status.workers.filter((w) => w.state === "ready").map((w) => w.pid);
      return !status.master.rolling && status.workers.length === 2 && ready.length === 2 &&
        ready.every((pid) => !old.includes(pid)) && ready;
    }, 30_000, "the roll");
    for (const pid of fresh) assertRunsAs(pid, user, "reloaded worker");
    await recordAndRead();
  });

  test("a reload naming a routes file the user cannot read is refused; the workers keep serving", async () => {
    const routes = path.join(dir, "root-only-routes.json");
    fs.writeFileSync(routes, JSON.stringify({ routes: [{ pg: "*", mid: "*", currency: "*", vendor: "iamport", store_id: "s" }] }),
      { mode: 0o600 });
    const envFile = server.env.PAYMENT_ENV_FILE;
    const settings = fs.readFileSync(envFile, "utf8");
    const old = await server.readyPids();
    fs.writeFileSync(envFile, `${settings}PAYMENT_ROUTES_FILE=${routes}\n`);
    try {
      server.process.child.kill("SIGHUP");
      const refusal = `reload refused, configuration unchanged: PAYMENT_ROUTES_FILE ${routes}: cannot be read: ` +
        "Permission denied";
      await waitFor(() => fs.readFileSync(server.env.PAYMENT_LOG_FILE, "utf8").includes(refusal), 10_000,
        "the refused reload");
    } finally {
      fs.writeFileSync(envFile, settings);
    }
    const status = await server.status();
    assert.equal(status.master.rolling, false);
    assert.deepEqual(await server.readyPids(), old);
    await recordAndRead();
  });

  test("a routes file the user cannot read stops start-up with one line", async () => {
    const routes = path.join(dir, "root-only-routes.json");
    fs.writeFileSync(routes, JSON.stringify({ routes: [{ pg: "*", mid: "*", currency: "*", vendor: "iamport", store_id: "s" }] }),
      { mode: 0o600 });
    const proc = start(binary("payments-master"), [], {
      env: { ...baseEnv(), PAYMENT_USER: USER, PAYMENT_ROUTES_FILE: routes, PAYMENT_API_PORT: "0",
        PAYMENT_PID_FILE: path.join(dir, "routes.pid"), PAYMENT_CONTROL_SOCKET: path.join(dir, "routes.sock") },
    });
    const guard = setTimeout(() => proc.child.kill("SIGKILL"), 30_000);
    const { code, signal } = await proc.exited;
    clearTimeout(guard);
    assert.equal(signal, null, proc.log());
    assert.equal(code, 1, proc.log());
    assert.equal(proc.log().trim(), `payments-master: PAYMENT_ROUTES_FILE ${routes}: cannot be read: Permission denied`);
  });

  test("the fake started with --user leaves root once bound", () => {
    assertRunsAs(fake.proc.pid, user, "fake");
  });

  test("a PAYMENT_USER that does not exist stops start-up with one line", async () => {
    const proc = start(binary("payments-master"), [], {
      env: { ...baseEnv(), PAYMENT_USER: "payments-no-such-user", PAYMENT_API_PORT: "0",
        PAYMENT_PID_FILE: path.join(dir, "missing.pid"), PAYMENT_CONTROL_SOCKET: path.join(dir, "missing.sock") },
    });
    const { code } = await proc.exited;
    assert.equal(code, 1, proc.log());
    assert.match(proc.log(), /^payments-master: PAYMENT_USER: no user "payments-no-such-user" on this system/m);
    assert.equal(proc.log().trim().split("\n").length, 1, proc.log());
  });
});
