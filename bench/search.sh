#!/usr/bin/env bash
# Search by index against the scan it replaced. Fills a store (bench-fill: about 1 % of events
# carry ӘДІЛДІК in their title), starts the release server and measures
# `GET /events?q=әділдік&limit=50` (the first page of the newest matches) with wrk beside
# /health/live, in rounds that alternate between the index and the scan it replaced:
#
# - SQLite: this build (FTS5 trigram table) against BENCH_BEFORE, a server built from before the
#   index (`git worktree add ../before 6415e64~1 && (cd ../before && cargo build --release)`),
#   both serving the same file, side by side;
# - PostgreSQL: this build with the trigram GIN index, then with it dropped (the plain LIKE the
#   server ran before; the index is put back at the end).
#
# Both answers must list the same events, or the script stops with an error.
#
#   bench/search.sh sqlite|postgres EVENTS ATTENDEES
#
# BENCH_ROUNDS (3), BENCH_DURATION (seconds of wrk, 5), BENCH_CONNECTIONS (16), BENCH_BEFORE
# (SQLite: the earlier server; required), BENCH_REUSE=1 (measure the store an earlier run of the
# same size left). Needs Debian's wrk, sqlite3 or psql, bc; PostgreSQL: BENCH_POSTGRES_URL as in
# bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/store.sh
rounds=${BENCH_ROUNDS:-3}
duration=${BENCH_DURATION:-5}
connections=${BENCH_CONNECTIONS:-16}
bench_store search "${1:?sqlite or postgres}" "${2:?events}" "${3:?attendees}"
events=$2
attendees=$3
case "$store" in
  sqlite) before_bin=${BENCH_BEFORE:?BENCH_BEFORE: a server built from before the index} ;;
  postgres) before_bin=target/release/adal ;;
esac

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# start NAME BINARY PORT: a server on the store, until it is ready.
start() {
  bench_serve "$2" "$3" "$out/server-$1.log"
  pids+=("$served")
}
# index on|off (PostgreSQL): the trigram index present or dropped.
index() {
  [ "$store" = postgres ] || return 0
  if [ "$1" = on ]; then
    psql -q "$url" -c "CREATE INDEX IF NOT EXISTS events_search_trgm ON events USING gin (search_text gin_trgm_ops)"
  else
    psql -q "$url" -c "DROP INDEX IF EXISTS events_search_trgm"
  fi
  psql -q "$url" -c "ANALYZE events"
}
after_port=18183
start after target/release/adal "$after_port"
before_port=$after_port
if [ "$store" = sqlite ]; then
  before_port=18184
  start before "$before_bin" "$before_port"
fi
trap 'kill "${pids[@]}" 2>/dev/null || true; index on > /dev/null 2>&1 || true' EXIT

token=$(bench_token "$after_port")
auth="Authorization: Bearer $token"
q=$(python3 -c 'import urllib.parse;print(urllib.parse.quote("әділдік"))')
path="/api/v1/events?q=$q&limit=50"
matches=$(echo "SELECT COUNT(*) FROM events WHERE deleted_at IS NULL AND search_text LIKE '%әділдік%';" | bench_sql)

ids() { curl -sf -H "$auth" "http://127.0.0.1:$1$path" | python3 -c 'import sys,json;print(" ".join(i["id"] for i in json.load(sys.stdin)["items"]))'; }
# measure LABEL PORT ROUND: /health/live, then the search, each for the duration.
measure() {
  wrk -t2 -c"$connections" -d"${duration}s" "http://127.0.0.1:$2/health/live" > "$out/wrk-live-$1-$3.txt"
  wrk -t2 -c"$connections" -d"${duration}s" --latency --timeout 10s -H "$auth" "http://127.0.0.1:$2$path" > "$out/wrk-search-$1-$3.txt"
  local live rps p50 errors
  live=$(awk '/Requests\/sec/ {print $2}' "$out/wrk-live-$1-$3.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk-search-$1-$3.txt")
  p50=$(awk '$1=="50%" {print $2}' "$out/wrk-search-$1-$3.txt")
  errors=$(awk '/Non-2xx|Socket errors/ {n++} END {print n+0}' "$out/wrk-search-$1-$3.txt")
  echo "$rps $live $p50 $errors" >> "$out/$1.rounds"
}

index on > /dev/null
after_ids=$(ids "$after_port")
for round in $(seq 1 "$rounds"); do
  index off > /dev/null
  [ "$round" = 1 ] && before_ids=$(ids "$before_port")
  measure before "$before_port" "$round"
  index on > /dev/null
  measure after "$after_port" "$round"
done
[ -n "$after_ids" ] && [ "$after_ids" = "$before_ids" ] || { echo "the index and the scan list different events" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
row() {
  local f="$out/$1.rounds"
  echo "| $2 | $(awk '{print $1}' "$f" | median) | $(awk '{print $1/$2}' "$f" | median | xargs printf '%.4f') | $(awk '{print $3}' "$f" | tr '\n' ' ') | $(awk '{s+=$4} END {print s}' "$f") |"
}
{
  echo "| search \`q=әділдік&limit=50\` | req/s (median) | ratio to /health/live | p50 per round | errors |"
  echo "| --- | ---: | ---: | --- | ---: |"
  row before "before the index (LIKE over every event)"
  row after "by the index"
  echo
  echo "- store: $store, $events events ($matches match, $(python3 -c "print(round(100*$matches/$events, 2))") %), $attendees attendees (filled in $fill_seconds s); wrk -t2 -c$connections -d${duration}s, $rounds interleaved round(s)"
  echo "- index / before, req/s: $(python3 -c "
b=sorted(float(l.split()[0]) for l in open('$out/before.rounds'))
a=sorted(float(l.split()[0]) for l in open('$out/after.rounds'))
m=lambda v: v[len(v)//2] if len(v)%2 else (v[len(v)//2-1]+v[len(v)//2])/2
print(round(m(a)/m(b), 1))")×; both list the same events"
} > "$out/table.md"
cat "$out/table.md"
