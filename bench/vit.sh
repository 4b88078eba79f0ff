#!/bin/sh
# vit.sh: the C ViT (bin/vit-bench) against PyTorch (bench/vit_torch.py) on
# the same model, shapes and FLOP model: images/s of a SALT training step and
# of teacher inference for each configuration on one and two threads, the C
# side's GFLOP/s as a share of the pool's sgemm peak measured in the same run,
# and each side's peak RSS and cores kept busy. Every measurement is taken RUNS times (default 3),
# sgemm, C and PyTorch in turn, and the median kept; the share of the peak is
# the median of each C run's GFLOP/s over the sgemm peak measured just before
# it, so that a core slowed by the host for a while counts against both; the
# spread column is the C side's (max - min) / median, a gauge of the noise. Prints the
# table and writes it to bench/README.md, keeping the README's "## Notes"
# section (written by hand) as it is.
set -eu
cd "$(dirname "$0")/.."
py=/usr/bin/python3
runs=${RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: run CMD under /usr/bin/time; NAME.out its output, NAME.rss its peak RSS in KB,
# NAME.cores the cores it kept busy: (user + system time) / elapsed time
measure() {
	name=$1
	shift
	/usr/bin/time -f '%M %e %U %S' -o "$tmp/$name.time" "$@" >"$tmp/$name.out"
	awk '{ print $1 }' "$tmp/$name.time" >"$tmp/$name.rss"
	awk '{ printf "%.2f\n", ($3 + $4) / $2 }' "$tmp/$name.time" >"$tmp/$name.cores"
}
# value NAME KEY: the number after "KEY: " on NAME.out's last line carrying it
value() { sed -n "s|.*$2: \([0-9.]*\).*|\1|p" "$tmp/$1.out" | tail -1; }
# median: the median of the numbers on standard input, one a line
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# spread: (max - min) / median of the numbers on standard input, in %
spread() { sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.0f", 100 * (v[NR] - v[1]) / m }'; }

# steps: about 5 s a measurement on one thread
steps() {
	case $1-$2 in
	tiny-train) echo 60 ;; tiny-infer) echo 200 ;;
	small-train) echo 15 ;; small-infer) echo 30 ;;
	vit-t-train) echo 6 ;; vit-t-infer) echo 8 ;;
	esac
}

{
	printf '| config | mode | threads | C img/s | PyTorch img/s | C / PyTorch | C GFLOP/s | %% of sgemm peak'
	printf ' | PyTorch GFLOP/s | C RSS MB | PyTorch RSS MB | C cores | PyTorch cores | C spread %% |\n'
	printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
	for config in tiny small vit-t; do
		for mode in train infer; do
			for j in 1 2; do
				n=$(steps $config $mode)
				rm -f "$tmp"/cell.*
				for r in $(seq $runs); do
					measure p bin/vit-bench --mode sgemm --threads $j --steps 40
					measure c bin/vit-bench --config $config --mode $mode --threads $j --steps "$n"
					if [ $j -gt 1 ]; then
						measure t env OMP_WAIT_POLICY=passive $py bench/vit_torch.py --config $config \
							--mode $mode --threads $j --steps "$n"
					else
						measure t $py bench/vit_torch.py --config $config --mode $mode --threads $j --steps "$n"
					fi
					value c img/s >>"$tmp/cell.ci"
					value t img/s >>"$tmp/cell.ti"
					value c GFLOP/s >>"$tmp/cell.cg"
					value p GFLOP/s >>"$tmp/sgemm$j"
					echo "$(value c GFLOP/s) $(value p GFLOP/s)" | awk '{ print 100 * $1 / $2 }' >>"$tmp/cell.pct"
					value t GFLOP/s >>"$tmp/cell.tg"
					cat "$tmp/c.rss" >>"$tmp/cell.cr"
					cat "$tmp/t.rss" >>"$tmp/cell.tr"
					cat "$tmp/c.cores" >>"$tmp/cell.cc"
					cat "$tmp/t.cores" >>"$tmp/cell.tc"
				done
				awk -v c=$config -v m=$mode -v j=$j -v ci="$(median <"$tmp/cell.ci")" \
					-v ti="$(median <"$tmp/cell.ti")" -v cg="$(median <"$tmp/cell.cg")" \
					-v tg="$(median <"$tmp/cell.tg")" -v pct="$(median <"$tmp/cell.pct")" \
					-v cr="$(median <"$tmp/cell.cr")" -v tr="$(median <"$tmp/cell.tr")" \
					-v cc="$(median <"$tmp/cell.cc")" -v tc="$(median <"$tmp/cell.tc")" \
					-v sp="$(spread <"$tmp/cell.ci")" 'BEGIN {
					printf "| %s | %s | %d | %.1f | %.1f | %.2f | %.1f | %.0f %% | %.1f | %.0f | %.0f | %.2f | %.2f | %d |\n",
						c, m, j, ci, ti, ci / ti, cg, pct, tg, cr / 1024, tr / 1024, cc, tc, sp
				}'
			done
		done
	done
} >"$tmp/table"
{
	echo "sgemm peak (1024 x 1024 x 1024 through the pool), median of all $(wc -l <"$tmp/sgemm1") measurements:" \
		"$(median <"$tmp/sgemm1") GFLOP/s on 1 thread ($(spread <"$tmp/sgemm1") % spread)," \
		"$(median <"$tmp/sgemm2") on 2 ($(spread <"$tmp/sgemm2") %)"
	echo
	cat "$tmp/table"
} >"$tmp/result"
cat "$tmp/result"
sed -n '/^## Notes/,$p' bench/README.md >"$tmp/notes"
{
	echo "# bench/vit.sh: the C ViT against PyTorch"
	echo
	echo "Written by \`make bench\` (bench/vit.sh); do not edit but for the Notes. Training is one SALT step (student encoder"
	echo "on the 25 % context tokens, predictor to the 75 % targets, Smooth-L1, backward, clipping, AdamW),"
	echo "inference the encoder on every token. GFLOP/s from the FLOP model of bench/vit-bench.c (matrix"
	echo "products, attention's two a head included; training as three forwards), each side's for the products"
	echo "it runs: the C predictor's last block computes only the target rows, its first block's qkv only the"
	echo "distinct rows (the context tokens and one mask token a grid position). RSS: peak, /usr/bin/time; cores:"
	echo "(user + system time) / elapsed time, the cores a side kept busy. PyTorch's OpenBLAS pool is pinned to the"
	echo "thread count (bench/vit_torch.py sets OPENBLAS_NUM_THREADS): unpinned, it used both cores on \"1 thread\"."
	echo "Each figure the median of $runs runs; % of sgemm peak: the median of each C run's GFLOP/s over the sgemm"
	echo "peak measured just before it; C spread: (max - min) / median of the C img/s."
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
		"$($py -c 'import torch; print("PyTorch", torch.__version__)')"
	echo
	cat "$tmp/result"
	if [ -s "$tmp/notes" ]; then
		echo
		cat "$tmp/notes"
	fi
} >bench/README.md
