#!/bin/bash
# System tests: configs written for the original Poni (0.1.0 to 0.1.4, in
# Crystal) load, and mean what they meant there: syncs keyed by path or by
# name, "[]" syncs taking everything from defaults, a default source_path,
# log as a path, log_path (0.1.3), log as {destination, level} (0.1.4),
# and simulate (log the rsync command, run nothing). The configs below
# have the shapes of that project's README examples and shipped
# config.yml; only rsync_opts that rsync itself refuses (azBP, azvPj,
# aVZPs) are left out, as poni refuses them with a message.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=20

key() {
	install -m 600 "$TESTS_DIR/configs/test_key" "$T/id_rsa"
}

# check_loads LINES: poni -t accepts $CONF, printing LINES sync lines.
check_loads() {
	assert_exit 0 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_eq "$(tail -n 1 "$T/out")" "configuration OK: $1 syncs" "last line of -t"
}

# 0.1.0: syncs keyed by their path, a local one through localhost.
t_poni_0_1_0_config() {
	key
	write_conf <<-EOF
		---
		# syncs
		sync:
		  $T/test:
		    remote_host: localhost
		    remote_path: $T/copy/
		    remote_user: joe
		    rsync_opts: azvP

		  /opt/dir1:
		    remote_host: nycweb1
		    remote_path: /opt
		    remote_user: jsmith
		    priv_key: $T/id_rsa
		    port: 1122
		    interval: 15
		    recurse: true

		  /var/log/syslog:
		    remote_host: web9
		    remote_path: /mnt/backup/logs/host123
		    remote_user: root
		    priv_key: $T/id_rsa
	EOF
	check_loads 3
	assert_contains "$T/out" "^$T/test -> $T/copy/ \(local, rsync -azv, interval 3s\)"
	assert_contains "$T/out" "^/opt/dir1 -> jsmith@nycweb1:/opt \(ssh port 1122, .*interval 15s, recurse\)"
}

# 0.1.1 and 0.1.2: "log: PATH", defaults, "[]" syncs and one override.
t_poni_0_1_2_config() {
	key
	write_conf <<-EOF
		---
		# logging: stdout, or the path of a file
		log: $T/poni.out

		defaults:
		  remote_host: default-host
		  remote_user: default-user
		  remote_path: /default/path
		  priv_key: $T/id_rsa
		  interval: 3

		sync:
		  /home/user/dir1: []   # all from defaults

		  /home/bob/files: []

		  /opt/dir:
		    interval: 30
	EOF
	check_loads 3
	assert_contains "$T/out" "^/home/user/dir1 -> default-user@default-host:/default/path \(ssh port 22, .*interval 3s\)"
	assert_contains "$T/out" "^/opt/dir -> default-user@default-host:/default/path .*interval 30s"
}

# 0.1.3: log_path, syncs named freely with source_path, a default
# source_path for the syncs that give none, simulate in defaults and in
# a sync.
t_poni_0_1_3_config() {
	key
	write_conf <<-EOF
		---

		log_path: $T/poni.out  # comment it out for stdout

		### defaults for every sync
		defaults:
		  source_path: /opt/dir1
		  remote_host: nycweb1
		  remote_path: /tmp
		  remote_user: bob
		  priv_key: $T/id_rsa
		  rsync_opts: azP
		  interval: 3    
		  recurse: false 
		  port: 22       
		  simulate: true 

		sync:
		  "sync dir3 to nycweb1:/opt": # a name of one's choice
		    source_path: /opt/dir3
		    remote_host: nycweb1
		    remote_path: /opt
		    remote_user: jsmith
		    priv_key: $T/id_rsa
		    interval: 15
		    recurse: true
		    simulate: false

		  "sync default path to nycweb1:/tmp": []

		  "sync the files in test, not the directory":
		    source_path: /home/joe/test/
		    remote_host: webhost2
		    remote_path: /tmp/
		    remote_user: joe

		  "sync to Joe":
		    source_path: /var/shared/config.json
		    remote_host: joes-mac
		    remote_path: /Users/joe/configs/
		    remote_user: joe
		    recurse: true
	EOF
	check_loads 4
	assert_contains "$T/out" "^/opt/dir3 -> jsmith@nycweb1:/opt \(.*interval 15s, recurse\)$"
	assert_contains "$T/out" "^/opt/dir1 -> bob@nycweb1:/tmp \(.*interval 3s, simulate\)$"
	assert_contains "$T/out" "^/home/joe/test/ -> joe@webhost2:/tmp/ \(.*simulate\)$"
	assert_contains "$T/out" "^/var/shared/config.json -> joe@joes-mac:/Users/joe/configs/ \(.*recurse, simulate\)$"
}

