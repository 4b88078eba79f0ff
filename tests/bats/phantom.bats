#!/usr/bin/env bats
# us-phantom: tasks, determinism, classes, groups and splits, per-class
# statistics that follow from the design, and difficulty for a linear model.
load helpers

@test "help goes to stdout; a missing or unknown task and a bad --mix are usage errors" {
	run us-phantom --help
	assert_success
	assert_output --partial "usage: us-phantom"
	run us-phantom --stream
	assert_failure 2
	assert_output --partial "no --task given"
	run us-phantom --task spleen --stream
	assert_failure 2
	assert_output --partial "unknown task 'spleen'"
	run us-phantom --task pretrain --mix heart=1 --stream
	assert_failure 2
	assert_output --partial "--mix wants FAMILY=WEIGHT"
	run us-phantom --task pretrain --mix cardiac=0 --stream
	assert_failure 2
}

@test "--task list names the eight tasks and the pretraining corpus with their classes" {
	run us-phantom --task list
	assert_success
	for t in liver-mass breast sites fatty-liver gallbladder ovary lung thyroid pretrain; do
		assert_output --partial "$t "
	done
	assert_output --partial "9 classes: bladder, heart-a4c, heart-plax"
	assert_output --partial "8 classes: simple-cyst, endometrioma, teratoma"
}

@test "the same seed gives identical bytes for any thread count; another seed differs" {
	us-phantom --task sites -n 40 --size 48 --seed 3 -j 1 --stream -o a.usj
	us-phantom --task sites -n 40 --size 48 --seed 3 -j 2 --stream -o b.usj
	us-phantom --task sites -n 40 --size 48 --seed 3 -j 5 --stream > c.usj
	cmp a.usj b.usj
	cmp a.usj c.usj
	us-phantom --task sites -n 40 --size 48 --seed 4 --stream -o d.usj
	! cmp -s a.usj d.usj
}

@test "classes are balanced over groups; groups share a label and never cross splits; splits are stratified" {
	us-phantom --task ovary -n 480 --per-group 3 --size 32 --stream -o o.usj
	run us-inspect --json o.usj
	assert_success
	assert_output --partial '"labels":{"simple-cyst":60,"endometrioma":60,"teratoma":60,"serous-cystadenoma":60,"mucinous-cystadenoma":60,"solid-tumour":60,"high-grade-mixed":60,"normal-ovary":60}'
	py "
import msgpack, msgpack_numpy as m, collections
recs = [o for o in msgpack.Unpacker(open('o.usj', 'rb'), object_hook=m.decode, raw=False) if 'image' in o]
groups = collections.defaultdict(set)
for r in recs:
    groups[r['group']].add((r['label'], r['split']))
assert len(groups) == 160 and all(len(v) == 1 for v in groups.values()), 'a group spans labels or splits'
per = collections.Counter((r['split'], r['label']) for r in recs)
for s, share in (('train', 0.7), ('val', 0.1), ('test', 0.2)):
    counts = [per[(s, c)] for c in range(8)]
    assert len(set(counts)) == 1, (s, counts)
    assert abs(sum(counts) / 480 - share) < 0.05, (s, sum(counts))
"
}

@test "the pretraining corpus follows --mix; by default about 75 % cardiac" {
	us-phantom --task pretrain -n 400 --per-group 1 --size 32 --stream -o p.usj
	py "
import msgpack, msgpack_numpy as m
recs = [o for o in msgpack.Unpacker(open('p.usj', 'rb'), object_hook=m.decode, raw=False) if 'image' in o]
cardiac = sum(r['class'] == 'cardiac' for r in recs) / len(recs)
assert 0.68 < cardiac < 0.82, cardiac
assert len({r['class'] for r in recs}) == 6, 'every family appears'
"
	us-phantom --task pretrain -n 60 --mix lung=1,breast=1 --size 32 --stream -o q.usj
	run us-inspect --json q.usj
	assert_success
	assert_output --regexp '"labels":\{"lung":[0-9]+,"breast":[0-9]+\}|"labels":\{"breast":[0-9]+,"lung":[0-9]+\}'
}

