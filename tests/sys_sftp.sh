#!/bin/bash
# System tests: renames on an ssh target through the sftp subsystem of a
# real sshd (src/sshrename.c, driven by tests/sftp_try in poni's event
# loop): hostile names, never over an existing target, one failure does
# not stop the others, no link on the target followed, directories made
# for a new place, through an ssh master, an external sftp-server,
# no sftp subsystem at all, an answer that is not SFTP or none, a batch
# larger than the pipes, and Dropbear's dbclient and server.
# ONLY=ERE picks tests by name.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_router.sh
. "$(dirname "$0")/lib_router.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

HELPER=$TESTS_DIR/sftp_try

need_helper() {
	[ -x "$HELPER" ] || fail "$TEST_NAME" "no $HELPER (make check builds it, or make tests/sftp_try)"
}

# try [-S CONTROL] [-e SSH] FROM TO...: rename $T/dst/FROM to $T/dst/TO
# on the test's sshd; "ok"/"no" lines and the error in $T/try.out.
try() {
	local control='' ssh=ssh
	while :; do
		case $1 in
		-S) control=$2 && shift 2 ;;
		-e) ssh=$2 && shift 2 ;;
		*) break ;;
		esac
	done
	"$HELPER" "$ssh" "$SSH_PORT" "$SSH_KEY" "$SSH_USER" 127.0.0.1 "$KNOWN_HOSTS" "$control" \
		"$T/dst" "$@" >"$T/try.out" 2>"$T/try.err" ||
		fail "$TEST_NAME" "sftp_try failed: $(cat "$T/try.err")"
}

# answers: the ok/no lines of the last try, on one line.
answers() {
	grep -v '^error: ' "$T/try.out" | tr '\n' ' ' | sed 's/ $//'
}

assert_answers() {
	if [ "$(answers)" != "$1" ]; then
		cat "$T/try.out" "$T/try.err" | detail
		fail "$TEST_NAME" "answers '$(answers)', want '$1'"
	fi
}

ino() {
	stat -c %i "$1"
}

# restart_sshd_edited SED: the test's sshd again on its port, its config edited.
restart_sshd_edited() {
	stop_sshd
	sed -i "$1" "$T/sshd_config"
	"$SSHD" -D -e -f "$T/sshd_config" >>"$T/sshd.log" 2>&1 {NAP_FD}>&- &
	SSHD_PID=$!
	wait_until 10 listening "$SSH_PORT" "$SSHD_PID" || {
		detail <"$T/sshd.log"
		fail "$TEST_NAME" "sshd did not start again"
	}
}

NL=$'new\nline'
QUOTES="it's \"quoted\" \\ \$HOME \`id\`"
DASH="-n --help"
BYTES=$'\xff\xfe not utf-8 \xc3('
SPACES=" spaces  at both ends "
DIR=$'dir\n-with; rm -rf ~'

hostile_tree() {
	mkdir -p "$T/dst/$DIR/sub"
	echo nl >"$T/dst/$NL"
	echo quotes >"$T/dst/$QUOTES"
	echo dash >"$T/dst/$DASH"
	echo bytes >"$T/dst/$BYTES"
	echo spaces >"$T/dst/$SPACES"
	echo inside >"$T/dst/$DIR/sub/$NL"
}

# Files and a directory with hostile names, renamed to other hostile
# names (into the directory too): each one confirmed, the same inode
# under the new name, nothing left under the old.
t_sftp_renames_hostile_names() {
	local f i_nl i_dir
	need_helper
	start_sshd
	hostile_tree
	i_nl=$(ino "$T/dst/$NL")
	i_dir=$(ino "$T/dst/$DIR")
	try "$NL" "$BYTES.2" "$QUOTES" "$DASH.2" "$DASH" "$NL" "$BYTES" "$SPACES.2" \
		"$SPACES" "$DIR/$QUOTES" "$DIR" "$QUOTES"
	assert_answers "ok ok ok ok ok ok"
	assert_eq "$(ino "$T/dst/$BYTES.2")" "$i_nl" "inode of the renamed file"
	assert_eq "$(ino "$T/dst/$QUOTES")" "$i_dir" "inode of the renamed directory"
	for f in "$BYTES.2:nl" "$DASH.2:quotes" "$NL:dash" "$SPACES.2:bytes" \
		"$QUOTES/$QUOTES:spaces" "$QUOTES/sub/$NL:inside"; do
		assert_eq "$(cat "$T/dst/${f%:*}")" "${f##*:}" "content of ${f%:*}"
	done
	for f in "$DASH" "$BYTES" "$SPACES" "$DIR"; do
		assert_absent "$T/dst/$f"
	done
	assert_contains "$T/try.out" '^error: $'
}

