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
