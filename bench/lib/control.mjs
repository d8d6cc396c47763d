// Talks to a running payments-master through its control socket
// (PAYMENT_CONTROL_SOCKET, command "status"), for bench/run:
//   control.mjs ready SOCKET N SECONDS  waits until N workers are ready
//   control.mjs rss SOCKET              RSS of the master and of each worker
//                                       (VmRSS in /proc, MiB), one JSON line
//   control.mjs roll SOCKET SECONDS     SIGHUP to the master, then waits until
//                                       every worker is of the new generation;
//                                       prints {seconds} of the roll
import fs from "node:fs";
import net from "node:net";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function status(socketPath) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = "";
    socket.setTimeout(5000, () => socket.destroy(new Error("control socket: no answer within 5 s")));
    socket.on("connect", () => socket.write("status\n"));
    socket.on("data", (chunk) => { text += chunk; });
    socket.on("error", reject);
    socket.on("end", () => {
      try { resolve(JSON.parse(text)); } catch { reject(new Error(`control socket: bad answer ${text}`)); }
    });
  });
}

/** Polls status until done(status) holds; throws after seconds. */
async function until(socketPath, seconds, what, done) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const current = await status(socketPath).catch(() => null);
    if (current && done(current)) return current;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${seconds} s`);
    await sleep(50);
  }
}

function rssMiB(pid) {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
}

const ready = (s) => s.workers.filter((w) => w.state === "ready");

const commands = {
  async ready(socketPath, count, seconds) {
    await until(socketPath, Number(seconds), `${count} ready workers`, (s) => ready(s).length >= Number(count));
  },
  async rss(socketPath) {
    const s = await status(socketPath);
    const workers = ready(s).map((w) => ({ pid: w.pid, rss_mib: rssMiB(w.pid) }));
    console.log(JSON.stringify({ master: { pid: s.master.pid, rss_mib: rssMiB(s.master.pid) }, workers }));
  },
  async roll(socketPath, seconds) {
    const before = await status(socketPath);
    const generation = before.master.generation;
    const wanted = before.master.workers_configured;
    const started = performance.now();
    process.kill(before.master.pid, "SIGHUP");
    await until(socketPath, Number(seconds), "the end of the roll", (s) =>
      s.master.generation > generation && !s.master.rolling &&
      s.workers.length === wanted && s.workers.every((w) => w.state === "ready" && w.generation > generation));
    console.log(JSON.stringify({ seconds: Math.round(performance.now() - started) / 1000 }));
  },
};

const [command, ...args] = process.argv.slice(2);
if (!commands[command] || !args[0]) {
  console.error("usage: control.mjs ready SOCKET N SECONDS | rss SOCKET | roll SOCKET SECONDS");
  process.exit(2);
}
try {
  await commands[command](...args);
} catch (error) {
  console.error(`control: ${error.message}`);
  process.exit(1);
}
