#!/bin/sh
# phantom.sh [N]: us-phantom images/s at 128 x 128 on one and on two threads,
# writing a dataset folder (PNG images and masks, labels.csv) and a stream.
set -eu
cd "$(dirname "$0")/.."
n=${1:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for j in 1 2; do
	for mode in folder stream; do
		t0=$(date +%s.%N)
		if [ $mode = folder ]; then
			bin/us-phantom --task pretrain -n "$n" --size 128 --overlays 0.3 -j $j -o "$tmp/ds$j"
		else
			bin/us-phantom --task pretrain -n "$n" --size 128 --overlays 0.3 -j $j --stream -o "$tmp/s$j.usj"
		fi
		t1=$(date +%s.%N)
		awk -v j=$j -v m=$mode -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN {
			printf "us-phantom --task pretrain -j %d, %s: %.0f images/s at 128 x 128\n", j, m, n / (t1 - t0)
		}'
	done
done
