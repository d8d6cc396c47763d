// Writes docs/openapi.json: the original server's contract, unchanged, plus
// what this server adds. Every addition to an original route carries
// "x-payments-extension", so a test can strip them and compare the rest with
// the reference. Usage: node docs/generate-openapi.mjs [reference.json] [out]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const referenceFile = process.argv[2] ??
  path.resolve(here, "..", "..", "shared", "reference", "payment-backend.swagger.json");
const outputFile = process.argv[3] ?? path.join(here, "openapi.json");

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const mark = (what, value) => ({ ...value, "x-payments-extension": what });
const ENCRYPTED = "The body is encrypted as the original server's routes are " +
  "(Base64 of AES-CBC with PKCS#7 padding; PAYMENT_CONNECTION_ENCRYPTION_KEY and _IV).";

/** The reference's vendor code unions gain "inicis". */
function extendVendorCodes(schemas) {
  for (const name of ["IPaymentVendoriamporttoss.payments", "IPaymentVendorIPaymentVendor.Code"]) {
    schemas[name].properties.code.oneOf.push(mark("inicis", { const: "inicis" }));
  }
  const inicis = structuredClone(schemas.IPaymentVendoriamport);
  inicis.properties.code = { ...inicis.properties.code, const: "inicis" };
  inicis.description = "KG Inicis (INIAPI): uid is the transaction id (tid).";
  schemas.IPaymentVendorinicis = inicis;

  // Inicis' details are its own inquiry answer, kept as the vendor sent it.
  const history = structuredClone(schemas["IPaymentHistory.IamportType"]);
  history.properties.vendor_code = { ...history.properties.vendor_code, const: "inicis" };
  history.properties.vendor = { ...history.properties.vendor, $ref: ref("IPaymentVendorinicis").$ref };
  history.properties.data = {
    type: "object", title: "KG Inicis payment details", description: "The fields of Inicis' transaction inquiry.",
  };
  history.description = "A payment made at KG Inicis.";
  schemas["IPaymentHistory.InicisType"] = history;

  // INIAPI cannot look a billing key up: the reservation keeps it as given,
  // unverified, and its first charge proves it.
  const reservation = structuredClone(schemas["IPaymentReservation.IamportType"]);
  reservation.properties.vendor_code = { ...reservation.properties.vendor_code, const: "inicis" };
  reservation.properties.vendor = { ...reservation.properties.vendor, $ref: ref("IPaymentVendorinicis").$ref };
  reservation.properties.data = {
    type: "object",
    title: "KG Inicis billing key",
    description: "The billing key as given: INIAPI has no lookup of one, so it is proven by its first charge.",
    properties: {
      billKey: { type: "string", description: "the billing key (our vendor uid)" },
      mid: { type: "string", description: "the merchant id of the store the key belongs to" },
      verified: { const: false, description: "always false: no call to Inicis was made" },
    },
    required: ["billKey", "mid", "verified"],
    additionalProperties: false,
  };
  reservation.description = "A billing key of KG Inicis.";
  schemas["IPaymentReservation.InicisType"] = reservation;
}

/** Any oneOf over the history or reservation union (in paths and schemas)
 * gains the Inicis member. */
function extendVendorUnions(node) {
  if (Array.isArray(node)) return node.forEach(extendVendorUnions);
  if (!node || typeof node !== "object") return;
  const members = node.oneOf?.map((member) => member.$ref);
  for (const union of ["IPaymentHistory", "IPaymentReservation"]) {
    if (members?.includes(ref(`${union}.TossType`).$ref) && members.includes(ref(`${union}.IamportType`).$ref)) {
      node.oneOf.push(mark("inicis", ref(`${union}.InicisType`)));
      if (node.discriminator?.mapping) node.discriminator.mapping.inicis = ref(`${union}.InicisType`).$ref;
    }
  }
  Object.values(node).forEach(extendVendorUnions);
}

