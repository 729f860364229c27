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
# The suite runs twice: tests ordered by name, then by name reversed (Attribution.Tests/Fixtures/TestOrder.cs). A test
# that passes only when another runs before (or after) it fails one of the two passes.
dotnet build Attribution.sln -c Release --nologo -v quiet
status=0
summary=()
total_passed=0
total_failed=0
for order in forward reverse; do
  log="$(mktemp)"
  echo "== tests, $order order"
  set +e
  # Tests with the trait Pass=ForwardOnly (self-contained and minutes long, see TestOrder.cs) run in the forward pass.
  filter=()
  if [ "$order" = reverse ] && [ "$#" -eq 0 ]; then filter=(--filter "Pass!=ForwardOnly"); fi
  ATTRIBUTION_TEST_ORDER="$order" dotnet test Attribution.sln -c Release --no-build --nologo --logger "console;verbosity=normal" "${filter[@]}" "$@" 2>&1 | tee "$log"
  pass_status=${PIPESTATUS[0]}
  set -e
  [ "$pass_status" -eq 0 ] || status=$pass_status
  # One plain line per pass with the totals of every test assembly.
  # dotnet test ends each assembly with "Passed: N" / "Failed: N" lines (normal verbosity) or one
  # "Passed!  - Failed: N, Passed: N, ..." line (minimal verbosity); read either.
  counts=$(awk '
    /^[[:space:]]+Passed:[[:space:]]+[0-9]+[[:space:]]*$/ { p += $2 }
    /^[[:space:]]+Failed:[[:space:]]+[0-9]+[[:space:]]*$/ { f += $2 }
    /(Passed|Failed)!  - Failed:/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) } }
    END { print p + 0, f + 0 }' "$log")
  rm -f "$log"
  passed=${counts% *}
  failed=${counts#* }
  total_passed=$((total_passed + ${passed:-0}))
  total_failed=$((total_failed + ${failed:-0}))
  # A pass that ended badly without a failed test (a crash, a hang dump) says so.
  note=""
  [ "$pass_status" -eq 0 ] || note=", exit $pass_status"
  summary+=("$order: ${passed:-0} passed, ${failed:-0} failed$note")
done
echo "tests: $total_passed passed, $total_failed failed (${summary[0]}; ${summary[1]})"
exit "$status"
