// The rows of the scale benchmarks (7 to 11) in bench/run's table: many
// requests waiting on a slow vendor, the fast routes meanwhile, idle
// connections, tail latency beside pgbench's, and webhook fan-out to slow
// receivers. results.mjs passes its helpers; this returns the failures
// these benchmarks counted and the requests they sent.

/** helpers: {of, side, median, row, integer, ms, ratio, times, verdict} */
export function scaleRows({ of, side, median, row, integer, ms, ratio, times, verdict }) {
  let failed = 0;
  let sent = 0;
  const kib = (n) => (n == null ? "–" : n.toFixed(1));

  // 7. Slow gateway: every burst, warm-ups included, counts toward failures.
  for (const b of of("burst")) {
    failed += b.side === "ours" ? b.failed : 0;
    sent += b.side === "ours" ? b.count : 0;
  }
  const bursts = (name, size) => of("burst", { bench: "slow", side: name, phase: "round", size });
  const perWaiting = (b) => (b.waiting > 0 && b.peak_rss_kib != null ? (b.peak_rss_kib - b.idle_rss_kib) / b.waiting : null);
  const sizes = [...new Set(of("burst", { bench: "slow" }).map((b) => b.size))].sort((a, b) => a - b);
  for (const size of sizes) {
    const ours = bursts("ours", size);
    const nginx = bursts("nginx", size);
    const seconds = median(ours.map((b) => b.seconds));
    const nginxSeconds = median(nginx.map((b) => b.seconds));
    const first = size === sizes[0];
    row("7", `${integer(size)} concurrent records, vendor at 1 s: completion (s)`, ms(seconds),
      `nginx ${ms(nginxSeconds)}`, times(ratio(seconds, nginxSeconds)), first ? "≤ 1.3 s" : "",
      first ? verdict(seconds == null ? null : seconds <= 1.3) : "");
    const memory = median(ours.map(perWaiting));
    const nginxMemory = median(nginx.map(perWaiting));
    const r = ratio(memory, nginxMemory);
    row("7", `${integer(size)}: memory per waiting request (KiB)`, kib(memory), `nginx ${kib(nginxMemory)}`, times(r),
      "< 32 KiB, ≤ 1.2x", verdict(memory == null ? null : memory < 32 && (r == null || r <= 1.2)));
    row("7", `${integer(size)}: peak RSS (MiB, all workers) / open descriptors`,
      `${kib(median(ours.map((b) => b.peak_rss_kib / 1024)))} / ${integer(median(ours.map((b) => b.peak_fds)))}`,
      `nginx ${kib(median(nginx.map((b) => b.peak_rss_kib / 1024)))} / ${integer(median(nginx.map((b) => b.peak_fds)))}`,
      "", "", "");
    const burstFailures = ours.reduce((sum, b) => sum + b.failed, 0);
    row("7", `${integer(size)}: failed requests (rounds)`, String(burstFailures), "", "", "0", verdict(burstFailures === 0));
  }

  // 8. Fast routes while the large burst waits.
  for (const [bench, label] of [["during-health", "`GET /monitors/health`"], ["during-read", "the encrypted read"]]) {
    const idle = side(bench, "idle");
    const busy = side(bench, "busy");
    if (!idle || !busy) continue;
    const r = ratio(busy.p99, idle.p99);
    row("8", `${label} at 8 connections while the slow requests wait: p50 / p99 (ms)`,
      `${ms(busy.p50)} / ${ms(busy.p99)}`, `idle ${ms(idle.p50)} / ${ms(idle.p99)}`, times(r), "p99 ≤ 2x idle",
      verdict(r == null ? null : r <= 2));
  }
  for (const b of of("burst", { bench: "during" })) {
    row("8", `the ${integer(b.size)} slow requests held meanwhile: failed`, String(b.failed), "", "", "0",
      verdict(b.failed === 0));
  }

  // 9. Ten thousand idle connections.
  for (const i of of("idle")) {
    for (const [bench, label] of [["idle-health", "health"], ["idle-read", "the read"]]) {
      const without = side(bench, "without");
      const withIdle = side(bench, "with");
      if (!without || !withIdle) continue;
      const r = ratio(withIdle.per_second, without.per_second);
      row("9", `${label} at ${"64"} connections beside ${integer(i.count)} idle ones, req/s`,
        integer(withIdle.per_second), `without ${integer(without.per_second)}`, times(r), "≥ 0.9x",
        verdict(r == null ? null : r >= 0.9));
    }
    const ours = (i.ours_after_kib - i.ours_before_kib) / i.count;
    const nginx = (i.nginx_after_kib - i.nginx_before_kib) / i.count;
    const r = ratio(ours, nginx);
    row("9", "RSS per idle connection (KiB)", kib(ours), `nginx ${kib(nginx)}`, times(r), "≤ 1.5x",
      verdict(r == null ? null : r <= 1.5));
    row("9", "idle connections refused or closed while held", String(i.failed), `nginx ${i.nginx_failed}`, "", "0",
      verdict(i.failed === 0));
    failed += i.failed;
    sent += i.count;
  }

  // 10. Tail latency at 64, beside pgbench's per-transaction log.
  const tail = side("tail", "ours");
  const pgbench = side("tail", "pgbench");
  if (tail) {
    row("10", "the read at 64 connections: p50 (ms)", ms(tail.p50), `pgbench ${ms(pgbench?.p50)}`,
      times(ratio(tail.p50, pgbench?.p50)), "", "");
    const r = ratio(tail.p99, pgbench?.p99);
    row("10", "the read at 64 connections: p99 (ms)", ms(tail.p99), `pgbench ${ms(pgbench?.p99)}`, times(r), "≤ 1.5x",
      verdict(r == null ? null : r <= 1.5));
  }

  // 11. Webhook fan-out to slow receivers.
  for (const f of of("fanout")) {
    row("11", `${integer(f.count)} notifications to 100 receivers answering after 200 ms, deliveries/s`,
      integer(f.per_second), "", "", "≥ 2,000/s", verdict(f.per_second >= 2000));
    row("11", "time until the outbox is empty (s)", f.seconds.toFixed(2), "", "", "", "");
    row("11", "retried / undelivered notifications", `${f.retries} / ${f.undelivered}`, "", "", "0",
      verdict(f.failed === 0));
    failed += f.failed;
    sent += f.count;
  }
  return { failed, sent };
}
