// End to end: payments-master and its workers over loopback against the
// throwaway PostgreSQL — supervision, rolling reload, graceful stop, HTTP
// limits, and behaviour while the database is down.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { binary, freePort, sleep, start, tempDir, waitFor, sourceDir } from "../lib/process.mjs";
import { baseEnv, decryptBody, loadLoop, rawExchange, request, startServer } from "../lib/server.mjs";
import { loadContract } from "../lib/openapi.mjs";

test("health answers with Date and Content-Length; status lists the workers", async () => {
  const server = await startServer({ workers: 2 });
  try {
    const res = await request(server.url("/monitors/health"));
    assert.equal(res.status, 200);
    assert.ok(res.headers.date, "Date header");
    assert.equal(res.headers["content-length"], String(Buffer.byteLength(res.body)));
    const status = await server.status();
    assert.equal(status.master.pid, server.process.pid);
    assert.equal(status.workers.length, 2);
    for (const w of status.workers) {
      assert.equal(w.state, "ready");
      assert.ok(w.pid > 0 && w.pid !== server.process.pid);
      assert.match(w.started_at, /^\d{4}-\d\d-\d\dT/);
    }
    assert.equal(fs.readFileSync(server.env.PAYMENT_PID_FILE, "utf8").trim(), String(server.process.pid));
    const missing = await request(server.url("/nowhere"));
    assert.equal(missing.status, 404);
    const wrong = await request(server.url("/monitors/health"), { method: "DELETE" });
    assert.equal(wrong.status, 405);
    assert.match(wrong.headers.allow, /GET/);
  } finally {
    const { code } = await server.stop("SIGTERM");
    assert.equal(code, 0);
    assert.equal(fs.existsSync(server.env.PAYMENT_PID_FILE), false, "pid file removed at exit");
  }
});

test("a worker killed with SIGKILL is replaced and a new one serves within a second", async () => {
  const server = await startServer({ workers: 2 });
  try {
    const before = await server.readyPids();
    const victim = before[0];
    process.kill(victim, "SIGKILL");
    const killedAt = Date.now();
    const after = await waitFor(async () => {
      const pids = await server.readyPids();
      return pids.length === 2 && !pids.includes(victim) ? pids : null;
    }, 1000, "replacement worker ready");
    assert.ok(Date.now() - killedAt <= 1000);
    assert.ok(after.includes(before[1]), "the other worker was left alone");
    assert.equal((await request(server.url("/monitors/health"))).status, 200);
    assert.match(server.process.log(), new RegExp(`pid ${victim}\\) killed by signal 9`));
  } finally {
    await server.stop();
  }
});

test("HUP under keep-alive load replaces every worker with zero failed requests", async () => {
  const server = await startServer({ workers: 2 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let ok = 0;
  const failures = [];
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const res = await request(server.url("/monitors/health"), { agent });
        if (res.status === 200) ok++;
        else failures.push(`status ${res.status}`);
      } catch (e) {
        failures.push(e.message);
      }
    }
  };
  try {
    const before = await server.readyPids();
    const clients = Array.from({ length: 8 }, loop);
    await sleep(300);
    process.kill(server.process.pid, "SIGHUP");
    await waitFor(async () => {
      const s = await server.status();
      const ready = s.workers.filter((w) => w.state === "ready");
      return !s.master.rolling && ready.length === 2 && ready.every((w) => !before.includes(w.pid));
    }, 20000, "roll to finish");
    await sleep(500);
    running = false;
    await Promise.all(clients);
    const after = await server.readyPids();
    assert.equal(after.filter((p) => before.includes(p)).length, 0, "every worker pid changed");
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `requests served during the test: ${ok}`);
  } finally {
    running = false;
    agent.destroy();
    await server.stop();
  }
});

test("QUIT lets an in-flight request finish, then the master exits", async () => {
  const server = await startServer({ workers: 1 });
  const head = "GET /monitors/health HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
  const pending = rawExchange(server.port, [head, "01234", "56789"], { gapMs: 700 });
  await sleep(300); // the headers and half the body are in
  process.kill(server.process.pid, "SIGQUIT");
  const answer = await pending;
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.match(answer, /\r\nConnection: close\r\n/i);
  const { code } = await server.process.exited;
  assert.equal(code, 0);
});

test("limits: oversized body 413, malformed request 400, unfinished headers cut off", async () => {
  const server = await startServer({
    workers: 1,
    env: { PAYMENT_MAX_BODY_BYTES: "1024", PAYMENT_HEADER_TIMEOUT_MS: "300" },
  });
  try {
    const big = await request(server.url("/monitors/health"), { method: "POST", body: "x".repeat(4096) })
      .catch((e) => ({ status: "error " + e.message }));
    assert.equal(big.status, 413);
    const malformed = await rawExchange(server.port, "NOT A REQUEST\r\n\r\n");
    assert.match(malformed, /^HTTP\/1\.1 400 /);
    const startedAt = Date.now();
    const slow = await rawExchange(server.port, "GET /monitors/health HTTP/1.1\r\nHost: x\r\n", { timeoutMs: 5000 });
    assert.ok(Date.now() - startedAt < 5000);
    assert.ok(slow === "" || /^HTTP\/1\.1 408 /.test(slow), `got: ${slow}`);
    assert.equal((await request(server.url("/monitors/health"))).status, 200, "still serving");
  } finally {
    await server.stop();
  }
});

