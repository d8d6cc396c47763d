// Requests to our API with an Idempotency-Key, as the tests of our keys send
// them: raw, so that a test sees the status, the headers and the body
// exactly as sent (encrypted, or a plain error).
import { randomUUID } from "node:crypto";

import { encryptBody, request } from "./server.mjs";

/** One raw request with an encrypted body and, when given, an Idempotency-Key:
 * {status, headers, body}. */
export async function send(server, method, path, value, key) {
  const headers = { "Content-Type": "text/plain" };
  if (key !== undefined) headers["Idempotency-Key"] = key;
  return request(server.url(path), { method, headers, body: await encryptBody(value, server.env), timeout: 30_000 });
}

/** A plain error answer's JSON. */
export const errorOf = (res) => JSON.parse(res.body);
/** Whether the answer is a kept one sent again. */
export const replayed = (res) => res.headers["idempotent-replayed"] === "true";
/** A new order of the shopping service. */
export const newSource = () => ({ schema: "shopping", table: "shopping_orders", id: randomUUID() });
