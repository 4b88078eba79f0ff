#!/usr/bin/env bats
# make study (pipelines/study.mk) at smoke scale: the stages fan out through
# GNU parallel, every cell of the report is filled, an interrupted study
# resumes without redoing what is made, a failed job stops it, and a real
# dataset mixed with the phantom corpus runs end to end.
load helpers

# study ARGS...: make study at smoke scale with results under ./r
study() {
	make -C "$ROOT" --no-print-directory study SCALE=smoke RESULTS="$BATS_TEST_TMPDIR/r" JOBS=2 "$@"
}

# jobs_ok LOG N: parallel's job log LOG lists N jobs, all exited 0
jobs_ok() {
	[ "$(tail -n +2 "$1" | wc -l)" -eq "$2" ] || { echo "$1: not $2 jobs"; cat "$1"; return 1; }
	tail -n +2 "$1" | awk -F'\t' '$7 != 0 { print "failed: " $0; bad = 1 } END { exit bad }'
}

@test "make study SCALE=smoke fans each stage out through GNU parallel and fills every cell" {
	run study
	assert_success
	assert_output --partial "== features: 160 jobs, 2 at a time"
	r=r/smoke
	run "$ROOT/scripts/study-check.sh" $r/report
	assert_success
	jobs_ok $r/logs/data.jobs 9
	jobs_ok $r/logs/corrupted.jobs 24
	jobs_ok $r/logs/models.jobs 3
	jobs_ok $r/logs/students.jobs 2
	jobs_ok $r/logs/features.jobs 160
	jobs_ok $r/logs/probes.jobs 40
	# the teacher's tokens are computed once, before either student
	[ $r/targets.usj -ot $r/models/student.usj ] && [ $r/targets.usj -ot $r/models/usrc.usj ]
	# a corrupted set's features are those of its test split only
	run us-inspect --json $r/features/student/breast-blur-2.usj
	assert_output --partial '"splits":"test"'
	py "
import msgpack, msgpack_numpy as m
def splits(f):
    return sorted(o['split'] for o in msgpack.Unpacker(open(f, 'rb'), object_hook=m.decode, raw=False) if 'feature' in o)
whole = splits('$r/features/student/breast.usj')
assert splits('$r/features/student/breast-blur-2.usj') == [s for s in whole if s == 'test'], 'not the test split'
"

	# interrupted: a probe and a feature file lost; only they are made again
	rm $r/probes/usrc-lung.usj $r/features/ijepa/thyroid-blur-2.usj
	# dated in the order they were made, so that make's timestamps tell what is old
	touch -d 2000-01-01 $r/data/*
	touch -d 2000-01-02 $r/models/*.usj
	touch -d 2000-01-03 $r/targets.usj
	touch -d 2000-01-04 $r/models/student.usj $r/models/usrc.usj
	touch -d 2000-01-05 $r/features/*/*.usj
	touch -d 2000-01-06 $r/probes/*.usj
	run study
	assert_success
	[ -s $r/probes/usrc-lung.usj ] && [ -s $r/features/ijepa/thyroid-blur-2.usj ]
	[ -s $r/probes/ijepa-thyroid.usj ] && [ $r/features/ijepa/thyroid-blur-2.usj -ot $r/probes/ijepa-thyroid.usj ]
	[ "$(date -r $r/probes/random-lung.usj +%Y)" = 2000 ]
	[ "$(date -r $r/models/student.usj +%Y)" = 2000 ]
	run "$ROOT/scripts/study-check.sh" $r/report
	assert_success

	# a job that fails stops the study, naming the file, and leaves no partial output
	head -c 3000 $r/data/lung.usj > cut && mv cut $r/data/lung.usj
	rm $r/features/student/lung.usj
	run study
	assert_failure
	assert_output --partial "lung.usj"
	[ ! -e $r/features/student/lung.usj ]
}

@test "make study DATA=DIR MIX=phantom pretrains on the dataset and as many phantom images" {
	# the fixture's 34 frames in 10 patients leave the default 70,10,20 no val split
	# FANOUT reaches parallel: here two local "nodes" (':'), as --sshloginfile names real ones
	run study DATA="$FIXTURES/pocus" MIX=phantom SPLIT=50,25,25 FANOUT="-S 1/:,1/: --workdir ."
	assert_success
	r=r/pocus+phantom-smoke
	run "$ROOT/scripts/study-check.sh" $r/report
	assert_success
	n=$(tail -n +2 "$FIXTURES/pocus/labels.csv" | wc -l)
	run us-inspect --json $r/data/pretrain.usj
	assert_output --partial "\"records\":$((2 * n)),\"streams\":2"
	jobs_ok $r/logs/probes.jobs 5
}

@test "make study refuses MIX without DATA, and an unknown MIX or SCALE" {
	run study MIX=phantom
	assert_failure
	assert_output --partial "MIX=phantom mixes the phantom corpus into DATA's pretraining: give DATA too"
	run study DATA="$FIXTURES/pocus" MIX=other
	assert_failure
	assert_output --partial "MIX can only be phantom, not 'other'"
	run make -C "$ROOT" --no-print-directory study SCALE=huge
	assert_failure
	assert_output --partial "SCALE must be smoke, mini or paper, not 'huge'"
}