/** Schemas of our own: routing, errors. */
function addOwnSchemas(schemas) {
  const target = {
    type: "object",
    properties: { code: { type: "string", description: "vendor code" }, store_id: { type: "string" } },
    required: ["code", "store_id"],
    additionalProperties: false,
  };
  schemas["IPaymentRoute.IKey"] = {
    type: "object",
    description: "What a checkout is routed by: payment method (pg), merchant id and currency.",
    properties: {
      pg: { type: "string", minLength: 1 },
      mid: { type: "string", minLength: 1 },
      currency: { type: "string", pattern: "^[A-Z]{3}$", description: "ISO 4217 code" },
    },
    required: ["pg", "mid", "currency"],
  };
  schemas["IPaymentRoute.ITarget"] = target;
  schemas["IPaymentRoute.IResolved"] = {
    type: "object",
    description: "The first rule of the routing table (PAYMENT_ROUTES_FILE) matching the key.",
    properties: {
      vendor: ref("IPaymentRoute.ITarget"),
      route: { oneOf: [{ type: "string" }, { type: "null" }], description: "the rule's name, if it has one" },
      fallback: { oneOf: [ref("IPaymentRoute.ITarget"), { type: "null" }],
        description: "where to go while the vendor's circuit is open" },
      used_fallback: { type: "boolean",
        description: "true when vendor is the rule's fallback because the primary's circuit is open in this worker" },
      primary: {
        oneOf: [
          {
            type: "object",
            properties: {
              code: { type: "string" },
              store_id: { type: "string" },
              state: { type: "string", enum: ["open"] },
            },
            required: ["code", "store_id", "state"],
            additionalProperties: false,
          },
          { type: "null" },
        ],
        description: "the rule's own vendor and store while the fallback is used, else null",
      },
    },
    required: ["vendor", "route", "fallback", "used_fallback", "primary"],
    additionalProperties: false,
  };
  schemas["IPaymentReservation.IRoutedCreate"] = {
    type: "object",
    description: "A reservation naming a route: the rule gives the vendor code and store id.",
    properties: {
      route: ref("IPaymentRoute.IKey"),
      vendor: {
        type: "object", properties: { uid: { type: "string" } }, required: ["uid"], additionalProperties: false,
      },
      source: ref("IPaymentSource"),
      title: { type: "string" },
      password: { type: "string" },
    },
    required: ["route", "vendor", "source", "title", "password"],
  };
  schemas.IPaymentError = {
    type: "object",
    description: "Every error answer (plain JSON, never encrypted). vendor is present when a gateway refused " +
      "or could not be reached.",
    properties: {
      statusCode: { type: "integer" },
      message: { type: "string" },
      error: { type: "string" },
      vendor: {
        type: "object",
        properties: {
          code: { type: "string", description: "the adapter: iamport, toss.payments, inicis" },
          status: { oneOf: [{ type: "integer" }, { type: "null" }], description: "the vendor's HTTP status" },
          vendor_code: { oneOf: [{ type: "string" }, { type: "null" }], description: "the vendor's own code" },
          message: { oneOf: [{ type: "string" }, { type: "null" }], description: "the vendor's own words" },
        },
        required: ["code", "status", "vendor_code", "message"],
        additionalProperties: false,
      },
    },
    required: ["statusCode", "message", "error"],
    additionalProperties: false,
  };
}

const errorResponse = (description) => ({
  description, content: { "application/json": { schema: ref("IPaymentError") } },
});
const IDEMPOTENCY_KEY = mark("idempotency", {
  name: "Idempotency-Key", in: "header", required: false,
  schema: { type: "string", pattern: "^[\\x20-\\x7E]{1,255}$", description: "printable ASCII, a UUID for instance" },
  description: "A retry with the same key and body gets the first answer again, marked Idempotent-Replayed: " +
    "true, without calling the vendor again; the same key with another body is a 422; a retry while the first " +
    "request still runs is a 409 with Retry-After.",
});

/** Error answers and Idempotency-Key on the original routes. */
function extendOriginalRoutes(paths) {
  for (const [route, methods] of Object.entries(paths)) {
    if (!route.startsWith("/payments/")) continue;
    for (const [method, operation] of Object.entries(methods)) {
      operation.responses.default = mark("errors", errorResponse("An error; vendor names a refusing gateway."));
      if (["post", "put"].includes(method) && !route.startsWith("/payments/webhooks/")) {
        operation.parameters.push(IDEMPOTENCY_KEY);
      }
    }
  }
  const reservation = paths["/payments/reservations"].post.requestBody.content["text/plain"];
  reservation.schema = {
    "x-payments-extended": "route",
    oneOf: [reservation.schema, mark("route", ref("IPaymentReservation.IRoutedCreate"))],
  };
}

