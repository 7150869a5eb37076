#!/bin/bash
# tests/lib.sh: helpers for poni's system tests, sourced by tests/sys_*.sh.
#
# The real ./poni binary is driven from outside, against real rsync, real
# inotify and (for sys_ssh.sh) a real OpenSSH sshd started on 127.0.0.1 with
# throwaway keys. Each test is a shell function run by run_test in its own
# subshell with its own workspace $T (mktemp -d); the first failed assertion
# prints "FAIL name: reason" and ends that test only, and its trap stops
# every process it started and removes $T. A test that gets to its end
# prints "PASS name". tests/run.sh counts those lines (and "SKIP name: why").

# The binary under test: $PONI, or ./poni at the top of the repository.
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PONI=${PONI:-$TESTS_DIR/../poni}
case $PONI in /*) ;; *) PONI=$PWD/$PONI ;; esac
SSHD=${SSHD:-/usr/sbin/sshd}
export LC_ALL=C

TEST_NAME=
FAILED=0
T=
CONF=
PONI_PID=
SSHD_PID=

# --- reporting -------------------------------------------------------------

pass() {
	echo "PASS $1"
}

# fail NAME REASON: print the FAIL line (and the tail of poni's log, to tell
# what happened), then end the current test.
fail() {
	echo "FAIL $1: $2"
	if [ -n "$T" ] && [ -s "$T/poni.log" ]; then
		echo "    --- last lines of $T/poni.log:"
		tail -n 15 "$T/poni.log" | sed 's/^/    | /'
	fi
	exit 101
}

# skip NAME REASON: the test cannot run here (not a failure).
skip() {
	echo "SKIP $1: $2"
	exit 77
}

# Print lines of detail under the FAIL line that follows.
detail() {
	sed 's/^/    | /' | head -n 40
}

# run_test NAME FUNCTION: run FUNCTION in a subshell with a fresh workspace.
# A test that passes prints its time too: "PASS name (1.2 s)".
run_test() {
	local name=$1 st t0 d
	t0=${EPOCHREALTIME/./}
	(in_test "$@")
	st=$?
	d=$((${EPOCHREALTIME/./} - t0))
	case $st in
	0) pass "$name ($((d / 1000000)).$((d % 1000000 / 100000)) s)" ;;
	77) ;;
	101) FAILED=$((FAILED + 1)) ;;
	*)
		echo "FAIL $name: test ended with status $st"
		FAILED=$((FAILED + 1))
		;;
	esac
	return 0
}

# in_test NAME FUNCTION: the body of run_test's subshell.
in_test() {
	TEST_NAME=$1
	T=$(mktemp -d "${TMPDIR:-/tmp}/poni-test.XXXXXX") || exit 102
	CONF=$T/poni.yml
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	"$2"
}

# finish: end the test file; exit 1 when a test failed.
finish() {
	[ "$FAILED" = 0 ]
	exit
}

# --- assertions ------------------------------------------------------------

# assert_eq GOT WANT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "$TEST_NAME" "${3:-value}: got '$1', want '$2'"
}

# assert_contains FILE ERE: some line of FILE matches the extended regex.
assert_contains() {
	if ! grep -Eq -- "$2" "$1" 2>/dev/null; then
		[ -f "$1" ] && detail <"$1"
		fail "$TEST_NAME" "$(basename "$1") does not match /$2/"
	fi
}

# assert_not_contains FILE ERE
assert_not_contains() {
	if grep -Eq -- "$2" "$1" 2>/dev/null; then
		grep -E -- "$2" "$1" | detail
		fail "$TEST_NAME" "$(basename "$1") matches /$2/"
	fi
}

# assert_same_tree A B: diff -r finds no difference (prints the diff if so).
assert_same_tree() {
	local d
	if ! d=$(diff -r "$1" "$2" 2>&1); then
		printf '%s\n' "$d" | detail
		fail "$TEST_NAME" "trees differ: $1 $2"
	fi
}

# assert_exit CODE CMD...: run CMD (stdout to $T/out, stderr to $T/err).
assert_exit() {
	local want=$1 st
	shift
	"$@" >"$T/out" 2>"$T/err"
	st=$?
	if [ "$st" != "$want" ]; then
		cat "$T/out" "$T/err" | detail
		fail "$TEST_NAME" "exit status $st, want $want: $*"
	fi
}

# assert_file FILE: a regular file exists.
assert_file() {
	[ -f "$1" ] || fail "$TEST_NAME" "missing file $1"
}

# assert_absent PATH
assert_absent() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		fail "$TEST_NAME" "$1 exists"
	fi
}

# --- waiting ---------------------------------------------------------------

# nap SECONDS: sleep without starting a process (a read that times out
# on a pipe nobody writes to).
exec {NAP_FD}<> <(:)
nap() {
	read -r -t "$1" -u "$NAP_FD" _
	return 0
}

# wait_until SECONDS CMD...: run CMD until it succeeds (0) or SECONDS have
# passed (1): every 0.05 s at first, every 0.2 s after a few seconds (a
# long wait then costs the machine, and poni, less).
wait_until() {
	local limit start now n=0
	limit=$(usec "$1")
	shift
	start=${EPOCHREALTIME/./}
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		now=${EPOCHREALTIME/./}
		# microseconds
		[ $((now - start)) -ge "$limit" ] && return 1
		n=$((n + 1))
		if [ "$n" -lt 20 ]; then
			nap 0.05
		elif [ "$n" -lt 40 ]; then
			nap 0.1
		else
			nap 0.2
		fi
	done
}

# usec SECONDS: seconds (fractions allowed) in microseconds.
usec() {
	local int=${1%%.*} frac=
	case $1 in *.*) frac=${1#*.} ;; esac
	frac=${frac}000000
	echo $((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

# Microseconds since the epoch.
now_us() {
	echo "${EPOCHREALTIME/./}"
}

# same_tree A B: quiet diff -r, for wait_until.
same_tree() {
	diff -r "$1" "$2" >/dev/null 2>&1
}

# wait_same_tree A B [SECONDS]: wait until diff -r is clean, else fail
# with the diff.
wait_same_tree() {
	wait_poni "${3:-10}" same_tree "$1" "$2" || assert_same_tree "$1" "$2"
}

# wait_same_file A B [SECONDS]: wait until cmp finds A and B equal.
wait_same_file() {
	wait_poni "${3:-10}" cmp -s "$1" "$2" ||
		fail "$TEST_NAME" "$(basename "$2") does not become equal to $1"
}

# --- processes -------------------------------------------------------------

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# descendants PID: every process below PID, one pid a line.
descendants() {
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c"
		descendants "$c"
	done
}

# mine PATTERN: pids of processes whose command line holds PATTERN (a
# path under this test's workspace, so only processes this test caused).
mine() {
	pgrep -f -- "$1" | grep -vx "$$" || true
}

# none_mine PATTERN: no process holds PATTERN in its command line.
none_mine() {
	[ -z "$(mine "$1")" ]
}

# no_descendants PID
no_descendants() {
	[ -z "$(pgrep -P "$1")" ]
}

# stop_pids SIG PID...: send SIG to each and wait (bounded) until gone.
stop_pids() {
	local sig=$1 p
	shift
	for p in "$@"; do
		kill "-$sig" "$p" 2>/dev/null
	done
	for p in "$@"; do
		wait_until 5 not alive "$p" || kill -KILL "$p" 2>/dev/null
	done
}

not() {
	! "$@"
}

# --- poni --------------------------------------------------------------------

# write_conf: the config text on stdin goes to $CONF ($T/poni.yml), which
# only its owner may write (poni refuses a config others can write).
write_conf() {
	cat >"$CONF.new" && chmod 600 "$CONF.new" && mv "$CONF.new" "$CONF"
}

# has_key KEY ARGS...: one of ARGS is "KEY: ...".
has_key() {
	local k=$1 a
	shift
	for a in "$@"; do
		case $a in "$k:"*) return 0 ;; esac
	done
	return 1
}

# sync_local SRC DST [KEY: VALUE]...: a sync entry (to append after a
# "sync:" line): a local copy, interval 0, recurse and delete unless the
# arguments say otherwise.
sync_local() {
	local src=$1 dst=$2 l k
	shift 2
	echo "  $src:"
	echo "    remote_path: $dst"
	for k in interval:0 recurse:true delete:true; do
		has_key "${k%%:*}" "$@" || echo "    ${k%%:*}: ${k#*:}"
	done
	for l in "$@"; do
		echo "    $l"
	done
}

# mirror_conf [KEY: VALUE]...: write $CONF for one local mirror, $T/src/
# -> $T/dst, as sync_local makes it; "log: ..." and "log_level: ..."
# arguments go to the top level.
# shellcheck disable=SC2120 # the arguments are optional
mirror_conf() {
	local a keys=()
	{
		for a in "$@"; do
			case $a in
			log:* | log_level:*) echo "$a" ;;
			*) keys+=("$a") ;;
			esac
		done
		echo "sync:"
		sync_local "$T/src/" "$T/dst" "${keys[@]}"
	} | write_conf
}

# start_poni CONFIG [ARGS...]: run $PONI -c CONFIG ARGS in the background,
# stdout and stderr appended to $T/poni.log; its pid in PONI_PID.
# SIGINT is reset to its default first: bash makes background commands
# ignore it, and a daemon started by init or a terminal does not.
start_poni() {
	local conf=$1
	shift
	[ -x "$PONI" ] || fail "$TEST_NAME" "no poni binary at $PONI (run make)"
	perl -e '$SIG{INT} = $SIG{QUIT} = "DEFAULT"; exec { $ARGV[0] } @ARGV
		or die "exec $ARGV[0]: $!\n"' \
		"$PONI" -c "$conf" "$@" >>"$T/poni.log" 2>&1 {NAP_FD}>&- &
	PONI_PID=$!
}

# stop_poni [SIG]: send SIGTERM (or SIG) and wait up to 10 s for poni to
# exit. Returns its exit status (124 if it did not exit; it is then killed).
stop_poni() {
	local pid=$PONI_PID st
	[ -n "$pid" ] || return 0
	kill "-${1:-TERM}" "$pid" 2>/dev/null
	if ! wait_until 10 not alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		PONI_PID=
		return 124
	fi
	wait "$pid"
	st=$?
	PONI_PID=
	return "$st"
}

# stop_poni_ok SIG: stop_poni SIG and fail the test unless it exits 0.
stop_poni_ok() {
	local st
	stop_poni "$1"
	st=$?
	[ "$st" = 0 ] || fail "$TEST_NAME" "poni exited $st on SIG$1, want 0"
}

# poni_alive: the poni started by start_poni still runs.
poni_alive() {
	[ -n "$PONI_PID" ] && alive "$PONI_PID"
}

# poni_has_child: poni has a child process (an rsync) right now.
poni_has_child() {
	[ -n "$PONI_PID" ] && pgrep -P "$PONI_PID" >/dev/null
}

# poni_rsync_running: an rsync of poni's runs right now (poni may have
# other children: its ssh masters).
poni_rsync_running() {
	[ -n "$PONI_PID" ] && pgrep -x -P "$PONI_PID" rsync >/dev/null
}

# assert_poni_alive
assert_poni_alive() {
	poni_alive || fail "$TEST_NAME" "poni is no longer running"
}

# count_runs: how many rsync runs succeeded so far.
count_runs() {
	grep -c ': ok in ' "$T/poni.log" 2>/dev/null || true
}

runs_at_least() {
	[ "$(count_runs)" -ge "$1" ]
}

# poni_died: poni was started and is no longer running (so waiting for it
# to do something is pointless).
poni_died() {
	[ -n "$PONI_PID" ] && ! alive "$PONI_PID"
}

# wait_poni SECONDS CMD...: wait_until CMD succeeds, giving up early when
# poni died. Fails the test with a message when poni died.
wait_poni() {
	local limit=$1
	shift
	if wait_until "$limit" either "$@" poni_died && ! poni_died; then
		return 0	# (then CMD succeeded)
	fi
	if "$@"; then
		return 0
	fi
	if poni_died; then
		wait "$PONI_PID"
		fail "$TEST_NAME" "poni exited (status $?) while waiting for: $*"
	fi
	return 1
}

# either CMD... OTHER: CMD succeeds, or the single-word command OTHER does.
either() {
	local other=${*: -1}
	"${@:1:$#-1}" || "$other"
}

# settle: wait (up to 10 s) until poni is idle: no rsync running and no
# new run for 0.5 s. Use it before a step that must make a run of its own.
settle() {
	local n _
	for _ in $(seq 20); do
		n=$(count_runs)
		sleep 0.5
		if [ "$(count_runs)" = "$n" ] && ! poni_rsync_running; then
			return 0
		fi
	done
	fail "$TEST_NAME" "poni does not become idle"
}

# wait_runs N [SECONDS]: wait until count_runs >= N, else fail.
wait_runs() {
	wait_poni "${2:-10}" runs_at_least "$1" ||
		fail "$TEST_NAME" "want $1 successful runs, saw $(count_runs)"
}

log_has() {
	grep -Eq -- "$1" "$T/poni.log"
}

# log_count ERE: how many lines of poni's log match ERE.
log_count() {
	grep -Ec -- "$1" "$T/poni.log" 2>/dev/null || true
}

log_count_at_least() {
	[ "$(log_count "$1")" -ge "$2" ]
}

# wait_log_count ERE N [SECONDS]: wait until N lines match ERE.
wait_log_count() {
	wait_poni "${3:-10}" log_count_at_least "$1" "$2" ||
		fail "$TEST_NAME" "want $2 lines matching /$1/ in poni's log, saw $(log_count "$1")"
}

# wait_log ERE [SECONDS]: wait until poni's log has a line matching ERE.
wait_log() {
	wait_poni "${2:-10}" log_has "$1" ||
		fail "$TEST_NAME" "no line matching /$1/ in poni's log"
}

# --- an rsync wrapper --------------------------------------------------------

# make_rsync_wrapper [EXTRA_ARG...]: $T/bin/rsync, for the rsync key. It
# appends the time of each call ($EPOCHREALTIME) to $T/rsync-calls, then
# runs the real rsync with EXTRA_ARGs (say --bwlimit=...) first. Faults
# on demand, each file removed by the call that uses it unless
# $T/rsync-sticky exists:
#   $T/rsync-hold       (not removed) while it exists, the call waits
#                       before it does anything else: a run that lasts
#                       exactly as long as the test wants;
#   $T/rsync-kill       the call kills itself with SIGKILL at once;
#   $T/rsync-fail N     the call prints "rsync: test fault" on stderr and
#                       exits N without copying anything;
#   $T/rsync-after N    the call runs rsync, then exits N.
# shellcheck disable=SC2120 # the arguments are optional
make_rsync_wrapper() {
	local real extra="" a q
	real=$(command -v rsync) || fail "$TEST_NAME" "no rsync"
	for a in "$@"; do
		extra+=" $(printf '%q' "$a")"
	done
	q=$(printf '%q' "$T")
	mkdir -p "$T/bin"
	cat >"$T/bin/rsync" <<-EOF
		#!/bin/bash
		T=$q
		echo "\$EPOCHREALTIME" >>"\$T/rsync-calls"
		while [ -e "\$T/rsync-hold" ]; do
		    sleep 0.05
		done
		use() {
		    [ -e "\$T/\$1" ] || return 1
		    rc=\$(cat "\$T/\$1")
		    [ -e "\$T/rsync-sticky" ] || rm -f "\$T/\$1"
		}
		if use rsync-kill; then
		    kill -KILL \$\$
		fi
		if use rsync-fail; then
		    echo "rsync: test fault" >&2
		    exit "\$rc"
		fi
		if use rsync-after; then
		    $(printf '%q' "$real")$extra "\$@"
		    exit "\$rc"
		fi
		exec $(printf '%q' "$real")$extra "\$@"
	EOF
	chmod +x "$T/bin/rsync"
	: >"$T/rsync-calls"
}

# rsync_calls: how many times the wrapper ran (or started: a call held
# by $T/rsync-hold counts).
rsync_calls() {
	wc -l <"$T/rsync-calls"
}

calls_at_least() {
	[ "$(rsync_calls)" -ge "$1" ]
}

# make_stats_wrapper: $T/bin/rsync, for the rsync key: the real rsync with
# --stats, whose "Literal data" (file data sent as is, not matched against
# the replica) is appended, one number of bytes a line, to $T/literal.
make_stats_wrapper() {
	local real q
	real=$(command -v rsync) || fail "$TEST_NAME" "no rsync"
	q=$(printf '%q' "$T")
	mkdir -p "$T/bin"
	cat >"$T/bin/rsync" <<-EOF
		#!/bin/bash
		out=\$($(printf '%q' "$real") --stats "\$@")
		rc=\$?
		printf '%s\n' "\$out" | sed -n 's/^Literal data: \([0-9,]*\) bytes.*/\1/p' |
		    tr -d , >>$q/literal
		exit \$rc
	EOF
	chmod +x "$T/bin/rsync"
	: >"$T/literal"
}

