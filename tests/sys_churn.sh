#!/bin/bash
# System tests: random churn (tests/churn.sh) on a watched tree while poni
# mirrors it with delete and recurse, locally and over ssh, with interval
# 0 and 0.3 s, and with poni killed (SIGKILL) and started again during
# the churn; once the churn stops the replica must become equal to the
# source (diff -r without following symlinks, plus types and modes).
#
# The churn seed is random unless CHURN_SEED is set; each test prints the
# seed it used, so a failure can be replayed:
#   CHURN_SEED=1234 tests/run.sh sys_churn.sh
# ONLY=ERE runs only the tests whose name matches (see run_selected).
# CHURN_OPS (default 200) is the number of operations.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

OPS=${CHURN_OPS:-200}
LIMIT=30

# churn_mirror local|ssh INTERVAL: a tree made by churn before the start,
# the initial sync, OPS operations while poni runs, then convergence.
churn_mirror() {
	local seed
	seed=$(churn_seed)
	echo "    $TEST_NAME: CHURN_SEED=$seed"
	churn "$seed" 40 "$T/src"
	if [ "$1" = ssh ]; then
		start_sshd
		{
			echo "sync:"
			sync_ssh "$T/src/" "$T/dst" "interval: $2"
		} | write_conf
	else
		{
			echo "sync:"
			sync_local "$T/src/" "$T/dst" "interval: $2"
		} | write_conf
	fi
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	churn $((seed + 1)) "$OPS" "$T/src"
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	# and it stays so once poni is idle
	wait_idle
	same_mirror "$T/src" "$T/dst" || fail_mirror "$T/src" "$T/dst" "differs once poni is idle"
	# every directory watched, nothing else (moved out, deleted)
	check_watches "$T/src"
	assert_poni_alive
	stop_poni_ok TERM
	assert_nothing_left
}

t_churn_local_interval_0() {
	churn_mirror local 0
}

t_churn_local_interval_0_3() {
	churn_mirror local 0.3
}

t_churn_ssh_interval_0() {
	churn_mirror ssh 0
}

t_churn_ssh_interval_0_3() {
	churn_mirror ssh 0.3
}

# poni killed with SIGKILL during a churn and started again: the initial
# sync of the new one brings what the old one missed, the changes made
# while none ran included.
t_churn_kill9_restart() {
	local seed mark
	seed=$(churn_seed)
	echo "    $TEST_NAME: CHURN_SEED=$seed"
	churn "$seed" 40 "$T/src"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	mark=$(log_mark)
	churn_start $((seed + 1)) 250 "$T/src"
	wait_log_since "$mark" ": ok in " "$LIMIT"
	kill -KILL "$PONI_PID"
	wait "$PONI_PID" 2>/dev/null
	PONI_PID=
	echo "made while no poni ran" >"$T/src/while-dead"
	mark=$(log_mark)
	start_poni "$CONF"
	wait_log_since "$mark" ": ok in [0-9.]+ s \(full\)" "$LIMIT"
	churn_stop
	wait_mirror "$T/src" "$T/dst" "$LIMIT"
	assert_eq "$(count_log ' starting: ')" 2 "starts"
	assert_no_zombies
	stop_poni_ok TERM
	assert_nothing_left
}

run_selected churn_local_interval_0 t_churn_local_interval_0
run_selected churn_local_interval_0_3 t_churn_local_interval_0_3
run_selected churn_ssh_interval_0 t_churn_ssh_interval_0
run_selected churn_ssh_interval_0_3 t_churn_ssh_interval_0_3
run_selected churn_kill9_restart t_churn_kill9_restart
finish
