#!/bin/bash
# System tests: a mirror over ssh, to a real OpenSSH sshd on 127.0.0.1
# started by each test with throwaway keys (see start_sshd in lib.sh).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=30

# ssh_conf [KEY: VALUE]...: $T/src/ -> 127.0.0.1:$T/dst over ssh with the
# test's key and known_hosts, strict host key checking, interval 0,
# recurse and delete; the arguments override or add keys.
ssh_conf() {
	local l
	{
		echo "sync:"
		echo "  $T/src/:"
		echo "    remote_host: 127.0.0.1"
		echo "    transport: ssh"
		echo "    remote_user: $SSH_USER"
		echo "    remote_path: $T/dst"
		echo "    priv_key: $SSH_KEY"
		echo "    known_hosts: $KNOWN_HOSTS"
		echo "    interval: 0"
		echo "    recurse: true"
		echo "    delete: true"
		for l in "$@"; do
			echo "    $l"
		done
		case " $* " in
		*" port: "*) ;;
		*) echo "    port: $SSH_PORT" ;;
		esac
		case " $* " in
		*" strict_host_key: "*) ;;
		*) echo "    strict_host_key: yes" ;;
		esac
	} | write_conf
}

small_tree() {
	mkdir -p "$T/src/a/b"
	echo 1 >"$T/src/one"
	echo 2 >"$T/src/a/two"
	echo 3 >"$T/src/a/b/three"
}

failures() {
	grep -c ': failed in ' "$T/poni.log" 2>/dev/null || true
}

failures_at_least() {
	[ "$(failures)" -ge "$1" ]
}

t_ssh_mirror() {
	start_sshd
	small_tree
	ssh_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	assert_same_tree "$T/src" "$T/dst"
	echo new >"$T/src/new"
	wait_same_tree "$T/src" "$T/dst"
	echo more >>"$T/src/a/two"
	wait_same_tree "$T/src" "$T/dst"
	mkdir -p "$T/src/c/d" && echo 4 >"$T/src/c/d/four"
	wait_same_tree "$T/src" "$T/dst"
	rm "$T/src/one"
	wait_same_tree "$T/src" "$T/dst"
	rm -rf "$T/src/a"
	wait_same_tree "$T/src" "$T/dst"
	assert_not_contains "$T/poni.log" ': failed in '
	stop_poni_ok TERM
}

t_ssh_once_exits_0() {
	start_sshd
	small_tree
	ssh_conf
	assert_exit 0 timeout "$LIMIT" "$PONI" -1 -c "$CONF"
	assert_same_tree "$T/src" "$T/dst"
	assert_contains "$T/out" ': ok in '
}

# rsync_args reach the remote rsync whole, through rsync's protocol: a
# --backup-dir with spaces, a quote and a leading dash in a name.
t_ssh_rsync_args_reach_the_remote() {
	local old="$T/old dir 'q' -x"
	start_sshd
	small_tree
	ssh_conf "rsync_args: [--backup, \"--backup-dir=$old\", \"--chmod=F600\"]"
	start_poni "$CONF"
	wait_same_tree "$T/src" "$T/dst" "$LIMIT"
	assert_eq "$(stat -c %a "$T/dst/one")" 600 "mode from --chmod"
	echo changed >"$T/src/one"
	wait_poni "$LIMIT" test -f "$old/one" || fail "$TEST_NAME" "the replaced file was not kept in $old"
	assert_eq "$(cat "$old/one")" 1 "the kept file"
	assert_not_contains "$T/poni.log" ': failed in '
	stop_poni_ok TERM
}

t_ssh_wrong_port_fails_keeps_running() {
	local port
	start_sshd
	small_tree
	port=$(free_port) || fail "$TEST_NAME" "no free port"
	ssh_conf "port: $port"
	start_poni "$CONF"
	wait_log ": failed in " "$LIMIT"
	assert_contains "$T/poni.log" "sync $T/src/ -> .*: failed in [0-9.]+ s: rsync exit [0-9]+"
	assert_poni_alive
	# it retries
	wait_poni "$LIMIT" failures_at_least 2 ||
		fail "$TEST_NAME" "no retry after the failure"
	assert_poni_alive
	assert_absent "$T/dst"
	stop_poni_ok TERM
}

