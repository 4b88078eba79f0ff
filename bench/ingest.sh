#!/bin/sh
# ingest.sh [DATASET]: us-ingest throughput against decode-only throughput
# of the same files, with one thread and with two. Default: ../shared/data/pocus.
set -eu
cd "$(dirname "$0")/.."
data=${1:-../shared/data/pocus}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for j in 1 2; do
	set -- $(build/rel/bench/decode_only -j $j "$data")
	n=$2 dec=$6
	t0=$(date +%s.%N)
	bin/us-ingest --size 224 -j $j -o "$out" "$data"
	t1=$(date +%s.%N)
	awk -v j=$j -v n="$n" -v dec="$dec" -v t0="$t0" -v t1="$t1" 'BEGIN {
		ing = n / (t1 - t0)
		printf "-j %d: decode only %.1f images/s, us-ingest --size 224 %.1f images/s, ratio %.2f\n", j, dec, ing, ing / dec
	}'
done
