#!/bin/sh
# tests/demo.sh (make demo): poni mirrors demo/src to demo/dst on this
# machine, so you can watch it work. Needs rsync.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
if ! command -v rsync >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "== installing rsync, which poni runs"
		apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null
	fi
	command -v rsync >/dev/null || { echo "make demo needs rsync: apt-get install rsync" >&2; exit 1; }
fi

rm -rf demo
mkdir -p demo/src/docs
echo "hello from poni" > demo/src/hello.txt
echo "notes" > demo/src/docs/notes.txt
cat > demo/poni.yml <<CONF
# the demo's config: a local mirror, synced half a second after a change
sync:
  $top/demo/src/:
    remote_path: $top/demo/dst
    interval: 0.5
    recurse: true
    delete: true
CONF

echo "== demo/poni.yml:"; cat demo/poni.yml
./poni -t -c demo/poni.yml
echo "== starting poni; its log follows"
./poni -c demo/poni.yml &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM

# wait (bounded) until demo/dst matches demo/src
converge() {
	i=0
	while ! diff -r demo/src demo/dst >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "demo: demo/dst did not catch up" >&2; exit 1; }
		sleep 0.1
	done
	echo "== demo/dst matches demo/src:"; (cd demo/dst && find . -type f | sort)
}

converge
echo "== adding demo/src/new/deep/file.txt and removing hello.txt"
mkdir -p demo/src/new/deep && echo "new" > demo/src/new/deep/file.txt
rm demo/src/hello.txt
converge

if [ -t 0 ]; then
	echo "== poni keeps running: change files in $top/demo/src from another"
	echo "   terminal and watch demo/dst follow. Ctrl-C stops it."
	wait $pid
fi
