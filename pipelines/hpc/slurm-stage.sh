#!/bin/sh
# slurm-stage.sh [-n N] [SBATCH_OPTION...] -- OUT TOOL ARGS... : run a stage
# that takes --shard K/N as a Slurm array of N tasks (one shard each, with
# the task's CPUs as -j), and a job that joins the shards into OUT when every
# task has succeeded. The nodes must share the file system.
#
#   pipelines/hpc/slurm-stage.sh -n 32 --cpus-per-task=4 -- tok.usj us-teacher-encode -m t.usj --tokens img.usj
set -eu
here=$(cd "$(dirname "$0")" && pwd)
n=""
opts=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	case $1 in
	-n) n=$2; shift 2 ;;
	*) opts="$opts $1"; shift ;;
	esac
done
[ $# -gt 0 ] && shift
[ -n "$n" ] && [ $# -ge 2 ] || { echo "usage: slurm-stage.sh -n N [SBATCH_OPTION...] -- OUT TOOL ARGS..." >&2; exit 2; }
out=$1
shift
array=$(sbatch --parsable --array=0-$((n - 1)) $opts "$here/slurm-task.sh" "$n" "$out" "$@")
sbatch --parsable --dependency=afterok:"${array%%;*}" "$here/join.sh" "$n" "$out"
