#!/bin/bash
# System tests: "never lose a change". Failed runs are retried with a
# back-off (1 s doubling up to retry_max) and the changes made meanwhile
# arrive; rsync's exit 24 is success, 23 and a killed rsync are retried;
# same-size rewrites are not skipped; lost events (queue overflow, the
# watch limit, a missing or removed source, poni killed) end in a full
# sync; SIGHUP, SIGUSR1 and SIGTERM do what poni(8) says.
#
# Churn seeds are random unless CHURN_SEED is set; tests using churn print
# theirs. Tests that lower an fs.inotify sysctl (as root) hold a lock
# ($TMPDIR/poni-tests-sysctl.lock) while it is lowered and restore it at
# once, in their EXIT trap too; NO_SYSCTL=1 keeps them from touching any.
# ONLY=ERE runs only the tests whose name matches (see run_selected in
# lib_faults.sh).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

LIMIT=30

# gaps_within FROM_US TO_US LO HI: every gap between wrapper calls in the
# time range is LO..HI seconds; fails the test with the gaps if not.
gaps_within() {
	local gaps g
	gaps=$(call_gaps "$1" "$2")
	for g in $gaps; do
		in_range "$g" "$3" "$4" && continue
		echo "$gaps" | detail
		fail "$TEST_NAME" "a gap of $g s between failed attempts, want $3..$4 s"
	done
}

# pid_state PID: the state letter of PID (Z for a zombie).
pid_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
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

# --- back-off --------------------------------------------------------------------

# The ssh target goes down for 8 s during churn: the failed runs follow
# the back-off (1, 2, 4, 4 s with retry_max 4: no storm, the cap holds),
# and once sshd is back the replica converges.
t_target_down_ssh_backoff() {
	local seed ch t_down t_up mark_down mark_up n
	seed=$(churn_seed)
	echo "    $TEST_NAME: CHURN_SEED=$seed"
	start_sshd
	make_rsync_wrapper
	churn "$seed" 60 "$T/src"
	{
		echo "sync:"
		sync_ssh "$T/src/" "$T/dst" "retry_max: 4" "rsync: $T/bin/rsync"
	} | write_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	churn $((seed + 1)) 400 "$T/src" &
	ch=$!
	sleep 1
	mark_down=$(log_mark)
	t_down=$(now_us)
	stop_sshd
	sleep 8
	mark_up=$(log_mark)
	t_up=$(now_us)
	restart_sshd
	wait "$ch"
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	log_since "$mark_down" | head -n $((mark_up - mark_down)) >"$T/down.log"
	n=$(grep -c ': failed in ' "$T/down.log")
	if [ "$n" -lt 3 ] || [ "$n" -gt 5 ]; then
		grep -E 'failed in|retry in' "$T/down.log" | detail
		fail "$TEST_NAME" "$n failed runs in 8 s with the target down, want 3 to 5"
	fi
	echo "    $TEST_NAME: $n failed runs while down, gaps between them:" \
		"$(call_gaps $((t_down + 500000)) "$t_up" | tr '\n' ' ')"
	# the first call after the cut may follow a success at once
	gaps_within $((t_down + 500000)) "$t_up" 0.9 4.6
	check_backoff 4
	# 1, 2, 4, then 4 again: the cap
	if [ "$(grep -c 'retry in 4\.000 s' "$T/down.log")" -lt 2 ]; then
		grep -E 'failed in|retry in' "$T/down.log" | detail
		fail "$TEST_NAME" "retry_max 4 not reached twice in 8 s with the target down"
	fi
	assert_poni_alive
	stop_poni_ok TERM
	assert_nothing_left
}

