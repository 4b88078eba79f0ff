#!/bin/sh
# join.sh N OUT: OUT.shard-0 .. OUT.shard-(N-1) joined into OUT (a stream
# concatenation), atomically; the shards are removed once OUT is in place.
set -eu
n=$1 out=$2
for k in $(seq 0 $((n - 1))); do
	[ -f "$out.shard-$k" ] || { echo "join.sh: $out.shard-$k is missing: a shard failed" >&2; exit 1; }
done
for k in $(seq 0 $((n - 1))); do cat "$out.shard-$k"; done > "$out.joining"
mv "$out.joining" "$out"
for k in $(seq 0 $((n - 1))); do rm -f "$out.shard-$k"; done
