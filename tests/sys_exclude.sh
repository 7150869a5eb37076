#!/bin/bash
# System tests: poni's exclude rules against real rsync. tests/exclude_rsync
# (built by make check) gives random patterns to rsync over random trees
# and compares what rsync transfers with what poni's matcher excludes;
# then the values that rsync's --exclude reads as rules, which poni
# refuses. EXCLUDE_SEED=N replays a run, EXCLUDE_PATTERNS=N sets how many
# patterns (2000).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

HELPER=$TESTS_DIR/exclude_rsync

need_rsync() {
	command -v rsync >/dev/null || skip "$TEST_NAME" "rsync is not installed"
}

t_random_patterns_as_rsync() {
	local seed=${EXCLUDE_SEED:-$(((RANDOM << 15) | RANDOM))} n=${EXCLUDE_PATTERNS:-2000} st
	need_rsync
	[ -x "$HELPER" ] || fail "$TEST_NAME" "no $HELPER (make check builds it, or make tests/exclude_rsync)"
	TMPDIR=$T "$HELPER" -s "$seed" -n "$n" >"$T/out" 2>&1
	st=$?
	if [ "$st" != 0 ]; then
		detail <"$T/out"
		fail "$TEST_NAME" "poni and rsync differ (status $st); replay: EXCLUDE_SEED=$seed EXCLUDE_PATTERNS=$n tests/run.sh sys_exclude.sh"
	fi
	sed 's/^/    /' "$T/out"
}

# excluded_by_rsync PATTERN: the names in $T/src that rsync's
# --exclude=PATTERN leaves out, one a line, sorted.
excluded_by_rsync() {
	rsync -n -r --out-format=%n --exclude="$1" "$T/src/" "$T/dst" >"$T/sent" ||
		fail "$TEST_NAME" "rsync refused --exclude='$1'"
	find "$T/src" -mindepth 1 -printf '%P\n' | sort >"$T/all"
	sort "$T/sent" | comm -23 "$T/all" -
}

t_rule_prefixes() {
	local p want
	need_rsync
	mkdir -p "$T/src"
	for p in a '- a' '+ a' '!' '!a' '-a' '+a' '-, a' '-! a' '+, a' ' - a'; do
		: >"$T/src/$p"
	done
	# rsync reads these as rules, not as names: poni refuses them
	assert_eq "$(excluded_by_rsync '- a')" a "what rsync's --exclude='- a' leaves out"
	assert_eq "$(excluded_by_rsync '+ a')" "" "what rsync's --exclude='+ a' leaves out"
	assert_eq "$(excluded_by_rsync '!')" "" "what rsync's --exclude='!' leaves out"
	for p in '- a' '+ a' '!' '- '; do
		mirror_conf "exclude: ['$p']"
		assert_exit 1 "$PONI" -t -c "$CONF"
		assert_contains "$T/err" "poni\.yml:[0-9]+: exclude: .*(leave it out|write)"
	done
	# and these as the names they are: poni takes them
	for p in '!a' '-a' '+a' '-, a' '-! a' '+, a' ' - a' '[-] a' '[+] a'; do
		case $p in
		'[-] a') want='- a' ;;
		'[+] a') want='+ a' ;;
		*) want=$p ;;
		esac
		assert_eq "$(excluded_by_rsync "$p")" "$want" "what rsync's --exclude='$p' leaves out"
		mirror_conf "exclude: ['$p']"
		assert_exit 0 "$PONI" -t -c "$CONF"
	done
}

run_test random_patterns_as_rsync t_random_patterns_as_rsync
run_test rule_prefixes t_rule_prefixes
finish
