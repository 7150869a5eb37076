#!/bin/bash
# System tests: poni as a router runs it. -d and -p as an init script
# uses them; log: syslog (facility daemon, ident poni); init.d/poni under
# BusyBox sh with BusyBox's start-stop-daemon; a mirror through Dropbear's
# dbclient to a Dropbear server; shellcheck of the scripts.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_router.sh
. "$(dirname "$0")/lib_router.sh"

# Longest a poni that should end or detach on its own may take (qemu-user
# included).
LIMIT=20
INIT=$TESTS_DIR/../init.d/poni

small_tree() {
	mkdir -p "$T/src/a/b"
	echo 1 >"$T/src/one"
	echo 2 >"$T/src/a/two"
	echo 3 >"$T/src/a/b/three"
}

# pid_of_pidfile FILE: the pid it holds, once it holds one (else fail).
pid_of_pidfile() {
	local pid
	wait_until "$LIMIT" test -s "$1" || fail "$TEST_NAME" "no pid in $1"
	pid=$(cat "$1")
	case $pid in
	'' | *[!0-9]*) fail "$TEST_NAME" "$1 holds '$pid', not a pid" ;;
	esac
	echo "$pid"
}

# stop_daemon PID PIDFILE: SIGTERM, wait until it is gone and its pidfile
# with it.
stop_daemon() {
	kill -TERM "$1" 2>/dev/null
	wait_until 10 not alive "$1" || fail "$TEST_NAME" "poni (pid $1) does not stop on SIGTERM"
	wait_until 2 not test -e "$2" || fail "$TEST_NAME" "$2 left after poni stopped"
}

# fd_target PID FD: where the process's descriptor points.
fd_target() {
	readlink "/proc/$1/fd/$2"
}

# --- -d: detach ------------------------------------------------------------------

# fork, setsid, fork: the daemon is not the process started, leads no
# session (so it can never get a controlling terminal again), lives in a
# session of its own, works in /, and its stdin, stdout and stderr are
# /dev/null when the log goes to a file.
t_daemon_detaches_double_fork() {
	local pid sid
	small_tree
	mirror_conf "log: $T/file.log"
	"$PONI" -d -p "$T/poni.pid" -c "$CONF" >"$T/out" 2>"$T/err" &
	local starter=$!
	wait_until "$LIMIT" not alive "$starter" || fail "$TEST_NAME" "poni -d does not return"
	wait "$starter" || fail "$TEST_NAME" "poni -d exited $?, want 0"
	pid=$(pid_of_pidfile "$T/poni.pid")
	[ "$pid" != "$starter" ] || fail "$TEST_NAME" "the daemon is the process started: no fork"
	alive "$pid" || fail "$TEST_NAME" "pid $pid from the pidfile does not run"
	sid=$(ps -o sid= -p "$pid" | tr -d ' ')
	[ "$sid" != "$pid" ] || fail "$TEST_NAME" "the daemon leads its session: no second fork"
	[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] ||
		fail "$TEST_NAME" "the daemon stayed in the test's session: no setsid"
	assert_eq "$(readlink "/proc/$pid/cwd")" / "working directory"
	assert_eq "$(fd_target "$pid" 0)" /dev/null "stdin"
	assert_eq "$(fd_target "$pid" 1)" /dev/null "stdout"
	assert_eq "$(fd_target "$pid" 2)" /dev/null "stderr"
	wait_until 10 grep -q ': ok in ' "$T/file.log" ||
		fail "$TEST_NAME" "no run logged by the daemon"
	assert_same_tree "$T/src" "$T/dst"
	echo new >"$T/src/new"
	wait_until 10 same_tree "$T/src" "$T/dst" || assert_same_tree "$T/src" "$T/dst"
	stop_daemon "$pid" "$T/poni.pid"
	if [ -s "$T/out" ] || [ -s "$T/err" ]; then
		cat "$T/out" "$T/err" | detail
		fail "$TEST_NAME" "poni -d wrote to the starter's stdout or stderr"
	fi
}

