#!/bin/bash
# tests/bench.sh [N_DIRS]: benchmark poni against lsyncd on identical work.
#
# Both daemons mirror the same trees with the same rsync (-a, --delete),
# one at a time, interleaved (poni, lsyncd, poni, lsyncd ...), started as a
# user would start them: poni with interval: 0, lsyncd 2.x with
# settings { nodaemon = true } and sync { default.rsync, delay = 0 }. Over
# ssh both go to an OpenSSH sshd started here on 127.0.0.1 with throwaway
# keys (tests/lib.sh's start_sshd); lsyncd uses rsync's rsh option and no
# ssh master, as it has none of its own; poni runs its own. A bare rsync
# (locally, and through a warm ssh master) is timed as the reference.
#
# Measured, and printed as a table of medians with the ratio lsyncd/poni:
#   - latency of a new small file, local and over ssh: from its creation
#     to its arrival in the replica (an inotify watch on the replica's
#     directory, by a small C probe compiled here);
#   - rsync runs per new file (poni: its ": ok in" log lines; lsyncd: its
#     "Calling rsync" and "startup rsync" log lines);
#   - a burst of 5,000 new files: time until all arrived (then diff -r is
#     checked) and the rsync runs it took;
#   - on a tree of N_DIRS directories (100 top directories, a file in
#     every tenth directory): wall time from start to a synced state with
#     every watch placed, the daemon's own CPU time for it
#     (/proc/PID/schedstat), VmRSS and VmHWM, the latency of one new file
#     deep in the tree against the latency in a 10-file tree, and context
#     switches over 10 s idle;
#   - binary sizes (stripped), also of a static musl build when musl-gcc
#     is there (built in a copy of src/, and also run on the big tree for
#     start-up CPU and memory), against lsyncd plus its Lua library.
#
# N_DIRS defaults to 100000. BENCH_QUICK=1 takes fewer samples and a 3 s
# idle period (and N_DIRS 2000 unless given), for a fast check;
# BENCH_VERBOSE=1 also prints every sample. As root it installs what is
# missing (apt-get install lsyncd rsync openssh-server openssh-client)
# and raises fs.inotify.max_user_watches when N_DIRS needs it, restoring
# it at the end. The trees go to /dev/shm when it is a
# tmpfs, else to TMPDIR or /tmp; BENCH_DIR sets the place (two copies of
# the big tree: about 2 x 4 KiB x N_DIRS on a disk, less on tmpfs).
# Every process it started is stopped at the end, also on Ctrl-C. It
# takes about 1 minute with BENCH_QUICK=1, a few minutes in full.

TOP=$(cd "$(dirname "$0")/.." && pwd) || exit 1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$TOP/tests/lib.sh"
set -u

BENCH_T0=$(now_us)
QUICK=${BENCH_QUICK:-}
[ "$QUICK" = 0 ] && QUICK=
N=${1:-}
if [ -z "$N" ]; then
	if [ -n "$QUICK" ]; then N=2000; else N=100000; fi
fi
case $N in
'' | *[!0-9]*)
	echo "usage: tests/bench.sh [N_DIRS]   (BENCH_QUICK=1 for a fast check)" >&2
	exit 2
	;;
esac
if [ "$N" -lt 200 ]; then
	echo "bench: N_DIRS must be at least 200" >&2
	exit 2
fi

if [ -n "$QUICK" ]; then
	SAMPLES=6	# latency samples per daemon (and per tree)
	ROUNDS=2	# instances per daemon for the small-tree latencies
	BIG_ROUNDS=1	# instances per daemon on the big tree
	BURST_ROUNDS=1
	IDLE=3
else
	SAMPLES=20
	ROUNDS=4
	BIG_ROUNDS=3
	BURST_ROUNDS=3
	IDLE=10
fi
BURST=5000
QUIET=0.3	# a daemon is idle after this long without a new run

# --- tools -------------------------------------------------------------------

missing_tools() {
	local c
	for c in lsyncd rsync ssh ssh-keygen; do
		command -v "$c" >/dev/null || echo "$c"
	done
	[ -x "$SSHD" ] || echo sshd
}

if [ -n "$(missing_tools)" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "bench: installing $(missing_tools | tr '\n' ' ')" >&2
		apt-get install -y lsyncd rsync openssh-server openssh-client >/dev/null ||
			{ apt-get update >/dev/null; apt-get install -y lsyncd rsync \
				openssh-server openssh-client >/dev/null; }
	fi
	if [ -n "$(missing_tools)" ]; then
		echo "bench: missing: $(missing_tools | tr '\n' ' ')(as root: apt-get install" \
			"lsyncd rsync openssh-server openssh-client)" >&2
		exit 1
	fi
fi
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "bench: no C compiler ($CC) for the probe" >&2; exit 1; }
if [ ! -x "$PONI" ]; then
	make -C "$TOP" poni >/dev/null || { echo "bench: make failed" >&2; exit 1; }
fi

# --- workspace and cleanup -----------------------------------------------------

# The trees go to a tmpfs (/dev/shm) when there is one, so that the disk
# and what else runs on it (ext4's inode allocator is slow for a while
# after mass deletions) do not decide the numbers; BENCH_DIR overrides.
if [ -z "${BENCH_DIR:-}" ]; then
	BENCH_DIR=${TMPDIR:-/tmp}
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
		BENCH_DIR=/dev/shm
	fi