function addOwnRoutes(paths) {
  paths["/payments/routes/resolve"] = {
    post: {
      summary: "Which vendor and store a checkout must use",
      tags: ["routing"],
      parameters: [],
      requestBody: {
        description: ENCRYPTED, required: true, "x-nestia-encrypted": true,
        content: { "text/plain": { schema: ref("IPaymentRoute.IKey") } },
      },
      responses: {
        200: {
          description: `${ENCRYPTED} The answer is encrypted too.`, "x-nestia-encrypted": true,
          content: { "text/plain": { schema: ref("IPaymentRoute.IResolved") } },
        },
        400: errorResponse("A bad key, no routes file, or no rule matching the key (the message names it)."),
      },
    },
  };
  paths["/payments/webhooks/{vendor}"] = {
    post: {
      summary: "A vendor's notification (Toss Payments, KG Inicis); iamport's has its own path above",
      tags: ["webhooks"],
      parameters: [{ name: "vendor", in: "path", required: true, schema: { enum: ["toss.payments", "inicis"] } }],
      requestBody: {
        required: true,
        content: {
          "application/json": { schema: { type: "object" } },
          "application/x-www-form-urlencoded": { schema: { type: "object" } },
        },
      },
      responses: {
        200: { description: "Received; the body is the reply the vendor expects (Inicis: OK)",
          content: { "text/plain": { schema: { type: "string" } } } },
        201: { description: "Received (vendors that expect no reply)" },
        default: errorResponse("Refused"),
      },
    },
  };
  paths["/monitors/ready"] = {
    get: {
      summary: "200 once the worker takes requests, 503 while it starts or drains",
      tags: ["monitors"],
      parameters: [],
      responses: { 200: { description: "Ready" }, 503: { description: "Not ready" } },
    },
  };
}

/** Charges of a reservation's billing key and their attempts. */
function addChargeSchemas(schemas) {
  const source = ref("IPaymentSource");
  schemas["IPaymentCharge.ICreate"] = {
    type: "object",
    description: "A charge of a reservation's billing key for one order. The reservation is named by id or by " +
      "its source, with its password, which becomes the history's password too.",
    properties: {
      reservation: {
        oneOf: [
          { type: "object", properties: { id: { type: "string", format: "uuid" } }, required: ["id"],
            additionalProperties: false },
          { type: "object", properties: { source }, required: ["source"], additionalProperties: false },
        ],
      },
      password: { type: "string", description: "the reservation's password" },
      source: { ...source, description: "the order: the history's source; one charge per source" },
      name: { type: "string", minLength: 1, description: "the order's name, shown by the vendor" },
      price: { type: "number", exclusiveMinimum: 0 },
      currency: { type: "string", pattern: "^[A-Z]{3}$", description: "ISO 4217 code" },
      webhook_url: { type: "string", format: "uri" },
      route: { oneOf: [{ type: "string" }, { type: "null" }],
        description: "a routing rule's name whose store is used instead of the reservation's; it must send to the " +
          "reservation's vendor (else 422)" },
    },
    required: ["reservation", "password", "source", "name", "price", "currency", "webhook_url"],
  };
  schemas["IPaymentChargeAttempt"] = {
    type: "object",
    description: "One answer of a vendor to a charge, paid or refused; its id is the charge's operation.",
    properties: {
      id: { type: "string", format: "uuid" },
      reservation_id: { type: "string", format: "uuid" },
      history_id: { oneOf: [{ type: "string", format: "uuid" }, { type: "null" }] },
      source,
      vendor_code: { type: "string" },
      store_id: { type: "string" },
      order_id: { type: "string", description: "the vendor order id (merchant_uid, orderId, moid)" },
      amount: { type: "number" },
      currency: { type: "string" },
      result: { type: "string", enum: ["succeeded", "refused"] },
      vendor_error: { type: "string", description: "the vendor's own code of a refusal, else empty" },
      message: { type: "string" },
      answer: { description: "the vendor's answer (a refusal: its code, status and message)" },
      created_at: { type: "string", format: "date-time" },
    },
    required: ["id", "reservation_id", "history_id", "source", "vendor_code", "store_id", "order_id", "amount",
      "currency", "result", "vendor_error", "message", "answer", "created_at"],
  };
}