# With log: stdout the daemon keeps stdout where it was (the init
# script's, procd's or a file) and puts stdin and stderr on /dev/null.
t_daemon_log_stdout_kept() {
	local pid
	small_tree
	mirror_conf "log: stdout"
	assert_exit 0 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	pid=$(pid_of_pidfile "$T/poni.pid")
	assert_eq "$(fd_target "$pid" 0)" /dev/null "stdin"
	assert_eq "$(fd_target "$pid" 1)" "$T/out" "stdout"
	assert_eq "$(fd_target "$pid" 2)" /dev/null "stderr"
	wait_until 10 grep -q ': ok in ' "$T/out" ||
		fail "$TEST_NAME" "no run logged on the kept stdout"
	stop_daemon "$pid" "$T/poni.pid"
	assert_contains "$T/out" 'info: stopped'
}

# What makes start-up fail is reported before detaching: exit 1 and the
# message on stderr, where an init script shows it; nothing left running.
t_daemon_bad_config_fails_before_detaching() {
	mirror_conf "log: $T/file.log"
	echo "    remote_hots: x" >>"$CONF"
	assert_exit 1 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	assert_contains "$T/err" "remote_hots"
	assert_absent "$T/poni.pid"
	none_mine "$CONF" || fail "$TEST_NAME" "a poni runs: $(mine "$CONF")"
}

t_daemon_unwritable_log_fails_before_detaching() {
	small_tree
	mirror_conf "log: $T/no/such/dir/poni.log"
	assert_exit 1 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	assert_contains "$T/err" "$T/no/such/dir/poni.log"
	assert_absent "$T/poni.pid"
	none_mine "$CONF" || fail "$TEST_NAME" "a poni runs: $(mine "$CONF")"
}

# -d from another directory with relative -c and -p: the daemon works in
# /, yet finds its config on SIGHUP and removes the right pidfile.
t_daemon_relative_paths() {
	local pid
	small_tree
	mirror_conf "log: $T/file.log"
	mkdir "$T/etc"
	mv "$CONF" "$T/etc/poni.yml"
	(cd "$T/etc" && exec timeout "$LIMIT" "$PONI" -d -p poni.pid -c poni.yml) ||
		fail "$TEST_NAME" "poni -d with relative paths exited $?"
	pid=$(pid_of_pidfile "$T/etc/poni.pid")
	wait_until 10 grep -q ': ok in ' "$T/file.log" || fail "$TEST_NAME" "no run logged"
	kill -HUP "$pid"
	wait_until 10 grep -q 'reloaded' "$T/file.log" || {
		detail <"$T/file.log"
		fail "$TEST_NAME" "no reload logged after SIGHUP"
	}
	stop_daemon "$pid" "$T/etc/poni.pid"
}

# --- -p: the pidfile -------------------------------------------------------------

# Locked while poni runs (flock, the lock any other poni tries), holding
# the daemon's pid; a second poni -d with it exits 1 before detaching,
# naming the file and the running pid, and changes nothing.
t_pidfile_locked_second_daemon_refused() {
	local pid
	command -v flock >/dev/null || skip "$TEST_NAME" "no flock(1)"
	small_tree
	mirror_conf "log: $T/file.log"
	assert_exit 0 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	pid=$(pid_of_pidfile "$T/poni.pid")
	if flock -n "$T/poni.pid" true; then
		fail "$TEST_NAME" "the pidfile is not locked while poni runs"
	fi
	assert_exit 1 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	assert_contains "$T/err" "$T/poni.pid"
	assert_contains "$T/err" "pid $pid"
	assert_contains "$T/err" "running"
	assert_eq "$(cat "$T/poni.pid")" "$pid" "pidfile after the refused start"
	alive "$pid" || fail "$TEST_NAME" "the first poni died"
	assert_eq "$(mine "$T/poni.pid" | wc -l)" 1 "poni processes with the pidfile"
	stop_daemon "$pid" "$T/poni.pid"
}