fi
W=$(mktemp -d "$BENCH_DIR/poni-bench.XXXXXX") || exit 1
case $W in *[[:space:]]*)
	echo "bench: BENCH_DIR must not hold spaces" >&2
	rm -rf "$W"
	exit 1
	;;
esac
T=$W/ssh	# start_sshd's workspace
TEST_NAME=bench
DPID='' DKIND='' DLOG='' DT0=0 NLOG=0 SEQ=0
MASTER_PID=
WATCHES_OLD=

bench_cleanup() {
	local st=$? pids
	trap - EXIT INT TERM
	stop_daemon
	if [ -n "$MASTER_PID" ]; then
		stop_pids TERM "$MASTER_PID"
		wait "$MASTER_PID" 2>/dev/null
	fi
	stop_sshd
	# Anything left with the workspace in its command line is ours.
	pids=$(mine "$W")
	# shellcheck disable=SC2086 # one pid a word
	[ -n "$pids" ] && stop_pids KILL $pids
	if [ -n "$WATCHES_OLD" ]; then
		echo "$WATCHES_OLD" >/proc/sys/fs/inotify/max_user_watches
	fi
	rm -rf "$W"
	exit "$st"
}
trap bench_cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	if [ -n "$DPID" ] && [ -s "$DLOG" ]; then
		echo "    --- last lines of the $DKIND log:" >&2
		tail -n 15 "$DLOG" | sed 's/^/    | /' >&2
	fi
	exit 1
}

# The binary as it is now (others may rebuild ./poni meanwhile).
cp "$PONI" "$W/poni" || die "cannot copy $PONI"
PONI_BIN=$W/poni

# nap SECONDS: sleep without starting a process.
mkfifo "$W/nap" || die "mkfifo"
exec {NAPFD}<>"$W/nap"
nap() {
	read -r -t "$1" -u "$NAPFD" _ || true
}

# wait_fast SECONDS CMD...: run CMD every 10 ms until it succeeds.
wait_fast() {
	local limit end
	limit=$(usec "$1")
	shift
	end=$(($(now_us) + limit))
	while :; do
		"$@" && return 0
		[ "$(now_us)" -ge "$end" ] && return 1
		nap 0.01
	done
}

# --- the probe: exact arrival times with inotify --------------------------------

cat >"$W/probe.c" <<'EOF'
/* probe lat SRC DST NAME TIMEOUT_MS [CMD...]: watch DST, create SRC/NAME,
 *   run CMD if given, print the microseconds until DST/NAME arrived with
 *   the same content (and, with CMD, until CMD exited).
 * probe burst SRC DST PREFIX COUNT TIMEOUT_MS: create COUNT files
 *   SRC/PREFIXnnnnn, print the microseconds until all arrived in DST and
 *   the microseconds it took to create them.
 * probe mk DIR PREFIX COUNT: create the files only. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int watch(const char *dir)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0 || inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		perror(dir);
		exit(2);
	}
	return fd;
}

static void make(const char *dir, const char *name)
{
	char p[4096];
	int fd;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%s\n", name) < 0 || close(fd) < 0) {
		perror(p);
		exit(2);
	}
}

static int arrived(const char *dir, const char *name)
{
	char p[4096], buf[512];
	size_t len = strlen(name);
	ssize_t n;
	int fd;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n == (ssize_t)len + 1 && memcmp(buf, name, len) == 0 && buf[len] == '\n';
}

/* Read the pending events; call fn for each name. Returns 1 on overflow. */
static int drain(int fd, void (*fn)(const char *, void *), void *arg)
{
	char buf[65536] __attribute__((aligned(8)));
	int ovf = 0;
	ssize_t n, i;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (i = 0; i < n;) {
			struct inotify_event *ev = (struct inotify_event *)(buf + i);
			if (ev->mask & IN_Q_OVERFLOW)
				ovf = 1;
			if (ev->len)
				fn(ev->name, arg);
			i += sizeof *ev + ev->len;
		}
	return ovf;
}

struct lat { const char *name; int hit; };

static void lat_ev(const char *name, void *arg)
{
	struct lat *l = arg;
	if (strcmp(name, l->name) == 0)
		l->hit = 1;
}

extern char **environ;

/* With a command: wait for it, print the microseconds since t0 after the
 * arrival time. */
static int reap(pid_t pid, long long t0)
{
	int st;
	if (pid <= 0)
		return 0;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "the command failed\n");
		return 1;
	}
	printf(" %lld", now_us() - t0);
	return 0;
}

static int lat(const char *src, const char *dst, const char *name, long timeout, char **cmd)
{
	struct lat l = { name, 0 };
	struct pollfd p;
	long long t0, t, end;
	int fd = watch(dst), r = 0;
	pid_t pid = 0;

	if (arrived(dst, name)) {
		fprintf(stderr, "%s/%s is already there\n", dst, name);
		return 2;
	}
	t0 = now_us();
	make(src, name);
	if (*cmd && posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ) != 0) {
		perror(cmd[0]);
		return 2;
	}
	end = t0 + timeout * 1000;
	for (;;) {
		p.fd = fd;
		p.events = POLLIN;
		t = now_us();
		poll(&p, 1, t < end ? (int)((end - t) / 1000) + 1 : 0);
		t = now_us();
		if ((drain(fd, lat_ev, &l) || l.hit) && arrived(dst, name)) {
			printf("%lld", t - t0);
			r = reap(pid, t0);
			printf("\n");
			return r;
		}
		l.hit = 0;
		if (t >= end) {
			if (arrived(dst, name)) {
				printf("%lld", now_us() - t0);
				r = reap(pid, t0);
				printf("\n");
				return r;
			}
			fprintf(stderr, "%s did not arrive in %s within %ld ms\n", name, dst, timeout);
			return 1;
		}
	}
}

