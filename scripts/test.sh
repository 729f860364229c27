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
log="$(mktemp)"
set +e
dotnet test Attribution.sln -c Release --nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line with the totals of every test assembly.
passed=$(grep -Eo 'Passed: +[0-9]+,' "$log" | awk '{ s += $2 } END { print s + 0 }')
failed=$(grep -Eo 'Failed: +[0-9]+,' "$log" | awk '{ s += $2 } END { print s + 0 }')
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
