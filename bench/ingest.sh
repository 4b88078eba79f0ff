#!/bin/sh
# ingest.sh [DATASET [ROUNDS]]: us-ingest throughput against decode-only
# throughput of the same files (decoded into the decoders' native samples),
# with one thread and with two. Both programs load the same manifest and run
# the same ordered thread pool, and both are timed the same way, as whole
# processes: wall time, and CPU time (user + system, which other load on
# the machine disturbs less). They alternate ROUNDS times (default 5) and
# the medians are compared: one run of the same work can vary by 40 % on a
# shared machine. Default DATASET: ../shared/data/pocus.
set -eu
cd "$(dirname "$0")/.."
data=${1:-../shared/data/pocus}
rounds=${2:-5}
out=$(mktemp)
times=$(mktemp)
trap 'rm -f "$out" "$times"' EXIT
# timed COMMAND...: "wall cpu" seconds of COMMAND, standard output discarded
timed() {
	/usr/bin/time -f '%e %U %S' -o "$times" "$@" >/dev/null
	awk '{ print $1, $2 + $3 }' "$times"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
set -- $(build/rel/bench/decode_only "$data")
n=$2
for j in 1 2; do
	dec='' ing=''
	for r in $(seq "$rounds"); do
		dec="$dec$(timed build/rel/bench/decode_only -j $j "$data")
"
		ing="$ing$(timed bin/us-ingest --size 224 -j $j -o "$out" "$data")
"
	done
	dw=$(printf %s "$dec" | awk '{ print $1 }' | median) dc=$(printf %s "$dec" | awk '{ print $2 }' | median)
	iw=$(printf %s "$ing" | awk '{ print $1 }' | median) ic=$(printf %s "$ing" | awk '{ print $2 }' | median)
	awk -v j=$j -v n="$n" -v dw="$dw" -v dc="$dc" -v iw="$iw" -v ic="$ic" -v r="$rounds" 'BEGIN {
		printf "-j %d: decode only %.1f images/s, us-ingest --size 224 %.1f images/s, ratio %.2f; per CPU second %.1f and %.1f, ratio %.2f (medians of %d)\n",
		       j, n / dw, n / iw, dw / iw, n / dc, n / ic, dc / ic, r
	}'
done
