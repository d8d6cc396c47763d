// Parses a Prometheus text exposition strictly: Python's prometheus_client
// parser (Debian's python3-prometheus-client) reads it, and the checks here
// add what that parser lets pass: every sample belongs to a family declared
// with # HELP and # TYPE before it, histogram buckets are cumulative and end
// with +Inf equal to _count. Debian's own python3 runs it (the package is
// installed for it, not for another python3 first on PATH).
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";

const reader = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
`;

/** Returns [{ name, type, help, samples: [{ name, labels, value }] }]. */
export function parseExposition(text) {
  checkDeclarations(text);
  const families = JSON.parse(execFileSync("/usr/bin/python3", ["-c", reader], { input: text }).toString());
  for (const f of families) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** The sample lines' metric names each follow their family's HELP and TYPE. */
function checkDeclarations(text) {
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  const declared = new Map();
  for (const line of text.split("\n").filter(Boolean)) {
    const meta = line.match(/^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/);
    if (meta) {
      if (meta[1] === "TYPE") declared.set(meta[2], meta[3]);
      continue;
    }
    const name = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/)?.[1];
    assert.ok(name, `a sample line: ${line}`);
    const family = [name, name.replace(/_(bucket|sum|count)$/, "")].find((n) => declared.has(n));
    assert.ok(family, `${name} follows its # TYPE line`);
  }
}

function seriesKey(labels) {
  return JSON.stringify(Object.entries(labels).filter(([k]) => k !== "le").sort());
}

function checkHistogram(family) {
  const series = new Map();
  for (const s of family.samples) {
    const key = seriesKey(s.labels);
    if (!series.has(key)) series.set(key, { buckets: [], sum: null, count: null });
    const entry = series.get(key);
    if (s.name.endsWith("_bucket")) entry.buckets.push([s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), s.value]);
    else if (s.name.endsWith("_sum")) entry.sum = s.value;
    else if (s.name.endsWith("_count")) entry.count = s.value;
  }
  for (const [key, h] of series) {
    assert.ok(h.buckets.length > 1 && h.sum !== null && h.count !== null, `${family.name}${key}: _bucket, _sum, _count`);
    assert.equal(h.buckets.at(-1)[0], Infinity, `${family.name}${key}: the last bucket is +Inf`);
    assert.equal(h.buckets.at(-1)[1], h.count, `${family.name}${key}: +Inf equals _count`);
    for (let i = 1; i < h.buckets.length; i++) {
      assert.ok(h.buckets[i][0] > h.buckets[i - 1][0], `${family.name}${key}: bounds increase`);
      assert.ok(h.buckets[i][1] >= h.buckets[i - 1][1], `${family.name}${key}: buckets are cumulative`);
    }
    assert.ok(h.sum >= 0);
  }
}

/** The value of the sample named `name` whose labels include `labels`; 0 when none. */
export function sampleValue(families, name, labels = {}) {
  let total = 0;
  for (const f of families)
    for (const s of f.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
  return total;
}

/** Every sample named `name`. */
export function samples(families, name) {
  return families.flatMap((f) => f.samples.filter((s) => s.name === name));
}
