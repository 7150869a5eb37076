#!/bin/bash
# System tests: the signals (poni(8)). SIGHUP reloads the config: a sync
# added gets its initial run, one removed stops watching, one unchanged
# is left alone (its pending change, its back-off and its running run go
# on), and a broken config is reported with its line while the running
# one stays in force; SIGHUP also reopens the log file. SIGUSR1 logs
# each sync's state. SIGTERM and SIGINT end poni with exit 0: a running
# rsync gets 3 s, then its process group SIGTERM, then SIGKILL; the
# pidfile is removed and nothing is left behind.
# ONLY=ERE runs only the tests whose name matches (see run_selected).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

TS='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# hup MARK ERE: send SIGHUP, wait for the line that tells how the reload
# went (matching ERE), logged after MARK.
hup() {
	kill -HUP "$PONI_PID"
	wait_log_since "$1" "$2"
}

# call_time N: the time ($EPOCHREALTIME) of the wrapper's Nth call.
call_time() {
	sed -n "${1}p" "$T/rsync-calls"
}

# --- SIGHUP: the syncs of the new config --------------------------------------

# A sync added and one removed: the new one gets its initial (full) run
# and watches its whole tree, the removed one watches nothing any more
# and runs no more, the unchanged one is not run again.
t_hup_add_and_remove_sync() {
	local mark
	mkdir -p "$T/a/sub" "$T/b/sub" "$T/c/sub"
	echo a >"$T/a/a"
	echo b >"$T/b/b"
	echo c >"$T/c/c"
	{
		echo "sync:"
		sync_local "$T/a/" "$T/a.dst"
		sync_local "$T/b/" "$T/b.dst"
	} | write_conf
	start_poni "$CONF"
	wait_runs 2
	wait_idle 2
	mark=$(log_mark)
	{
		echo "sync:"
		sync_local "$T/a/" "$T/a.dst"
		sync_local "$T/c/" "$T/c.dst"
	} | write_conf
	hup "$mark" "reloaded .*: 1 sync unchanged, 1 added, 1 removed"
	assert_contains "$T/poni.log" "sync $(ere "$T/b/") -> .*: removed from the config"
	wait_mirror "$T/c" "$T/c.dst" 10
	wait_log_since "$mark" "sync $(ere "$T/c/") -> .*: ok in [0-9.]+ s \(full\)"
	# the watches of a and c, none of b's
	wait_poni 5 watches_match "$PONI_PID" "$T/a" "$T/c" ||
		fail "$TEST_NAME" "poni's watches are not exactly the directories of a and c"
	echo a2 >"$T/a/sub/a2"
	echo b2 >"$T/b/sub/b2"
	echo c2 >"$T/c/sub/c2"
	wait_mirror "$T/a" "$T/a.dst" 5
	wait_mirror "$T/c" "$T/c.dst" 5
	wait_idle 2
	assert_eq "$(full_runs_of "$T/c/" "$mark")" 1 "full runs of the new sync"
	assert_eq "$(full_runs_of "$T/a/" "$mark")" 0 "full runs of the unchanged sync"
	assert_eq "$(runs_of "$T/b/" "$mark")" 0 "runs of the removed sync"
	assert_absent "$T/b.dst/sub/b2"
	stop_poni_ok TERM
}

# An unchanged config: the sync is not touched (no new run), and a
# change pending (interval 3 s) when the HUP came still arrives, by one
# run.
t_hup_unchanged_keeps_pending() {
	local mark
	mkdir -p "$T/src"
	echo old >"$T/src/old"
	mirror_conf "interval: 3"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	mark=$(log_mark)
	echo pending >"$T/src/pending"
	wait_status ": pending \(next try in "
	hup "$mark" "reloaded .*: 1 sync unchanged, 0 added, 0 removed"
	wait_same_file "$T/src/pending" "$T/dst/pending" 10
	wait_idle
	assert_eq "$(full_runs_of "$T/src/" "$mark")" 0 "full runs after the HUP"
	assert_eq "$(runs_of "$T/src/" "$mark")" 1 "runs after the HUP"
	stop_poni_ok TERM
}

