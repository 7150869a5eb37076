#!/bin/bash
# System tests: a local mirror. poni watches $T/src and keeps $T/dst equal
# to it with rsync; every step waits (bounded) until diff -r is clean.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# start_mirror [ARG...]: start poni on $CONF (with the ARGs) and wait for
# the initial sync.
start_mirror() {
	start_poni "$CONF" "$@"
	wait_runs 1
	wait_same_tree "$T/src" "$T/dst"
}

# --- initial sync --------------------------------------------------------------

t_initial_sync_copies_tree() {
	mkdir -p "$T/src/a/b/c" "$T/src/empty"
	echo one >"$T/src/top.txt"
	echo spaced >"$T/src/a/file with space.txt"
	head -c 300000 /dev/urandom >"$T/src/a/b/c/random.bin"
	ln -s top.txt "$T/src/link"
	mirror_conf "recurse: true" "delete: true"
	start_poni "$CONF"
	wait_log 'starting'
	wait_runs 1
	assert_same_tree "$T/src" "$T/dst"
	[ -L "$T/dst/link" ] || fail "$TEST_NAME" "symlink not copied as a symlink"
	assert_poni_alive
	stop_poni_ok TERM
}

t_initial_sync_false_waits_for_change() {
	mkdir -p "$T/src" "$T/dst"
	echo old >"$T/src/old.txt"
	mirror_conf "recurse: true" "initial_sync: false"
	start_poni "$CONF"
	wait_log 'starting'
	# idle, nothing armed: no run will come without a change
	wait_status ": idle, watches: 1, last ok never, "
	assert_absent "$T/dst/old.txt"
	assert_eq "$(count_runs)" 0 "runs without a change"
	echo new >"$T/src/new.txt"
	wait_runs 1
	wait_same_tree "$T/src" "$T/dst"
}

# --- changes -------------------------------------------------------------------

t_create_file() {
	mkdir -p "$T/src"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	echo hello >"$T/src/new.txt"
	wait_same_tree "$T/src" "$T/dst"
	echo second >"$T/src/second.txt"
	wait_same_tree "$T/src" "$T/dst"
}

t_modify_append() {
	mkdir -p "$T/src"
	echo first >"$T/src/log.txt"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	echo second >>"$T/src/log.txt"
	wait_same_tree "$T/src" "$T/dst"
	echo third >>"$T/src/log.txt"
	wait_same_tree "$T/src" "$T/dst"
}

t_modify_overwrite() {
	mkdir -p "$T/src"
	echo short >"$T/src/f.txt"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	echo "a longer content replacing the first" >"$T/src/f.txt"
	wait_same_tree "$T/src" "$T/dst"
	: >"$T/src/f.txt"
	wait_same_tree "$T/src" "$T/dst"
}

# New directories are watched, and what was created in them before poni
# placed its watch is not missed: later changes deep inside sync too.
t_mkdir_deep_with_files() {
	mkdir -p "$T/src"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	mkdir -p "$T/src/a/b/c/d" && echo 1 >"$T/src/a/b/c/d/f1" &&
		echo 2 >"$T/src/a/b/f2"
	wait_same_tree "$T/src" "$T/dst"
	wait_idle
	echo 3 >"$T/src/a/b/c/d/f3"
	wait_same_tree "$T/src" "$T/dst"
	echo more >>"$T/src/a/b/c/d/f1"
	wait_same_tree "$T/src" "$T/dst"
	mkdir "$T/src/a/b/c/d/e" && echo 4 >"$T/src/a/b/c/d/e/f4"
	wait_same_tree "$T/src" "$T/dst"
}

t_mkdir_many_deep_trees_at_once() {
	local i
	mkdir -p "$T/src"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	for i in $(seq 30); do
		mkdir -p "$T/src/x$i/y/z" && echo "$i" >"$T/src/x$i/y/z/f" &&
			echo "$i" >"$T/src/x$i/g"
	done
	wait_same_tree "$T/src" "$T/dst"
	wait_idle
	# Every one of those directories must be watched by now.
	for i in $(seq 30); do
		echo "again $i" >>"$T/src/x$i/y/z/f"
	done
	wait_same_tree "$T/src" "$T/dst"
}

t_move_directory_in() {
	mkdir -p "$T/src" "$T/outside/tree/sub"
	echo f >"$T/outside/tree/sub/f"
	echo g >"$T/outside/tree/g"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	mv "$T/outside/tree" "$T/src/tree"
	wait_same_tree "$T/src" "$T/dst"
	wait_idle
	echo more >>"$T/src/tree/sub/f"
	wait_same_tree "$T/src" "$T/dst"
}

