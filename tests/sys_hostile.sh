#!/bin/bash
# Hostile input: file names that break naive quoting reach the replica
# unchanged, over a local and an ssh target; values that would inject
# commands run nothing; a file name cannot forge a log line.
# shellcheck disable=SC2016 # the $(...) and `...` are meant literally
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

# make_hostile DIR: files and directories with every troublesome name.
make_hostile() {
	local d=$1 long
	long=$(printf 'L%.0s' $(seq 1 255))
	mkdir -p "$d"
	for n in 'with space' $'new\nline' $'tab\there' "single'quote" 'double"quote' \
		'back\slash' 'star*' 'question?' 'br[ack]et' '-leading-dash' '--delete' \
		'\*?[' $'\xff\xfe invalid utf8' "$long" '$(touch pwned)' '`touch pwned`' \
		'semi;colon' 'amp&ersand' 'pipe|x' '~tilde' '#hash' ' leading space'; do
		printf '%s\n' "$n" >"$d/$n"
		mkdir -p "$d/dir ${n:0:250}"
		printf 'inside %s\n' "$n" >"$d/dir ${n:0:250}/$n"
	done
	ln -s 'star*' "$d/link to a star"
}

# the replica and the source: same names, same contents
hostile_converges() {
	wait_same_tree "$T/src" "$T/dst" 20
	if [ -e "$T/src/pwned" ] || [ -e "$T/dst/pwned" ] || [ -e pwned ]; then
		fail "$TEST_NAME" "a file named pwned appeared: a name was run as a command"
	fi
}

ssh_conf() {
	write_conf <<-EOF
		sync:
		  $T/src/:
		    remote_host: 127.0.0.1
		    remote_user: $SSH_USER
		    remote_path: $T/dst
		    port: $SSH_PORT
		    priv_key: $SSH_KEY
		    known_hosts: $KNOWN_HOSTS
		    strict_host_key: yes
		    interval: 0
		    recurse: true
		    delete: true
	EOF
}

# The initial (full) run, then changes made while poni watches (runs from
# the list of changed paths): create, rewrite, rename, delete.
exercise() {
	make_hostile "$T/src"
	start_poni "$CONF"
	wait_runs 1 20
	hostile_converges
	make_hostile "$T/src/later"
	echo again >>"$T/src/star*"
	mv "$T/src/"$'new\nline' "$T/src/renamed "$'\n'"name"
	mv "$T/src/dir br[ack]et" "$T/src/dir moved [x]"
	rm -f "$T/src/-leading-dash" "$T/src/back\\slash"
	rm -rf "$T/src/dir star*"
	hostile_converges
}

t_hostile_names_local() {
	mirror_conf
	exercise
}

t_hostile_names_ssh() {
	start_sshd
	ssh_conf
	exercise
}

# once_conf [KEY: VALUE]...: a config for poni -1 that mirrors $T/src/
# through the rsync wrapper, with the KEYs given (remote_path, and
# remote_host for ssh to the test's sshd).
once_conf() {
	local l
	{
		echo "sync:"
		echo "  $T/src/:"
		for l in "$@" "rsync: $T/bin/rsync"; do
			echo "    $l"
		done
		if has_key remote_host "$@"; then
			echo "    port: $SSH_PORT"
			echo "    priv_key: $SSH_KEY"
			echo "    known_hosts: $KNOWN_HOSTS"
			echo "    strict_host_key: yes"
		fi
	} | write_conf
}

# no_pwned V: the command in value V ran nowhere.
no_pwned() {
	[ ! -e "$T/pwned" ] || fail "$TEST_NAME" "value '$1' ran a command"
}

