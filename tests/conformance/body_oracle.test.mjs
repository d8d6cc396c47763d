// No padding oracle on encrypted bodies, tried against a live worker:
// thousands of mutated bodies of every kind that cannot be read get
// byte-identical answers (status line, headers but Date and the request's
// own X-Request-Id, a counter that no body can move, body), and the
// classic CBC last-byte attack on a captured PATCH /payments/histories/get
// body finds no answer that stands out. The same attack against an oracle
// that leaks padding validity, as the server once did, recovers the bytes:
// the attack is real, so its failure against the server means something.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";

import { startServer, stopCleanly } from "../lib/server.mjs";
import { wholeAnswer } from "../lib/whole_answer.mjs";

const PATH = "/payments/histories/get";
const BLOCK = 16;
const PER_KIND = 1000;
const IN_FLIGHT = 8;

// ---- a fixed random sequence, so that every run sends the same bodies ----

let seed = 0x2545f491;
/** A whole number in [0, bound). */
function random(bound) {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % bound;
}
const randomBytes = (n) => Buffer.from(Array.from({ length: n }, () => random(256)));

// ---- the connection key, as the SDK uses it ----

function cipherOf(env) {
  const key = Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_KEY);
  const iv = Buffer.from(env.PAYMENT_CONNECTION_ENCRYPTION_IV);
  const algorithm = `aes-${key.length * 8}-cbc`;
  return {
    iv,
    encrypt(plain) {
      const cipher = crypto.createCipheriv(algorithm, key, iv);
      return Buffer.concat([cipher.update(plain), cipher.final()]);
    },
    /** The plain text, or null when the padding does not hold. */
    decrypt(bytes) {
      try {
        const decipher = crypto.createDecipheriv(algorithm, key, iv);
        return Buffer.concat([decipher.update(bytes), decipher.final()]);
      } catch {
        return null;
      }
    },
  };
}

// ---- requests ----

/** Runs fn over items with at most `limit` in flight; results in order. */
async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: limit }, run));
  return results;
}

/** The whole answer to one PATCH of body (lib/whole_answer.mjs). */
const answer = (server, agent, body) => wholeAnswer(server.url(PATH), body, agent);

// ---- the kinds of unreadable bodies ----

function capturedPlain(id = "3f0a6d5e-8c1b-4f7a-9d2e-1b5c6a7d8e9f") {
  return JSON.stringify({
    schema: "shopping", table: "shopping_orders", id, password: "record-password-Kq83!vz0-never-to-be-recovered",
  });
}

/** Bit flips at the end of bytes (within its last `span` bytes), repeated
 * until they break the padding. */
function breakPadding(cipher, bytes, span) {
  const tampered = Buffer.from(bytes);
  do tampered[tampered.length - 1 - random(span)] ^= 1 + random(255);
  while (cipher.decrypt(tampered) !== null);
  return tampered;
}

/** A bit flip before the last block: it garbles one block of the JSON and
 * keeps the padding (null in the rare case it does not). */
function garbleBlock(cipher, bytes) {
  const tampered = Buffer.from(bytes);
  tampered[random(tampered.length - BLOCK)] ^= 1 + random(255);
  return cipher.decrypt(tampered) === null ? null : tampered;
}

/** One character of text replaced by `by`. */
function replaceAt(text, at, by) {
  return text.slice(0, at) + by + text.slice(at + 1);
}

const OUTSIDE_BASE64 = "*-_.!@#%&{}";
/** Printable characters but space and "{": text of them is never an object. */
const GARBAGE = "!\"#$%()*+,-./0123456789:;<=>?@[\\]^_`|}~ab";
const INVALID_UTF8 = [
  [0xff], [0xfe], [0x80], [0xbf], // never in UTF-8, or a continuation byte alone
  [0xc0, 0xaf], [0xe3, 0x81], [0xed, 0xa0, 0x80], // overlong, cut short, a UTF-16 surrogate
  [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3], // five bytes, above U+10FFFF, a lone lead
];

