// `payments monitor MODE` with two instances on one host: it asks the mode's
// master updater for its instances and shows each one (its own monitors and
// its own /metrics), falls back to the one server with a line saying so when
// no updater answers, and --url reads one server only. Both instances run the
// binaries of this build: no checkout is built.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { binary, buildDir, freePort, sourceDir, tempDir, waitFor } from "../lib/process.mjs";
import { startInstance } from "../lib/instance.mjs";

describe("payments monitor over every instance of a mode", { timeout: 300_000 }, () => {
  const checkout = { dir: sourceDir, build: path.resolve(buildDir), bin: (name) => path.resolve(binary(name)) };
  let root;
  let a;
  let b;
  const instances = [];

  before(async () => {
    root = tempDir("payments-monitor-");
    const updatorPort = await freePort();
    const schema = `t_monitor_${process.pid}`;
    for (const name of ["a", "b"]) {
      const instance = await startInstance({ name, checkout, dir: root, apiPort: await freePort(),
        adminPort: await freePort(), updatorPort, schema, workers: 1 });
      instances.push(instance);
    }
    [a, b] = instances;
    a.startUpdater("master");
    b.startUpdater("slave", ["--master", `127.0.0.1:${updatorPort}`]);
    await waitFor(async () => {
      const listed = await a.payments(["instances", "local", "--json"], {}, 10000);
      if (listed.code !== 0) return false;
      const doc = JSON.parse(listed.stdout);
      return doc.instances.length === 2 && doc.instances.every((i) => i.api && i.operators);
    }, 30000, "the slave linked, its addresses announced");
  });

  after(async () => {
    for (const instance of instances) await instance.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it("the master updater tells each instance's API and operators' addresses", async () => {
    const doc = JSON.parse((await a.payments(["instances", "local", "--json"], {}, 10000)).stdout);
    for (const i of instances) {
      const entry = doc.instances.find((e) => e.instance === i.name);
      assert.equal(entry.api, `127.0.0.1:${i.env.PAYMENT_API_PORT}`);
      assert.equal(entry.operators, `127.0.0.1:${i.env.PAYMENT_ADMIN_PORT}`);
    }
  });

  it("shows one block per instance, each read from that instance", async () => {
    // the master's own figures reach the monitors within a second of its start
    const res = await waitFor(async () => {
      const r = await b.payments(["monitor", "local", "--json"], {}, 30000);
      return r.code === 0 && JSON.parse(r.stdout).instances.every((i) => i.performance?.master) ? r : null;
    }, 10000, "both instances' monitors with their masters");
    const doc = JSON.parse(res.stdout);
    assert.deepEqual(doc.instances.map((i) => i.instance).sort(), ["a", "b"]);
    for (const i of instances) {
      const block = doc.instances.find((e) => e.instance === i.name);
      assert.equal(block.api, i.url(""));
      assert.equal(block.performance.master.pid, await i.masterPid(), `${i.name}: its own master`);
      assert.ok(block.system.commit, `${i.name}: its system document`);
    }
    const readable = await a.payments(["monitor", "local"], {}, 30000);
    assert.equal(readable.code, 0, readable.stderr);
    for (const i of instances) {
      assert.match(readable.stdout, new RegExp(`^== instance ${i.name} \\((master|slave)\\), ${i.url("")} `, "m"));
      assert.match(readable.stdout, new RegExp(`^ +master +${await i.masterPid()} `, "m"));
    }
  });

  it("--watch shows every instance's /metrics, one block each", async () => {
    const res = await a.payments(["monitor", "local", "--watch", "--interval", "0.2", "--count", "2"], {}, 30000);
    assert.equal(res.code, 0, res.stderr);
    for (const i of instances) {
      assert.match(res.stdout, new RegExp(`^instance ${i.name} \\(local mode\\): http://127\\.0\\.0\\.1:${i.env.PAYMENT_ADMIN_PORT}/metrics`, "m"));
      assert.match(res.stdout, new RegExp(`^ +master +${await i.masterPid()} `, "m"));
    }
  });

  it("--url reads one server without asking the updater", async () => {
    const res = await a.payments(["monitor", "local", "--json", "--url", b.url("")], {}, 30000);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).instances, undefined, "one server's document");
    const doc = JSON.parse(res.stdout);
    assert.equal(doc.performance.master.pid, await b.masterPid());
    assert.equal(res.stderr, "");
  });

  it("without an answering updater: one line says so, and the mode's one server is read", async () => {
    for (const i of instances) for (const u of i.updaters) await u.stop("SIGTERM");
    const res = await a.payments(["monitor", "local", "--json"], {}, 30000);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /^payments monitor: no master updater of the local mode answered \(.*\): reading its one server$/m);
    assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
    assert.equal(JSON.parse(res.stdout).performance.master.pid, await a.masterPid());
    assert.ok(!fs.existsSync(path.join(root, "a-updater.pid")), "the stopped updater removed its pid file");
  });
});
