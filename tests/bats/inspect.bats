#!/usr/bin/env bats
# us-inspect: showing and validating streams.
load helpers

# py_stream FILE: a small stream written by the reference Python client.
py_stream() {
	py "
import msgpack, msgpack_numpy as m, numpy as np
p = msgpack.Packer(default=m.encode, use_bin_type=True)
with open('$1', 'wb') as f:
    f.write(p.pack({'usjepa': 1, 'kind': 'features', 'producer': {'tool': 'py', 'version': '0'}, 'meta': {'dim': 3}}))
    for i in range(4):
        f.write(p.pack({'id': 'r%d' % i, 'label': i % 2, 'class': 'ab'[i % 2], 'split': 'train' if i < 3 else 'test',
                        'feature': np.array([i, 2 * i, -1], np.float32)}))
    f.write(p.pack({'usjepa_end': 4}))
"
}

@test "help to stdout, unknown option is a usage error" {
	run us-inspect --help
	assert_success
	assert_output --partial "usage: us-inspect"
	run us-inspect --bogus
	assert_failure 2
}

@test "a whole stream is shown with counts and statistics" {
	py_stream f.usj
	run us-inspect f.usj
	assert_success
	assert_output --partial "kind: features"
	assert_output --partial "records: 4"
	assert_output --partial "labels: a 2, b 2"
	assert_output --partial "splits: train 3, test 1"
	assert_output --partial "<f4 [3]"
	assert_output --partial "ok: the stream is whole"
}

@test "reads standard input by default and with -" {
	py_stream f.usj
	run sh -c 'us-inspect < f.usj'
	assert_success
	run sh -c 'us-inspect - < f.usj'
	assert_success
	assert_output --partial "standard input"
}

@test "JSON lines: header, one line per field, summary" {
	py_stream f.usj
	run us-inspect --json f.usj
	assert_success
	py "
import json, sys
lines = [json.loads(l) for l in '''$output'''.splitlines()]
assert lines[0]['type'] == 'header' and lines[0]['meta'] == {'dim': 3}
f = [l for l in lines if l['type'] == 'field' and l['key'] == 'feature'][0]
assert f['min'] == -1 and f['max'] == 6, f
assert lines[-1]['type'] == 'summary' and lines[-1]['records'] == 4 and lines[-1]['ok']
"
}

@test "every truncation of a stream is detected, exit 3, naming the record" {
	py_stream f.usj
	size=$(stat -c %s f.usj)
	for n in 0 1 20 $((size / 2)) $((size - 5)) $((size - 1)); do
		head -c $n f.usj > cut.usj
		run us-inspect cut.usj
		assert_failure 3
		assert_output --partial "truncated stream"
	done
	head -c $((size - 5)) f.usj > cut.usj
	run us-inspect cut.usj
	assert_output --partial "after record 4"
}

@test "not a stream, and a missing file, are bad input" {
	echo hello > t.txt
	run us-inspect t.txt
	assert_failure 3
	assert_output --partial "not a usjepa stream"
	run us-inspect nothere.usj
	assert_failure 3
	assert_output --partial "nothere.usj"
}

@test "a write error on standard output is reported" {
	py_stream f.usj
	run sh -c 'us-inspect f.usj > /dev/full'
	assert_failure 1
	assert_output --partial "write error"
}