# literal_mark: the number of rsync runs counted in $T/literal so far;
# literal_since MARK: the bytes of file data they sent since MARK.
literal_mark() {
	wc -l <"$T/literal"
}
literal_since() {
	tail -n "+$(($1 + 1))" "$T/literal" | awk '{ n += $1 } END { print n + 0 }'
}

# --- moves and attributes (sys_moves.sh, sys_moves_ssh.sh, sys_attrs.sh) ---

# attrs DIR: type, mode, owner and group of everything below DIR, and size
# and mtime of what is not a directory (rsync here does not keep the
# times of the directories it fills: 3.5.0 leaves them as it made them).
attrs() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%p %y %m %U %G\n' \) -o \
		-printf '%p %y %m %U %G %s %T@\n' | sort)
}

same_copy() {
	same_tree "$1" "$2" && [ "$(attrs "$1")" = "$(attrs "$2")" ]
}

# wait_converged [SECONDS]: the replica becomes (within SECONDS, 20) what
# rsync -a --delete makes of the source (in $T/ref), data and attributes.
wait_converged() {
	rm -rf "$T/ref"
	rsync -a --delete "$T/src/" "$T/ref/"
	wait_same_tree "$T/ref" "$T/dst" "${1:-20}"
	if ! wait_poni "${1:-20}" same_copy "$T/ref" "$T/dst"; then
		diff <(attrs "$T/ref") <(attrs "$T/dst") | detail
		fail "$TEST_NAME" "the replica differs from what rsync -a --delete makes"
	fi
}

