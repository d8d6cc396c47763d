// Validates documents against the schemas of the reference OpenAPI documents
// (../shared/reference), so conformance tests check every response's shape.
import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { sourceDir } from "./process.mjs";

export const referenceDir = process.env.PAYMENTS_REFERENCE_DIR ?? path.resolve(sourceDir, "..", "shared", "reference");

/**
 * Loads one reference document ("fake-iamport", "fake-toss-payments" or
 * "payment-backend") and returns { document, validate(schemaName, value),
 * responseSchema(method, path, status) }.
 */
export function loadContract(name) {
  const file = path.join(referenceDir, `${name}.swagger.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`contract ${file} not found: the reference documents live in shared/reference beside ` +
      "the project (or set PAYMENTS_REFERENCE_DIR)");
  }
  return loadDocument(file, name);
}

/** The same validators over any OpenAPI document file (our docs/openapi.json). */
export function loadDocument(file, name = path.basename(file)) {
  const document = JSON.parse(fs.readFileSync(file, "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ components: document.components }, "contract");
  const compiled = new Map();

  function validatorFor(ref) {
    if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: `contract${ref}` }));
    return compiled.get(ref);
  }

  /** Throws with ajv's errors unless value matches the named component schema. */
  function validate(schemaName, value) {
    const ref = `#/components/schemas/${schemaName.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    const check = validatorFor(ref);
    if (!check(value)) {
      throw new Error(`${schemaName} does not match: ${JSON.stringify(check.errors.slice(0, 5), null, 1)}\n` +
        `value: ${JSON.stringify(value).slice(0, 2000)}`);
    }
    return value;
  }

  /** The response schema ($ref string or inline) of an operation, for validateResponse. */
  function responseSchema(method, route, status) {
    const op = document.paths?.[route]?.[method.toLowerCase()];
    if (!op) throw new Error(`no operation ${method} ${route} in ${name}`);
    const response = op.responses?.[String(status)];
    if (!response) throw new Error(`no ${status} response for ${method} ${route} in ${name}`);
    const content = response.content ?? {};
    const media = content["application/json"] ?? content["text/plain"] ?? Object.values(content)[0];
    return media?.schema ?? null;
  }

  /** Validates value against the response schema of METHOD route with status. */
  function validateResponse(method, route, status, value) {
    const schema = responseSchema(method, route, status);
    if (!schema) return value;
    const key = `${method} ${route} ${status}`;
    if (!compiled.has(key)) {
      const rewritten = JSON.parse(JSON.stringify(schema).replace(/"#\/components/g, '"contract#/components'));
      compiled.set(key, ajv.compile(rewritten));
    }
    const check = compiled.get(key);
    if (!check(value)) {
      throw new Error(`${method} ${route} ${status} response does not match: ` +
        `${JSON.stringify(check.errors.slice(0, 5), null, 1)}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`);
    }
    return value;
  }

  return { document, validate, responseSchema, validateResponse };
}