# A HUP with the config unchanged while the sync backs off: the back-off
# goes on. The retry comes when it was due (no run at the HUP), and the
# delay after it doubles (no reset to 1 s).
t_hup_keeps_backoff() {
	local mark calls gap
	mkdir -p "$T/src"
	touch "$T/blocker"
	make_rsync_wrapper
	{
		echo "sync:"
		sync_local "$T/src/" "$T/blocker/dst" "rsync: $T/bin/rsync"
	} | write_conf
	start_poni "$CONF"
	wait_log "retry in 2\.000 s"
	calls=$(rsync_calls)
	mark=$(log_mark)
	hup "$mark" "reloaded .*: 1 sync unchanged"
	wait_log_since "$mark" "retry in" 10
	log_since "$mark" | grep -E 'retry in' | head -n 1 | grep -q 'retry in 4\.000 s' || {
		log_since "$mark" | detail
		fail "$TEST_NAME" "the back-off did not go on through the HUP"
	}
	assert_eq "$(rsync_calls)" $((calls + 1)) "rsync calls from the HUP to the next retry"
	# the one call waited out its 2 s: none was made at the HUP (a lower
	# bound, which a loaded machine cannot break)
	gap=$(awk -v a="$(call_time "$calls")" -v b="$(call_time $((calls + 1)))" \
		'BEGIN { printf "%.3f", b - a }')
	in_range "$gap" 1.9 1000 || fail "$TEST_NAME" "a retry $gap s after the failure, want 2 s or more"
	stop_poni_ok TERM
}

# A HUP with the config unchanged during a run (held by the rsync
# wrapper): the run goes on and ends well, no new run.
t_hup_keeps_running_run() {
	local mark calls
	mkdir -p "$T/src"
	make_rsync_wrapper
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	calls=$(rsync_calls)
	touch "$T/rsync-hold"
	echo held >"$T/src/held"
	wait_poni 5 calls_at_least $((calls + 1)) || fail "$TEST_NAME" "the run does not start"
	mark=$(log_mark)
	hup "$mark" "reloaded .*: 1 sync unchanged"
	wait_status ": running, "
	poni_rsync_running || fail "$TEST_NAME" "the run ended at the HUP"
	rm "$T/rsync-hold"
	wait_same_file "$T/src/held" "$T/dst/held" 10
	wait_log_since "$mark" ": ok in [0-9.]+ s \(1 path\)" 5
	wait_idle
	assert_eq "$(count_log ': failed in ' "$mark")" 0 "failed runs"
	assert_eq "$(full_runs_of "$T/src/" "$mark")" 0 "full runs"
	assert_eq "$(rsync_calls)" $((calls + 1)) "rsync calls"
	stop_poni_ok TERM
}

# A broken config (an unknown key, then a syntax error): the error names
# the file and line, the running config stays in force; a good config
# again is taken.
t_hup_broken_config() {
	local good mark
	mkdir -p "$T/src"
	mirror_conf
	good=$(cat "$CONF")
	start_poni "$CONF"
	wait_runs 1
	write_conf <<-EOF
		sync:
		  $T/src/:
		    remote_pth: $T/dst
	EOF
	mark=$(log_mark)
	hup "$mark" "error: reload: $(ere "$CONF"):3: unknown key 'remote_pth'.*; the running configuration stays in force$"
	printf 'sync: [\n' | write_conf
	mark=$(log_mark)
	hup "$mark" "error: reload: $(ere "$CONF"):1(:[0-9]+)?: .*; the running configuration stays in force$"
	assert_poni_alive
	echo after >"$T/src/after"
	wait_same_file "$T/src/after" "$T/dst/after" 5
	printf '%s\n' "$good" | write_conf
	mark=$(log_mark)
	hup "$mark" "reloaded .*: 1 sync unchanged"
	echo again >"$T/src/again"
	wait_same_file "$T/src/again" "$T/dst/again" 5
	stop_poni_ok TERM
}

# --- SIGHUP: the log file --------------------------------------------------------

# logrotate: the log file moved away, SIGHUP, new lines go to a new file
# at the old path.
t_hup_reopens_log() {
	mkdir -p "$T/src"
	{
		echo "log: $T/poni.log"
		echo "sync:"
		sync_local "$T/src/" "$T/dst"
	} | write_conf
	start_poni "$CONF"
	wait_runs 1
	mv "$T/poni.log" "$T/poni.log.1"
	kill -HUP "$PONI_PID"
	wait_until 5 test -s "$T/poni.log" || fail "$TEST_NAME" "no new log file after SIGHUP"
	echo x >"$T/src/x"
	wait_same_file "$T/src/x" "$T/dst/x" 5
	wait_log ": ok in [0-9.]+ s \(1 path\)" 5
	assert_not_contains "$T/poni.log.1" "\(1 path\)"
	assert_eq "$(grep -c ': ok in ' "$T/poni.log.1")" 1 "runs in the old log file"
	assert_contains "$T/poni.log.1" "\(full\)"
	stop_poni_ok TERM
	assert_contains "$T/poni.log" "stopped"
}

