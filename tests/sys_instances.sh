#!/bin/bash
# System tests: one inotify instance for the whole daemon (poni(8)). The
# number of syncs is bounded by memory and watches, not by
# fs.inotify.max_user_instances (128 by default): 140 and 1000 syncs all
# watch on that limit; two syncs of one source share its watches, and
# one of them removed by a reload leaves the other's in place; with no
# instance to be had, poni names the limit and syncs by periodic full
# runs until it gets one.
#
# The instance limit is set in a user namespace of poni's own when the
# machine has them (/proc/sys/user/max_inotify_instances there; nothing
# else is affected); else, as root, for everyone, through lib_faults.sh's
# sysctl_lower (a lock, the old value restored at once and in the EXIT
# trap; NO_SYSCTL=1 skips those tests). As that would starve the other
# tests of instances, and 1000 syncs load the machine, run.sh runs this
# file alone:
# run.sh: alone
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# start_poni_instances LIMIT GLOBAL: start poni on $CONF with at most
# LIMIT inotify instances for its user, in a user namespace of its own;
# else (root, no user namespaces) with fs.inotify.max_user_instances set
# to GLOBAL for everyone. Sets NS_MODE to userns or global; 1 if neither
# is possible.
start_poni_instances() {
	if command -v nsenter >/dev/null && unshare -U -r true 2>/dev/null; then
		NS_MODE=userns
		# shellcheck disable=SC2016 # for sh and perl
		unshare -U -r -- sh -c 'echo "$1" >/proc/sys/user/max_inotify_instances && shift && exec "$@"' \
			sh "$1" perl -e '$SIG{INT} = $SIG{QUIT} = "DEFAULT"; exec { $ARGV[0] } @ARGV or die "exec: $!\n"' \
			"$PONI" -c "$CONF" >>"$T/poni.log" 2>&1 {NAP_FD}>&- &
		PONI_PID=$!
		return 0
	fi
	NS_MODE=global
	sysctl_lower fs.inotify.max_user_instances "$2" || return 1
	start_poni "$CONF"
}

# raise_instance_limit: undo start_poni_instances's limit.
raise_instance_limit() {
	if [ "$NS_MODE" = userns ]; then
		nsenter -t "$PONI_PID" -U --preserve-credentials \
			sh -c 'echo 128 >/proc/sys/user/max_inotify_instances' ||
			fail "$TEST_NAME" "cannot raise the limit in poni's user namespace"
	else
		sysctl_restore
	fi
}

# instances_of PID: how many inotify instances PID has open.
instances_of() {
	find "/proc/$1/fd" -lname 'anon_inode:inotify' 2>/dev/null | wc -l
}

# root_instances: inotify fds of this user's processes (an instance with
# two fds counts twice: a bound from above).
root_instances() {
	find /proc/[0-9]*/fd -user "$(id -u)" -lname 'anon_inode:inotify' 2>/dev/null | wc -l
}

# many_conf N [KEY: VALUE]...: $CONF with N local syncs, $T/src/sI/ ->
# $T/dst/sI (I from 1), each source holding a file.
many_conf() {
	local n=$1 i
	shift
	mkdir -p "$T/dst"
	for ((i = 1; i <= n; i++)); do
		mkdir -p "$T/src/s$i"
		echo "$i" >"$T/src/s$i/file"
	done
	{
		echo "sync:"
		for ((i = 1; i <= n; i++)); do
			sync_local "$T/src/s$i/" "$T/dst/s$i" "$@"
		done
	} | write_conf
}

# synced I: sync I's replica is its source.
synced() {
	same_tree "$T/src/s$1" "$T/dst/s$1"
}

# many_syncs N SECONDS: N syncs on 128 instances all watch, change by
# change (in the first, the last, those past 128 and a sample across)
# arrive, and poni holds one inotify instance.
many_syncs() {
	local n=$1 i sample
	many_conf "$n" "initial_sync: false"
	start_poni_instances 128 128 || skip "$TEST_NAME" "cannot limit inotify instances here"
	wait_log_count 'watching 1 directory$' "$n" "$2"
	assert_not_contains "$T/poni.log" "inotify instance|max_user_instances"
	assert_eq "$(instances_of "$PONI_PID")" 1 "poni's inotify instances"
	sample="1 2 $((n / 4)) $((n / 2)) 127 128 129 130 $((n - 1)) $n"
	for i in $sample $(shuf -i 129-"$n" -n 5); do
		echo "changed $i" >>"$T/src/s$i/file"
		mkdir -p "$T/src/s$i/sub"
		echo new >"$T/src/s$i/sub/new"
	done
	for i in $sample; do
		wait_poni 20 synced "$i" || assert_same_tree "$T/src/s$i" "$T/dst/s$i"
	done
	assert_poni_alive
	# above 1023 fds too (the loop polls, no select())
	assert_eq "$(instances_of "$PONI_PID")" 1 "poni's inotify instances"
	stop_poni_ok TERM
	sysctl_restore
}

# 140 syncs, more than the default fs.inotify.max_user_instances: all of
# them watch (before, those past 128 never synced at all).
t_140_syncs() {
	many_syncs 140 20
}

# 1000 syncs, under ulimit -n 4096.
t_1000_syncs() {
	ulimit -n 4096 || skip "$TEST_NAME" "cannot set ulimit -n 4096"
	many_syncs 1000 40
}

