#!/bin/bash
# tests/run.sh [TEST...]: run poni's tests and count the results.
#
# Runs every tests/unit_* program (built by make) and every tests/sys_*.sh,
# or only the ones named (sys_local.sh, tests/sys_ssh.sh, unit_yaml, ...).
# Each prints "PASS name", "FAIL name: reason" or "SKIP name: reason" lines,
# which are counted. The last line is "N passed, N failed" (", N skipped"
# when some were). Exits 1 when a test failed, or when a program exited
# non-zero without printing a FAIL line (that counts as one failure named
# after the program).
#
# TEST_JOBS (default 2) programs run at the same time, each test file
# having its own workspaces, ports and processes; the output of each is
# kept until it ends, then printed whole with its time. The longest start
# first. A file with the line "# run.sh: alone" (one that changes
# something for the whole machine, as an fs.inotify sysctl) runs after
# the others, with nothing beside it. With TEST_JOBS=1 every program runs
# in turn and its lines are shown as they come.

cd "$(dirname "$0")/.." || exit 1

# Longest a single test program may run, in seconds.
LIMIT=${TEST_TIMEOUT:-600}
JOBS=${TEST_JOBS:-2}

# The files that take longest (about a minute or more), started first so
# that the lanes end together.
LONG=(sys_asan.sh sys_router.sh sys_moves_ssh.sh sys_churn.sh sys_ssh.sh sys_mounts.sh
	sys_failures.sh sys_tree.sh sys_exact.sh sys_hostile.sh sys_sftp.sh sys_signals.sh
	sys_moves.sh sys_runs.sh sys_attrs.sh sys_fuzz.sh)

progs=()
if [ $# -gt 0 ]; then
	for a in "$@"; do
		a=tests/${a##*/}
		if [ ! -e "$a" ] && [ -e "$a.sh" ]; then
			a=$a.sh
		fi
		progs+=("$a")
	done
else
	for f in tests/unit_*; do
		case $f in *.c | *.o | *.h) continue ;; esac
		[ -f "$f" ] && [ -x "$f" ] && progs+=("$f")
	done
	for f in "${LONG[@]}"; do
		[ -f "tests/$f" ] && progs+=("tests/$f")
	done
	for f in tests/sys_*.sh; do
		case " ${LONG[*]} " in *" ${f#tests/} "*) continue ;; esac
		[ -f "$f" ] && progs+=("$f")
	done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/poni-run.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# run_one I SHOW: run progs[I], its output (and a FAIL line when it exits
# non-zero without one, and its time) in $work/I.out; with SHOW, each
# line is shown as it comes too.
run_one() {
	local p=${progs[$1]} out=$work/$1.out show=$2 name st t0
	name=${p##*/}
	t0=${EPOCHREALTIME/./}
	: >"$out"
	[ -n "$show" ] && echo "== $name"
	if [ ! -f "$p" ]; then
		echo "FAIL $name: no such test" >>"$out"
		st=1
	else
		local cmd=("./$p")
		case $p in *.sh) cmd=(bash "$p") ;; esac
		if [ -n "$show" ]; then
			timeout -k 10 "$LIMIT" "${cmd[@]}" </dev/null 2>&1 | tee -a "$out"
			st=${PIPESTATUS[0]}
		else
			timeout -k 10 "$LIMIT" "${cmd[@]}" </dev/null >>"$out" 2>&1
			st=$?
		fi
	fi
	if [ "$st" != 0 ] && ! grep -q '^FAIL ' "$out"; then
		if [ "$st" = 124 ]; then
			echo "FAIL $name: timed out after $LIMIT s"
		else
			echo "FAIL $name: exited with status $st"
		fi >>"$out"
		[ -n "$show" ] && tail -n 1 "$out"
	fi
	echo "   ($name: $(((${EPOCHREALTIME/./} - t0) / 1000000)) s)" >>"$out"
	[ -n "$show" ] && tail -n 1 "$out"
	return 0
}

# lane: take the next of the shared programs (the counter in $work/next,
# under a lock) until none is left; print each one's output whole.
lane() {
	local i
	while :; do
		{
			flock 8
			i=$(<"$work/next")
			echo $((i + 1)) >"$work/next"
		} 8>>"$work/next.lock"
		[ "$i" -lt "${#shared[@]}" ] || return 0
		run_one "${shared[i]}" ""
		{
			flock 8
			echo "== ${progs[${shared[i]}]##*/}"
			cat "$work/${shared[i]}.out"
		} 8>>"$work/print.lock"
	done
}

shared=() alone=()
for i in "${!progs[@]}"; do
	if grep -qs '^# run.sh: alone$' "${progs[i]}"; then
		alone+=("$i")
	else
		shared+=("$i")
	fi
done
[ "${#shared[@]}" -gt 1 ] || JOBS=1

if [ "$JOBS" -gt 1 ]; then
	echo 0 >"$work/next"
	pids=()
	for ((j = 0; j < JOBS; j++)); do
		lane &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in "${alone[@]}"; do
		run_one "$i" show
	done
else
	for i in "${shared[@]}" "${alone[@]}"; do
		run_one "$i" show
	done
fi

passed=0 failed=0 skipped=0
for i in "${!progs[@]}"; do
	out=$work/$i.out
	passed=$((passed + $(grep -c '^PASS ' "$out")))
	skipped=$((skipped + $(grep -c '^SKIP ' "$out")))
	failed=$((failed + $(grep -c '^FAIL ' "$out")))
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
