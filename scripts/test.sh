#!/usr/bin/env bash
# Same set-up as run.sh, then the whole test suite against the local PostgreSQL and the embedded Kafka cluster.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTRIBUTION_BROWSER_TESTS=1 "$root/scripts/setup.sh"
pg_port="${ATTRIBUTION_PG_PORT:-55432}"
export ATTRIBUTION_TEST_PG="${ATTRIBUTION_TEST_PG:-Host=127.0.0.1;Port=$pg_port;Username=postgres}"
if [ -f "$root/tests/js/package.json" ]; then
  (cd "$root/tests/js" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$root"
dotnet test Attribution.sln -c Release --nologo --logger "console;verbosity=normal" "$@"