struct burst { const char *prefix; size_t plen; long count, got; char *seen; };

static void burst_ev(const char *name, void *arg)
{
	struct burst *b = arg;
	char *end;
	long i;
	if (strncmp(name, b->prefix, b->plen) != 0 || !name[b->plen])
		return;
	i = strtol(name + b->plen, &end, 10);
	if (*end || i < 0 || i >= b->count || b->seen[i])
		return;
	b->seen[i] = 1;
	b->got++;
}

static void burst_scan(const char *dst, struct burst *b)
{
	DIR *d = opendir(dst);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)))
		burst_ev(e->d_name, b);
	closedir(d);
}

static void mk(const char *dir, const char *prefix, long count)
{
	char name[256];
	long i;
	for (i = 0; i < count; i++) {
		snprintf(name, sizeof name, "%s%05ld", prefix, i);
		make(dir, name);
	}
}

static int burst(const char *src, const char *dst, const char *prefix, long count, long timeout)
{
	struct burst b = { prefix, strlen(prefix), count, 0, calloc(count, 1) };
	struct pollfd p;
	long long t0, tc, t, end;
	int fd = watch(dst), r;

	t0 = now_us();
	mk(src, prefix, count);
	tc = now_us();
	end = t0 + timeout * 1000;
	for (;;) {
		p.fd = fd;
		p.events = POLLIN;
		r = poll(&p, 1, 200);
		t = now_us();
		if (drain(fd, burst_ev, &b) || r == 0)
			burst_scan(dst, &b);
		if (b.got == count) {
			printf("%lld %lld\n", t - t0, tc - t0);
			return 0;
		}
		if (t >= end) {
			fprintf(stderr, "%ld of %ld files arrived in %s within %ld ms\n",
			    b.got, count, dst, timeout);
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "lat") == 0)
		return lat(argv[2], argv[3], argv[4], atol(argv[5]), argv + 6);
	if (argc == 7 && strcmp(argv[1], "burst") == 0)
		return burst(argv[2], argv[3], argv[4], atol(argv[5]), atol(argv[6]));
	if (argc == 5 && strcmp(argv[1], "mk") == 0) {
		mk(argv[2], argv[3], atol(argv[4]));
		return 0;
	}
	fprintf(stderr, "usage: probe lat|burst|mk ...\n");
	return 2;
}
EOF
PROBE=$W/probe
"$CC" -O2 -o "$PROBE" "$W/probe.c" || die "cannot compile the probe"

# --- numbers -------------------------------------------------------------------

declare -A S	# S[key]: samples, space separated

add() {
	S[$1]="${S[$1]:-}$2 "
}

# med KEY: the median of the samples (empty if none).
med() {
	# shellcheck disable=SC2086 # the samples, one a word
	printf '%s\n' ${S[$1]:-} | sort -g | awk '
		{ a[NR] = $1 }
		END { if (NR == 0) exit; if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# sum KEY
sum() {
	# shellcheck disable=SC2086
	printf '%s\n' ${S[$1]:-} | awk '{ s += $1 } END { print s + 0 }'
}

# calc EXPR: awk arithmetic, printed with %.6g.
calc() {
	awk "BEGIN { printf \"%.6g\", $1 }"
}

# fmt PRINTF-FORMAT VALUE ["-" if empty]
fmt() {
	if [ -z "$2" ]; then echo "-"; else awk -v v="$2" "BEGIN { printf \"$1\", v }"; fi
}

# ratio A B: A/B as "12.3x", "-" when either is missing or B is 0.
ratio() {
	if [ -z "$1" ] || [ -z "$2" ] || [ "$(calc "($2) == 0")" = 1 ]; then
		echo "-"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; printf (r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx"), r }'
	fi
}

# --- /proc ---------------------------------------------------------------------

# cpu_us PID: CPU time the process itself used, in microseconds.
cpu_us() {
	local ns a hz
	if read -r ns _ <"/proc/$1/schedstat" 2>/dev/null && [ -n "$ns" ]; then
		echo $((ns / 1000))
		return
	fi
	read -r -a a <"/proc/$1/stat" || return 1
	# utime and stime are fields 14 and 15; the command name (2) has no
	# spaces here.
	hz=$(getconf CLK_TCK)
	echo $(((a[13] + a[14]) * 1000000 / hz))
}

# status_kb PID FIELD: a "kB" field of /proc/PID/status.
status_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

ctxt() {
	awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 } END { print s }' "/proc/$1/status"
}

# --- the daemons ----------------------------------------------------------------

SSH_OPTS=

# start_daemon poni|lsyncd local|ssh SRC DST: the daemon mirrors SRC/ into
# DST; its pid in DPID, its output in DLOG.
start_daemon() {
	local kind=$1 mode=$2 src=$3 dst=$4 conf bin=$PONI_BIN
	NLOG=$((NLOG + 1))
	DLOG=$W/$kind.$NLOG.log
	: >"$DLOG"
	if [ "$kind" = musl ]; then
		kind=poni
		bin=$PONI_MUSL
	fi
	DKIND=$kind
	case $kind in
	poni)
		conf=$W/poni.yml
		{
			echo "sync:"
			echo "  $src/:"
			echo "    remote_path: $dst"
			echo "    rsync_opts: a"
			[ -n "${RSYNC_BIN:-}" ] && echo "    rsync: $RSYNC_BIN"
			echo "    interval: 0"
			echo "    recurse: true"
			echo "    delete: true"
			if [ "$mode" = ssh ]; then
				echo "    remote_host: 127.0.0.1"
				echo "    transport: ssh"
				echo "    remote_user: $SSH_USER"
				echo "    port: $SSH_PORT"
				echo "    priv_key: $SSH_KEY"
				echo "    known_hosts: $KNOWN_HOSTS"
				echo "    strict_host_key: yes"
			fi
		} >"$conf"
		DT0=$(now_us)
		"$bin" -c "$conf" >>"$DLOG" 2>&1 &
		DPID=$!
		;;
	lsyncd)
		conf=$W/lsyncd.lua
		{
			echo 'settings { nodaemon = true }'
			if [ "$mode" = ssh ]; then
				echo "sync { default.rsync, source = \"$src/\"," \
					"target = \"$SSH_USER@127.0.0.1:$dst/\", delay = 0, delete = true," \
					"rsync = { archive = true, rsh = \"ssh $SSH_OPTS\" } }"
			else
				echo "sync { default.rsync, source = \"$src/\", target = \"$dst/\"," \
					"delay = 0, delete = true, rsync = { archive = true" \
					"${RSYNC_BIN:+, binary = \"$RSYNC_BIN\"} } }"
			fi
		} >"$conf"
		DT0=$(now_us)
		lsyncd "$conf" >>"$DLOG" 2>&1 &
		DPID=$!
		;;
	esac
}