# 0.1.4: log as a mapping of destination and level.
t_poni_0_1_4_config() {
	key
	write_conf <<-EOF
		---
		log:
		  destination: stdout # or a file
		  level: error # info, error, warning, debug

		defaults:
		  source_path: /opt/dir1
		  remote_host: nycweb1
		  remote_path: /tmp
		  remote_user: bob
		  priv_key: $T/id_rsa
		  simulate: true

		sync:
		  "sync default path": []
		  "sync to Linda":
		    source_path: /var/shared/config.json
		    remote_host: lindas-mac
		    remote_path: /Users/linda/configs/
		    remote_user: linda
	EOF
	check_loads 2
	assert_contains "$T/out" "^/opt/dir1 -> bob@nycweb1:/tmp \(.*simulate\)$"
}

t_log_path_and_log_refused_together() {
	write_conf <<-EOF
		log: stdout
		log_path: $T/poni.out
		sync:
		  $T/src/:
		    remote_path: $T/dst
	EOF
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "^poni: $CONF:2: duplicate key 'log_path' \(first set on line 1 as log or log_path"
}

# log_path writes the log there, as log does.
t_log_path_is_the_log() {
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	write_conf <<-EOF
		log_path: $T/file.log
		sync:
		$(sync_local "$T/src/" "$T/dst")
	EOF
	start_poni "$CONF"
	wait_until 10 grep -q ': ok in ' "$T/file.log" ||
		fail "$TEST_NAME" "no ': ok in ' line in $T/file.log"
	assert_same_tree "$T/src" "$T/dst"
	stop_poni_ok TERM
}

# simulate: the sync logs what it would run and copies nothing, while a
# sync beside it without simulate copies as usual.
t_simulate_runs_nothing() {
	mkdir -p "$T/src" "$T/src2"
	echo a >"$T/src/a"
	echo b >"$T/src2/b"
	write_conf <<-EOF
		defaults:
		  simulate: true
		sync:
		$(sync_local "$T/src/" "$T/dst")
		$(sync_local "$T/src2/" "$T/dst2" "simulate: false")
	EOF
	start_poni "$CONF"
	wait_log "sync $T/src/ -> $T/dst/?: would run: 'rsync' "
	wait_same_tree "$T/src2" "$T/dst2" 10
	echo c >"$T/src/c"
	echo d >"$T/src2/d"
	wait_same_tree "$T/src2" "$T/dst2" 10
	wait_until 10 test "$(grep -c "$T/src/ -> .*would run: " "$T/poni.log")" -ge 2 ||
		fail "$TEST_NAME" "a change logged no second 'would run:'"
	wait_idle
	assert_absent "$T/dst"
	assert_not_contains "$T/poni.log" "sync $T/src/ -> .*: ok in "
	stop_poni_ok TERM
}

run_test poni_0_1_0_config t_poni_0_1_0_config
run_test poni_0_1_2_config t_poni_0_1_2_config
run_test poni_0_1_3_config t_poni_0_1_3_config
run_test poni_0_1_4_config t_poni_0_1_4_config
run_test log_path_and_log_refused_together t_log_path_and_log_refused_together
run_test log_path_is_the_log t_log_path_is_the_log
run_test simulate_runs_nothing t_simulate_runs_nothing
finish
