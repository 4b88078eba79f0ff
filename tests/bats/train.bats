#!/usr/bin/env bats
# us-salt-train: the three objectives at smoke scale, cached against online
# targets, bit-exact resume after kill -9, SIGTERM, a NaN loss, bad input.
load helpers

images() {
	us-phantom --task pretrain -n 160 --size 32 --stream -o img.usj
}

# falls LOG: the mean loss of the last 5 steps is below that of the first 5
falls() {
	py "
import json
l = [json.loads(x) for x in open('$1')]
s = [x['loss'] for x in l if 'loss' in x]
assert len(s) >= 20, len(s)
assert sum(s[-5:]) < 0.95 * sum(s[:5]), (s[:5], s[-5:])
h = [x['held_out'] for x in l if 'held_out' in x]
assert h and all(v == v for v in h), h
"
}

# same_tensors A B: every tensor of checkpoint A equals B's, bit for bit
same_tensors() {
	py "
import msgpack, msgpack_numpy as m, numpy as np
def t(p): return {o['name']: np.asarray(o['tensor']) for o in msgpack.Unpacker(open(p, 'rb'), object_hook=m.decode, raw=False) if 'name' in o}
a, b = t('$1'), t('$2')
assert a.keys() == b.keys() and len(a) > 20
bad = [k for k in a if not np.array_equal(a[k], b[k])]
assert not bad, bad[:5]
"
}

@test "help; usage errors name what is missing" {
	run us-salt-train --help
	assert_success
	assert_output --partial "usage: us-salt-train"
	run us-salt-train -o x.usj
	assert_failure 2
	assert_output --partial "no --objective"
	run us-salt-train --objective latent -o x.usj
	assert_failure 2
	assert_output --partial "needs one of --targets FILE and --teacher MODEL"
	run us-salt-train --objective pixels --targets t.usj -o x.usj
	assert_failure 2
	run us-salt-train --objective pixels --preset huge -o x.usj
	assert_failure 2
}

@test "every objective's loss falls at smoke scale; the selected model feeds us-teacher-encode" {
	images
	us-salt-train --objective pixels --preset smoke --steps 60 --lr 2e-3 -j 2 --log p.jsonl -o teacher.usj img.usj
	falls p.jsonl
	us-teacher-encode -m teacher.usj --tokens -b 1 -j 2 -o tok.usj img.usj
	us-salt-train --objective latent --targets tok.usj --preset smoke --steps 40 -j 2 --log l.jsonl -o student.usj img.usj
	falls l.jsonl
	us-salt-train --objective ema --preset smoke --steps 40 -j 2 --log e.jsonl -o ema.usj img.usj
	falls e.jsonl
	run us-teacher-encode -m student.usj --pool mean -o f.usj img.usj
	assert_success
	run us-inspect --json student.usj
	assert_output --partial '"kind":"checkpoint"'
	assert_output --partial '"objective":"latent"'
	assert_output --partial '"predictor":{"in_dim":64,"out_dim":64'
}

@test "cached targets and the same teacher online train the same model, bit for bit" {
	images
	us-salt-train --objective pixels --preset smoke --steps 10 -j 2 -o teacher.usj img.usj
	us-teacher-encode -m teacher.usj --tokens -b 1 -j 2 -o tok.usj img.usj
	us-salt-train --objective latent --targets tok.usj --preset smoke --steps 12 -j 2 -o a.usj img.usj
	us-salt-train --objective latent --teacher teacher.usj --preset smoke --steps 12 -j 2 -o b.usj img.usj
	same_tensors a.usj.state b.usj.state
}

@test "a run killed with -9 and resumed ends with the same bytes as an uninterrupted one" {
	images
	mkdir a b
	us-salt-train --objective ema --preset smoke --steps 150 --save-every 10 -j 2 -o a/m.usj img.usj
	us-salt-train --objective ema --preset smoke --steps 150 --save-every 10 -j 2 -o b/m.usj img.usj &
	pid=$!
	while [ ! -e b/m.usj.state ]; do sleep 0.05; done
	kill -9 $pid
	wait $pid || true
	run us-inspect --json b/m.usj.state
	assert_output --regexp '"step":[0-9]+'
	refute_output --partial '"step":150,'
	us-salt-train --resume -j 2 -o b/m.usj
	cmp a/m.usj.state b/m.usj.state
	cmp a/m.usj b/m.usj
}

@test "SIGTERM saves the state and exits 1; --resume finishes the run" {
	images
	us-salt-train --objective pixels --preset smoke --steps 400 --save-every 1000 -j 2 -o m.usj img.usj 2> err &
	pid=$!
	sleep 1
	kill -TERM $pid
	code=0
	wait $pid || code=$?
	[ "$code" -eq 1 ]
	grep -q "stopped by a signal" err
	[ -f m.usj.state ]
	run us-salt-train --resume -j 2 -o m.usj
	assert_success
	run us-inspect --json m.usj.state
	assert_output --partial '"step":400'
}

@test "a loss that turns NaN stops the run with exit 1 and keeps the last good state" {
	images
	us-salt-train --objective pixels --preset smoke --steps 4 -j 2 -o teacher.usj img.usj
	us-teacher-encode -m teacher.usj --tokens -o tok.usj img.usj
	# one image's cached tokens overflow: its steps' loss is not a number
	py "
import msgpack, msgpack_numpy as m, numpy as np
objs = list(msgpack.Unpacker(open('tok.usj', 'rb'), object_hook=m.decode, raw=False))
objs[100]['tokens'] = np.full_like(objs[100]['tokens'], 3e38)
pk = msgpack.Packer(default=m.encode, use_bin_type=True)
open('bad.usj', 'wb').write(b''.join(pk.pack(o) for o in objs))
"
	run us-salt-train --objective latent --targets bad.usj --preset smoke --steps 40 --save-every 1 -j 2 -o m.usj img.usj
	assert_failure 1
	assert_output --partial "the loss is"
	assert_output --partial "holds the last good state"
	run us-inspect --json m.usj.state
	assert_success
}

@test "targets that miss an image, images of a size the patch does not divide, a non-images stream: exit 3" {
	images
	us-salt-train --objective pixels --preset smoke --steps 4 -j 2 -o teacher.usj img.usj
	us-teacher-encode -m teacher.usj --tokens --shard 0/2 -o half.usj img.usj
	run us-salt-train --objective latent --targets half.usj --preset smoke --steps 4 -o x.usj img.usj
	assert_failure 3
	assert_output --partial "has no targets for image"
	us-phantom --task lung -n 20 --size 34 --stream -o odd.usj
	run us-salt-train --objective pixels --preset smoke --steps 4 -o x.usj odd.usj
	assert_failure 3
	assert_output --partial "not a multiple of the patch 4"
	run us-salt-train --objective pixels --preset smoke --steps 4 -o x.usj half.usj
	assert_failure 3
	assert_output --partial "'tokens' stream"
	[ ! -e x.usj ]
}

@test "--steps 0 writes the freshly initialised model, the random-init baseline" {
	images
	us-salt-train --objective ema --preset smoke --steps 0 -o r.usj img.usj
	run us-inspect --json r.usj
	assert_success
	assert_output --partial '"step":0'
	run us-teacher-encode -m r.usj --pool mean -o f.usj img.usj
	assert_success
}
