#!/bin/sh
# vit.sh: the C ViT (bin/vit-bench) against PyTorch (bench/vit_torch.py) on
# the same model, shapes and FLOP model: images/s of a SALT training step and
# of teacher inference for each configuration on one and two threads, the C
# side's GFLOP/s as a share of the pool's sgemm peak measured in the same run,
# and each side's peak RSS. Prints the table and writes it to bench/README.md.
set -eu
cd "$(dirname "$0")/.."
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: run CMD under /usr/bin/time; NAME.out its output, NAME.rss its peak RSS in KB
measure() {
	name=$1
	shift
	/usr/bin/time -f %M -o "$tmp/$name.rss" "$@" >"$tmp/$name.out"
}
# value NAME KEY: the number after "KEY: " on NAME.out's last line carrying it
value() { sed -n "s|.*$2: \([0-9.]*\).*|\1|p" "$tmp/$1.out" | tail -1; }

# steps: about 5 s a measurement on one thread
steps() {
	case $1-$2 in
	tiny-train) echo 60 ;; tiny-infer) echo 200 ;;
	small-train) echo 15 ;; small-infer) echo 30 ;;
	vit-t-train) echo 6 ;; vit-t-infer) echo 8 ;;
	esac
}

for j in 1 2; do
	measure sgemm$j bin/vit-bench --mode sgemm --threads $j --steps 100
done
{
	printf '| config | mode | threads | C img/s | PyTorch img/s | C / PyTorch | C GFLOP/s | %% of sgemm peak'
	printf ' | PyTorch GFLOP/s | C RSS MB | PyTorch RSS MB |\n'
	printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
	for config in tiny small vit-t; do
		for mode in train infer; do
			for j in 1 2; do
				n=$(steps $config $mode)
				measure c bin/vit-bench --config $config --mode $mode --threads $j --steps "$n"
				if [ $j -gt 1 ]; then
					measure t env OMP_WAIT_POLICY=passive $py bench/vit_torch.py --config $config --mode $mode \
						--threads $j --steps "$n"
				else
					measure t $py bench/vit_torch.py --config $config --mode $mode --threads $j --steps "$n"
				fi
				awk -v c=$config -v m=$mode -v j=$j -v ci="$(value c img/s)" -v ti="$(value t img/s)" \
					-v cg="$(value c GFLOP/s)" -v tg="$(value t GFLOP/s)" -v peak="$(value sgemm$j GFLOP/s)" \
					-v cr="$(cat "$tmp/c.rss")" -v tr="$(cat "$tmp/t.rss")" 'BEGIN {
					printf "| %s | %s | %d | %.1f | %.1f | %.2f | %.1f | %.0f %% | %.1f | %.0f | %.0f |\n",
						c, m, j, ci, ti, ci / ti, cg, 100 * cg / peak, tg, cr / 1024, tr / 1024
				}'
			done
		done
	done
} >"$tmp/table"
{
	echo "sgemm peak (1024 x 1024 x 1024 through the pool): $(value sgemm1 GFLOP/s) GFLOP/s on 1 thread," \
		"$(value sgemm2 GFLOP/s) on 2"
	echo
	cat "$tmp/table"
} >"$tmp/result"
cat "$tmp/result"
{
	echo "# bench/vit.sh: the C ViT against PyTorch"
	echo
	echo "Written by \`make bench\` (bench/vit.sh); do not edit. Training is one SALT step (student encoder"
	echo "on the 25 % context tokens, predictor to the 75 % targets, Smooth-L1, backward, clipping, AdamW),"
	echo "inference the encoder on every token. GFLOP/s from the FLOP model of bench/vit-bench.c (matrix"
	echo "products, attention's two a head included; training as three forwards). RSS: peak, /usr/bin/time."
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
		"$($py -c 'import torch; print("PyTorch", torch.__version__)')"
	echo
	cat "$tmp/result"
} >bench/README.md