/** name → (i) → a body of that kind, as text. */
function kinds(cipher) {
  const plain = capturedPlain();
  const good = cipher.encrypt(plain);
  const base64 = good.toString("base64");
  const sealed = (text) => cipher.encrypt(Buffer.isBuffer(text) ? text : Buffer.from(text)).toString("base64");
  const spaces = (n) => Array.from({ length: n }, () => " \t\r\n"[random(4)]).join("");
  const badBase64 = [
    () => replaceAt(base64, random(base64.length), OUTSIDE_BASE64[random(OUTSIDE_BASE64.length)]),
    () => base64.slice(0, 4 * random(base64.length / 4) + 1), // a length no base64 has
    () => replaceAt(base64, random(base64.length - 4), "="),
  ];
  const badJson = [
    () => sealed(plain.slice(0, 1 + random(plain.length - 2))),
    () => sealed(Array.from({ length: 1 + random(60) }, () => GARBAGE[random(GARBAGE.length)]).join("")),
    () => garbleBlock(cipher, good)?.toString("base64") ?? sealed("{"),
  ];
  const notObjects = [
    () => `[${random(1000)},${random(1000)}]`,
    () => `${random(100000)}.${random(100)}`,
    () => `"password ${random(100000)}"`,
    () => ["true", "false", "null"][random(3)],
    () => `[${plain}]`,
  ];
  return {
    "empty": (i) => (i % 2 ? spaces(random(24)) : sealed(spaces(random(24)))),
    "bad base64": (i) => badBase64[i % badBase64.length](),
    "partial blocks": () => {
      let cut = 0;
      while (cut % BLOCK === 0) cut = 1 + random(good.length - 1);
      return good.subarray(0, cut).toString("base64");
    },
    "bad padding": (i) => breakPadding(cipher, good, i % 2 ? BLOCK : 2 * BLOCK).toString("base64"),
    "bad JSON under good padding": (i) => badJson[i % badJson.length](),
    "bad UTF-8": (i) => sealed(Buffer.concat([
      Buffer.from(`{"password":"${"abcdefgh".slice(0, random(8))}`),
      Buffer.from(INVALID_UTF8[i % INVALID_UTF8.length]),
      Buffer.from('"}'),
    ])),
    "not an object": (i) => sealed(notObjects[i % notObjects.length]()),
    "duplicate keys": () => {
      const key = `k${random(1000)}`;
      return sealed(`{"${key}":${random(1000)},"other":1,"${key}":"x"}`);
    },
    "foreign key": (i) => {
      const foreign = crypto.createCipheriv("aes-256-cbc", `another-key-${String(i).padStart(20, "0")}`, cipher.iv);
      return Buffer.concat([foreign.update(plain), foreign.final()]).toString("base64");
    },
  };
}

// ---- the attack ----

/**
 * The classic CBC padding-oracle step on block `index` of captured (index
 * ≥ 1): sends X ‖ C[index] for each value of X's last byte. The server
 * decrypts that block to D(C[index]) ⊕ X; the one value whose answer stands
 * out from the rest ends in padding 01, and gives the block's last byte of
 * plain text. A candidate is confirmed by changing X's byte before last (so
 * that 02 02 does not pass for 01). Returns { byte (null when nothing stood
 * out), answers (distinct answers seen), requests }.
 */