# assert_literal_below MARK BYTES WHAT: the runs since MARK sent less file data.
assert_literal_below() {
	local sent
	sent=$(literal_since "$1")
	echo "    $3: $sent bytes of file data sent"
	[ "$sent" -lt "$2" ] || fail "$TEST_NAME" "$3 sent $sent bytes of file data, want < $2"
}

# tree_30mb: $T/src/big with 300 files of 100 KiB in 10 directories, and
# $T/src/file of 5 MB.
tree_30mb() {
	local d
	for d in $(seq 10); do
		mkdir -p "$T/src/big/d$d"
		head -c 3072000 /dev/urandom | split -b 102400 -a 2 - "$T/src/big/d$d/f"
	done
	head -c 5000000 /dev/urandom >"$T/src/file"
}

# some_files: a, b, c (100 KB each, different) and dir d with d/x.
some_files() {
	mkdir -p "$T/src/d"
	head -c 100000 /dev/urandom >"$T/src/a"
	head -c 100000 /dev/urandom >"$T/src/b"
	head -c 100000 /dev/urandom >"$T/src/c"
	head -c 100000 /dev/urandom >"$T/src/d/x"
}

# --- the log since a mark ------------------------------------------------------

# log_mark: the number of lines in poni's log now; log_since MARK: the
# lines added since.
log_mark() {
	if [ -f "$T/poni.log" ]; then
		wc -l <"$T/poni.log"
	else
		echo 0
	fi
}
log_since() {
	tail -n "+$(($1 + 1))" "$T/poni.log"
}