# two_targets_conf [only_two]: syncs "one" and "two" of $T/src/ to
# $T/dst1 and $T/dst2; with only_two, just the second.
two_targets_conf() {
	{
		echo "sync:"
		[ "$1" = only_two ] || sync_local one "$T/dst1" "source_path: $T/src/"
		sync_local two "$T/dst2" "source_path: $T/src/"
	} | write_conf
}

# One source, two targets: every change reaches both, and the watches
# are shared (the kernel holds each directory's watch once); one sync
# removed by a reload leaves the other's watches in place.
t_two_targets_share_watches() {
	mkdir -p "$T/src/a/b/c" "$T/src/d"
	echo 1 >"$T/src/a/b/c/file"
	echo 2 >"$T/src/d/file"
	two_targets_conf
	start_poni "$CONF"
	wait_runs 2
	wait_same_tree "$T/src" "$T/dst1"
	wait_same_tree "$T/src" "$T/dst2"
	wait_poni 5 watches_match "$PONI_PID" "$T/src" ||
		fail "$TEST_NAME" "the kernel's watches are not the source's directories, each once"
	echo changed >>"$T/src/a/b/c/file"
	mkdir -p "$T/src/new/deep/er"
	echo fresh >"$T/src/new/deep/er/file"
	rm "$T/src/d/file"
	wait_same_tree "$T/src" "$T/dst1"
	wait_same_tree "$T/src" "$T/dst2"
	mv "$T/src/a/b" "$T/src/a/renamed"
	echo "after the rename" >"$T/src/a/renamed/c/late"
	rm -r "$T/src/d"
	wait_same_tree "$T/src" "$T/dst1"
	wait_same_tree "$T/src" "$T/dst2"
	wait_poni 5 watches_match "$PONI_PID" "$T/src" ||
		fail "$TEST_NAME" "the kernel's watches are not the source's directories after the changes"
	# one of them goes: the other keeps the shared watches
	two_targets_conf only_two
	kill -HUP "$PONI_PID"
	wait_log "removed from the config"
	settle
	wait_poni 5 watches_match "$PONI_PID" "$T/src" ||
		fail "$TEST_NAME" "the reload took the other sync's watches away"
	echo "after the reload" >"$T/src/a/renamed/c/file"
	mkdir "$T/src/a/renamed/c/newer"
	echo x >"$T/src/a/renamed/c/newer/x"
	wait_same_tree "$T/src" "$T/dst2"
	echo "in the new directory" >"$T/src/a/renamed/c/newer/y"
	wait_same_tree "$T/src" "$T/dst2" 3
	assert_eq "$(instances_of "$PONI_PID")" 1 "poni's inotify instances"
	stop_poni_ok TERM
}

# No inotify instance to be had: poni names max_user_instances, syncs by
# full runs every 10 s, and watches once the limit is raised.
t_no_instance() {
	mkdir -p "$T/src/a/b"
	echo one >"$T/src/a/b/file"
	mirror_conf
	start_poni_instances 0 "$(root_instances)" || skip "$TEST_NAME" "cannot limit inotify instances here"
	wait_log "fs\.inotify\.max_user_instances \(now [0-9]+\)" 10
	assert_contains "$T/poni.log" "not watched: there is no inotify instance.*a full sync runs every 10 s"
	wait_runs 1
	wait_same_tree "$T/src" "$T/dst"
	wait_status "idle.*\(no inotify instance: full syncs\)"
	assert_not_contains "$T/poni.log" "waiting for"
	echo two >"$T/src/a/b/file"
	mkdir "$T/src/a/c"
	echo three >"$T/src/a/c/file"
	wait_same_tree "$T/src" "$T/dst" 15
	assert_poni_alive
	raise_instance_limit
	wait_log "every directory is watched again" 15
	assert_contains "$T/poni.log" "the inotify instance is created"
	echo quick >"$T/src/a/c/quick"
	wait_same_tree "$T/src" "$T/dst" 3
	wait_poni 5 watches_match "$PONI_PID" "$T/src" ||
		fail "$TEST_NAME" "not every directory is watched"
	stop_poni_ok TERM
	sysctl_restore
}

# No fd left for the instance: poni names its open file limit, not
# max_user_instances. Which ulimit -n leaves poni without one depends on
# what it opens before (the self-pipe, the mount table): the lowest
# limits are tried until one shows it.
t_fd_limit_named() {
	local n
	mkdir -p "$T/src"
	mirror_conf
	for n in 4 5 6 7 8 9 10; do
		: >"$T/poni.log"
		# the limit for poni alone: the test's shell needs its fds
		# shellcheck disable=SC2016 # for sh
		sh -c 'ulimit -n "$1" && shift && exec "$@"' sh "$n" "$PONI" -c "$CONF" \
			>>"$T/poni.log" 2>&1 {NAP_FD}>&- &
		PONI_PID=$!
		wait_until 5 log_has "watching|inotify instance"
		stop_poni
		log_has "inotify instance" || continue
		assert_contains "$T/poni.log" "cannot create the inotify instance: poni has reached its limit of open files \(ulimit -n, now $n\); raise it"
		assert_not_contains "$T/poni.log" "max_user_instances"
		return 0
	done
	fail "$TEST_NAME" "no ulimit -n from 4 to 10 left poni without the inotify instance"
}

run_selected 140_syncs t_140_syncs
run_selected 1000_syncs t_1000_syncs
run_selected two_targets_share_watches t_two_targets_share_watches
run_selected no_instance t_no_instance
run_selected fd_limit_named t_fd_limit_named
finish
