#!/usr/bin/env bash
# The regional roll-up: fill a fresh store with a national department tree (BENCH_TREE, default
# 17x12x10: a country, its regions, their districts, their units), start the release server, and
# time the reports a national or regional akimat reads — the departments report by region (the
# country's children), by district (one region's children), one region's summary, the whole
# registry's summary for the year and for March 2024 — one request at a time and under wrk's load,
# against the same figures computed by SQL run by sqlite3/psql (for the whole registry, every
# figure the summary answers: by status with what was verified and flagged, by department led
# and partnered, by kind, audience, counted audience and month, and unique people). The API's
# numbers must equal the SQL's (events held, participants, unique people per row): the script
# stops with an error when they do not.
#
#   bench/rollup.sh sqlite|postgres EVENTS ATTENDEES
#
# BENCH_REQUESTS (sequential requests per report, default 21), BENCH_SQL_RUNS (5), BENCH_DURATION
# (seconds of wrk per report, 30), BENCH_CONNECTIONS (16), BENCH_TIMEOUT (wrk's, 60s: a roll-up
# over the whole registry takes seconds, and one queued behind 15 others more), BENCH_REGION
# (bench-r01), BENCH_TREE, BENCH_REUSE=1 (measure the store an earlier run of the same size left,
# without filling it again), BENCH_YEAR (the period, 2024: a year of the fill's 2015–2026, as an
# akimat reads its year). Needs Debian's wrk, sqlite3 or psql, bc; PostgreSQL: BENCH_POSTGRES_URL
# as in bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/store.sh
sql_runs=${BENCH_SQL_RUNS:-5}
requests=${BENCH_REQUESTS:-21}
duration=${BENCH_DURATION:-30}
connections=${BENCH_CONNECTIONS:-16}
timeout=${BENCH_TIMEOUT:-60s}
region_code=${BENCH_REGION:-bench-r01}
export BENCH_TREE=${BENCH_TREE:-17x12x10}
port=${BENCH_PORT:-18182}
year=${BENCH_YEAR:-2024}
from=$year-01-01
to=$year-12-31
# The period's UTC bounds in Asia/Almaty (UTC+6 until 2024-03-01, then UTC+5), as the server
# computes them.
offset() { if [ "$1" -le 2024 ]; then echo 18; else echo 19; fi; }
lo="'$((year - 1))-12-31 $(offset "$year"):00:00'"
hi="'$year-12-31 $(offset $((year + 1))):00:00'"
bench_store rollup "${1:?sqlite or postgres}" "${2:?events}" "${3:?attendees}"
events=$2
attendees=$3
sql() { bench_sql; }

bench_serve target/release/adal "$port" "$out/server.log"
pid=$served
trap 'kill $pid 2>/dev/null || true' EXIT

base="http://127.0.0.1:$port"
token=$(bench_token "$port")
auth="Authorization: Bearer $token"
country=$(echo "SELECT id FROM departments WHERE code = 'bench-country';" | sql)
region=$(echo "SELECT id FROM departments WHERE code = '$region_code';" | sql)
[ -n "$country" ] && [ -n "$region" ] || { echo "no bench-country or $region_code: was the store filled with BENCH_TREE?" >&2; exit 1; }

