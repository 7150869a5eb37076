#!/bin/bash
# System tests: a change poni saw is transferred, exactly. A replacement
# that keeps size and modification time arrives for every kind of sync
# (recurse true or false, a file source), and so does a rewrite of the
# same size within the second of the previous copy, by a run of changed
# paths, a full run, the retry of a failed run and the initial sync after
# a restart; the source directory's own
# mode and times reach the target; a file source that goes away is
# waited for and synced as soon as it is back, with no back-off; a path
# that keeps failing does not hold back the changes that follow, and
# the log names it; a source that is a symbolic link syncs what it points
# to, and follows the link when it is pointed elsewhere.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# replace_same FILE TEXT: FILE's content becomes TEXT (as long as the
# old content), with FILE's size and modification time kept, the way
# cp -p, tar x or touch -r leave a file.
replace_same() {
	printf '%s' "$2" >"$T/new"
	[ "$(stat -c %s "$T/new")" = "$(stat -c %s "$1")" ] ||
		fail "$TEST_NAME" "test setup: '$2' is not as long as $1"
	touch -r "$1" "$T/new"
	mv -f "$T/new" "$1"
}

# same_size_same_time_case SRC REPLICA_FILE FILE [KEY: VALUE]...: a
# mirror of SRC; FILE replaced with content of the same size and time;
# the replica's copy REPLICA_FILE must follow.
same_size_same_time_case() {
	local src=$1 rep=$2 file=$3 mark
	shift 3
	{
		echo "sync:"
		sync_local "$src" "$T/dst" "$@"
	} | write_conf
	start_poni "$CONF"
	wait_same_file "$file" "$rep" 10
	wait_idle
	mark=$(log_mark)
	replace_same "$file" "BBBBBBBB"
	wait_same_file "$file" "$rep" 5
	# and a second time, within the same second
	replace_same "$file" "CCCCCCCC"
	wait_same_file "$file" "$rep" 5
	wait_log_since "$mark" "ok in" 5
	stop_poni_ok TERM
}

t_same_size_same_time_recurse() {
	mkdir -p "$T/src/sub"
	echo AAAAAAA >"$T/src/sub/f"
	same_size_same_time_case "$T/src/" "$T/dst/sub/f" "$T/src/sub/f"
}

t_same_size_same_time_no_recurse() {
	mkdir -p "$T/src/sub"
	echo AAAAAAA >"$T/src/f"
	echo below >"$T/src/sub/g"
	same_size_same_time_case "$T/src/" "$T/dst/f" "$T/src/f" "recurse: false"
	assert_same_tree "$T/src" "$T/dst"
}

t_same_size_same_time_file_source() {
	echo AAAAAAA >"$T/f"
	same_size_same_time_case "$T/f" "$T/dst/f" "$T/f"
}

# dir_attrs DIR: mode, owner, group and modification time.
dir_attrs() {
	stat -c '%a %u %g %Y' "$1"
}

same_attrs() {
	[ "$(dir_attrs "$1")" = "$(dir_attrs "$2")" ]
}

