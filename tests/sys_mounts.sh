#!/bin/bash
# System tests: mounts and the safety of the replica. A source whose file
# system is unmounted (or, per /etc/fstab, not mounted yet) is waited for,
# never synced as the bare directory; a full run of an empty source with
# delete is held (delete_guard); a local target that is unmounted or
# removed is waited for, nothing written in its place; a failed or
# stopped run leaves the old complete file, no partial one; a second full
# run to an exFAT target copies nothing; SIGTERM runs the pending changes
# first; full_sync and SIGUSR2 repair a replica edited by hand.
#
# Tests that mount (tmpfs, ext2 and exFAT images on loop devices) need
# root and skip without it. Their EXIT trap (mounts_exit) stops poni and
# its rsync, unmounts what the test mounted (retrying while busy),
# detaches its loop devices and ends its private mount namespace, then
# runs lib.sh's cleanup. ONLY=ERE runs only the tests whose name matches.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# Mount points the test made (last one last), "DEVICE IMAGE" for each loop
# device it attached, and the private mount namespace (a sleep made by
# unshare) it works in, if any: NS_RUN runs a command in it.
MOUNTS=()
LOOPS=()
LOOP_DEV=
NS_PID=
NS_RUN=()

# --- mounts ------------------------------------------------------------------

# root_test: skip unless root; else make the test's EXIT trap undo its
# mounts (mounts_exit) before lib.sh's cleanup removes $T.
root_test() {
	[ "$(id -u)" = 0 ] || skip "$TEST_NAME" "needs root (mounts file systems)"
	trap mounts_exit EXIT
}

# need_cmds CMD...: skip the test unless every CMD is there.
need_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$TEST_NAME" "no $c here"
	done
}

# The EXIT trap of a test that mounts: poni and its children first (a
# running rsync keeps a file system busy), then the mounts, the loop
# devices, the namespace, then lib.sh's cleanup with the test's status.
mounts_exit() {
	local st=$? i
	trap - EXIT
	stop_poni_tree
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		unmount_all "${MOUNTS[i]}"
	done
	MOUNTS=()
	detach_loops
	if [ -n "$NS_PID" ]; then
		stop_pids KILL "$NS_PID"
		wait "$NS_PID" 2>/dev/null
		NS_PID=
		NS_RUN=()
	fi
	(exit "$st")
	cleanup
}

# is_mounted DIR: something is mounted on DIR (in the test's namespace).
is_mounted() {
	"${NS_RUN[@]}" mountpoint -q "$1" 2>/dev/null
}

# try_umount DIR: unmount DIR once; true also when it is not mounted.
try_umount() {
	"${NS_RUN[@]}" umount "$1" 2>/dev/null || ! is_mounted "$1"
}

# unmount_all DIR: unmount everything stacked on DIR, retrying each for
# up to 5 s while busy; a lazy unmount only if that keeps failing.
unmount_all() {
	local _
	for _ in 1 2 3 4 5; do
		is_mounted "$1" || return 0
		wait_until 5 try_umount "$1" || "${NS_RUN[@]}" umount -l "$1" 2>/dev/null
	done
}

# umount_busy DIR: unmount DIR in the test, retrying for up to 10 s
# while it is busy (an rsync finishing); fails the test if it stays.
umount_busy() {
	wait_until 10 try_umount "$1" ||
		fail "$TEST_NAME" "cannot unmount $1: $("${NS_RUN[@]}" umount "$1" 2>&1) (does poni keep it busy?)"
}

# track_mount DIR: remember DIR for mounts_exit.
track_mount() {
	local m
	for m in "${MOUNTS[@]}"; do
		[ "$m" = "$1" ] && return 0
	done
	MOUNTS+=("$1")
}

# mount_tmpfs DIR: a fresh 16 MiB tmpfs on DIR (mode 755).
mount_tmpfs() {
	mkdir -p "$1"
	track_mount "$1"
	"${NS_RUN[@]}" mount -t tmpfs -o size=16m,mode=755 poni-test "$1" ||
		fail "$TEST_NAME" "cannot mount a tmpfs on $1"
}

# mount_filled DIR FROM: a fresh tmpfs that already holds a copy of
# FROM's contents appears on DIR all at once (filled elsewhere, then
# bind-mounted), so that only a full run can bring them to a replica:
# no inotify event is made on DIR.
mount_filled() {
	local stage
	stage=$(mktemp -d "$T/stage.XXXXXX")
	mount_tmpfs "$stage"
	"${NS_RUN[@]}" cp -a "$2/." "$stage/" || fail "$TEST_NAME" "cannot fill the tmpfs on $stage"
	track_mount "$1"
	"${NS_RUN[@]}" mount --bind "$stage" "$1" || fail "$TEST_NAME" "cannot bind $stage on $1"
	umount_busy "$stage"
}