test("database down: 503 and the worker stays up; database back: requests succeed", async () => {
  const pgDir = tempDir("payments-pg-");
  const pgPort = await freePort();
  const script = path.join(sourceDir, "scripts", "postgres");
  const url = execFileSync(script, ["start", pgDir, String(pgPort)]).toString().trim();
  let server;
  try {
    server = await startServer({ workers: 1, env: { PAYMENT_POSTGRES_URL: url } });
    assert.equal((await request(server.url("/monitors/ready"))).status, 200);
    const pids = await server.readyPids();
    execFileSync(script, ["stop", pgDir]);
    const down = await waitFor(async () => {
      const res = await request(server.url("/monitors/ready"));
      return res.status === 503 ? res : null;
    }, 10000, "503 while the database is down");
    assert.match(JSON.parse(down.body).message, /database/i);
    assert.equal((await request(server.url("/monitors/health"))).status, 200);
    assert.deepEqual(await server.readyPids(), pids, "the worker kept running");
    execFileSync(script, ["start", pgDir, String(pgPort)]);
    await waitFor(async () => (await request(server.url("/monitors/ready"))).status === 200, 15000,
      "requests to succeed after the database is back");
    assert.deepEqual(await server.readyPids(), pids);
  } finally {
    await server?.stop();
    try { execFileSync(script, ["stop", pgDir]); } catch { /* already stopped */ }
    fs.rmSync(pgDir, { recursive: true, force: true });
  }
});

test("a missing setting stops start-up with one line naming it", async () => {
  const env = { ...baseEnv(), PAYMENT_HISTORY_ENCRYPTION_KEY: "" };
  const proc = start(binary("payments-master"), [], { env });
  const { code } = await proc.exited;
  assert.equal(code, 1);
  assert.match(proc.log().trim(), /^payments-master: PAYMENT_HISTORY_ENCRYPTION_KEY is not set$/);
});

test("a second master on the same pid file is refused", async () => {
  const server = await startServer({ workers: 1 });
  try {
    const port = await freePort();
    const proc = start(binary("payments-master"), [], { env: { ...server.env, PAYMENT_API_PORT: String(port) } });
    const { code } = await proc.exited;
    assert.equal(code, 1);
    assert.match(proc.log(), /another master is running/);
    assert.equal((await request(server.url("/monitors/health"))).status, 200);
  } finally {
    await server.stop();
  }
});

test("a worker that keeps crashing is restarted with back-off, and the log says why", async () => {
  const dir = tempDir("payments-crash-");
  const port = await freePort();
  // It passes the master's configuration check, then fails every start.
  const worker = path.join(dir, "crashing-worker");
  fs.writeFileSync(worker, "#!/bin/sh\n[ \"$1\" = --check-config ] && exit 0\nexit 1\n", { mode: 0o755 });
  const env = {
    ...baseEnv(),
    PAYMENT_API_HOST: "127.0.0.1",
    PAYMENT_API_PORT: String(port),
    PAYMENT_WORKERS: "1",
    PAYMENT_PID_FILE: path.join(dir, "p.pid"),
    PAYMENT_CONTROL_SOCKET: path.join(dir, "p.sock"),
    PAYMENT_WORKER_BINARY: worker,
  };
  const proc = start(binary("payments-master"), ["--no-migrate"], { env });
  try {
    await sleep(2500);
    assert.equal(proc.child.exitCode, null, "the master keeps running");
    const exits = proc.log().match(/exited with status 1: replacing it/g) ?? [];
    assert.ok(exits.length >= 3, `restarted several times: ${exits.length}`);
    assert.ok(exits.length <= 12, `with back-off, not in a tight loop: ${exits.length}`);
    assert.match(proc.log(), /keep dying young: next start in \d+ ms/);
  } finally {
    await proc.stop("SIGTERM");
  }
});

test("a worker binary that cannot be started stops start-up cleanly", async () => {
  const dir = tempDir("payments-nobin-");
  const port = await freePort();
  const env = {
    ...baseEnv(),
    PAYMENT_API_PORT: String(port),
    PAYMENT_PID_FILE: path.join(dir, "p.pid"),
    PAYMENT_CONTROL_SOCKET: path.join(dir, "p.sock"),
    PAYMENT_WORKER_BINARY: path.join(dir, "missing-worker"),
  };
  const proc = start(binary("payments-master"), ["--no-migrate"], { env });
  const { code, signal } = await proc.exited;
  assert.equal(signal, null, proc.log());
  assert.equal(code, 1);
  assert.match(proc.log(), /cannot start worker .*missing-worker: no such file or directory/);
  assert.equal(fs.existsSync(env.PAYMENT_PID_FILE), false);
});

