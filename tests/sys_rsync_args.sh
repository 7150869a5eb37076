#!/bin/bash
# System tests: rsync's long options (rsync_args, and long options after
# the letters of rsync_opts) against the real rsync: every long option the
# installed rsync lists is known to poni (passed, or refused with the key
# to use), every option poni passes is one rsync knows, and options given
# reach rsync whole (modes from --chmod, files kept by --backup-dir).
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=20

# conf_with_arg ARG: a config whose one sync has rsync_args: [ARG].
conf_with_arg() {
	write_conf <<-EOF
		sync:
		  $T/src/:
		    remote_path: $T/dst
		    rsync_args: ["$1"]
	EOF
}

HELPER=$TESTS_DIR/rsync_arg_check

need_helper() {
	[ -x "$HELPER" ] || fail "$TEST_NAME" "no $HELPER (make check builds it, or make tests/rsync_arg_check)"
}

# The long options the installed rsync names in its --help, each with a
# value when it takes one ("--no-OPTION" of the text left out).
rsync_help_options() {
	rsync --help | grep -oE -- '--[a-z0-9][A-Za-z0-9-]*[A-Za-z0-9](=[A-Z]+)?' |
		grep -v '^--no-OPTION$' | sed 's/=.*/=1/' | sort -u
}

# Every option of the installed rsync's --help is known to poni: passed,
# or refused with the key to use; never "not an rsync option". (An
# option written without its value in the help's prose, as --suffix in
# "--backup-dir ... --suffix", is asked both ways.)
t_every_rsync_option_is_known() {
	local n
	need_helper
	rsync_help_options >"$T/help"
	{ cat "$T/help"; sed 's/=1$//' "$T/help"; } >"$T/opts"
	n=$(sort -u "$T/opts" | wc -l)
	[ "$n" -gt 100 ] || fail "$TEST_NAME" "only $n options found in rsync --help"
	"$HELPER" <"$T/opts" >"$T/verdicts"
	if grep ' is not an rsync option' "$T/verdicts" >"$T/bad"; then
		detail <"$T/bad"
		fail "$TEST_NAME" "poni does not know $(wc -l <"$T/bad") of rsync's options"
	fi
	# and the refusals say what to do instead
	grep -q '^refused --delete: --delete: use delete: true' "$T/verdicts" ||
		fail "$TEST_NAME" "--delete is not refused naming the delete key"
}

# The options poni passes (every one it knows, less the refused ones)
# are known to the installed rsync, when it is as new as the rsync the
# table was read from (3.4).
t_every_accepted_option_is_rsyncs() {
	local verdict arg bad=() version n=0
	need_helper
	version=$(rsync --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
	"$HELPER" --list >"$T/table"
	[ "$(wc -l <"$T/table")" -gt 150 ] || fail "$TEST_NAME" "poni lists $(wc -l <"$T/table") options"
	"$HELPER" <"$T/table" >"$T/verdicts"
	# rsync runs in $T: --log-file=1 --version writes the file "1"
	while read -r verdict arg; do
		[ "$verdict" = ok ] || continue
		n=$((n + 1))
		if (cd "$T" && rsync "$arg" --version 2>&1 >/dev/null) | grep -q "unknown option"; then
			bad+=("$arg")
		fi
	done <"$T/verdicts"
	[ "$n" -gt 150 ] || fail "$TEST_NAME" "only $n options passed"
	if [ ${#bad[@]} -gt 0 ]; then
		if [ "$(printf '%s\n' "$version" 3.4 | sort -V | head -n 1)" != 3.4 ]; then
			skip "$TEST_NAME" "rsync $version is older than 3.4 and does not know: ${bad[*]}"
		fi
		fail "$TEST_NAME" "rsync $version does not know: ${bad[*]}"
	fi
}

# Options given reach rsync whole: --chmod sets the replica's modes,
# --backup with --backup-dir (a path with spaces and quotes) keeps what a
# run replaces; long options after rsync_opts' letters, with the value as
# the next word as the original Poni's users wrote them, work too.
t_options_reach_rsync() {
	local old="$T/old dir 'q'"
	mkdir -p "$T/src/d"
	echo 1 >"$T/src/d/f"
	write_conf <<-EOF
		sync:
		$(sync_local "$T/src/" "$T/dst" "rsync_opts: az --chmod D750,F640")
		    rsync_args:
		      - --backup
		      - "--backup-dir=$old"
	EOF
	assert_exit 0 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/out" "rsync -az --chmod=D750,F640 --backup --backup-dir=$old, interval"
	start_poni "$CONF"
	wait_same_tree "$T/src" "$T/dst" 10
	assert_eq "$(stat -c %a "$T/dst/d/f")" 640 "mode of the replica's file"
	assert_eq "$(stat -c %a "$T/dst/d")" 750 "mode of the replica's directory"
	echo 2 >"$T/src/d/f"
	wait_poni 10 test -f "$old/d/f" || fail "$TEST_NAME" "the replaced file was not kept in $old"
	assert_eq "$(cat "$old/d/f")" 1 "the kept file"
	assert_eq "$(cat "$T/dst/d/f")" 2 "the new file"
	stop_poni_ok TERM
}

t_refusals_name_the_key() {
	mkdir -p "$T/src"
	conf_with_arg "--delete-after"
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "^poni: $CONF:4: rsync_args: --delete-after: use delete: true"
	conf_with_arg "--exclude-from=list"
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "^poni: $CONF:4: rsync_args: --exclude-from: use exclude"
	conf_with_arg "--numeric-id"
	assert_exit 1 timeout "$LIMIT" "$PONI" -t -c "$CONF"
	assert_contains "$T/err" "^poni: $CONF:4: rsync_args: '--numeric-id' is not an rsync option \(did you mean --numeric-ids\?\)"
	# and a real start refuses it the same way
	assert_exit 1 timeout 5 "$PONI" -c "$CONF"
}

run_test every_rsync_option_is_known t_every_rsync_option_is_known
run_test every_accepted_option_is_rsyncs t_every_accepted_option_is_rsyncs
run_test options_reach_rsync t_options_reach_rsync
run_test refusals_name_the_key t_refusals_name_the_key
finish
