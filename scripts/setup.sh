#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks and starts the project-local PostgreSQL.
# Idempotent: a second run finds everything in place and reuses the running PostgreSQL.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${ATTRIBUTION_DATA:-$root/.data}"
pg_port="${ATTRIBUTION_PG_PORT:-55432}"

need=()
command -v dotnet >/dev/null || { echo "setup: the .NET SDK (dotnet) is required" >&2; exit 1; }
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
# HyperLogLog sketches for the audience cube's unique reach (migration 24 creates the extension).
[ -f /usr/share/postgresql/15/extension/hll.control ] || need+=(postgresql-15-hll)
command -v node >/dev/null || need+=(nodejs npm)
if [ "${ATTRIBUTION_BROWSER_TESTS:-0}" = 1 ]; then
  command -v chromium >/dev/null || need+=(chromium chromium-driver)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

pgbin=/usr/lib/postgresql/15/bin
mkdir -p "$data"
pgdata="$data/pg"
sock="$data/pg-sock"
if [ ! -f "$pgdata/PG_VERSION" ]; then
  mkdir -p "$pgdata" "$sock"
  chown -R postgres:postgres "$pgdata" "$sock"
  su postgres -s /bin/sh -c "$pgbin/initdb -D '$pgdata' -A trust -U postgres -E UTF8 >/dev/null"
  cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 512MB
synchronous_commit = on
fsync = on
max_wal_size = 4GB
CONF
fi
chown -R postgres:postgres "$pgdata" "$sock"
if "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
  echo "setup: PostgreSQL already running on 127.0.0.1:$pg_port, reusing it"
else
  su postgres -s /bin/sh -c "$pgbin/pg_ctl -D '$pgdata' -l '$pgdata/server.log' -w start" >/dev/null
  echo "setup: PostgreSQL started on 127.0.0.1:$pg_port (data in $pgdata)"
fi