# --- SIGUSR1 ---------------------------------------------------------------------

# Idle syncs: one line each, with the watches, the last success and no
# error; a run logged after the answer comes after both lines, and
# there are no more than two.
t_usr1_status_idle() {
	local mark
	mkdir -p "$T/a/sub" "$T/b"
	{
		echo "sync:"
		sync_local "$T/a/" "$T/a.dst"
		sync_local "$T/b/" "$T/b.dst"
	} | write_conf
	start_poni "$CONF"
	wait_runs 2
	wait_idle 2
	mark=$(log_mark)
	kill -USR1 "$PONI_PID"
	wait_poni 5 status_count_is 2 "$mark" || fail "$TEST_NAME" "no status lines"
	status_lines "$mark" | grep -Eq "status: sync $(ere "$T/a/ -> $T/a.dst"): idle, watches: 2, last ok $TS, last error never$" ||
		fail "$TEST_NAME" "bad status line for a: $(status_lines "$mark" | head -n 1)"
	status_lines "$mark" | grep -Eq "status: sync $(ere "$T/b/ -> $T/b.dst"): idle, watches: 1, last ok $TS, last error never$" ||
		fail "$TEST_NAME" "bad status line for b: $(status_lines "$mark" | tail -n 1)"
	# a barrier: every line of that answer is in the log before this run's
	echo x >"$T/a/x"
	wait_log_since "$mark" ": ok in "
	assert_eq "$(status_lines "$mark" | wc -l)" 2 "status lines"
	stop_poni_ok TERM
}

t_usr1_status_backing_off() {
	mkdir -p "$T/src"
	touch "$T/blocker"
	{
		echo "sync:"
		sync_local "$T/src/" "$T/blocker/dst"
	} | write_conf
	start_poni "$CONF"
	wait_log "retry in 2\.000 s"
	poni_status | grep -Eq "status: sync $(ere "$T/src/ -> $T/blocker/dst"): backing off \(next try in [0-9.]+ s\), watches: 1, last ok never, last error $TS: rsync exit [0-9]+ \(.*\)" ||
		fail "$TEST_NAME" "bad status line: $(status_lines 0 | tail -n 1)"
	stop_poni_ok TERM
}

# A change waiting for its interval (pending), then its run (held by
# the rsync wrapper: running), during which a file changes (changed
# since the run began): that change arrives by exactly one run after.
t_usr1_status_pending_running() {
	local mark label calls
	mkdir -p "$T/src"
	make_rsync_wrapper
	mirror_conf "interval: 3" "rsync: $T/bin/rsync"
	start_poni "$CONF"
	wait_runs 1
	wait_idle
	label=$(ere "$T/src/ -> $T/dst")
	calls=$(rsync_calls)
	mark=$(log_mark)
	touch "$T/rsync-hold"
	echo one >"$T/src/one"
	wait_status "status: sync $label: pending \(next try in [0-3]\.[0-9] s\), watches: 1, last ok $TS, last error never$"
	wait_poni 5 calls_at_least $((calls + 1)) || fail "$TEST_NAME" "the run does not start"
	wait_status "status: sync $label: running, watches: 1, "
	echo during >"$T/src/during"
	wait_status "status: sync $label: running, changed since the run began, watches: 1, "
	rm "$T/rsync-hold"
	wait_same_file "$T/src/one" "$T/dst/one" 5
	wait_same_file "$T/src/during" "$T/dst/during" 10
	wait_idle
	assert_eq "$(runs_of "$T/src/" "$mark")" 2 "runs: the held one and one more"
	stop_poni_ok TERM
}

# --- SIGTERM and SIGINT ------------------------------------------------------------

# stop_idle SIG: poni idle after its initial sync exits 0 on SIG,
# leaving nothing behind.
stop_idle() {
	mkdir -p "$T/src"
	echo 1 >"$T/src/one"
	mirror_conf
	start_poni "$CONF"
	wait_runs 1
	stop_poni_ok "$1"
	assert_eq "$(mine "$T")" "" "processes left"
}

t_sigterm_exits_0() {
	stop_idle TERM
}

