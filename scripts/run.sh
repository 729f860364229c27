#!/usr/bin/env bash
# Starts the service on its embedded defaults (local PostgreSQL, embedded Kafka) at http://127.0.0.1:5080.
#   scripts/run.sh                 the service
#   scripts/run.sh --simulate      the service plus the traffic generator against it (extra args go to simulate)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
pg_port="${ATTRIBUTION_PG_PORT:-55432}"
export ConnectionStrings__Postgres="${ConnectionStrings__Postgres:-Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=attribution}"
export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://127.0.0.1:5080}"
export Lakehouse__WarehousePath="${Lakehouse__WarehousePath:-$root/.data/warehouse}"
# What the endpoints acknowledged and Kafka has not taken (or, on the embedded broker, the consumer not applied) waits here.
export Ingest__SpoolPath="${Ingest__SpoolPath:-$root/.data/spool}"
# Changing actions (jobs, campaigns, config) need X-Admin-Key; a local run gets a fixed development key.
export Admin__ApiKey="${Admin__ApiKey:-dev-admin-key}"
echo "run: admin key for X-Admin-Key is '$Admin__ApiKey' (set Admin__ApiKey to choose your own)"
# Postbacks and batches must be signed (docs/SECURITY.md); a local run gets a fixed development ingest key, which
# `simulate` and api.http sign with.
export ATTRIBUTION_INGEST_KEY_ID="${ATTRIBUTION_INGEST_KEY_ID:-dev}"
export ATTRIBUTION_INGEST_SECRET="${ATTRIBUTION_INGEST_SECRET:-dev-ingest-secret}"
export "Ingest__Keys__${ATTRIBUTION_INGEST_KEY_ID}=${ATTRIBUTION_INGEST_SECRET}"
echo "run: ingest key '$ATTRIBUTION_INGEST_KEY_ID' with secret '$ATTRIBUTION_INGEST_SECRET' signs /api/v1/conversions and /api/v1/events (Attribution-Key-Id, Attribution-Signature)"
# /click follows a redirect only when it is signed with this key (or on its campaign's landing domains); the
# generator signs its clicks with it too. Rotate by putting a new key at __0 and the old one at __1.
export Tracking__ClickSigningKeys__0="${Tracking__ClickSigningKeys__0:-dev-click-signing-key}"
echo "run: click signing key is '$Tracking__ClickSigningKeys__0' (set Tracking__ClickSigningKeys__0 to choose your own; GET /api/v1/click-urls signs URLs with it)"
dotnet build "$root/Attribution.Api" -c Release -v q -nologo
api="$root/Attribution.Api/bin/Release/net10.0/Attribution.Api.dll"
# Its folder is the content root: appsettings.json (log format and levels, defaults) is read from there.
cd "$(dirname "$api")"
if [ "${1:-}" = "--simulate" ]; then
  shift
  dotnet "$api" &
  svc=$!
  trap 'kill $svc 2>/dev/null; wait $svc 2>/dev/null' EXIT INT TERM
  dotnet "$api" simulate --url "${ASPNETCORE_URLS%%;*}" "$@"
  wait $svc
else
  exec dotnet "$api"
fi
