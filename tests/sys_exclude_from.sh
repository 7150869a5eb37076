#!/bin/bash
# System tests: exclude_from, a file of exclude patterns read as rsync's
# --exclude-from reads one (comments, blank lines, \r\n line ends, "- "
# rules, nothing trimmed): the replica is what rsync -a --exclude-from
# makes of the same tree; changes to excluded paths start no run; a
# SIGHUP reads the file again; a bad line is refused naming its line.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=20

# A tree with names the file's lines may or may not match.
names_tree() {
	local n
	mkdir -p "$T/src/cache/deep" "$T/src/keep/cache" "$T/src/tmp" "$T/src/sub/tmp"
	for n in a.o b.c cache/x cache/deep/y keep/cache/z keep/k tmp/t sub/tmp/u \
		' lead' 'lead' 'trail ' 'trail' '#hash' ';semi' '- dash' dash 'x y.log' \
		CRLF crlf; do
		echo "$n" >"$T/src/$n"
	done
}

# The exclude file: comments (# and ;), blank lines, \r\n and \r line
# ends, a "- " rule, an anchored pattern, a leading and a trailing space
# kept as part of the pattern.
exclude_file() {
	{
		printf '%s\n' '# objects' '*.o' '' '; caches at the top only' '/cache/'
		printf '%s\r\n' '- /tmp/' ' lead'
		printf '%s\r' 'trail ' '*.log'
		printf '%s\n' 'CRLF' '#hash' '- dash'
	} >"$T/excl"
}

# conf [TOP-LEVEL LINE]
conf() {
	write_conf <<-EOF
		${1:-}
		sync:
		$(sync_local "$T/src/" "$T/dst" "exclude_from: excl")
	EOF
}

# The replica holds exactly what rsync -a --exclude-from=FILE copies.
t_replica_like_rsync_exclude_from() {
	names_tree
	exclude_file
	rsync -a --exclude-from="$T/excl" "$T/src/" "$T/ref/" ||
		fail "$TEST_NAME" "the reference rsync failed"
	conf
	assert_exit 0 timeout "$LIMIT" "$PONI" -1 -c "$CONF"
	if ! diff -r "$T/ref" "$T/dst" >"$T/diff" 2>&1; then
		detail <"$T/diff"
		fail "$TEST_NAME" "the replica differs from rsync --exclude-from's"
	fi
	# the file's rules did something: some excluded, some kept
	assert_absent "$T/dst/a.o"
	assert_absent "$T/dst/cache"
	assert_absent "$T/dst/ lead"
	assert_file "$T/dst/keep/cache/z"
	assert_file "$T/dst/#hash"
	assert_file "$T/dst/trail"
}

# Changes to excluded paths start no run; poni sees only the others.
t_excluded_changes_start_no_run() {
	local mark
	names_tree
	exclude_file
	conf "log_level: debug"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	mark=$(log_mark)
	echo 2 >"$T/src/a.o"
	echo 2 >"$T/src/cache/deep/y"
	echo 2 >"$T/src/ lead"
	echo 2 >"$T/src/new.log"
	# the barrier: a change that is not excluded arrives
	echo 2 >"$T/src/b.c"
	wait_poni 10 grep -qx 2 "$T/dst/b.c" || fail "$TEST_NAME" "b.c did not arrive"
	wait_idle
	# what poni saw since the mark: b.c, and nothing else
	log_since "$mark" | grep ': changed: ' >"$T/seen"
	assert_contains "$T/seen" ': changed: b\.c$'
	assert_not_contains "$T/seen" ': changed: ([^b]|b[^.]|b\.[^c]|b\.c.)'
	log_since "$mark" >"$T/since"
	assert_not_contains "$T/since" ': ok in [0-9.]+ s \((full|[02-9]|[0-9]{2,}) paths?\)'
	assert_absent "$T/dst/new.log"
	stop_poni_ok TERM
}

# A SIGHUP reads the file again: a pattern added there applies.
t_sighup_rereads_the_file() {
	local mark
	names_tree
	exclude_file
	conf
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	printf '%s\n' '*.c' >>"$T/excl"
	mark=$(log_mark)
	kill -HUP "$PONI_PID"
	wait_log_since "$mark" "reloaded .*1 added, 1 removed"
	wait_idle
	echo new >"$T/src/new.c"
	echo new >"$T/src/new.txt"
	wait_poni 10 test -f "$T/dst/new.txt" || fail "$TEST_NAME" "new.txt did not arrive"
	wait_idle
	assert_absent "$T/dst/new.c"
	stop_poni_ok TERM
}

# A line rsync would read as another rule, or a file that is not there,
# is refused naming the config's line and the file's line.
t_bad_file_refused_with_lines() {
	mkdir -p "$T/src"
	printf '%s\n' '# fine' '*.o' '+ *.c' >"$T/excl"
	conf
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "^poni: $(ere "$CONF"):[0-9]+: exclude_from: $(ere "$T/excl"):3: '\+ \*\.c': rsync reads \"\+ \" as an include rule"
	printf '!\n' >"$T/excl"
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "exclude_from: $(ere "$T/excl"):1: a lone '!' clears rsync's exclude list"
	rm "$T/excl"
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "exclude_from: cannot read $(ere "$T/excl"): No such file"
}

run_test replica_like_rsync_exclude_from t_replica_like_rsync_exclude_from
run_test excluded_changes_start_no_run t_excluded_changes_start_no_run
run_test sighup_rereads_the_file t_sighup_rereads_the_file
run_test bad_file_refused_with_lines t_bad_file_refused_with_lines
finish
