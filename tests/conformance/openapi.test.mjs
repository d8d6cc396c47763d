// docs/openapi.json, our contract: it is what docs/generate-openapi.mjs
// writes, it keeps every route of the original server's document unchanged
// once our marked additions are stripped, and live answers of the new routes
// (resolve, errors naming a vendor, reservations by route, Inicis histories)
// match it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { loadContract, loadDocument, referenceDir } from "../lib/openapi.mjs";
import { inicisCardPayment, startFakeServer, stopFake } from "../lib/fakes.mjs";
import { errorOf, newSource, send } from "../lib/keyed_request.mjs";
import { sourceDir, tempDir } from "../lib/process.mjs";
import { decryptBody, startServer, stopCleanly } from "../lib/server.mjs";
import { registerSecret } from "../lib/test_logs.mjs";
import { tossDriver } from "../lib/vendor_drivers.mjs";

const PASSWORD = "openapi-record-password";
registerSecret("record password", PASSWORD);
const STORE_ID = "openapi-store";
const WEBHOOK_URL = "http://127.0.0.1:9/payments/webhook";

const documentFile = path.join(sourceDir, "docs", "openapi.json");
const reference = loadContract("payment-backend");
const ours = loadDocument(documentFile, "docs/openapi.json");

/** node with every $ref replaced by its target (a cycle keeps its $ref). */
function resolveRefs(node, document, seen = []) {
  if (Array.isArray(node)) return node.map((item) => resolveRefs(item, document, seen));
  if (!node || typeof node !== "object") return node;
  if (typeof node.$ref === "string" && !seen.includes(node.$ref)) {
    const target = node.$ref.slice(2).split("/").map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((at, part) => at?.[part], document);
    assert.ok(target, `dangling ${node.$ref}`);
    const { $ref, ...siblings } = node;
    return resolveRefs({ ...target, ...siblings }, document, [...seen, $ref]);
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolveRefs(value, document, seen)]));
}

const isExtension = (value) => Boolean(value && typeof value === "object" && value["x-payments-extension"]);

/** Our resolved schema without the additions marked x-payments-extension. */
function stripExtensions(node, referenceSchemas) {
  if (Array.isArray(node)) {
    return node.filter((item) => !isExtension(item)).map((item) => stripExtensions(item, referenceSchemas));
  }
  if (!node || typeof node !== "object") return node;
  if (node["x-payments-extended"]) {
    const kept = stripExtensions(node.oneOf, referenceSchemas);
    assert.equal(kept.length, 1, "an extended schema wraps exactly one original");
    return kept[0];
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (isExtension(value)) continue;
    out[key] = stripExtensions(value, referenceSchemas);
  }
  // A discriminator may only map to the original's schemas.
  if (out.discriminator?.mapping) {
    out.discriminator = {
      ...out.discriminator,
      mapping: Object.fromEntries(Object.entries(out.discriminator.mapping)
        .filter(([, target]) => target.replace("#/components/schemas/", "") in referenceSchemas)),
    };
  }
  return out;
}

/** What a route promises: its parameters, body and answers. */
const contractOf = (operation) =>
  ({ parameters: operation.parameters, requestBody: operation.requestBody, responses: operation.responses });

describe("docs/openapi.json", () => {
  test("is what docs/generate-openapi.mjs writes from the reference", () => {
    const out = path.join(tempDir("payments-openapi-"), "openapi.json");
    const referenceFile = path.join(referenceDir, "payment-backend.swagger.json");
    execFileSync(process.execPath, [path.join(sourceDir, "docs", "generate-openapi.mjs"), referenceFile, out]);
    assert.equal(fs.readFileSync(documentFile, "utf8"), fs.readFileSync(out, "utf8"),
      "docs/openapi.json is stale: run node docs/generate-openapi.mjs");
  });

  test("keeps every route of the original server, schemas unchanged but for the marked additions", () => {
    const referenceSchemas = reference.document.components.schemas;
    let routes = 0;
    for (const [route, methods] of Object.entries(reference.document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const mine = ours.document.paths[route]?.[method];
        assert.ok(mine, `${method.toUpperCase()} ${route} is missing`);
        const expected = resolveRefs(contractOf(operation), reference.document);
        const actual = stripExtensions(resolveRefs(contractOf(mine), ours.document), referenceSchemas);
        assert.deepEqual(actual, expected, `${method.toUpperCase()} ${route} differs from the reference`);
        routes += 1;
      }
    }
    assert.ok(routes >= 11, `only ${routes} routes compared`);
  });

  test("marks the additions it promises", () => {
    const { paths, components } = ours.document;
    const codes = components.schemas["IPaymentVendoriamporttoss.payments"].properties.code.oneOf.map((c) => c.const);
    assert.deepEqual(codes, ["iamport", "toss.payments", "inicis"]);
    const union = paths["/payments/histories"].post.responses["201"].content["text/plain"].schema;
    assert.ok(union.oneOf.some((m) => m.$ref === "#/components/schemas/IPaymentHistory.InicisType"));
    const reservations = paths["/payments/reservations"].post.responses["201"].content["text/plain"].schema;
    assert.ok(reservations.oneOf.some((m) => m.$ref === "#/components/schemas/IPaymentReservation.InicisType"));
    for (const [route, method] of [["/payments/histories", "post"], ["/payments/histories/cancel", "put"],
      ["/payments/reservations", "post"]]) {
      assert.ok(paths[route][method].parameters.some((p) => p.name === "Idempotency-Key" && p.in === "header"),
        `${route} names Idempotency-Key`);
    }
    assert.ok(paths["/payments/routes/resolve"].post);
    assert.ok(paths["/payments/webhooks/{vendor}"].post);
    for (const route of ["/payments/internal/webhooks/retry", "/payments/internal/operations"]) {
      for (const operation of Object.values(paths[route])) assert.deepEqual(operation.tags, ["operators"]);
    }
  });
});