test("USR2 upgrade under keep-alive load: a new master and new workers, zero failed requests", async () => {
  const server = await startServer({ workers: 2 });
  const oldPids = await server.readyPids();
  // The operators' listener is inherited like the API's: same port, no failure.
  const load = loadLoop([server.url("/monitors/health"), server.adminUrl("/monitors/health")]);
  let successor;
  try {
    await sleep(300);
    process.kill(server.process.pid, "SIGUSR2");
    const { code } = await server.process.exited; // the old master hands over and exits
    assert.equal(code, 0);
    const status = await waitFor(async () => {
      const s = await server.status().catch(() => null);
      return s && s.workers.filter((w) => w.state === "ready").length === 2 ? s : null;
    }, 20000, "the new master's workers");
    successor = status.master.pid;
    assert.notEqual(successor, server.process.pid);
    assert.equal(fs.readFileSync(server.env.PAYMENT_PID_FILE, "utf8").trim(), String(successor));
    assert.equal(status.workers.filter((w) => oldPids.includes(w.pid)).length, 0);
    assert.equal(status.master.operators_port, server.adminPort, "the operators' socket is inherited");
    await sleep(300);
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `requests served: ${ok}`);
    assert.match(server.process.log(), /upgrade: new master \(pid \d+\) is ready/);
  } finally {
    await load.stop();
    await server.stop("SIGKILL");
    await stopByPid(successor ?? readPid(server.env.PAYMENT_PID_FILE));
  }
});

test("an upgrade whose new master fails leaves the old one serving", async () => {
  const dir = tempDir("payments-bin-");
  const master = path.join(dir, "payments-master");
  fs.copyFileSync(binary("payments-master"), master);
  fs.chmodSync(master, 0o755);
  const server = await startServer({
    workers: 1,
    env: { PAYMENT_WORKER_BINARY: binary("payments-worker") },
    binaryPath: master,
  });
  try {
    const before = await server.readyPids();
    fs.rmSync(master);
    fs.writeFileSync(master, "#!/bin/sh\necho broken master >&2\nexit 3\n", { mode: 0o755 });
    process.kill(server.process.pid, "SIGUSR2");
    await waitFor(() => /upgrade failed: .* exited with status 3/.test(server.process.log()), 10000, "the failure");
    const status = await server.status();
    assert.equal(status.master.pid, server.process.pid, "the control socket is the old master's again");
    assert.deepEqual(await server.readyPids(), before);
    assert.equal(fs.readFileSync(server.env.PAYMENT_PID_FILE, "utf8").trim(), String(server.process.pid));
    assert.equal((await request(server.url("/monitors/health"))).status, 200);
  } finally {
    await server.stop();
  }
});

test("monitors: performance covers the master and every worker; system names the commit", async () => {
  const server = await startServer({ workers: 2 });
  try {
    const status = await waitFor(async () => {
      const s = await server.status();
      return s.workers.every((w) => w.stats) ? s : null;
    }, 5000, "worker stats");
    await sleep(1100); // one broadcast of the master's figures
    const perf = await decryptBody((await request(server.url("/monitors/performance"))).body, server.env);
    const contract = loadContract("payment-backend");
    contract.validate("IPerformance", perf);
    assert.equal(perf.master.pid, server.process.pid);
    assert.ok(perf.master.memory.rss > 0);
    assert.deepEqual(perf.workers.map((w) => w.pid).sort(), status.workers.map((w) => w.pid).sort());
    for (const w of perf.workers) assert.ok(w.memory.rss > 0 && w.cpu.user >= 0);
    assert.ok(perf.memory.rss >= perf.master.memory.rss + perf.workers[0].memory.rss);
    const system = await decryptBody((await request(server.url("/monitors/system"))).body, server.env);
    contract.validate("ISystem", system);
    const head = execFileSync("git", ["-C", sourceDir, "rev-parse", "HEAD"]).toString().trim();
    assert.equal(system.commit.hash, head);
    assert.equal(status.master.commit.hash, head);
    assert.match(system.package.version, /^\d+\.\d+\.\d+$/);
  } finally {
    await server.stop();
  }
});

function readPid(file) {
  try { return Number(fs.readFileSync(file, "utf8").trim()) || null; } catch { return null; }
}

/** Stops a master that is not our child (started by an upgrade). */
async function stopByPid(pid) {
  if (!pid || pid === process.pid) return;
  try { process.kill(pid, "SIGTERM"); } catch { return; }
  await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 10000, "master exit");
}

test("USR1 reopens the log file after rotation, in the master and every worker", async () => {
  const dir = tempDir("payments-log-");
  const logFile = path.join(dir, "payments.log");
  const server = await startServer({ workers: 2, env: { PAYMENT_LOG_FILE: logFile } });
  try {
    fs.renameSync(logFile, `${logFile}.1`);
    process.kill(server.process.pid, "SIGUSR1");
    const pids = [server.process.pid, ...(await server.readyPids())];
    await waitFor(() => {
      const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
      return pids.every((pid) => text.includes(`[${pid}] log file reopened`));
    }, 5000, "every process to write to the new file");
    assert.match(fs.readFileSync(`${logFile}.1`, "utf8"), /master ready/);
  } finally {
    await server.stop();
  }
});
