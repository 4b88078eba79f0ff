#!/bin/sh
# deps.sh [--install]: check that the Debian 12 packages usjepa needs are present.
# Missing ones are installed when run as root with --install; otherwise the exact
# apt-get line is printed and the script fails.
set -u
PKGS="gcc make pkg-config libopenblas-dev libtiff-dev libmsgpack-dev libpng-dev
libjpeg62-turbo-dev libjansson-dev libcsv-dev bats bats-assert bats-support parallel
python3 python3-numpy python3-msgpack-numpy python3-pil python3-sklearn python3-torch time gnuplot-nox"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
line="apt-get install -y --no-install-recommends$missing"
if [ "${1:-}" = "--install" ] && [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >&2 && exit 0
	echo "deps: apt-get failed; run by hand: $line" >&2
	exit 1
fi
echo "deps: missing Debian packages:$missing" >&2
echo "deps: as root run:  $line   (or: sudo make deps)" >&2
exit 1