# A rename onto anything that exists fails, and changes nothing: a file
# onto a file, a directory onto a directory (empty or not), a file onto
# a directory, a directory onto a file.
t_sftp_rename_never_overwrites() {
	need_helper
	start_sshd
	hostile_tree
	mkdir "$T/dst/empty"
	cp -a "$T/dst" "$T/before"
	try "$NL" "$QUOTES" "$DIR" "$DIR/sub" "$DIR/sub" "empty" "$DASH" "$DIR" "$DIR" "$BYTES"
	assert_answers "no no no no no"
	assert_same_tree "$T/before" "$T/dst"
}

# A missing source, a missing parent for the new name: those fail, and
# the renames after them are still done, in order (a rename may use the
# one before it; not below a directory that it made: those are checked
# before the renames).
t_sftp_failures_do_not_stop_the_others() {
	need_helper
	start_sshd
	hostile_tree
	try "missing" "x" "$NL" "a" "$DASH" "no/such/dir/x" "a" "b" "$DIR" "d2" "d2/sub" "moved"
	assert_answers "no ok no ok ok no"
	assert_eq "$(cat "$T/dst/b")" "nl" "content of b"
	assert_eq "$(cat "$T/dst/d2/sub/$NL")" "inside" "content of d2/sub/$NL"
	assert_eq "$(cat "$T/dst/$DASH")" "dash" "content of $DASH"
}

# A symbolic link on the target where a path has a directory above it
# (to a directory outside the target) leads no rename out of it: neither
# from it nor into it; a rename beside them is made.
t_sftp_link_not_followed() {
	need_helper
	start_sshd
	hostile_tree
	mkdir -p "$T/outside/in"
	echo outside >"$T/outside/x"
	ln -s "$T/outside" "$T/dst/lnk"
	mkdir "$T/dst/real"
	ln -s "$T/outside" "$T/dst/real/lnk"
	try "lnk/x" "lnk/y" "$NL" "lnk/$NL" "real/lnk/x" "real/y" "$DASH" "real/lnk/in/$DASH" \
		"$QUOTES" "real/$QUOTES" "lnk" "lnk2"
	assert_answers "no no no no ok ok"
	assert_eq "$(cd "$T/outside" && echo *)" "in x" "what is outside the target"
	assert_eq "$(ls -A "$T/outside/in")" "" "what is outside the target"
	assert_eq "$(cat "$T/dst/real/$QUOTES")" "quotes" "content of real/$QUOTES"
	[ -L "$T/dst/lnk2" ] || fail "$TEST_NAME" "the link itself was not renamed"
}

# Directories above a new place that the target lacks are made (mode
# 0700, rsync gives them theirs) when the source has them: never where
# an earlier rename of the batch landed or below it, nor through a link.
t_sftp_makes_directories() {
	need_helper
	start_sshd
	hostile_tree
	mkdir -p "$T/outside"
	ln -s "$T/outside" "$T/dst/lnk"
	SFTP_TRY_PARENTS=1 try "$NL" "new/$QUOTES/x" "$DASH" "new/$QUOTES/y" \
		"$DIR" "e" "$BYTES" "e/sub2/x" "$SPACES" "lnk/new/x"
	assert_answers "ok made ok ok no no"
	assert_eq "$(stat -c %a "$T/dst/new/$QUOTES")" 700 "mode of a directory made"
	assert_eq "$(cat "$T/dst/new/$QUOTES/y")" "dash" "content of new/$QUOTES/y"
	assert_absent "$T/dst/e/sub2"
	assert_eq "$(ls -A "$T/outside")" "" "what is outside the target"
	# without SFTP_TRY_PARENTS, nothing is made
	try "$BYTES" "other/x"
	assert_answers "no"
	assert_absent "$T/dst/other"
}

