#!/usr/bin/env bats
# us-corrupt: the robustness protocol's formulas checked numerically through
# the tool (tests/ref/corrupt_ref.py), splits, determinism, bad input.
load helpers

ref() {
	"$PY" "$ROOT/tests/ref/corrupt_ref.py" "$@"
}

# protocol KIND: the test images through every severity, each output checked
protocol() {
	ref make img.usj
	for e in 1 2 3; do
		us-corrupt --kind "$1" --severity $e < img.usj > out.usj
		ref check "$1" $e img.usj out.usj
	done
}

@test "help to stdout; a missing or bad kind or severity is a usage error" {
	run us-corrupt --help
	assert_success
	assert_output --partial "usage: us-corrupt"
	run us-corrupt --severity 1
	assert_failure 2
	assert_output --partial "no --kind"
	run us-corrupt --kind blur
	assert_failure 2
	assert_output --partial "no --severity"
	run us-corrupt --kind fog --severity 1
	assert_failure 2
	run us-corrupt --kind blur --severity 4
	assert_failure 2
	run us-corrupt --kind blur --severity 1 --splits ,
	assert_failure 2
	run us-corrupt --kind blur --severity 1 a.usj b.usj
	assert_failure 2
}

@test "blur: a step edge becomes the sum of the protocol's Gaussian taps; only test records change" {
	protocol blur
}

@test "contrast: constant images stay constant; others move towards the median inside the region" {
	protocol contrast
}

@test "speckle: noise of std 0.35e, correlated as the kernel says, clipped at 0 as often as Phi(-1/0.35e)" {
	protocol speckle
}

@test "the same seed gives the same bytes for any -j; another seed other noise; --splits chooses, and knows the splits" {
	us-phantom --task breast -n 24 --size 32 --stream -o img.usj
	us-corrupt --kind speckle --severity 2 -j 1 -o a.usj img.usj
	us-corrupt --kind speckle --severity 2 -j 2 -o b.usj img.usj
	cmp a.usj b.usj
	us-corrupt --kind speckle --severity 2 --seed 1 -o c.usj img.usj
	! cmp -s a.usj c.usj
	us-corrupt --kind blur --severity 1 --splits train,val,test -o all.usj img.usj
	run us-inspect --json all.usj
	assert_output --partial '"corrupted":24,"unchanged":0'
	# a split no record is in: a warning, and the records pass unchanged
	us-phantom --task breast -n 24 --size 32 --stream --split 100,0,0 -o train.usj
	run us-corrupt --kind blur --severity 1 --splits val,test -o none.usj train.usj
	assert_success
	assert_output --partial "no record"
	py "
import msgpack
a = list(msgpack.Unpacker(open('train.usj', 'rb'), raw=False))
b = list(msgpack.Unpacker(open('none.usj', 'rb'), raw=False))
assert a[1:-1] == b[1:-1]
"
	# a name no record can have (a split is train, val or test) is a usage error, not a silent no-op
	for bad in nothing tests test, ,test; do
		run us-corrupt --kind blur --severity 1 --splits "$bad" -o x.usj img.usj
		assert_failure 2
		assert_output --partial "wants train, val or test"
	done
	[ ! -e x.usj ]
}

@test "bad input: another kind, a truncated stream, a test record without an image (exit 3)" {
	us-phantom --task breast -n 8 --size 32 --stream -o img.usj
	run us-corrupt --kind blur --severity 1 -o out.usj /dev/null
	assert_failure 3
	head -c 300 img.usj > cut.usj
	run us-corrupt --kind blur --severity 1 -o out.usj cut.usj
	assert_failure 3
	assert_output --partial "truncated"
	run us-corrupt --kind blur --severity 1 -o out.usj missing.usj
	assert_failure 3
	py "
import msgpack
pk = msgpack.Packer(use_bin_type=True)
with open('noimg.usj', 'wb') as f:
    f.write(pk.pack({'usjepa': 1, 'kind': 'images', 'producer': {'tool': 't', 'version': '1'}, 'meta': {}}))
    f.write(pk.pack({'id': 'a', 'split': 'test'}))
    f.write(pk.pack({'usjepa_end': 1}))
with open('feat.usj', 'wb') as f:
    f.write(pk.pack({'usjepa': 1, 'kind': 'features', 'producer': {'tool': 't', 'version': '1'}, 'meta': {}}))
    f.write(pk.pack({'usjepa_end': 0}))
"
	run us-corrupt --kind contrast --severity 1 -o out.usj noimg.usj
	assert_failure 3
	assert_output --partial "record a has no image"
	run us-corrupt --kind contrast --severity 1 -o out.usj feat.usj
	assert_failure 3
	assert_output --partial "reads 'images' streams"
	[ ! -e out.usj ]
}