stop_daemon() {
	local kids p
	[ -n "$DPID" ] || return 0
	kids=$(descendants "$DPID")
	kill -TERM "$DPID" 2>/dev/null
	wait_until 10 not alive "$DPID" || kill -KILL "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	for p in $kids; do
		alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	DPID=
}

daemon_alive() {
	alive "$DPID" || die "$DKIND exited"
}

# runs: rsync runs the current daemon started (poni logs one line per run
# at its end, lsyncd one at its start).
runs() {
	case $DKIND in
	poni) grep -c -e ': ok in ' -e ': failed in ' "$DLOG" ;;
	lsyncd) grep -c -e 'Calling rsync' -e 'startup rsync' "$DLOG" ;;
	esac
}

rsync_busy() {
	pgrep -P "$DPID" -x rsync >/dev/null
}

# initial_done: the first sync is over and every watch is placed.
initial_done() {
	daemon_alive
	case $DKIND in
	poni) grep -q 'watching [0-9]* director' "$DLOG" && grep -q ': ok in ' "$DLOG" ;;
	lsyncd) grep -q 'Startup of .* finished' "$DLOG" ;;
	esac
}

# settle: wait until the daemon runs no rsync and started none for $QUIET s.
settle() {
	local n i
	for ((i = 0; i < 400; i++)); do
		daemon_alive
		n=$(runs)
		nap "$QUIET"
		if [ "$(runs)" = "$n" ] && ! rsync_busy; then
			return 0
		fi
	done
	die "$DKIND does not become idle"
}

# start_synced KIND MODE SRC DST [LIMIT]: start the daemon and wait for its
# initial sync; sets STARTUP_US.
start_synced() {
	start_daemon "$1" "$2" "$3" "$4"
	wait_fast "${5:-60}" initial_done || die "$DKIND: no initial sync within ${5:-60} s"
	STARTUP_US=$(($(now_us) - DT0))
	settle
}

# lat KEY SRC DST: one latency sample of a new file, then settle.
lat() {
	local us
	SEQ=$((SEQ + 1))
	us=$("$PROBE" lat "$2" "$3" "new$SEQ" 30000) || die "$DKIND: new$SEQ did not arrive"
	add "$1" "$us"
	settle
}

# --- trees ---------------------------------------------------------------------

# small_tree DIR: DIR/src with 10 files (and an empty burst/), DIR/dst a
# copy of it.
small_tree() {
	local i
	rm -rf "$1"
	mkdir -p "$1/src/sub" "$1/src/burst" || die "mkdir $1"
	for i in 1 2 3 4 5; do
		echo "file $i" >"$1/src/f$i"
		echo "file $i" >"$1/src/sub/g$i"
	done
	rsync -a "$1/src/" "$1/dst/" || die "rsync"
}

# big_tree DIR N: 100 top directories with N/100-1 directories each (N in
# all), a small file in every tenth.
big_tree() {
	local dir=$1 per t s top
	per=$(($2 / 100 - 1))
	mkdir -p "$dir" || die "mkdir $dir"
	for ((t = 0; t < 100; t++)); do
		printf -v top '%s/t%03d' "$dir" "$t"
		mkdir "$top" || die "mkdir $top"
		if [ "$per" -gt 0 ]; then
			(cd "$top" && seq -f 's%05g' 0 $((per - 1)) | xargs mkdir) || die "mkdir in $top"
		fi
		for ((s = 0; s < per; s += 10)); do
			printf -v f '%s/s%05d/f' "$top" "$s"
			echo "$s" >"$f"
		done
	done
	BIG_DEEP=$(printf 't050/s%05d' $((per / 2)))
	[ "$per" -gt 0 ] || BIG_DEEP=t050
}

