// Test logs and the secrets they must not hold. Every process a test starts
// writes its output to a file of $PAYMENTS_BUILD_DIR/test-logs, and every
// secret value the tests use (keys, IVs, passwords, vendor secrets, card
// numbers) is registered beside them in secrets.jsonl, so that the last
// test of the build (integration/log_secrets) can search every log for
// every secret. scripts/test empties the directory before a run.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const logDir = path.join(
  process.env.PAYMENTS_BUILD_DIR ?? fileURLToPath(new URL("../../build", import.meta.url)), "test-logs");
export const secretsFile = "secrets.jsonl";

/** Shorter values ("x", "12") would match everywhere and mean nothing. */
const MIN_SECRET_LENGTH = 6;
/** Settings whose values are secrets: keys, IVs, passwords, vendor secrets. */
const SECRET_SETTING = /^(PAYMENT_[A-Z_]*(KEY|IV|SECRET|PASSWORD)|FAKE_[A-Z_]*_(KEY|SECRET|IV))$/;
/** Flags of the fakes that carry a credential. */
const SECRET_FLAGS = new Set(["--key", "--secret", "--iv"]);

const registered = new Set();
let logCount = 0;

function ensureDir() {
  fs.mkdirSync(logDir, { recursive: true });
}

/** A fresh log file for a process running file; returns its path. */
export function logFileFor(file) {
  ensureDir();
  return path.join(logDir, `${path.basename(file)}-${process.pid}-${++logCount}.log`);
}

/** Keeps text written elsewhere (a PAYMENT_LOG_FILE in a temporary directory). */
export function keepLog(name, text) {
  fs.appendFileSync(logFileFor(name), text);
}

/** Registers value under name (what a hit reports; never the value). */
export function registerSecret(name, value) {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
  const key = `${name}\n${value}`;
  if (registered.has(key)) return;
  registered.add(key);
  ensureDir();
  fs.appendFileSync(path.join(logDir, secretsFile), `${JSON.stringify({ name, value })}\n`);
}

/** Registers the secrets among a process's settings and flags. */
export function registerProcessSecrets(env, args = []) {
  for (const [name, value] of Object.entries(env)) if (SECRET_SETTING.test(name)) registerSecret(name, value);
  args.forEach((arg, i) => { if (SECRET_FLAGS.has(arg)) registerSecret(`fake ${arg}`, args[i + 1]); });
}

/** Every registered secret of dir: [{name, value}], each value once. */
export function readSecrets(dir = logDir) {
  const file = path.join(dir, secretsFile);
  if (!fs.existsSync(file)) return [];
  const byValue = new Map();
  for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const { name, value } = JSON.parse(line);
    if (!byValue.has(value)) byValue.set(value, name);
  }
  return [...byValue].map(([value, name]) => ({ name, value }));
}

/** The forms a secret may take in a log: as is, base64, URL-encoded. */
function secretForms(value) {
  const forms = new Map([[value, "as is"]]);
  const base64 = Buffer.from(value).toString("base64").replace(/=+$/, "");
  if (base64.length >= MIN_SECRET_LENGTH && !forms.has(base64)) forms.set(base64, "base64");
  const encoded = encodeURIComponent(value);
  if (!forms.has(encoded)) forms.set(encoded, "URL-encoded");
  return [...forms].map(([text, form]) => ({ text, form }));
}

/** The log files of dir (everything but the secrets). */
export function logFiles(dir = logDir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => name !== secretsFile).map((name) => path.join(dir, name));
}

/** Searches every log of dir for every secret: [{file, name, form}], no values. */
export function scanLogs(dir = logDir, secrets = readSecrets(dir)) {
  const hits = [];
  const searched = secrets.map(({ name, value }) => ({ name, forms: secretForms(value) }));
  for (const file of logFiles(dir)) {
    const text = fs.readFileSync(file, "utf8");
    for (const { name, forms } of searched)
      for (const { text: needle, form } of forms)
        if (text.includes(needle)) hits.push({ file: path.basename(file), name, form });
  }
  return hits;
}
