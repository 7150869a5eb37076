#!/bin/bash
# tests/run.sh [TEST...]: run poni's tests and count the results.
#
# Runs every tests/unit_* program (built by make) and every tests/sys_*.sh,
# or only the ones named (sys_local.sh, tests/sys_ssh.sh, unit_yaml, ...).
# Each prints "PASS name", "FAIL name: reason" or "SKIP name: reason" lines;
# they are shown as they come and counted. The last line is
# "N passed, N failed" (", N skipped" when some were). Exits 1 when a test
# failed, or when a program exited non-zero without printing a FAIL line
# (that counts as one failure named after the program).

cd "$(dirname "$0")/.." || exit 1

# Longest a single test program may run, in seconds.
LIMIT=${TEST_TIMEOUT:-600}

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
	for f in tests/sys_*.sh; do
		[ -f "$f" ] && progs+=("$f")
	done
fi

passed=0 failed=0 skipped=0
out=$(mktemp "${TMPDIR:-/tmp}/poni-run.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

for p in "${progs[@]}"; do
	name=${p##*/}
	echo "== $name"
	t0=${EPOCHREALTIME/./}
	if [ ! -f "$p" ]; then
		echo "FAIL $name: no such test" | tee "$out"
		st=1
	else
		case $p in
		*.sh) timeout -k 10 "$LIMIT" bash "$p" </dev/null 2>&1 | tee "$out" ;;
		*) timeout -k 10 "$LIMIT" "./$p" </dev/null 2>&1 | tee "$out" ;;
		esac
		st=${PIPESTATUS[0]}
	fi
	echo "   ($name: $(((${EPOCHREALTIME/./} - t0) / 1000000)) s)"
	n=$(grep -c '^PASS ' "$out")
	passed=$((passed + n))
	n=$(grep -c '^SKIP ' "$out")
	skipped=$((skipped + n))
	n=$(grep -c '^FAIL ' "$out")
	if [ "$st" != 0 ] && [ "$n" = 0 ]; then
		if [ "$st" = 124 ]; then
			echo "FAIL $name: timed out after $LIMIT s"
		else
			echo "FAIL $name: exited with status $st"
		fi
		n=1
	fi
	failed=$((failed + n))
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