# A local target that cannot be written (its parent is a regular file;
# root ignores permissions): failures retried after 1, 2, 4 s (retry_max
# 4, so that a slow churn on a loaded machine cannot stretch a gap); changes
# made meanwhile join the retry (no extra runs) and arrive once the target
# is fixed; after a success the back-off starts again at 1 s.
t_local_target_failure_recovery() {
	local seed t_fix mark
	seed=$(churn_seed)
	echo "    $TEST_NAME: CHURN_SEED=$seed"
	make_rsync_wrapper
	churn "$seed" 40 "$T/src"
	touch "$T/blocker"
	{
		echo "sync:"
		sync_local "$T/src/" "$T/blocker/dst" "rsync: $T/bin/rsync" "retry_max: 4"
	} | write_conf
	start_poni "$CONF"
	wait_log "retry in 1\.000 s"
	assert_contains "$T/poni.log" "error: sync $(ere "$T/src/ -> $T/blocker/dst"): failed in [0-9]+\.[0-9]{3} s: rsync exit [0-9]+ \([a-z]"
	assert_contains "$T/poni.log" "warning: sync $(ere "$T/src/ -> $T/blocker/dst"): retry in 1\.000 s$"
	churn $((seed + 1)) 100 "$T/src"
	wait_log "retry in 4\.000 s" 15
	t_fix=$(now_us)
	rm "$T/blocker"
	mkdir "$T/blocker"
	wait_mirror "$T/src" "$T/blocker/dst" 15
	gaps_within 0 "$t_fix" 0.9 4.6
	check_backoff 4
	# the back-off starts again at 1 s after a success (now failing in
	# rsync: a target that went away after a good run is waited for)
	settle
	mark=$(log_mark)
	touch "$T/rsync-sticky"
	echo 23 >"$T/rsync-fail"
	echo again >"$T/src/again"
	wait_log_since "$mark" "retry in" 10 2
	log_since "$mark" | grep -E 'retry in' | head -n 2 | tr '\n' ' ' |
		grep -Eq 'retry in 1\.000 s.*retry in 2\.000 s' || {
		log_since "$mark" | grep -E 'retry in' | detail
		fail "$TEST_NAME" "the back-off after a success is not 1 s, 2 s"
	}
	rm "$T/rsync-fail" "$T/rsync-sticky"
	wait_mirror "$T/src" "$T/blocker/dst" 10
	check_backoff 4
	assert_poni_alive
	stop_poni_ok TERM
	assert_nothing_left
}

# --- rsync's exit codes -------------------------------------------------------------

t_rsync_exit_24_is_success() {
	local calls
	mkdir -p "$T/src"
	make_rsync_wrapper
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	settle
	echo 24 >"$T/rsync-after"
	echo vanished >"$T/src/file"
	wait_log "ok in [0-9.]+ s \(1 path\), some files vanished during the run"
	calls=$(rsync_calls)
	sleep 1.5
	assert_eq "$(rsync_calls)" "$calls" "rsync calls after an exit 24"
	assert_not_contains "$T/poni.log" "failed in|retry in"
	cmp -s "$T/src/file" "$T/dst/file" || fail "$TEST_NAME" "file not copied"
	stop_poni_ok TERM
}

# Exit 23 (no copy made): logged with its meaning and rsync's own
# message, retried after 1 s; the change arrives by the retry.
t_rsync_exit_23_is_retried() {
	local label
	mkdir -p "$T/src"
	make_rsync_wrapper
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	settle
	echo 23 >"$T/rsync-fail"
	echo partial >"$T/src/file"
	label=$(ere "sync $T/src/ -> $T/dst")
	wait_log "failed in"
	assert_contains "$T/poni.log" "error: $label: failed in [0-9]+\.[0-9]{3} s: rsync exit 23 \(partial transfer due to error\): rsync: test fault$"
	wait_log "warning: $label: retry in 1\.000 s$"
	wait_same_file "$T/src/file" "$T/dst/file" 5
	assert_eq "$(count_log ': failed in ')" 1 "failed runs"
	stop_poni_ok TERM
	assert_nothing_left
}

t_rsync_killed_is_retried() {
	mkdir -p "$T/src"
	make_rsync_wrapper
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	settle
	touch "$T/rsync-kill"
	echo killed >"$T/src/file"
	wait_log "failed in [0-9.]+ s: rsync killed by signal 9"
	wait_log "retry in 1\.000 s"
	wait_same_file "$T/src/file" "$T/dst/file" 5
	assert_no_zombies
	stop_poni_ok TERM
	assert_nothing_left
}

# --- no silent skip -------------------------------------------------------------

# Files rewritten in place with the same size, 0.1 s after the previous
# version arrived (so within the same second, often): every version must
# reach the replica.
t_no_silent_skip_same_size() {
	local i k c
	local -a vals=(aaaa bbbb cccc dddd)
	mkdir -p "$T/src"
	for k in 1 2 3; do
		printf zzzz >"$T/src/f$k"
	done
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	for i in $(seq 40); do
		c=${vals[i % 4]}
		for k in 1 2 3; do
			printf '%s' "$c" >"$T/src/f$k"
		done
		for k in 1 2 3; do
			wait_poni 5 cmp -s "$T/src/f$k" "$T/dst/f$k" ||
				fail "$TEST_NAME" "round $i: f$k is '$(cat "$T/dst/f$k")' on the replica, want '$c'"
		done
		sleep 0.1
	done
	stop_poni_ok TERM
}

