#!/bin/bash
# System tests: the command line. Options, exit statuses, -t on good and bad
# configs, --once, --dry-run, the log, the pidfile, -d, closed standard
# fds. The signals are in sys_signals.sh.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# Longest a poni that should end on its own may take.
LIMIT=20

small_tree() {
	mkdir -p "$T/src/a/b"
	echo 1 >"$T/src/one"
	echo 2 >"$T/src/a/two"
	echo 3 >"$T/src/a/b/three"
}

# --- options -------------------------------------------------------------------

t_version() {
	local opt
	for opt in -V --version; do
		assert_exit 0 timeout "$LIMIT" "$PONI" "$opt"
		assert_contains "$T/out" '[0-9]+\.[0-9]+'
	done
}

t_help() {
	local opt
	for opt in -h --help; do
		assert_exit 0 timeout "$LIMIT" "$PONI" "$opt"
		assert_contains "$T/out" '[Uu]sage'
		assert_contains "$T/out" '-c'
		assert_contains "$T/out" '--once'
	done
}

t_unknown_option_exits_2() {
	local opt
	for opt in -Z --no-such-option; do
		assert_exit 2 timeout "$LIMIT" "$PONI" "$opt"
		[ -s "$T/err" ] || fail "$TEST_NAME" "nothing on stderr for $opt"
	done
}

t_option_without_argument_exits_2() {
	assert_exit 2 timeout "$LIMIT" "$PONI" -c
	[ -s "$T/err" ] || fail "$TEST_NAME" "nothing on stderr"
}

# The forms getopt_long(3) accepts, each meaning -t -c $CONF.
t_option_forms() {
	local args
	mkdir -p "$T/src"
	mirror_conf
	for args in "-t -c $CONF" "-tc $CONF" "-tc$CONF" "-c$CONF -t" "-vtn -c $CONF" \
		"--check --config $CONF" "--check --config=$CONF" "--conf=$CONF --ch" \
		"--config $CONF --check --"; do
		# shellcheck disable=SC2086 # split on purpose
		assert_exit 0 timeout "$LIMIT" "$PONI" $args
		assert_eq "$(tail -n 1 "$T/out")" "configuration OK: 1 sync" "-t output of: $args"
	done
	# after --, -t is an argument, not an option
	assert_exit 2 timeout "$LIMIT" "$PONI" -c "$CONF" -- -t
	assert_contains "$T/err" "unexpected argument '-t'"
	# an option after other arguments is still read (and -V answers)
	assert_exit 0 timeout "$LIMIT" "$PONI" extra -V
	assert_contains "$T/out" '^poni [0-9]+\.[0-9]+'
}

