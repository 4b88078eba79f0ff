#!/bin/sh
# slurm-task.sh N OUT TOOL ARGS...: one task of a slurm-stage.sh array: shard
# SLURM_ARRAY_TASK_ID of N, with the task's CPUs as threads, into OUT.shard-K.
set -eu
n=$1 out=$2
shift 2
k=${SLURM_ARRAY_TASK_ID:?slurm-task.sh runs as a Slurm array task}
exec "$@" --shard "$k/$n" -j "${SLURM_CPUS_PER_TASK:-1}" -o "$out.shard-$k"
