#!/usr/bin/env bash
# One benchmark run: fill a fresh store, start the release server, load it with wrk at fixed
# concurrency, and print a Markdown table of req/s (and its ratio to /health/live in the same
# run), p50, p99 and errors, the summary report against the same SQL run by sqlite3/psql, and
# the server's peak RSS.
#
#   bench/run.sh sqlite|postgres EVENTS ATTENDEES
#
# BENCH_DURATION (seconds per endpoint, default 10), BENCH_CONNECTIONS (16), BENCH_ROUNDS (1: how
# many interleaved rounds; the table shows medians), BENCH_ONLY (a regular expression: run only
# /health/live and the endpoints it matches; the report parts are skipped).
#
# Needs Debian's wrk (and sqlite3 or psql). PostgreSQL: BENCH_POSTGRES_URL names a server whose
# user may create databases (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/store.sh
duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-16}
port=${BENCH_PORT:-18181}
bench_store run "${1:?sqlite or postgres}" "${2:?events}" "${3:?attendees}"
events=$2
attendees=$3

bench_serve target/release/adal "$port" "$out/server.log"
pid=$served
trap 'kill $pid 2>/dev/null || true' EXIT

base="http://127.0.0.1:$port"
token=$(bench_token "$port")
auth="Authorization: Bearer $token"
event=$(curl -sf -H "$auth" "$base/api/v1/events?limit=1" | python3 -c 'import sys,json;print(json.load(sys.stdin)["items"][0]["id"])')
q=$(python3 -c 'import urllib.parse;print(urllib.parse.quote("әділдік"))')

# name|path|extra wrk args
endpoints=(
  "health/live|/health/live|"
  "health/ready (one store round trip)|/health/ready|"
  "GET /events/{id}|/api/v1/events/$event|auth"
  "list with filters|/api/v1/events?from=2024-03-01&to=2024-03-31&kind=lecture&limit=50|auth"
  "Kazakh search|/api/v1/events?q=$q&limit=50|auth"
  "create|/api/v1/events|create"
  "reports/summary (2024)|/api/v1/reports/summary?from=2024-01-01&to=2024-12-31|auth"
  "reports/summary (March 2024)|/api/v1/reports/summary?from=2024-03-01&to=2024-03-31|auth"
  "reports/summary (2024, compare=previous_year)|/api/v1/reports/summary?from=2024-01-01&to=2024-12-31&compare=previous_year|auth"
  "reports/summary (2024, compare=previous_year, XLSX lang=ru)|/api/v1/reports/summary?from=2024-01-01&to=2024-12-31&compare=previous_year&format=xlsx&lang=ru|auth"
  "reports/departments (2024, compare=previous_year)|/api/v1/reports/departments?from=2024-01-01&to=2024-12-31&compare=previous_year|auth"
)
rounds=${BENCH_ROUNDS:-1}
echo "| endpoint | req/s | ratio to /health/live | p50 ms | p99 ms | errors |" > "$out/table.md"
echo "| --- | ---: | ---: | ---: | ---: | ---: |" >> "$out/table.md"
to_ms() { python3 -c 'import sys,re
v=sys.argv[1]; m=re.match(r"([0-9.]+)(us|ms|s)",v); n=float(m.group(1)); print(round(n/1000 if m.group(2)=="us" else n*1000 if m.group(2)=="s" else n,2))' "$1"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
selected=()
for entry in "${endpoints[@]}"; do
  IFS='|' read -r name path mode <<< "$entry"
  # BENCH_ONLY=events: only /health/live (the ratio's base) and the endpoints whose name matches.
  if [ -n "${BENCH_ONLY:-}" ] && [ "$name" != health/live ] && ! grep -qiE -- "$BENCH_ONLY" <<< "$name"; then continue; fi
  selected+=("$entry")
done
# With BENCH_ROUNDS=n every endpoint is measured n times, the rounds interleaved so that a noisy
# moment on the machine lands in one round of each; the table shows medians, and each ratio is
# the median of the ratios to /health/live within the same round.
for round in $(seq 1 "$rounds"); do
  health_rps=""
  for entry in "${selected[@]}"; do
    IFS='|' read -r name path mode <<< "$entry"
    key=$(echo "$name" | tr -c 'a-zA-Z0-9' '_')
    args=(-t2 -c"$connections" -d"${duration}s" --latency --timeout 10s)
    [ "$mode" = auth ] && args+=(-H "$auth")
    [ "$mode" = create ] && args+=(-H "$auth" -s bench/create.lua)
    report="$out/wrk-$key-round$round.txt"
    wrk "${args[@]}" "$base$path" > "$report"
    rps=$(awk '/Requests\/sec/ {print $2}' "$report")
    [ -z "$health_rps" ] && health_rps=$rps
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$report"); non2xx=${non2xx:-0}
    sock=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$report"); sock=${sock:-0}
    echo "$rps $(python3 -c "print($rps/$health_rps)") $(to_ms "$(awk '$1=="50%" {print $2}' "$report")") $(to_ms "$(awk '$1=="99%" {print $2}' "$report")") $((non2xx + sock))" >> "$out/$key.rounds"
  done
done
for entry in "${selected[@]}"; do
  IFS='|' read -r name path mode <<< "$entry"
  f="$out/$(echo "$name" | tr -c 'a-zA-Z0-9' '_').rounds"
  rps=$(awk '{print $1}' "$f" | median)
  ratio=$(awk '{print $2}' "$f" | median)
  p50=$(awk '{print $3}' "$f" | median)
  p99=$(awk '{print $4}' "$f" | median)
  errors=$(awk '{s+=$5} END {print s}' "$f")
  echo "| $name | $rps | $(python3 -c "print(round($ratio, 3))") | $p50 | $p99 | $errors |" >> "$out/table.md"
done
echo >> "$out/table.md"
echo "- store: $store, $events events, $attendees attendees (filled in ${fill_seconds} s); wrk -t2 -c$connections -d${duration}s, $rounds round(s), medians" >> "$out/table.md"

if [ -n "${BENCH_ONLY:-}" ]; then
  echo "- server peak RSS: $(( $(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024 )) MB" >> "$out/table.md"
  cat "$out/table.md"
  exit 0
fi

# The summary's own time, one request at a time, against the same SQL run directly.
server_ms=$(for _ in $(seq 1 15); do curl -s -o /dev/null -w '%{time_total}\n' -H "$auth" "$base/api/v1/reports/summary?from=2024-01-01&to=2024-12-31"; done | awk '{print $1*1000}' | median)
raw_ms=$(for _ in $(seq 1 15); do
  s=$(date +%s%N)
  if [ "$store" = sqlite ]; then sqlite3 "$out/adal.db" < bench/summary.sql > /dev/null; else psql -q -o /dev/null "$url" -f bench/summary.sql; fi
  echo $(( ($(date +%s%N) - s) / 1000 ))
done | awk '{print $1/1000}' | median)
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
{
  echo "- summary (2024), one request at a time: server median ${server_ms} ms; the same SQL by $( [ "$store" = sqlite ] && echo sqlite3 || echo psql ) median ${raw_ms} ms (ratio $(python3 -c "print(round($server_ms/$raw_ms, 2))"))"
  echo "- server peak RSS: $((rss_kb / 1024)) MB"
} >> "$out/table.md"
cat "$out/table.md"
