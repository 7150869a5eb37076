#!/bin/bash
# System tests: SIGHUP (reload the config, reopen the log) and SIGUSR1 (log
# each sync's state) on a running poni. SIGTERM and SIGINT are in
# sys_cli.sh.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

RELOADED='[Rr]eload'

# conf_a / conf_ab: sync a ($T/a/ -> $T/da), and also sync b.
conf_a() {
	write_conf <<-EOF
		sync:
		  $T/a/:
		    remote_path: $T/da
		    interval: 0
		    recurse: true
	EOF
}

conf_ab() {
	write_conf <<-EOF
		sync:
		  $T/a/:
		    remote_path: $T/da
		    interval: 0
		    recurse: true
		  $T/b/:
		    remote_path: $T/db
		    interval: 0
		    recurse: true
	EOF
}

two_sources() {
	mkdir -p "$T/a/sub" "$T/b/sub"
	echo a >"$T/a/sub/f"
	echo b >"$T/b/sub/f"
}

reload() {
	local n
	n=$(log_count "$RELOADED")
	kill -HUP "$PONI_PID"
	wait_log_count "$RELOADED" $((n + 1))
}

t_hup_adds_a_sync() {
	two_sources
	conf_a
	start_poni "$CONF"
	wait_runs 1
	assert_absent "$T/db"
	conf_ab
	reload
	wait_same_tree "$T/b" "$T/db"
	echo new >"$T/b/sub/new"
	wait_same_tree "$T/b" "$T/db"
	echo new >"$T/a/sub/new"
	wait_same_tree "$T/a" "$T/da"
}

t_hup_removes_a_sync() {
	two_sources
	conf_ab
	start_poni "$CONF"
	wait_runs 2
	conf_a
	reload
	settle
	echo new >"$T/b/sub/new"
	echo new >"$T/a/sub/new"
	wait_same_tree "$T/a" "$T/da"
	sleep 0.5
	assert_absent "$T/db/sub/new"
}

t_hup_unchanged_sync_not_restarted() {
	local n
	two_sources
	conf_a
	start_poni "$CONF"
	wait_runs 1
	settle
	n=$(count_runs)
	conf_a
	reload
	sleep 1
	assert_eq "$(count_runs)" "$n" "runs after reloading the same config"
	echo new >"$T/a/sub/new"
	wait_same_tree "$T/a" "$T/da"
}

t_hup_bad_config_keeps_running() {
	two_sources
	conf_a
	start_poni "$CONF"
	wait_runs 1
	write_conf <<-EOF
		sync:
		  $T/a/:
		    remote_pth: $T/da
	EOF
	kill -HUP "$PONI_PID"
	wait_log "error: .*$CONF:3:.*remote_pth"
	assert_poni_alive
	# the old configuration is still in force
	echo new >"$T/a/sub/new"
	wait_same_tree "$T/a" "$T/da"
	stop_poni_ok TERM
}

t_hup_reopens_log_file() {
	two_sources
	write_conf <<-EOF
		log: $T/file.log
		sync:
		  $T/a/:
		    remote_path: $T/da
		    interval: 0
		    recurse: true
	EOF
	start_poni "$CONF"
	wait_until 10 grep -q ': ok in ' "$T/file.log" ||
		fail "$TEST_NAME" "no run logged in $T/file.log"
	mv "$T/file.log" "$T/file.log.1"
	kill -HUP "$PONI_PID"
	wait_until 10 test -f "$T/file.log" ||
		fail "$TEST_NAME" "log file not reopened after SIGHUP"
	echo new >"$T/a/sub/new"
	wait_same_tree "$T/a" "$T/da"
	wait_until 10 grep -q ': ok in ' "$T/file.log" ||
		fail "$TEST_NAME" "the run after SIGHUP is not in the new log file"
	assert_eq "$(grep -c ': ok in ' "$T/file.log.1")" 1 "runs in the old log file"
}

t_usr1_logs_state() {
	two_sources
	conf_ab
	start_poni "$CONF"
	wait_runs 2
	settle
	kill -USR1 "$PONI_PID"
	wait_log "sync $T/a/ -> $T/da/?: idle"
	wait_log "sync $T/b/ -> $T/db/?: idle"
	assert_poni_alive
}

run_test hup_adds_a_sync t_hup_adds_a_sync
run_test hup_removes_a_sync t_hup_removes_a_sync
run_test hup_unchanged_sync_not_restarted t_hup_unchanged_sync_not_restarted
run_test hup_bad_config_keeps_running t_hup_bad_config_keeps_running
run_test hup_reopens_log_file t_hup_reopens_log_file
run_test usr1_logs_state t_usr1_logs_state
finish
