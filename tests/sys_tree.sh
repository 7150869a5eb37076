#!/bin/bash
# System tests: poni's record of the watched tree. Directories are renamed,
# swapped, moved between parents, out of the tree and back, and deleted
# by the hundred; after each step the replica must equal the source, a
# change deep inside a moved directory must still reach the replica under
# its new name, and poni must watch exactly the source's directories: the
# kernel's list of watched inodes (/proc/PID/fdinfo) equals theirs, and so
# does poni's own count (SIGUSR1 status line).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# start_tree [ARG...]: mirror $T/src/ to $T/dst (poni started with
# the ARGs) and wait for the initial sync.
start_tree() {
	mirror_conf
	start_poni "$CONF" "$@"
	wait_runs 1
	wait_same_tree "$T/src" "$T/dst"
	check_watches "$T/src"
}

# converged: the replica equals the source and poni watches exactly the
# source's directories.
converged() {
	wait_same_tree "$T/src" "$T/dst"
	check_watches "$T/src"
}

# touch_deep FILE: append to FILE and wait until the replica has it.
touch_deep() {
	echo "more $RANDOM" >>"$T/src/$1"
	wait_same_file "$T/src/$1" "$T/dst/$1"
}

t_rename_nested_directories() {
	mkdir -p "$T/src/a/b/c/d"
	echo deep >"$T/src/a/b/c/d/f"
	start_tree
	mv "$T/src/a" "$T/src/z"
	mv "$T/src/z/b" "$T/src/z/q"
	converged
	touch_deep z/q/c/d/f
	mkdir "$T/src/z/q/c/d/new"
	echo new >"$T/src/z/q/c/d/new/g"
	converged
	assert_absent "$T/dst/a"
}

t_swap_two_directories() {
	mkdir -p "$T/src/left/in" "$T/src/right/in"
	echo L >"$T/src/left/in/f"
	echo R >"$T/src/right/in/f"
	start_tree
	mv "$T/src/left" "$T/src/tmp"
	mv "$T/src/right" "$T/src/left"
	mv "$T/src/tmp" "$T/src/right"
	converged
	assert_eq "$(cat "$T/dst/left/in/f")" R "left/in/f after the swap"
	touch_deep left/in/f
	touch_deep right/in/f
	converged
}

t_move_between_parents() {
	mkdir -p "$T/src/p1/x/y" "$T/src/p2/deeper"
	echo x >"$T/src/p1/x/y/f"
	start_tree
	mv "$T/src/p1/x" "$T/src/p2/deeper/x"
	mv "$T/src/p1" "$T/src/p2/deeper/x/p1"
	converged
	touch_deep p2/deeper/x/y/f
	mkdir "$T/src/p2/deeper/x/p1/made"
	echo m >"$T/src/p2/deeper/x/p1/made/f"
	converged
}

t_move_out_drops_watches() {
	local i mark
	mkdir -p "$T/src/keep" "$T/outside"
	for i in $(seq 1 40); do
		mkdir -p "$T/src/big/d$i/e"
	done
	echo k >"$T/src/keep/f"
	start_tree -v
	mv "$T/src/big" "$T/outside/big"
	converged
	assert_absent "$T/dst/big"
	# what happens out there is no change to poni: with -v it logs every
	# change it sees, and those it saw before a change inside the tree
	# are logged before that one
	mark=$(log_mark)
	mkdir "$T/outside/big/d1/e/later"
	echo x >"$T/outside/big/d2/e/f"
	touch_deep keep/f
	wait_log_since "$mark" ": changed: keep/f$"
	if log_since "$mark" | grep -v ': changed: keep/f$' | grep -q ': changed: '; then
		log_since "$mark" | grep ': changed: ' | detail
		fail "$TEST_NAME" "changes outside the tree seen as changes"
	fi
	check_watches "$T/src"
}

t_move_out_and_back() {
	mkdir -p "$T/src/t/u/v" "$T/outside"
	echo v >"$T/src/t/u/v/f"
	start_tree
	# out and in again at once: the events of both come in one batch
	mv "$T/src/t" "$T/outside/t" && mv "$T/outside/t" "$T/src/t2"
	converged
	touch_deep t2/u/v/f
	# out, then back under the old name a moment later
	mv "$T/src/t2" "$T/outside/t"
	converged
	mv "$T/outside/t" "$T/src/t"
	converged
	touch_deep t/u/v/f
}

t_replace_directory_by_another() {
	mkdir -p "$T/src/old/sub" "$T/src/other/sub2" "$T/outside"
	echo o >"$T/src/old/sub/f"
	echo n >"$T/src/other/sub2/f"
	start_tree
	# the moved-out directory's place is taken before poni reads its
	# events
	mv "$T/src/old" "$T/outside/old" && mv "$T/src/other" "$T/src/old"
	converged
	touch_deep old/sub2/f
	assert_absent "$T/dst/old/sub"
}

# Hundreds of directories deleted: poni forgets them (and reuses its
# memory: the record is compacted), then a new tree is watched as usual.
t_delete_hundreds_then_grow() {
	local i
	for i in $(seq 1 300); do
		mkdir -p "$T/src/gone/g$i"
	done
	mkdir -p "$T/src/stay"
	start_tree
	rm -rf "$T/src/gone"
	converged
	for i in $(seq 1 50); do
		mkdir -p "$T/src/grown/h$i/deep"
	done
	echo g >"$T/src/grown/h50/deep/f"
	converged
	touch_deep grown/h50/deep/f
	mv "$T/src/grown/h1" "$T/src/stay/h1"
	converged
}

run_test rename_nested_directories t_rename_nested_directories
run_test swap_two_directories t_swap_two_directories
run_test move_between_parents t_move_between_parents
run_test move_out_drops_watches t_move_out_drops_watches
run_test move_out_and_back t_move_out_and_back
run_test replace_directory_by_another t_replace_directory_by_another
run_test delete_hundreds_then_grow t_delete_hundreds_then_grow
finish
