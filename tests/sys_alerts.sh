#!/bin/bash
# System tests: on_state, the command run (no shell of poni's) when a sync
# turns from in step to failing or waiting and when it is in step again:
# once per change, not once per failed retry; the sync's name, state,
# error and last success in its environment; its output and a failing
# exit logged; a command that hangs does not hold up poni's stop.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=20

# alert_conf SRC [KEY: VALUE]...: one local sync of SRC to $T/dst whose
# on_state appends "STATE|SYNC|ERROR|LAST_OK" to $T/alerts and prints
# "told STATE".
alert_conf() {
	local src=$1
	shift
	{
		echo "sync:"
		sync_local "$src" "$T/dst" "$@"
		# shellcheck disable=SC2016,SC2028 # for the command's sh, as it is
		echo '    on_state: [sh, -c, '"'"'printf "%s|%s|%s|%s\n" "$PONI_STATE" "$PONI_SYNC" "$PONI_ERROR" "$PONI_LAST_OK" >>"$0"; echo "told $PONI_STATE"'"'"', '"$T/alerts"']'
	} | write_conf
}

alerts() {
	[ -f "$T/alerts" ] && wc -l <"$T/alerts" || echo 0
}

alerts_at_least() {
	[ "$(alerts)" -ge "$1" ]
}

t_failing_then_in_step_once_each() {
	make_rsync_wrapper
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	alert_conf "$T/src/" "rsync: $T/bin/rsync"
	assert_exit 0 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/out" ", on_state sh -c "
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	assert_eq "$(alerts)" 0 "on_state calls while in step from the start"
	touch "$T/rsync-sticky"
	echo 12 >"$T/rsync-fail"
	echo b >"$T/src/b"
	wait_log_count ": failed in " 3 15
	assert_eq "$(alerts)" 1 "on_state calls over three failed runs"
	assert_contains "$T/alerts" "^backing_off\|$(ere "$T/src/")\|rsync exit 12 .*test fault\|[0-9-]+ [0-9:]+Z$"
	rm -f "$T/rsync-fail" "$T/rsync-sticky"
	wait_poni 15 alerts_at_least 2 || fail "$TEST_NAME" "no on_state call once in step again"
	assert_contains "$T/alerts" "^in_step\|$(ere "$T/src/")\|\|[0-9-]+ [0-9:]+Z$"
	wait_log "on_state: told in_step"
	assert_same_tree "$T/src" "$T/dst"
	stop_poni_ok TERM
	assert_eq "$(alerts)" 2 "on_state calls in all"
}

t_waiting_source_then_back() {
	alert_conf "$T/later/"
	start_poni "$CONF"
	wait_poni 10 alerts_at_least 1 || fail "$TEST_NAME" "no on_state call for the missing source"
	assert_contains "$T/alerts" "^waiting_source\|"
	mkdir -p "$T/later"
	echo x >"$T/later/x"
	kill -USR2 "$PONI_PID"	# look again at once
	wait_poni 10 alerts_at_least 2 || fail "$TEST_NAME" "no on_state call once the source is back"
	assert_contains "$T/alerts" "^in_step\|"
	stop_poni_ok TERM
}

# A command that exits non-zero is logged so; one that hangs is stopped
# with poni, within its bounded stop.
t_failing_and_hanging_commands() {
	local t0 t1
	write_conf <<-EOF
		sync:
		$(sync_local "$T/gone/" "$T/dst" "on_state: [sh, -c, 'echo oops >&2; exit 3']")
		$(sync_local "$T/gone2/" "$T/dst2" "on_state: [sleep, 300]")
	EOF
	start_poni "$CONF"
	wait_log "on_state: oops"
	wait_log "on_state sh exited 3"
	wait_poni 10 pgrep -f "^sleep 300$" >/dev/null || fail "$TEST_NAME" "the hanging command did not start"
	t0=$(now_us)
	stop_poni_ok TERM
	t1=$(now_us)
	[ $((t1 - t0)) -lt 5000000 ] || fail "$TEST_NAME" "poni took $(((t1 - t0) / 1000)) ms to stop"
	wait_until 5 not pgrep -f "^sleep 300$" || fail "$TEST_NAME" "the hanging command was left running"
}

run_test failing_then_in_step_once_each t_failing_then_in_step_once_each
run_test waiting_source_then_back t_waiting_source_then_back
run_test failing_and_hanging_commands t_failing_and_hanging_commands
finish
