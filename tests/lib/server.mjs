// Starts payments-master for a test with its own port, pid file, control
// socket and database schema, and talks to it: HTTP requests, control status.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { binary, freePort, start, tempDir, waitFor } from "./process.mjs";

/** Settings every test server gets; tests add or override. */
export function baseEnv() {
  return {
    PAYMENT_MODE: "local",
    PAYMENT_ENV_FILE: "",
    PAYMENT_SYSTEM_PASSWORD: "test-system-password",
    PAYMENT_CONNECTION_ENCRYPTION_KEY: "conn-key-0123456789abcdef0123456",
    PAYMENT_CONNECTION_ENCRYPTION_IV: "conn-iv-01234567",
    PAYMENT_HISTORY_ENCRYPTION_KEY: "hist-key-0123456789abcdef0123456",
    PAYMENT_HISTORY_ENCRYPTION_IV: "hist-iv-01234567",
    PAYMENT_RESERVATION_ENCRYPTION_KEY: "resv-key-0123456789abcdef0123456",
    PAYMENT_RESERVATION_ENCRYPTION_IV: "resv-iv-01234567",
    PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY: "canc-key-0123456789abcdef0123456",
    PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV: "canc-iv-01234567",
    // Any free port: the master binds it once and tells it in its status
    // (master.operators_port), so servers started side by side never collide.
    PAYMENT_ADMIN_PORT: "0",
  };
}

/**
 * What dev and real mode require on top of baseEnv(): a strong system
 * password, both secrets, vendor credentials, and the fakes on loopback
 * allowed as vendors. Tests add the fakes' URLs.
 */
export function devEnv(mode = "dev") {
  return {
    PAYMENT_MODE: mode,
    PAYMENT_SYSTEM_PASSWORD: "dev-mode-system-password-5f2c9a7e",
    PAYMENT_WEBHOOK_SECRET: "dev-mode-webhook-secret-0b8d3e6f4a1c9e2d",
    PAYMENT_PASSWORD_SECRET: "dev-mode-password-secret-7c1e5a9d3f8b2e6a",
    PAYMENT_IAMPORT_KEY: "dev_imp_key",
    PAYMENT_IAMPORT_SECRET: "dev_imp_secret",
    PAYMENT_TOSS_PAYMENTS_SECRET: "dev_toss_secret",
    PAYMENT_INICIS_MID: "dev_inicis_mid",
    PAYMENT_INICIS_KEY: "dev_inicis_key16",
    PAYMENT_INICIS_IV: "dev_inicis_iv_16",
    PAYMENT_VENDOR_ALLOW_INTERNAL: "1",
  };
}

/** Sends one line to a unix control socket and resolves with the JSON answer. */
export function control(socketPath, command = "status") {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = "";
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (d) => { text += d; });
    socket.on("error", reject);
    socket.on("end", () => {
      try { resolve(JSON.parse(text)); } catch (e) { reject(new Error(`bad control answer: ${text}`)); }
    });
  });
}

/**
 * Starts a master with `workers` workers and waits until all are ready.
 * Returns { port, dir, env, process, status(), readyPids(), url(path), stop(signal) }.
 */
