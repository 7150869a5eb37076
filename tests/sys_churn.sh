#!/bin/bash
# System tests: random churn (tests/churn.sh) on a watched tree while poni
# mirrors it with delete and recurse, locally and over ssh, with interval
# 0 and 0.3 s; once the churn stops the replica must become equal to the
# source (diff -r without following symlinks, plus types and modes).
#
# The churn seed is random unless CHURN_SEED is set; each test prints the
# seed it used, so a failure can be replayed:
#   CHURN_SEED=1234 tests/run.sh sys_churn.sh
# ONLY=ERE runs only the tests whose name matches (see run_selected).
# CHURN_OPS (default 300) is the number of operations.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

OPS=${CHURN_OPS:-300}
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
	settle
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

run_selected churn_local_interval_0 t_churn_local_interval_0
run_selected churn_local_interval_0_3 t_churn_local_interval_0_3
run_selected churn_ssh_interval_0 t_churn_ssh_interval_0
run_selected churn_ssh_interval_0_3 t_churn_ssh_interval_0_3
finish
