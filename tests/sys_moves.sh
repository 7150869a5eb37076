#!/bin/bash
# System tests: a file or directory renamed within the source is renamed
# on a local target, so its data is not sent again (rsync's own count,
# "Literal data" of --stats, through a wrapper given as the rsync key):
# a 5 MB file and a 30 MB directory of 300 files send under 1% of their
# size, and the replica is what rsync -a --delete makes. Chains, a swap,
# moves into a subdirectory and out, into and out of the tree, onto an
# existing name, a target changed by hand before the run, a file written
# then its directory renamed in one batch, names with newlines, quotes,
# leading dashes and bytes that are not UTF-8: all converge; a symbolic
# link on the target leads no rename out of it. delete: false renames
# nothing (rsync keeps the old copy).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# start_mirror [KEY: VALUE]...: poni mirrors $T/src/ to $T/dst through the
# stats wrapper; returns once the replica is whole and poni idle.
start_mirror() {
	make_stats_wrapper
	mirror_conf "rsync: $T/bin/rsync" "$@"
	start_poni "$CONF" -v
	wait_converged 20
	wait_idle
}

t_rename_file() {
	local mark
	tree_30mb
	start_mirror
	mark=$(literal_mark)
	mv "$T/src/file" "$T/src/file2"
	wait_converged 20
	wait_idle
	assert_literal_below "$mark" 50000 "mv of a 5 MB file"
	assert_contains "$T/poni.log" "renamed 1 of 1 moved path on the target"
}

t_rename_dir_30mb() {
	local mark
	tree_30mb
	start_mirror "interval: 1"
	mark=$(literal_mark)
	mv "$T/src/big" "$T/src/big2"
	wait_converged 20
	wait_idle
	assert_literal_below "$mark" 307200 "mv of a 30 MB directory"
	# into a directory made in the same batch
	mark=$(literal_mark)
	mkdir "$T/src/sub"
	mv "$T/src/big2" "$T/src/sub/big"
	wait_converged 20
	wait_idle
	assert_literal_below "$mark" 307200 "mv of a 30 MB directory into a new subdirectory"
}

# a -> b2 -> b3 and d -> e -> f in one batch; a swap of b and c.
t_chain_and_swap() {
	local mark
	some_files
	start_mirror "interval: 2"
	mark=$(literal_mark)
	mv "$T/src/a" "$T/src/a2"
	mv "$T/src/a2" "$T/src/a3"
	mv "$T/src/d" "$T/src/e"
	mv "$T/src/e" "$T/src/f"
	mv "$T/src/b" "$T/src/tmp"
	mv "$T/src/c" "$T/src/b"
	mv "$T/src/tmp" "$T/src/c"
	wait_converged 20
	wait_idle
	assert_literal_below "$mark" 3000 "chains and a swap of 100 KB files"
}

# Into a subdirectory and out again, a directory too, in one batch and
# in two.
t_into_subdir_and_out() {
	some_files
	start_mirror "interval: 1"
	mkdir "$T/src/s"
	mv "$T/src/a" "$T/src/s/a"
	mv "$T/src/d" "$T/src/s/d"
	wait_converged 20
	mv "$T/src/s/a" "$T/src/a"
	mv "$T/src/s/d" "$T/src/dd"
	mv "$T/src/b" "$T/src/s/b"
	mv "$T/src/s/b" "$T/src/b2"
	wait_converged 20
}

# Moves into the tree from outside and out of it are a creation and a
# deletion; a move out and back in within one batch converges.
t_in_and_out_of_tree() {
	some_files
	mkdir -p "$T/out"
	echo outside >"$T/out/o"
	start_mirror "interval: 1"
	mv "$T/out/o" "$T/src/o"
	mv "$T/src/a" "$T/out/a"
	mv "$T/src/d" "$T/out/d"
	wait_converged 20
	mv "$T/src/b" "$T/out/b"
	mv "$T/out/b" "$T/src/b"
	mv "$T/out/d" "$T/src/d2"
	wait_converged 20
}