# A pidfile left by a poni that was killed (no lock held) does not stop
# the next one, which writes its own pid.
t_pidfile_stale_replaced() {
	local first second
	small_tree
	mirror_conf "log: $T/file.log"
	assert_exit 0 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	first=$(pid_of_pidfile "$T/poni.pid")
	kill -KILL "$first"
	wait_until 5 not alive "$first" || fail "$TEST_NAME" "poni survived SIGKILL"
	# the lock goes with the last thread: under qemu-user that can be a
	# moment after the process shows as dead
	wait_until 5 flock -n "$T/poni.pid" true ||
		fail "$TEST_NAME" "the killed poni's pidfile stays locked"
	assert_file "$T/poni.pid"
	assert_exit 0 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	wait_until 5 not grep -qx "$first" "$T/poni.pid" ||
		fail "$TEST_NAME" "the pidfile still holds the dead pid $first"
	second=$(pid_of_pidfile "$T/poni.pid")
	alive "$second" || fail "$TEST_NAME" "the second poni does not run"
	stop_daemon "$second" "$T/poni.pid"
}

# SIGINT removes the pidfile as SIGTERM does (sys_cli.sh tests SIGTERM).
t_pidfile_removed_on_sigint() {
	local pid
	small_tree
	mirror_conf "log: $T/file.log"
	assert_exit 0 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	pid=$(pid_of_pidfile "$T/poni.pid")
	wait_until 10 grep -q ': ok in ' "$T/file.log" || fail "$TEST_NAME" "no run logged"
	kill -INT "$pid"
	wait_until 10 not alive "$pid" || fail "$TEST_NAME" "poni does not stop on SIGINT"
	assert_absent "$T/poni.pid"
}

t_pidfile_in_missing_directory_fails() {
	small_tree
	mirror_conf "log: $T/file.log"
	assert_exit 1 timeout "$LIMIT" "$PONI" -d -p "$T/no/such/poni.pid" -c "$CONF"
	assert_contains "$T/err" "$T/no/such/poni.pid"
	none_mine "$CONF" || fail "$TEST_NAME" "a poni runs: $(mine "$CONF")"
}

# --- syslog ----------------------------------------------------------------------

# log: syslog sends facility daemon (3 << 3) and ident poni[PID]: a run
# at info <30>, a failed run at err <27>, its retry at warning <28>,
# details at debug <31>; the text without poni's own time and level, and
# no time stamp in front (the syslog daemon adds its own).
t_syslog_priorities_and_ident() {
	router_test
	start_syslog
	small_tree
	write_conf <<-EOF
		log: syslog
		log_level: debug
		sync:
		  $T/src/:
		    remote_path: $T/dst
		    interval: 0
		  bad:
		    source_path: $T/src/
		    remote_path: $T/no/such/dir/dst
		    interval: 0
	EOF
	start_poni "$CONF"
	local id="^<%d>poni\\[$PONI_PID\\]: "
	# shellcheck disable=SC2059 # $id is the format
	wait_syslog "$(printf "$id" 30)poni .* starting"
	# shellcheck disable=SC2059
	wait_syslog "$(printf "$id" 30)sync $T/src/ -> $T/dst: ok in "
	# shellcheck disable=SC2059
	wait_syslog "$(printf "$id" 27)sync $T/src/ -> $T/no/such/dir/dst: failed in "
	# shellcheck disable=SC2059
	wait_syslog "$(printf "$id" 28)sync $T/src/ -> $T/no/such/dir/dst: retry in "
	# shellcheck disable=SC2059
	wait_syslog "$(printf "$id" 31)"
	assert_not_contains "$T/syslog.log" '^<[0-9]+>.*: [0-9]{4}-[0-9]{2}-[0-9]{2} '
	assert_not_contains "$T/syslog.log" '^<[0-9]+>.*: (info|error|warning|debug): '
	# facility daemon: priorities 24 (emerg) to 31 (debug) only
	if grep -Ev '^<(2[4-9]|3[01])>' "$T/syslog.log" | grep -q .; then
		grep -Ev '^<(2[4-9]|3[01])>' "$T/syslog.log" | detail
		fail "$TEST_NAME" "messages not of facility daemon"
	fi
	stop_poni_explained TERM
	# shellcheck disable=SC2059
	wait_syslog "$(printf "$id" 30)stopped"
}

# poni -d with log: syslog (the init script's setup): the log reaches
# syslog from the detached daemon under its own pid; log_level info
# sends no debug.
t_syslog_from_daemon() {
	local pid
	router_test
	start_syslog
	small_tree
	mirror_conf "log: syslog"
	assert_exit 0 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	pid=$(pid_of_pidfile "$T/poni.pid")
	wait_syslog "^<30>poni\\[$pid\\]: sync $T/src/ -> $T/dst: ok in "
	echo new >"$T/src/new"
	wait_until 10 same_tree "$T/src" "$T/dst" || assert_same_tree "$T/src" "$T/dst"
	stop_daemon "$pid" "$T/poni.pid"
	wait_syslog "^<30>poni\\[$pid\\]: stopped"
	assert_not_contains "$T/syslog.log" '^<31>'
}

