#!/bin/sh
# study-check.sh REPORT_DIR: fail unless every cell of the report's tables is
# filled (us-report leaves a missing result's mean as an empty CSV field;
# the mean column has no std by design) and the plots exist.
set -eu
dir=${1:?usage: study-check.sh REPORT_DIR}
for t in table2 fewshot robustness; do
	f=$dir/$t.csv
	[ -s "$f" ] || { echo "study-check: $f is missing or empty" >&2; exit 1; }
	awk -F, -v f="$f" 'NR == 1 { for (i = 1; i <= NF; i++) mean[i] = $i ~ / mean$/; next }
		{ for (i = 1; i <= NF; i++) if (mean[i] && $i == "") { printf "study-check: %s line %d: no result for %s\n", f, NR, $1 > "/dev/stderr"; bad = 1 } }
		END { exit bad }' "$f"
done
ls "$dir"/plots/*.png "$dir"/plots/*.svg >/dev/null 2>&1 || { echo "study-check: no plots in $dir/plots" >&2; exit 1; }
echo "study-check: every cell of $dir is filled"
