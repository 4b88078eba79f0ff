#!/bin/sh
# shard.sh [-S SSHLOGINS | --sshloginfile FILE] -n N OUT TOOL ARGS... : run a
# stage that takes --shard K/N (us-ingest, us-teacher-encode) as N shards
# with GNU parallel, on this machine or on the nodes parallel logs in to,
# then join the shards into OUT (a concatenation of streams is a stream).
# Each shard runs with -j 1; parallel runs as many at a time as each node
# has cores. The nodes must see the same paths (a shared file system).
#
#   pipelines/hpc/shard.sh -n 8 features.usj us-teacher-encode -m m.usj --pool mean images.usj
#   pipelines/hpc/shard.sh --sshloginfile nodes -n 64 tok.usj us-teacher-encode -m t.usj --tokens img.usj
set -eu
login=""
n=""
while [ $# -gt 0 ]; do
	case $1 in
	-S) login="-S $2"; shift 2 ;;
	--sshloginfile) login="--sshloginfile $2"; shift 2 ;;
	-n) n=$2; shift 2 ;;
	*) break ;;
	esac
done
[ -n "$n" ] && [ $# -ge 2 ] || { echo "usage: shard.sh [-S LOGINS | --sshloginfile FILE] -n N OUT TOOL ARGS..." >&2; exit 2; }
out=$1
shift
dir=$(dirname "$out")
tmp=$(mktemp -d "$dir/.shards.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# {} is the shard number; the shards' files are joined in order
seq 0 $((n - 1)) | parallel $login --halt now,fail=1 --workdir "$PWD" \
	"$(printf '%s ' "$@")" --shard {}/"$n" -j 1 -o "$tmp/{}.usj"
for k in $(seq 0 $((n - 1))); do cat "$tmp/$k.usj"; done > "$tmp/all"
mv "$tmp/all" "$out"
