#!/bin/bash
# System tests: lost events (poni(8)). When the inotify queue overflows,
# poni says so, naming fs.inotify.max_queued_events, rescans (watching the
# directories whose creation was lost, dropping the watches of those that
# left the tree unseen) and syncs everything: the replica converges, and
# poni watches exactly the source's directories, without a restart.
#
# The queue overflows for real: poni is stopped (SIGSTOP) while more
# events than fs.inotify.max_queued_events happen (the sysctl is not
# touched).
# ONLY=ERE runs only the tests whose name matches (see run_selected).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

LIMIT=30

# converged: the replica equals the source and poni watches exactly the
# source's directories.
converged() {
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	check_watches "$T/src"
}

# touch_deep FILE: append to FILE and wait until the replica has it.
touch_deep() {
	echo "more $RANDOM" >>"$T/src/$1"
	wait_same_file "$T/src/$1" "$T/dst/$1"
}

# flood DIR: more new files in DIR than poni's inotify queue holds (at
# least two events each: created, closed), poni being stopped.
flood() {
	local q
	q=$(cat /proc/sys/fs/inotify/max_queued_events)
	[ "$q" -le 100000 ] || skip "$TEST_NAME" "fs.inotify.max_queued_events is $q: too many files to make"
	seq -f "$1/f%g" $((q / 2 + 1000)) | xargs touch
}

# start_stopped_mirror: the mirror of $T/src, poni idle, then stopped.
start_stopped_mirror() {
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	wait_idle
	kill -STOP "$PONI_PID"
}

# Files and directories made while events are lost (poni stopped, the
# queue full): all arrive, the directories are watched afterwards.
t_queue_overflow() {
	local d pid
	mkdir -p "$T/src/flat"
	start_stopped_mirror
	pid=$PONI_PID
	flood "$T/src/flat"
	mkdir -p "$T/src/burst"{1..40}
	for d in "$T/src/burst"{1..40}; do
		touch "$d/f"{1..50}
	done
	kill -CONT "$PONI_PID"
	wait_log "inotify queue overflow" 10
	assert_contains "$T/poni.log" "fs\.inotify\.max_queued_events"
	converged
	# burst33 was made while events were lost: it is watched now
	echo late >"$T/src/burst33/late"
	mkdir "$T/src/burst33/sub"
	echo later >"$T/src/burst33/sub/later"
	wait_mirror "$T/src" "$T/dst" 5
	assert_eq "$PONI_PID" "$pid" "poni's pid"
	assert_poni_alive
	assert_eq "$(count_log ' starting: ')" 1 "starts"
	stop_poni_ok TERM
}

# Directories moved out, removed, renamed and made while events are lost:
# poni rebuilds its record from the tree and drops the watches of the
# directories that left it unseen.
t_lost_events_rebuild_the_record() {
	local i
	for i in $(seq 1 30); do
		mkdir -p "$T/src/m$i/in" "$T/src/r$i/in" "$T/src/n$i/in"
		echo n >"$T/src/n$i/in/f"
	done
	mkdir -p "$T/outside" "$T/src/flood"
	start_stopped_mirror
	flood "$T/src/flood"
	for i in $(seq 1 30); do
		mv "$T/src/m$i" "$T/outside/m$i"
		rm -rf "$T/src/r$i"
		mv "$T/src/n$i" "$T/src/renamed$i"
		mkdir -p "$T/src/new$i/a/b"
	done
	kill -CONT "$PONI_PID"
	wait_log "inotify queue overflow"
	converged
	touch_deep renamed30/in/f
	echo x >"$T/src/new30/a/b/f"
	converged
}

run_selected queue_overflow t_queue_overflow
run_selected lost_events_rebuild_the_record t_lost_events_rebuild_the_record
finish