@test "images have a field of view: linear probes fill a rectangle, convex ones a fan with a black surround" {
	us-phantom --task sites -n 180 --per-group 1 --size 64 --stream -o s.usj
	py "
import msgpack, msgpack_numpy as m, numpy as np
recs = [o for o in msgpack.Unpacker(open('s.usj', 'rb'), object_hook=m.decode, raw=False) if 'image' in o]
fans = 0
for r in recs:
    img, reg = np.asarray(r['image']), np.asarray(r['region'])
    assert set(np.unique(reg)) <= {0, 1}
    assert (img[reg == 0] == 0).all(), 'outside the field of view is black'
    assert 0.2 < reg.mean() <= 1.0, reg.mean()
    fans += reg[0, 0] == 0 and reg[-1, 0] == 0 and reg[int(reg.shape[0] * 0.6), reg.shape[1] // 2] == 1
assert 40 < fans < 170, fans
"
}

@test "per-class statistics follow from the design (steatosis, stones, cysts, B-lines, shadowing)" {
	run "$PY" "$ROOT/tests/ref/phantom_stats.py" "$(command -v us-phantom)"
	echo "$output"
	assert_success
	refute_output --partial FAIL
}

@test "difficulty: a logistic regression on 16 x 16 raw pixels stays at or below 90 % macro-F1 on every task" {
	run "$PY" "$ROOT/tests/ref/phantom_difficulty.py" "$(command -v us-phantom)"
	echo "$output"
	assert_success
	[ "${#lines[@]}" -eq 8 ]
}

@test "a dataset folder: images, scan masks and labels.csv, read by us-ingest exactly as --stream writes them" {
	us-phantom --task lung -n 30 --size 64 --overlays 0.7 --seed 5 -o ds
	[ -f ds/labels.csv ]
	run head -2 ds/labels.csv
	assert_line --index 0 "path,label,group,scan_mask"
	assert_line --index 1 "images/000000.png,healthy,p000000,masks/scan/000000.png"
	[ "$(ls ds/images | wc -l)" -eq 30 ]
	[ "$(ls ds/masks/scan | wc -l)" -eq 30 ]
	us-ingest -j 1 --size 64 -o ingested.usj ds
	us-phantom --task lung -n 30 --size 64 --overlays 0.7 --seed 5 --stream -o direct.usj
	py "
import msgpack, msgpack_numpy as m, numpy as np
from PIL import Image
def recs(p):
    return {o['id']: o for o in msgpack.Unpacker(open(p, 'rb'), object_hook=m.decode, raw=False) if 'image' in o}
a, b = recs('ingested.usj'), recs('direct.usj')
assert a.keys() == b.keys() and len(a) == 30
for k in a:
    assert np.array_equal(a[k]['image'], b[k]['image']) and np.array_equal(a[k]['region'], b[k]['region']), k
    assert a[k]['class'] == b[k]['class'], k
modes = {Image.open('ds/' + k).mode for k in a}
assert modes == {'L', 'RGB'}, modes
mask = np.asarray(Image.open('ds/masks/scan/000000.png'))
assert set(np.unique(mask)) == {0, 255}
"
}

@test "--format tiff writes TIFF images that us-ingest reads; without --overlays every image is grey" {
	us-phantom --task thyroid -n 8 --size 48 --format tiff -o ds
	[ -f ds/images/000007.tif ]
	py "
from PIL import Image
import glob
assert {Image.open(f).mode for f in glob.glob('ds/images/*.tif')} == {'L'}
"
	run us-ingest --size 48 -o /dev/null ds
	assert_success
}

@test "an existing folder is refused untouched; an interrupted run leaves no folder behind" {
	mkdir ds
	touch ds/mine
	run us-phantom --task breast -n 4 -o ds
	assert_failure 2
	assert_output --partial "ds exists"
	[ -f ds/mine ]
	us-phantom --task breast -n 200000 --size 64 -j 2 -o big &
	pid=$!
	sleep 1
	kill -TERM $pid
	code=0
	wait $pid || code=$?
	[ "$code" -eq 143 ]
	[ ! -e big ]
	[ -z "$(ls -A | grep -v '^ds$')" ]
}

@test "a dataset folder needs -o; --format is png or tiff" {
	run us-phantom --task breast -n 4
	assert_failure 2
	assert_output --partial "needs -o DIR"
	run us-phantom --task breast --format jpeg -o x
	assert_failure 2
	[ ! -e x ]
}

@test "--split is for --stream and --mix for pretrain" {
	run us-phantom --task lung --split 1,1,1 -o x
	assert_failure 2
	assert_output --partial "--split is for --stream"
	run us-phantom --task lung --mix lung=1 --stream -o x
	assert_failure 2
	assert_output --partial "--mix is for --task pretrain"
	[ ! -e x ]
}
