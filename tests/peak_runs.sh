#!/bin/bash
# tests/peak_runs.sh [SYNCS] [MAX_RUNS]: the peak memory of poni starting
# SYNCS (60) local syncs at once, each a small tree (20 files of 8 KiB in
# two directories), with max_runs MAX_RUNS (the default when not given).
#
# poni runs with --once: every sync makes its initial run, as at a
# daemon's start, without taking an inotify instance each (the machine's
# 128 are shared with whatever else runs). While the runs go, /proc is
# read every 20 ms: the
# RSS of poni and of all its descendants (rsyncs) summed, and how many
# there are. Prints one line:
#   max_runs M: peak N KiB summed RSS (poni alone P KiB), C processes at
#   once (R rsyncs), all synced in S s
# Summed RSS counts the pages rsyncs share (their binary, libc) once per
# process, as a kernel's OOM arithmetic and "ps" do. Exits 1 when the
# syncs do not all converge within 120 s.
# shellcheck disable=SC2317 # cleanup is called by the trap

SYNCS=${1:-60}
MAX=${2:-}
PONI=${PONI:-$(cd "$(dirname "$0")/.." && pwd)/poni}
W=$(mktemp -d "${TMPDIR:-/tmp}/poni-peak.XXXXXX") || exit 1
PID=
MON=

cleanup() {
	[ -n "$MON" ] && kill "$MON" 2>/dev/null
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$W"
}
trap cleanup EXIT

{
	[ -n "$MAX" ] && echo "max_runs: $MAX"
	echo "log: $W/poni.log"
	echo "sync:"
	mkdir -p "$W/tree/a" "$W/tree/b"
	for j in $(seq 10); do
		head -c 8192 /dev/urandom >"$W/tree/a/f$j"
		head -c 8192 /dev/urandom >"$W/tree/b/f$j"
	done
	for i in $(seq "$SYNCS"); do
		cp -a "$W/tree" "$W/s$i"
		echo "  $W/s$i/:"
		echo "    remote_path: $W/d$i"
		echo "    interval: 0"
		echo "    recurse: true"
	done
} >"$W/poni.yml"
chmod 600 "$W/poni.yml"

"$PONI" -c "$W/poni.yml" --once &
PID=$!
t0=${EPOCHREALTIME/./}

# The monitor: every 20 ms, poni's tree from /proc/*/stat (ppid, rss in
# pages); prints the peaks when it gets SIGTERM.
perl -e '
	use strict;
	my ($root, $page) = @ARGV;
	my ($peak, $procs, $rsyncs, $alone) = (0, 0, 0, 0);
	$SIG{TERM} = sub {
		printf "%d %d %d %d\n", $peak * $page / 1024, $procs, $rsyncs,
		    $alone * $page / 1024;
		exit 0;
	};
	while (1) {
		my (%ppid, %rss, %name);
		opendir(my $d, "/proc") or die;
		for my $p (grep { /^\d+$/ } readdir $d) {
			open(my $f, "<", "/proc/$p/stat") or next;
			my $s = <$f>;
			close $f;
			next unless defined $s && $s =~ /^\d+ \((.*)\) (\S) (\d+)/s;
			$name{$p} = $1;
			$ppid{$p} = $3;
			my @f = split / /, substr($s, rindex($s, ")") + 2);
			$rss{$p} = $f[21];
		}
		closedir $d;
		last unless exists $rss{$root};
		my ($sum, $n, $r) = (0, 0, 0);
		for my $p (keys %rss) {
			my $q = $p;
			$q = $ppid{$q} while $q && $q != $root && exists $ppid{$q};
			next unless $q == $root;
			$sum += $rss{$p};
			$n++;
			$r++ if $name{$p} eq "rsync";
		}
		if ($sum > $peak) {
			($peak, $procs, $rsyncs) = ($sum, $n, $r);
		}
		$alone = $rss{$root} if $rss{$root} > $alone;
		select(undef, undef, undef, 0.02);
	}
	sleep;
' "$PID" "$(getconf PAGESIZE)" >"$W/peak" &
MON=$!

synced() {
	local i
	for i in $(seq "$SYNCS"); do
		diff -r "$W/s$i" "$W/d$i" >/dev/null 2>&1 || return 1
	done
}

(read -r -t 120 _ <> <(:); kill -TERM "$PID") 2>/dev/null &
limit=$!
wait "$PID"
st=$?
PID=
d=$((${EPOCHREALTIME/./} - t0))
kill "$limit" 2>/dev/null
kill -TERM "$MON"
wait "$MON"
MON=
if [ "$st" != 0 ] || ! synced; then
	echo "poni --once exited $st; not all $SYNCS syncs synced (within 120 s)"
	tail -n 5 "$W/poni.log"
	exit 1
fi
read -r kib procs rsyncs alone <"$W/peak"
echo "max_runs ${MAX:-default}: peak $kib KiB summed RSS (poni alone $alone KiB)," \
	"$procs processes at once ($rsyncs rsyncs), all synced in" \
	"$((d / 1000000)).$((d % 1000000 / 100000)) s"
