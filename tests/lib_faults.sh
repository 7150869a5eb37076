# shellcheck shell=bash
# tests/lib_faults.sh: helpers for the reliability tests (churn, mirrors
# over ssh, the back-off, watches, sysctls), used by sys_churn.sh,
# sys_failures.sh, sys_signals.sh, sys_tree.sh, sys_lost_events.sh and
# others, and by soak.sh. Source it after lib.sh.

CHURN=$TESTS_DIR/churn.sh

# A churn seed: $CHURN_SEED if set, else a random one (printed by churn.sh
# so that a failure can be replayed with CHURN_SEED=...).
churn_seed() {
	if [ -n "${CHURN_SEED:-}" ]; then
		echo "$CHURN_SEED"
	else
		echo $((RANDOM * 32768 + RANDOM))
	fi
}

# churn SEED N DIR: run churn.sh; its output (the seed line) is kept in
# $T/churn.out and shown with a FAIL line (see fail_mirror).
churn() {
	"$CHURN" "$@" >>"$T/churn.out" 2>&1
}

# churn_start SEED N DIR: the same in the background (its pid in
# CHURN_PID); churn_stop: stop it where it is (what it did so far is the
# source the replica must reach).
churn_start() {
	"$CHURN" "$@" >>"$T/churn.out" 2>&1 &
	CHURN_PID=$!
}
churn_stop() {
	kill "$CHURN_PID" 2>/dev/null
	wait "$CHURN_PID" 2>/dev/null
	CHURN_PID=
}

# --- trees -----------------------------------------------------------------

# tree_list DIR: type, mode, name and link target of everything under
# DIR, sorted (NUL-separated, as names may hold newlines).
tree_list() {
	(cd "$1" && find . -printf '%y %m %p -> %l\0') | sort -z
}

# same_mirror A B: diff -r without following symbolic links (compared as
# links: a dangling one is no error, a link to a directory is no loop)
# finds no difference, and every entry has the same type and mode.
same_mirror() {
	[ -d "$1" ] && [ -d "$2" ] &&
		diff -r --no-dereference "$1" "$2" >/dev/null 2>&1 &&
		cmp -s <(tree_list "$1") <(tree_list "$2")
}

# show_mirror_diff A B: what differs (for a FAIL line).
show_mirror_diff() {
	{
		diff -r --no-dereference "$1" "$2" 2>&1 | head -n 20
		diff <(tree_list "$1" | tr '\0\n' '\n?') <(tree_list "$2" | tr '\0\n' '\n?') |
			grep '^[<>]' | head -n 20
	} | detail
}

# wait_mirror A B [SECONDS]: wait until same_mirror, else fail with the
# differences, the churn seeds and the end of poni's log.
wait_mirror() {
	wait_poni "${3:-20}" same_mirror "$1" "$2" && return 0
	fail_mirror "$1" "$2" "does not converge within ${3:-20} s"
}

fail_mirror() {
	show_mirror_diff "$1" "$2"
	[ -s "$T/churn.out" ] && grep '^churn: seed' "$T/churn.out" | detail
	fail "$TEST_NAME" "replica $2 $3"
}

# elapsed US0: seconds (3 decimals) since US0 (a now_us value).
elapsed() {
	local d=$(($(now_us) - $1))
	printf '%d.%03d\n' $((d / 1000000)) $((d % 1000000 / 1000))
}

# in_range X LO HI: LO <= X <= HI (decimal numbers).
in_range() {
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}

# --- configs ---------------------------------------------------------------

# sync_ssh SRC DST [KEY: VALUE]...: the same over ssh to the test's sshd
# (start_sshd first), with strict host key checking.
sync_ssh() {
	local src=$1 dst=$2 l k
	shift 2
	echo "  $src:"
	echo "    remote_host: 127.0.0.1"
	echo "    remote_user: $SSH_USER"
	echo "    remote_path: $dst"
	echo "    priv_key: $SSH_KEY"
	echo "    known_hosts: $KNOWN_HOSTS"
	for k in interval:0 recurse:true delete:true port:"$SSH_PORT" strict_host_key:yes; do
		has_key "${k%%:*}" "$@" || echo "    ${k%%:*}: ${k#*:}"
	done
	for l in "$@"; do
		echo "    $l"
	done
}

# --- sshd --------------------------------------------------------------------

# restart_sshd: start the test's sshd again, same config, keys and port.
restart_sshd() {
	"$SSHD" -D -e -f "$T/sshd_config" >>"$T/sshd.log" 2>&1 &
	SSHD_PID=$!
	wait_until 10 listening "$SSH_PORT" "$SSHD_PID" || {
		detail <"$T/sshd.log"
		fail "$TEST_NAME" "sshd did not start again on port $SSH_PORT"
	}
}