# The figures of each child of the department coded $1, written from the schema rather than
# copied from the server's SQL: held events its subtree led, their participants, unique people
# (distinct IIN hashes plus each attendee without one) across the subtree, and held events it
# partnered in without leading (from the period's held events: from the partnerships' side both
# stores visit every year's).
children_sql() {
  local held="e.deleted_at IS NULL AND e.status = 'held' AND e.starts_at >= $lo AND e.starts_at < $hi"
  local rows="FROM departments c JOIN department_tree t ON t.ancestor_id = c.id
 JOIN events e ON e.lead_department_id = t.department_id"
  local parent="c.parent_id = (SELECT id FROM departments WHERE code = '$1')"
  cat <<SQL
SELECT 'held', c.code, COUNT(*), COALESCE(SUM(e.attendance_total), 0) $rows
 WHERE $parent AND $held GROUP BY c.code;
SELECT 'people', c.code, COUNT(DISTINCT a.iin_hash) + COALESCE(SUM(CASE WHEN a.iin_hash IS NULL THEN 1 ELSE 0 END), 0)
 $rows JOIN attendees a ON a.event_id = e.id
 WHERE $parent AND $held GROUP BY c.code;
SELECT 'partnered', c.code, COUNT(DISTINCT e.id)
 FROM (SELECT DISTINCT e.id, e.lead_department_id FROM events e WHERE $held) e JOIN event_partners p ON p.event_id = e.id
 JOIN department_tree t ON t.department_id = p.department_id JOIN departments c ON c.id = t.ancestor_id
 WHERE $parent
 AND NOT EXISTS (SELECT 1 FROM department_tree l WHERE l.ancestor_id = c.id AND l.department_id = e.lead_department_id)
 GROUP BY c.code;
SQL
}
# The summary of the department coded $1 (the whole registry when $1 is empty) over the UTC bounds
# $2..$3: held events its subtree led or partnered in.
summary_sql() {
  local subtree="SELECT t.department_id FROM department_tree t JOIN departments r ON r.id = t.ancestor_id WHERE r.code = '$1'"
  local held="e.deleted_at IS NULL AND e.status = 'held' AND e.starts_at >= $2 AND e.starts_at < $3"
  [ -n "$1" ] && held="$held
 AND (e.lead_department_id IN ($subtree) OR EXISTS (SELECT 1 FROM event_partners p WHERE p.event_id = e.id AND p.department_id IN ($subtree)))"
  cat <<SQL
SELECT 'held', '$1', COUNT(*), COALESCE(SUM(e.attendance_total), 0) FROM events e WHERE $held;
SELECT 'people', '$1', COUNT(DISTINCT a.iin_hash) + COALESCE(SUM(CASE WHEN a.iin_hash IS NULL THEN 1 ELSE 0 END), 0)
 FROM attendees a JOIN events e ON e.id = a.event_id WHERE $held;
SQL
}
children_sql bench-country > "$out/regions.sql"
children_sql "$region_code" > "$out/districts.sql"
summary_sql "$region_code" "$lo" "$hi" > "$out/summary.sql"
# The rest of the whole registry's summary between the UTC bounds $1..$2, as plain statements one
# figure at a time (their rows are not compared: "figure" lines); with $3, a year, by its local
# months (Asia/Almaty: UTC+6 until 2024-03-01 00:00 local, then UTC+5), else as one month.
figures_sql() {
  python3 - "$store" "$@" <<'PY'
import sys
store, lo, hi, *year = sys.argv[1:]
months = []
if year:
    y = int(year[0])
    days = [31, 29 if y % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30]
    months = [f"'{y}-{m:02d}-{days[m - 1]} {18 if (y, m + 1) <= (2024, 3) else 19}:00:00'" for m in range(1, 12)]
held = f"e.deleted_at IS NULL AND e.starts_at >= {lo} AND e.starts_at < {hi} AND e.status = 'held'"
late = ("e.created_at > strftime('%Y-%m-%d %H:%M:%f', e.ends_at, '+30 days')" if store == "sqlite"
        else "e.created_at > e.ends_at + interval '30 days'")
flagged = (f"(e.planned_participants > 0 AND e.attendance_total > 2 * e.planned_participants)"
           f" OR e.attendance_basis = 'estimate' OR (e.status = 'held' AND e.evidence_count = 0) OR ({late})")
checked = ("SUM(CASE WHEN e.verification_status = 'verified' THEN 1 ELSE 0 END), "
           "SUM(CASE WHEN e.verification_status = 'verified' THEN e.attendance_total ELSE 0 END), "
           f"SUM(CASE WHEN {flagged} THEN 1 ELSE 0 END)")
month = "'m'"
if months:
    month = "CASE" + "".join(f" WHEN e.starts_at < {m} THEN {i}" for i, m in enumerate(months)) + f" ELSE {len(months)} END"
print(f"""SELECT 'figure', e.status, e.attendance_basis, COUNT(*), SUM(e.attendance_total), {checked} FROM events e
 WHERE e.deleted_at IS NULL AND e.starts_at >= {lo} AND e.starts_at < {hi} GROUP BY e.status, e.attendance_basis;
SELECT 'figure', e.lead_department_id, COUNT(*), SUM(e.attendance_total), {checked} FROM events e WHERE {held} GROUP BY e.lead_department_id;
SELECT 'figure', p.department_id, COUNT(*) FROM events e JOIN event_partners p ON p.event_id = e.id WHERE {held} GROUP BY p.department_id;
SELECT 'figure', e.kind, COUNT(*), SUM(e.attendance_total) FROM events e WHERE {held} GROUP BY e.kind;
SELECT 'figure', a.audience, COUNT(*) FROM events e JOIN event_audiences a ON a.event_id = e.id WHERE {held} GROUP BY a.audience;
SELECT 'figure', b.audience, COUNT(*), SUM(b.count) FROM events e JOIN event_breakdown b ON b.event_id = e.id WHERE {held} GROUP BY b.audience;
SELECT 'figure', {month}, COUNT(*), SUM(e.attendance_total) FROM events e WHERE {held} GROUP BY 2;""")
PY
}
{ summary_sql "" "$lo" "$hi"; figures_sql "$lo" "$hi" "$year"; } > "$out/registry.sql"
# March 2024, the month the fill always gives the same events whatever its size: a month's report,
# whose cost should not grow with the years around it.
{ summary_sql "" "'2024-02-29 18:00:00'" "'2024-03-31 19:00:00'"
  figures_sql "'2024-02-29 18:00:00'" "'2024-03-31 19:00:00'"; } > "$out/month.sql"

