#!/usr/bin/env bats
# us-probe: linear probes on features streams written from Python.
load helpers

# data MODE OUT [C D TRAIN VAL TEST SEED]: a features stream (tests/ref/probe_data.py)
data() {
	"$PY" "$ROOT/tests/ref/probe_data.py" "$2" "$1" "${@:3}"
}

# results FILE: one line per results record: seed fraction eval n macro_f1 accuracy train_n
results() {
	py "
import msgpack, msgpack_numpy as m
for o in msgpack.Unpacker(open('$1', 'rb'), object_hook=m.decode, raw=False):
    if 'macro_f1' in o:
        print(o['seed'], o['fraction'], o['eval'], o['n'], repr(o['macro_f1']), repr(o['accuracy']), o['train_n'])
"
}

# rewrite IN OUT CODE: records of IN through CODE (o is the record; drop it with o = None)
rewrite() {
	py "
import msgpack, msgpack_numpy as m
pk = msgpack.Packer(default=m.encode, use_bin_type=True)
n = 0
with open('$2', 'wb') as f:
    for o in msgpack.Unpacker(open('$1', 'rb'), object_hook=m.decode, raw=False):
        if 'usjepa_end' in o:
            o['usjepa_end'] = n
        elif 'usjepa' not in o:
            $3
            n += o is not None
        if o is not None:
            f.write(pk.pack(o))
"
}

@test "help to stdout; bad options are usage errors" {
	run us-probe --help
	assert_success
	assert_output --partial "usage: us-probe"
	run us-probe --fractions 0
	assert_failure 2
	run us-probe --fractions 5,x
	assert_failure 2
	run us-probe --eval nofile
	assert_failure 2
	run us-probe --eval test=a.usj
	assert_failure 2
	run us-probe --seeds 0
	assert_failure 2
}

@test "separable features: every probe reaches accuracy and macro-F1 1; the schema is the one us-report reads" {
	data separable f.usj 3 8 200 30 30 0
	us-probe -o r.usj f.usj
	run results r.usj
	assert_success
	[ "${#lines[@]}" -eq 5 ]
	for l in "${lines[@]}"; do [[ "$l" == *" test 90 1.0 1.0 600" ]]; done
	py "
import msgpack, msgpack_numpy as m, numpy as np
objs = list(msgpack.Unpacker(open('r.usj', 'rb'), object_hook=m.decode, raw=False))
assert objs[0]['kind'] == 'results' and objs[0]['meta']['features']['input']['dataset'] == 'synthetic'
keys = ['model', 'checkpoint', 'task', 'seed', 'fraction', 'eval', 'n', 'classes', 'macro_f1', 'accuracy',
        'balanced_accuracy', 'macro_auroc', 'per_class_f1', 'auroc', 'confusion', 'epochs', 'best_epoch', 'train_n']
for o in objs[1:-1]:
    assert list(o) == keys, list(o)
    assert (o['model'], o['checkpoint'], o['task']) == ('student-b', '0123456789abcdef', 'synthetic')
    assert o['classes'] == ['class0', 'class1', 'class2'] and type(o['fraction']) is float
    assert o['per_class_f1'].dtype == '<f8' and o['auroc'].shape == (3,) and o['confusion'].dtype == '<i8'
    assert (o['confusion'] == np.diag([30, 30, 30])).all() and o['macro_auroc'] == 1
    assert 1 <= o['best_epoch'] <= o['epochs'] <= 150
"
	us-probe --seeds 1 --model m --task t -o r2.usj f.usj
	run py "
import msgpack, msgpack_numpy as m
o = list(msgpack.Unpacker(open('r2.usj', 'rb'), object_hook=m.decode, raw=False))[1]
print(o['model'], o['task'])"
	assert_output "m t"
}

@test "shuffled labels: macro-F1 stays near chance (1/C)" {
	data random f.usj 3 8 200 30 100 1
	us-probe --patience 5 -o r.usj f.usj
	py "
import msgpack, msgpack_numpy as m, numpy as np
f1 = [o['macro_f1'] for o in msgpack.Unpacker(open('r.usj', 'rb'), object_hook=m.decode, raw=False) if 'macro_f1' in o]
assert len(f1) == 5 and all(0.15 < v < 0.5 for v in f1), f1
assert 0.25 < np.mean(f1) < 0.42, f1
"
}