# --- header ----------------------------------------------------------------------

head_line() {
	printf '%-10s %s\n' "$1" "$2"
}

rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)
if [ -n "$rev" ] && [ -n "$(git -C "$TOP" status --porcelain -- src 2>/dev/null)" ]; then
	rev="$rev + uncommitted changes in src/"
fi
echo "poni against lsyncd (tests/bench.sh)"
head_line date "$(date '+%Y-%m-%d %H:%M:%S %Z')"
head_line machine "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(
	awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
head_line kernel "$(uname -sr)"
head_line rsync "$(rsync --version | sed -n '1s/^rsync *version *//p')"
head_line lsyncd "$(lsyncd --version 2>&1 | sed -n 's/^Version: *//p' | head -n 1) ($(command -v lsyncd))"
head_line poni "$("$PONI_BIN" -V 2>&1 | head -n 1)${rev:+ (git $rev)}"
head_line ssh "$(ssh -V 2>&1)"
head_line N_DIRS "$N${QUICK:+ (BENCH_QUICK: fewer samples)}"
head_line trees "$W ($(stat -f -c %T "$W"))"
if [ -f "$HOME/.ssh/config" ]; then
	head_line note "$HOME/.ssh/config exists and applies to lsyncd's ssh and the bare rsync"
fi
echo

# --- inotify limit ----------------------------------------------------------------

need=$((2 * N + 65536))
have=$(cat /proc/sys/fs/inotify/max_user_watches)
if [ "$have" -lt "$need" ]; then
	if [ "$(id -u)" = 0 ] && echo "$need" >/proc/sys/fs/inotify/max_user_watches; then
		WATCHES_OLD=$have
		echo "(fs.inotify.max_user_watches raised from $have to $need for this run)"
	elif [ "$have" -lt $((N + 1000)) ]; then
		die "fs.inotify.max_user_watches is $have; $N directories need more (run as root)"
	fi
fi

progress() {
	printf '[%4ds] %s\n' $((($(now_us) - BENCH_T0) / 1000000)) "$*" >&2
}

# --- 1. local: latency of a new file in a 10-file tree, runs per file -------------

SM=$W/small
per_round=$(((SAMPLES + ROUNDS - 1) / ROUNDS))
progress "local latency, ${per_round} files x $ROUNDS rounds per daemon"
for ((r = 0; r < ROUNDS; r++)); do
	for kind in poni lsyncd; do
		small_tree "$SM"
		start_synced "$kind" local "$SM/src" "$SM/dst"
		r0=$(runs)
		for ((i = 0; i < per_round; i++)); do
			lat "$kind:lat" "$SM/src" "$SM/dst"
		done
		add "$kind:runs" $(($(runs) - r0))
		add "$kind:files" "$per_round"
		stop_daemon
		same_tree "$SM/src" "$SM/dst" || die "$kind: the trees differ"
	done
	# the reference: a bare rsync of the tree started right after the new
	# file was made (its arrival, and its exit)
	for ((i = 0; i < per_round; i++)); do
		SEQ=$((SEQ + 1))
		out=$("$PROBE" lat "$SM/src" "$SM/dst" "new$SEQ" 30000 \
			rsync -a --delete "$SM/src/" "$SM/dst/") || die "bare rsync"
		add bare:lat "${out%% *}"
		add bare:lat_exit "${out##* }"
	done
done

# --- 2. ssh: latency of a new file ----------------------------------------------------

progress "ssh latency, ${per_round} files x $ROUNDS rounds per daemon"
mkdir -p "$T"
start_sshd
SSH_OPTS="-p $SSH_PORT -i $SSH_KEY -o BatchMode=yes -o IdentitiesOnly=yes"
SSH_OPTS="$SSH_OPTS -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$KNOWN_HOSTS"
SSH_OPTS="$SSH_OPTS -o GlobalKnownHostsFile=/dev/null"
# shellcheck disable=SC2086 # the options, one a word
ssh -M -N -S "$W/master" -o ControlPersist=no $SSH_OPTS "$SSH_USER@127.0.0.1" \
	</dev/null >"$W/master.log" 2>&1 &
MASTER_PID=$!
# shellcheck disable=SC2086
wait_fast 20 ssh -S "$W/master" -O check $SSH_OPTS "$SSH_USER@127.0.0.1" 2>/dev/null ||
	die "the reference ssh master does not come up: $(cat "$W/master.log")"
for ((r = 0; r < ROUNDS; r++)); do
	for kind in poni lsyncd; do
		small_tree "$SM"
		start_synced "$kind" ssh "$SM/src" "$SM/dst"
		for ((i = 0; i < per_round; i++)); do
			lat "$kind:ssh" "$SM/src" "$SM/dst"
		done
		stop_daemon
		same_tree "$SM/src" "$SM/dst" || die "$kind: the trees differ over ssh"
	done
	for ((i = 0; i < per_round; i++)); do
		SEQ=$((SEQ + 1))
		out=$("$PROBE" lat "$SM/src" "$SM/dst" "new$SEQ" 30000 \
			rsync -a --delete -e "ssh -S $W/master -o ControlMaster=no $SSH_OPTS" \
			"$SM/src/" "$SSH_USER@127.0.0.1:$SM/dst/") || die "bare rsync over ssh"
		add bare:ssh "${out%% *}"
		add bare:ssh_exit "${out##* }"
	done
	# what a session through the master costs before rsync even starts
	t0=$(now_us)
	# shellcheck disable=SC2086
	ssh -S "$W/master" -o ControlMaster=no $SSH_OPTS "$SSH_USER@127.0.0.1" true </dev/null ||
		die "ssh through the master failed"
	add bare:ssh_true $(($(now_us) - t0))