# count_log ERE [MARK]: lines matching ERE (since MARK).
count_log() {
	log_since "${2:-0}" | grep -Ec -- "$1"
}

# log_has_since MARK ERE [N]: at least N (1) lines since MARK match ERE.
log_has_since() {
	[ "$(count_log "$2" "$1")" -ge "${3:-1}" ]
}

# wait_log_since MARK ERE [SECONDS] [N]: wait until N (1) lines logged
# since MARK match ERE, else fail.
wait_log_since() {
	wait_poni "${3:-10}" log_has_since "$1" "$2" "${4:-1}" ||
		fail "$TEST_NAME" "no line matching /$2/ in poni's log (since line $1)"
}

# ere STRING: STRING with the characters special in an ERE escaped.
ere() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'
}

# --- the changes poni sees (-v) ----------------------------------------------------
#
# Started with -v, poni logs each change it sees ("changed: PATH"), in
# the order the kernel reported them (one inotify queue per sync). To show
# that poni did not see something, make a change it must see after it:
# once that one is logged, whatever came before is logged too.

# changes_since MARK: the paths poni logged as changed since MARK, sorted,
# each once.
changes_since() {
	log_since "$1" | sed -n 's/^.* debug: sync .*: changed: //p' | sort -u
}

# assert_changes_since MARK PATH...: since MARK poni saw changes of these
# paths (relative to the source) and of no other.
assert_changes_since() {
	local mark=$1 got want
	shift
	got=$(changes_since "$mark")
	want=$(printf '%s\n' "$@" | sort -u)
	if [ "$got" != "$want" ]; then
		printf '%s\n' "$got" | detail
		fail "$TEST_NAME" "poni saw changes of other paths than: $*"
	fi
}

