// Helpers for end-to-end tests: find our binaries, pick free loopback ports,
// start a process and wait until its port answers, stop it and collect its log.
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import fs from "node:fs";
import os from "node:os";

import { fileURLToPath } from "node:url";

import { logFileFor, registerProcessSecrets } from "./test_logs.mjs";

export const sourceDir = process.env.PAYMENTS_SOURCE_DIR ?? fileURLToPath(new URL("../..", import.meta.url));
export const buildDir = process.env.PAYMENTS_BUILD_DIR ?? path.join(sourceDir, "build");

/** Path of a binary built by CMake, searched in the build tree. */
export function binary(name) {
  for (const dir of ["bin", "master", "worker", "fakes", "updater", "."]) {
    const p = path.join(buildDir, dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`binary ${name} not found under ${buildDir}`);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once host:port accepts a connection, or rejects after timeoutMs. */
export async function waitForPort(port, timeoutMs = 10000, host = "127.0.0.1") {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect({ port, host });
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Polls fn until it returns a truthy value, or throws after timeoutMs. */
export async function waitFor(fn, timeoutMs = 10000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix = "payments-test-") {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts a process with its output captured, and kept in a file of the
 * test logs (its secrets registered for integration/log_secrets). Returns a
 * handle with `log()` (everything printed so far), `exited` (a promise of
 * {code, signal}) and `stop(signal)`, which waits for the exit.
 */
export function start(file, args = [], { env = {}, cwd } = {}) {
  // Workers of a master started as root stay root unless a test names a
  // user (integration/privilege): test files live in private directories.
  const fullEnv = { PAYMENT_USER: "root", ...process.env, ...env };
  registerProcessSecrets(fullEnv, args);
  const logFile = logFileFor(file);
  const child = spawn(file, args, { cwd, env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (d) => {
    output += d;
    fs.appendFileSync(logFile, d);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    pid: child.pid,
    exited,
    log: () => output,
    async stop(signal = "SIGTERM", timeoutMs = 10000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
