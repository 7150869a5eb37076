#!/bin/sh
# poni and its unit tests built with -fsanitize=address,undefined (glibc),
# then the unit tests and the main system tests run against that build:
# any AddressSanitizer, LeakSanitizer (leaks at exit included) or
# UBSan report fails. Reports go to files, so none can hide in a log.
cd "$(dirname "$0")/.." || exit 1
CC=${ASAN_CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/poni-asan.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

version=$(sed -n 's/^VERSION = //p' config.mk)
cc_san() {
	$CC -std=c99 -D_GNU_SOURCE "-DVERSION=\"$version\"" -g -O1 -Wall -Wextra -Werror \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer "$@"
}
core="src/format.c src/log.c src/util.c src/yaml.c src/config.c src/config_yaml.c src/config_ini.c
	src/rsync.c src/mounts.c src/exclude.c src/match.c"
# shellcheck disable=SC2086
if ! { cc_san -o "$work/poni" src/*.c &&
	cc_san -o "$work/unit_format" tests/unit_format.c src/format.c &&
	cc_san -o "$work/unit_yaml" tests/unit_yaml.c src/yaml.c src/format.c &&
	cc_san -o "$work/unit_config" tests/unit_config.c $core &&
	cc_san -o "$work/unit_rsync" tests/unit_rsync.c $core src/spawn.c &&
	cc_san -o "$work/unit_exclude" tests/unit_exclude.c src/exclude.c src/match.c &&
	cc_san -DFSTAB_FILE='"tests/mounts/fstab"' -DUCI_FSTAB_FILE='"tests/mounts/uci"' \
		-o "$work/unit_mounts" tests/unit_mounts.c src/mounts.c src/util.c src/log.c src/format.c; } \
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
for t in unit_format unit_yaml unit_config unit_rsync unit_exclude unit_mounts; do
	if "$work/$t" >"$work/$t.out" 2>&1; then
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
	PONI="$work/poni" bash "tests/$t" </dev/null 2>&1 |
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