# A file replaced (by rename, as editors do) by one of the same size and
# the very same mtime: rsync's quick check sees nothing to do, so the
# run must tell it to ignore times.
t_no_silent_skip_same_mtime() {
	local i c
	local -a vals=(aaaa bbbb cccc)
	mkdir -p "$T/src" "$T/stage"
	printf zzzz >"$T/src/f"
	touch -d @1700000000 "$T/src/f"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	for i in $(seq 20); do
		c=${vals[i % 3]}
		printf '%s' "$c" >"$T/stage/f"
		touch -d @1700000000 "$T/stage/f"
		mv "$T/stage/f" "$T/src/f"
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: the replica has '$(cat "$T/dst/f")', want '$c' (same size and mtime)"
		sleep 0.1
	done
	stop_poni_ok TERM
}

# The same for runs of the whole source ("full" runs): a sync without
# recurse makes only those. A file rewritten with the same size within the
# second of the run that copied its previous version must still arrive.
t_no_silent_skip_full_runs() {
	local i lo up
	local -a los=(aaaa bbbb cccc dddd eeee) ups=(AAAA BBBB CCCC DDDD EEEE)
	mkdir -p "$T/src"
	printf zzzz >"$T/src/f"
	mirror_conf "recurse: false"
	start_poni "$CONF"
	wait_runs 1
	for i in 0 1 2 3 4; do
		lo=${los[i]} up=${ups[i]}
		align_second
		printf '%s' "$lo" >"$T/src/f"
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: '$lo' does not arrive"
		sleep 0.1
		printf '%s' "$up" >"$T/src/f"
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: the replica keeps '$(cat "$T/dst/f")', want '$up' (same size, same second: rsync's quick check in a full run)"
	done
	stop_poni_ok TERM
}

# A change carried by a run that failed: the retry (a full run) must copy
# it, even when its size did not change and the previous version was
# copied within the same second.
t_no_silent_skip_retry() {
	local i lo up mark
	local -a los=(aaaa bbbb cccc) ups=(AAAA BBBB CCCC)
	mkdir -p "$T/src"
	printf zzzz >"$T/src/f"
	make_rsync_wrapper
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	settle
	for i in 0 1 2; do
		lo=${los[i]} up=${ups[i]}
		align_second
		printf '%s' "$lo" >"$T/src/f"
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: '$lo' does not arrive"
		mark=$(log_mark)
		echo 23 >"$T/rsync-fail"
		sleep 0.1
		printf '%s' "$up" >"$T/src/f"
		wait_log_since "$mark" "retry in" 5
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: after the retry the replica keeps '$(cat "$T/dst/f")', want '$up' (same size, same second: rsync's quick check in the retry)"
	done
	stop_poni_ok TERM
}

# poni killed right after a run; the file is rewritten (same size, same
# second) before poni is started again: its initial sync must copy it.
t_no_silent_skip_restart() {
	mkdir -p "$T/src"
	printf zzzz >"$T/src/f"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	settle
	align_second
	printf aaaa >"$T/src/f"
	wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" || fail "$TEST_NAME" "'aaaa' does not arrive"
	kill -KILL "$PONI_PID"
	wait "$PONI_PID" 2>/dev/null
	PONI_PID=
	printf bbbb >"$T/src/f"
	start_poni "$CONF"
	wait_runs 2
	wait_poni 3 cmp -s "$T/src/f" "$T/dst/f" ||
		fail "$TEST_NAME" "after the restart the replica keeps '$(cat "$T/dst/f")', want 'bbbb' (same size, same second: rsync's quick check in the initial sync)"
	stop_poni_ok TERM
}

# --- lost events ---------------------------------------------------------------

# The inotify queue overflows: poni logs it, rescans (watching the
# directories whose creation was lost), syncs everything; no restart.
# As root fs.inotify.max_queued_events is 16 while poni starts (the value
# is taken when the inotify instance is made); otherwise poni is stopped
# (SIGSTOP) while far more events than the default queue holds happen.
t_queue_overflow() {
	local d pid stopped=
	mkdir -p "$T/src"
	mirror_conf
	if sysctl_lower fs.inotify.max_queued_events 16; then
		start_poni "$CONF"
		wait_log "watching"
		sysctl_restore
	else
		start_poni "$CONF"
		wait_log "watching"
		stopped=1
	fi
	pid=$PONI_PID
	wait_runs 1
	settle
	# 3 events (create, attrib, close) per file, more than the 16384
	# the default queue holds; then directories, likely among the lost
	mkdir "$T/src/flat"
	settle
	[ -n "$stopped" ] && kill -STOP "$PONI_PID"
	touch "$T/src/flat/f"{1..8000}
	mkdir -p "$T/src/burst"{1..40}
	for d in "$T/src/burst"{1..40}; do
		touch "$d/f"{1..50}
	done
	[ -n "$stopped" ] && kill -CONT "$PONI_PID"
	wait_log "inotify queue overflow" 10
	assert_contains "$T/poni.log" "fs\.inotify\.max_queued_events"
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	# burst33 was made while events were lost: it is watched now
	settle
	echo late >"$T/src/burst33/late"
	mkdir "$T/src/burst33/sub"
	echo later >"$T/src/burst33/sub/later"
	wait_mirror "$T/src" "$T/dst" 5
	assert_eq "$PONI_PID" "$pid" "poni's pid"
	assert_poni_alive
	assert_eq "$(count_log ' starting: ')" 1 "starts"
	stop_poni_ok TERM
}

# start_poni_watch_limit LIMIT: start poni with at most LIMIT inotify
# watches for its user: in a user namespace of its own
# (/proc/sys/user/max_inotify_watches there; nothing else on the machine
# is affected), else (root, no user namespaces) by lowering
# fs.inotify.max_user_watches for everyone to the watches in use + LIMIT.
# Sets WL_MODE to userns or global; 1 if neither is possible.
start_poni_watch_limit() {
	if command -v nsenter >/dev/null && unshare -U -r true 2>/dev/null; then
		WL_MODE=userns
		# shellcheck disable=SC2016 # for sh and perl
		unshare -U -r -- sh -c 'echo "$1" >/proc/sys/user/max_inotify_watches && shift && exec "$@"' \
			sh "$1" perl -e '$SIG{INT} = $SIG{QUIT} = "DEFAULT"; exec { $ARGV[0] } @ARGV or die "exec: $!\n"' \
			"$PONI" -c "$CONF" >>"$T/poni.log" 2>&1 &
		PONI_PID=$!
		return 0
	fi
	WL_MODE=global
	sysctl_lower fs.inotify.max_user_watches $(($(inotify_watches_in_use) + $1)) || return 1
	start_poni "$CONF"
}

# raise_watch_limit: undo start_poni_watch_limit's limit.
raise_watch_limit() {
	if [ "$WL_MODE" = userns ]; then
		nsenter -t "$PONI_PID" -U --preserve-credentials \
			sh -c 'echo 1000000 >/proc/sys/user/max_inotify_watches' ||
			fail "$TEST_NAME" "cannot raise the limit in poni's user namespace"
	else
		sysctl_restore
	fi
}

# unwatched_dirs: directories under $T/src that poni has no watch on.
unwatched_dirs() {
	local w i d
	w=" $(watched_inodes "$PONI_PID" | tr '\n' ' ') "
	find "$T/src" -type d -printf '%i %p\n' | while read -r i d; do
		case $w in *" $i "*) ;; *) echo "$d" ;; esac
	done
}