function addChargeRoutes(paths) {
  const encrypted = (schema) => ({
    description: ENCRYPTED, required: true, "x-nestia-encrypted": true, content: { "text/plain": { schema } },
  });
  const answer = (description, schema) => ({
    description: `${description} ${ENCRYPTED} The answer is encrypted too.`, "x-nestia-encrypted": true,
    content: { "text/plain": { schema } },
  });
  const password = { type: "object", properties: { password: { type: "string" } }, required: ["password"] };
  const history = structuredClone(paths["/payments/histories"].post.responses["201"].content["text/plain"].schema);
  paths["/payments/charges"] = {
    post: mark("charges", {
      summary: "Charge a reservation's billing key for an order, recording its payment history",
      tags: ["charges"],
      parameters: [IDEMPOTENCY_KEY],
      requestBody: encrypted(ref("IPaymentCharge.ICreate")),
      responses: {
        201: answer("The history, as POST /payments/histories records it.", history),
        409: errorResponse("The order is charged already, or its charge is not settled yet."),
        422: errorResponse("The vendor declined (vendor names it and its code), or the route or store cannot be used."),
        default: errorResponse("An error; a 5xx after the vendor call leaves the charge to the reconciler."),
      },
    }),
  };
  paths["/payments/charges/attempts"] = {
    patch: mark("charges", {
      summary: "A reservation's charge attempts, newest first",
      tags: ["charges"],
      parameters: [],
      requestBody: encrypted({ ...password, properties: { ...password.properties,
        reservation_id: { type: "string", format: "uuid" } }, required: ["reservation_id", "password"] }),
      responses: {
        200: answer("The attempts.", { type: "array", items: ref("IPaymentChargeAttempt") }),
        default: errorResponse("403 for a wrong password, 404 for no such reservation."),
      },
    }),
  };
  paths["/payments/charges/attempts/{id}"] = {
    patch: mark("charges", {
      summary: "One charge attempt, with its reservation's password",
      tags: ["charges"],
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
      requestBody: encrypted(password),
      responses: {
        200: answer("The attempt.", ref("IPaymentChargeAttempt")),
        default: errorResponse("403 for a wrong password, 404 for no such attempt."),
      },
    }),
  };
}

