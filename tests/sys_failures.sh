#!/bin/bash
# System tests: failures (poni(8)). A failed rsync (a non-zero exit, or
# killed) is logged with its exit code's meaning and rsync's own text and
# retried with a back-off (1 s doubling up to retry_max), the changes made
# meanwhile joining the retry and arriving once the target is back; the
# back-off starts again at 1 s after a success; exit 24 (files vanished)
# is a success; one sync's failures do not slow another sync.
#
# Churn seeds are random unless CHURN_SEED is set; tests using churn print
# theirs. ONLY=ERE runs only the tests whose name matches (see
# run_selected in lib_faults.sh).
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

# --- the back-off ------------------------------------------------------------------

# The ssh target goes down during a churn until poni has backed off to
# retry_max (4) twice: the failed runs follow the back-off (1, 2, 4, 4 s:
# no storm, the cap holds; the gaps between attempts are never shorter
# than the delay, nor twice the cap), and once sshd is back the replica
# converges.
t_target_down_ssh_backoff() {
	local seed t_down t_up mark_down mark_up n
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
	mark_down=$(log_mark)
	churn_start $((seed + 1)) 400 "$T/src"
	# the churn's changes flow: then the target goes away
	wait_log_since "$mark_down" ": ok in " "$LIMIT"
	mark_down=$(log_mark)
	t_down=$(now_us)
	stop_sshd
	wait_log_since "$mark_down" "retry in 4\.000 s" "$LIMIT" 2
	mark_up=$(log_mark)
	t_up=$(now_us)
	restart_sshd
	# the churn has done its part: changes made while the target was down
	churn_stop
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	log_since "$mark_down" | head -n $((mark_up - mark_down)) >"$T/down.log"
	n=$(grep -c ': failed in ' "$T/down.log")
	# (one more when a run under way at the cut failed too)
	if [ "$n" -lt 4 ] || [ "$n" -gt 5 ]; then
		grep -E 'failed in|retry in' "$T/down.log" | detail
		fail "$TEST_NAME" "$n failed runs until retry_max was reached twice, want 4 (1, 2, 4, 4 s)"
	fi
	echo "    $TEST_NAME: $n failed runs while down, gaps between them:" \
		"$(call_gaps $((t_down + 500000)) "$t_up" | tr '\n' ' ')"
	# the first call after the cut may follow a success at once
	gaps_within $((t_down + 500000)) "$t_up" 0.9 7.9
	check_backoff 4
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
	churn $((seed + 1)) 60 "$T/src"
	wait_log "retry in 4\.000 s" 15
	t_fix=$(now_us)
	rm "$T/blocker"
	mkdir "$T/blocker"
	wait_mirror "$T/src" "$T/blocker/dst" 15
	gaps_within 0 "$t_fix" 0.9 7.9
	check_backoff 4
	# the back-off starts again at 1 s after a success (now failing in
	# rsync: a target that went away after a good run is waited for)
	wait_idle
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
	wait_idle
	calls=$(rsync_calls)
	echo 24 >"$T/rsync-after"
	echo vanished >"$T/src/file"
	wait_log "ok in [0-9.]+ s \(1 path\), some files vanished during the run"
	# idle: no retry armed
	wait_idle
	assert_eq "$(rsync_calls)" $((calls + 1)) "rsync calls for a run that exits 24"
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
	wait_idle
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
	wait_idle
	touch "$T/rsync-kill"
	echo killed >"$T/src/file"
	wait_log "failed in [0-9.]+ s: rsync killed by signal 9"
	wait_log "retry in 1\.000 s"
	wait_same_file "$T/src/file" "$T/dst/file" 5
	assert_no_zombies
	stop_poni_ok TERM
	assert_nothing_left
}

# --- one sync's failures, another sync ------------------------------------------

# Sync a fails (its target's parent is a file) and backs off; a change
# of sync b arrives before a's next retry (4 s later), so a's failures
# hold b up in no way.
t_failing_sync_does_not_hold_up_another() {
	local n
	mkdir -p "$T/a" "$T/b"
	touch "$T/blocker"
	{
		echo "sync:"
		sync_local "$T/a/" "$T/blocker/dst"
		sync_local "$T/b/" "$T/b.dst"
	} | write_conf
	start_poni "$CONF"
	wait_log "sync $(ere "$T/a/") -> .*: retry in 4\.000 s"
	n=$(failures_of "$T/a/")
	echo y >"$T/b/y"
	wait_same_file "$T/b/y" "$T/b.dst/y"
	assert_eq "$(failures_of "$T/a/")" "$n" "failed runs of a while b's change went through"
	assert_poni_alive
	stop_poni_ok TERM
}

run_selected target_down_ssh_backoff t_target_down_ssh_backoff
run_selected local_target_failure_recovery t_local_target_failure_recovery
run_selected rsync_exit_24_is_success t_rsync_exit_24_is_success
run_selected rsync_exit_23_is_retried t_rsync_exit_23_is_retried
run_selected rsync_killed_is_retried t_rsync_killed_is_retried
run_selected failing_sync_does_not_hold_up_another t_failing_sync_does_not_hold_up_another
finish