# The watch limit leaves directories unwatched: poni names the sysctl,
# its value and the count, syncs them by the 10 s fallback, and watches
# them all once the limit is raised.
t_watch_limit() {
	local a b n d missing want
	for a in 1 2 3 4 5 6; do
		for b in 1 2 3 4 5 6 7 8 9; do
			mkdir -p "$T/src/d$a/e$b"
			echo "$a $b" >"$T/src/d$a/e$b/file"
		done
	done
	n=$(find "$T/src" -type d | wc -l) # 61
	mirror_conf
	start_poni_watch_limit 30 || skip "$TEST_NAME" "cannot limit inotify watches here"
	wait_log "fs\.inotify\.max_user_watches" 10
	if [ "$WL_MODE" = userns ]; then
		missing=$((n - 30))
		want="left $missing directories unwatched: raise fs\.inotify\.max_user_watches \(now $(sysctl -n fs.inotify.max_user_watches)\) by at least $missing;"
	else
		want="left [0-9]+ director(y|ies) unwatched: raise fs\.inotify\.max_user_watches \(now $(sysctl -n fs.inotify.max_user_watches)\) by at least [0-9]+;"
	fi
	assert_contains "$T/poni.log" "$want"
	wait_runs 1
	wait_mirror "$T/src" "$T/dst" 10
	# change files only where no watch is: the fallback's full sync
	# (every 10 s) must bring them
	unwatched_dirs >"$T/unwatched"
	[ -s "$T/unwatched" ] || fail "$TEST_NAME" "every directory is watched (the limit did not work)"
	while read -r d; do
		echo "changed while unwatched" >>"$d/file"
		echo new >"$d/new"
	done <"$T/unwatched"
	wait_mirror "$T/src" "$T/dst" 15
	assert_poni_alive
	raise_watch_limit
	wait_log "every directory is watched again" 15
	[ -z "$(unwatched_dirs)" ] || fail "$TEST_NAME" "directories still unwatched: $(unwatched_dirs | head -n 3)"
	# now a change there is seen at once
	d=$(head -n 1 "$T/unwatched")
	echo quick >"$d/quick"
	wait_mirror "$T/src" "$T/dst" 3
	stop_poni_ok TERM
	sysctl_restore
}