# A restarted syslog daemon listens on a new socket at the same path:
# poni connects again and the next message arrives.
t_syslog_daemon_restarted() {
	local pid
	router_test
	start_syslog
	[ "$SYSLOG_SOCK" = /dev/log ] ||
		skip "$TEST_NAME" "needs a /dev/log made for the test (a private namespace keeps the old socket bound)"
	small_tree
	mirror_conf "log: syslog"
	start_poni "$CONF"
	pid=$PONI_PID
	wait_syslog "^<30>poni\\[$pid\\]: sync $T/src/ -> $T/dst: ok in "
	restart_syslog
	echo new >"$T/src/new"
	wait_syslog "^<30>poni\\[$pid\\]: sync $T/src/ -> $T/dst: ok in "
	stop_poni_explained TERM
	wait_syslog "^<30>poni\\[$pid\\]: stopped"
}

# A syslog daemon that hangs (its socket is never read, so its queue
# fills) costs poni's messages, never its work: changes are still
# mirrored and SIGTERM still ends it at once.
t_syslog_hung_daemon_blocks_nothing() {
	local i
	router_test
	start_syslog deaf
	small_tree
	mirror_conf "log: syslog" "log_level: debug"
	start_poni "$CONF"
	wait_until 10 same_tree "$T/src" "$T/dst" || assert_same_tree "$T/src" "$T/dst"
	for i in $(seq 1 5); do
		mkdir "$T/src/d$i"
		echo "$i" >"$T/src/d$i/f$i"
		echo "$i" >"$T/src/f$i"
		wait_poni 10 same_tree "$T/src" "$T/dst" || assert_same_tree "$T/src" "$T/dst"
	done
	stop_poni_ok TERM
}

# --- init.d/poni under BusyBox ---------------------------------------------------

# init_script ARG: run init.d/poni ARG with BusyBox's sh and nothing but
# BusyBox applets (and rsync) in PATH; output in $T/init.out, status
# returned.
init_script() {
	env -i PATH="$T/bb" DAEMON="$PONI" CONFIG="$CONF" PIDFILE="$T/poni.pid" \
		"$T/bb/sh" "$INIT" "$1" >"$T/init.out" 2>&1
}

# assert_init ARG STATUS: init_script ARG exits STATUS.
assert_init() {
	local st
	init_script "$1"
	st=$?
	if [ "$st" != "$2" ]; then
		detail <"$T/init.out"
		fail "$TEST_NAME" "init.d/poni $1 exited $st, want $2"
	fi
}

# init_ready [no-ssd]: skip unless the script can run here. It finds poni
# by the process name "poni": a PONI that is a script must run a program
# of that name (tests/cross.sh runs qemu through a link named poni).
init_ready() {
	[ -e /etc/default/poni ] &&
		skip "$TEST_NAME" "/etc/default/poni exists and would override the test's settings"
	busybox_path "$@"
}

# start, status, reload, stop, status: as a BusyBox router runs it.
t_init_busybox_lifecycle() {
	local pid
	init_ready
	small_tree
	mirror_conf "log: $T/poni.log"
	assert_init start 0
	assert_contains "$T/init.out" '^Starting poni: poni \(pid [0-9]+\)'
	pid=$(pid_of_pidfile "$T/poni.pid")
	alive "$pid" || fail "$TEST_NAME" "pid $pid from the pidfile does not run"
	assert_eq "$(cat "/proc/$pid/comm")" poni "process name"
	wait_log ': ok in '
	wait_same_tree "$T/src" "$T/dst"
	assert_init status 0
	assert_contains "$T/init.out" "poni is running \\(pid $pid\\)"
	assert_init reload 0
	wait_log 'reloaded'
	alive "$pid" || fail "$TEST_NAME" "poni died on reload"
	echo after-reload >"$T/src/new"
	wait_same_tree "$T/src" "$T/dst"
	assert_init stop 0
	assert_contains "$T/init.out" 'stopped'
	alive "$pid" && fail "$TEST_NAME" "poni (pid $pid) still runs after stop"
	assert_absent "$T/poni.pid"
	assert_init status 3
	assert_contains "$T/init.out" 'poni is not running'
}

