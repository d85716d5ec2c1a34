#!/usr/bin/env bash
# What a report costs where the registry is small: the 2024 summary over a 500-event registry (the
# fill puts the first 1,000 events of any registry in March 2024, so it counts every one), this
# build against BENCH_BEFORE, a server built from before the report ran as one statement (eleven
# statements one after another; the one bench/search.sh uses, `git worktree add ../before
# 6415e64~1`, is from before both), both on the same store, in interleaved rounds beside
# /health/live. The issue that asked for one statement measured the earlier server
# against a FastAPI peer (4.8× on PostgreSQL, 13–18× on SQLite); this build's gain over it, times
# that, is its distance from the peer. Both servers must answer the same figures.
#
#   bench/small.sh sqlite|postgres [EVENTS ATTENDEES]     (default 500 5000)
#
# BENCH_ROUNDS (3), BENCH_DURATION (seconds of wrk, 5), BENCH_CONNECTIONS (16), BENCH_BEFORE
# (required), BENCH_REUSE=1. Needs Debian's wrk; PostgreSQL: BENCH_POSTGRES_URL as in bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/store.sh
rounds=${BENCH_ROUNDS:-3}
duration=${BENCH_DURATION:-5}
connections=${BENCH_CONNECTIONS:-16}
before_bin=${BENCH_BEFORE:?BENCH_BEFORE: a server built from before the one-statement reports}
events=${2:-500}
attendees=${3:-5000}
bench_store small "${1:?sqlite or postgres}" "$events" "$attendees"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
bench_serve target/release/adal 18185 "$out/server-after.log"
pids+=("$served")
bench_serve "$before_bin" 18186 "$out/server-before.log"
pids+=("$served")
auth="Authorization: Bearer $(bench_token 18185)"
path="/api/v1/reports/summary?from=2024-01-01&to=2024-12-31"

# The figures both servers answer, without the instant each computed them at.
figures() { curl -sf -H "$auth" "http://127.0.0.1:$1$path" | python3 -c 'import sys,json;d=json.load(sys.stdin);d.pop("generated_at",None);print(json.dumps(d,sort_keys=True))'; }
[ "$(figures 18185)" = "$(figures 18186)" ] || { echo "the two servers answer different figures" >&2; exit 1; }

for round in $(seq 1 "$rounds"); do
  for side in before:18186 after:18185; do
    name=${side%:*} port=${side#*:}
    wrk -t2 -c"$connections" -d"${duration}s" "http://127.0.0.1:$port/health/live" > "$out/live-$name-$round.txt"
    wrk -t2 -c"$connections" -d"${duration}s" --latency -H "$auth" "http://127.0.0.1:$port$path" > "$out/summary-$name-$round.txt"
    echo "$(awk '/Requests\/sec/ {print $2}' "$out/summary-$name-$round.txt") $(awk '/Requests\/sec/ {print $2}' "$out/live-$name-$round.txt") $(awk '/Non-2xx|Socket errors/ {n++} END {print n+0}' "$out/summary-$name-$round.txt")" >> "$out/$name.rounds"
  done
done
python3 - "$out" "$store" "$events" "$attendees" "$rounds" "$duration" "$connections" <<'PY' | tee "$out/table.md"
import statistics, sys
out, store, events, attendees, rounds, duration, connections = sys.argv[1:]
rows = {n: [list(map(float, l.split())) for l in open(f"{out}/{n}.rounds")] for n in ("before", "after")}
med = {n: statistics.median(r[0] for r in v) for n, v in rows.items()}
print("| the 2024 summary, the whole registry | req/s (median) | ratio to /health/live | per round | errors |")
print("| --- | ---: | ---: | --- | ---: |")
for n, label in (("before", "before: eleven statements"), ("after", "this build: one statement")):
    ratio = statistics.median(r[0] / r[1] for r in rows[n])
    print(f"| {label} | {med[n]:.1f} | {ratio:.4f} | {' '.join(f'{r[0]:.0f}' for r in rows[n])} | {sum(int(r[2]) for r in rows[n])} |")
gain = med["after"] / med["before"]
peer = "4.8" if store == "postgres" else "13–18"
lo, hi = (4.8, 4.8) if store == "postgres" else (13, 18)
print()
print(f"- store: {store}, {events} events, {attendees} attendees; wrk -t2 -c{connections} -d{duration}s, {rounds} interleaved round(s); both servers answer the same figures")
print(f"- this build / before: {gain:.2f}×; before was {peer}× the FastAPI peer, so this build is about "
      + (f"{gain * lo:.1f}×" if lo == hi else f"{gain * lo:.1f}–{gain * hi:.1f}×") + " the peer")
PY