t_move_directory_out() {
	local mark
	mkdir -p "$T/src/tree/sub" "$T/outside"
	echo f >"$T/src/tree/sub/f"
	echo g >"$T/src/keep"
	mirror_conf "recurse: true" "delete: true"
	start_mirror -v
	mv "$T/src/tree" "$T/outside/tree"
	wait_same_tree "$T/src" "$T/dst"
	# what happens out there is none of poni's business: the change made
	# after it is the only one poni sees
	mark=$(log_mark)
	echo more >>"$T/outside/tree/sub/f"
	echo new >"$T/outside/tree/new"
	echo after >"$T/src/after"
	wait_log_since "$mark" ": changed: after$"
	assert_changes_since "$mark" after
	wait_same_tree "$T/src" "$T/dst"
	assert_absent "$T/dst/tree"
}

t_rename_file() {
	mkdir -p "$T/src"
	echo content >"$T/src/a.txt"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	mv "$T/src/a.txt" "$T/src/b.txt"
	wait_same_tree "$T/src" "$T/dst"
	assert_absent "$T/dst/a.txt"
}

t_rename_directory_with_content() {
	mkdir -p "$T/src/d1/sub"
	echo f >"$T/src/d1/sub/f"
	echo g >"$T/src/d1/g"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	mv "$T/src/d1" "$T/src/d2"
	wait_same_tree "$T/src" "$T/dst"
	wait_idle
	# The renamed directories are still watched.
	echo more >>"$T/src/d2/sub/f"
	wait_same_tree "$T/src" "$T/dst"
	echo new >"$T/src/d2/sub/new"
	wait_same_tree "$T/src" "$T/dst"
}

t_delete_mirrors_rm() {
	mkdir -p "$T/src"
	echo a >"$T/src/a"
	echo b >"$T/src/b"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	rm "$T/src/a"
	wait_same_tree "$T/src" "$T/dst"
	assert_absent "$T/dst/a"
	assert_file "$T/dst/b"
}

t_delete_mirrors_rm_rf() {
	mkdir -p "$T/src/dir/x/y" "$T/src/keep"
	echo 1 >"$T/src/dir/x/y/f"
	echo 2 >"$T/src/dir/g"
	echo 3 >"$T/src/keep/h"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	rm -rf "$T/src/dir"
	wait_same_tree "$T/src" "$T/dst"
	assert_absent "$T/dst/dir"
}

t_delete_false_keeps_files() {
	mkdir -p "$T/src/dir"
	echo keep >"$T/src/keep.txt"
	echo gone >"$T/src/gone.txt"
	echo x >"$T/src/dir/x"
	mirror_conf "recurse: true" "delete: false"
	start_mirror
	rm "$T/src/gone.txt"
	rm -rf "$T/src/dir"
	echo new >"$T/src/new.txt"
	# new.txt was created after the removals: the run that copies it
	# has seen them.
	wait_poni 10 cmp -s "$T/src/new.txt" "$T/dst/new.txt" ||
		fail "$TEST_NAME" "new.txt not copied"
	assert_file "$T/dst/gone.txt"
	assert_file "$T/dst/dir/x"
	assert_file "$T/dst/keep.txt"
}

# --- exclude -------------------------------------------------------------------

exclude_tree() {
	mkdir -p "$T/src/cache" "$T/src/sub/cache"
	echo keep >"$T/src/keep.txt"
	echo x >"$T/src/x.tmp"
	echo c >"$T/src/cache/c.txt"
	echo y >"$T/src/sub/y.tmp"
	echo z >"$T/src/sub/cache/z"
	echo ok >"$T/src/sub/ok"
	mirror_conf "recurse: true" "delete: true" "exclude: ['*.tmp', cache/]"
}

t_exclude_not_copied() {
	local d
	exclude_tree
	start_poni "$CONF"
	wait_runs 1
	assert_file "$T/dst/keep.txt"
	assert_file "$T/dst/sub/ok"
	assert_absent "$T/dst/x.tmp"
	assert_absent "$T/dst/cache"
	assert_absent "$T/dst/sub/y.tmp"
	assert_absent "$T/dst/sub/cache"
	echo later >"$T/src/later.tmp"
	echo real >"$T/src/real.txt"
	wait_poni 10 cmp -s "$T/src/real.txt" "$T/dst/real.txt" ||
		fail "$TEST_NAME" "real.txt not copied"
	assert_absent "$T/dst/later.tmp"
	if ! d=$(diff -r -x '*.tmp' -x cache "$T/src" "$T/dst"); then
		printf '%s\n' "$d" | detail
		fail "$TEST_NAME" "the replica differs beyond the excluded files"
	fi
}