# The source does not exist at the start (a disk not mounted): logged,
# poni keeps running, and within 10 s of its appearance it is synced.
t_source_missing_at_start() {
	local mark
	mirror_conf
	start_poni "$CONF"
	wait_log "sync $(ere "$T/src/") -> .*: cannot watch the source: .*looking again every 10 s"
	sleep 0.3
	assert_poni_alive
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is 1 "$mark" || fail "$TEST_NAME" "no status line"
	status_lines "$mark" | grep -q ': waiting for the source' ||
		fail "$TEST_NAME" "status is not 'waiting for the source': $(status_lines "$mark")"
	mkdir -p "$T/src/a/b"
	echo one >"$T/src/one"
	echo two >"$T/src/a/b/two"
	wait_mirror "$T/src" "$T/dst" 13
	wait_log "the source is there"
	wait_log "ok in [0-9.]+ s \(full\)"
	# and it is watched
	echo three >"$T/src/a/three"
	wait_mirror "$T/src" "$T/dst" 3
	stop_poni_ok TERM
}

# The source is removed while poni runs, then made again (by mkdir after
# a while, then by a rename in at once): the replica follows.
t_source_removed_and_recreated() {
	mkdir -p "$T/src/a"
	echo one >"$T/src/one"
	echo two >"$T/src/a/two"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	wait_mirror "$T/src" "$T/dst"
	rm -rf "$T/src"
	wait_log "sync $(ere "$T/src/") -> .*: the source went away"
	sleep 0.3
	assert_poni_alive
	mkdir -p "$T/src/c"
	echo three >"$T/src/c/three"
	wait_mirror "$T/src" "$T/dst" 13
	# moved away and replaced at once
	mkdir -p "$T/next/d"
	echo four >"$T/next/d/four"
	mv "$T/src" "$T/old"
	mv "$T/next" "$T/src"
	wait_mirror "$T/src" "$T/dst" 13
	echo five >"$T/src/d/five"
	wait_mirror "$T/src" "$T/dst" 3
	# the old tree is not followed any more
	echo stray >"$T/old/stray"
	sleep 1
	assert_absent "$T/dst/stray"
	assert_poni_alive
	stop_poni_ok TERM
}

# poni killed with SIGKILL during churn and started again: the initial
# sync of the new one brings what the old one missed.
t_kill9_restart() {
	local seed ch
	seed=$(churn_seed)
	echo "    $TEST_NAME: CHURN_SEED=$seed"
	churn "$seed" 40 "$T/src"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	churn $((seed + 1)) 250 "$T/src" &
	ch=$!
	sleep 1
	kill -KILL "$PONI_PID"
	wait "$PONI_PID" 2>/dev/null
	PONI_PID=
	sleep 0.5
	start_poni "$CONF"
	wait "$ch"
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	assert_eq "$(count_log ' starting: ')" 2 "starts"
	assert_no_zombies
	stop_poni_ok TERM
	assert_nothing_left
}

# --- SIGHUP ---------------------------------------------------------------------

# An unchanged config: the sync is not touched (no new full run), and a
# change pending (interval 2 s) when the HUP came still arrives.
t_hup_unchanged_keeps_pending() {
	local mark
	mkdir -p "$T/src"
	echo old >"$T/src/old"
	mirror_conf "interval: 2"
	start_poni "$CONF"
	wait_runs 1
	settle
	mark=$(log_mark)
	echo pending >"$T/src/pending"
	sleep 0.3
	kill -HUP "$PONI_PID"
	wait_log "reloaded .*: 1 sync unchanged, 0 added, 0 removed"
	wait_same_file "$T/src/pending" "$T/dst/pending" 5
	wait_log_since "$mark" ": ok in " 5
	sleep 0.5
	assert_eq "$(full_runs_of "$T/src/" "$mark")" 0 "full runs after the HUP"
	assert_eq "$(runs_of "$T/src/" "$mark")" 1 "runs after the HUP"
	stop_poni_ok TERM
}

