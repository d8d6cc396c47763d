# shellcheck shell=bash
# The scale benchmarks of bench/run (7 to 11), sourced by it: what matters is
# how many requests can wait at once on a slow vendor, what each costs, and
# whether the fast routes stay fast meanwhile. They use bench/run's
# functions and variables (measure, alternate, seed_payments, note, ...).
# BENCH_SCALE (default 1) multiplies the request and connection counts, so
# that a dry run (BENCH_SCALE=0.01) checks the scripts in seconds.

scale=${BENCH_SCALE:-1}
scaled() { awk -v n="$1" -v s="$scale" 'BEGIN { v = int(n * s); print (v < 2 ? 2 : v) }'; }
slow_sizes="$(scaled 2000) $(scaled 5000)"
slow_large=$(scaled 5000)
idle_count=$(scaled 10000)
fanout_receivers=100
fanout_delay_ms=200

# Our workers' pids, comma-separated.
worker_pids() {
  node "$bench/lib/control.mjs" rss "$PAYMENT_CONTROL_SOCKET" |
    node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).workers.map((w) => w.pid).join(","))'
}
nginx_worker_pids() { pgrep -P "$nginx_pid" | paste -sd, -; }

# RSS (KiB) and open descriptors summed over a comma-separated list of pids.
rss_kib() {
  local total=0 pid
  for pid in ${1//,/ }; do total=$((total + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"))); done
  echo "$total"
}

# Holds the fake iamport's payment lookups (GET /payments/:uid, the call a
# record makes) for ms; 0 clears the rule.
fake_latency() {
  curl -fsS -X PUT "http://127.0.0.1:$iamport_port/fake/latency" \
    -d "{\"ms\": $1, \"match\": \"/payments/\", \"method\": \"GET\"}" >/dev/null
}
fake_held() { curl -fsS "http://127.0.0.1:$iamport_port/fake/stats" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).held_answers)'; }

# The upstream of nginx's /slow: answers after 1 s, as the fake vendor does.
start_delayed_upstream() {
  node "$bench/lib/delayed.mjs" --servers 1 --delay-ms 1000 >"$work/upstream.json" 2>"$work/upstream.log" &
  started $!
  for _ in $(seq 100); do [ -s "$work/upstream.json" ] && break; sleep 0.1; done
  upstream_port=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).ports[0])' "$work/upstream.json")
}

# burst_side BENCH SIDE ROUND SIZE: SIZE requests at once, ours (records of
# prepared payments) or nginx's (GET /slow), with the serving processes' RSS
# and descriptors before and while they all wait.
burst_side() {
  local bench_name=$1 side=$2 round=$3 size=$4 pids out=$work/out/$1-$2-$4-$3.json
  if [ "$side" = ours ]; then
    pids=$(worker_pids)
    node "$bench/lib/burst.mjs" send --url "http://127.0.0.1:$api_port" --file "$work/records-slow-$size-$round.txt" \
      --count "$size" --pids "$pids" --sample-ms 700 >"$out" || die "the burst client failed"
  else
    pids=$(nginx_worker_pids)
    node "$bench/lib/burst.mjs" send --url "http://127.0.0.1:$nginx_port" --path /slow --count "$size" \
      --pids "$pids" --sample-ms 700 >"$out" || die "the burst client failed"
  fi
  note "$(node -e 'console.log(JSON.stringify({kind: "burst", bench: process.argv[1], side: process.argv[2],
    phase: process.argv[3] === "0" ? "warmup" : "round", round: +process.argv[3], size: +process.argv[4],
    ...JSON.parse(require("fs").readFileSync(process.argv[5]))}))' "$bench_name" "$side" "$round" "$size" "$out")"
  log "$bench_name $side $size round $round: $(tail -n 1 "$results")"
}

bench_slow() {
  log "7. slow gateway: $slow_sizes concurrent POST /payments/histories, the vendor answering after 1 s; nginx proxying as many"
  local round size
  for round in 0 $(seq "$rounds"); do
    for size in $slow_sizes; do seed_payments slow "$size-$round" "$size" "vendor payments for benchmarks 7 and 8"; done
  done
  fake_latency 1000
  for round in 0 $(seq "$rounds"); do
    for size in $slow_sizes; do
      if [ $((round % 2)) -eq 1 ]; then
        burst_side slow ours "$round" "$size"
        burst_side slow nginx "$round" "$size"
      else
        burst_side slow nginx "$round" "$size"
        burst_side slow ours "$round" "$size"
      fi
    done
  done
  fake_latency 0
}