# --- the status (SIGUSR1) ----------------------------------------------------------
#
# poni answers SIGUSR1 with one "status:" line per sync, giving the state
# it is in (idle, pending, running, backing off, ...). Asking is the
# positive way to learn that nothing more will happen: a sync that says
# "idle" has no run armed or going, so no later run can come from what
# it has seen so far.

# status_lines MARK: the "status:" lines (SIGUSR1) logged since MARK.
status_lines() {
	log_since "$1" | grep -E 'info: status: sync '
}

# status_count_is N MARK: at least N status lines since MARK.
status_count_is() {
	[ "$(status_lines "$2" | wc -l)" -ge "$1" ]
}

# poni_status [N]: ask poni (SIGUSR1) and print its N (1) status lines
# (the first N after the question); fails the test when none come in 5 s.
# shellcheck disable=SC2120 # the arguments are optional
poni_status() {
	local mark
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is "${1:-1}" "$mark" ||
		fail "$TEST_NAME" "no status line within 5 s of SIGUSR1"
	status_lines "$mark" | head -n "${1:-1}"
}

# status_matches ERE [N]: one of poni's N (1) status lines matches ERE.
status_matches() {
	poni_status "${2:-1}" | grep -Eq -- "$1"
}

# wait_status ERE [N] [SECONDS]: ask poni until one of its N (1) status
# lines matches ERE, else fail (5 s) showing the last answer.
wait_status() {
	wait_poni "${3:-5}" status_matches "$1" "${2:-1}" ||
		fail "$TEST_NAME" "no status line matching /$1/; the last: $(status_lines 0 | tail -n 1)"
}

