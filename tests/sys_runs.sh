#!/bin/bash
# System tests: max_runs, the limit on rsyncs running at once across all
# syncs. Never more run than the limit; the queued runs start in the
# order they queued (first come, first served), so a sync that changes
# all the time does not starve the others; SIGUSR1 shows "queued"; a
# reload changes the limit without restarting syncs; --once, a retired
# sync and poni's stop leave the queue cleanly; and the peak memory of 60
# syncs starting at once, with the default and without a limit.
#
# Each sync's rsync is a wrapper ($T/bin/rsync) that writes "start NAME
# TIME" and "end NAME TIME" to $T/runs around the real rsync (NAME: the
# target's base name, d1, d2, ...): how many ran at once and in what order
# is read from there (a run stopped by SIGTERM writes its end too). While $T/hold exists a run waits before it starts
# copying, so "one runs, the others are queued" lasts as long as the test
# wants, whatever the machine's load.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# make_run_wrapper [SECONDS]: $T/bin/rsync as above; each run also
# lasts SECONDS (0) more, so that runs that may overlap do.
make_run_wrapper() {
	local real q
	real=$(command -v rsync) || fail "$TEST_NAME" "no rsync"
	q=$(printf '%q' "$T")
	mkdir -p "$T/bin"
	cat >"$T/bin/rsync" <<-EOF
		#!/bin/bash
		T=$q
		name=\${!#}
		name=\${name%/}
		name=\${name##*/}
		trap 'echo "end \$name \$EPOCHREALTIME" >>"\$T/runs"; exit 143' TERM
		echo "start \$name \$EPOCHREALTIME" >>"\$T/runs"
		while [ -e "\$T/hold" ]; do
		    sleep 0.05
		done
		sleep ${1:-0}
		$(printf '%q' "$real") "\$@"
		rc=\$?
		echo "end \$name \$EPOCHREALTIME" >>"\$T/runs"
		exit \$rc
	EOF
	chmod +x "$T/bin/rsync"
	: >"$T/runs"
}

# runs_conf N [TOP-LEVEL LINE]...: $CONF with N syncs $T/sI/ -> $T/dI
# (each source made, with one file), all through the wrapper.
runs_conf() {
	local n=$1 i
	shift
	for i in $(seq "$n"); do
		mkdir -p "$T/s$i"
		[ -e "$T/s$i/f" ] || echo "file of s$i" >"$T/s$i/f"
	done
	{
		printf '%s\n' "$@"
		echo "sync:"
		for i in $(seq "$n"); do
			sync_local "$T/s$i/" "$T/d$i" "rsync: $T/bin/rsync"
		done
	} | write_conf
}

# starts [SINCE]: how many runs started (after line SINCE of $T/runs).
starts() {
	tail -n "+$((${1:-0} + 1))" "$T/runs" | grep -c '^start '
}

starts_at_least() {
	[ "$(starts "${2:-0}")" -ge "$1" ]
}

# wait_starts N [SINCE] [SECONDS]: wait until N runs started.
wait_starts() {
	wait_poni "${3:-10}" starts_at_least "$1" "${2:-0}" ||
		fail "$TEST_NAME" "want $1 runs started, saw $(starts "${2:-0}")"
}

# peak_at_once [SINCE]: the most runs between their start and end at
# one time, from $T/runs (after line SINCE).
peak_at_once() {
	tail -n "+$((${1:-0} + 1))" "$T/runs" | sort -k3,3n |
		awk '$1 == "start" { if (++n > m) m = n } $1 == "end" { n-- } END { print m + 0 }'
}

# runs_mark: the lines in $T/runs now.
runs_mark() {
	wc -l <"$T/runs"
}

# all_synced N: every $T/sI is mirrored in $T/dI.
all_synced() {
	local i
	for i in $(seq "$1"); do
		same_tree "$T/s$i" "$T/d$i" || return 1
	done
}

wait_all_synced() {
	local i
	wait_poni "${2:-20}" all_synced "$1" && return 0
	for i in $(seq "$1"); do
		assert_same_tree "$T/s$i" "$T/d$i"
	done
}

# max_runs: 2 with 6 syncs: 2 run, 4 are queued (and SIGUSR1 says so,
# with their place in line); never more than 2 at once; the queued ones
# start in the order they queued; all 6 converge.
t_limit_2_of_6_syncs() {
	local lines queued started
	make_run_wrapper 0.3
	runs_conf 6 "max_runs: 2"
	: >"$T/hold"
	start_poni "$CONF" -v
	wait_starts 2
	wait_log_count 'queued for max_runs' 4
	lines=$(poni_status 6)
	if [ "$(printf '%s\n' "$lines" | grep -Ec ': running, ')" != 2 ] ||
		[ "$(printf '%s\n' "$lines" | grep -Ec ': queued \([1-4] of 4 in line for max_runs\), ')" != 4 ]; then
		printf '%s\n' "$lines" | detail
		fail "$TEST_NAME" "want 2 syncs running and 4 queued"
	fi
	assert_eq "$(starts)" 2 "runs started while 2 are held"
	rm -f "$T/hold"
	wait_all_synced 6
	wait_idle 6
	assert_eq "$(starts)" 6 "runs"
	[ "$(peak_at_once)" -le 2 ] ||
		fail "$TEST_NAME" "$(peak_at_once) rsyncs ran at once with max_runs: 2"
	# first come, first served: the starts after the first two are in
	# the order the syncs queued
	queued=$(sed -n 's/^.* debug: sync .* -> \(.*\): queued for max_runs.*/\1/p' "$T/poni.log" |
		sed 's#.*/##' | tr '\n' ' ')
	# (poni's own "running" lines: two wrappers started in the same
	# moment may write their records in either order)
	started=$(sed -n 's/^.* debug: sync .* -> \(.*\): running .*/\1/p' "$T/poni.log" |
		sed 's#.*/##' | tail -n +3 | tr '\n' ' ')
	assert_eq "$started" "$queued" "order of the queued runs' starts"
}

# max_runs: 1, one sync changed all the time by a writer: the others,
# each changed once, all get their run while the busy one makes at most
# two runs.
t_busy_sync_does_not_starve_others() {
	local mark i busy last
	make_run_wrapper 0.1
	runs_conf 5 "max_runs: 1"
	start_poni "$CONF"
	wait_all_synced 5
	wait_idle 5
	: >"$T/writing"
	(
		n=0
		while [ -e "$T/writing" ]; do
			echo "$((n += 1))" >"$T/s1/w" 2>/dev/null
			nap 0.02
		done
	) &
	mark=$(runs_mark)
	wait_starts 2 "$mark"
	mark=$(runs_mark)
	for i in 2 3 4 5; do
		echo changed >"$T/s$i/g"
	done
	wait_poni 20 all_synced_but_first 5 ||
		fail "$TEST_NAME" "the other syncs did not all get their run within 20 s"
	rm -f "$T/writing"
	# the busy sync's starts before the last of the others' first ones
	last=$(tail -n "+$((mark + 1))" "$T/runs" | grep '^start ' | sort -k3,3n |
		awk '$2 != "d1" && !seen[$2]++ { n = NR } END { print n }')
	busy=$(tail -n "+$((mark + 1))" "$T/runs" | grep '^start ' | sort -k3,3n |
		head -n "$last" | grep -c '^start d1 ')
	[ "$busy" -le 2 ] || {
		tail -n "+$((mark + 1))" "$T/runs" | sort -k3,3n | detail
		fail "$TEST_NAME" "the busy sync ran $busy times before the others all ran"
	}
	[ "$(peak_at_once)" -le 1 ] ||
		fail "$TEST_NAME" "$(peak_at_once) rsyncs ran at once with max_runs: 1"
}

# all_synced_but_first N: $T/s2..N are mirrored (s1 keeps changing).
all_synced_but_first() {
	local i
	for i in $(seq 2 "$1"); do
		same_tree "$T/s$i" "$T/d$i" || return 1
	done
}

# -t shows max_runs, its default too; bad values are refused with the
# file, the line and the range to use, by -t and by a reload (which
# keeps the running configuration).
t_max_runs_checked() {
	local v
	mkdir -p "$T/src"
	mirror_conf
	assert_exit 0 "$PONI" -t -c "$CONF"
	assert_contains "$T/out" '^max_runs: 4 \(rsyncs at once, across all syncs\)$'
	for v in 0 1001 -1 four 2.5; do
		{ echo "max_runs: $v"; echo "sync:"; sync_local "$T/src/" "$T/dst"; } | write_conf
		assert_exit 1 "$PONI" -t -c "$CONF"
		assert_contains "$T/err" "^poni: $(ere "$CONF"):1: max_runs: '$(ere "$v")' is not a number of rsyncs to run at once: use 1 to 1000$"
	done
	{ echo "sync:"; sync_local "$T/src/" "$T/dst" "max_runs: 2"; } | write_conf
	assert_exit 1 "$PONI" -t -c "$CONF"
	assert_contains "$T/err" ":[0-9]+: max_runs belongs at the top level, not in a sync"
	{ echo "max_runs: 1000"; echo "sync:"; sync_local "$T/src/" "$T/dst"; } | write_conf
	assert_exit 0 "$PONI" -t -c "$CONF"
	assert_contains "$T/out" '^max_runs: 1000 '
}

# A reload raises max_runs from 1 to 3: the two queued runs start at
# once, beside the one that runs, and no sync is restarted; a bad value
# is refused and the limit in force stays; lowered to 1 again, the next
# changes run one at a time.
t_reload_changes_max_runs() {
	local mark i
	make_run_wrapper 0.2
	runs_conf 3 "max_runs: 1"
	: >"$T/hold"
	start_poni "$CONF"
	wait_starts 1
	wait_status ': queued \(2 of 2 in line for max_runs\)' 3
	mark=$(log_mark)
	runs_conf 3 "max_runs: 3"
	kill -HUP "$PONI_PID"
	wait_log_since "$mark" 'info: reload: max_runs 3, was 1$'
	wait_log_since "$mark" 'reloaded .*: 3 syncs unchanged, 0 added, 0 removed'
	wait_starts 3
	[ -e "$T/hold" ] || fail "$TEST_NAME" "(the hold is gone)"
	rm -f "$T/hold"
	wait_all_synced 3
	wait_idle 3
	# a bad value: refused, the limit in force (3) stays
	mark=$(log_mark)
	runs_conf 3 "max_runs: 0"
	kill -HUP "$PONI_PID"
	wait_log_since "$mark" "error: reload: $(ere "$CONF"):1: max_runs: '0' is not a number .*: use 1 to 1000; the running configuration stays in force"
	assert_poni_alive
	# lowered to 1: three changes run one at a time
	mark=$(log_mark)
	runs_conf 3 "max_runs: 1"
	kill -HUP "$PONI_PID"
	wait_log_since "$mark" 'info: reload: max_runs 1, was 3$'
	mark=$(runs_mark)
	for i in 1 2 3; do
		echo again >"$T/s$i/g"
	done
	wait_all_synced 3
	wait_idle 3
	[ "$(peak_at_once "$mark")" -le 1 ] ||
		fail "$TEST_NAME" "$(peak_at_once "$mark") rsyncs ran at once after lowering max_runs to 1"
}

# A queued sync removed by a reload leaves the queue: the others still
# get their turns, the removed one never runs; removing the running
# one (its rsync is stopped) passes its turn on.
t_retired_syncs_leave_the_queue() {
	local mark
	make_run_wrapper
	runs_conf 4 "max_runs: 1"
	: >"$T/hold"
	start_poni "$CONF"
	wait_starts 1
	wait_status ': queued \(3 of 3 in line for max_runs\)' 4
	# the running one is d1 (first in the file); drop d1 and d3
	mark=$(log_mark)
	{
		echo "max_runs: 1"
		echo "sync:"
		sync_local "$T/s2/" "$T/d2" "rsync: $T/bin/rsync"
		sync_local "$T/s4/" "$T/d4" "rsync: $T/bin/rsync"
	} | write_conf
	kill -HUP "$PONI_PID"
	wait_log_since "$mark" 'reloaded .*: 2 syncs unchanged, 0 added, 2 removed'
	wait_starts 2
	rm -f "$T/hold"
	wait_poni 20 all_of same_tree "$T/s2" "$T/d2" -- same_tree "$T/s4" "$T/d4" ||
		fail "$TEST_NAME" "s2 and s4 not synced after s1 and s3 were removed"
	wait_idle 2
	assert_absent "$T/d3"
	[ "$(grep -c '^start d3 ' "$T/runs")" = 0 ] || fail "$TEST_NAME" "the removed queued sync ran"
	[ "$(peak_at_once)" -le 1 ] ||
		fail "$TEST_NAME" "$(peak_at_once) rsyncs ran at once with max_runs: 1"
}

# all_of CMD1... -- CMD2...: both succeed.
all_of() {
	local a=()
	while [ "$1" != -- ]; do
		a+=("$1")
		shift
	done
	shift
	"${a[@]}" && "$@"
}

# poni stops with runs queued: the queue still drains in turn while the
# grace lasts (all three synced, nothing reported unsynced).
t_stop_drains_the_queue() {
	local mark
	make_run_wrapper 0.1
	runs_conf 3 "max_runs: 1"
	start_poni "$CONF"
	wait_all_synced 3
	wait_idle 3
	: >"$T/hold"
	mark=$(runs_mark)
	echo 1 >"$T/s1/g"
	wait_starts 1 "$mark"
	echo 2 >"$T/s2/g"
	echo 3 >"$T/s3/g"
	wait_status ': queued \(2 of 2 in line for max_runs\)' 3
	kill -TERM "$PONI_PID"
	wait_log 'stopping on SIGTERM'
	rm -f "$T/hold"
	stop_poni_ok TERM
	all_synced 3 || fail "$TEST_NAME" "the queued runs were not made at the stop"
	assert_not_contains "$T/poni.log" 'not synced'
	[ "$(peak_at_once)" -le 1 ] ||
		fail "$TEST_NAME" "$(peak_at_once) rsyncs ran at once with max_runs: 1"
}

# poni stops while a run hangs and two are queued: the stop stays
# bounded (the grace, then the hung rsync is stopped), the queued ones
# never start and are named as not synced.
t_stop_with_a_hung_run_stays_bounded() {
	local t0
	make_run_wrapper
	runs_conf 3 "max_runs: 1"
	: >"$T/hold"
	start_poni "$CONF"
	wait_starts 1
	wait_status ': queued \(2 of 2 in line for max_runs\)' 3
	t0=$(now_us)
	stop_poni TERM
	[ $(($(now_us) - t0)) -lt 8000000 ] || fail "$TEST_NAME" "the stop took over 8 s"
	assert_eq "$(starts)" 1 "runs started"
	assert_contains "$T/poni.log" "sync $(ere "$T/s2/") -> .*: stopping with a full run not synced: no time was left to run it: it was queued for max_runs"
	assert_contains "$T/poni.log" "sync $(ere "$T/s3/") -> .*: stopping with a full run not synced: no time was left to run it: it was queued for max_runs"
}

# --once with max_runs: 1 and 4 syncs: each runs in turn, poni exits 0.
t_once_with_a_queue() {
	make_run_wrapper
	runs_conf 4 "max_runs: 1"
	assert_exit 0 timeout 30 "$PONI" -c "$CONF" --once
	all_synced 4 || fail "$TEST_NAME" "not every sync was made by --once"
	assert_eq "$(starts)" 4 "runs"
	[ "$(peak_at_once)" -le 1 ] ||
		fail "$TEST_NAME" "$(peak_at_once) rsyncs ran at once with max_runs: 1"
}

# 60 syncs starting at once (tests/peak_runs.sh): the peak summed RSS of
# poni and its children with the default max_runs (4) and with no limit
# in effect (1000), both printed. The default keeps at most 4 runs (12
# rsync processes) going; without a limit more run at once. (The memory
# itself is only printed: how many runs overlap without a limit, and so
# the peak, depends on the machine's speed; under qemu it is a third.)
t_peak_memory_of_60_syncs() {
	local with without
	with=$("$TESTS_DIR/peak_runs.sh" 60) || fail "$TEST_NAME" "peak_runs.sh 60: $with"
	without=$("$TESTS_DIR/peak_runs.sh" 60 1000) || fail "$TEST_NAME" "peak_runs.sh 60 1000: $without"
	printf '    %s\n' "$with" "$without"
	[ "$(rsyncs "$with")" -le 12 ] || fail "$TEST_NAME" "with the default: $with"
	[ "$(rsyncs "$without")" -gt 12 ] ||
		fail "$TEST_NAME" "without a limit, no more rsyncs at once than with it: $without"
}

# rsyncs LINE: the rsyncs at once in a line of peak_runs.sh (999: none found).
rsyncs() {
	local n
	n=$(printf '%s\n' "$1" | sed -n 's/.* (\([0-9]*\) rsyncs).*/\1/p')
	echo "${n:-999}"
}

run_test limit_2_of_6_syncs t_limit_2_of_6_syncs
run_test busy_sync_does_not_starve_others t_busy_sync_does_not_starve_others
run_test max_runs_checked t_max_runs_checked
run_test reload_changes_max_runs t_reload_changes_max_runs
run_test retired_syncs_leave_the_queue t_retired_syncs_leave_the_queue
run_test stop_drains_the_queue t_stop_drains_the_queue
run_test stop_with_a_hung_run_stays_bounded t_stop_with_a_hung_run_stays_bounded
run_test once_with_a_queue t_once_with_a_queue
run_test peak_memory_of_60_syncs t_peak_memory_of_60_syncs
finish
