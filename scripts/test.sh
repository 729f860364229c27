#!/usr/bin/env bash
# Same set-up as run.sh, then the whole test suite against the local PostgreSQL and the embedded Kafka cluster.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTRIBUTION_BROWSER_TESTS=1 "$root/scripts/setup.sh"
pg_port="${ATTRIBUTION_PG_PORT:-55432}"
export ATTRIBUTION_TEST_PG="${ATTRIBUTION_TEST_PG:-Host=127.0.0.1;Port=$pg_port;Username=postgres}"
if [ -f "$root/Attribution.Tests/js/package.json" ]; then
  (cd "$root/Attribution.Tests/js" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$root"
log="$(mktemp)"
set +e
dotnet test Attribution.sln -c Release --nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line with the totals of every test assembly.
# dotnet test ends each assembly with "Passed: N" / "Failed: N" lines (normal verbosity) or one
# "Passed!  - Failed: N, Passed: N, ..." line (minimal verbosity); read either.
counts=$(awk '
  /^[[:space:]]+Passed:[[:space:]]+[0-9]+[[:space:]]*$/ { p += $2 }
  /^[[:space:]]+Failed:[[:space:]]+[0-9]+[[:space:]]*$/ { f += $2 }
  /(Passed|Failed)!  - Failed:/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) } }
  END { print p + 0, f + 0 }' "$log")
passed=${counts% *}
failed=${counts#* }
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