describe("live answers match docs/openapi.json", () => {
  const fakes = {};
  let server;

  before(async () => {
    fakes.toss = await startFakeServer("fake-toss-payments-server");
    fakes.inicis = await startFakeServer("fake-inicis-server");
    const routesFile = path.join(tempDir("payments-openapi-routes-"), "routes.json");
    fs.writeFileSync(routesFile, JSON.stringify({
      routes: [
        { name: "mid-a", pg: "card", mid: "A", currency: "KRW", vendor: "toss.payments", store_id: "toss-a",
          fallback: { vendor: "inicis", store_id: "inicis-a" } },
        { pg: "*", mid: "B", currency: "*", vendor: "inicis", store_id: "inicis-b" },
      ],
    }));
    server = await startServer({
      workers: 1,
      env: { PAYMENT_TOSS_PAYMENTS_URL: fakes.toss.host, PAYMENT_INICIS_URL: fakes.inicis.host,
        PAYMENT_ROUTES_FILE: routesFile },
    });
  });

  after(async () => {
    if (server) await stopCleanly(server);
    for (const fake of Object.values(fakes)) await stopFake(fake);
  });

  test("resolve answers, matched or not", async () => {
    const named = await send(server, "POST", "/payments/routes/resolve", { pg: "card", mid: "A", currency: "KRW" });
    assert.equal(named.status, 200, named.body);
    const resolved = await decryptBody(named.body, server.env);
    ours.validateResponse("POST", "/payments/routes/resolve", 200, resolved);
    assert.deepEqual(resolved.fallback, { code: "inicis", store_id: "inicis-a" });

    const unnamed = await send(server, "POST", "/payments/routes/resolve", { pg: "vbank", mid: "B", currency: "USD" });
    assert.equal(unnamed.status, 200, unnamed.body);
    ours.validateResponse("POST", "/payments/routes/resolve", 200, await decryptBody(unnamed.body, server.env));

    const unmatched = await send(server, "POST", "/payments/routes/resolve", { pg: "card", mid: "C", currency: "KRW" });
    assert.equal(unmatched.status, 400, unmatched.body);
    ours.validateResponse("POST", "/payments/routes/resolve", 400, errorOf(unmatched));
  });

  test("a vendor's refusal answers the error schema with its vendor member", async () => {
    const refused = await send(server, "POST", "/payments/histories", {
      vendor: { code: "toss.payments", store_id: STORE_ID, uid: "no-such-payment" },
      source: newSource(), price: 10_000, password: PASSWORD, webhook_url: WEBHOOK_URL,
    });
    assert.ok(refused.status >= 400 && refused.status < 500, refused.body);
    const error = errorOf(refused);
    assert.equal(error.vendor?.code, "toss.payments", refused.body);
    ours.validateResponse("POST", "/payments/histories", "default", error);
  });

  test("a reservation naming a route matches the routed request and the reservation answer", async () => {
    const alternatives = ours.document.paths["/payments/reservations"].post.requestBody.content["text/plain"].schema;
    assert.ok(alternatives.oneOf.some((m) => m.$ref === "#/components/schemas/IPaymentReservation.IRoutedCreate"));
    const source = newSource();
    const uid = await tossDriver(fakes.toss.host).billingKey(source.id);
    const body = { route: { pg: "card", mid: "A", currency: "KRW" }, vendor: { uid }, source, title: "plan",
      password: PASSWORD };
    ours.validate("IPaymentReservation.IRoutedCreate", body);
    const created = await send(server, "POST", "/payments/reservations", body);
    assert.equal(created.status, 201, created.body);
    const reservation = await decryptBody(created.body, server.env);
    assert.deepEqual(reservation.vendor, { code: "toss.payments", store_id: "toss-a", uid });
    ours.validateResponse("POST", "/payments/reservations", 201, reservation);
  });

  test("a history recorded at KG Inicis matches the union's Inicis member", async () => {
    const source = newSource();
    const payment = await inicisCardPayment(fakes.inicis, { moid: source.id, price: 10_000 });
    const body = {
      vendor: { code: "inicis", store_id: STORE_ID, uid: payment.tid }, source, price: 10_000,
      password: PASSWORD, webhook_url: WEBHOOK_URL,
    };
    ours.validate("IPaymentHistory.ICreate", body);
    const created = await send(server, "POST", "/payments/histories", body);
    assert.equal(created.status, 201, created.body);
    const history = await decryptBody(created.body, server.env);
    assert.equal(history.vendor_code, "inicis");
    ours.validateResponse("POST", "/payments/histories", 201, history);
    ours.validate("IPaymentHistory.InicisType", history);

    const read = await send(server, "PATCH", `/payments/histories/${history.id}`, { password: PASSWORD });
    assert.equal(read.status, 200, read.body);
    ours.validateResponse("PATCH", "/payments/histories/{id}", 200, await decryptBody(read.body, server.env));
  });
});
