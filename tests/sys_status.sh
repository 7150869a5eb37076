#!/bin/bash
# System tests: poni -s / -S, asking the running poni of a config for its
# syncs: each state (in step, pending, running, backing off, waiting for
# the source) with its exit status (0, or 1 when one fails or waits; 3
# when no poni runs with the config), the shell-quoted form that eval
# reads, a client that does not read never holding poni up, and only
# root or poni's own user answered.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=20

# status [ARGS]: poni -s (or ARGS) on $CONF into $T/out and $T/err; its
# exit status in ST.
status() {
	timeout "$LIMIT" "$PONI" "${@:--s}" -c "$CONF" >"$T/out" 2>"$T/err"
	ST=$?
}

# sh_status_has ERE: poni -S's answer, its lines joined, matches ERE.
sh_status_has() {
	timeout 5 "$PONI" -S -c "$CONF" 2>/dev/null | tr '\n' ' ' | grep -Eq -- "$1"
}

two_syncs() {
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	{
		echo "sync:"
		sync_local "$T/src/" "$T/dst" "rsync: $T/bin/rsync"
		sync_local "$T/missing/" "$T/dst2"
	} | write_conf
}

t_states_and_exit_status() {
	make_rsync_wrapper
	two_syncs
	status
	assert_eq "$ST" 3 "exit status with no poni running"
	assert_contains "$T/err" "^poni: no poni is running with $(ere "$CONF")"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	status
	assert_eq "$ST" 1 "exit status with a sync waiting for its source"
	assert_contains "$T/out" "^$(ere "$T/src/") -> $(ere "$T/dst"): in step since [0-9-]+ [0-9:]+Z; last ok [0-9-]+ [0-9:]+Z$"
	assert_contains "$T/out" "^$(ere "$T/missing/") -> .*: waiting for the source since .*; last error: "
	mkdir -p "$T/missing"
	kill -USR2 "$PONI_PID"	# a waiting sync looks again at once
	wait_poni 15 test -d "$T/dst2" || fail "$TEST_NAME" "the missing source did not sync once there"
	wait_idle
	status
	assert_eq "$ST" 0 "exit status with both in step"
	# running, then backing off with the error
	touch "$T/rsync-hold"
	echo b >"$T/src/b"
	wait_poni 10 sh_status_has "state='running'" ||
		fail "$TEST_NAME" "-S never showed the run"
	status -S
	assert_eq "$ST" 0 "exit status while a run runs"
	echo 12 >"$T/rsync-fail"
	rm "$T/rsync-hold"
	wait_log ": failed in "
	status
	assert_eq "$ST" 1 "exit status while backing off"
	assert_contains "$T/out" "^$(ere "$T/src/") -> .*: failed, backing off since .*; pending: all \(a full run\); last error: rsync exit 12 .*test fault"
	wait_poni 15 sh_status_has "state='in_step'.*state='in_step'" ||
		fail "$TEST_NAME" "not in step again after the retry"
	stop_poni_ok TERM
	status
	assert_eq "$ST" 3 "exit status after poni stopped"
}

# -S: one line per sync of KEY='VALUE' words that sh's eval reads back,
# also for a source path with a quote, a space and a newline.
t_shell_form_evals() {
	local odd line n=0
	odd="$T/it's a
dir/"
	mkdir -p "$odd"
	write_conf <<-EOF
		sync:
		  "$(printf '%s' "$odd" | sed 's/$/\\n/' | tr -d '\n' | sed 's/\\n$//')":
		    remote_path: $T/dst
		    interval: 0
	EOF
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	status -S
	assert_eq "$ST" 0 "exit status"
	assert_eq "$(wc -l <"$T/out")" 1 "lines"
	while IFS= read -r line; do
		eval "$line"
		n=$((n + 1))
		# shellcheck disable=SC2154 # set by eval
		assert_eq "$state" in_step "state"
		# shellcheck disable=SC2154
		assert_eq "$source" "$T/it's a\\ndir/" "source, escaped as in the log"
		# shellcheck disable=SC2154
		assert_eq "$pending" 0 "pending"
	done <"$T/out"
	assert_eq "$n" 1 "lines read"
	stop_poni_ok TERM
}

# A client that connects and reads nothing: poni goes on syncing and
# answers others; another user is not answered.
t_silent_client_and_other_user() {
	local name pid
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	name=$(ss -xlp | grep -o "@poni/[0-9a-f]*" | while read -r n; do
		ss -xlp | grep -q "$n.*pid=$PONI_PID," && echo "$n"; done | head -n 1)
	[ -n "$name" ] || fail "$TEST_NAME" "no @poni/ socket of poni's"
	perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die;
		connect($s, pack_sockaddr_un("\0" . substr($ARGV[0], 1))) or die "$!";
		sleep 8' "$name" &
	pid=$!
	echo b >"$T/src/b"
	wait_same_tree "$T/src" "$T/dst" 5
	status
	assert_eq "$ST" 0 "exit status beside a silent client"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		chmod 755 "$T"
		timeout "$LIMIT" setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$PONI" -s -c "$CONF" >"$T/out" 2>"$T/err"
		assert_eq "$?" 3 "exit status for another user"
		assert_contains "$T/err" "did not answer \(only root and the user it runs as may ask\)"
		assert_eq "$(wc -c <"$T/out")" 0 "bytes shown to another user"
	fi
	stop_poni_ok TERM
}

run_test states_and_exit_status t_states_and_exit_status
run_test shell_form_evals t_shell_form_evals
run_test silent_client_and_other_user t_silent_client_and_other_user
finish
