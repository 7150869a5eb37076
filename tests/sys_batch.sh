#!/bin/bash
# System tests: batching. The first change arms an interval timer and the
# changes until it fires share one rsync run; changes during a run give
# exactly one more run; interval 0 syncs at once; one sync's run does not
# hold up another sync.
#
# The checks count runs and order events rather than time them, so that a
# loaded machine cannot fail them: a run is made to last by holding the
# rsync wrapper ($T/rsync-hold), "nothing more will run" is poni's own
# word (SIGUSR1: idle), and the one timing check is a lower bound.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# elapsed_since T0: seconds since T0 (from now_us), with 3 decimals.
elapsed_since() {
	local d=$(($(now_us) - $1))
	printf '%d.%03d\n' $((d / 1000000)) $((d % 1000000 / 1000))
}

# 200 files written within the interval (2 s) make one run of 200 paths.
t_burst_of_200_files_is_one_run() {
	local t0 took i mark runs
	mkdir -p "$T/src"
	mirror_conf "interval: 2"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	mark=$(log_mark)
	t0=$(now_us)
	for i in $(seq 200); do
		echo "file $i" >"$T/src/f$i"
	done
	took=$(($(now_us) - t0))
	wait_same_tree "$T/src" "$T/dst" 10
	wait_idle
	runs=$(count_log ': ok in ' "$mark")
	if [ "$took" -lt 2000000 ]; then
		assert_eq "$runs" 1 "runs for 200 files written in $(elapsed_since "$t0") s"
		[ "$(count_log ': ok in [0-9.]+ s \(200 paths\)$' "$mark")" = 1 ] ||
			fail "$TEST_NAME" "the run does not carry the 200 paths: $(log_since "$mark" | grep ': ok in ')"
	elif [ "$runs" -gt $((took / 2000000 + 1)) ]; then
		# (a loaded machine: the writing outlasted the interval; still
		# at most one run per interval)
		fail "$TEST_NAME" "$runs runs for 200 files written in $((took / 1000000)) s with interval 2"
	fi
}

# A change waits for its interval: it arrives 1 s or more after it was
# made (a lower bound, which a loaded machine cannot break), by one run.
t_single_change_waits_for_interval() {
	local t0 mark
	mkdir -p "$T/src"
	mirror_conf "interval: 1"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	mark=$(log_mark)
	t0=$(now_us)
	echo x >"$T/src/x"
	wait_poni 10 cmp -s "$T/src/x" "$T/dst/x" ||
		fail "$TEST_NAME" "change not synced within 10 s with interval 1"
	[ $(($(now_us) - t0)) -ge 1000000 ] ||
		fail "$TEST_NAME" "interval 1: the change arrived $(elapsed_since "$t0") s after it was made"
	wait_idle
	assert_eq "$(count_log ': ok in ' "$mark")" 1 "runs for one change"
}

# interval 0: the run is due at once. Asked right after the change, poni
# is running it (or done), never waiting; one run.
t_interval_0_syncs_at_once() {
	local mark
	mkdir -p "$T/src"
	mirror_conf "interval: 0"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	mark=$(log_mark)
	echo now >"$T/src/now.txt"
	poni_status | grep -Eq ': (running|idle|pending \(next try in 0\.0 s\)), ' ||
		fail "$TEST_NAME" "interval 0, right after a change: $(status_lines "$mark" | head -n 1)"
	wait_poni 10 cmp -s "$T/src/now.txt" "$T/dst/now.txt" ||
		fail "$TEST_NAME" "change not synced within 10 s"
	wait_idle
	assert_eq "$(count_log ': ok in ' "$mark")" 1 "runs for one change"
}

# Changes made while a run goes on (held by the rsync wrapper) give
# exactly one more run.
t_changes_during_run_give_one_more_run() {
	local mark calls
	mkdir -p "$T/src"
	echo small >"$T/src/small"
	make_rsync_wrapper
	mirror_conf "interval: 0.2" "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	mark=$(log_mark)
	calls=$(rsync_calls)
	touch "$T/rsync-hold"
	echo first >"$T/src/first"
	wait_poni 10 calls_at_least $((calls + 1)) || fail "$TEST_NAME" "no run started for the change"
	echo during >"$T/src/c"
	echo more >>"$T/src/small"
	mkdir -p "$T/src/d" && echo d >"$T/src/d/f"
	wait_status ": running, changed since the run began, "
	rm "$T/rsync-hold"
	wait_same_tree "$T/src" "$T/dst" 10
	wait_idle
	assert_eq "$(count_log ': ok in ' "$mark")" 2 "runs: the held one and exactly one more"
	assert_eq "$(rsync_calls)" $((calls + 2)) "rsync calls"
}

# One sync's run (held by the rsync wrapper) does not hold up another
# sync: its change arrives while the first run still goes on.
t_syncs_run_concurrently() {
	local calls
	mkdir -p "$T/a" "$T/b"
	make_rsync_wrapper
	write_conf <<-EOF
		sync:
		  $T/a/:
		    remote_path: $T/da
		    interval: 0
		    rsync: $T/bin/rsync
		  $T/b/:
		    remote_path: $T/db
		    interval: 0
	EOF
	start_poni "$CONF"
	wait_runs 2
	wait_idle 2
	calls=$(rsync_calls)
	touch "$T/rsync-hold"
	echo a >"$T/a/a"
	wait_poni 10 calls_at_least $((calls + 1)) || fail "$TEST_NAME" "no run started for a's change"
	echo b >"$T/b/b"
	wait_poni 10 cmp -s "$T/b/b" "$T/db/b" ||
		fail "$TEST_NAME" "b's change does not arrive while a's run goes on"
	poni_status 2 | grep -q "sync $(ere "$T/a/") -> .*: running, " ||
		fail "$TEST_NAME" "a's run ended before b's change arrived"
	assert_absent "$T/da/a"
	rm "$T/rsync-hold"
	wait_same_tree "$T/a" "$T/da"
}

run_test burst_of_200_files_is_one_run t_burst_of_200_files_is_one_run
run_test single_change_waits_for_interval t_single_change_waits_for_interval
run_test interval_0_syncs_at_once t_interval_0_syncs_at_once
run_test changes_during_run_give_one_more_run t_changes_during_run_give_one_more_run
run_test syncs_run_concurrently t_syncs_run_concurrently
finish