# The source directory's own mode, owner and time (chmod, chown,
# touch -d of the source itself) reach the target directory, for both
# source forms.
source_attrs_case() {
	local src=$1 rep=$2
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	{
		echo "sync:"
		sync_local "$src" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_same_tree "$T/src" "$rep" 10
	wait_idle
	chmod 750 "$T/src"
	[ "$(id -u)" = 0 ] && chown 1234:2345 "$T/src"
	touch -d @1500000000 "$T/src"
	wait_poni 5 same_attrs "$T/src" "$rep" ||
		fail "$TEST_NAME" "the target directory has '$(dir_attrs "$rep")', the source '$(dir_attrs "$T/src")' (mode uid gid mtime)"
	stop_poni_ok TERM
}

t_source_dir_attributes() {
	source_attrs_case "$T/src/" "$T/dst"
}

t_source_dir_attributes_no_slash() {
	source_attrs_case "$T/src" "$T/dst/src"
}

# A file source moved away (logrotate without create): poni waits for
# it, no failed run, no back-off; the new file is synced at once.
t_file_source_goes_and_comes_back() {
	local mark t0
	echo first >"$T/log"
	{
		echo "sync:"
		sync_local "$T/log" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_same_file "$T/log" "$T/dst/log" 10
	wait_idle
	mark=$(log_mark)
	mv "$T/log" "$T/log.1"
	wait_log_since "$mark" "waiting" 5
	kill -USR1 "$PONI_PID"
	wait_log_since "$mark" "status: sync $(ere "$T/log") -> .*: waiting for the source" 5
	t0=$(now_us)
	echo second >"$T/log"
	wait_same_file "$T/log" "$T/dst/log" 3
	assert_eq "$(count_log 'failed in|retry in' "$mark")" 0 "failed runs and retries"
	echo "    file back to synced: $((($(now_us) - t0) / 1000)) ms"
	stop_poni_ok TERM
}

# make_failing NAME: a path that keeps failing on the target: the
# source has a file NAME where the replica holds a non-empty directory,
# which rsync does not remove without delete ("could not make way for new
# regular file", exit 23).
make_failing() {
	mkdir -p "$T/dst/$1/inner"
	echo keep >"$T/dst/$1/inner/f"
	echo file >"$T/src/$1"
}

# A path that keeps failing (rsync exit 23) does not hold back the
# changes that follow: while its retries back off, a new file arrives
# by a run of its own, before the next retry; the log names the failing
# path.
t_failing_path_does_not_hold_back() {
	local t0 ms n
	mkdir -p "$T/src" "$T/dst"
	echo ok >"$T/src/ok"
	make_failing bad
	mirror_conf "delete: false" "retry_max: 60"
	start_poni "$CONF"
	wait_log "retry in 4\.000 s" 20
	assert_contains "$T/poni.log" "failed in [0-9.]+ s: rsync exit 23 .*could not make way for new regular file: bad"
	n=$(count_log ': failed in ')
	t0=$(now_us)
	echo new >"$T/src/new"
	wait_same_file "$T/src/new" "$T/dst/new" 10
	ms=$((($(now_us) - t0) / 1000))
	echo "    a new file during the back-off: synced in $ms ms"
	assert_eq "$(count_log ': failed in ')" "$n" "failed runs before the new file arrived"
	# the failing path is still retried, with back-off
	wait_log "retry in 8\.000 s" 20
	kill -USR1 "$PONI_PID"
	wait_log "status: .*failed paths retried in" 5
	# fixed: the next retry makes the replica whole
	rm -rf "$T/dst/bad"
	kill -USR2 "$PONI_PID"
	wait_same_tree "$T/src" "$T/dst" 5
	stop_poni_ok TERM
}

# Many failing paths: rsync's error output is long; the log keeps its
# first lines (the first failing path) and its summary.
t_failing_paths_named_first() {
	local i
	mkdir -p "$T/src" "$T/dst"
	for i in $(seq -w 100 199); do
		make_failing "bad$i"
	done
	mirror_conf "delete: false"
	start_poni "$CONF"
	wait_log "failed in" 10
	assert_contains "$T/poni.log" "failed in .*could not make way for new regular file: bad100 .*\.\.\. .*rsync error: some files/attrs were not transferred"
	stop_poni_ok TERM
}

# real_dir DIR: a directory, not a symbolic link to one.
real_dir() {
	[ -d "$1" ] && [ ! -L "$1" ]
}

# symlink_case SRC REPLICA: the source is a symbolic link (current ->
# releases/v2). The replica holds what it points to, as a real directory,
# after the full run and after a run of changed paths alike; pointed
# elsewhere (ln -sfn), the new target is synced in full and, with
# delete, what only the old one held goes; the new target is watched.
symlink_case() {
	local src=$1 rep=$2
	mkdir -p "$T/releases/v2/sub" "$T/releases/v3/sub"
	echo two >"$T/releases/v2/a"
	echo only-v2 >"$T/releases/v2/sub/old"
	echo three >"$T/releases/v3/a"
	echo only-v3 >"$T/releases/v3/c"
	ln -s releases/v2 "$T/current"
	{
		echo "sync:"
		sync_local "$src" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_same_tree "$T/releases/v2" "$rep" 10
	real_dir "$rep" || fail "$TEST_NAME" "after the full run $rep is not a real directory"
	wait_idle
	echo new >"$T/releases/v2/sub/new"
	wait_same_tree "$T/releases/v2" "$rep" 5
	real_dir "$rep" || fail "$TEST_NAME" "after a run of changed paths $rep is not a real directory"
	wait_idle
	ln -sfn releases/v3 "$T/current"
	wait_same_tree "$T/releases/v3" "$rep" 5
	real_dir "$rep" || fail "$TEST_NAME" "after the link changed $rep is not a real directory"
	echo later >"$T/releases/v3/sub/later"
	wait_same_tree "$T/releases/v3" "$rep" 5
	stop_poni_ok TERM
}

t_symlink_source() {
	symlink_case "$T/current" "$T/dst/current"
}

t_symlink_source_slash() {
	symlink_case "$T/current/" "$T/dst"
}

# --- no silent skip -------------------------------------------------------------

# Files rewritten in place with the same size as soon as the previous
# version arrived (so within the same second, often): every version must
# reach the replica.
t_no_silent_skip_same_size() {
	local i k c
	local -a vals=(aaaa bbbb cccc dddd)
	mkdir -p "$T/src"
	for k in 1 2 3; do
		printf zzzz >"$T/src/f$k"
	done
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	for i in $(seq 20); do
		c=${vals[i % 4]}
		for k in 1 2 3; do
			printf '%s' "$c" >"$T/src/f$k"
		done
		for k in 1 2 3; do
			wait_poni 5 cmp -s "$T/src/f$k" "$T/dst/f$k" ||
				fail "$TEST_NAME" "round $i: f$k is '$(cat "$T/dst/f$k")' on the replica, want '$c'"
		done
	done
	stop_poni_ok TERM
}

# The same for runs of the whole source ("full" runs): a sync without
# recurse makes only those. A file rewritten with the same size within the
# second of the run that copied its previous version must still arrive.
t_no_silent_skip_full_runs() {
	local i lo up
	local -a los=(aaaa bbbb cccc dddd eeee) ups=(AAAA BBBB CCCC DDDD EEEE)
	mkdir -p "$T/src"
	printf zzzz >"$T/src/f"
	mirror_conf "recurse: false"
	start_poni "$CONF"
	wait_runs 1
	for i in 0 1 2 3 4; do
		lo=${los[i]} up=${ups[i]}
		align_second
		printf '%s' "$lo" >"$T/src/f"
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: '$lo' does not arrive"
		printf '%s' "$up" >"$T/src/f"
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: the replica keeps '$(cat "$T/dst/f")', want '$up' (same size, same second: rsync's quick check in a full run)"
	done
	stop_poni_ok TERM
}

# A change carried by a run that failed: the retry (a full run) must copy
# it, even when its size did not change and the previous version was
# copied within the same second.
t_no_silent_skip_retry() {
	local i lo up mark
	local -a los=(aaaa bbbb cccc) ups=(AAAA BBBB CCCC)
	mkdir -p "$T/src"
	printf zzzz >"$T/src/f"
	make_rsync_wrapper
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	for i in 0 1 2; do
		lo=${los[i]} up=${ups[i]}
		align_second
		printf '%s' "$lo" >"$T/src/f"
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: '$lo' does not arrive"
		mark=$(log_mark)
		echo 23 >"$T/rsync-fail"
		printf '%s' "$up" >"$T/src/f"
		wait_log_since "$mark" "retry in" 5
		wait_poni 5 cmp -s "$T/src/f" "$T/dst/f" ||
			fail "$TEST_NAME" "round $i: after the retry the replica keeps '$(cat "$T/dst/f")', want '$up' (same size, same second: rsync's quick check in the retry)"
	done
	stop_poni_ok TERM
}

# poni killed after a run; the file is rewritten (same size, an mtime in
# the same second) before poni is started again: its initial sync must
# copy it.
t_no_silent_skip_restart() {
	local mark
	mkdir -p "$T/src"
	printf zzzz >"$T/src/f"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	printf aaaa >"$T/src/f"
	touch -d @1700000000.1 "$T/src/f"
	wait_poni 5 same_file_and_time "$T/src/f" "$T/dst/f" || fail "$TEST_NAME" "'aaaa' does not arrive"
	# (no run going that could copy what follows)
	wait_idle
	kill -KILL "$PONI_PID"
	wait "$PONI_PID" 2>/dev/null
	PONI_PID=
	printf bbbb >"$T/src/f"
	touch -d @1700000000.2 "$T/src/f"
	mark=$(log_mark)
	start_poni "$CONF"
	wait_log_since "$mark" ": ok in [0-9.]+ s \(full\)"
	cmp -s "$T/src/f" "$T/dst/f" ||
		fail "$TEST_NAME" "after the restart the replica keeps '$(cat "$T/dst/f")', want 'bbbb' (same size, same second: rsync's quick check in the initial sync)"
	stop_poni_ok TERM
}

# same_file_and_time A B: same content and modification time (to the
# nanosecond).
same_file_and_time() {
	cmp -s "$1" "$2" && [ "$(stat -c %.9Y "$1")" = "$(stat -c %.9Y "$2")" ]
}

run_test same_size_same_time_recurse t_same_size_same_time_recurse
run_test same_size_same_time_no_recurse t_same_size_same_time_no_recurse
run_test same_size_same_time_file_source t_same_size_same_time_file_source
run_test source_dir_attributes t_source_dir_attributes
run_test source_dir_attributes_no_slash t_source_dir_attributes_no_slash
run_test file_source_goes_and_comes_back t_file_source_goes_and_comes_back
run_test failing_path_does_not_hold_back t_failing_path_does_not_hold_back
run_test failing_paths_named_first t_failing_paths_named_first
run_test symlink_source t_symlink_source
run_test symlink_source_slash t_symlink_source_slash
run_test no_silent_skip_same_size t_no_silent_skip_same_size
run_test no_silent_skip_full_runs t_no_silent_skip_full_runs
run_test no_silent_skip_retry t_no_silent_skip_retry
run_test no_silent_skip_restart t_no_silent_skip_restart
finish
