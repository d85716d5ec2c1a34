# Sourced by the benchmark scripts: a filled store and release servers on it.
#
#   bench_store NAME STORE EVENTS ATTENDEES   sets $out (bench/out/NAME-STORE-EVENTS), $url and
#                                             $fill_seconds; builds the release binaries and fills a
#                                             fresh store, or with BENCH_REUSE=1 keeps the one an
#                                             earlier run of the same name and size left
#                                             (BENCH_STORE_NAME: another script's, say `rollup`,
#                                             to measure the store it filled)
#   bench_serve BINARY PORT LOG               starts a server on $url and waits until it is ready;
#                                             answers its pid in $served (the caller kills it)
#   bench_sql                                 runs standard input on the store (sqlite3 or psql)
#
# PostgreSQL: BENCH_POSTGRES_URL names a server whose user may create databases (default
# postgres://postgres@127.0.0.1:5432/postgres).

bench_password="bench-admin-password-2024"

bench_store() {
  local name=${BENCH_STORE_NAME:-$1} events=$3 attendees=$4
  store=$2
  out=bench/out/$name-$store-$events
  local reuse=${BENCH_REUSE:-0}
  if [ "$reuse" = 1 ]; then
    [ -f "$out/fill-seconds" ] || { echo "BENCH_REUSE=1: no store left by an earlier run in $out" >&2; exit 1; }
    find "$out" -mindepth 1 -maxdepth 1 ! -name 'adal.db*' ! -name adal.keys ! -name fill-seconds -exec rm -rf {} +
  else
    rm -rf "$out" && mkdir -p "$out"
  fi
  cargo build --release --quiet --bin adal --example bench-fill
  case "$store" in
    sqlite) url="sqlite://$out/adal.db" ;;
    postgres)
      local server=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
      local db="adal_bench_${name}_$events"
      [ "$reuse" = 1 ] || psql -q "$server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
      url="${server%/*}/$db" ;;
    *) echo "store must be sqlite or postgres" >&2; exit 2 ;;
  esac
  if [ "$reuse" != 1 ]; then
    local started
    started=$(date +%s.%N)
    target/release/examples/bench-fill "$url" "$events" "$attendees" "$bench_password"
    printf "%.0f\n" "$(echo "$(date +%s.%N) - $started" | bc)" > "$out/fill-seconds"
  fi
  fill_seconds=$(cat "$out/fill-seconds")
}

bench_serve() {
  DATABASE_URL="$url" ADAL_BIND="127.0.0.1:$2" ADAL_JWT_SECRET="bench-secret-0123456789abcdef0123456789" \
    ADAL_IIN_KEY="bench-iin-key-0123456789abcdef0123456789" ADAL_KEY_FILE="$out/adal.keys" ADAL_LOG=warn \
    ADAL_WORKERS=2 ADAL_DB_POOL_SIZE=8 "$1" serve > "$3" 2>&1 &
  served=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/health/ready" > /dev/null && return; sleep 0.1; done
  echo "the server did not start: $3" >&2
  exit 1
}

bench_sql() {
  if [ "$store" = sqlite ]; then sqlite3 "$out/adal.db"; else psql -q -At -v ON_ERROR_STOP=1 "$url"; fi
}

# The admin's bearer token from the server on port $1.
bench_token() {
  curl -sf -d "grant_type=password&username=admin&password=$bench_password" "http://127.0.0.1:$1/api/v1/auth/token" |
    python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])'
}