# A bad config: start refuses with poni's message, nothing runs.
t_init_busybox_bad_config() {
	init_ready
	mirror_conf "log: $T/poni.log"
	echo "    remote_hots: x" >>"$CONF"
	assert_init start 1
	assert_contains "$T/init.out" 'remote_hots'
	assert_absent "$T/poni.pid"
	none_mine "$CONF" || fail "$TEST_NAME" "a poni runs: $(mine "$CONF")"
	assert_init status 3
}

# start twice: one poni; restart with a bad config keeps the running one.
t_init_busybox_start_twice_and_bad_restart() {
	local pid
	init_ready
	small_tree
	mirror_conf "log: $T/poni.log"
	assert_init start 0
	pid=$(pid_of_pidfile "$T/poni.pid")
	assert_init start 0
	assert_contains "$T/init.out" "already running \\(pid $pid\\)"
	assert_eq "$(mine "$CONF" | wc -l)" 1 "poni processes"
	echo "    remote_hots: x" >>"$CONF"
	assert_init restart 1
	alive "$pid" || fail "$TEST_NAME" "restart with a bad config stopped poni"
	assert_eq "$(cat "$T/poni.pid")" "$pid" "pidfile"
	kill -TERM "$pid"
	wait_until 10 not alive "$pid" || fail "$TEST_NAME" "poni does not stop"
}

# Without start-stop-daemon the script runs poni -d itself.
t_init_busybox_without_start_stop_daemon() {
	local pid
	init_ready no-ssd
	small_tree
	mirror_conf "log: $T/poni.log"
	assert_init start 0
	pid=$(pid_of_pidfile "$T/poni.pid")
	wait_same_tree "$T/src" "$T/dst"
	assert_init status 0
	assert_init stop 0
	alive "$pid" && fail "$TEST_NAME" "poni (pid $pid) still runs after stop"
	assert_absent "$T/poni.pid"
	assert_init status 3
}

# --- Dropbear --------------------------------------------------------------------

# db_conf [KEY: VALUE]...: $T/src/ -> root@127.0.0.1:$T/dst through
# dbclient with the test's Dropbear key, interval 0, recurse and delete.
db_conf() {
	local l
	{
		echo "sync:"
		echo "  $T/src/:"
		echo "    remote_host: 127.0.0.1"
		echo "    remote_user: root"
		echo "    remote_path: $T/dst"
		echo "    port: $DB_PORT"
		echo "    priv_key: $DB_KEY"
		echo "    ssh: dbclient"
		echo "    interval: 0"
		echo "    recurse: true"
		echo "    delete: true"
		for l in "$@"; do
			echo "    $l"
		done
	} | write_conf
}

known_host() {
	mkdir -p "$HOME/.ssh"
	echo "$1" >"$HOME/.ssh/known_hosts"
}

# accept-new (dbclient -y) with no known host: the tree is mirrored
# through Dropbear; dbclient gets -p -i -l -y and none of OpenSSH's -o.
t_dropbear_mirror() {
	router_test
	start_dropbear
	small_tree
	db_conf "strict_host_key: accept-new"
	start_poni "$CONF" -v
	wait_runs 1 30
	assert_same_tree "$T/src" "$T/dst"
	assert_contains "$T/poni.log" "'-e' 'dbclient -p $DB_PORT -i $DB_KEY -l root -y'"
	assert_not_contains "$T/poni.log" "ControlMaster|BatchMode|'-o'"
	assert_contains "$T/dropbear.log" "Pubkey auth succeeded for 'root'"
	echo new >"$T/src/a/new"
	rm "$T/src/one"
	wait_same_tree "$T/src" "$T/dst" 30
	stop_poni_explained TERM
	none_mine dbclient || fail "$TEST_NAME" "dbclient left: $(mine dbclient)"
}