# A HUP with the config unchanged while the sync backs off: the back-off
# goes on (the next delay doubles, no run at once, no reset to 1 s).
t_hup_keeps_backoff() {
	local mark calls
	mkdir -p "$T/src"
	touch "$T/blocker"
	make_rsync_wrapper
	{
		echo "sync:"
		sync_local "$T/src/" "$T/blocker/dst" "rsync: $T/bin/rsync"
	} | write_conf
	start_poni "$CONF"
	wait_log "retry in 2\.000 s"
	calls=$(rsync_calls)
	mark=$(log_mark)
	kill -HUP "$PONI_PID"
	wait_log "reloaded .*: 1 sync unchanged"
	sleep 1
	assert_eq "$(rsync_calls)" "$calls" "rsync calls within 1 s of the HUP"
	wait_log_since "$mark" "retry in" 5
	log_since "$mark" | grep -E 'retry in' | head -n 1 | grep -q 'retry in 4\.000 s' || {
		log_since "$mark" | detail
		fail "$TEST_NAME" "the back-off did not go on through the HUP"
	}
	stop_poni_ok TERM
}

# A HUP with the config unchanged during a run (slowed with --bwlimit):
# the run goes on and ends well, no new full run.
t_hup_keeps_running_run() {
	local mark
	mkdir -p "$T/src"
	make_rsync_wrapper --bwlimit=1000
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	settle
	head -c 2500000 /dev/urandom >"$T/src/big"
	wait_poni 5 poni_rsync_running || fail "$TEST_NAME" "the run does not start"
	mark=$(log_mark)
	kill -HUP "$PONI_PID"
	wait_log "reloaded .*: 1 sync unchanged"
	poni_rsync_running || fail "$TEST_NAME" "the run ended at the HUP (or too soon for the test)"
	wait_same_file "$T/src/big" "$T/dst/big" 10
	wait_log_since "$mark" ": ok in [0-9.]+ s \(1 path\)" 5
	assert_eq "$(count_log ': failed in ' "$mark")" 0 "failed runs"
	assert_eq "$(full_runs_of "$T/src/" "$mark")" 0 "full runs"
	stop_poni_ok TERM
}

# A sync added and one removed: the new one gets its initial (full) sync,
# the removed one stops, the unchanged one is not resynced.
t_hup_add_and_remove_sync() {
	local mark
	mkdir -p "$T/a" "$T/b" "$T/c"
	echo a >"$T/a/a"
	echo b >"$T/b/b"
	echo c >"$T/c/c"
	{
		echo "sync:"
		sync_local "$T/a/" "$T/a.dst"
		sync_local "$T/b/" "$T/b.dst"
	} | write_conf
	start_poni "$CONF"
	wait_runs 2
	settle
	mark=$(log_mark)
	{
		echo "sync:"
		sync_local "$T/a/" "$T/a.dst"
		sync_local "$T/c/" "$T/c.dst"
	} | write_conf
	kill -HUP "$PONI_PID"
	wait_log "reloaded .*: 1 sync unchanged, 1 added, 1 removed"
	assert_contains "$T/poni.log" "sync $(ere "$T/b/") -> .*: removed from the config"
	wait_mirror "$T/c" "$T/c.dst" 10
	wait_log_since "$mark" "sync $(ere "$T/c/") -> .*: ok in [0-9.]+ s \(full\)"
	echo a2 >"$T/a/a2"
	echo b2 >"$T/b/b2"
	echo c2 >"$T/c/c2"
	wait_mirror "$T/a" "$T/a.dst" 5
	wait_mirror "$T/c" "$T/c.dst" 5
	sleep 1
	assert_eq "$(full_runs_of "$T/c/" "$mark")" 1 "full runs of the new sync"
	assert_absent "$T/b.dst/b2"
	assert_eq "$(full_runs_of "$T/a/" "$mark")" 0 "full runs of the unchanged sync"
	assert_eq "$(runs_of "$T/b/" "$mark")" 0 "runs of the removed sync"
	stop_poni_ok TERM
}

# A broken config: the error is logged, the running one stays in force.
t_hup_broken_config() {
	local good
	mkdir -p "$T/src"
	mirror_conf
	good=$(cat "$CONF")
	start_poni "$CONF"
	wait_runs 1
	printf 'sync: [\n' >"$CONF"
	kill -HUP "$PONI_PID"
	wait_log "reload: .*poni\.yml:[0-9]+(:[0-9]+)?: .*; the running configuration stays in force"
	assert_poni_alive
	echo after >"$T/src/after"
	wait_same_file "$T/src/after" "$T/dst/after" 5
	# a good config again is taken
	printf '%s\n' "$good" >"$CONF"
	kill -HUP "$PONI_PID"
	wait_log "reloaded .*: 1 sync unchanged"
	echo again >"$T/src/again"
	wait_same_file "$T/src/again" "$T/dst/again" 5
	stop_poni_ok TERM
}

