#!/bin/bash
# tests/cross.sh [NAME...]: test the static binaries of "make cross"
# (x86_64 armhf aarch64 by default), each on its own: the unit tests
# built with its compiler (build/NAME/tests/unit_*) and the system tests
# in CROSS_TESTS with PONI=build/NAME/poni. A binary for another
# architecture runs under qemu-user (qemu-arm-static, qemu-aarch64-static);
# rsync and the other tools it starts are this machine's own.
# Prints the tests' PASS/FAIL/SKIP lines with NAME in front, then
# "N passed, N failed"; exits 1 when a test failed.

cd "$(dirname "$0")/.." || exit 1

CROSS_TESTS=${CROSS_TESTS:-sys_local.sh sys_cli.sh sys_batch.sh sys_signals.sh sys_router.sh}
LIMIT=${TEST_TIMEOUT:-600}
[ $# -gt 0 ] || set -- x86_64 armhf aarch64

# host_name: this machine's architecture, named as make cross does.
host_name() {
	case $(uname -m) in
	x86_64) echo x86_64 ;;
	aarch64 | arm64) echo aarch64 ;;
	armv7* | armv8l) echo armhf ;;
	*) uname -m ;;
	esac
}

# emulator NAME: the qemu-user that runs NAME's binaries here, nothing
# for this machine's own (fails when there is none).
emulator() {
	local q
	[ "$1" = "$(host_name)" ] && return 0
	case $1 in
	armhf) set -- qemu-arm-static qemu-arm ;;
	aarch64) set -- qemu-aarch64-static qemu-aarch64 ;;
	x86_64) set -- qemu-x86_64-static qemu-x86_64 ;;
	*) return 1 ;;
	esac
	for q in "$@"; do
		command -v "$q" && return 0
	done
	return 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/poni-cross.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
out=$work/out
passed=0 failed=0 skipped=0

# count NAME PROG STATUS: count the result lines of $out, shown with NAME
# in front; a program that failed without a FAIL line counts as one.
count() {
	local n
	sed -E "s/^(PASS|FAIL|SKIP) /\1 $1: /" "$out"
	n=$(grep -c '^PASS ' "$out")
	passed=$((passed + n))
	n=$(grep -c '^SKIP ' "$out")
	skipped=$((skipped + n))
	n=$(grep -c '^FAIL ' "$out")
	if [ "$3" != 0 ] && [ "$n" = 0 ]; then
		echo "FAIL $1: $2 exited with status $3"
		n=1
	fi
	failed=$((failed + n))
}

for name in "$@"; do
	bin=$PWD/build/$name/poni
	echo "== $name"
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: no $bin (make cross)"
		failed=$((failed + 1))
		continue
	fi
	# the budget of a router's flash: armhf, without INI, under 96 KiB
	# stripped (make cross strips)
	if [ "$name" = armhf ] && ! grep -q PONI_INI "build/$name/.build-flags" 2>/dev/null; then
		size=$(stat -c %s "$bin")
		if [ "$size" -lt 98304 ]; then
			echo "PASS $name: size_under_96_KiB ($size bytes)"
			passed=$((passed + 1))
		else
			echo "FAIL $name: size_under_96_KiB: $size bytes stripped, over the 98,304 of the budget"
			failed=$((failed + 1))
		fi
	fi
	if ! emu=$(emulator "$name"); then
		echo "FAIL $name: no qemu-user to run it (apt-get install qemu-user-static)"
		failed=$((failed + 1))
		continue
	fi
	# PONI for the system tests: the binary itself, or a script that
	# runs it under qemu. The script and qemu are both called through
	# names "poni", so that the process is named poni as on the board
	# (init.d/poni looks for the name of its DAEMON).
	poni=$bin
	if [ -n "$emu" ]; then
		mkdir -p "$work/$name/qemu"
		ln -sf "$emu" "$work/$name/qemu/poni"
		poni=$work/$name/poni
		printf '#!/bin/sh\nexec %s %s "$@"\n' "$work/$name/qemu/poni" "$bin" >"$poni"
		chmod +x "$poni"
	fi
	for t in build/"$name"/tests/unit_*; do
		case $t in *.c | *.h | *.o) continue ;; esac
		[ -x "$t" ] || continue
		echo "== $name ${t##*/}"
		# shellcheck disable=SC2086 # $emu is one word or none
		timeout -k 10 "$LIMIT" $emu "$t" </dev/null >"$out" 2>&1
		count "$name" "${t##*/}" $?
	done
	for t in $CROSS_TESTS; do
		echo "== $name $t"
		PONI=$poni timeout -k 10 "$LIMIT" bash "tests/$t" </dev/null >"$out" 2>&1
		count "$name" "$t" $?
	done
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