# The target's old place is changed by hand before the run: another
# file of the same size (another time), a directory in place of a file,
# nothing at all; and a new name that is taken on the target.
t_target_changed_before_run() {
	some_files
	echo taken >"$T/src/keep"
	start_mirror "interval: 3"
	mv "$T/src/a" "$T/src/a2"
	mv "$T/src/b" "$T/src/b2"
	mv "$T/src/c" "$T/src/c2"
	mv "$T/src/d" "$T/src/d2"
	# (before the run, 3 s later)
	head -c 100000 /dev/urandom >"$T/dst/a"
	touch -d @1500000000 "$T/dst/a"
	rm -f "$T/dst/b"
	mkdir "$T/dst/b"
	rm -f "$T/dst/c"
	mkdir -p "$T/dst/d2"
	echo squatter >"$T/dst/d2/y"
	wait_converged 20
}

# mv -f a b: onto an existing name (a replacement); and a directory onto
# an empty one.
t_onto_existing_name() {
	some_files
	mkdir -p "$T/src/empty"
	start_mirror "interval: 1"
	mv -f "$T/src/a" "$T/src/b"
	mv -T "$T/src/d" "$T/src/empty"
	wait_converged 20
}

# A file written in a directory, then the directory renamed, in one
# batch: the new content arrives under the new name.
t_write_then_rename_dir() {
	some_files
	start_mirror "interval: 2"
	echo new >"$T/src/d/new"
	head -c 100000 /dev/urandom >"$T/src/d/x"
	chmod 600 "$T/src/d/x"
	mv "$T/src/d" "$T/src/e"
	wait_converged 20
	# and a file written then renamed, then written again
	echo one >"$T/src/c"
	mv "$T/src/c" "$T/src/c2"
	echo two >"$T/src/c"
	wait_converged 20
}

# Names with a newline, quotes, a leading dash, bytes that are not UTF-8.
t_odd_names() {
	local mark n names=($'new\nline' "it's \"q\"" "-dash" $'\xff\xfe bytes' "--delete")
	mkdir -p "$T/src"
	for n in "${names[@]}"; do
		head -c 100000 /dev/urandom >"$T/src/$n"
		mkdir -p "$T/src/dir $n"
		head -c 100000 /dev/urandom >"$T/src/dir $n/$n"
	done
	start_mirror "interval: 1"
	mark=$(literal_mark)
	for n in "${names[@]}"; do
		mv "$T/src/$n" "$T/src/$n.moved"
		mv "$T/src/dir $n" "$T/src/-$n dir"
	done
	wait_converged 20
	wait_idle
	assert_literal_below "$mark" 10000 "renames of odd names"
}

# delete: false: no renames; the replica keeps the old copy, as rsync
# without --delete does.
t_delete_false_keeps_old() {
	some_files
	start_mirror "delete: false"
	mv "$T/src/a" "$T/src/a2"
	mv "$T/src/d" "$T/src/d2"
	wait_same_file "$T/src/a2" "$T/dst/a2"
	wait_same_file "$T/src/d2/x" "$T/dst/d2/x"
	wait_idle
	assert_file "$T/dst/a"
	assert_file "$T/dst/d/x"
	assert_not_contains "$T/poni.log" "renamed"
}

# A symbolic link on the target in place of a directory (to a directory
# outside it) leads no rename out of the target: what is outside stays
# as it was, and the replica converges.
t_target_link_not_followed() {
	some_files
	start_mirror "interval: 1"
	mkdir -p "$T/outside"
	echo outside >"$T/outside/x"
	rm -rf "$T/dst/d"
	ln -s "$T/outside" "$T/dst/d"
	mv "$T/src/d/x" "$T/src/d/y"
	wait_converged 20
	assert_eq "$(ls "$T/outside")" x "what is outside the target"
	assert_eq "$(cat "$T/outside/x")" outside "what is outside the target"
}

run_test moves_rename_file t_rename_file
run_test moves_rename_dir_30mb t_rename_dir_30mb
run_test moves_chain_and_swap t_chain_and_swap
run_test moves_into_subdir_and_out t_into_subdir_and_out
run_test moves_in_and_out_of_tree t_in_and_out_of_tree
run_test moves_target_changed_before_run t_target_changed_before_run
run_test moves_onto_existing_name t_onto_existing_name
run_test moves_write_then_rename_dir t_write_then_rename_dir
run_test moves_odd_names t_odd_names
run_test moves_delete_false_keeps_old t_delete_false_keeps_old
run_test moves_target_link_not_followed t_target_link_not_followed
finish