t_sigint_exits_0() {
	stop_idle INT
}

# an rsync --server of the test's sshd (a transfer under way)
remote_rsync_running() {
	local p
	for p in $(descendants "$SSHD_PID"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'rsync --server' && return 0
	done
	return 1
}

# SIGTERM during a long rsync over ssh (slowed with --bwlimit): rsync
# gets its 3 s, then is stopped; poni exits 0 within about 4 s, removes
# its pidfile and leaves no rsync, ssh or sshd session behind.
t_sigterm_long_rsync_ssh() {
	local t0 st took
	start_sshd
	mkdir -p "$T/src"
	head -c 20000000 /dev/urandom >"$T/src/big"
	make_rsync_wrapper --bwlimit=2000
	{
		echo "sync:"
		sync_ssh "$T/src/" "$T/dst" "rsync: $T/bin/rsync"
	} | write_conf
	start_poni "$CONF" -p "$T/poni.pid"
	wait_poni 10 remote_rsync_running || fail "$TEST_NAME" "no transfer started"
	poni_rsync_running || fail "$TEST_NAME" "rsync no longer runs (too fast?)"
	assert_eq "$(cat "$T/poni.pid")" "$PONI_PID" "pidfile"
	t0=$(now_us)
	stop_poni TERM
	st=$?
	took=$(elapsed "$t0")
	assert_eq "$st" 0 "exit status"
	in_range "$took" 2.5 5.5 || fail "$TEST_NAME" "poni took $took s to stop, want 3 to 5 s"
	assert_absent "$T/poni.pid"
	assert_nothing_left
}

stubborn_running() {
	[ -n "$(mine "$T/stubborn-child")" ]
}

# An rsync that does not stop on SIGTERM (a stand-in: a bash script that
# notes the time of each SIGTERM and survives it, and a child that
# ignores it), poni stopped with SIGINT: it sends SIGTERM to the process
# group 3 s later, SIGKILL 1 s after that; exit 0, nothing left.
t_sigint_stubborn_rsync_killed() {
	local t0 st took term
	mkdir -p "$T/src" "$T/bin"
	# (its sleeps are what a stubborn process does: nothing, for long)
	cat >"$T/bin/rsync" <<-EOF
		#!/bin/bash
		trap 'echo "\$EPOCHREALTIME" >>"$T/term-at"' TERM
		(trap '' TERM; exec -a "$T/stubborn-child" sleep 60) &
		while :; do sleep 0.1; done
	EOF
	chmod +x "$T/bin/rsync"
	mirror_conf "rsync: $T/bin/rsync"
	start_poni "$CONF" -p "$T/poni.pid"
	wait_poni 10 stubborn_running || fail "$TEST_NAME" "the stand-in did not start"
	t0=$(now_us)
	stop_poni INT
	st=$?
	took=$(elapsed "$t0")
	assert_eq "$st" 0 "exit status"
	[ -s "$T/term-at" ] || fail "$TEST_NAME" "the running rsync got no SIGTERM"
	term=$(awk -v t0="$t0" '{ printf "%.3f\n", ($1 * 1e6 - t0) / 1e6; exit }' "$T/term-at")
	in_range "$term" 2.8 3.6 || fail "$TEST_NAME" "rsync got SIGTERM $term s after poni got SIGINT, want 3 s"
	in_range "$took" 3.8 5.5 || fail "$TEST_NAME" "poni took $took s to stop, want about 4 s"
	assert_absent "$T/poni.pid"
	assert_nothing_left
}

run_selected hup_add_and_remove_sync t_hup_add_and_remove_sync
run_selected hup_unchanged_keeps_pending t_hup_unchanged_keeps_pending
run_selected hup_keeps_backoff t_hup_keeps_backoff
run_selected hup_keeps_running_run t_hup_keeps_running_run
run_selected hup_broken_config t_hup_broken_config
run_selected hup_reopens_log t_hup_reopens_log
run_selected usr1_status_idle t_usr1_status_idle
run_selected usr1_status_backing_off t_usr1_status_backing_off
run_selected usr1_status_pending_running t_usr1_status_pending_running
run_selected sigterm_exits_0 t_sigterm_exits_0
run_selected sigint_exits_0 t_sigint_exits_0
run_selected sigterm_long_rsync_ssh t_sigterm_long_rsync_ssh
run_selected sigint_stubborn_rsync_killed t_sigint_stubborn_rsync_killed
finish