# name|path|the SQL that computes its figures|how its answer is read
reports=(
  "departments by region (17 rows)|/api/v1/reports/departments?from=$from&to=$to&parent_id=$country|regions|rows"
  "departments by district of $region_code (12 rows)|/api/v1/reports/departments?from=$from&to=$to&parent_id=$region|districts|rows"
  "summary of $region_code|/api/v1/reports/summary?from=$from&to=$to&department_id=$region|summary|summary"
  "summary of the whole registry|/api/v1/reports/summary?from=$from&to=$to|registry|summary"
  "summary of the whole registry, March 2024|/api/v1/reports/summary?from=2024-03-01&to=2024-03-31|month|summary"
)
to_ms() { python3 -c 'import sys,re
v=sys.argv[1]; m=re.match(r"([0-9.]+)(us|ms|s)",v); n=float(m.group(1)); print(round(n/1000 if m.group(2)=="us" else n*1000 if m.group(2)=="s" else n,2))' "$1"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p95() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.95+0.999); if (i>NR) i=NR; print a[i]}'; }

# Waits until the server and its database are idle: the requests wrk gives up on at the end of a
# run still run to their end in the server (and in PostgreSQL) and would slow what is measured next.
settle() {
  local before after busy
  for _ in $(seq 1 600); do
    before=$(awk '{print $14+$15}' /proc/$pid/stat); sleep 1; after=$(awk '{print $14+$15}' /proc/$pid/stat)
    busy=0
    [ "$store" = postgres ] && busy=$(echo "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid();" | sql)
    [ $((after - before)) -lt 5 ] && [ "$busy" = 0 ] && return
  done
}
settle
for entry in "${reports[@]}"; do
  IFS='|' read -r name path figures shape <<< "$entry"
  key=$figures
  # The answer against the SQL's figures, before anything is timed.
  curl -sf -H "$auth" "$base$path" > "$out/$key.json"
  sql < "$out/$figures.sql" > "$out/$figures.out"
  python3 - "$out/$key.json" "$out/$figures.out" "$shape" "$name" <<'PY'
import json, sys
answer, figures, shape, name = json.load(open(sys.argv[1])), open(sys.argv[2]).read().split(), sys.argv[3], sys.argv[4]
want = {}
for line in figures:
    kind, code, *n = line.split("|")
    if kind == "figure":
        continue
    keys = ("events_held", "participants_total", "unique_people") + (("events_partnered",) if shape == "rows" else ())
    row = want.setdefault(code, dict.fromkeys(keys, 0))
    if kind == "held":
        row["events_held"], row["participants_total"] = int(n[0]), int(n[1])
    elif kind == "partnered":
        row["events_partnered"] = int(n[0])
    else:
        row["unique_people"] = int(n[0])