# Health and the encrypted read at 8 connections, idle, then while the
# large burst waits on a vendor held long enough for every round.
bench_during() {
  log "8. fast routes at 8 connections, idle and while $slow_large slow requests wait"
  local all=$connections round
  connections=8
  for round in 0 $(seq "$rounds"); do
    measure during-health idle "$([ "$round" = 0 ] && echo warmup || echo round)" "$round" "$([ "$round" = 0 ] && echo "$warmup" || echo "$seconds")"
    measure during-read idle "$([ "$round" = 0 ] && echo warmup || echo round)" "$round" "$([ "$round" = 0 ] && echo "$warmup" || echo "$seconds")"
  done
  seed_payments slow "$slow_large-during" "$slow_large" "vendor payments for benchmarks 7 and 8"
  # Every busy round, with ten seconds each for starting wrk and reading its figures.
  local hold_s=$((2 * (warmup + rounds * seconds) + 2 * (rounds + 1) * 10 + 15))
  fake_latency $((hold_s * 1000))
  local out=$work/out/during-burst.json
  node "$bench/lib/burst.mjs" send --url "http://127.0.0.1:$api_port" --file "$work/records-slow-$slow_large-during.txt" \
    --count "$slow_large" >"$out" &
  local burst=$!
  started "$burst"
  local deadline=$((SECONDS + 60))
  until [ "$(fake_held)" -ge "$slow_large" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "the $slow_large slow requests did not all reach the fake vendor within 60 s"
    sleep 0.2
  done
  for round in 0 $(seq "$rounds"); do
    measure during-health busy "$([ "$round" = 0 ] && echo warmup || echo round)" "$round" "$([ "$round" = 0 ] && echo "$warmup" || echo "$seconds")"
    measure during-read busy "$([ "$round" = 0 ] && echo warmup || echo round)" "$round" "$([ "$round" = 0 ] && echo "$warmup" || echo "$seconds")"
  done
  [ "$(fake_held)" -ge "$slow_large" ] || log "8. some slow requests were answered before the busy rounds ended"
  fake_latency 0
  wait "$burst" || die "the burst client failed"
  ended "$burst"
  note "$(node -e 'console.log(JSON.stringify({kind: "burst", bench: "during", side: "ours", phase: "round", round: 1,
    size: +process.argv[1], ...JSON.parse(require("fs").readFileSync(process.argv[2]))}))' "$slow_large" "$out")"
  connections=$all
}

# hold_idle PORT PATH: opens idle_count keep-alive connections and keeps them;
# sets holder (the pid).
hold_idle() {
  local out=$work/out/hold-$1.json
  node "$bench/lib/burst.mjs" hold --port "$1" --path "$2" --count "$idle_count" >"$out" 2>"$out.err" &
  holder=$!
  started "$holder"
  local deadline=$((SECONDS + 120))
  until [ -s "$out" ]; do
    kill -0 "$holder" 2>/dev/null || die "the idle connections' holder failed: $(cat "$out.err")"
    [ "$SECONDS" -lt "$deadline" ] || die "$idle_count connections were not open within 120 s"
    sleep 0.2
  done
  held_failed=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).failed)' "$out")
}

release_idle() {
  kill -TERM "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  ended "$holder"
  local closed
  closed=$(node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").at(-1)).closed_while_held) } catch { console.log(0) }' "$1")
  held_failed=$((held_failed + closed))
}

idle_rounds() {
  local side=$1 round phase duration
  for round in 0 $(seq "$rounds"); do
    phase=round duration=$seconds
    [ "$round" = 0 ] && phase=warmup duration=$warmup
    measure idle-health "$side" "$phase" "$round" "$duration"
    measure idle-read "$side" "$phase" "$round" "$duration"
  done
}

bench_idle() {
  log "9. $idle_count idle keep-alive connections; health and the read over $connections more; RSS per idle connection vs nginx"
  idle_rounds without
  local pids before after
  pids=$(worker_pids)
  before=$(rss_kib "$pids")
  hold_idle "$api_port" /monitors/health
  sleep 1
  after=$(rss_kib "$pids")
  idle_rounds with
  release_idle "$work/out/hold-$api_port.json.err"
  local ours_failed=$held_failed
  local nginx_pids nginx_before nginx_after
  nginx_pids=$(nginx_worker_pids)
  nginx_before=$(rss_kib "$nginx_pids")
  hold_idle "$nginx_port" /
  sleep 1
  nginx_after=$(rss_kib "$nginx_pids")
  release_idle "$work/out/hold-$nginx_port.json.err"
  note "{\"kind\":\"idle\",\"count\":$idle_count,\"ours_before_kib\":$before,\"ours_after_kib\":$after,\"nginx_before_kib\":$nginx_before,\"nginx_after_kib\":$nginx_after,\"failed\":$ours_failed,\"nginx_failed\":$held_failed}"
  log "9. RSS with $idle_count idle connections: ours $before -> $after KiB, nginx $nginx_before -> $nginx_after KiB"
}

bench_tail() {
  log "10. tail latency at $connections connections: the read vs pgbench's own per-transaction log"
  alternate tail ours pgbench
}

# 100 receivers answering after 200 ms; each history's notifications go to
# one of them.
bench_fanout() {
  log "11. webhook fan-out: $histories notifications to $fanout_receivers receivers answering after $fanout_delay_ms ms"
  node "$bench/lib/delayed.mjs" --servers "$fanout_receivers" --delay-ms "$fanout_delay_ms" >"$work/receivers.json" \
    2>"$work/receivers.log" &
  local receivers=$!
  started "$receivers"
  for _ in $(seq 100); do [ -s "$work/receivers.json" ] && break; sleep 0.1; done
  local ports
  ports=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).ports.join(","))' "$work/receivers.json")
  webhook_run fanout "http://127.0.0.1:${ports%%,*}/hook" \
    "UPDATE payment_histories SET webhook_url = 'http://127.0.0.1:' ||
       ('{$ports}'::int[])[1 + (hashtext(id::text) & 2147483647) % $fanout_receivers] || '/hook'
     WHERE id::text LIKE '00000000-0000-0000-0000-%'"
  kill -TERM "$receivers" 2>/dev/null || true
  wait "$receivers" 2>/dev/null || true
  ended "$receivers"
}