@test "the same input and seeds give the same bytes, for any -j" {
	data separable f.usj 3 8 60 10 10 2
	us-probe --seeds 3 --fractions 10,100 -j 1 -o a.usj f.usj
	us-probe --seeds 3 --fractions 10,100 -j 2 -o b.usj f.usj
	us-probe --seeds 3 --fractions 10,100 -j 3 < f.usj > c.usj
	cmp a.usj b.usj
	cmp a.usj c.usj
}

@test "--fractions: stratified subsets of the training split, at least one a class; val and test whole" {
	data separable all.usj 3 8 200 30 30 3
	# training counts 200, 120 and 35 for the three classes
	rewrite all.usj f.usj "o = None if o['split'] == 'train' and int(o['id'].split('/')[2]) >= [200, 120, 35][o['label']] else o"
	us-probe --seeds 2 --fractions 1,5,10,50,100 -o r.usj f.usj
	run results r.usj
	assert_success
	[ "${#lines[@]}" -eq 10 ]
	# max(1, round(f n_c / 100)) a class: 2+1+1, 10+6+2, 20+12+4, 100+60+18, 355
	for s in 0 1; do
		assert_line --regexp "^$s 1.0 test 90 .* 4\$"
		assert_line --regexp "^$s 5.0 test 90 .* 18\$"
		assert_line --regexp "^$s 10.0 test 90 .* 36\$"
		assert_line --regexp "^$s 50.0 test 90 .* 178\$"
		assert_line --regexp "^$s 100.0 test 90 .* 355\$"
	done
}

@test "--eval judges the trained probes without retraining: the input itself as --eval scores as test" {
	data separable f.usj 3 8 60 10 10 4
	rewrite f.usj nosplit.usj "o.pop('split')"
	us-probe --seeds 2 --lr 3e-4 --eval same=f.usj --eval all=nosplit.usj -o r.usj f.usj
	py "
import msgpack, msgpack_numpy as m, numpy as np
objs = [o for o in msgpack.Unpacker(open('r.usj', 'rb'), object_hook=m.decode, raw=False) if 'macro_f1' in o]
assert [o['eval'] for o in objs] == ['test', 'same', 'all'] * 2
for t, s, a in zip(objs[0::3], objs[1::3], objs[2::3]):
    for k in t:
        if k != 'eval':
            assert np.array_equal(t[k], s[k], equal_nan=True) if hasattr(t[k], 'shape') else t[k] == s[k], k
    assert a['n'] == 240 and a['epochs'] == t['epochs'] and a['train_n'] == t['train_n']
"
}

# bad MESSAGE ARGS...: us-probe ARGS fails with exit 3 saying MESSAGE, and leaves no output
bad() {
	local msg=$1
	shift
	run us-probe -o r.usj "$@"
	assert_failure 3
	assert_output --partial "$msg"
	[ ! -e r.usj ]
}

@test "bad input is exit 3 naming the record: no feature, another width, a label out of range, no val split" {
	data separable f.usj 3 8 20 5 5 5
	rewrite f.usj a.usj "o.pop('feature') if o['id'] == 'val/class1/2' else None"
	bad 'record val/class1/2 has no "feature"' a.usj
	rewrite f.usj b.usj "o.update(feature=o['feature'][:5]) if o['id'] == 'test/class0/1' else None"
	bad "record test/class0/1: the feature has 5 values, not 8" b.usj
	rewrite f.usj c.usj "o.update(label=3) if o['id'] == 'train/class2/0' else None"
	bad "record train/class2/0: label 3 is outside the 3 classes" c.usj
	rewrite f.usj d.usj "o = None if o['split'] == 'val' else o"
	bad "no record of the val split" d.usj
	bad "b.usj: record test/class0/1" --eval x=b.usj f.usj
	rewrite f.usj e.usj "o.pop('label') if o['id'] == 'train/class0/0' else None"
	bad 'record train/class0/0 has no integer "label"' e.usj
	us-probe --seeds 1 -o img.usj f.usj
	bad "'results' stream" img.usj
}