# all_idle N: poni's N status lines all say idle.
all_idle() {
	local lines
	lines=$(poni_status "$1") || return 1
	[ "$(printf '%s\n' "$lines" | grep -c ': idle, watches: ')" = "$1" ]
}

# wait_idle [N] [SECONDS]: ask poni until all its N (1) syncs say idle
# (every change it has seen synced, nothing armed), else fail (10 s).
# shellcheck disable=SC2120 # the arguments are optional
wait_idle() {
	wait_poni "${2:-10}" all_idle "${1:-1}" ||
		fail "$TEST_NAME" "poni does not become idle: $(poni_status "${1:-1}" | tr '\n' ' ')"
}

# --- sshd ----------------------------------------------------------------------

# free_port: a TCP port on which nothing listens.
free_port() {
	local p _
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# listening PORT PID: PID itself listens on PORT (a free port may be taken
# by another test running at the same time: then this server exits, and
# the port is open all the same).
listening() {
	ss -Htlnp "sport = :$1" | grep -q "pid=$2,"
}

# start_sshd: an OpenSSH sshd on 127.0.0.1 with throwaway keys, letting the
# current user in with $SSH_KEY. Sets SSH_PORT SSH_KEY SSH_USER KNOWN_HOSTS
# (a known_hosts file holding the right host key) and SSHD_PID. Skips the
# test when sshd cannot run here.
start_sshd() {
	local _ cfg=$T/sshd_config
	[ -x "$SSHD" ] || skip "$TEST_NAME" "no sshd at $SSHD"
	command -v ssh >/dev/null || skip "$TEST_NAME" "no ssh client"
	if [ "$(id -u)" = 0 ]; then
		mkdir -p /run/sshd
	fi
	SSH_USER=$(id -un)
	SSH_KEY=$T/user_key
	KNOWN_HOSTS=$T/known_hosts
	rm -f "$T/host_key" "$T/host_key.pub" "$SSH_KEY" "$SSH_KEY.pub"
	ssh-keygen -q -t ed25519 -N '' -C poni-test-host -f "$T/host_key" ||
		fail "$TEST_NAME" "ssh-keygen failed"
	ssh-keygen -q -t ed25519 -N '' -C poni-test-user -f "$SSH_KEY" ||
		fail "$TEST_NAME" "ssh-keygen failed"
	cp "$SSH_KEY.pub" "$T/authorized_keys"
	chmod 600 "$T/authorized_keys"
	for _ in 1 2 3; do
		SSH_PORT=$(free_port) || fail "$TEST_NAME" "no free port"
		cat >"$cfg" <<-EOF
			Port $SSH_PORT
			ListenAddress 127.0.0.1
			HostKey $T/host_key
			PidFile $T/sshd.pid
			AuthorizedKeysFile $T/authorized_keys
			PubkeyAuthentication yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PermitRootLogin prohibit-password
			UsePAM no
			StrictModes no
			MaxStartups 100
			MaxSessions 100
			Subsystem sftp internal-sftp
		EOF
		"$SSHD" -D -e -f "$cfg" >>"$T/sshd.log" 2>&1 {NAP_FD}>&- &
		SSHD_PID=$!
		if wait_until 10 listening "$SSH_PORT" "$SSHD_PID"; then
			break
		fi
		stop_pids TERM "$SSHD_PID"
		wait "$SSHD_PID" 2>/dev/null
		SSHD_PID=
	done
	if [ -z "$SSHD_PID" ]; then
		detail <"$T/sshd.log"
		if [ "$(id -u)" = 0 ]; then
			fail "$TEST_NAME" "sshd did not start"
		fi
		skip "$TEST_NAME" "sshd cannot run as $SSH_USER here"
	fi
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$T/host_key.pub")" >"$KNOWN_HOSTS"
	export SSH_PORT SSH_KEY SSH_USER KNOWN_HOSTS
	# The fixture itself must work before poni is blamed for anything.
	if ! ssh -p "$SSH_PORT" -i "$SSH_KEY" -o BatchMode=yes \
		-o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
		-o ConnectTimeout=10 "$SSH_USER@127.0.0.1" true </dev/null >"$T/ssh_check.log" 2>&1; then
		cat "$T/ssh_check.log" "$T/sshd.log" | detail
		fail "$TEST_NAME" "cannot log in to the test sshd with ssh (test setup)"
	fi
}

# stop_sshd: stop sshd and its per-connection children.
stop_sshd() {
	local pids
	[ -n "$SSHD_PID" ] || return 0
	pids=$(descendants "$SSHD_PID")
	# shellcheck disable=SC2086 # one pid a word
	stop_pids TERM "$SSHD_PID" $pids
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# --- cleanup -------------------------------------------------------------------

# stop_poni_tree: stop the poni started by start_poni (SIGTERM) and
# whatever it left running (SIGKILL).
stop_poni_tree() {
	local pids
	[ -n "$PONI_PID" ] || return 0
	pids=$(descendants "$PONI_PID")
	stop_pids TERM "$PONI_PID"
	# shellcheck disable=SC2086 # one pid a word
	[ -n "$pids" ] && stop_pids KILL $pids
	wait "$PONI_PID" 2>/dev/null
	PONI_PID=
}

# Run at the end of every test (its subshell's EXIT trap): stop poni and
# what it left, stop sshd, remove the workspace.
cleanup() {
	local st=$? pids
	trap - EXIT
	stop_poni_tree
	stop_sshd
	if [ -n "$T" ] && [ -d "$T" ]; then
		# Anything still running with the workspace in its command line
		# (an rsync or ssh master poni left) is this test's doing.
		pids=$(mine "$T")
		# shellcheck disable=SC2086 # one pid a word
		[ -n "$pids" ] && stop_pids KILL $pids
		rm -rf "$T"
	fi
	exit "$st"
}