# make_ext2 IMAGE SIZE: an ext2 image (truncate -s SIZE).
make_ext2() {
	if ! truncate -s "$2" "$1" || ! mkfs.ext2 -q -F "$1" >/dev/null 2>&1; then
		fail "$TEST_NAME" "mkfs.ext2 of $1 failed"
	fi
}

# attach_loop IMAGE: a loop device for IMAGE, in LOOP_DEV.
attach_loop() {
	LOOP_DEV=$(losetup -f --show "$1") || fail "$TEST_NAME" "losetup -f --show $1 failed"
	LOOPS+=("$LOOP_DEV $1")
}

# mount_dev DEVICE DIR [MOUNT_ARGS...]
mount_dev() {
	local dev=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	track_mount "$dir"
	"${NS_RUN[@]}" mount "$@" "$dev" "$dir" || fail "$TEST_NAME" "cannot mount $dev on $dir"
}

# detach_loops: detach the loop devices the test attached, each only if
# it still holds the test's image (never another user's device).
detach_loops() {
	local l dev img back
	for l in "${LOOPS[@]}"; do
		dev=${l%% *} img=${l#* }
		back=$(losetup -n -O BACK-FILE "$dev" 2>/dev/null) || continue
		back=${back%"${back##*[! ]}"}
		case $back in "$img" | "$img (deleted)") losetup -d "$dev" ;; esac
	done
	LOOPS=()
}

# --- a private mount namespace ---------------------------------------------------