# Each usage error names what is wrong, shows the usage, exits 2.
t_usage_errors_named() {
	local case_ args want
	for case_ in \
		"-Z|unknown option -Z" \
		"-tZ|unknown option -Z" \
		"--no-such-option|unknown option --no-such-option" \
		"-c|option -c needs an argument" \
		"-p|option -p needs an argument" \
		"--config|option --config needs an argument" \
		"--check=yes|option --check takes no argument" \
		"--ver|option --ver is ambiguous" \
		"-t extra|unexpected argument 'extra'" \
		"extra -t|unexpected argument 'extra'"; do
		args=${case_%%|*}
		want=${case_#*|}
		# shellcheck disable=SC2086 # split on purpose
		assert_exit 2 timeout "$LIMIT" "$PONI" $args
		assert_contains "$T/err" "^poni: $want"
		assert_contains "$T/err" '^usage: poni '
		[ -s "$T/out" ] && fail "$TEST_NAME" "stdout not empty for: $args"
	done
	return 0
}

t_missing_config_exits_1() {
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$T/no-such.yml"
	assert_contains "$T/err" "$T/no-such\\.yml"
	assert_exit 1 timeout "$LIMIT" "$PONI" -c "$T/no-such.yml"
	assert_contains "$T/err" "$T/no-such\\.yml"
}

# --- -t on a good config -------------------------------------------------------

t_check_good_config() {
	mkdir -p "$T/src" "$T/src2" "$T/src3"
	: >"$T/key"
	chmod 600 "$T/key"
	write_conf <<-EOF
		---
		# a comment
		defaults:
		  remote_path: $T/default-dst
		  interval: 3

		sync:
		  $T/src/:
		    remote_path: $T/dst   # trailing comment
		    recurse: yes
		    exclude: ['*.tmp', "cache/"]
		  $T/src2:
		    remote_host: backup.example.org
		    remote_user: jsmith
		    remote_path: /backup
		    priv_key: $T/key
		    port: 1122
		    rsync_opts: az
		  $T/src3: []
	EOF
	assert_exit 0 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_eq "$(wc -l <"$T/out")" 5 "lines printed by -t"
	assert_contains "$T/out" "^max_runs: 4 \(rsyncs at once, across all syncs\)$"
	assert_eq "$(tail -n 1 "$T/out")" "configuration OK: 3 syncs" "last line"
	assert_contains "$T/out" "^$T/src/ -> .*$T/dst"
	assert_contains "$T/out" "^$T/src2 -> .*backup\.example\.org.*/backup"
	assert_contains "$T/out" "^$T/src3 -> .*$T/default-dst"
	assert_contains "$T/out" ' -> .*\(.*\)'
	# -t only checks: nothing was copied, nothing left running
	assert_absent "$T/dst"
	assert_absent "$T/default-dst"
}

# --- -t on bad configs -------------------------------------------------------------

# expect_config_error LINES ERE...: the config on stdin makes "poni -t" exit
# 1 with "poni: FILE:LINE:" on stderr (LINES: a line number, or a choice
# like 5|2) and a message on that line matching each ERE (case-insensitive).
expect_config_error() {
	local lines=$1 re where
	shift
	write_conf
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	where="^poni: $CONF:($lines):"
	if ! grep -Eq -- "$where" "$T/err"; then
		detail <"$T/err"
		fail "$TEST_NAME" "stderr does not begin 'poni: $(basename "$CONF"):$lines:'"
	fi
	for re in "$@"; do
		if ! grep -E -- "$where" "$T/err" | grep -Eiq -- "$re"; then
			detail <"$T/err"
			fail "$TEST_NAME" "the message does not match /$re/"
		fi
	done
	# and the same config stops a real start just as well
	assert_exit 1 timeout 5 "$PONI" -c "$CONF"
}

t_rejects_unknown_key() {
	expect_config_error 4 "remote_hots" "remote_host([^s]|$)" <<-EOF
		sync:
		  $T/src/:
		    remote_path: $T/dst
		    remote_hots: example.org
	EOF
}

t_rejects_tab_indentation() {
	printf 'sync:\n  %s/src/:\n\tremote_path: %s/dst\n' "$T" "$T" |
		expect_config_error 3 "tab"
}

t_rejects_duplicate_key() {
	expect_config_error 6 "duplicate|twice|again" "(^|[^0-9])4([^0-9]|$)" <<-EOF
		sync:
		  $T/src/:
		    remote_path: $T/dst
		    interval: 1
		    recurse: true
		    interval: 2
	EOF
}

t_rejects_rsync_opts_with_argument() {
	expect_config_error 4 "(^|[^A-Za-z])B([^A-Za-z]|$)" "--block-size" <<-EOF
		sync:
		  $T/src/:
		    remote_path: $T/dst
		    rsync_opts: azBP
	EOF
}

t_rejects_port_out_of_range() {
	: >"$T/key"
	expect_config_error 6 "port" <<-EOF
		sync:
		  $T/src/:
		    remote_host: 127.0.0.1
		    remote_path: $T/dst
		    priv_key: $T/key
		    port: 70000
	EOF
}

t_rejects_negative_interval() {
	expect_config_error 4 "interval" <<-EOF
		sync:
		  $T/src/:
		    remote_path: $T/dst
		    interval: -1
	EOF
}

t_rejects_bad_boolean() {
	expect_config_error 4 "recurse|bool|true" <<-EOF
		sync:
		  $T/src/:
		    remote_path: $T/dst
		    recurse: maybe
	EOF
}

t_rejects_missing_remote_path() {
	expect_config_error 2 "remote_path" <<-EOF
		sync:
		  $T/src/:
		    interval: 1
		    recurse: true
	EOF
}

t_rejects_anchor() {
	expect_config_error 3 "anchor|alias" <<-EOF
		sync:
		  $T/src/:
		    remote_path: &a $T/dst
	EOF
}

t_rejects_block_scalar() {
	expect_config_error 3 "block|scalar" <<-EOF
		sync:
		  $T/src/:
		    remote_path: |
		      $T/dst
	EOF
}

t_rejects_unterminated_quote() {
	expect_config_error 3 "quot|terminat" <<-EOF
		sync:
		  $T/src/:
		    remote_path: "$T/dst
		    interval: 1
	EOF
}

t_rejects_missing_priv_key() {
	expect_config_error "5|2" "priv_key|missing-key" <<-EOF
		sync:
		  $T/src/:
		    remote_host: 127.0.0.1
		    remote_path: $T/dst
		    priv_key: $T/missing-key
	EOF
}

# OpenSSH refuses a private key that others can read, at every run: -t
# and a start refuse it first, naming the line and the chmod.
t_rejects_readable_priv_key() {
	: >"$T/key"
	chmod 644 "$T/key"
	expect_config_error 5 "priv_key: $T/key is readable by others \\(mode 0644\\)" \
		"OpenSSH refuses: chmod 600 $T/key\$" <<-EOF
		sync:
		  $T/src/:
		    remote_host: 127.0.0.1
		    remote_path: $T/dst
		    priv_key: $T/key
	EOF
	chmod 600 "$T/key"
	assert_exit 0 timeout "$LIMIT" "$PONI" -t -c "$CONF"
}

# --- --once --------------------------------------------------------------------

t_once_copies_tree_and_exits_0() {
	small_tree
	mirror_conf
	assert_exit 0 timeout "$LIMIT" "$PONI" -1 -c "$CONF"
	assert_same_tree "$T/src" "$T/dst"
	assert_contains "$T/out" ': ok in '
	echo 4 >"$T/src/four"
	assert_exit 0 timeout "$LIMIT" "$PONI" --once -c "$CONF"
	assert_same_tree "$T/src" "$T/dst"
}

t_once_unwritable_target_exits_1() {
	small_tree
	echo "a file, not a directory" >"$T/afile"
	{
		echo "sync:"
		sync_local "$T/src/" "$T/afile/sub"
	} | write_conf
	assert_exit 1 timeout "$LIMIT" "$PONI" -1 -c "$CONF"
	cat "$T/out" "$T/err" >"$T/both"
	assert_contains "$T/both" "sync $T/src/ -> .*: failed in [0-9.]+ s: rsync exit [0-9]+"
	assert_not_contains "$T/both" ': ok in '
}

# --- --dry-run -------------------------------------------------------------------

dry_runs_at_least() {
	[ "$(grep -c 'would run: ' "$T/poni.log")" -ge "$1" ]
}

t_dry_run_logs_argv_copies_nothing() {
	small_tree
	mirror_conf
	start_poni "$CONF" -n
	wait_log "would run: "
	assert_contains "$T/poni.log" "sync $T/src/ -> $T/dst/?: would run: 'rsync' '-az' "
	assert_contains "$T/poni.log" "would run: .* '$T/src/' '$T/dst/?'"
	echo new >"$T/src/new"
	wait_poni 10 dry_runs_at_least 2 ||
		fail "$TEST_NAME" "a change logged no second 'would run:'"
	# idle: no run going that could still write something
	wait_idle
	assert_absent "$T/dst"
	assert_not_contains "$T/poni.log" ': ok in '
	stop_poni_ok TERM
}

# --- the log -------------------------------------------------------------------

t_log_file_line_format() {
	local ts='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z'
	small_tree
	mirror_conf "log: $T/file.log" "recurse: false" "delete: false"
	start_poni "$CONF"
	wait_until 10 grep -q ': ok in ' "$T/file.log" ||
		fail "$TEST_NAME" "no ': ok in ' line in the log file"
	assert_contains "$T/file.log" "$ts [a-z]+: .*starting"
	assert_contains "$T/file.log" "$ts info: sync $T/src/ -> $T/dst/?: ok in [0-9]+(\.[0-9]+)? s \((full|[0-9]+ paths?)\)\$"
	assert_same_tree "$T/src" "$T/dst"
	# every line has a time stamp and a level
	if grep -Ev "$ts (error|warning|info|debug): " "$T/file.log" >"$T/odd"; then
		detail <"$T/odd"
		fail "$TEST_NAME" "log lines without a time stamp and level"
	fi
	stop_poni_ok TERM
}

# --- -p and -d ----------------------------------------------------------------

t_pidfile_written_locked_removed() {
	small_tree
	mirror_conf
	start_poni "$CONF" -p "$T/poni.pid"
	wait_runs 1
	assert_eq "$(cat "$T/poni.pid" 2>/dev/null)" "$PONI_PID" "pid in the pidfile"
	# a second poni with the same pidfile refuses to start
	assert_exit 1 timeout 5 "$PONI" -p "$T/poni.pid" -c "$CONF"
	assert_contains "$T/err" "$PONI_PID"
	assert_eq "$(cat "$T/poni.pid" 2>/dev/null)" "$PONI_PID" "pid in the pidfile after the second start"
	stop_poni_ok TERM
	assert_absent "$T/poni.pid"
}

t_daemon_detaches() {
	local pid
	small_tree
	mirror_conf "log: $T/file.log" "delete: false"
	assert_exit 0 timeout "$LIMIT" "$PONI" -d -p "$T/poni.pid" -c "$CONF"
	wait_until 5 test -s "$T/poni.pid" || fail "$TEST_NAME" "no pidfile"
	pid=$(cat "$T/poni.pid")
	alive "$pid" || fail "$TEST_NAME" "pid $pid from the pidfile does not run"
	wait_until 10 grep -q ': ok in ' "$T/file.log" ||
		fail "$TEST_NAME" "no run logged by the daemon"
	assert_same_tree "$T/src" "$T/dst"
	echo new >"$T/src/new"
	wait_same_tree "$T/src" "$T/dst"
	kill -TERM "$pid"
	wait_until 10 not alive "$pid" || fail "$TEST_NAME" "the daemon does not stop on SIGTERM"
	assert_absent "$T/poni.pid"
}

run_test version t_version
run_test help t_help
run_test unknown_option_exits_2 t_unknown_option_exits_2
run_test option_without_argument_exits_2 t_option_without_argument_exits_2
run_test option_forms t_option_forms
run_test usage_errors_named t_usage_errors_named
run_test missing_config_exits_1 t_missing_config_exits_1
run_test check_good_config t_check_good_config
run_test rejects_unknown_key t_rejects_unknown_key
run_test rejects_tab_indentation t_rejects_tab_indentation
run_test rejects_duplicate_key t_rejects_duplicate_key
run_test rejects_rsync_opts_with_argument t_rejects_rsync_opts_with_argument
run_test rejects_port_out_of_range t_rejects_port_out_of_range
run_test rejects_negative_interval t_rejects_negative_interval
run_test rejects_bad_boolean t_rejects_bad_boolean
run_test rejects_missing_remote_path t_rejects_missing_remote_path
run_test rejects_anchor t_rejects_anchor
run_test rejects_block_scalar t_rejects_block_scalar
run_test rejects_unterminated_quote t_rejects_unterminated_quote
run_test rejects_missing_priv_key t_rejects_missing_priv_key
run_test rejects_readable_priv_key t_rejects_readable_priv_key
run_test once_copies_tree_and_exits_0 t_once_copies_tree_and_exits_0
run_test once_unwritable_target_exits_1 t_once_unwritable_target_exits_1
run_test dry_run_logs_argv_copies_nothing t_dry_run_logs_argv_copies_nothing
run_test log_file_line_format t_log_file_line_format
# Started with stdin, stdout and stderr closed (as a careless init might):
# poni holds them with /dev/null, so its log file, self-pipe and inotify
# fds get other numbers, and it mirrors as usual.
t_closed_std_fds() {
	local pid fd
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	mirror_conf "log: $T/file.log"
	perl -e 'exec { $ARGV[0] } @ARGV or die' "$PONI" -c "$CONF" <&- >&- 2>&- &
	pid=$!
	PONI_PID=$pid
	wait_poni 10 same_tree "$T/src" "$T/dst" || fail "$TEST_NAME" "no initial sync"
	for fd in 0 1 2; do
		assert_eq "$(readlink "/proc/$pid/fd/$fd")" /dev/null "fd $fd"
	done
	echo b >"$T/src/b"
	wait_same_tree "$T/src" "$T/dst" 10
	assert_contains "$T/file.log" ": ok in "
	stop_poni_ok TERM
}

run_test pidfile_written_locked_removed t_pidfile_written_locked_removed
run_test daemon_detaches t_daemon_detaches
run_test closed_std_fds t_closed_std_fds
finish