t_ssh_host_key_mismatch_fails() {
	start_sshd
	small_tree
	ssh-keygen -q -t ed25519 -N '' -f "$T/other_host_key" ||
		fail "$TEST_NAME" "ssh-keygen failed"
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$T/other_host_key.pub")" >"$KNOWN_HOSTS"
	ssh_conf "strict_host_key: yes"
	start_poni "$CONF"
	wait_log ": failed in " "$LIMIT"
	assert_contains "$T/poni.log" "sync $T/src/ -> .*: failed in "
	assert_contains "$T/poni.log" "[Hh]ost key"
	# a failure like any other: retried
	wait_log ": retry in "
	assert_poni_alive
	assert_absent "$T/dst"
	stop_poni_ok TERM
}

# ssh's connections are cut (sshd and its sessions stopped): runs fail,
# and once sshd is back the pending change arrives.
t_ssh_retries_until_server_is_back() {
	start_sshd
	small_tree
	ssh_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	stop_sshd
	echo pending >"$T/src/pending"
	wait_log ": failed in " "$LIMIT"
	assert_poni_alive
	"$SSHD" -D -e -f "$T/sshd_config" >>"$T/sshd.log" 2>&1 &
	SSHD_PID=$!
	wait_until 10 listening "$SSH_PORT" "$SSHD_PID" || fail "$TEST_NAME" "sshd did not start again"
	wait_same_tree "$T/src" "$T/dst" "$LIMIT"
}

# SIGTERM stops poni's ssh processes (the master connection) too, so the
# server's sessions end.
t_ssh_sigterm_leaves_nothing() {
	local p
	start_sshd
	small_tree
	ssh_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	echo new >"$T/src/new"
	wait_same_tree "$T/src" "$T/dst"
	stop_poni_ok TERM
	wait_until 5 none_mine "$SSH_KEY" || {
		for p in $(mine "$SSH_KEY"); do
			tr '\0' ' ' <"/proc/$p/cmdline"
			echo
		done | detail
		fail "$TEST_NAME" "ssh processes left after poni exited"
	}
	wait_until 5 no_descendants "$SSHD_PID" ||
		fail "$TEST_NAME" "sshd sessions still open after poni exited"
}

# The key's path holds spaces: it must reach ssh whole.
t_ssh_key_path_with_spaces() {
	start_sshd
	small_tree
	mkdir "$T/my keys"
	mv "$SSH_KEY" "$T/my keys/user key"
	SSH_KEY="$T/my keys/user key"
	ssh_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	assert_same_tree "$T/src" "$T/dst"
	echo new >"$T/src/new"
	wait_same_tree "$T/src" "$T/dst"
}

# The known_hosts path holds spaces (ssh reads UserKnownHostsFile as a
# list of files split at spaces unless the name is quoted).
t_ssh_known_hosts_path_with_spaces() {
	start_sshd
	small_tree
	mkdir "$T/my hosts"
	mv "$KNOWN_HOSTS" "$T/my hosts/known hosts"
	KNOWN_HOSTS="$T/my hosts/known hosts"
	ssh_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	assert_same_tree "$T/src" "$T/dst"
}

accepted() {
	grep -c 'Accepted publickey' "$T/sshd.log" || true
}

# Runs go through one ssh connection that poni keeps open (a master): once
# it is up, more runs make no new login on sshd.
t_ssh_runs_share_one_connection() {
	local before i n
	start_sshd
	small_tree
	ssh_conf
	start_poni "$CONF"
	wait_runs 1 "$LIMIT"
	wait_idle
	before=$(accepted)
	n=$(count_runs)
	for i in 1 2 3; do
		echo "$i" >"$T/src/n$i"
		wait_runs $((n + i))
		wait_idle
	done
	wait_same_tree "$T/src" "$T/dst"
	if [ "$(accepted)" != "$before" ]; then
		grep 'Accepted publickey' "$T/sshd.log" | detail
		fail "$TEST_NAME" "$(($(accepted) - before)) new ssh logins for 3 runs, want 0"
	fi
}

run_test ssh_mirror t_ssh_mirror
run_test ssh_once_exits_0 t_ssh_once_exits_0
run_test ssh_rsync_args_reach_the_remote t_ssh_rsync_args_reach_the_remote
run_test ssh_wrong_port_fails_keeps_running t_ssh_wrong_port_fails_keeps_running
run_test ssh_host_key_mismatch_fails t_ssh_host_key_mismatch_fails
run_test ssh_retries_until_server_is_back t_ssh_retries_until_server_is_back
run_test ssh_sigterm_leaves_nothing t_ssh_sigterm_leaves_nothing
run_test ssh_key_path_with_spaces t_ssh_key_path_with_spaces
run_test ssh_known_hosts_path_with_spaces t_ssh_known_hosts_path_with_spaces
run_test ssh_runs_share_one_connection t_ssh_runs_share_one_connection
finish