ns_ready() {
	[ "$(readlink "/proc/$NS_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
}

# enter_private_ns: a mount namespace of the test's own (private
# propagation): mounts made through NS_RUN (mount_*, umount_busy) and the
# poni started by start_poni_ns are only there; nothing else on the
# machine sees them.
enter_private_ns() {
	need_cmds unshare nsenter
	unshare -m --propagation private -- sleep 600 &
	NS_PID=$!
	wait_until 5 ns_ready || fail "$TEST_NAME" "unshare -m did not make a mount namespace"
	NS_RUN=(nsenter -t "$NS_PID" -m --)
}

# start_poni_ns CONFIG: start_poni, in the test's namespace (nsenter execs
# perl, which execs poni: PONI_PID is poni's pid).
start_poni_ns() {
	[ -x "$PONI" ] || fail "$TEST_NAME" "no poni binary at $PONI (run make)"
	# shellcheck disable=SC2016 # for perl
	"${NS_RUN[@]}" perl -e '$SIG{INT} = $SIG{QUIT} = "DEFAULT"; exec { $ARGV[0] } @ARGV
		or die "exec $ARGV[0]: $!\n"' \
		"$PONI" -c "$1" >>"$T/poni.log" 2>&1 &
	PONI_PID=$!
}

# --- trees and checks ------------------------------------------------------------

# fill_tree DIR: a few files and subdirectories.
fill_tree() {
	mkdir -p "$1/sub/deeper"
	echo one >"$1/one"
	echo two >"$1/two"
	echo three >"$1/sub/three"
	head -c 5000 /dev/urandom >"$1/sub/deeper/blob"
}

# assert_kept SECONDS SAVED REPLICA WHAT: for SECONDS, REPLICA stays the
# same as SAVED (checked every 0.05 s); else fail with the difference.
assert_kept() {
	if wait_until "$1" not same_mirror "$2" "$3"; then
		show_mirror_diff "$2" "$3"
		fail "$TEST_NAME" "$4"
	fi
	assert_poni_alive
}

dir_empty() {
	[ -d "$1" ] && [ -z "$(ls -A "$1")" ]
}

# assert_stays_empty SECONDS DIR: nothing appears in DIR for SECONDS.
assert_stays_empty() {
	if wait_until "$1" not dir_empty "$2"; then
		(cd "$2" && find . | head -n 20) | detail
		fail "$TEST_NAME" "something was written into $2 (the bare mount point)"
	fi
	assert_poni_alive
}

# assert_stays_absent SECONDS PATH: PATH is not made for SECONDS.
assert_stays_absent() {
	if wait_until "$1" test -e "$2"; then
		fail "$TEST_NAME" "$2 was made again (by poni's rsync)"
	fi
	assert_poni_alive
}

# assert_status ERE: SIGUSR1; the status line logged matches ERE.
assert_status() {
	local mark
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is 1 "$mark" || fail "$TEST_NAME" "no status line after SIGUSR1"
	status_lines "$mark" | grep -Eq -- "$1" ||
		fail "$TEST_NAME" "status is not /$1/: $(status_lines "$mark" | head -n 2)"
}

# usr2: SIGUSR2 (a full run of every sync now); poni must survive it.
usr2() {
	kill -USR2 "$PONI_PID"
	wait_until 0.3 poni_died && fail "$TEST_NAME" "poni died of SIGUSR2"
	assert_poni_alive
}

# held_count MARK: error lines since MARK that tell the deletions were
# held; held_logged MARK [N]: at least N (1) of them.
held_count() {
	log_since "$1" | grep -F 'error: ' | grep -F 'held:' | grep -Fc 'nothing was deleted'
}
held_logged() {
	[ "$(held_count "$1")" -ge "${2:-1}" ]
}

# transferred MARK: the files rsync transferred ('>f' itemize lines of
# $T/rsync.log, the wrapper's --log-file) since line MARK of it.
transferred() {
	tail -n "+$(($1 + 1))" "$T/rsync.log" | grep -E '\] >f' || true
}

rsync_log_mark() {
	if [ -f "$T/rsync.log" ]; then
		wc -l <"$T/rsync.log"
	else
		echo 0
	fi
}

# full_runs_since SRC MARK [N]: at least N (1) full runs of SRC's sync
# logged since MARK; wait_full_run SRC MARK WHAT: wait up to 5 s for one
# (its line comes after rsync made the replica), else fail.
full_runs_since() {
	[ "$(full_runs_of "$1" "$2")" -ge "${3:-1}" ]
}
wait_full_run() {
	wait_poni 5 full_runs_since "$1" "$2" || fail "$TEST_NAME" "no full run logged $3"
}

# --- a source on a mount -------------------------------------------------------

# source_mount_case SLASH: a tmpfs on $T/src, the source "$T/src$SLASH".
# Unmounted after the initial sync, the bare (empty) directory is never
# synced: the replica keeps every file for seconds, after SIGUSR2 too,
# and SIGUSR1 says it waits for the source. A file system mounted there
# again, already holding the files and a new one, is synced in full at
# once (nothing else could bring the new file: no event is made).
source_mount_case() {
	local src=$T/src$1 rep mark
	root_test
	rep=$T/dst
	[ -z "$1" ] && rep=$T/dst/src
	mount_tmpfs "$T/src"
	fill_tree "$T/src"
	{
		echo "sync:"
		sync_local "$src" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$rep" 10
	settle
	cp -a "$rep" "$T/saved"
	mark=$(log_mark)
	umount_busy "$T/src"
	assert_kept 3 "$T/saved" "$rep" "the replica changed after the source's file system was unmounted"
	wait_log_since "$mark" "waiting" 3
	usr2
	assert_kept 1.5 "$T/saved" "$rep" "the replica changed after SIGUSR2 with the source unmounted"
	assert_status "status: sync $(ere "$src") -> .*: waiting for the source"
	mkdir -p "$T/next"
	cp -a "$T/saved/." "$T/next/"
	echo new >"$T/next/new"
	mark=$(log_mark)
	mount_filled "$T/src" "$T/next"
	wait_mirror "$T/src" "$rep" 5
	wait_full_run "$src" "$mark" "after the remount"
	# and the new file system is watched
	echo later >"$T/src/sub/later"
	wait_mirror "$T/src" "$rep" 5
	stop_poni_ok TERM
}

t_source_mount_unmounted_and_remounted() {
	source_mount_case /
}

t_source_mount_no_slash_unmounted_and_remounted() {
	source_mount_case ""
}

# The source is a directory inside a mount ($T/mnt/data): unmounted, and
# an application makes data (and writes a file) on the bare mount point.
# That is not the source: the replica keeps its files, also after
# SIGUSR2, which makes poni look for the source again at once (as it
# does every 10 s).
# The file system back (holding data and a new file): a full sync.
t_source_dir_inside_unmounted_mount() {
	local mark
	root_test
	mount_tmpfs "$T/mnt"
	fill_tree "$T/mnt/data"
	{
		echo "sync:"
		sync_local "$T/mnt/data/" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_mirror "$T/mnt/data" "$T/dst" 10
	settle
	cp -a "$T/dst" "$T/saved"
	mkdir -p "$T/next"
	cp -a "$T/mnt/." "$T/next/"
	umount_busy "$T/mnt"
	mkdir "$T/mnt/data"
	echo "written by an application on the bare mount point" >"$T/mnt/data/stray"
	assert_kept 2 "$T/saved" "$T/dst" "the bare directory under the unmounted mount point was synced"
	assert_status "status: sync $(ere "$T/mnt/data/") -> .*: waiting for the source"
	usr2
	assert_kept 1.5 "$T/saved" "$T/dst" "the bare directory was synced after SIGUSR2"
	echo new >"$T/next/data/new"
	mark=$(log_mark)
	mount_filled "$T/mnt" "$T/next"
	wait_mirror "$T/mnt/data" "$T/dst" 5
	wait_full_run "$T/mnt/data/" "$mark" "after the remount"
	assert_absent "$T/dst/stray"
	stop_poni_ok TERM
}

# A disk mounted over a source that poni watches as a plain directory
# (hotplug with no fstab entry: poni started before the disk was
# there): poni notices the mount table change, watches the disk's tree
# and syncs it in full; a change on the disk arrives afterwards.
t_disk_mounted_over_watched_source() {
	local mark
	root_test
	mkdir -p "$T/src"
	echo "on the covered directory" >"$T/src/covered"
	{
		echo "sync:"
		sync_local "$T/src/" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	settle
	fill_tree "$T/next"
	mark=$(log_mark)
	mount_filled "$T/src" "$T/next"
	wait_mirror "$T/src" "$T/dst" 5
	wait_full_run "$T/src/" "$mark" "after a disk was mounted over the source"
	echo later >"$T/src/sub/deeper/later"
	wait_mirror "$T/src" "$T/dst" 5
	stop_poni_ok TERM
}

# A file system mounted below the source ($T/src/disk) is unmounted: its
# files are not deleted from the replica (the bare directory left is not
# what the source holds); the sync waits, and converges when it is back.
t_mount_below_source_unmounted() {
	local mark
	root_test
	fill_tree "$T/src"
	mount_tmpfs "$T/src/disk"
	fill_tree "$T/src/disk"
	{
		echo "sync:"
		sync_local "$T/src/" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	settle
	cp -a "$T/dst" "$T/saved"
	mkdir -p "$T/next"
	cp -a "$T/src/disk/." "$T/next/"
	echo new >"$T/next/new"
	mark=$(log_mark)
	umount_busy "$T/src/disk"
	wait_log_since "$mark" "waiting" 3
	echo "a change elsewhere in the source" >"$T/src/elsewhere"
	usr2
	assert_kept 2 "$T/saved" "$T/dst" "the replica changed while a mount below the source was gone"
	assert_status "status: sync $(ere "$T/src/") -> .*: waiting for the source \\(the source's file system $(ere "$T/src/disk") is not mounted\\)"
	mount_filled "$T/src/disk" "$T/next"
	wait_mirror "$T/src" "$T/dst" 5
	stop_poni_ok TERM
}

# poni starts while the file system of an /etc/fstab entry is not
# mounted, its source inside that mount point (a bare directory there,
# made by an application). All in a mount namespace of the test's own,
# where a test fstab is bind-mounted over /etc/fstab: the real one and
# the machine's mounts are not touched. The pre-filled replica keeps its
# files; once mounted, a full sync.
t_fstab_mount_not_mounted_is_waited_for() {
	local mark
	root_test
	enter_private_ns
	fill_tree "$T/want/data"
	mkdir -p "$T/dst" "$T/mnt/data"
	cp -a "$T/want/data/." "$T/dst/"
	cp -a "$T/dst" "$T/saved"
	# on the file system only: it can reach the replica only by a run
	echo new >"$T/want/data/new"
	echo "written by an application on the bare mount point" >"$T/mnt/data/stray"
	{
		cat /etc/fstab
		echo "poni-test $T/mnt tmpfs defaults,size=16m 0 0"
	} >"$T/fstab"
	# (not tracked: it ends with the namespace, and /etc/fstab must
	# never be unmounted outside it)
	"${NS_RUN[@]}" mount --bind "$T/fstab" /etc/fstab ||
		fail "$TEST_NAME" "cannot bind the test fstab over /etc/fstab in the namespace"
	{
		echo "sync:"
		sync_local "$T/mnt/data/" "$T/dst"
	} | write_conf
	start_poni_ns "$CONF"
	assert_kept 2 "$T/saved" "$T/dst" "the bare directory under the unmounted fstab mount point was synced"
	wait_log "not mounted" 3
	assert_status "status: sync $(ere "$T/mnt/data/") -> .*: waiting for the source"
	mark=$(log_mark)
	mount_filled "$T/mnt" "$T/want"
	wait_mirror "$T/want/data" "$T/dst" 5
	wait_full_run "$T/mnt/data/" "$mark" "after the mount"
	stop_poni_ok TERM
}

# --- the delete guard ------------------------------------------------------------

# lost+found aside, SAVED and the replica hold the same.
kept_but_lost_found() {
	diff -r -x lost+found "$1" "$2" >/dev/null 2>&1
}

# A full run (at start) of a source emptied while poni was stopped:
# nothing deleted, an error with "held:", retried; the same for a source
# holding only lost+found; with delete_guard: false it is emptied. And a
# source emptied while poni watches is mirrored (no guard).
t_delete_guard_holds_empty_source() {
	local mark
	fill_tree "$T/src"
	mirror_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	stop_poni_ok TERM
	cp -a "$T/dst" "$T/saved"
	find "$T/src" -mindepth 1 -delete
	mark=$(log_mark)
	start_poni "$CONF"
	wait_log_since "$mark" "held:|ok in|failed in" 10
	same_mirror "$T/saved" "$T/dst" || {
		show_mirror_diff "$T/saved" "$T/dst"
		fail "$TEST_NAME" "the full run of the empty source deleted the replica's files"
	}
	wait_poni 5 held_logged "$mark" ||
		fail "$TEST_NAME" "no error line with 'held:' and 'nothing was deleted'"
	# retried (back-off), and held again
	wait_poni 5 held_logged "$mark" 2 ||
		fail "$TEST_NAME" "the held run is not retried ($(held_count "$mark") held runs)"
	assert_kept 0.5 "$T/saved" "$T/dst" "the replica changed while the guard held"
	stop_poni_ok TERM
	same_mirror "$T/saved" "$T/dst" || fail "$TEST_NAME" "the replica changed when poni stopped"

	# a source that holds only lost+found (a fresh file system)
	mkdir "$T/src/lost+found"
	mark=$(log_mark)
	start_poni "$CONF"
	wait_poni 10 held_logged "$mark" ||
		fail "$TEST_NAME" "a source holding only lost+found: no error line with 'held:'"
	kept_but_lost_found "$T/saved" "$T/dst" || {
		diff -r "$T/saved" "$T/dst" | detail
		fail "$TEST_NAME" "the full run of a source holding only lost+found deleted the replica's files"
	}
	stop_poni_ok TERM
	rmdir "$T/src/lost+found"

	# delete_guard: false lets it through
	mirror_conf "delete_guard: false"
	mark=$(log_mark)
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	assert_eq "$(count_log "held:" "$mark")" 0 "'held:' lines with delete_guard: false"
	stop_poni_ok TERM

	# emptied while watched: changed-paths runs mirror the deletions
	fill_tree "$T/src"
	mirror_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	settle
	mark=$(log_mark)
	find "$T/src" -mindepth 1 -delete
	wait_mirror "$T/src" "$T/dst" 5
	settle
	assert_eq "$(count_log "held:" "$mark")" 0 "'held:' lines after emptying the watched source"
	same_mirror "$T/src" "$T/dst" || fail "$TEST_NAME" "the replica is not empty"
	stop_poni_ok TERM
}

# --- a target on a mount -----------------------------------------------------------

# target_mount_case SUBDIR: an ext2 image on $T/mnt, the target
# $T/mnt/SUBDIR ($T/mnt when SUBDIR is empty). Unmounted after the initial
# sync, changes in the source write nothing into the bare mount point
# (after SIGUSR2 neither); SIGUSR1 says it waits for the target. Mounted
# again: the replica is made complete at once.
target_mount_case() {
	local target=$T/mnt${1:+/$1} mark
	root_test
	need_cmds mkfs.ext2 losetup
	fill_tree "$T/src"
	make_ext2 "$T/img" 8M
	attach_loop "$T/img"
	mount_dev "$LOOP_DEV" "$T/mnt" -t ext2
	{
		echo "sync:"
		sync_local "$T/src/" "$target"
	} | write_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$target" 10
	settle
	umount_busy "$T/mnt"
	dir_empty "$T/mnt" || fail "$TEST_NAME" "the bare mount point $T/mnt is not empty (test setup)"
	mark=$(log_mark)
	echo changed >>"$T/src/one"
	echo new >"$T/src/new"
	mkdir "$T/src/newdir"
	echo x >"$T/src/newdir/x"
	rm "$T/src/two"
	assert_stays_empty 3 "$T/mnt"
	usr2
	assert_stays_empty 1.5 "$T/mnt"
	assert_status "status: sync $(ere "$T/src/") -> .*: waiting for the target"
	mount_dev "$LOOP_DEV" "$T/mnt" -t ext2
	wait_mirror "$T/src" "$target" 5
	wait_full_run "$T/src/" "$mark" "after the remount"
	echo later >"$T/src/sub/later"
	wait_mirror "$T/src" "$target" 5
	stop_poni_ok TERM
}

t_target_mount_unmounted_and_remounted() {
	target_mount_case backup
}

t_target_mount_point_unmounted_and_remounted() {
	target_mount_case ""
}

# The target directory removed while poni runs: a change in the source
# does not make it again (nor does SIGUSR2); SIGUSR1 says it waits for
# the target. Made again by hand and SIGUSR2: a full replica.
t_target_dir_removed() {
	fill_tree "$T/src"
	mirror_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	settle
	rm -rf "$T/dst"
	echo new >"$T/src/new"
	echo changed >>"$T/src/sub/three"
	assert_stays_absent 3 "$T/dst"
	usr2
	assert_stays_absent 1.5 "$T/dst"
	assert_status "status: sync $(ere "$T/src/") -> .*: waiting for the target"
	mkdir "$T/dst"
	usr2
	wait_mirror "$T/src" "$T/dst" 5
	stop_poni_ok TERM
}

# The same, without signals: the directory made again is found by the
# 10 s re-check, and the replica made complete within 15 s.
t_target_dir_remade_found_by_recheck() {
	fill_tree "$T/src"
	mirror_conf
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	settle
	rm -rf "$T/dst"
	echo new >"$T/src/new"
	assert_stays_absent 1.5 "$T/dst"
	assert_status "status: sync $(ere "$T/src/") -> .*: waiting for the target"
	mkdir "$T/dst"
	wait_mirror "$T/src" "$T/dst" 15
	stop_poni_ok TERM
}

# --- no partial file in place of a good copy ------------------------------------------

# names DIR: the names in DIR, on one line.
names() {
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f '
}

# only_big DIR: DIR holds the file big and nothing else.
only_big() {
	[ "$(names "$1")" = "big " ]
}

# A 2 MiB ext2 target, default rsync_opts (azP): a 300,000-byte file is
# copied; rewritten with 3 MB it does not fit: the runs fail, and the
# target keeps the old file byte for byte, no temporary or partial file.
t_full_target_keeps_old_copy() {
	local mark b=$T/mnt/backup
	root_test
	need_cmds mkfs.ext2 losetup
	mkdir -p "$T/src"
	head -c 300000 /dev/urandom >"$T/src/big"
	cp "$T/src/big" "$T/old"
	make_ext2 "$T/img" 2M
	attach_loop "$T/img"
	mount_dev "$LOOP_DEV" "$T/mnt" -t ext2
	{
		echo "sync:"
		sync_local "$T/src/" "$b"
	} | write_conf
	start_poni "$CONF"
	wait_same_file "$T/src/big" "$b/big" 10
	settle
	mark=$(log_mark)
	# made aside and renamed in (see the SIGTERM test below)
	head -c 3000000 /dev/urandom >"$T/big.new"
	mv "$T/big.new" "$T/src/big"
	wait_log_since "$mark" ": failed in " 10
	cmp -s "$T/old" "$b/big" ||
		fail "$TEST_NAME" "after the failed run the target's big is not the old copy ($(stat -c %s "$b/big" 2>&1) bytes)"
	only_big "$b" || fail "$TEST_NAME" "the target holds more than big: $(names "$b")"
	# the retry fails the same way
	wait_log_since "$mark" ": failed in " 10 2
	cmp -s "$T/old" "$b/big" || fail "$TEST_NAME" "after the retry the target's big is not the old copy"
	stop_poni_ok TERM
	cmp -s "$T/old" "$b/big" || fail "$TEST_NAME" "after the stop the target's big is not the old copy"
	only_big "$b" || fail "$TEST_NAME" "after the stop the target holds: $(names "$b")"
}

has_big_temp() {
	find "$T/dst" -maxdepth 1 -name '.big.*' | grep -q .
}

# SIGTERM during a long transfer (rsync slowed with --bwlimit) of a new
# version of a file: poni exits 0 within about 4 s, and the target keeps
# the old complete copy, no rsync temporary file.
t_sigterm_during_long_transfer_keeps_old_copy() {
	local t0 st took
	mkdir -p "$T/src"
	head -c 1000000 /dev/urandom >"$T/src/big"
	cp "$T/src/big" "$T/old"
	make_rsync_wrapper --bwlimit=1000
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_same_file "$T/src/big" "$T/dst/big" 10
	settle
	# made aside and renamed in: a file still being written would be
	# copied as it stands (a good copy of what was there), and a later
	# stop would then keep that, not the old copy
	head -c 20000000 /dev/urandom >"$T/big.new"
	mv "$T/big.new" "$T/src/big"
	wait_poni 10 has_big_temp || fail "$TEST_NAME" "rsync did not start on the new version"
	t0=$(now_us)
	stop_poni TERM
	st=$?
	took=$(elapsed "$t0")
	assert_eq "$st" 0 "exit status"
	in_range "$took" 0 6.5 || fail "$TEST_NAME" "poni took $took s to stop, want at most about 4 s"
	assert_nothing_left
	cmp -s "$T/old" "$T/dst/big" ||
		fail "$TEST_NAME" "the target's big is not the old copy ($(stat -c %s "$T/dst/big" 2>&1) bytes): a partial file took its place"
	! has_big_temp || fail "$TEST_NAME" "an rsync temporary file is left: $(names "$T/dst")"
}

# --- coarse timestamps -----------------------------------------------------------------

# full_run_copies_nothing WHAT CMD...: CMD makes a full run, after
# which rsync's log (the wrapper's --log-file) lists no transferred file.
full_run_copies_nothing() {
	local what=$1 rmark mark
	shift
	rmark=$(rsync_log_mark)
	mark=$(log_mark)
	"$@"
	wait_log_since "$mark" "ok in [0-9.]+ s \(full\)" 10
	if [ -n "$(transferred "$rmark")" ]; then
		transferred "$rmark" | detail
		fail "$TEST_NAME" "the full run $what copied unchanged files again"
	fi
	settle
}

# A local exFAT target (exfat-fuse; whole-second mtimes): a second full
# run, after a restart and by SIGUSR2, transfers no file. A same-size
# rewrite while watched still is.
t_exfat_target_second_full_run_sends_nothing() {
	local mark rmark b=$T/mnt/backup
	root_test
	need_cmds mount.exfat-fuse mkfs.exfat losetup
	[ -c /dev/fuse ] || skip "$TEST_NAME" "no /dev/fuse here"
	fill_tree "$T/src"
	touch -d @1700000001.123456789 "$T/src/one"
	touch -d @1700000002.987654321 "$T/src/sub/three"
	truncate -s 64M "$T/img"
	mkfs.exfat "$T/img" >/dev/null 2>&1 || fail "$TEST_NAME" "mkfs.exfat failed"
	attach_loop "$T/img"
	mkdir -p "$T/mnt"
	track_mount "$T/mnt"
	mount.exfat-fuse "$LOOP_DEV" "$T/mnt" >/dev/null 2>&1 ||
		skip "$TEST_NAME" "mount.exfat-fuse cannot mount here"
	make_rsync_wrapper "--log-file=$T/rsync.log"
	{
		echo "sync:"
		sync_local "$T/src/" "$b" "rsync: $T/bin/rsync"
	} | write_conf
	start_poni "$CONF"
	wait_log "ok in [0-9.]+ s \(full\)" 10
	wait_poni 5 diff -r "$T/src" "$b" >/dev/null || fail "$TEST_NAME" "the first full run did not copy the tree"
	[ -n "$(transferred 0)" ] || fail "$TEST_NAME" "rsync's log lists no transfer at all (test setup: --log-file)"
	settle
	stop_poni_ok TERM

	# a restart: its initial (full) run copies nothing
	full_run_copies_nothing "after a restart" start_poni "$CONF"
	# SIGUSR2: the same
	full_run_copies_nothing "by SIGUSR2" usr2

	# a same-size rewrite while watched arrives
	rmark=$(rsync_log_mark)
	printf 'ONE\n' >"$T/src/one"
	wait_same_file "$T/src/one" "$b/one" 5
	transferred "$rmark" | grep -q ' one$' ||
		fail "$TEST_NAME" "rsync's log does not list the rewritten file"
	stop_poni_ok TERM
}

# --- stop flushes ------------------------------------------------------------------------

# flush_case SIG [KEY: VALUE]...: interval 30 s; a file written, then
# SIG at once: poni runs the pending change before it exits 0.
flush_case() {
	local sig=$1 st
	shift
	mkdir -p "$T/src" "$T/dst"
	echo old >"$T/src/old"
	mirror_conf "interval: 30" "$@"
	start_poni "$CONF"
	wait_log "watching" 10
	if ! has_key initial_sync "$@"; then
		wait_runs 1
		settle
	fi
	echo pending >"$T/src/pending"
	stop_poni "$sig"
	st=$?
	assert_eq "$st" 0 "exit status on SIG$sig"
	cmp -s "$T/src/pending" "$T/dst/pending" ||
		fail "$TEST_NAME" "the pending change did not reach the replica before poni exited"
}

t_sigterm_flushes_pending_change() {
	flush_case TERM
}

t_sigint_flushes_pending_change_no_initial_sync() {
	flush_case INT "initial_sync: false"
}

# --- full_sync and SIGUSR2 -------------------------------------------------------------

# The new keys and their forms are accepted (poni -t).
t_full_sync_keys_accepted() {
	local v
	mkdir -p "$T/src"
	for v in 24h 10s 2 0 30m 1d; do
		{
			echo "defaults:"
			echo "  full_sync: $v"
			echo "  delete_guard: true"
			echo "sync:"
			sync_local "$T/src/" "$T/dst" "modify_window: 2" "delete_guard: false"
		} | write_conf
		assert_exit 0 "$PONI" -t -c "$CONF"
		{
			echo "sync:"
			sync_local "$T/src/" "$T/dst" "full_sync: $v"
		} | write_conf
		assert_exit 0 "$PONI" -t -c "$CONF"
	done
}

# full_sync: 2: a file edited by hand in the replica (another size) and
# one added there are repaired by the periodic full run, within about
# 2.2 s of the last one; the full runs come about every 2 s, no more.
t_periodic_full_sync_repairs_hand_edit() {
	local mark n
	fill_tree "$T/src"
	mirror_conf "full_sync: 2"
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	settle
	echo "edited by hand on the replica" >"$T/dst/one"
	echo stray >"$T/dst/sub/stray"
	wait_mirror "$T/src" "$T/dst" 5
	wait_poni 5 full_runs_since "$T/src/" 0 2 || fail "$TEST_NAME" "fewer than 2 full runs logged"
	mark=$(log_mark)
	# the time over which the rate of the periodic runs is counted
	sleep 4.5
	n=$(full_runs_of "$T/src/" "$mark")
	in_range "$n" 1 3 || fail "$TEST_NAME" "$n full runs in 4.5 s with full_sync: 2, want 1 to 3"
	assert_poni_alive
	stop_poni_ok TERM
}

# full_sync: 0: a hand edit stays (no periodic run); SIGUSR2 repairs it.
t_forced_full_sync_sigusr2() {
	local mark
	fill_tree "$T/src"
	mirror_conf "full_sync: 0"
	start_poni "$CONF"
	wait_mirror "$T/src" "$T/dst" 10
	settle
	echo "edited by hand on the replica" >"$T/dst/one"
	cp "$T/dst/one" "$T/edited"
	if wait_until 2 not cmp -s "$T/edited" "$T/dst/one"; then
		fail "$TEST_NAME" "the hand edit was undone without SIGUSR2 (full_sync: 0)"
	fi
	assert_poni_alive
	mark=$(log_mark)
	usr2
	wait_same_file "$T/src/one" "$T/dst/one" 5
	wait_full_run "$T/src/" "$mark" "after SIGUSR2"
	stop_poni_ok TERM
}

run_selected source_mount_unmounted_and_remounted t_source_mount_unmounted_and_remounted
run_selected source_mount_no_slash_unmounted_and_remounted t_source_mount_no_slash_unmounted_and_remounted
run_selected source_dir_inside_unmounted_mount t_source_dir_inside_unmounted_mount
run_selected disk_mounted_over_watched_source t_disk_mounted_over_watched_source
run_selected mount_below_source_unmounted t_mount_below_source_unmounted
run_selected fstab_mount_not_mounted_is_waited_for t_fstab_mount_not_mounted_is_waited_for
run_selected delete_guard_holds_empty_source t_delete_guard_holds_empty_source
run_selected target_mount_unmounted_and_remounted t_target_mount_unmounted_and_remounted
run_selected target_mount_point_unmounted_and_remounted t_target_mount_point_unmounted_and_remounted
run_selected target_dir_removed t_target_dir_removed
run_selected target_dir_remade_found_by_recheck t_target_dir_remade_found_by_recheck
run_selected full_target_keeps_old_copy t_full_target_keeps_old_copy
run_selected sigterm_during_long_transfer_keeps_old_copy t_sigterm_during_long_transfer_keeps_old_copy
run_selected exfat_target_second_full_run_sends_nothing t_exfat_target_second_full_run_sends_nothing
run_selected sigterm_flushes_pending_change t_sigterm_flushes_pending_change
run_selected sigint_flushes_pending_change_no_initial_sync t_sigint_flushes_pending_change_no_initial_sync
run_selected full_sync_keys_accepted t_full_sync_keys_accepted
run_selected periodic_full_sync_repairs_hand_edit t_periodic_full_sync_repairs_hand_edit
run_selected forced_full_sync_sigusr2 t_forced_full_sync_sigusr2
finish