/** Subscriptions: a reservation's billing key charged on a schedule. */
function addSubscriptions(paths, schemas) {
  schemas["IPaymentSubscription.ISchedule"] = mark("subscriptions", {
    type: "object",
    description: "Days of the month (a day past a month's end runs on its last day; 31 and last are one), " +
      "a time of day and an IANA time zone, DST included.",
    properties: {
      days: { type: "array", minItems: 1,
        items: { oneOf: [{ type: "integer", minimum: 1, maximum: 31 }, { const: "last" }] } },
      time: { type: "string", pattern: "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$" },
      time_zone: { type: "string", description: "an IANA name, e.g. Asia/Seoul" },
    },
    required: ["days", "time", "time_zone"],
  });
  schemas["IPaymentSubscription.ICreate"] = mark("subscriptions", {
    type: "object",
    description: "The reservation by reservation_id or by its source, with its password.",
    properties: {
      reservation_id: { type: "string", format: "uuid" },
      source: ref("IPaymentSource"),
      password: { type: "string" },
      amount: { type: "number", exclusiveMinimum: 0 },
      currency: { type: "string", pattern: "^[A-Z]{3}$" },
      name: { type: "string", description: "the order's name each charge carries" },
      schedule: ref("IPaymentSubscription.ISchedule"),
      webhook_url: { type: "string", format: "uri" },
    },
    required: ["password", "amount", "currency", "name", "schedule", "webhook_url"],
  });
  schemas.IPaymentSubscription = mark("subscriptions", {
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      reservation_id: { type: "string", format: "uuid" },
      amount: { type: "number" },
      currency: { type: "string" },
      name: { type: "string" },
      schedule: ref("IPaymentSubscription.ISchedule"),
      webhook_url: { oneOf: [{ type: "string" }, { type: "null" }] },
      state: { enum: ["active", "paused", "cancelled", "past_due"] },
      next_due_at: { oneOf: [{ type: "string", format: "date-time" }, { type: "null" }],
        description: "the next instant charged; null unless active" },
      created_at: { type: "string", format: "date-time" },
      updated_at: { type: "string", format: "date-time" },
    },
    required: ["id", "reservation_id", "amount", "currency", "name", "schedule", "webhook_url", "state",
      "next_due_at", "created_at", "updated_at"],
    additionalProperties: false,
  });
  const encrypted = (schema) => ({
    description: ENCRYPTED, required: true, "x-nestia-encrypted": true, content: { "text/plain": { schema } },
  });
  const answer = (status, description) => ({
    [status]: { description: `${description} ${ENCRYPTED}`, "x-nestia-encrypted": true,
      content: { "text/plain": { schema: ref("IPaymentSubscription") } } },
    400: errorResponse("A bad field, named in the message (a bad schedule: nothing is written)."),
    403: errorResponse("Wrong password."),
    404: errorResponse("No such subscription or reservation."),
  });
  const password = encrypted({ type: "object", properties: { password: { type: "string" } }, required: ["password"] });
  const id = [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }];
  const operation = (summary, parameters, body, responses) =>
    mark("subscriptions", { summary, tags: ["subscriptions"], parameters, requestBody: body, responses });
  paths["/payments/subscriptions"] = {
    post: operation("Charge a reservation's billing key on a schedule", [],
      encrypted(ref("IPaymentSubscription.ICreate")), answer(201, "Created.")),
  };
  paths["/payments/subscriptions/{id}"] = {
    patch: operation("Read a subscription with its reservation's password", id, password, answer(200, "Found.")),
  };
  for (const [action, summary] of [["pause", "Charge no new period until resumed"],
    ["resume", "Charge again from the next due instant (ends a past due's dunning)"],
    ["cancel", "Never charge again (waiting retries are dropped)"]]) {
    paths[`/payments/subscriptions/{id}/${action}`] = {
      put: operation(summary, id, password,
        { ...answer(200, "Changed."), 409: errorResponse("The subscription's state forbids it.") }),
    };
  }
}

/** The operators' listener (PAYMENT_ADMIN_PORT), never the public port. */
function addOperatorRoutes(paths) {
  const servers = [{ url: "http://127.0.0.1:{adminPort}", description: "the operators' listener",
    variables: { adminPort: { default: "37822" } } }];
  const operator = (summary, responses) => ({
    servers, tags: ["operators"], summary, parameters: [], responses,
  });
  paths["/payments/internal/webhooks/retry"] = {
    post: operator("Operators: retry the webhooks that failed for good",
      { 200: { description: "How many were queued again" }, default: errorResponse("Refused") }),
  };
  paths["/payments/internal/operations"] = {
    get: operator("Operators: vendor operations not settled yet",
      { 200: { description: "The pending operations" }, default: errorResponse("Refused") }),
  };
}

const document = JSON.parse(fs.readFileSync(referenceFile, "utf8"));
document.info = {
  ...document.info,
  title: "payments",
  description: "The payment server's API: the original server's routes unchanged, plus the additions marked " +
    "x-payments-extension (KG Inicis, routing, error answers naming the vendor, Idempotency-Key, charges, " +
    "subscriptions). Routes tagged operators are served on the operators' listener only; /monitors/health answers " +
    "there too.",
};
extendVendorCodes(document.components.schemas);
extendVendorUnions(document.paths);
extendVendorUnions(document.components.schemas);
addOwnSchemas(document.components.schemas);
extendOriginalRoutes(document.paths);
addOwnRoutes(document.paths);
addChargeSchemas(document.components.schemas);
addChargeRoutes(document.paths);
addOperatorRoutes(document.paths);
addSubscriptions(document.paths, document.components.schemas);
document.tags = [
  ...(document.tags ?? []),
  { name: "routing", description: "Routing by payment method, merchant id and currency" },
  { name: "webhooks", description: "Vendors' notifications" },
  { name: "charges", description: "Charges of a reservation's billing key" },
  { name: "monitors", description: "Health and readiness" },
  { name: "operators", description: "Served on the operators' listener only, not on the public port" },
  { name: "subscriptions", description: "Billing keys charged on a schedule" },
];
fs.writeFileSync(outputFile, `${JSON.stringify(document, null, 2)}\n`);