# Values written to run commands, each in every key that takes text: all
# reach rsync and ssh as plain arguments or are refused, and none runs
# anything (each would create $T/pwned). remote_path and exclude take any
# text, so each value makes a real run, local and over ssh, whose copy
# lands at the literal path; remote_host and remote_user refuse spaces
# (ssh would read them as options): poni -t names the key, poni -1 makes
# no run; the values without a space are taken and make a run that
# fails (no such host, no such user), exit status 1.
t_injection_values_run_nothing() {
	local v q k calls m=$T/pwned runs=0 fails=0
	start_sshd
	make_rsync_wrapper
	mkdir -p "$T/src"
	echo x >"$T/src/f"
	cd "$T" || fail "$TEST_NAME" "cannot cd"
	for v in "\$(touch $m)" "\`touch $m\`" "x; touch $m" "x && touch $m" "x | touch $m" \
		"'; touch $m; '" "\$(touch\${IFS}$m)" "\`touch\${IFS}$m\`"; do
		q=$(printf '%s' "$v" | sed 's/\\/\\\\/g; s/"/\\"/g')
		# remote_path and exclude, local
		calls=$(rsync_calls)
		mkdir -p "$(dirname "$T/dst/$v")" "$(dirname "$T/rdst/$v")"
		once_conf "remote_path: \"$T/dst/$q\"" "exclude: [\"$q\"]"
		assert_exit 0 "$PONI" -1 -c "$CONF"
		[ -f "$T/dst/$v/f" ] || fail "$TEST_NAME" "remote_path '$v' was not taken verbatim"
		assert_eq "$(rsync_calls)" $((calls + 1)) "rsync runs for a local copy to '$v'"
		runs=$((runs + 1))
		no_pwned "$v"
		# remote_path over ssh: through the remote shell
		once_conf "remote_path: \"$T/rdst/$q\"" "remote_host: 127.0.0.1" "exclude: [\"$q\"]"
		assert_exit 0 "$PONI" -1 -c "$CONF"
		[ -f "$T/rdst/$v/f" ] || fail "$TEST_NAME" "remote_path '$v' over ssh was not taken verbatim"
		runs=$((runs + 1))
		no_pwned "$v"
		# remote_host and remote_user
		for k in remote_host remote_user; do
			calls=$(rsync_calls)
			if [ "$k" = remote_host ]; then
				once_conf "remote_path: $T/rdst" "remote_host: \"127.0.0.1$q\""
			else
				once_conf "remote_path: $T/rdst" "remote_host: 127.0.0.1" "remote_user: \"$q\""
			fi
			case $v in
			*' '*)
				assert_exit 1 "$PONI" -t -c "$CONF"
				assert_contains "$T/err" "$k: .* contains a space"
				assert_exit 1 "$PONI" -1 -c "$CONF"
				assert_eq "$(rsync_calls)" "$calls" "rsync runs for a refused $k '$v'"
				;;
			*)
				assert_exit 1 "$PONI" -1 -c "$CONF"
				cat "$T/out" "$T/err" >"$T/both"
				assert_contains "$T/both" ": failed in "
				assert_eq "$(rsync_calls)" $((calls + 1)) "rsync runs for $k '$v'"
				fails=$((fails + 1))
				;;
			esac
			no_pwned "$v"
		done
	done
	# (that the loop did what it says: runs made, and failed)
	assert_eq "$runs" 16 "runs that copied"
	assert_eq "$fails" 4 "runs that failed on a hostile host or user"
}

# A file name with a newline cannot add a line of its own to the log.
t_file_name_cannot_forge_log_line() {
	local forged='2030-01-01 00:00:00 error: forged'
	mkdir -p "$T/src"
	mirror_conf "delete: false"
	start_poni "$CONF" -v
	wait_runs 1
	echo x >"$T/src/a"$'\n'"$forged"
	wait_same_tree "$T/src" "$T/dst"
	wait_log 'changed: a\\n2030'
	! grep -q "^$forged" "$T/poni.log" ||
		fail "$TEST_NAME" "a file name forged a log line"
}

# A config others can write is refused, by -t and at start, saying why.
t_config_writable_by_others_refused() {
	mkdir -p "$T/src"
	write_conf <<-EOF
		sync:
		  $T/src/: {remote_path: $T/dst}
	EOF
	chmod 666 "$CONF"
	assert_exit 1 "$PONI" -t -c "$CONF"
	"$PONI" -t -c "$CONF" 2>"$T/err"
	assert_contains "$T/err" "writable by everyone .*chmod go-w"
	chmod 620 "$CONF"
	"$PONI" -1 -c "$CONF" 2>"$T/err" && fail "$TEST_NAME" "a group-writable config was used"
	assert_contains "$T/err" "writable by its group"
	[ ! -e "$T/dst" ] || fail "$TEST_NAME" "something was copied"
	chmod 600 "$CONF"
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$CONF"
		assert_exit 1 "$PONI" -t -c "$CONF"
		"$PONI" -t -c "$CONF" 2>"$T/err"
		assert_contains "$T/err" "not root.*chown root"
	fi
}

run_test config_writable_by_others_refused t_config_writable_by_others_refused
run_test hostile_names_local t_hostile_names_local
run_test hostile_names_ssh t_hostile_names_ssh
run_test injection_values_run_nothing t_injection_values_run_nothing
run_test file_name_cannot_forge_log_line t_file_name_cannot_forge_log_line
finish