# strict_host_key: yes (no -y) with the host key in ~/.ssh/known_hosts,
# which Dropbear reads by host name alone, without the port.
t_dropbear_strict_known_host() {
	router_test
	start_dropbear
	small_tree
	known_host "127.0.0.1 $DB_HOSTKEY"
	db_conf "strict_host_key: yes"
	start_poni "$CONF" -v
	wait_runs 1 30
	assert_same_tree "$T/src" "$T/dst"
	assert_contains "$T/poni.log" "'-e' 'dbclient -p $DB_PORT -i $DB_KEY -l root'"
	stop_poni_explained TERM
}

# accept-new refuses a host whose key differs from the known one: the run
# fails with dbclient's message and is retried; once known_hosts is put
# right, a retry succeeds.
t_dropbear_host_key_mismatch_retried() {
	router_test
	start_dropbear
	small_tree
	known_host "127.0.0.1 $(dropbearkey -y -f "$DB_KEY" | grep '^ssh-' | cut -d' ' -f1,2)"
	db_conf "strict_host_key: accept-new"
	start_poni "$CONF"
	wait_log 'failed in .*host key mismatch' 30
	wait_log 'retry in '
	assert_poni_alive
	[ -e "$T/dst/one" ] && fail "$TEST_NAME" "copied to a host with the wrong key"
	known_host "127.0.0.1 $DB_HOSTKEY"
	wait_runs 1 30
	wait_same_tree "$T/src" "$T/dst"
	stop_poni_explained TERM
}

# strict_host_key: no (dbclient -yy) ignores a mismatching known host.
t_dropbear_strict_no() {
	router_test
	start_dropbear
	small_tree
	known_host "127.0.0.1 $(dropbearkey -y -f "$DB_KEY" | grep '^ssh-' | cut -d' ' -f1,2)"
	db_conf "strict_host_key: no"
	start_poni "$CONF" -v
	wait_runs 1 30
	assert_same_tree "$T/src" "$T/dst"
	assert_contains "$T/poni.log" "'-e' 'dbclient -p $DB_PORT -i $DB_KEY -l root -yy'"
	stop_poni_explained TERM
}

# --- shellcheck ------------------------------------------------------------------

t_shellcheck_scripts() {
	local top=$TESTS_DIR/..
	command -v shellcheck >/dev/null || skip "$TEST_NAME" "no shellcheck"
	if ! (cd "$top" && shellcheck -x init.d/poni init.d/poni.openwrt tests/*.sh) >"$T/sc.out" 2>&1; then
		detail <"$T/sc.out"
		fail "$TEST_NAME" "shellcheck finds problems"
	fi
}

run_test daemon_detaches_double_fork t_daemon_detaches_double_fork
run_test daemon_log_stdout_kept t_daemon_log_stdout_kept
run_test daemon_bad_config_fails_before_detaching t_daemon_bad_config_fails_before_detaching
run_test daemon_unwritable_log_fails_before_detaching t_daemon_unwritable_log_fails_before_detaching
run_test daemon_relative_paths t_daemon_relative_paths
run_test pidfile_locked_second_daemon_refused t_pidfile_locked_second_daemon_refused
run_test pidfile_stale_replaced t_pidfile_stale_replaced
run_test pidfile_removed_on_sigint t_pidfile_removed_on_sigint
run_test pidfile_in_missing_directory_fails t_pidfile_in_missing_directory_fails
run_test syslog_priorities_and_ident t_syslog_priorities_and_ident
run_test syslog_from_daemon t_syslog_from_daemon
run_test syslog_daemon_restarted t_syslog_daemon_restarted
run_test syslog_hung_daemon_blocks_nothing t_syslog_hung_daemon_blocks_nothing
run_test init_busybox_lifecycle t_init_busybox_lifecycle
run_test init_busybox_bad_config t_init_busybox_bad_config
run_test init_busybox_start_twice_and_bad_restart t_init_busybox_start_twice_and_bad_restart
run_test init_busybox_without_start_stop_daemon t_init_busybox_without_start_stop_daemon
run_test dropbear_mirror t_dropbear_mirror
run_test dropbear_strict_known_host t_dropbear_strict_known_host
run_test dropbear_host_key_mismatch_retried t_dropbear_host_key_mismatch_retried
run_test dropbear_strict_no t_dropbear_strict_no
run_test shellcheck_scripts t_shellcheck_scripts
finish
