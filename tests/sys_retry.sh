#!/bin/bash
# System tests: retries. A failed run is retried until it succeeds and the
# changes made meanwhile are not lost; one failing sync does not hold up
# another; a source that does not exist yet is waited for.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# poni looks for a missing source again every 10 s (poni(8)).
SOURCE_RETRY=15

# The target $T/dst/sub cannot be made while $T/dst is a file.
block_target() {
	echo "a file, not a directory" >"$T/dst"
}

t_failed_run_retried_changes_kept() {
	mkdir -p "$T/src/a"
	echo 1 >"$T/src/a/one"
	block_target
	write_conf <<-EOF
		sync:
		  $T/src/:
		    remote_path: $T/dst/sub
		    interval: 0
		    recurse: true
		    delete: true
	EOF
	start_poni "$CONF"
	wait_log ": failed in "
	assert_contains "$T/poni.log" "sync $T/src/ -> $T/dst/sub/?: failed in [0-9.]+ s: rsync exit [0-9]+ \(.+\)"
	# changes while it fails are carried by the retry
	echo 2 >"$T/src/a/two"
	rm "$T/src/a/one"
	mkdir "$T/src/b" && echo 3 >"$T/src/b/three"
	sleep 0.3
	rm "$T/dst" && mkdir "$T/dst"
	wait_same_tree "$T/src" "$T/dst/sub" 15
	assert_poni_alive
}

t_failing_sync_does_not_hold_up_another() {
	local t0
	mkdir -p "$T/a" "$T/b"
	block_target
	write_conf <<-EOF
		sync:
		  $T/a/:
		    remote_path: $T/dst/sub
		    interval: 0
		  $T/b/:
		    remote_path: $T/db
		    interval: 0
	EOF
	start_poni "$CONF"
	wait_log ": failed in "
	wait_runs 1
	echo x >"$T/a/x"
	t0=$(now_us)
	echo y >"$T/b/y"
	wait_same_file "$T/b/y" "$T/db/y"
	[ $(($(now_us) - t0)) -lt 1000000 ] ||
		fail "$TEST_NAME" "the healthy sync took more than 1 s"
	assert_poni_alive
}

t_missing_source_is_waited_for() {
	mirror_conf "delete: false"
	start_poni "$CONF"
	wait_log "$T/src"
	sleep 0.5
	assert_poni_alive
	assert_absent "$T/dst"
	mkdir -p "$T/src/sub"
	echo 1 >"$T/src/sub/f"
	wait_same_tree "$T/src" "$T/dst" "$SOURCE_RETRY"
	# and it is watched now
	settle
	echo 2 >"$T/src/sub/g"
	wait_same_tree "$T/src" "$T/dst"
}

t_source_removed_and_made_again() {
	mkdir -p "$T/src"
	echo 1 >"$T/src/f"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	rm -rf "$T/src"
	sleep 0.5
	assert_poni_alive
	mkdir -p "$T/src/again"
	echo 2 >"$T/src/again/g"
	wait_same_tree "$T/src" "$T/dst" "$SOURCE_RETRY"
	settle
	echo 3 >"$T/src/again/h"
	wait_same_tree "$T/src" "$T/dst"
}

run_test failed_run_retried_changes_kept t_failed_run_retried_changes_kept
run_test failing_sync_does_not_hold_up_another t_failing_sync_does_not_hold_up_another
run_test missing_source_is_waited_for t_missing_source_is_waited_for
run_test source_removed_and_made_again t_source_removed_and_made_again
finish
