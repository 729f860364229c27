#!/usr/bin/env bash
# Grafana reads Gold with a role that can read everything and change nothing.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="${GRAFANA_DB_PASSWORD:-grafana}" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'password';
GRANT pg_read_all_data TO grafana_reader;
SQL
