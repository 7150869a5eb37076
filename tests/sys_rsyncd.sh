#!/bin/bash
# System tests: transport rsyncd, to a real rsync daemon started here on
# 127.0.0.1 with a module that wants a user and a password (secrets
# file): an initial sync, changed-path runs, deletes and renames, hostile
# names, into a path inside the module; a wrong password fails the run
# (logged, retried) and never waits for a password; password files that
# rsync would refuse are refused by -t.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=20

# start_rsyncd: rsync --daemon on a free port of 127.0.0.1, module
# "backup" (path $T/module, writable, user poni with password "secret").
start_rsyncd() {
	local _
	command -v rsync >/dev/null || skip "$TEST_NAME" "no rsync"
	mkdir -p "$T/module"
	echo "poni:secret" >"$T/secrets"
	chmod 600 "$T/secrets"
	printf 'secret\n' >"$T/password"
	chmod 600 "$T/password"
	for _ in 1 2 3; do
		RSYNCD_PORT=$(free_port) || fail "$TEST_NAME" "no free port"
		cat >"$T/rsyncd.conf" <<-EOF
			pid file = $T/rsyncd.pid
			use chroot = no
			uid = $(id -u)
			gid = $(id -g)
			[backup]
			    path = $T/module
			    read only = false
			    auth users = poni
			    secrets file = $T/secrets
		EOF
		# it detaches (so no job of this shell is killed at the end:
		# the cleanup stops what has $T in its command line)
		rsync --daemon --address=127.0.0.1 --port="$RSYNCD_PORT" \
			--config="$T/rsyncd.conf" --log-file="$T/rsyncd.log" {NAP_FD}>&- ||
			fail "$TEST_NAME" "rsync --daemon failed"
		if wait_until 10 test -s "$T/rsyncd.pid" &&
			wait_until 10 listening "$RSYNCD_PORT" "$(cat "$T/rsyncd.pid")"; then
			return 0
		fi
		[ -s "$T/rsyncd.pid" ] && stop_pids TERM "$(cat "$T/rsyncd.pid")"
		rm -f "$T/rsyncd.pid"
	done
	fail "$TEST_NAME" "rsync --daemon did not start"
}

# rsyncd_conf [KEY: VALUE]...: $T/src/ to path "in/here" of the module.
rsyncd_conf() {
	local l
	{
		echo "sync:"
		echo "  $T/src/:"
		echo "    transport: rsyncd"
		echo "    remote_host: 127.0.0.1"
		echo "    port: $RSYNCD_PORT"
		echo "    remote_user: poni"
		echo "    module: backup"
		echo "    remote_path: in/here"
		echo "    interval: 0"
		echo "    recurse: true"
		echo "    delete: true"
		for l in "$@"; do
			echo "    $l"
		done
	} | write_conf
}

t_rsyncd_mirror() {
	local odd
	odd=$(printf 'odd\nname "q" \x27s\xff')
	start_rsyncd
	mkdir -p "$T/src/a/b" "$T/module/in"
	echo 1 >"$T/src/one"
	echo 2 >"$T/src/a/b/two"
	rsyncd_conf "password_file: $T/password"
	assert_exit 0 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/out" "^$(ere "$T/src/") -> rsync://poni@127\.0\.0\.1:$RSYNCD_PORT/backup/in/here \(rsyncd, password_file "
	start_poni "$CONF"
	wait_same_tree "$T/src" "$T/module/in/here" "$LIMIT"
	wait_idle
	echo new >"$T/src/new"
	echo "$odd" >"$T/src/$odd"
	echo x >"$T/src/-dash"
	wait_same_tree "$T/src" "$T/module/in/here" "$LIMIT"
	mv "$T/src/a" "$T/src/renamed"
	rm "$T/src/one"
	wait_same_tree "$T/src" "$T/module/in/here" "$LIMIT"
	wait_idle
	assert_contains "$T/poni.log" ': ok in [0-9.]+ s \([0-9]+ paths?\)'
	assert_not_contains "$T/poni.log" ': failed in '
	stop_poni_ok TERM
}

# The module's root when remote_path is absent; --once.
t_rsyncd_module_root_once() {
	start_rsyncd
	mkdir -p "$T/src/d"
	echo 1 >"$T/src/d/f"
	write_conf <<-EOF
		sync:
		  $T/src/:
		    transport: rsyncd
		    remote_host: 127.0.0.1
		    port: $RSYNCD_PORT
		    remote_user: poni
		    module: backup
		    password_file: $T/password
	EOF
	assert_exit 0 timeout "$LIMIT" "$PONI" -1 -c "$CONF"
	assert_same_tree "$T/src" "$T/module"
}

# A wrong password, or none at all: the run fails with rsync's words,
# is retried, and nothing waits for a password (on stdin or a terminal).
t_rsyncd_wrong_password_fails() {
	start_rsyncd
	mkdir -p "$T/src"
	echo 1 >"$T/src/one"
	printf 'wrong\n' >"$T/password"
	rsyncd_conf "password_file: $T/password"
	start_poni "$CONF"
	wait_log ": failed in " "$LIMIT"
	assert_contains "$T/poni.log" "rsync exit 5 \(error starting client-server protocol\).*auth failed"
	stop_poni_ok TERM
	: >"$T/poni.log"
	rsyncd_conf
	start_poni "$CONF"
	wait_log ": failed in " "$LIMIT"
	assert_contains "$T/poni.log" "rsync exit 5 .*auth failed"
	assert_absent "$T/module/in/here/one"
	stop_poni_ok TERM
}

t_rsyncd_config_refusals() {
	mkdir -p "$T/src"
	RSYNCD_PORT=873
	printf 'secret\n' >"$T/password"
	chmod 604 "$T/password"
	rsyncd_conf "password_file: password"
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "password_file: $(ere "$T/password") is open to others \(mode 0604\), which rsync refuses: chmod 600"
	write_conf <<-EOF
		sync:
		  $T/src/:
		    transport: rsyncd
		    remote_host: 127.0.0.1
	EOF
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "transport rsyncd needs module"
	write_conf <<-EOF
		sync:
		  $T/src/:
		    remote_host: example.org
		    remote_path: /x
		    priv_key: $T/password
		    module: backup
	EOF
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" ":6: sync .*: module is for an rsync daemon: set transport: rsyncd"
	# the daemon's port when port is not set
	write_conf <<-EOF
		sync:
		  $T/src/:
		    transport: rsyncd
		    remote_host: nas
		    module: backup
	EOF
	assert_exit 0 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/out" "-> rsync://nas:873/backup \(rsyncd, "
}

run_test rsyncd_mirror t_rsyncd_mirror
run_test rsyncd_module_root_once t_rsyncd_module_root_once
run_test rsyncd_wrong_password_fails t_rsyncd_wrong_password_fails
run_test rsyncd_config_refusals t_rsyncd_config_refusals
finish
