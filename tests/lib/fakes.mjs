// Helpers the conformance tests of the fake vendors share: start a fake on a
// free port and stop it cleanly, listen for its webhooks, send the requests an
// SDK cannot, and check that an SDK call failed with an error document.
import assert from "node:assert/strict";
import http from "node:http";

import { binary, freePort, start, waitForPort } from "./process.mjs";

/** Starts the fake binary name on a free port; returns {proc, port, host}. */
export async function startFakeServer(name, args = [], env = {}) {
  const port = await freePort();
  const proc = start(binary(name), ["--port", String(port), ...args], { env });
  await waitForPort(port);
  return { proc, port, host: `http://127.0.0.1:${port}` };
}

/** Stops the fake with TERM and checks that it stopped cleanly (exit 0: no
 * crash, and no leak report under the sanitizer build). */
export async function stopFake(fake) {
  const { code, signal } = await fake.proc.stop("SIGTERM");
  assert.equal(signal, null, `fake died by ${signal}:\n${fake.proc.log()}`);
  assert.equal(code, 0, `fake exited with ${code}:\n${fake.proc.log()}`);
}

/** A webhook listener on 127.0.0.1 at path that keeps every document it
 * receives and answers each with status. */
export async function startWebhookListener(path, status) {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      received.push({ method: req.method, contentType: req.headers["content-type"], body: JSON.parse(body) });
      res.writeHead(status).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}${path}`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A raw request to the fake, for what an SDK cannot send (bad JSON, odd
 * headers); returns {status, text, json} (json null when the answer is not). */
export async function fakeRequest(fake, method, path, { body, headers = {} } = {}) {
  const response = await fetch(`http://127.0.0.1:${fake.port}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, text, json };
}

/** Expects the SDK call to fail with an HttpError of the SDK, the given
 * status and a JSON error document with a message; check(body) then looks
 * at the vendor's own fields. */
export async function expectVendorError(promise, HttpError, status, check) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof HttpError, `not an HttpError: ${error}`);
    assert.equal(error.status, status, `status ${error.status}: ${error.message}`);
    const body = JSON.parse(error.message);
    assert.ok(typeof body.message === "string" && body.message.length > 0, "error without a message");
    check(body);
    return true;
  });
}
