// CORS as the original server answers it (NestJS app.enableCors(): every
// origin, the six methods, requested headers reflected, 204 to a preflight),
// and PAYMENT_CORS_ORIGINS, which names the only origins answered. Raw
// requests, so that what the server writes is what is checked.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { rawExchange, startServer, stopCleanly } from "../lib/server.mjs";

/** One request on its own connection; { status, headers (lower-case names) }. */
async function raw(port, method, path, headers = {}) {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const text = await rawExchange(port, lines.join("\r\n") + "\r\n\r\n");
  const [head, body] = text.split("\r\n\r\n");
  const [statusLine, ...fields] = head.split("\r\n");
  const parsed = {};
  for (const field of fields) {
    const colon = field.indexOf(":");
    const name = field.slice(0, colon).toLowerCase();
    parsed[name] = parsed[name] ? `${parsed[name]}, ${field.slice(colon + 1).trim()}` : field.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers: parsed, body };
}

const preflight = {
  Origin: "https://shop.example",
  "Access-Control-Request-Method": "PATCH",
  "Access-Control-Request-Headers": "content-type,x-custom",
};

describe("CORS for every origin (the original's default)", () => {
  let server;
  before(async () => { server = await startServer({ workers: 1 }); });
  after(async () => { if (server) await stopCleanly(server); });

  test("a preflight gets 204 with the methods and the requested headers", async () => {
    const answer = await raw(server.port, "OPTIONS", "/payments/histories/cancel", preflight);
    assert.equal(answer.status, 204);
    assert.equal(answer.headers["access-control-allow-origin"], "*");
    assert.equal(answer.headers["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
    assert.equal(answer.headers["access-control-allow-headers"], "content-type,x-custom");
    assert.equal(answer.headers["content-length"], undefined);
    assert.equal(answer.body, "");
  });

  test("a cross-origin request is answered with Access-Control-Allow-Origin: *", async () => {
    const answer = await raw(server.port, "GET", "/monitors/health", { Origin: "https://shop.example" });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["access-control-allow-origin"], "*");
    assert.equal(answer.headers["access-control-allow-methods"], undefined, "only preflights list the methods");
    const missing = await raw(server.port, "GET", "/no/such/route", { Origin: "https://shop.example" });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers["access-control-allow-origin"], "*", "errors too, so the browser shows them");
  });

  test("without Origin nothing changes; OPTIONS without a requested method is no preflight", async () => {
    const plain = await raw(server.port, "GET", "/monitors/health");
    assert.equal(plain.status, 200);
    assert.equal(plain.headers["access-control-allow-origin"], undefined);
    const options = await raw(server.port, "OPTIONS", "/monitors/health", { Origin: "https://shop.example" });
    assert.notEqual(options.status, 204);
  });
});

describe("PAYMENT_CORS_ORIGINS restricts the origins", () => {
  let server;
  before(async () => {
    server = await startServer({
      workers: 1,
      env: { PAYMENT_CORS_ORIGINS: "https://shop.example, http://127.0.0.1:8080" },
    });
  });
  after(async () => { if (server) await stopCleanly(server); });

  test("a listed origin is named, with Vary: Origin", async () => {
    const answer = await raw(server.port, "OPTIONS", "/payments/histories", preflight);
    assert.equal(answer.status, 204);
    assert.equal(answer.headers["access-control-allow-origin"], "https://shop.example");
    assert.match(answer.headers.vary, /Origin/);
    const get = await raw(server.port, "GET", "/monitors/health", { Origin: "http://127.0.0.1:8080" });
    assert.equal(get.status, 200);
    assert.equal(get.headers["access-control-allow-origin"], "http://127.0.0.1:8080");
  });

  test("another origin gets no CORS header at all", async () => {
    const other = { ...preflight, Origin: "https://evil.example" };
    const answer = await raw(server.port, "OPTIONS", "/payments/histories", other);
    assert.notEqual(answer.status, 204);
    for (const name of Object.keys(answer.headers)) assert.doesNotMatch(name, /^access-control-/);
    const get = await raw(server.port, "GET", "/monitors/health", { Origin: "https://shop.example.evil" });
    assert.equal(get.status, 200);
    assert.equal(get.headers["access-control-allow-origin"], undefined);
  });
});

test("a PAYMENT_CORS_ORIGINS entry that is no origin stops the start with its name", async () => {
  await assert.rejects(
    startServer({ workers: 1, env: { PAYMENT_CORS_ORIGINS: "https://shop.example/path" } }),
    /PAYMENT_CORS_ORIGINS: "https:\/\/shop.example\/path" is not an origin/);
});