if shape == "rows":
    keys = ("events_held", "participants_total", "unique_people", "events_partnered")
    got = {i["code"]: {k: i[k] for k in keys} for i in answer["items"]}
    # A child with no held event has no SQL row; the API shows it with zeros.
    for code, row in got.items():
        want.setdefault(code, dict.fromkeys(keys, 0))
else:
    (code,) = want
    got = {code: {k: answer[k] for k in ("events_held", "participants_total", "unique_people")}}
if got != want:
    for code in sorted(set(got) | set(want)):
        if got.get(code) != want.get(code):
            print(f"MISMATCH {name} {code}: API {got.get(code)} SQL {want.get(code)}", file=sys.stderr)
    sys.exit(1)
print(f"{name}: {len(got)} row(s) equal the SQL's", file=sys.stderr)
PY
  # One request at a time.
  times=$(for _ in $(seq 1 "$requests"); do curl -sf -o /dev/null -w '%{time_total}\n' -H "$auth" "$base$path"; done | awk '{print $1*1000}')
  api_ms=$(echo "$times" | median)
  api_p95=$(echo "$times" | p95)
  # The same figures by the database's own client (each run starts it and, for psql, connects).
  raw_ms=$(for _ in $(seq 1 "$sql_runs"); do
    s=$(date +%s%N); sql < "$out/$figures.sql" > /dev/null; echo $(( ($(date +%s%N) - s) / 1000 ))
  done | awk '{print $1/1000}' | median)
  echo "$api_ms $api_p95 $raw_ms" > "$out/$key.alone"
done
echo "| report | one at a time: median ms | p95 ms | same figures by $( [ "$store" = sqlite ] && echo sqlite3 || echo psql ): median ms | ratio API / SQL | under load: answered | req/s | p50 ms | p99 ms | errors |" > "$out/table.md"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" >> "$out/table.md"
# Under load, after every report has been timed alone.
for entry in "${reports[@]}"; do
  IFS='|' read -r name path figures shape <<< "$entry"
  key=$figures
  read -r api_ms api_p95 raw_ms < "$out/$key.alone"
  report="$out/wrk-$key.txt"
  wrk -t2 -c"$connections" -d"${duration}s" --latency --timeout "$timeout" -H "$auth" "$base$path" > "$report"
  # wrk counts only the requests answered within the run: with few, its percentiles say little.
  answered=$(awk '/requests in/ {print $1}' "$report")
  settle
  rps=$(awk '/Requests\/sec/ {print $2}' "$report")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$report"); non2xx=${non2xx:-0}
  sock=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$report"); sock=${sock:-0}
  p50=—; p99=—
  if [ "$answered" -gt 0 ]; then
    p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$report")")
    p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$report")")
  fi
  echo "| $name | $api_ms | $api_p95 | $raw_ms | $(python3 -c "print(round($api_ms/$raw_ms, 2))") | $answered | $rps | $p50 | $p99 | $((non2xx + sock)) |" >> "$out/table.md"
done
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
# A person who attends in several districts is one of the region's people, not one per district.
people=$(python3 - "$out/regions.json" "$out/districts.json" "$region_code" <<'PY'
import json, sys
regions, districts, code = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
region = next(i for i in regions["items"] if i["code"] == code)
added = sum(i["unique_people"] for i in districts["items"])
print(f"{code}: {region['unique_people']} unique people, against {added} for its districts added up")
PY
)
{
  echo
  echo "- store: $store, $events events, $attendees attendees, tree $BENCH_TREE (filled in ${fill_seconds} s); period $from..$to"
  echo "- one at a time: $requests requests; SQL: $sql_runs runs; load: wrk -t2 -c$connections -d${duration}s --timeout $timeout"
  echo "- the API's rows equal the SQL's: events held, participants, unique people (and, by region and by district, events partnered); $people"
  echo "- server peak RSS: $((rss_kb / 1024)) MB"
} >> "$out/table.md"
cat "$out/table.md"
