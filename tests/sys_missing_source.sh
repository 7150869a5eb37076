#!/bin/bash
# System tests: a source that is not there (poni(8)). A source missing at
# the start (a disk not mounted yet) is logged, looked for again every
# 10 s and synced in full once it is there, nothing being written to the
# target meanwhile; a source removed while poni runs is waited for the
# same way, and one replaced at once by a rename is followed to its new
# tree, the old one left alone.
# ONLY=ERE runs only the tests whose name matches (see run_selected).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# poni looks for a missing source again every 10 s (poni(8)): the longest
# wait for one that appeared, with some room.
LOOK_AGAIN=13

t_source_missing_at_start() {
	mirror_conf
	start_poni "$CONF"
	wait_log "sync $(ere "$T/src/") -> .*: cannot watch the source: .*looking again every 10 s"
	wait_status ': waiting for the source'
	assert_absent "$T/dst"
	mkdir -p "$T/src/a/b"
	echo one >"$T/src/one"
	echo two >"$T/src/a/b/two"
	wait_mirror "$T/src" "$T/dst" "$LOOK_AGAIN"
	wait_log "the source is there"
	wait_log "ok in [0-9.]+ s \(full\)"
	# and it is watched
	check_watches "$T/src"
	echo three >"$T/src/a/three"
	wait_mirror "$T/src" "$T/dst" 3
	stop_poni_ok TERM
}

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
	wait_status ': waiting for the source'
	mkdir -p "$T/src/c"
	echo three >"$T/src/c/three"
	wait_mirror "$T/src" "$T/dst" "$LOOK_AGAIN"
	# moved away and replaced at once
	mkdir -p "$T/next/d"
	echo four >"$T/next/d/four"
	mv "$T/src" "$T/old"
	mv "$T/next" "$T/src"
	wait_mirror "$T/src" "$T/dst" "$LOOK_AGAIN"
	echo five >"$T/src/d/five"
	wait_mirror "$T/src" "$T/dst" 3
	# the old tree is not followed any more: poni watches the new one's
	# directories, none of the old one's
	echo stray >"$T/old/stray"
	check_watches "$T/src"
	assert_absent "$T/dst/stray"
	assert_poni_alive
	stop_poni_ok TERM
}

run_selected source_missing_at_start t_source_missing_at_start
run_selected source_removed_and_recreated t_source_removed_and_recreated
finish
