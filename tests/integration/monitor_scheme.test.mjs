// The scheme `payments monitor` and `payments call` speak to a mode's API:
// HTTPS for dev and real, as the original's monitor does, plain HTTP for
// local, and PAYMENT_API_SCHEME_<MODE> to say otherwise. A loopback listener
// records the first bytes each command sends: a TLS handshake starts with
// the byte 0x16, a plain request with its method.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { binary } from "../lib/process.mjs";
import { baseEnv } from "../lib/server.mjs";
import { runCommand } from "../lib/instance.mjs";

/** A listener that keeps the first bytes of each connection, then closes it. */
async function recorder() {
  const first = [];
  const server = net.createServer((socket) => {
    socket.once("data", (bytes) => { first.push(bytes); socket.destroy(); });
    socket.on("error", () => {});
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: server.address().port, first, close: () => new Promise((r) => server.close(r)) };
}

function payments(args, env) {
  return runCommand(binary("payments"), args, { ...baseEnv(), ...env }, undefined, 30000);
}

const isTls = (bytes) => bytes[0] === 0x16;
const isPlain = (bytes) => bytes.toString("latin1").startsWith("GET /monitors/");

test("monitor speaks HTTPS to dev and real, HTTP to local", async (t) => {
  const listener = await recorder();
  t.after(() => listener.close());
  const host = `127.0.0.1:${listener.port}`;
  for (const [mode, expectTls] of [["dev", true], ["real", true], ["local", false]]) {
    listener.first.length = 0;
    const result = await payments(["monitor", mode, "--host", host], {});
    assert.equal(result.code, 1, `${mode}: the listener answers nothing`);
    assert.equal(listener.first.length, 1, `${mode}: one connection`);
    assert.ok((expectTls ? isTls : isPlain)(listener.first[0]), `${mode}: ${listener.first[0].toString("latin1")}`);
  }
});

test("PAYMENT_API_SCHEME_<MODE> overrides the scheme, for monitor and call", async (t) => {
  const listener = await recorder();
  t.after(() => listener.close());
  const host = `127.0.0.1:${listener.port}`;
  await payments(["monitor", "dev", "--host", host], { PAYMENT_API_SCHEME_DEV: "http" });
  await payments(["monitor", "local", "--host", host], { PAYMENT_API_SCHEME_LOCAL: "https" });
  await payments(["call", "GET", "/monitors/health", "--mode", "real", "--host", host], {});
  await payments(["call", "GET", "/monitors/health", "--mode", "real", "--host", host],
    { PAYMENT_API_SCHEME_REAL: "http" });
  assert.equal(listener.first.length, 4);
  assert.ok(isPlain(listener.first[0]), "dev with http");
  assert.ok(isTls(listener.first[1]), "local with https");
  assert.ok(isTls(listener.first[2]), "call to real: https");
  assert.ok(isPlain(listener.first[3]), "call to real with http");
});

test("a scheme other than http or https is refused, naming the setting", async () => {
  const result = await payments(["monitor", "dev", "--host", "127.0.0.1:9"], { PAYMENT_API_SCHEME_DEV: "ftp" });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /PAYMENT_API_SCHEME_DEV must be http or https/);
});
