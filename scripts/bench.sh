#!/usr/bin/env bash
# Runs the benchmark (docs/BENCHMARKS.md) on this machine: the local PostgreSQL, the embedded Kafka, wrk for HTTP.
#   scripts/bench.sh                         the full run (1 M events, 10 M impressions, audience over 10 M impressions and 1 M users, 5 + 10-minute soak)
#   scripts/bench.sh --events 100000 --soak-warmup 0 --soak-minutes 1 --query-impressions 1000000    a quick one
# Extra arguments go to `Attribution.Api bench` (--help lists them). Measure on a quiet machine: the report
# prints the load average before and after.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq wrk >/dev/null
fi
pg_port="${ATTRIBUTION_PG_PORT:-55432}"
export ATTRIBUTION_BENCH_PG="${ATTRIBUTION_BENCH_PG:-Host=127.0.0.1;Port=$pg_port;Username=postgres}"
dotnet build "$root/Attribution.Api" -c Release -v q -nologo
cd "$root/Attribution.Api/bin/Release/net10.0"
exec dotnet Attribution.Api.dll bench "$@"
