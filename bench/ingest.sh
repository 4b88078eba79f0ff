#!/bin/sh
# ingest.sh [DATASET [ROUNDS]]: us-ingest throughput against decode-only
# throughput of the same files (decoded into the decoders' native samples),
# with one thread and with two. Both programs load the same manifest and run
# the same ordered thread pool, and both are timed the same way: wall time of
# the whole process. The machine is noisy (a shared VM), so the two alternate
# ROUNDS times (default 5) and the medians are compared.
# Default DATASET: ../shared/data/pocus.
set -eu
cd "$(dirname "$0")/.."
data=${1:-../shared/data/pocus}
rounds=${2:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# seconds COMMAND...: wall time of COMMAND, standard output discarded
seconds() {
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v t0="$t0" -v t1="$t1" 'BEGIN { print t1 - t0 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
set -- $(build/rel/bench/decode_only "$data")
n=$2
for j in 1 2; do
	dec='' ing=''
	for r in $(seq "$rounds"); do
		dec="$dec $(seconds build/rel/bench/decode_only -j $j "$data")"
		ing="$ing $(seconds bin/us-ingest --size 224 -j $j -o "$out" "$data")"
	done
	d=$(echo $dec | tr ' ' '\n' | median)
	i=$(echo $ing | tr ' ' '\n' | median)
	awk -v j=$j -v n="$n" -v d="$d" -v i="$i" -v r="$rounds" 'BEGIN {
		printf "-j %d: decode only %.1f images/s, us-ingest --size 224 %.1f images/s, ratio %.2f (medians of %d)\n",
		       j, n / d, n / i, d / i, r
	}'
done
