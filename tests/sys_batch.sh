#!/bin/bash
# System tests: batching. The first change arms an interval timer and the
# changes until it fires share one rsync run; changes during a run give
# exactly one more run; interval 0 syncs at once.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# Size of the file that makes an rsync run last a while (about 1 s here).
BIG_MB=${BIG_MB:-200}

# elapsed_since T0: seconds since T0 (from now_us), with 3 decimals.
elapsed_since() {
	local d=$(($(now_us) - $1))
	printf '%d.%03d\n' $((d / 1000000)) $((d % 1000000 / 1000))
}

# sleep_until T0 SECONDS: sleep until SECONDS after T0.
sleep_until() {
	local left=$(($(usec "$2") - ($(now_us) - $1)))
	[ "$left" -gt 0 ] && sleep "$((left / 1000000)).$(printf %06d $((left % 1000000)))"
	return 0
}

# us_lt A B: microseconds A < seconds B.
us_lt() {
	[ "$1" -lt "$(usec "$2")" ]
}

t_burst_of_200_files_is_one_run() {
	local t0 i runs
	mkdir -p "$T/src"
	mirror_conf "interval: 2"
	start_poni "$CONF"
	wait_runs 1
	t0=$(now_us)
	for i in $(seq 200); do
		echo "file $i" >"$T/src/f$i"
	done
	us_lt $(($(now_us) - t0)) 1 ||
		skip "$TEST_NAME" "writing 200 files took $(elapsed_since "$t0") s (machine too slow)"
	# nothing may run before the interval is over
	sleep_until "$t0" 1.5
	assert_eq "$(count_runs)" 1 "runs 1.5 s into a 2 s interval"
	wait_same_tree "$T/src" "$T/dst" 10
	# and no run after the batch but the ones already seen
	sleep 2.5
	runs=$(($(count_runs) - 1))
	if [ "$runs" -lt 1 ] || [ "$runs" -gt 2 ]; then
		fail "$TEST_NAME" "$runs runs for a burst of 200 files, want 1 or 2"
	fi
	assert_same_tree "$T/src" "$T/dst"
}

t_single_change_waits_for_interval() {
	local t0
	mkdir -p "$T/src"
	mirror_conf "interval: 1"
	start_poni "$CONF"
	wait_runs 1
	t0=$(now_us)
	echo x >"$T/src/x"
	sleep_until "$t0" 0.7
	assert_absent "$T/dst/x"
	assert_eq "$(count_runs)" 1 "runs 0.7 s into a 1 s interval"
	wait_poni 5 cmp -s "$T/src/x" "$T/dst/x" ||
		fail "$TEST_NAME" "change not synced within 5 s with interval 1"
}

t_interval_0_syncs_at_once() {
	local t0 took
	mkdir -p "$T/src"
	mirror_conf "interval: 0"
	start_poni "$CONF"
	wait_runs 1
	t0=$(now_us)
	echo now >"$T/src/now.txt"
	wait_poni 5 cmp -s "$T/src/now.txt" "$T/dst/now.txt" ||
		fail "$TEST_NAME" "change not synced within 5 s"
	took=$(($(now_us) - t0))
	us_lt "$took" 1 ||
		fail "$TEST_NAME" "interval 0: change took $(elapsed_since "$t0") s to arrive"
}

# Changes made while a run copies a big file give exactly one more run.
t_changes_during_run_give_one_more_run() {
	local try base=1 ok=
	mkdir -p "$T/src"
	echo small >"$T/src/small"
	mirror_conf "interval: 0.2"
	start_poni "$CONF"
	wait_runs 1
	for try in 1 2 3; do
		head -c "${BIG_MB}M" /dev/urandom >"$T/big$try"
		base=$(count_runs)
		mv "$T/big$try" "$T/src/big$try"
		wait_poni 10 poni_rsync_running ||
			fail "$TEST_NAME" "no rsync started for the big file"
		echo "during $try" >"$T/src/c$try"
		echo "more $try" >>"$T/src/small"
		mkdir -p "$T/src/d$try" && echo d >"$T/src/d$try/f"
		# Conclusive only if the run was still going after the changes.
		if poni_rsync_running && [ "$(count_runs)" = "$base" ]; then
			ok=1
			break
		fi
		# it ended too soon: let things settle and try again
		wait_same_tree "$T/src" "$T/dst" 30
		sleep 1
	done
	[ -n "$ok" ] || skip "$TEST_NAME" "a run of a ${BIG_MB} MB file ended before the changes were made (set BIG_MB higher)"
	wait_runs $((base + 2)) 30
	wait_same_tree "$T/src" "$T/dst" 10
	sleep 1.5
	assert_eq "$(count_runs)" $((base + 2)) "runs: the big one and exactly one more"
	assert_same_tree "$T/src" "$T/dst"
}

# One sync's long run does not hold up another sync.
t_syncs_run_concurrently() {
	local try ok=
	mkdir -p "$T/a" "$T/b"
	write_conf <<-EOF
		sync:
		  $T/a/:
		    remote_path: $T/da
		    interval: 0
		  $T/b/:
		    remote_path: $T/db
		    interval: 0
	EOF
	start_poni "$CONF"
	wait_runs 2
	for try in 1 2 3; do
		head -c "${BIG_MB}M" /dev/urandom >"$T/big$try"
		mv "$T/big$try" "$T/a/big$try"
		wait_poni 10 poni_rsync_running ||
			fail "$TEST_NAME" "no rsync started for the big file"
		echo "b $try" >"$T/b/f$try"
		wait_poni 10 cmp -s "$T/b/f$try" "$T/db/f$try" ||
			fail "$TEST_NAME" "second sync's change not synced"
		# it must have arrived while the first sync's run still went on
		if ! cmp -s "$T/a/big$try" "$T/da/big$try" 2>/dev/null; then
			ok=1
			break
		fi
		wait_same_tree "$T/a" "$T/da" 30
	done
	[ -n "$ok" ] || fail "$TEST_NAME" "the second sync's change arrived only after the big run, 3 times"
	wait_same_tree "$T/a" "$T/da" 30
	assert_same_tree "$T/b" "$T/db"
}

run_test burst_of_200_files_is_one_run t_burst_of_200_files_is_one_run
run_test single_change_waits_for_interval t_single_change_waits_for_interval
run_test interval_0_syncs_at_once t_interval_0_syncs_at_once
run_test changes_during_run_give_one_more_run t_changes_during_run_give_one_more_run
run_test syncs_run_concurrently t_syncs_run_concurrently
finish
