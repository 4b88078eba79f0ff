#!/usr/bin/env bats
# us-report: a golden report from fixed results (tests/ref/report_results.py,
# whose numbers it also recomputes), plots that open, partial and bad input.
load helpers

results() {
	"$PY" "$ROOT/tests/ref/report_results.py" write .
}

@test "help to stdout; no -o, no results, an existing folder are usage errors (exit 2)" {
	run us-report --help
	assert_success
	assert_output --partial "usage: us-report"
	run us-report part1.usj
	assert_failure 2
	assert_output --partial "no output folder"
	run us-report -o out
	assert_failure 2
	results
	mkdir out
	run us-report -o out part1.usj
	assert_failure 2
	assert_output --partial "out exists"
	[ -z "$(ls -A out)" ]
}

@test "golden: report.md and the CSV tables equal the reviewed fixtures; their numbers recomputed agree" {
	results
	us-report -o out part1.usj part2.usj
	for f in report.md table2.csv fewshot.csv robustness.csv table2.tex fewshot.tex robustness.tex; do
		diff -u "$FIXTURES/report/$f" "out/$f"
	done
	"$PY" "$ROOT/tests/ref/report_results.py" check out
}

@test "plots: every PNG opens with PIL, every SVG parses as XML, one of each per task and kind" {
	results
	us-report -o out part1.usj part2.usj
	py "
import glob, xml.etree.ElementTree as ET
from PIL import Image
png, svg = sorted(glob.glob('out/plots/*.png')), sorted(glob.glob('out/plots/*.svg'))
names = ['fewshot-AUL', 'fewshot-Fatty_Liver', 'fewshot-POCUS', 'robustness-AUL', 'robustness-Fatty_Liver', 'robustness-POCUS']
assert [p[10:-4] for p in png] == names, png
assert [p[10:-4] for p in svg] == names, svg
for p in png:
    im = Image.open(p)
    im.verify()
    assert im.format == 'PNG' and im.size[0] >= 640
for p in svg:
    assert ET.parse(p).getroot().tag.endswith('svg')
"
}

@test "partial results: one model, one task, no clean set or only corrupted sets never crash" {
	results
	py "
import msgpack
objs = list(msgpack.Unpacker(open('part1.usj', 'rb'), raw=False, strict_map_key=False))
pk = msgpack.Packer(use_bin_type=True)
def write(name, recs):
    with open(name, 'wb') as f:
        f.write(pk.pack(objs[0]))
        for r in recs:
            f.write(pk.pack(r))
        f.write(pk.pack({'usjepa_end': len(recs)}))
recs = objs[1:-1]
write('one.usj', recs[:1])
write('corrupted.usj', [r for r in recs if r['eval'] != 'test'])
write('empty.usj', [])
"
	for f in one corrupted empty; do
		run us-report -o "out-$f" "$f.usj"
		assert_success
		[ -s "out-$f/report.md" ]
	done
	run cat out-corrupted/report.md
	assert_output --partial "no model has a result at 100 % on the clean test split"
	assert_output --partial "| – |"
}

@test "bad input (exit 3), leaving no folder: another kind, truncation, a missing field, a probe twice, F1 in percent" {
	results
	us-phantom --task breast -n 4 --size 32 --stream -o img.usj
	run us-report -o out img.usj
	assert_failure 3
	assert_output --partial "reads 'results' streams"
	head -c 500 part1.usj > cut.usj
	run us-report -o out cut.usj
	assert_failure 3
	run us-report -o out part1.usj part1.usj
	assert_failure 3
	assert_output --partial "repeats the probe"
	for bad in "del r['model']" "r['seed'] = 'x'" "r['macro_f1'] = 70.0" "r['fraction'] = 0.0"; do
		py "
import msgpack
objs = list(msgpack.Unpacker(open('part1.usj', 'rb'), raw=False, strict_map_key=False))
r = objs[1]
$bad
pk = msgpack.Packer(use_bin_type=True)
open('bad.usj', 'wb').write(b''.join(pk.pack(o) for o in objs))
"
		run us-report -o out bad.usj
		assert_failure 3
		assert_output --partial "bad.usj: record 1"
	done
	run us-report -o out missing.usj
	assert_failure 3
	[ ! -e out ]
	[ -z "$(ls -A | grep '^\.out')" ]
}

@test "robustness summary: a corruption that raises macro-F1 is told as a gain, not as the least loss" {
	results
	# blur-3: US-JEPA gains 1.8 points, URFM still loses 18.1; speckle-3 (AUL): both gain
	for part in part1 part2; do
		py "
import msgpack
objs = list(msgpack.Unpacker(open('$part.usj', 'rb'), raw=False, strict_map_key=False))
for r in objs[1:-1]:
    if r['eval'] == 'blur-3' and r['model'] == 'US-JEPA':
        r['macro_f1'] += 0.08
    if r['eval'] == 'speckle-3':
        r['macro_f1'] += 0.2
pk = msgpack.Packer(use_bin_type=True)
open('$part.usj', 'wb').write(b''.join(pk.pack(o) for o in objs))
"
	done
	us-report -o out part1.usj part2.usj
	run grep -F -- "- **" out/report.md
	assert_output --partial "**blur-3**: US-JEPA gains (1.8 over 3 tasks), URFM loses most (18.1 over 3 tasks)."
	assert_output --partial "**speckle-3**: US-JEPA gains most (16.8 over 1 task), URFM gains least (10.8 over 1 task)."
}
