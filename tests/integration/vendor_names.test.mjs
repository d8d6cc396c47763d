// One vendor, one place: outside its own files under worker/vendors/ (named
// after its adapter) and its lines of the adapter table, no file of worker/
// or common/ names a vendor: not its code, its webhook name, nor its
// settings. The vendors are read from the table itself, so a new vendor is
// checked as soon as its table line exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "../lib/process.mjs";

const sourceDir = process.env.PAYMENTS_SOURCE_DIR ?? path.resolve(import.meta.dirname, "../..");
const vendorsDir = path.join("worker", "vendors");
const tableFile = path.join(vendorsDir, "vendor_table.c");

/** The table's vendors: each adapter's file prefix, code and webhook name. */
function tableVendors(root) {
  const table = fs.readFileSync(path.join(root, tableFile), "utf8");
  const prefixes = [...table.matchAll(/&(\w+)_adapter\s*,/g)].map((m) => m[1]);
  return prefixes.map((prefix) => {
    const definition = new RegExp(`const vendor_adapter ${prefix}_adapter = \\{([\\s\\S]*?)\\n\\};`);
    for (const file of fs.readdirSync(path.join(root, vendorsDir))) {
      const found = fs.readFileSync(path.join(root, vendorsDir, file), "utf8").match(definition);
      if (!found) continue;
      const member = (name) => found[1].match(new RegExp(`\\.${name} = "([^"]+)"`))?.[1];
      return { prefix, code: member("code"), webhook: member("webhook_name") };
    }
    throw new Error(`no definition of ${prefix}_adapter under ${vendorsDir}`);
  });
}

function sourceFiles(root, dir) {
  const out = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(root, relative));
    else if (/\.[ch]$/.test(entry.name)) out.push(relative);
  }
  return out;
}

/** Where a vendor is named outside its own files and its table lines. */
function leaks(root, vendors) {
  const found = [];
  for (const file of [...sourceFiles(root, "worker"), ...sourceFiles(root, "common")]) {
    const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n");
    for (const vendor of vendors) {
      if (path.dirname(file) === vendorsDir && path.basename(file).startsWith(vendor.prefix)) continue;
      const names = [vendor.prefix, vendor.code, vendor.code.split(".")[0], vendor.webhook].map((n) => n.toLowerCase());
      lines.forEach((line, i) => {
        const lower = line.toLowerCase();
        if (!names.some((name) => lower.includes(name))) return;
        const tableLine = file === tableFile &&
          (line.includes(`&${vendor.prefix}_adapter`) || line.includes(`#include "${vendor.prefix}.h"`));
        if (!tableLine) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  return found;
}

test("the adapter table is the only place outside a vendor's files that names it", () => {
  const vendors = tableVendors(sourceDir);
  assert.ok(vendors.length >= 2, JSON.stringify(vendors));
  for (const vendor of vendors) assert.ok(vendor.code && vendor.webhook, JSON.stringify(vendor));
  assert.deepEqual(leaks(sourceDir, vendors), []);
});

test("a vendor named outside its files is reported", () => {
  const root = tempDir("payments-vendor-names-");
  for (const dir of [vendorsDir, path.join("worker", "api"), "common"])
    fs.mkdirSync(path.join(root, dir), { recursive: true });
  const vendors = tableVendors(sourceDir);
  const { prefix, code } = vendors[0];
  for (const file of fs.readdirSync(path.join(sourceDir, vendorsDir)))
    if (file === "vendor_table.c" || file.startsWith(prefix))
      fs.copyFileSync(path.join(sourceDir, vendorsDir, file), path.join(root, vendorsDir, file));
  fs.writeFileSync(path.join(root, "worker", "api", "input.c"), `int known(const char *c) { return !strcmp(c, "${code}"); }\n`);
  fs.writeFileSync(path.join(root, "common", "config.h"), `    char *${prefix.toUpperCase()}_url; /* PAYMENT_URL */\n`);
  const found = leaks(root, [vendors[0]]);
  fs.rmSync(root, { recursive: true, force: true });
  assert.deepEqual(found, [
    `${path.join("worker", "api", "input.c")}:1: int known(const char *c) { return !strcmp(c, "${code}"); }`,
    `${path.join("common", "config.h")}:1: char *${prefix.toUpperCase()}_url; /* PAYMENT_URL */`,
  ]);
});
