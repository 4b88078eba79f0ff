#!/bin/sh
# run.sh: run the C unit tests ($USJ_UNITS) and the bats suites with TAP
# output, count results, and end with exactly "N passed, M failed".
# Exits non-zero when a test fails or when no test ran.
set -u
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in $USJ_UNITS; do
	echo "# unit: $t"
	"$t" 2>&1 || echo "not ok - $t exited with status $?"
done | tee -a "$log"
if ls tests/bats/*.bats >/dev/null 2>&1; then
	jobs=$(nproc 2>/dev/null || echo 1)
	PATH="$USJ_BIN:$PATH" bats --formatter tap ${BATS_JOBS:+--jobs $BATS_JOBS} tests/bats 2>&1 | tee -a "$log"
fi
skipped=$(grep -cE '^ok .*# (skip|SKIP)' "$log")
passed=$(grep -E '^ok ' "$log" | grep -cvE '# (skip|SKIP)')
failed=$(grep -cE '^not ok' "$log")
[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