done
stop_pids TERM "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
MASTER_PID=
stop_sshd

# --- 3. a burst of 5,000 new files ------------------------------------------------

progress "burst of $BURST files x $BURST_ROUNDS rounds per daemon"
for ((r = 0; r < BURST_ROUNDS; r++)); do
	for kind in poni lsyncd; do
		small_tree "$SM"
		start_synced "$kind" local "$SM/src" "$SM/dst"
		r0=$(runs)
		out=$("$PROBE" burst "$SM/src/burst" "$SM/dst/burst" b "$BURST" 300000) ||
			die "$kind: the burst did not arrive"
		add "$kind:burst" "${out%% *}"
		add "$kind:burst_mk" "${out##* }"
		wait_fast 60 same_tree "$SM/src" "$SM/dst" || die "$kind: the trees differ after the burst"
		settle
		add "$kind:burst_runs" $(($(runs) - r0))
		stop_daemon
	done
	small_tree "$SM"
	"$PROBE" mk "$SM/src/burst" b "$BURST" || die "probe mk"
	t0=$(now_us)
	rsync -a --delete "$SM/src/" "$SM/dst/" || die "rsync"
	add bare:burst $(($(now_us) - t0))
done
rm -rf "$SM"

# --- 3b. the cost of a change: a 30 MB directory renamed, then chmod -R'd ------
# Both daemons run rsync through a wrapper that adds --stats and records
# its "Literal data" (file data sent as is): a rename or an attribute
# change should send none.

mkdir -p "$W/bin"
# shellcheck disable=SC2016 # the wrapper's own expansions
{
	echo '#!/bin/bash'
	printf 'out=$(%q --stats "$@")\n' "$(command -v rsync)"
	echo 'rc=$?'
	printf '%s\n' "printf '%s\\n' \"\$out\" | sed -n 's/^Literal data: \\([0-9,]*\\) bytes.*/\\1/p' |"
	printf '\ttr -d , >>%q\n' "$W/literal"
	echo 'exit $rc'
} >"$W/bin/rsync"
chmod +x "$W/bin/rsync"
: >"$W/literal"
literal_since() {
	tail -n "+$(($1 + 1))" "$W/literal" | awk '{ n += $1 } END { print n + 0 }'
}
modes_arrived() {
	[ "$(stat -c %a "$SM/src/pictures/f1")" = "$(stat -c %a "$SM/dst/pictures/f1")" ]
}

progress "a 30 MB directory renamed, then chmod -R'd, per daemon"
for kind in poni lsyncd; do
	small_tree "$SM"
	mkdir -p "$SM/src/photos"
	for ((i = 1; i <= 300; i++)); do
		head -c 102400 /dev/urandom >"$SM/src/photos/f$i"
	done
	RSYNC_BIN=$W/bin/rsync start_synced "$kind" local "$SM/src" "$SM/dst"
	m=$(wc -l <"$W/literal")
	mv "$SM/src/photos" "$SM/src/pictures"
	wait_fast 60 same_tree "$SM/src" "$SM/dst" || die "$kind: the renamed directory did not arrive"
	settle
	add "$kind:mv_bytes" "$(literal_since "$m")"
	m=$(wc -l <"$W/literal")
	chmod -R g+w "$SM/src/pictures"
	wait_fast 60 modes_arrived || die "$kind: the modes did not arrive"
	settle
	add "$kind:chmod_bytes" "$(literal_since "$m")"
	stop_daemon
done
rm -rf "$SM"

# --- the static musl build, also run on the big tree --------------------------

