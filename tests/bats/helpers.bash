# helpers.bash: shared set-up for the bats suites. Tools come from $USJ_BIN
# (put first on PATH by tests/run.sh); each test gets a scratch folder.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
FIXTURES=$ROOT/tests/fixtures
SHARED=$(cd "$ROOT/.." && pwd)/shared
PY=/usr/bin/python3

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# need_shared: skip with a clear message when ../shared is absent (a user's clone).
need_shared() {
	[ -d "$SHARED/data/pocus" ] || skip "needs ../shared/data/pocus (the full POCUS set); CI always has it"
}

# py: run Debian's python3 with an inline script.
py() {
	"$PY" -c "$@"
}
