#!/bin/sh
# study-check.sh REPORT_DIR: fail unless every cell of the report's tables is
# filled (us-report leaves a missing result as an empty CSV field) and the plots exist.
set -eu
dir=${1:?usage: study-check.sh REPORT_DIR}
for t in table2 fewshot robustness; do
	f=$dir/$t.csv
	[ -s "$f" ] || { echo "study-check: $f is missing or empty" >&2; exit 1; }
	if grep -n ',,\|,$' "$f" >&2; then
		echo "study-check: $f has empty cells (above): a result is missing" >&2
		exit 1
	fi
done
ls "$dir"/plots/*.png "$dir"/plots/*.svg >/dev/null 2>&1 || { echo "study-check: no plots in $dir/plots" >&2; exit 1; }
echo "study-check: every cell of $dir is filled"