# Changes of excluded files are no changes to poni: the change that
# follows them is the only one it sees, and the run for it copies it
# alone.
t_exclude_change_triggers_no_run() {
	local mark
	exclude_tree
	start_poni "$CONF" -v
	wait_runs 1
	wait_idle
	mark=$(log_mark)
	echo new >"$T/src/new.tmp"
	echo new >"$T/src/cache/new"
	echo more >>"$T/src/sub/cache/z"
	echo more >>"$T/src/sub/y.tmp"
	echo real >"$T/src/real.txt"
	wait_log_since "$mark" ": changed: real\.txt$"
	assert_changes_since "$mark" real.txt
	wait_poni 10 cmp -s "$T/src/real.txt" "$T/dst/real.txt" ||
		fail "$TEST_NAME" "real.txt not copied"
	wait_idle
	assert_eq "$(count_log ': ok in ' "$mark")" 1 "runs after changing excluded files and one other"
	assert_eq "$(count_log ': ok in [0-9.]+ s \(1 path\)$' "$mark")" 1 "runs of one path"
}

# --- file sources --------------------------------------------------------------

t_file_source_remote_path_is_a_directory() {
	mkdir -p "$T/data"
	echo v1 >"$T/data/file.txt"
	echo other >"$T/data/other.txt"
	write_conf <<-EOF
		sync:
		  $T/data/file.txt: {remote_path: $T/dst, interval: 0}
	EOF
	start_poni "$CONF"
	wait_runs 1
	[ -d "$T/dst" ] || fail "$TEST_NAME" "remote_path $T/dst is not a directory"
	assert_file "$T/dst/file.txt"
	cmp -s "$T/data/file.txt" "$T/dst/file.txt" || fail "$TEST_NAME" "content differs"
	assert_absent "$T/dst/other.txt"
}

t_file_source_replaced_by_mv() {
	local v
	mkdir -p "$T/data" "$T/dst"
	echo v1 >"$T/data/file.txt"
	echo other >"$T/data/other.txt"
	write_conf <<-EOF
		sync:
		  $T/data/file.txt:
		    remote_path: $T/dst
		    interval: 0
	EOF
	start_poni "$CONF"
	wait_runs 1
	cmp -s "$T/data/file.txt" "$T/dst/file.txt" || fail "$TEST_NAME" "initial copy differs"
	# An editor's save, twice: the second replaces a file poni never saw
	# at start.
	# (each version longer than the last: rsync's quick check compares
	# size and mtime, and all this happens within one second)
	for v in v2 v3; do
		echo "$v saved ${v/v3/once more}" >"$T/data/.file.txt.swp"
		mv "$T/data/.file.txt.swp" "$T/data/file.txt"
		wait_poni 10 cmp -s "$T/data/file.txt" "$T/dst/file.txt" ||
			fail "$TEST_NAME" "$v not synced after mv"
	done
	echo appended >>"$T/data/file.txt"
	wait_poni 10 cmp -s "$T/data/file.txt" "$T/dst/file.txt" ||
		fail "$TEST_NAME" "append after the mvs not synced"
	assert_absent "$T/dst/other.txt"
	assert_absent "$T/dst/.file.txt.swp"
}

t_append_to_open_file() {
	mkdir -p "$T/src"
	: >"$T/src/app.log"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	exec 3>>"$T/src/app.log"
	echo line1 >&3
	wait_same_tree "$T/src" "$T/dst"
	echo line2 >&3
	wait_same_tree "$T/src" "$T/dst"
	exec 3>&-
}

t_append_to_open_file_source() {
	mkdir -p "$T/logs" "$T/dst"
	echo start >"$T/logs/app.log"
	write_conf <<-EOF
		sync:
		  $T/logs/app.log:
		    remote_path: $T/dst
		    interval: 0
	EOF
	start_poni "$CONF"
	wait_runs 1
	exec 3>>"$T/logs/app.log"
	echo line1 >&3
	wait_poni 10 cmp -s "$T/logs/app.log" "$T/dst/app.log" ||
		fail "$TEST_NAME" "first append not synced"
	echo line2 >&3
	wait_poni 10 cmp -s "$T/logs/app.log" "$T/dst/app.log" ||
		fail "$TEST_NAME" "second append not synced"
	exec 3>&-
}