stripped_size() {
	cp "$1" "$W/strip.tmp" && strip "$W/strip.tmp" 2>/dev/null && stat -c %s "$W/strip.tmp"
}
add poni:size "$(stripped_size "$PONI_BIN")"
musl=
PONI_MUSL=
if command -v musl-gcc >/dev/null; then
	progress "static musl build of poni (in $W/musl)"
	mkdir -p "$W/musl/src"
	cp "$TOP"/src/*.[ch] "$W/musl/src/" && cp "$TOP/Makefile" "$TOP/config.mk" "$W/musl/" &&
		make -C "$W/musl" CC=musl-gcc LDFLAGS=-static poni >"$W/musl.log" 2>&1 &&
		musl=$(stripped_size "$W/musl/poni") && PONI_MUSL=$W/musl/poni
	[ -n "$musl" ] || echo "(the static musl build failed: $(tail -n 3 "$W/musl.log"))" >&2
fi

# --- 4. a tree of N directories ----------------------------------------------------

BIG=$W/big
progress "making a tree of $N directories"
big_tree "$BIG/src" "$N"
t0=$(now_us)
rsync -a "$BIG/src/" "$BIG/dst/" || die "rsync of the big tree"
add bare:big_copy $(($(now_us) - t0))
big_per=$(((SAMPLES + BIG_ROUNDS - 1) / BIG_ROUNDS))
big_kinds="poni lsyncd${PONI_MUSL:+ musl}"
for ((r = 0; r < BIG_ROUNDS; r++)); do
	for kind in $big_kinds; do
		progress "$N directories: $kind, round $((r + 1)) of $BIG_ROUNDS"
		rm -f "$BIG/src/$BIG_DEEP"/new*
		t0=$(now_us)
		rsync -a --delete "$BIG/src/" "$BIG/dst/" || die "rsync of the big tree"
		add bare:big_sync $(($(now_us) - t0))
		start_synced "$kind" local "$BIG/src" "$BIG/dst" 900
		add "$kind:start" "$STARTUP_US"
		add "$kind:cpu" "$(cpu_us "$DPID")"
		add "$kind:rss" "$(status_kb "$DPID" VmRSS)"
		add "$kind:hwm" "$(status_kb "$DPID" VmHWM)"
		add "$kind:anon" "$(status_kb "$DPID" RssAnon)"
		if [ "$kind" = musl ]; then
			# the static build: start-up and memory only
			stop_daemon
			continue
		fi
		if [ "$kind" = poni ]; then
			add poni:full "$(sed -n 's/.*: ok in \([0-9.]*\) s (full).*/\1/p' "$DLOG" | head -n 1)"
			add poni:watches "$(sed -n 's/.*watching \([0-9]*\) director.*/\1/p' "$DLOG" | tail -n 1)"
		fi
		if [ "$r" = 0 ]; then
			c0=$(ctxt "$DPID")
			sleep "$IDLE"
			add "$kind:idle" $(($(ctxt "$DPID") - c0))
		fi
		for ((i = 0; i < big_per; i++)); do
			lat "$kind:big_lat" "$BIG/src/$BIG_DEEP" "$BIG/dst/$BIG_DEEP"
		done
		stop_daemon
	done
done
progress "removing the big tree"
rm -rf "$BIG"

# --- 5. binary sizes ----------------------------------------------------------------

lsyncd_path=$(command -v lsyncd)
lsyncd_size=$(stripped_size "$lsyncd_path")
lua_libs=$(ldd "$lsyncd_path" | awk '$1 ~ /lua/ { print $3 }')
for l in $lua_libs; do
	lsyncd_size=$((lsyncd_size + $(stripped_size "$l")))
done
add lsyncd:size "$lsyncd_size"

# --- the table ---------------------------------------------------------------------------

row() {	# what poni lsyncd ratio goal
	printf '%-44s %10s %10s %8s  %s\n' "$@"
}

# mark OK-EXPR: "met" or "MISSED" (awk expression on numbers).
mark() {
	if [ "$(calc "$1")" = 1 ]; then echo "met"; else echo "MISSED"; fi
}

ms() { fmt '%.1f' "$(calc "$1 / 1000")"; }
s3() { fmt '%.3f' "$(calc "$1 / 1000000")"; }
mib() { fmt '%.1f' "$(calc "$1 / 1024")"; }
kib() { fmt '%.0f' "$(calc "$1 / 1024")"; }

echo
row "measurement (median)" poni lsyncd "lsyncd/" "reference; goal for poni"
row "" "" "" "poni" ""
row "--------------------------------------------" ---------- ---------- -------- "------------------------"

pl=$(med poni:lat) ll=$(med lsyncd:lat) bl=$(med bare:lat)
row "new file, local: latency (ms, n=$(wc -w <<<"${S[poni:lat]}"))" "$(ms "$pl")" "$(ms "$ll")" \
	"$(ratio "$ll" "$pl")" "bare rsync $(ms "$bl") ms (exits at $(ms "$(med bare:lat_exit)"))"

pr=$(calc "$(sum poni:runs) / $(sum poni:files)") lr=$(calc "$(sum lsyncd:runs) / $(sum lsyncd:files)")
row "new file, local: rsync runs per file" "$(fmt '%.2f' "$pr")" "$(fmt '%.2f' "$lr")" \
	"$(ratio "$lr" "$pr")" "goal 1: $(mark "$pr == 1")"

ps=$(med poni:ssh) ls=$(med lsyncd:ssh) bs=$(med bare:ssh)
row "new file, ssh 127.0.0.1: latency (ms)" "$(ms "$ps")" "$(ms "$ls")" "$(ratio "$ls" "$ps")" \
	"warm master $(ms "$bs") ms (exits at $(ms "$(med bare:ssh_exit)")); <=1.1x: $(fmt '%.2f' "$(calc "$ps / $bs")")x $(mark "$ps <= 1.1 * $bs")"

row "  ssh through that master, running 'true' (ms)" "" "" "" \
	"$(ms "$(med bare:ssh_true)") ms: the part of every ssh run spent on the session"
pb=$(med poni:burst) lb=$(med lsyncd:burst) bb=$(med bare:burst)
row "burst of $BURST files: time to converge (s)" "$(s3 "$pb")" "$(s3 "$lb")" "$(ratio "$lb" "$pb")" \
	"bare rsync $(s3 "$bb") s; <lsyncd/5: $(mark "$pb * 5 < $lb")"
pbr=$(med poni:burst_runs) lbr=$(med lsyncd:burst_runs)
row "burst of $BURST files: rsync runs" "$pbr" "$lbr" "$(ratio "$lbr" "$pbr")" \
	"goal a few (<=5): $(mark "$pbr <= 5")"

