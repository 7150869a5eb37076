#!/bin/bash
# System tests: the watch limit (poni(8)). When fs.inotify.max_user_watches
# leaves directories unwatched, poni names the sysctl, its value and the
# number missing, syncs those directories by a full run every 10 s, and
# watches them all once the limit is raised.
#
# The limit is lowered in a user namespace of poni's own when the machine
# has them (nothing else is affected); else, as root, for everyone, with
# a lock ($TMPDIR/poni-tests-sysctl.lock) held while it is lowered and
# the old value restored at once, in the EXIT trap too (NO_SYSCTL=1 keeps
# the test from touching it). As that would starve the other tests of
# watches, tests/run.sh runs this file alone:
# run.sh: alone
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# start_poni_watch_limit LIMIT: start poni with at most LIMIT inotify
# watches for its user: in a user namespace of its own
# (/proc/sys/user/max_inotify_watches there; nothing else on the machine
# is affected), else (root, no user namespaces) by lowering
# fs.inotify.max_user_watches for everyone to the watches in use + LIMIT.
# Sets WL_MODE to userns or global; 1 if neither is possible.
start_poni_watch_limit() {
	if command -v nsenter >/dev/null && unshare -U -r true 2>/dev/null; then
		WL_MODE=userns
		# shellcheck disable=SC2016 # for sh and perl
		unshare -U -r -- sh -c 'echo "$1" >/proc/sys/user/max_inotify_watches && shift && exec "$@"' \
			sh "$1" perl -e '$SIG{INT} = $SIG{QUIT} = "DEFAULT"; exec { $ARGV[0] } @ARGV or die "exec: $!\n"' \
			"$PONI" -c "$CONF" >>"$T/poni.log" 2>&1 &
		PONI_PID=$!
		return 0
	fi
	WL_MODE=global
	sysctl_lower fs.inotify.max_user_watches $(($(inotify_watches_in_use) + $1)) || return 1
	start_poni "$CONF"
}

# raise_watch_limit: undo start_poni_watch_limit's limit.
raise_watch_limit() {
	if [ "$WL_MODE" = userns ]; then
		nsenter -t "$PONI_PID" -U --preserve-credentials \
			sh -c 'echo 1000000 >/proc/sys/user/max_inotify_watches' ||
			fail "$TEST_NAME" "cannot raise the limit in poni's user namespace"
	else
		sysctl_restore
	fi
}

# unwatched_dirs: directories under $T/src that poni has no watch on.
unwatched_dirs() {
	local w i d
	w=" $(watched_inodes "$PONI_PID" | tr '\n' ' ') "
	find "$T/src" -type d -printf '%i %p\n' | while read -r i d; do
		case $w in *" $i "*) ;; *) echo "$d" ;; esac
	done
}

# The watch limit leaves directories unwatched: poni names the sysctl,
# its value and the count, syncs them by the 10 s fallback, and watches
# them all once the limit is raised.
t_watch_limit() {
	local a b n d missing want
	for a in 1 2 3 4 5 6; do
		for b in 1 2 3 4 5 6 7 8 9; do
			mkdir -p "$T/src/d$a/e$b"
			echo "$a $b" >"$T/src/d$a/e$b/file"
		done
	done
	n=$(find "$T/src" -type d | wc -l) # 61
	mirror_conf
	start_poni_watch_limit 30 || skip "$TEST_NAME" "cannot limit inotify watches here"
	wait_log "fs\.inotify\.max_user_watches" 10
	if [ "$WL_MODE" = userns ]; then
		missing=$((n - 30))
		want="left $missing directories unwatched: raise fs\.inotify\.max_user_watches \(now $(sysctl -n fs.inotify.max_user_watches)\) by at least $missing;"
	else
		want="left [0-9]+ director(y|ies) unwatched: raise fs\.inotify\.max_user_watches \(now $(sysctl -n fs.inotify.max_user_watches)\) by at least [0-9]+;"
	fi
	assert_contains "$T/poni.log" "$want"
	wait_runs 1
	wait_mirror "$T/src" "$T/dst" 10
	# change files only where no watch is: the fallback's full sync
	# (every 10 s) must bring them
	unwatched_dirs >"$T/unwatched"
	[ -s "$T/unwatched" ] || fail "$TEST_NAME" "every directory is watched (the limit did not work)"
	while read -r d; do
		echo "changed while unwatched" >>"$d/file"
		echo new >"$d/new"
	done <"$T/unwatched"
	wait_mirror "$T/src" "$T/dst" 15
	assert_poni_alive
	raise_watch_limit
	wait_log "every directory is watched again" 15
	[ -z "$(unwatched_dirs)" ] || fail "$TEST_NAME" "directories still unwatched: $(unwatched_dirs | head -n 3)"
	# now a change there is seen at once
	d=$(head -n 1 "$T/unwatched")
	echo quick >"$d/quick"
	wait_mirror "$T/src" "$T/dst" 3
	stop_poni_ok TERM
	sysctl_restore
}

run_selected watch_limit t_watch_limit
finish