# --- recurse: false --------------------------------------------------------

t_nonrecurse_directory() {
	mkdir -p "$T/src/sub"
	echo top >"$T/src/top.txt"
	echo f >"$T/src/sub/f"
	mirror_conf "recurse: false"
	start_mirror
	echo new >"$T/src/new.txt"
	wait_same_tree "$T/src" "$T/dst"
	echo more >>"$T/src/top.txt"
	wait_same_tree "$T/src" "$T/dst"
}

# A change in a subdirectory is not seen (the change made after it is
# the only one poni sees); the next run (rsync itself recurses) carries
# it along.
t_nonrecurse_ignores_subdir_change() {
	local mark
	mkdir -p "$T/src/sub"
	echo top >"$T/src/top.txt"
	echo f >"$T/src/sub/f"
	mirror_conf "recurse: false"
	start_mirror -v
	wait_idle
	mark=$(log_mark)
	echo more >>"$T/src/sub/f"
	echo top2 >"$T/src/top2.txt"
	wait_log_since "$mark" ": changed: top2\.txt$"
	assert_changes_since "$mark" top2.txt
	wait_same_tree "$T/src" "$T/dst"
}

# --- names ---------------------------------------------------------------------

t_paths_with_spaces_and_quotes() {
	local src="$T/my src" dst="$T/my dst"
	mkdir -p "$src/a dir"
	echo 1 >"$src/it's \$HOME.txt"
	echo 2 >"$src/a dir/\"q\" *.txt"
	write_conf <<-EOF
		sync:
		  $src/:
		    remote_path: $dst
		    interval: 0
		    recurse: true
		    delete: true
	EOF
	start_poni "$CONF"
	wait_runs 1
	wait_same_tree "$src" "$dst"
	echo 3 >"$src/a dir/new -- file"
	wait_same_tree "$src" "$dst"
	rm "$src/it's \$HOME.txt"
	wait_same_tree "$src" "$dst"
}

# Odd bytes in file names: a newline, a backslash, a tab, non-ASCII.
t_file_names_with_newline_and_backslash() {
	mkdir -p "$T/src"
	mirror_conf "recurse: true" "delete: true"
	start_mirror
	mkdir "$T/src/dir"$'\n'"two"
	echo 1 >"$T/src/dir"$'\n'"two/a"$'\n'"b"
	echo 2 >"$T/src/back\\slash"$'\t'"tab"
	echo 3 >"$T/src/"$'\xc3\xa9t\xc3\xa9'
	wait_same_tree "$T/src" "$T/dst"
	rm "$T/src/dir"$'\n'"two/a"$'\n'"b"
	wait_same_tree "$T/src" "$T/dst"
	mv "$T/src/dir"$'\n'"two" "$T/src/moved"$'\n'
	wait_same_tree "$T/src" "$T/dst"
}

run_test initial_sync_copies_tree t_initial_sync_copies_tree
run_test initial_sync_false_waits_for_change t_initial_sync_false_waits_for_change
run_test create_file t_create_file
run_test modify_append t_modify_append
run_test modify_overwrite t_modify_overwrite
run_test mkdir_deep_with_files t_mkdir_deep_with_files
run_test mkdir_many_deep_trees_at_once t_mkdir_many_deep_trees_at_once
run_test move_directory_in t_move_directory_in
run_test move_directory_out t_move_directory_out
run_test rename_file t_rename_file
run_test rename_directory_with_content t_rename_directory_with_content
run_test delete_mirrors_rm t_delete_mirrors_rm
run_test delete_mirrors_rm_rf t_delete_mirrors_rm_rf
run_test delete_false_keeps_files t_delete_false_keeps_files
run_test exclude_not_copied t_exclude_not_copied
run_test exclude_change_triggers_no_run t_exclude_change_triggers_no_run
run_test file_source_remote_path_is_a_directory t_file_source_remote_path_is_a_directory
run_test file_source_replaced_by_mv t_file_source_replaced_by_mv
run_test append_to_open_file t_append_to_open_file
run_test append_to_open_file_source t_append_to_open_file_source
run_test nonrecurse_directory t_nonrecurse_directory
run_test nonrecurse_ignores_subdir_change t_nonrecurse_ignores_subdir_change
run_test paths_with_spaces_and_quotes t_paths_with_spaces_and_quotes
run_test file_names_with_newline_and_backslash t_file_names_with_newline_and_backslash
finish