# --- the rsync wrapper's calls (make_rsync_wrapper is in lib.sh) ----------------

# call_gaps FROM_US TO_US: the gaps in seconds (3 decimals) between
# consecutive wrapper calls made from FROM_US to TO_US (now_us values).
call_gaps() {
	awk -v from="$1" -v to="$2" '
		{ t = $1 * 1000000 }
		t >= from && t <= to { if (n++) printf "%.3f\n", (t - last) / 1e6; last = t }
	' "$T/rsync-calls"
}

# calls_between FROM_US TO_US
calls_between() {
	awk -v from="$1" -v to="$2" '{ t = $1 * 1000000 } t >= from && t <= to { n++ } END { print n + 0 }' \
		"$T/rsync-calls"
}

# align_second: sleep until 20 ms after the next whole second, so that
# what follows shortly happens within one second of the clock.
align_second() {
	local f us
	f=${EPOCHREALTIME#*.}
	us=$((1000000 - 10#$f + 20000))
	sleep "$((us / 1000000)).$(printf %06d $((us % 1000000)))"
}

# --- runs of one sync ----------------------------------------------------------

# runs_of SRC [MARK]: successful runs of the sync whose source is SRC;
# full_runs_of SRC [MARK]: those of the whole source.
runs_of() {
	count_log "sync $(ere "$1") -> .*: ok in " "${2:-0}"
}
full_runs_of() {
	count_log "sync $(ere "$1") -> .*: ok in [0-9.]+ s \(full\)" "${2:-0}"
}
failures_of() {
	count_log "sync $(ere "$1") -> .*: failed in " "${2:-0}"
}

# check_backoff CAP [SRC]: every "retry in X s" line (of SRC's sync) asks
# for 1 s after a success (or at first), else for twice the previous
# delay, at most CAP seconds. Fails the test with the retry lines if not.
check_backoff() {
	local cap=$1 pat="sync ${2:+$(ere "$2") }"
	if ! grep -E -- "$pat" "$T/poni.log" | awk -v cap="$cap" '
		/: ok in / { want = 1; next }
		/: retry in [0-9.]+ s/ {
			match($0, /retry in [0-9.]+ s/)
			v = substr($0, RSTART + 9, RLENGTH - 11) + 0
			if (v != want) { printf "retry in %s s, want %s s\n", v, want; bad = 1 }
			want = 2 * v; if (want > cap) want = cap
		}
		BEGIN { want = 1 }
		END { exit bad }' >"$T/backoff.err"; then
		{
			cat "$T/backoff.err"
			grep -E -- "$pat.*(retry in|ok in)" "$T/poni.log"
		} | detail
		fail "$TEST_NAME" "the retry delays do not follow 1 s doubling up to $cap s"
	fi
}

# --- processes -----------------------------------------------------------------

# leftovers: pids of the processes that hold the workspace in their
# command line (rsync, ssh, the rsync wrapper), but for the test's sshd,
# and of the test sshd's sessions.
leftovers() {
	{
		mine "$T" | grep -vx "${SSHD_PID:-none}"
		[ -n "$SSHD_PID" ] && descendants "$SSHD_PID"
	} | sort -u
}

no_leftovers() {
	[ -z "$(leftovers)" ]
}

# assert_nothing_left: no leftovers within 5 s (once poni is gone).
assert_nothing_left() {
	local p
	wait_until 5 no_leftovers && return 0
	for p in $(leftovers); do
		printf '%s: ' "$p"
		tr '\0' ' ' <"/proc/$p/cmdline"
		echo
	done | detail
	fail "$TEST_NAME" "processes left behind"
}

# poni_children: pids of the processes whose parent is poni.
poni_children() {
	[ -n "$PONI_PID" ] && pgrep -P "$PONI_PID"
}

# pid_state PID: the state letter of PID (Z for a zombie).
pid_state() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	echo "${stat%% *}"
}

# no_zombie_children: poni has no child that is a zombie.
no_zombie_children() {
	local c
	for c in $(poni_children); do
		[ "$(pid_state "$c")" != Z ] || return 1
	done
	return 0
}

assert_no_zombies() {
	wait_until 2 no_zombie_children || fail "$TEST_NAME" "poni leaves zombie children"
}

# --- sysctls -------------------------------------------------------------------
#
# A lowered sysctl affects every process on the machine, and other tests
# (other people's too) may run at the same time: hold an exclusive lock
# for as long as a value is lowered, write the value to restore into the
# lock file first, and restore what a holder killed before it could
# restore left there.

SYSCTL_LOCK=${TMPDIR:-/tmp}/poni-tests-sysctl.lock
SYSCTL_FD=
SYSCTL_SAVED=

# sysctl_lower NAME VALUE: set the sysctl NAME (fs.inotify....), saving
# its value; 1 if it cannot be written, or if NO_SYSCTL=1 (then the tests
# take another way, or skip).
sysctl_lower() {
	local file=/proc/sys/${1//.//} old line
	[ "${NO_SYSCTL:-0}" != 1 ] && [ -w "$file" ] || return 1
	exec {SYSCTL_FD}<>"$SYSCTL_LOCK" || return 1
	if ! flock -w 120 "$SYSCTL_FD"; then
		exec {SYSCTL_FD}>&-
		SYSCTL_FD=
		fail "$TEST_NAME" "cannot lock $SYSCTL_LOCK"
	fi
	# a value a killed holder did not restore
	while read -r line; do
		case $line in
		/proc/sys/fs/inotify/*\ [0-9]*) echo "${line#* }" >"${line%% *}" ;;
		esac
	done <"$SYSCTL_LOCK"
	old=$(cat "$file") || return 1
	echo "$file $old" >"$SYSCTL_LOCK"
	SYSCTL_SAVED="$file $old"
	trap faults_exit EXIT
	echo "$2" >"$file"
}

# sysctl_restore: put back what sysctl_lower changed, release the lock.
sysctl_restore() {
	[ -n "$SYSCTL_SAVED" ] || return 0
	echo "${SYSCTL_SAVED#* }" >"${SYSCTL_SAVED%% *}"
	: >"$SYSCTL_LOCK"
	SYSCTL_SAVED=
	exec {SYSCTL_FD}>&-
	SYSCTL_FD=
}

# The EXIT trap of a test that lowers a sysctl: restore it, then lib.sh's
# cleanup (with the test's exit status).
faults_exit() {
	local st=$?
	sysctl_restore
	(exit "$st")
	cleanup
}

# inotify_watches_in_use: inotify watches of all processes now.
inotify_watches_in_use() {
	find /proc/[0-9]*/fdinfo -type f -exec grep -Hc '^inotify' {} + 2>/dev/null |
		awk -F: '{ s += $2 } END { print s + 0 }'
}

# watched_inodes PID: the inode numbers (decimal) PID's inotify fds watch.
watched_inodes() {
	local h
	grep -sh '^inotify' /proc/"$1"/fdinfo/* |
		sed -n 's/.* ino:\([0-9a-f]*\) .*/\1/p' | while read -r h; do
		echo $((16#$h))
	done
}

# dir_inodes DIR...: the inode numbers of each DIR and every directory
# below it, sorted; kernel_watches PID: those PID's inotify watches hold,
# sorted.
dir_inodes() {
	find "$@" -type d -printf '%i\n' | sort -n
}
kernel_watches() {
	watched_inodes "$1" | sort -n
}

# watches_match PID DIR...: PID's inotify watches are exactly the
# directories of the DIRs: none missing, none left on a directory that
# went away or left the tree.
watches_match() {
	local pid=$1
	shift
	cmp -s <(dir_inodes "$@") <(kernel_watches "$pid")
}

# poni_watch_count: the number of watches poni's status line (SIGUSR1)
# gives for its first sync; empty when none comes within 5 s.
poni_watch_count() {
	local mark
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_until 5 status_count_is 1 "$mark" &&
		status_lines "$mark" | sed -n 's/.*, watches: \([0-9]*\).*/\1/p' | head -n 1
}

# check_watches DIR: poni watches exactly the directories of DIR, both by
# the kernel's account and by its own (waiting up to 5 s for its events
# to be read), else fail the test.
check_watches() {
	local want got
	wait_poni 5 watches_match "$PONI_PID" "$1" ||
		fail "$TEST_NAME" "watched inodes differ from the directories of $1: $(diff <(dir_inodes "$1") <(kernel_watches "$PONI_PID") | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
	want=$(dir_inodes "$1" | wc -l)
	got=$(poni_watch_count)
	assert_eq "$got" "$want" "poni's count of watched directories"
}

# --- selection -------------------------------------------------------------------

# run_selected NAME FUNCTION: run_test, unless $ONLY is set (an ERE) and
# NAME does not match it (then nothing is printed). For replays:
#   ONLY='^hup_' tests/run.sh sys_signals.sh
run_selected() {
	if [ -n "${ONLY:-}" ] && ! [[ $1 =~ $ONLY ]]; then
		return 0
	fi
	run_test "$@"
}
