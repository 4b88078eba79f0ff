#!/usr/bin/env bats
# pipelines/hpc: a sharded stage fanned out with GNU parallel (over local
# "nodes") and as a Slurm array (through a stand-in sbatch), joined back to
# what one unsharded run writes.
load helpers

# same_records A B: the records of A and B, in any order, are the same
same_records() {
	py "
import msgpack, msgpack_numpy as m, numpy as np
def recs(p):
    return {o['id']: o for o in msgpack.Unpacker(open(p, 'rb'), object_hook=m.decode, raw=False) if 'id' in o}
a, b = recs('$1'), recs('$2')
assert a.keys() == b.keys() and len(a) > 10, (len(a), len(b))
for k in a:
    assert np.allclose(a[k]['feature'], b[k]['feature'], rtol=1e-5, atol=1e-6), k
"
}

setup_stage() {
	us-phantom --task lung -n 30 --size 32 --stream -o img.usj
	us-salt-train --objective ema --preset smoke --steps 0 -o m.usj img.usj
	us-teacher-encode -m m.usj --pool mean -j 1 -o whole.usj img.usj
}

@test "GNU parallel over several local nodes: the shards join to the unsharded stream" {
	setup_stage
	run "$ROOT/pipelines/hpc/shard.sh" -S 2/:,2/: -n 4 par.usj us-teacher-encode -m m.usj --pool mean img.usj
	assert_success
	run us-inspect --json par.usj
	assert_output --partial '"records":30,"streams":4'
	same_records whole.usj par.usj
	[ -z "$(ls -A | grep shards)" ]
}

@test "a Slurm array (a stand-in sbatch) runs one shard a task and joins them when all succeed" {
	setup_stage
	mkdir fake
	# the stand-in runs an array's tasks one after another, then a dependent job
	cat > fake/sbatch <<'SH'
#!/bin/sh
array=""
while [ $# -gt 0 ]; do
	case $1 in
	--array=*) array=${1#--array=} ;;
	--*) ;;
	*) break ;;
	esac
	shift
done
if [ -n "$array" ]; then
	for k in $(seq ${array%-*} ${array#*-}); do SLURM_ARRAY_TASK_ID=$k "$@" || exit 1; done
else
	"$@" || exit 1
fi
echo $$
SH
	chmod +x fake/sbatch
	PATH=$PWD/fake:$PATH run "$ROOT/pipelines/hpc/slurm-stage.sh" -n 3 --cpus-per-task=1 -- slurm.usj \
		us-teacher-encode -m m.usj --pool mean img.usj
	assert_success
	same_records whole.usj slurm.usj
	[ ! -e slurm.usj.shard-0 ]
	run "$ROOT/pipelines/hpc/join.sh" 3 nothing.usj
	assert_failure
	assert_output --partial "nothing.usj.shard-0 is missing"
}
