// One instance of an update test: a payments-master run from a checkout's own
// build, with its own port, pid file and control socket, plus its updater and
// the `payments` command line of the same build. After an upgrade the master
// serving is no longer our child, so the instance finds it through its
// control socket and pid file, and stop() ends whoever serves.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { sleep, start, waitFor } from "./process.mjs";
import { baseEnv, control } from "./server.mjs";
import { logFileFor, registerProcessSecrets } from "./test_logs.mjs";

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === "EPERM"; }
}

async function ended(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  return !alive(pid);
}

/** Sends signal, then KILL after timeoutMs; resolves when the process is gone. */
export async function terminate(pid, signal = "SIGTERM", timeoutMs = 15000) {
  if (!pid || !alive(pid)) return;
  try { process.kill(pid, signal); } catch { return; }
  if (!(await ended(pid, timeoutMs))) {
    try { process.kill(pid, "SIGKILL"); } catch { /* gone meanwhile */ }
    await ended(pid, 5000);
  }
}

/** Settings of an instance named name, served from checkout, in dir. */
export function instanceEnv({ name, checkout, dir, apiPort, updatorPort, schema, workers, adminPort }) {
  return {
    ...baseEnv(),
    ...(adminPort ? { PAYMENT_ADMIN_PORT: String(adminPort) } : {}),
    PAYMENT_UPDATER_PID_FILE: path.join(dir, `${name}-updater.pid`),
    PAYMENT_API_HOST: "127.0.0.1",
    PAYMENT_API_PORT: String(apiPort),
    PAYMENT_WORKERS: String(workers),
    PAYMENT_PID_FILE: path.join(dir, `${name}.pid`),
    PAYMENT_CONTROL_SOCKET: path.join(dir, `${name}.sock`),
    PAYMENT_POSTGRES_URL: process.env.PAYMENT_POSTGRES_URL ?? "",
    PAYMENT_POSTGRES_SCHEMA: schema,
    PAYMENT_UPDATOR_PORT: String(updatorPort),
    PAYMENT_UPDATOR_BIND: "127.0.0.1",
    PAYMENT_UPDATOR_HOST_LOCAL: "127.0.0.1",
    PAYMENT_UPDATE_INSTANCE: name,
    PAYMENT_UPDATE_CHECKOUT: checkout.dir,
    PAYMENT_UPDATE_BUILD_DIR: checkout.build,
    PAYMENT_UPDATE_ROLL_TIMEOUT_MS: "120000",
    PAYMENT_UPDATE_COMMAND_TIMEOUT_MS: "600000",
    PAYMENT_UPDATE_TIMEOUT_MS: "900000",
    // Links silent for three periods are dropped: every update outlasts 1.5 s,
    // so a client or slave that forgets its heartbeat fails here, not in production.
    PAYMENT_UPDATOR_HEARTBEAT_MS: "500",
  };
}

/**
 * Starts the master of an instance and waits until its workers are ready.
 * Returns { name, env, checkout, status(), masterPid(), workerPids(), url(p),
 * log(), startUpdater(role, args, env), payments(args, env), stop() }.
 */
export async function startInstance(options) {
  const env = instanceEnv(options);
  if (!env.PAYMENT_POSTGRES_URL) throw new Error("PAYMENT_POSTGRES_URL is not set: run through make test");
  const { checkout, name } = options;
  const master = start(checkout.bin("payments-master"), [], { env, cwd: checkout.dir });
  const updaters = [];
  const seenPids = new Set([master.pid]);
  const instance = {
    name,
    env,
    checkout,
    master,
    updaters,
    url: (p) => `http://127.0.0.1:${env.PAYMENT_API_PORT}${p}`,
    log: () => master.log(),
    async status() {
      const s = await control(env.PAYMENT_CONTROL_SOCKET);
      seenPids.add(s.master.pid);
      for (const w of s.workers) seenPids.add(w.pid);
      return s;
    },
    async masterPid() { return (await instance.status()).master.pid; },
    async workerPids() {
      return (await instance.status()).workers.map((w) => w.pid).sort((a, b) => a - b);
    },
    startUpdater(role, args = [], extraEnv = {}) {
      const proc = start(checkout.bin("payments-updater"), [role, ...args], { env: { ...env, ...extraEnv }, cwd: checkout.dir });
      updaters.push(proc);
      return proc;
    },
    payments: (args, extraEnv = {}, timeoutMs = 900000) =>
      runCommand(checkout.bin("payments"), args, { ...env, ...extraEnv }, checkout.dir, timeoutMs),
    async stop() {
      for (const u of updaters) await u.stop("SIGTERM");
      const fromFile = Number(fs.existsSync(env.PAYMENT_PID_FILE) ? fs.readFileSync(env.PAYMENT_PID_FILE, "utf8") : 0);
      let serving = 0;
      try { serving = await instance.masterPid(); } catch { /* not answering */ }
      for (const pid of new Set([serving, fromFile, master.pid].filter(Boolean))) await terminate(pid);
      for (const pid of seenPids) await terminate(pid, "SIGKILL", 2000); // workers orphaned by a crash
    },
  };
  try {
    await waitFor(async () => {
      if (master.child.exitCode !== null) throw new Error(`master ${name} exited early:\n${master.log()}`);
      try {
        const s = await instance.status();
        return s.workers.filter((w) => w.state === "ready").length === options.workers;
      } catch { return false; }
    }, 30000, `workers of ${name} ready`);
  } catch (e) {
    await instance.stop();
    throw e;
  }
  return instance;
}

/** Runs a command to its end; resolves with { code, stdout, stderr }. */
export function runCommand(file, args, env, cwd, timeoutMs = 900000) {
  return new Promise((resolve) => {
    const fullEnv = { ...process.env, ...env };
    registerProcessSecrets(fullEnv, args);
    const logFile = logFileFor(file);
    const child = spawn(file, args, { env: fullEnv, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => { stdout += d; fs.appendFileSync(logFile, d); });
    child.stderr.on("data", (d) => { stderr += d; fs.appendFileSync(logFile, d); });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `signal ${signal}`, stdout, stderr });
    });
  });
}
