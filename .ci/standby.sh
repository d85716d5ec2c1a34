#!/usr/bin/env bash
# A streaming standby of this machine's PostgreSQL, made with pg_basebackup -R, listening on
# 127.0.0.1:5433: the reports-replica tests read from it. Idempotent: a standby already answering
# is left as it is. Run as root (the standby's files belong to the postgres user).
set -euo pipefail
port=${ADAL_STANDBY_PORT:-5433}
if pg_isready -h 127.0.0.1 -p "$port" -q 2>/dev/null; then
  exit 0
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
bin=/usr/lib/postgresql/$version/bin
hba=/etc/postgresql/$version/main/pg_hba.conf
# Replication connections are their own kind in pg_hba.conf: `all` does not cover them.
if ! grep -qE '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
  echo "host replication all 127.0.0.1/32 trust" >>"$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
dir="${TMPDIR:-/tmp}/adal-ci-standby"
if [ -f "$dir/postmaster.pid" ]; then
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir" stop -m immediate || true
fi
rm -rf "$dir"
install -d -o postgres -g postgres -m 700 "$dir"
runuser -u postgres -- "$bin/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres -D "$dir" -R -X stream -c fast
# Debian keeps the configuration beside the cluster, not in its data directory: the copy gets its own.
cat >"$dir/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
hot_standby = on
max_connections = 100
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$dir/pg_hba.conf"
chown postgres:postgres "$dir/postgresql.conf" "$dir/pg_hba.conf"
runuser -u postgres -- "$bin/pg_ctl" -D "$dir" -l "$dir/standby.log" -w start
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p "$port" -q && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$port"
psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT pg_is_in_recovery()" | grep -qx t