export async function startServer({ workers = 2, env = {}, schema, binaryPath } = {}) {
  const dir = tempDir("payments-master-");
  const port = await freePort();
  const fullEnv = {
    ...baseEnv(),
    PAYMENT_API_HOST: "127.0.0.1",
    PAYMENT_API_PORT: String(port),
    PAYMENT_WORKERS: String(workers),
    PAYMENT_PID_FILE: path.join(dir, "payments.pid"),
    PAYMENT_CONTROL_SOCKET: path.join(dir, "payments.sock"),
    PAYMENT_POSTGRES_SCHEMA: schema ?? `t_${process.pid}_${port}`,
    PAYMENT_POSTGRES_URL: process.env.PAYMENT_POSTGRES_URL ?? "",
    ...env,
  };
  if (!fullEnv.PAYMENT_POSTGRES_URL) throw new Error("PAYMENT_POSTGRES_URL is not set: run through make test");
  const proc = start(binaryPath ?? binary("payments-master"), [], { env: fullEnv });
  const server = {
    port,
    dir,
    env: fullEnv,
    process: proc,
    status: () => control(fullEnv.PAYMENT_CONTROL_SOCKET),
    async readyPids() {
      const s = await server.status();
      return s.workers.filter((w) => w.state === "ready").map((w) => w.pid).sort();
    },
    url: (p) => `http://127.0.0.1:${port}${p}`,
    /** The operators' listener (operators' routes), known once the master is up. */
    adminUrl: (p) => `http://127.0.0.1:${server.adminPort}${p}`,
    stop: (signal = "SIGTERM") => proc.stop(signal),
  };
  try {
    await waitFor(async () => {
      if (proc.child.exitCode !== null) throw new Error(`master exited early:\n${proc.log()}`);
      try { return (await server.readyPids()).length === workers; } catch { return false; }
    }, 20000, "workers ready");
    server.adminPort = (await server.status()).master.operators_port;
  } catch (e) {
    await proc.stop("SIGKILL");
    throw new Error(`${e.message}\n${proc.log()}`);
  }
  return server;
}

/** What a sanitizer build writes when it finds a leak or misuse. */
export const sanitizerReport = /AddressSanitizer|LeakSanitizer|runtime error/;

/** Stops server (QUIT: each worker frees what it holds) and checks that it
 * exited by itself with 0 and no sanitizer report in its log. */
export async function stopCleanly(server, signal = "SIGQUIT") {
  const { code, signal: killedBy } = await server.stop(signal);
  const log = server.process.log();
  assert.equal(killedBy, null, log);
  assert.equal(code, 0, log);
  assert.doesNotMatch(log, sanitizerReport, log);
}

/** One HTTP request; resolves with { status, headers, body } or rejects on a network error. */
export function request(url, { method = "GET", headers = {}, body, agent, timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent, timeout }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Writes raw bytes on a new TCP connection and resolves with everything read until the server closes. */
export function rawExchange(port, chunks, { gapMs = 0, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    let text = "";
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no close within ${timeoutMs} ms; got: ${text}`)); }, timeoutMs);
    socket.on("data", (d) => { text += d; });
    socket.on("error", () => {});
    socket.on("close", () => { clearTimeout(timer); resolve(text); });
    socket.on("connect", async () => {
      for (const chunk of [].concat(chunks)) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** The connection the SDK of @samchon/payment-backend takes to reach server. */
export function sdkConnection(server) {
  return {
    host: server.url(""),
    encryption: { key: server.env.PAYMENT_CONNECTION_ENCRYPTION_KEY, iv: server.env.PAYMENT_CONNECTION_ENCRYPTION_IV },
  };
}

/** Encrypts a request body as the SDK does (base64 AES-CBC with the connection key). */
export async function encryptBody(value, env) {
  const crypto = await import("node:crypto");
  const key = Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_KEY);
  const iv = Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_IV);
  const cipher = crypto.createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]).toString("base64");
}

/** Decrypts an encrypted API answer (base64 AES-CBC with the connection key). */
export async function decryptBody(text, env) {
  const crypto = await import("node:crypto");
  const key = Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_KEY);
  const iv = Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_IV);
  const decipher = crypto.createDecipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return JSON.parse(Buffer.concat([decipher.update(Buffer.from(text, "base64")), decipher.final()]).toString());
}

/** Keeps `clients` keep-alive loops busy on url until stop(); counts results. */
export function loadLoop(urls, { clients = 8 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const result = { ok: 0, failures: [] };
  let running = true;
  let i = 0;
  const one = async () => {
    while (running) {
      const url = [].concat(urls)[i++ % [].concat(urls).length];
      try {
        const res = await request(url, { agent });
        if (res.status === 200) result.ok++;
        else result.failures.push(`status ${res.status}`);
      } catch (e) {
        result.failures.push(e.message);
      }
    }
  };
  const loops = Array.from({ length: clients }, one);
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
