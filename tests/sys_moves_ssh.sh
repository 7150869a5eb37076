#!/bin/bash
# System tests: a file or directory renamed within the source is renamed
# on an ssh target through the sftp subsystem of its sshd (no remote
# shell), so its data is not sent again: rsync's own count ("Literal
# data" of --stats, through a wrapper given as the rsync key) for a 5 MB
# file and a 30 MB directory of 300 files is under 1% of their size, and
# the replica is what rsync -a --delete makes. Names with newlines,
# quotes, leading dashes and bytes that are not UTF-8; chains, a swap,
# moves into a subdirectory and out; a symbolic link on the target leads
# no rename out of it; an sshd without sftp: the moves are transfers.
# Test functions are only called through run_selected (ONLY=ERE):
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# start_mirror [KEY: VALUE]...: poni mirrors $T/src/ to $T/dst over ssh
# through the stats wrapper; returns once the replica is whole and poni
# idle.
start_mirror() {
	start_sshd
	make_stats_wrapper
	{
		echo "sync:"
		sync_ssh "$T/src/" "$T/dst" "rsync: $T/bin/rsync" "$@"
	} | write_conf
	start_poni "$CONF" -v
	wait_converged 30
	wait_idle
}

t_ssh_rename_30mb() {
	local mark
	tree_30mb
	start_mirror "interval: 1"
	mark=$(literal_mark)
	mv "$T/src/big" "$T/src/big2"
	wait_converged 30
	wait_idle
	assert_literal_below "$mark" 307200 "mv of a 30 MB directory over ssh"
	assert_contains "$T/poni.log" "renamed 1 of 1 moved path on the target"
	assert_contains "$T/poni.log" "renaming 1 path on the target: 'ssh' '-S' .* '-s' .* 'sftp'"
	mark=$(literal_mark)
	mv "$T/src/file" "$T/src/big2/file2"
	wait_converged 30
	wait_idle
	assert_literal_below "$mark" 50000 "mv of a 5 MB file into a directory over ssh"
	# into a directory made in the same batch
	mark=$(literal_mark)
	mkdir -p "$T/src/sub/sub2"
	mv "$T/src/big2" "$T/src/sub/sub2/big"
	wait_converged 30
	wait_idle
	assert_literal_below "$mark" 307200 "mv of a 30 MB directory into a new subdirectory over ssh"
	assert_not_contains "$T/poni.log" "renaming on the target failed"
}

# Names with a newline, quotes, a leading dash, bytes that are not UTF-8,
# shell words.
t_ssh_odd_names() {
	local mark n names=($'new\nline' "it's \"q\" \$(touch pwned)" "-dash" $'\xff\xfe bytes'
		"--delete" "; touch pwned")
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
	wait_converged 30
	wait_idle
	assert_literal_below "$mark" 10000 "renames of odd names over ssh"
	assert_absent "$HOME/pwned"
}

# a -> a2 -> a3 and d -> e -> f in one batch; a swap of b and c; into a
# subdirectory and out again.
t_ssh_chain_swap_subdir() {
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
	wait_converged 30
	wait_idle
	assert_literal_below "$mark" 3000 "chains and a swap of 100 KB files over ssh"
	mkdir "$T/src/s"
	mv "$T/src/a3" "$T/src/s/a"
	mv "$T/src/f" "$T/src/s/d"
	wait_converged 30
	mv "$T/src/s/a" "$T/src/a"
	mv "$T/src/s/d" "$T/src/dd"
	wait_converged 30
}

# A symbolic link on the target in place of a directory (to a directory
# outside it) leads no rename out of the target.
t_ssh_target_link_not_followed() {
	some_files
	start_mirror "interval: 1"
	mkdir -p "$T/outside"
	echo outside >"$T/outside/x"
	rm -rf "$T/dst/d"
	ln -s "$T/outside" "$T/dst/d"
	mv "$T/src/d/x" "$T/src/d/y"
	wait_converged 30
	assert_eq "$(ls "$T/outside")" x "what is outside the target"
	assert_eq "$(cat "$T/outside/x")" outside "what is outside the target"
}

# An sshd without the sftp subsystem: the renames fail (said once per
# run), and the moves are transfers.
t_ssh_no_sftp_transfers() {
	some_files
	start_sshd
	stop_sshd
	sed -i '/^Subsystem/d' "$T/sshd_config"
	restart_sshd
	make_stats_wrapper
	{
		echo "sync:"
		sync_ssh "$T/src/" "$T/dst" "rsync: $T/bin/rsync" "interval: 1"
	} | write_conf
	start_poni "$CONF" -v
	wait_converged 30
	wait_idle
	mv "$T/src/a" "$T/src/a2"
	mv "$T/src/d" "$T/src/d2"
	wait_converged 30
	wait_log "renaming on the target failed: .*; transferring instead"
	assert_not_contains "$T/poni.log" "renamed [0-9]+ of"
}

run_selected ssh_moves_rename_30mb t_ssh_rename_30mb
run_selected ssh_moves_odd_names t_ssh_odd_names
run_selected ssh_moves_chain_swap_subdir t_ssh_chain_swap_subdir
run_selected ssh_moves_target_link_not_followed t_ssh_target_link_not_followed
run_selected ssh_moves_no_sftp_transfers t_ssh_no_sftp_transfers
finish
