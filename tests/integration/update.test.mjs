// End to end: zero-downtime updates across two instances on one machine.
// A bare repository made from the tree under test, two checkouts cloned from
// it and built like instances (RelWithDebInfo), two masters on their own ports
// sharing one PostgreSQL schema, a master updater on instance A and a slave
// on instance B. Load runs on both instances through every update and every
// failed request or connection error is counted. Commits pushed to the bare
// repository then drive `payments update local`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { freePort, sleep, tempDir, waitFor } from "../lib/process.mjs";
import { cloneAndBuild, git, makeOrigin } from "../lib/checkout.mjs";
import { startInstance } from "../lib/instance.mjs";
import { startLoad } from "../lib/load.mjs";

const WORKERS = 2;
const SECRET = "test-system-password";

describe("updates across instances", { timeout: 1_500_000 }, () => {
  let root;
  let repo;
  let instances = [];
  let a;
  let b;

  before(async () => {
    if (!process.env.PAYMENT_POSTGRES_URL) throw new Error("PAYMENT_POSTGRES_URL is not set: run through make test");
    root = tempDir("payments-update-");
    repo = makeOrigin(root);
    const checkoutA = await cloneAndBuild(repo.origin, path.join(root, "a"));
    const checkoutB = await cloneAndBuild(repo.origin, path.join(root, "b"));
    const updatorPort = await freePort();
    const schema = `t_update_${process.pid}`;
    a = await startInstance({ name: "a", checkout: checkoutA, dir: root, apiPort: await freePort(), updatorPort, schema, workers: WORKERS });
    instances.push(a);
    b = await startInstance({ name: "b", checkout: checkoutB, dir: root, apiPort: await freePort(), updatorPort, schema, workers: WORKERS });
    instances.push(b);
    a.startUpdater("master");
    b.startUpdater("slave", ["--master", `127.0.0.1:${updatorPort}`]);
    await bothConnected();
  });

  after(async () => {
    for (const instance of instances) await instance.stop();
    if (process.env.PAYMENTS_KEEP_TEST_DIR) return;
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  /** Waits until the master updater lists both instances (a slave reconnects after re-executing itself). */
  async function bothConnected() {
    await waitFor(async () => {
      const listed = await a.payments(["instances", "local", "--json"], {}, 10000);
      if (listed.code !== 0) return false;
      const doc = JSON.parse(listed.stdout);
      return !doc.updating && doc.instances.map((i) => i.instance).sort().join(",") === "a,b";
    }, 60000, "both instances connected to the master updater");
  }

  function startBothLoads() {
    return startLoad(instances.map((i) => ({
      name: i.name,
      urls: [i.url("/monitors/health"), i.url("/monitors/ready")],
    })), { loopsPerTarget: 2 });
  }

  /** Everything the tests compare before and after an update. */
  async function snapshot() {
    const out = {};
    for (const i of instances) {
      const s = await i.status();
      out[i.name] = { master: s.master.pid, workers: s.workers.map((w) => w.pid), commit: s.master.commit?.hash };
    }
    return out;
  }

  async function monitor(instance) {
    // --url: this instance only (without it, monitor shows every instance the master updater knows)
    const res = await instance.payments(["monitor", "local", "--json", "--url", instance.url("")], {}, 30000);
    assert.equal(res.code, 0, `payments monitor on ${instance.name}: ${res.stderr}`);
    return JSON.parse(res.stdout);
  }

  /** The end of every updater's log, for the message of a failed assertion. */
  function updaterLogs() {
    return instances.flatMap((i) => i.updaters.map((u) => `--- updater of ${i.name}:\n${u.log().slice(-3000)}`)).join("\n");
  }

  function resultOf(doc, name) {
    const found = doc.instances.find((r) => r.instance === name);
    assert.ok(found, `a result for instance ${name}: ${JSON.stringify(doc).slice(0, 2000)}`);
    return found;
  }

  /** Runs `payments update local --json` with load on both instances. */
  async function updateUnderLoad() {
    await bothConnected();
    const before = await snapshot();
    const load = startBothLoads();
    await sleep(300);
    const res = await a.payments(["update", "local", "--json"]);
    await sleep(500);
    const traffic = await load.stop();
    let doc = null;
    try { doc = JSON.parse(res.stdout); } catch { /* asserted by the caller */ }
    return { res, doc, before, after: await snapshot(), traffic };
  }

  function assertNoFailures(traffic, t) {
    t.diagnostic(`requests answered during the update: ${JSON.stringify(traffic.perTarget)}, failed: ${traffic.failures.length}`);
    assert.deepEqual(traffic.failures.slice(0, 20), [], `failed requests: ${traffic.failures.length}`);
    assert.equal(traffic.connectionErrors, 0);
    for (const i of instances) assert.ok((traffic.perTarget[i.name] ?? 0) > 50, `requests served by ${i.name}: ${traffic.perTarget[i.name]}`);
  }

  function assertAllWorkersReplaced(before, after) {
    for (const i of instances) {
      const kept = after[i.name].workers.filter((pid) => before[i.name].workers.includes(pid));
      assert.deepEqual(kept, [], `${i.name}: every worker pid changed`);
      assert.equal(after[i.name].workers.length, WORKERS);
    }
  }

  it("a commit changing the package version: both instances serve it, every worker replaced, nothing dropped", async (t) => {
    let version;
    const hash = repo.commit("Bump the package version", (dir) => {
      const file = path.join(dir, "CMakeLists.txt");
      const text = fs.readFileSync(file, "utf8");
      const match = text.match(/project\(payments VERSION (\d+)\.(\d+)\.(\d+)/);
      assert.ok(match, "the top CMakeLists.txt declares project(payments VERSION x.y.z)");
      version = `${match[1]}.${match[2]}.${Number(match[3]) + 1}`;
      fs.writeFileSync(file, text.replace(match[0], `project(payments VERSION ${version}`));
    });
    const { res, doc, before, after, traffic } = await updateUnderLoad();
    assert.equal(res.code, 0, `payments update failed:\n${res.stdout}\n${res.stderr}\n${updaterLogs()}`);
    assert.equal(doc.ok, true);
    for (const i of instances) {
      const result = resultOf(doc, i.name);
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(result.commit.hash, hash);
      assert.ok(["reload", "upgrade"].includes(result.action), result.action);
      assert.equal(after[i.name].commit, hash, `${i.name} serves the new commit`);
      const system = (await monitor(i)).system;
      assert.equal(system.commit.hash, hash, `${i.name}: /monitors/system reports the new commit`);
      assert.equal(system.package.version, version, `${i.name}: /monitors/system reports the new version`);
    }
    assertAllWorkersReplaced(before, after);
    assertNoFailures(traffic, t);
  });

  it("a commit changing only the updater: workers reloaded, masters kept, the updaters re-execute themselves", async (t) => {
    const hash = repo.commit("Reword the updater's usage", (dir) => {
      const file = path.join(dir, "updater", "updater_main.c");
      const text = fs.readFileSync(file, "utf8");
      assert.match(text, /"usage: payments-updater /);
      fs.writeFileSync(file, text.replace('"usage: payments-updater ', '"usage (updated): payments-updater '));
      fs.appendFileSync(path.join(dir, "README.md"), "\n<!-- updated by the update test -->\n");
    });
    const { res, doc, before, after, traffic } = await updateUnderLoad();
    assert.equal(res.code, 0, `payments update failed:\n${res.stdout}\n${res.stderr}\n${updaterLogs()}`);
    for (const i of instances) {
      const result = resultOf(doc, i.name);
      assert.equal(result.action, "reload", JSON.stringify(result));
      assert.equal(result.updater_changed, true);
      assert.equal(after[i.name].master, before[i.name].master, `${i.name}: same master`);
      assert.equal(after[i.name].commit, hash);
    }
    assertAllWorkersReplaced(before, after);
    assertNoFailures(traffic, t);
    for (const i of instances) {
      const updater = i.updaters[0];
      await waitFor(() => /re-executing .*payments-updater/.test(updater.log()), 20000, `${i.name}'s updater to re-execute`);
      assert.equal(updater.child.exitCode, null, "same process, new image");
      // the image it runs is the rebuilt file, not the replaced one
      await waitFor(() => !fs.readlinkSync(`/proc/${updater.pid}/exe`).endsWith("(deleted)"), 10000,
        `${i.name}'s updater to run the rebuilt binary`);
    }
    await bothConnected(); // the slave found the master again
  });

  it("a commit changing the master binary: both masters upgraded; a second update meanwhile is refused", async (t) => {
    const hash = repo.commit("Reword the master's usage", (dir) => {
      const file = path.join(dir, "master", "main.c");
      const text = fs.readFileSync(file, "utf8");
      assert.match(text, /"usage: payments-master /);
      fs.writeFileSync(file, text.replace('"usage: payments-master ', '"usage (updated): payments-master '));
    });
    await bothConnected();
    const before = await snapshot();
    const load = startBothLoads();
    const first = a.payments(["update", "local", "--json"]);
    await waitFor(async () => {
      const listed = await a.payments(["instances", "local", "--json"], {}, 10000);
      return listed.code === 0 && JSON.parse(listed.stdout).updating;
    }, 30000, "the first update to be running");
    const second = await a.payments(["update", "local"], {}, 30000);
    assert.notEqual(second.code, 0, "the second update is refused");
    assert.match(second.stderr, /already updating/);
    const res = await first;
    await sleep(500);
    const traffic = await load.stop();
    const after = await snapshot();
    assert.equal(res.code, 0, `payments update failed:\n${res.stdout}\n${res.stderr}\n${updaterLogs()}`);
    const doc = JSON.parse(res.stdout);
    for (const i of instances) {
      const result = resultOf(doc, i.name);
      assert.equal(result.action, "upgrade", JSON.stringify(result));
      assert.notEqual(after[i.name].master, before[i.name].master, `${i.name}: a new master serves`);
      assert.equal(result.master.pid_after, after[i.name].master);
      assert.equal(after[i.name].commit, hash);
    }
    assertAllWorkersReplaced(before, after);
    assertNoFailures(traffic, t);
  });

  it("a commit that does not compile: the update fails on both, the old commit keeps serving", async (t) => {
    const served = (await snapshot()).a.commit;
    const broken = repo.commit("Break the build", (dir) => {
      fs.appendFileSync(path.join(dir, "master", "listener.c"), "\nthis line is not C;\n");
    });
    const { res, doc, before, after, traffic } = await updateUnderLoad();
    assert.notEqual(res.code, 0, "payments update exits non-zero");
    assert.equal(doc.ok, false);
    for (const i of instances) {
      const result = resultOf(doc, i.name);
      assert.equal(result.ok, false);
      assert.equal(result.step, "build");
      assert.match(result.error, /exited with status/);
      assert.ok(result.output.some((line) => /listener\.c.*error/.test(line)), `the compiler's error in the output:\n${result.output.join("\n")}`);
      assert.equal(result.rolled_back, true);
      assert.equal(result.commit.hash, served);
      assert.equal(result.failed_hash, broken, "the report names the commit that failed");
      assert.equal(after[i.name].commit, served, `${i.name} still serves the old commit`);
      assert.equal(after[i.name].master, before[i.name].master);
      assert.deepEqual([...after[i.name].workers].sort(), [...before[i.name].workers].sort(), `${i.name}: nothing was rolled`);
      assert.equal(git(i.checkout.dir, "rev-parse", "HEAD"), served, `${i.name}: checkout put back`);
    }
    assertNoFailures(traffic, t);
    // The same in the readable form: the reason and the commit served.
    const text = await a.payments(["update", "local"]);
    assert.notEqual(text.code, 0);
    assert.match(text.stdout, /a: FAILED at build: .*exited with status/);
    assert.match(text.stdout, /b: FAILED at build/);
    assert.match(text.stdout, new RegExp(`commit ${broken.slice(0, 12)} failed; the next update tries it again`));
    assert.match(text.stdout, new RegExp(`now serving:\\n  [ab]: branch main, commit ${served}`));
  });

  it("an updater or a client with the wrong secret is refused, and no log shows a secret", async (t) => {
    const wrong = "not-the-system-password";
    const intruder = b.startUpdater("slave", ["--master", `127.0.0.1:${a.env.PAYMENT_UPDATOR_PORT}`],
      // its own pid file: b's slave holds b's, and a second updater on it refuses to start
      { PAYMENT_SYSTEM_PASSWORD: wrong, PAYMENT_UPDATE_INSTANCE: "intruder", PAYMENT_UPDATER_PID_FILE: path.join(root, "intruder.pid") });
    await waitFor(() => /refused: authentication failed/.test(intruder.log()), 15000, "the intruder to be refused");
    const masterLog = () => a.updaters[0].log();
    await waitFor(() => /refused slave intruder from 127\.0\.0\.1:\d+: authentication failed/.test(masterLog()), 15000,
      "the master updater to log the refusal");
    const listed = JSON.parse((await a.payments(["instances", "local", "--json"])).stdout);
    assert.deepEqual(listed.instances.map((i) => i.instance).sort(), ["a", "b"]);
    await intruder.stop("SIGTERM");
    const client = await a.payments(["update", "local"], { PAYMENT_SYSTEM_PASSWORD: wrong }, 30000);
    assert.equal(client.code, 1);
    assert.match(client.stderr, /refused: authentication failed/);
    for (const log of [masterLog(), b.updaters[0].log(), intruder.log(), client.stderr, client.stdout]) {
      assert.ok(!log.includes(SECRET) && !log.includes(wrong), "no secret in the logs");
    }
  });

  it("payments monitor lists the master and every worker with their memory, and the commit served", async (t) => {
    for (const i of instances) {
      const status = await i.status();
      const workerPids = status.workers.map((w) => w.pid).sort((x, y) => x - y);
      // the figures of other workers come from the master's broadcast, once a second
      const { performance, system } = await waitFor(async () => {
        const doc = await monitor(i);
        const listed = doc.performance.workers.map((w) => w.pid).sort((x, y) => x - y);
        return listed.join() === workerPids.join() ? doc : null;
      }, 10000, `the monitor of ${i.name} to list every worker`);
      assert.equal(performance.master.pid, status.master.pid);
      assert.ok(performance.master.memory.rss > 0, "master memory");
      for (const w of performance.workers) assert.ok(w.memory.rss > 0 && w.memory.heapUsed > 0, `worker ${w.pid} memory`);
      assert.equal(system.commit.hash, status.master.commit.hash);
      assert.equal(system.commit.hash, git(i.checkout.dir, "rev-parse", "HEAD"));
      assert.match(system.commit.branch, /main/);
      const readable = await i.payments(["monitor", "local"], {}, 30000);
      assert.equal(readable.code, 0);
      assert.match(readable.stdout, new RegExp(`commit: +${system.commit.hash} on branch main`));
      assert.match(readable.stdout, new RegExp(`master +${status.master.pid} `));
    }
  });
});