# Through an ssh master's socket: no login of its own.
t_sftp_through_master() {
	local before
	need_helper
	start_sshd
	hostile_tree
	ssh -M -N -f -S "$T/ctl" -p "$SSH_PORT" -i "$SSH_KEY" -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" \
		-l "$SSH_USER" 127.0.0.1 || fail "$TEST_NAME" "no ssh master"
	wait_until 10 test -S "$T/ctl" || fail "$TEST_NAME" "no master socket"
	before=$(grep -c 'Accepted publickey' "$T/sshd.log")
	try -S "$T/ctl" "$NL" "x" "$DIR" "y"
	assert_answers "ok ok"
	assert_eq "$(grep -c 'Accepted publickey' "$T/sshd.log")" "$before" "logins"
	assert_contains "$T/try.err" "'-S' '$T/ctl' '-o' 'ControlMaster=no' '-s'"
	ssh -S "$T/ctl" -O exit 127.0.0.1 2>/dev/null
}

# The sftp-server program, as most sshd_configs name it (run through the
# login's shell by sshd), rather than sshd's internal-sftp.
t_sftp_external_server() {
	local server=/usr/lib/openssh/sftp-server
	need_helper
	[ -x "$server" ] || skip "$TEST_NAME" "no $server"
	start_sshd
	restart_sshd_edited "s|^Subsystem.*|Subsystem sftp $server|"
	hostile_tree
	try "$NL" "$BYTES.2" "$DIR" "$DASH.d" "$QUOTES" "$DASH"
	assert_answers "ok ok no"
	assert_eq "$(cat "$T/dst/$DASH.d/sub/$NL")" "inside" "content"
	assert_eq "$(cat "$T/dst/$DASH")" "dash" "content of $DASH"
}

# No sftp subsystem there: nothing renamed, soon, and told why.
t_sftp_no_subsystem() {
	local t0
	need_helper
	start_sshd
	restart_sshd_edited '/^Subsystem/d'
	hostile_tree
	cp -a "$T/dst" "$T/before"
	t0=$SECONDS
	try "$NL" "x" "$DIR" "y"
	assert_answers "no no"
	[ $((SECONDS - t0)) -lt 10 ] || fail "$TEST_NAME" "took $((SECONDS - t0)) s"
	assert_contains "$T/try.out" '^error: .+'
	assert_same_tree "$T/before" "$T/dst"
}

# An "ssh" whose answer is not SFTP (a banner, a shell's error), or is
# cut short after a good start: no rename is taken as done.
t_sftp_answer_not_sftp() {
	need_helper
	start_sshd
	hostile_tree
	printf '#!/bin/sh\necho "Welcome to the router"\ncat >/dev/null\n' >"$T/banner"
	# VERSION 3, STATUS OK for the first of two renames, and the end
	cat >"$T/cut" <<-'EOF'
		#!/bin/sh
		printf '\0\0\0\5\2\0\0\0\3\0\0\0\30\145\0\0\0\0\0\0\0\0\0\0\0\7Success\0\0\0\0'
	EOF
	chmod +x "$T/banner" "$T/cut"
	try -e "$T/banner" "$NL" "x"
	assert_answers "no"
	assert_contains "$T/try.out" '^error: .+'
	try -e "$T/cut" "$NL" "x" "$DIR" "y"
	assert_answers "no no"
	assert_contains "$T/try.out" '^error: .+'
}

