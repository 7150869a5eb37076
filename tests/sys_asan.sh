#!/bin/sh
# poni and its unit tests built with -fsanitize=address,undefined (glibc),
# then the unit tests and the main system tests run against that build:
# any AddressSanitizer, LeakSanitizer (leaks at exit included) or
# UBSan report fails. Reports go to files, so none can hide in a log.
cd "$(dirname "$0")/.." || exit 1
CC=${ASAN_CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/poni-asan.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# Built by the Makefile (so that new modules and unit tests come along),
# in a copy of the sources of its own (the objects never mix with the
# plain build's), each object compiled once, two at a time.
san='-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined'
tree=$work/tree
if ! { mkdir -p "$tree/src" "$tree/tests" &&
	cp Makefile config.mk "$tree/" && cp src/*.c src/*.h "$tree/src/" &&
	cp tests/*.c tests/*.h "$tree/tests/" &&
	(unset MAKEFLAGS MFLAGS MAKELEVEL
		make -C "$tree" -j2 CC="$CC" CFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" poni unit); } \
	>"$work/build.log" 2>&1; then
	sed 's/^/    | /' "$work/build.log"
	echo "FAIL asan_build: poni does not build with -fsanitize=address,undefined"
	exit 1
fi
echo "PASS asan_build"

mkdir "$work/reports"
ASAN_OPTIONS="detect_leaks=1:log_path=$work/reports/asan:abort_on_error=0"
UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/reports/ubsan"
export ASAN_OPTIONS UBSAN_OPTIONS

failed=0
for u in "$tree"/tests/unit_*; do
	case $u in *.c | *.o | *.h) continue ;; esac
	[ -x "$u" ] || continue
	t=${u##*/}
	if "$u" >"$work/$t.out" 2>&1; then
		echo "PASS asan_$t"
	else
		grep '^FAIL' "$work/$t.out" | sed 's/^/    | /'
		echo "FAIL asan_$t: unit tests fail under the sanitizers"
		failed=1
	fi
done

# The system tests print their own PASS/FAIL lines, renamed here so that
# they count as the sanitizer build's. The default set drives the code
# that allocates and frees as poni runs: the watcher and its tree
# (sys_local, sys_tree), the sync engine (sys_batch), reload, the status,
# stopping and the ssh masters (sys_signals); the config parser is
# fuzzed under the same sanitizers (sys_fuzz.sh). ASAN_SYSTEM_TESTS
# chooses others.
for t in ${ASAN_SYSTEM_TESTS:-sys_local.sh sys_tree.sh sys_batch.sh sys_signals.sh}; do
	[ -f "tests/$t" ] || continue
	PONI="$tree/poni" bash "tests/$t" </dev/null 2>&1 |
		sed -e 's/^PASS /PASS asan_/' -e 's/^FAIL /FAIL asan_/' -e 's/^SKIP /SKIP asan_/'
done

if ls "$work/reports/"* >/dev/null 2>&1; then
	for r in "$work/reports/"*; do
		echo "    --- $r"
		head -40 "$r" | sed 's/^/    | /'
	done
	echo "FAIL asan_reports: the sanitizers reported problems (above)"
	exit 1
fi
echo "PASS asan_reports: no sanitizer report"
exit $failed
