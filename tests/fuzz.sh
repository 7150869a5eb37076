#!/bin/sh
# tests/fuzz.sh [SECONDS]: build the libFuzzer target of the config parser
# and builder (clang, -fsanitize=fuzzer,address,undefined), replay every
# regression input in tests/fuzz/regress, then fuzz for SECONDS (default
# 60) from the seeds in tests/fuzz/seeds. A crash's input is kept in
# tests/fuzz/regress (add it to git) and the run fails.
# Prints "PASS fuzz_config ..." or "FAIL ..." or "SKIP ..." for run.sh.
cd "$(dirname "$0")/.." || exit 1
seconds=${1:-60}
CLANG=${CLANG:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/poni-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP fuzz_config: no clang (apt-get install clang libclang-rt-14-dev)"
	exit 0
fi
# with inih when it is there, so that the INI front end is fuzzed too
ini_cflags='' ini_libs=''
if pkg-config --exists inih 2>/dev/null; then
	ini_cflags="-DPONI_INI $(pkg-config --cflags inih)"
	ini_libs=$(pkg-config --libs inih)
fi
# shellcheck disable=SC2086 # the flags are words
if ! "$CLANG" -std=c99 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror $ini_cflags \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$work/fuzz_config" tests/fuzz_config.c src/config.c src/config_yaml.c \
	src/config_ini.c src/yaml.c src/rsync.c src/rsync_options.c src/exclude_file.c src/mounts.c src/exclude.c src/match.c \
	src/util.c src/log.c src/format.c $ini_libs \
	2>"$work/build.log"; then
	if grep -q 'libclang_rt.fuzzer\|fuzzer.*not found\|cannot find' "$work/build.log"; then
		echo "SKIP fuzz_config: clang has no libFuzzer runtime (apt-get install libclang-rt-14-dev)"
		exit 0
	fi
	sed 's/^/    | /' "$work/build.log"
	echo "FAIL fuzz_config: the fuzz target does not build"
	exit 1
fi

# every input that ever crashed it, first
for f in tests/fuzz/regress/*; do
	case $f in */README) continue ;; esac
	[ -f "$f" ] || continue
	if ! "$work/fuzz_config" "$f" >"$work/replay.log" 2>&1; then
		sed 's/^/    | /' "$work/replay.log" | tail -30
		echo "FAIL fuzz_config: regression input $f crashes"
		exit 1
	fi
done

mkdir "$work/corpus"
cp tests/fuzz/seeds/* "$work/corpus/"
"$work/fuzz_config" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 \
	-dict=tests/fuzz/yaml.dict -artifact_prefix="$work/" -print_final_stats=1 \
	"$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
	[ -f "$crash" ] || continue
	cp "$crash" tests/fuzz/regress/
	echo "    kept $crash as tests/fuzz/regress/${crash##*/}"
done
if [ $rc -ne 0 ]; then
	grep -A30 'ERROR\|SUMMARY' "$work/fuzz.log" | head -40 | sed 's/^/    | /'
	echo "FAIL fuzz_config: libFuzzer found a problem (${runs:-?} inputs)"
	exit 1
fi
echo "PASS fuzz_config: ${runs:-?} inputs in ${seconds}s${ini_libs:+ (YAML and INI)}, no finding"