# A batch larger than the pipes (460 KB of requests, 60 KB of answers),
# one in ten of them failing.
t_sftp_large_batch() {
	local i long args=()
	need_helper
	start_sshd
	long=$(printf 'n%.0s' {1..100})
	mkdir -p "$T/dst"
	for i in {1..2000}; do
		[ $((i % 10)) = 0 ] || echo "$i" >"$T/dst/$long.$i"
		args+=("$long.$i" "$long.$i.new")
	done
	try "${args[@]}"
	assert_eq "$(grep -c '^ok$' "$T/try.out")" 1800 "renames done"
	assert_eq "$(grep -c '^no$' "$T/try.out")" 200 "renames failed"
	assert_eq "$(sed -n '10p;11p' "$T/try.out" | tr '\n' ' ')" "no ok " "answers 10 and 11"
	assert_eq "$(cat "$T/dst/$long.1999.new")" 1999 "content"
	assert_eq "$(find "$T/dst" -name '*.new' | wc -l)" 1800 "files renamed"
}

# A server that never answers: killed at the time bound, nothing taken
# as done.
t_sftp_no_answer_killed() {
	need_helper
	start_sshd
	hostile_tree
	printf '#!/bin/sh\nsleep 600\n' >"$T/mute"
	chmod +x "$T/mute"
	SFTP_TRY_TIMEOUT_MS=1000 try -e "$T/mute" "$NL" "x"
	assert_answers "no"
	assert_contains "$T/try.out" '^error: no answer within 1 s, killed'
	none_mine "$T/mute" || fail "$TEST_NAME" "left: $(mine "$T/mute")"
}

# Dropbear's dbclient, to OpenSSH's sshd and to a Dropbear server (which
# runs /usr/lib/sftp-server for the subsystem, as OpenWrt's
# openssh-sftp-server package installs it).
t_sftp_dbclient() {
	need_helper
	command -v dbclient >/dev/null || skip "$TEST_NAME" "no dbclient"
	start_sshd
	hostile_tree
	dropbearkey -t ed25519 -f "$T/db_key" 2>/dev/null | grep '^ssh-' >>"$T/authorized_keys" ||
		fail "$TEST_NAME" "dropbearkey failed"
	HOME=$T "$HELPER" dbclient "$SSH_PORT" "$T/db_key" "$SSH_USER" 127.0.0.1 "" "" \
		"$T/dst" "$NL" "x" "$DIR" "$DASH" "$QUOTES" "$BYTES" >"$T/try.out" 2>"$T/try.err"
	assert_answers "ok no no"
	assert_contains "$T/try.err" "'dbclient' '-s' .* '-yy' '127.0.0.1' 'sftp'"
	assert_eq "$(cat "$T/dst/x")" "nl" "content of x"
}

t_sftp_dropbear_server() {
	need_helper
	[ -x /usr/lib/sftp-server ] || skip "$TEST_NAME" "no /usr/lib/sftp-server for Dropbear"
	router_test
	start_dropbear
	hostile_tree
	"$HELPER" dbclient "$DB_PORT" "$DB_KEY" root 127.0.0.1 "" "" \
		"$T/dst" "$NL" "x" "$DIR" "$DASH" "$BYTES" "$DIR/$BYTES" >"$T/try.out" 2>"$T/try.err"
	assert_answers "ok no ok"
	assert_eq "$(cat "$T/dst/$DIR/$BYTES")" "bytes" "content"
}

run_selected sftp_renames_hostile_names t_sftp_renames_hostile_names
run_selected sftp_rename_never_overwrites t_sftp_rename_never_overwrites
run_selected sftp_failures_do_not_stop_the_others t_sftp_failures_do_not_stop_the_others
run_selected sftp_link_not_followed t_sftp_link_not_followed
run_selected sftp_makes_directories t_sftp_makes_directories
run_selected sftp_through_master t_sftp_through_master
run_selected sftp_external_server t_sftp_external_server
run_selected sftp_no_subsystem t_sftp_no_subsystem
run_selected sftp_answer_not_sftp t_sftp_answer_not_sftp
run_selected sftp_large_batch t_sftp_large_batch
run_selected sftp_no_answer_killed t_sftp_no_answer_killed
run_selected sftp_dbclient t_sftp_dbclient
run_selected sftp_dropbear_server t_sftp_dropbear_server
finish