pmv=$(med poni:mv_bytes) lmv=$(med lsyncd:mv_bytes)
row "30 MB directory renamed: file data sent (MB)" "$(fmt '%.2f' "$(calc "$pmv / 1000000")")" \
	"$(fmt '%.2f' "$(calc "$lmv / 1000000")")" "" "goal <1% (0.3 MB): $(mark "$pmv < 300000")"
pch=$(med poni:chmod_bytes) lch=$(med lsyncd:chmod_bytes)
row "  ... then chmod -R g+w: file data sent (MB)" "$(fmt '%.2f' "$(calc "$pch / 1000000")")" \
	"$(fmt '%.2f' "$(calc "$lch / 1000000")")" "" "goal 0: $(mark "$pch == 0")"
pst=$(med poni:start) lst=$(med lsyncd:start)
row "$N dirs: start to synced, wall (s)" "$(s3 "$pst")" "$(s3 "$lst")" "$(ratio "$lst" "$pst")" \
	"bare rsync of the tree $(s3 "$(med bare:big_sync)") s; poni's own $(fmt '%.3f' "$(med poni:full)") s"
pc=$(med poni:cpu) lc=$(med lsyncd:cpu)
row "$N dirs: daemon CPU time to synced (s)" "$(s3 "$pc")" "$(s3 "$lc")" "$(ratio "$lc" "$pc")" \
	"goal well under 1 s (<0.5): $(mark "$pc < 500000") ($(med poni:watches) watches)"
prss=$(med poni:rss) lrss=$(med lsyncd:rss)
row "$N dirs: VmRSS (MiB)" "$(mib "$prss")" "$(mib "$lrss")" "$(ratio "$lrss" "$prss")" \
	"goal <lsyncd/10: $(mark "$prss * 10 < $lrss")"
phwm=$(med poni:hwm) lhwm=$(med lsyncd:hwm)
row "$N dirs: VmHWM (MiB)" "$(mib "$phwm")" "$(mib "$lhwm")" "$(ratio "$lhwm" "$phwm")" \
	"goal <lsyncd/10: $(mark "$phwm * 10 < $lhwm")"
pa=$(med poni:anon) la=$(med lsyncd:anon)
row "$N dirs: RssAnon, private memory (MiB)" "$(mib "$pa")" "$(mib "$la")" "$(ratio "$la" "$pa")" \
	"the rest of VmRSS is shared libraries"
if [ -n "$PONI_MUSL" ]; then
	mc=$(med musl:cpu) mr=$(med musl:rss) mh=$(med musl:hwm)
	row "$N dirs: static musl poni: CPU time (s)" "$(s3 "$mc")" "$(s3 "$lc")" "$(ratio "$lc" "$mc")" \
		"goal well under 1 s (<0.5): $(mark "$mc < 500000")"
	row "$N dirs: static musl poni: VmRSS (MiB)" "$(mib "$mr")" "$(mib "$lrss")" "$(ratio "$lrss" "$mr")" \
		"goal <lsyncd/10: $(mark "$mr * 10 < $lrss")"
	row "$N dirs: static musl poni: VmHWM (MiB)" "$(mib "$mh")" "$(mib "$lhwm")" "$(ratio "$lhwm" "$mh")" \
		"goal <lsyncd/10: $(mark "$mh * 10 < $lhwm")"
fi
pbl=$(med poni:big_lat) lbl=$(med lsyncd:big_lat)
row "$N dirs: new file deep inside: latency (ms)" "$(ms "$pbl")" "$(ms "$lbl")" "$(ratio "$lbl" "$pbl")" \
	"n=$(wc -w <<<"${S[poni:big_lat]}")"
pq=$(calc "$pbl / $pl") lq=$(calc "$lbl / $ll")
row "  ... against the 10-file tree (ratio)" "$(fmt '%.2fx' "$pq")" "$(fmt '%.2fx' "$lq")" "" \
	"goal <=2x: $(mark "$pq <= 2")"
pi=$(med poni:idle) li=$(med lsyncd:idle)
row "idle ${IDLE} s on $N dirs: context switches" "$pi" "$li" "$(ratio "$li" "$pi")" \
	"goal 0: $(mark "$pi == 0")"
row "binary, stripped (KiB)" "$(kib "$(med poni:size)")" "$(kib "$(med lsyncd:size)")" \
	"$(ratio "$(med lsyncd:size)" "$(med poni:size)")" "poni: glibc, dynamic; lsyncd + liblua"
if [ -n "$musl" ]; then
	row "binary, static musl, stripped (KiB)" "$(kib "$musl")" "" "" "no runtime library at all"
fi
echo
echo "burst: the probe took $(ms "$(med poni:burst_mk)") ms (poni runs) and" \
	"$(ms "$(med lsyncd:burst_mk)") ms (lsyncd runs) to create the files."
echo "bare rsync copying the $N-dir tree into an empty replica: $(s3 "$(med bare:big_copy)") s."
if [ -n "${BENCH_VERBOSE:-}" ]; then
	echo
	echo "every sample (us, kB, counts):"
	for k in $(printf '%s\n' "${!S[@]}" | sort); do
		printf '  %-18s %s\n' "$k" "${S[$k]}"
	done
fi
echo "benchmark took $((($(now_us) - BENCH_T0) / 1000000)) s."