async function lastByteAttack(captured, index, oracle) {
  const target = captured.subarray(index * BLOCK, (index + 1) * BLOCK);
  const previous = captured.subarray((index - 1) * BLOCK, index * BLOCK);
  const prefix = randomBytes(BLOCK);
  const probe = (guess, flip = 0) => {
    const x = Buffer.from(prefix);
    x[BLOCK - 1] = guess;
    x[BLOCK - 2] ^= flip;
    return oracle(Buffer.concat([x, target]));
  };
  const guesses = Array.from({ length: 256 }, (_, g) => g);
  const answers = await mapLimit(guesses, IN_FLIGHT, (g) => probe(g));
  let requests = guesses.length;
  const counts = new Map();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const usual = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  for (const g of guesses.filter((g) => answers[g] !== usual)) {
    requests++;
    if ((await probe(g, 0x01)) !== usual)
      return { byte: g ^ 0x01 ^ previous[BLOCK - 1], answers: counts.size, requests };
  }
  return { byte: null, answers: counts.size, requests };
}

/** The attack on the last byte of every block but the first. */
async function attackEveryBlock(captured, oracle) {
  const results = [];
  for (let index = 1; index < captured.length / BLOCK; index++)
    results.push({ index, ...(await lastByteAttack(captured, index, oracle)) });
  return results;
}

describe("no padding oracle on encrypted bodies", () => {
  let server;
  let agent;
  let cipher;

  before(async () => {
    server = await startServer({ workers: 1 });
    agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    cipher = cipherOf(server.env);
  });

  after(async () => {
    agent?.destroy();
    if (server) await stopCleanly(server);
  });

  const ask = (body) => answer(server, agent, body);

  test("a readable body is answered otherwise, and a bad field is named", async () => {
    const found = await ask(cipher.encrypt(capturedPlain()).toString("base64"));
    assert.match(found, /^HTTP\/1\.1 404 /, found);
    const badField = await ask(cipher.encrypt(capturedPlain("not-a-uuid")).toString("base64"));
    assert.match(badField, /^HTTP\/1\.1 400 /, badField);
    assert.match(badField, /"message":"id must be/, badField);
  });

  test("every kind of unreadable body gets one and the same answer", async () => {
    const reference = await ask("");
    assert.match(reference, /^HTTP\/1\.1 400 Bad Request\n/, reference);
    assert.match(reference, /"message":"request body cannot be read with the connection key"/, reference);
    for (const [kind, make] of Object.entries(kinds(cipher))) {
      const bodies = Array.from({ length: PER_KIND }, (_, i) => make(i));
      const answers = await mapLimit(bodies, IN_FLIGHT, (body) => ask(body));
      const other = answers.findIndex((a) => a !== reference);
      assert.equal(other, -1,
        `${kind}: body ${other} (${bodies[other]}) answered\n${answers[other]}\ninstead of\n${reference}`);
    }
  });

  test("the last-byte attack recovers every byte from an oracle that leaks padding", async () => {
    // What the server answered before: one message for bad padding, another
    // for a body whose padding holds.
    const leaky = async (bytes) => {
      const plain = cipher.decrypt(bytes);
      if (plain === null) return "400 cannot be decrypted";
      try { JSON.parse(plain.toString()); return "ok"; } catch { return "400 not valid JSON"; }
    };
    const plain = Buffer.from(capturedPlain());
    const captured = cipher.encrypt(plain);
    const padded = Buffer.concat([plain, Buffer.alloc(captured.length - plain.length, captured.length - plain.length)]);
    const results = await attackEveryBlock(captured, leaky);
    assert.ok(results.length >= 8, "the captured body is long enough");
    for (const { index, byte } of results)
      assert.equal(byte, padded[(index + 1) * BLOCK - 1], `block ${index}`);
  });

  test("the same attack against the server finds no answer that stands out", async () => {
    const captured = cipher.encrypt(Buffer.from(capturedPlain()));
    const results = await attackEveryBlock(captured, (bytes) => ask(bytes.toString("base64")));
    const requests = results.reduce((n, r) => n + r.requests, 0);
    assert.ok(requests >= 2000, `only ${requests} requests`);
    for (const { index, byte, answers } of results) {
      assert.equal(answers, 1, `block ${index}: the server gave ${answers} different answers`);
      assert.equal(byte, null, `block ${index}: byte recovered`);
    }
  });
});