# logrotate: the log file moved away, SIGHUP, new lines go to a new file
# at the old path.
t_hup_reopens_log() {
	mkdir -p "$T/src"
	{
		echo "log: $T/poni.log"
		echo "sync:"
		sync_local "$T/src/" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_runs 1
	mv "$T/poni.log" "$T/poni.log.1"
	kill -HUP "$PONI_PID"
	wait_until 5 test -s "$T/poni.log" || fail "$TEST_NAME" "no new log file after SIGHUP"
	echo x >"$T/src/x"
	wait_same_file "$T/src/x" "$T/dst/x" 5
	wait_log ": ok in [0-9.]+ s \(1 path\)" 5
	assert_not_contains "$T/poni.log.1" "\(1 path\)"
	assert_contains "$T/poni.log.1" "\(full\)"
	stop_poni_ok TERM
	assert_contains "$T/poni.log" "stopped"
}

# --- SIGUSR1 ---------------------------------------------------------------------

t_usr1_status_idle() {
	local mark
	mkdir -p "$T/a/sub" "$T/b"
	{
		echo "sync:"
		sync_local "$T/a/" "$T/a.dst"
		sync_local "$T/b/" "$T/b.dst"
	} | write_conf
	start_poni "$CONF"
	wait_runs 2
	settle
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is 2 "$mark" || fail "$TEST_NAME" "no status lines"
	sleep 0.3
	assert_eq "$(status_lines "$mark" | wc -l)" 2 "status lines"
	status_lines "$mark" | grep -Eq "status: sync $(ere "$T/a/ -> $T/a.dst"): idle, watches: 2, last ok [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z, last error never$" ||
		fail "$TEST_NAME" "bad status line for a: $(status_lines "$mark" | head -n 1)"
	status_lines "$mark" | grep -Eq "status: sync $(ere "$T/b/ -> $T/b.dst"): idle, watches: 1, last ok [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z, last error never$" ||
		fail "$TEST_NAME" "bad status line for b: $(status_lines "$mark" | tail -n 1)"
	stop_poni_ok TERM
}

t_usr1_status_backing_off() {
	local mark
	mkdir -p "$T/src"
	touch "$T/blocker"
	{
		echo "sync:"
		sync_local "$T/src/" "$T/blocker/dst"
	} | write_conf
	start_poni "$CONF"
	wait_log "retry in 2\.000 s"
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is 1 "$mark" || fail "$TEST_NAME" "no status line"
	status_lines "$mark" | grep -Eq "status: sync $(ere "$T/src/ -> $T/blocker/dst"): backing off \(next try in [0-9.]+ s\), watches: 1, last ok never, last error [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z: rsync exit [0-9]+ \(.*\)" ||
		fail "$TEST_NAME" "bad status line: $(status_lines "$mark")"
	stop_poni_ok TERM
}

# SIGUSR1 while a change waits for its interval (pending), then during a
# long run (slowed with --bwlimit) in which a file changes (running,
# changed since the run began): that change arrives by the run after.
t_usr1_status_pending_running() {
	local mark label
	mkdir -p "$T/src"
	make_rsync_wrapper --bwlimit=1000
	mirror_conf "interval: 1.5" "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	settle
	label=$(ere "$T/src/ -> $T/dst")
	head -c 3000000 /dev/urandom >"$T/src/big"
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is 1 "$mark" || fail "$TEST_NAME" "no status line"
	status_lines "$mark" | grep -Eq "status: sync $label: pending \(next try in [01]\.[0-9] s\), watches: 1, last ok [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z, last error never$" ||
		fail "$TEST_NAME" "bad status line while pending: $(status_lines "$mark")"
	wait_poni 5 poni_rsync_running || fail "$TEST_NAME" "the run does not start"
	sleep 0.3
	echo during >"$T/src/during"
	sleep 0.2
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is 1 "$mark" || fail "$TEST_NAME" "no status line"
	status_lines "$mark" | grep -Eq "status: sync $label: running, changed since the run began, watches: 1, " ||
		fail "$TEST_NAME" "bad status line while running: $(status_lines "$mark")"
	poni_rsync_running || fail "$TEST_NAME" "the run ended too soon for the test (bwlimit)"
	wait_same_file "$T/src/during" "$T/dst/during" 15
	wait_same_file "$T/src/big" "$T/dst/big" 5
	stop_poni_ok TERM
}

# --- SIGTERM -------------------------------------------------------------------------

# SIGTERM during a long rsync over ssh (slowed with --bwlimit): rsync
# gets its 3 s, then is stopped; poni exits 0 within about 4 s, removes
# its pidfile and leaves no rsync, ssh or sshd session behind.
t_sigterm_long_rsync_ssh() {
	local t0 st took
	start_sshd
	mkdir -p "$T/src"
	head -c 20000000 /dev/urandom >"$T/src/big"
	make_rsync_wrapper --bwlimit=2000
	{
		echo "sync:"
		sync_ssh "$T/src/" "$T/dst" "rsync: $T/bin/rsync"
	} | write_conf
	start_poni "$CONF" -p "$T/poni.pid"
	wait_poni 10 test -s "$T/rsync-calls" || fail "$TEST_NAME" "rsync did not start"
	sleep 1.5
	poni_rsync_running || fail "$TEST_NAME" "rsync no longer runs (too fast?)"
	assert_eq "$(cat "$T/poni.pid")" "$PONI_PID" "pidfile"
	t0=$(now_us)
	stop_poni TERM
	st=$?
	took=$(elapsed "$t0")
	assert_eq "$st" 0 "exit status"
	in_range "$took" 2.5 5.5 || fail "$TEST_NAME" "poni took $took s to stop, want 3 to 5 s"
	assert_absent "$T/poni.pid"
	assert_nothing_left
}

stubborn_running() {
	[ -n "$(mine "$T/stubborn-child")" ]
}

# An rsync that does not stop on SIGTERM (a stand-in: a bash script that
# notes the time of each SIGTERM and survives it, and a child that
# ignores it), poni stopped with SIGINT: it sends SIGTERM to the process
# group 3 s later, SIGKILL 1 s after that; exit 0, nothing left.
t_sigint_stubborn_rsync_killed() {
	local t0 st took term
	mkdir -p "$T/src" "$T/bin"
	cat >"$T/bin/rsync" <<-EOF
		#!/bin/bash
		trap 'echo "\$EPOCHREALTIME" >>"$T/term-at"' TERM
		(trap '' TERM; exec -a "$T/stubborn-child" sleep 60) &
		while :; do sleep 0.1; done
	EOF
	chmod +x "$T/bin/rsync"
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF" -p "$T/poni.pid"
	wait_poni 10 stubborn_running || fail "$TEST_NAME" "the stand-in did not start"
	t0=$(now_us)
	stop_poni INT
	st=$?
	took=$(elapsed "$t0")
	assert_eq "$st" 0 "exit status"
	[ -s "$T/term-at" ] || fail "$TEST_NAME" "the running rsync got no SIGTERM"
	term=$(awk -v t0="$t0" '{ printf "%.3f\n", ($1 * 1e6 - t0) / 1e6; exit }' "$T/term-at")
	in_range "$term" 2.8 3.6 || fail "$TEST_NAME" "rsync got SIGTERM $term s after poni got SIGINT, want 3 s"
	in_range "$took" 3.8 5.5 || fail "$TEST_NAME" "poni took $took s to stop, want about 4 s"
	assert_absent "$T/poni.pid"
	assert_nothing_left
}

run_selected target_down_ssh_backoff t_target_down_ssh_backoff
run_selected local_target_failure_recovery t_local_target_failure_recovery
run_selected rsync_exit_24_is_success t_rsync_exit_24_is_success
run_selected rsync_exit_23_is_retried t_rsync_exit_23_is_retried
run_selected rsync_killed_is_retried t_rsync_killed_is_retried
run_selected no_silent_skip_same_size t_no_silent_skip_same_size
run_selected no_silent_skip_same_mtime t_no_silent_skip_same_mtime
run_selected no_silent_skip_full_runs t_no_silent_skip_full_runs
run_selected no_silent_skip_retry t_no_silent_skip_retry
run_selected no_silent_skip_restart t_no_silent_skip_restart
run_selected queue_overflow t_queue_overflow
run_selected watch_limit t_watch_limit
run_selected source_missing_at_start t_source_missing_at_start
run_selected source_removed_and_recreated t_source_removed_and_recreated
run_selected kill9_restart t_kill9_restart
run_selected hup_unchanged_keeps_pending t_hup_unchanged_keeps_pending
run_selected hup_keeps_backoff t_hup_keeps_backoff
run_selected hup_keeps_running_run t_hup_keeps_running_run
run_selected hup_add_and_remove_sync t_hup_add_and_remove_sync
run_selected hup_broken_config t_hup_broken_config
run_selected hup_reopens_log t_hup_reopens_log
run_selected usr1_status_idle t_usr1_status_idle
run_selected usr1_status_backing_off t_usr1_status_backing_off
run_selected usr1_status_pending_running t_usr1_status_pending_running
run_selected sigterm_long_rsync_ssh t_sigterm_long_rsync_ssh
run_selected sigint_stubborn_rsync_killed t_sigint_stubborn_rsync_killed
finish
