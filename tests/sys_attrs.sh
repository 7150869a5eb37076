#!/bin/bash
# System tests: a change of attributes alone (chmod, chown, touch) sends
# no file data: chmod -R of a 30 MB tree, chmod of one directory, touch -d
# of a file, chown; the attributes arrive all the same. A change of
# content that keeps size and time is still sent, alone or in the batch
# of a chmod, and a batch of both kinds makes one run of two rsyncs.
# The bytes are rsync's own count ("Literal data" of --stats, added by a
# wrapper given as the rsync key).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# attrs DIR: mode, owner, group and mtime of everything below DIR (not
# of DIR itself: a run of listed paths leaves the top directory's time).
attrs() {
	(cd "$1" && find . -mindepth 1 -printf '%p %m %U %G %T@\n' | sort)
}

same_attrs() {
	[ "$(attrs "$1")" = "$(attrs "$2")" ]
}

# wait_same_attrs: the replica has the source's data and attributes.
wait_same_attrs() {
	wait_same_tree "$T/src" "$T/dst" 20
	if ! wait_poni 20 same_attrs "$T/src" "$T/dst"; then
		diff <(attrs "$T/src") <(attrs "$T/dst") | detail
		fail "$TEST_NAME" "the attributes differ"
	fi
}

# tree_30mb: $T/src with 300 files of 100 KiB in 10 directories.
tree_30mb() {
	local d
	for d in $(seq 10); do
		mkdir -p "$T/src/d$d"
		head -c 3072000 /dev/urandom | split -b 102400 -a 2 - "$T/src/d$d/f"
	done
}

# start_mirror [KEY: VALUE]...: poni mirrors $T/src/ to $T/dst through the
# stats wrapper; returns once the replica is whole and poni idle.
start_mirror() {
	make_stats_wrapper
	mirror_conf "rsync: $T/bin/rsync" "$@"
	start_poni "$CONF"
	wait_same_tree "$T/src" "$T/dst" 30
	wait_idle
}

# chmod -R g+w of 30 MB: no file data (under 1%), every mode arrives.
t_chmod_tree_sends_no_data() {
	local mark
	tree_30mb
	chmod -R go-w "$T/src"
	start_mirror
	mark=$(literal_mark)
	chmod -R g+w "$T/src"
	wait_same_attrs
	wait_idle
	assert_literal_below "$mark" 307200 "chmod -R g+w of 30 MB"
}

# chmod of one directory: its mode arrives, nothing below it is sent.
t_chmod_dir_sends_no_data() {
	local mark
	tree_30mb
	start_mirror
	mark=$(literal_mark)
	chmod 700 "$T/src/d3"
	wait_same_attrs
	wait_idle
	assert_literal_below "$mark" 1 "chmod 700 of a directory of 3 MB"
}

# touch -d of a file and of a directory: the times arrive, no data.
t_touch_sends_no_data() {
	local mark
	tree_30mb
	start_mirror
	mark=$(literal_mark)
	touch -d @1500000000 "$T/src/d1/fab" "$T/src/d2"
	wait_same_attrs
	wait_idle
	assert_literal_below "$mark" 1 "touch -d of a file and a directory"
}

# chown of a file and a directory arrives, with no data.
t_chown_sends_no_data() {
	local mark
	[ "$(id -u)" = 0 ] || skip "$TEST_NAME" "chown needs root"
	tree_30mb
	start_mirror
	mark=$(literal_mark)
	chown 1234:2345 "$T/src/d1/fab" "$T/src/d4"
	wait_same_attrs
	wait_idle
	assert_literal_below "$mark" 1 "chown of a file and a directory"
}

# rewrite_keep FILE TEXT: FILE rewritten in place with TEXT (as long as its
# content), then its old modification time put back (touch -r): a change
# of content that a quick check cannot see.
rewrite_keep() {
	touch -r "$1" "$T/ref"
	printf '%s' "$2" >"$1"
	touch -r "$T/ref" "$1"
}

# A rewrite in place that keeps size and time is a change of content, even
# with the touch that restores the time in the same batch, and with a
# chmod of it and of another file: it arrives. The batch (interval 2) of
# both kinds is one run of two rsyncs: the content first.
t_same_size_same_time_with_attrs() {
	local mark
	mkdir -p "$T/src"
	printf 'AAAAAAAA' >"$T/src/f"
	printf 'other' >"$T/src/g"
	start_mirror "interval: 2"
	mark=$(log_mark)
	rewrite_keep "$T/src/f" "BBBBBBBB"
	chmod 600 "$T/src/f" "$T/src/g"
	wait_same_attrs
	wait_idle
	assert_eq "$(cat "$T/dst/f")" BBBBBBBB "the replica's content"
	assert_eq "$(count_log ': ok in [0-9.]+ s \(1 path\)' "$mark")" 2 "rsyncs of one path"
	# by itself, in a run of its own
	rewrite_keep "$T/src/f" "CCCCCCCC"
	wait_same_attrs
	assert_eq "$(cat "$T/dst/f")" CCCCCCCC "the replica's content"
	stop_poni_ok TERM
}

# A batch of new files alone stays one rsync.
t_new_files_one_rsync() {
	local mark i
	mkdir -p "$T/src"
	start_mirror "interval: 2"
	mark=$(log_mark)
	for i in 1 2 3; do
		echo "$i" >"$T/src/n$i"
	done
	wait_same_attrs
	wait_idle
	assert_eq "$(count_log ': ok in ' "$mark")" 1 "rsyncs"
}

run_test attrs_chmod_tree_sends_no_data t_chmod_tree_sends_no_data
run_test attrs_chmod_dir_sends_no_data t_chmod_dir_sends_no_data
run_test attrs_touch_sends_no_data t_touch_sends_no_data
run_test attrs_chown_sends_no_data t_chown_sends_no_data
run_test attrs_same_size_same_time_with_attrs t_same_size_same_time_with_attrs
run_test attrs_new_files_one_rsync t_new_files_one_rsync
finish
