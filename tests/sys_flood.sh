#!/bin/bash
# System tests: a writer faster than poni. Writers create and remove
# files in the watched tree as fast as they can, so that inotify events
# keep coming faster than poni reads them: poni must still answer
# SIGTERM at once (it reads a bounded batch of events per wake-up and
# goes back to its loop, where the signal waits), and after the flood the
# replica must converge.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

WRITERS=${FLOOD_WRITERS:-4}
FLOOD_SECONDS=3		# of flood before the signal
SEEN_LIMIT=3		# seconds poni may take to see SIGTERM
EXCLUDES=${FLOOD_EXCLUDES:-150}

# flood_conf [KEY: VALUE]...: mirror_conf with EXCLUDES patterns that
# match nothing but cost poni some time on every event, so that the
# writers outrun it even on a fast machine.
flood_conf() {
	local i pats=()
	for i in $(seq "$EXCLUDES"); do
		pats+=("  - '**/no*match*$i*[0-9]'")
	done
	mirror_conf "$@" "exclude:" "${pats[@]}"
}

# start_flood: WRITERS processes creating, writing and removing files in
# $T/src/flood as fast as they can, until $T/stop exists. Their pids in
# FLOOD_PIDS (their command lines hold $T: cleanup stops them too).
start_flood() {
	local i
	mkdir -p "$T/src/flood"
	FLOOD_PIDS=
	for i in $(seq "$WRITERS"); do
		mkdir -p "$T/src/flood/w$i"
		perl -e 'my ($dir, $stop) = @ARGV; my $n = 0;
			until (-e $stop) {
				for (1 .. 500) {
					my $f = "$dir/f" . ($n++ % 64);
					open(my $fh, ">", $f) or next;
					print $fh "x"; close $fh; unlink $f;
				}
			}' "$T/src/flood/w$i" "$T/stop" &
		FLOOD_PIDS="$FLOOD_PIDS $!"
	done
}

stop_flood() {
	touch "$T/stop"
	# shellcheck disable=SC2086 # one pid a word
	stop_pids TERM $FLOOD_PIDS
}

t_sigterm_during_a_flood() {
	local t0 t1 st
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	# a long interval: no run starts during the flood, only the one of
	# the shutdown
	flood_conf "interval: 60"
	start_poni "$CONF"
	wait_runs 1
	start_flood
	sleep "$FLOOD_SECONDS"
	t0=$(now_us)
	kill -TERM "$PONI_PID"
	wait_until "$SEEN_LIMIT" log_has "stopping on SIGTERM"
	t1=$(now_us)
	if ! log_has "stopping on SIGTERM"; then
		stop_flood
		wait_until 30 log_has "stopping on SIGTERM"
		fail "$TEST_NAME" "SIGTERM not seen within $SEEN_LIMIT s during a flood of events (seen after $((($(now_us) - t0) / 1000)) ms, once the flood stopped)"
	fi
	# then the usual shutdown: the pending run, within its grace
	wait_until 10 not alive "$PONI_PID" ||
		fail "$TEST_NAME" "poni did not exit within 10 s of SIGTERM during a flood"
	wait "$PONI_PID"
	st=$?
	PONI_PID=
	echo "    SIGTERM seen after $(((t1 - t0) / 1000)) ms, exit after $((($(now_us) - t0) / 1000)) ms"
	stop_flood
	[ "$st" = 0 ] || fail "$TEST_NAME" "poni exited $st on SIGTERM, want 0"
}

t_flood_then_converge() {
	mkdir -p "$T/src/sub"
	echo a >"$T/src/sub/a"
	flood_conf
	start_poni "$CONF"
	wait_runs 1
	start_flood
	sleep "$FLOOD_SECONDS"
	# changes made during the flood still reach the replica
	mkdir -p "$T/src/during/deep"
	echo during >"$T/src/during/deep/f"
	sleep 1
	stop_flood
	rm -rf "$T/src/flood"
	echo after >"$T/src/sub/after"
	wait_same_tree "$T/src" "$T/dst" 30
	assert_poni_alive
	stop_poni_ok TERM
}

run_test sigterm_during_a_flood t_sigterm_during_a_flood
run_test flood_then_converge t_flood_then_converge
finish
