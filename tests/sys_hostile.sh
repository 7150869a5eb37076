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

# yaml_quote V: V as a double-quoted YAML string.
yaml_quote() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

# hostile_sync I [KEY: VALUE]...: the sync entry of source $T/src$I/ (a
# file f in it) through the rsync wrapper, with the KEYs given; over ssh
# to the test's sshd when they give a remote_host.
hostile_sync() {
	local l
	mkdir -p "$T/src$1"
	echo "$1" >"$T/src$1/f"
	echo "  $T/src$1/:"
	shift
	for l in "$@" "rsync: $T/bin/rsync"; do
		echo "    $l"
	done
	if has_key remote_host "$@"; then
		echo "    port: $SSH_PORT"
		echo "    priv_key: $SSH_KEY"
		echo "    known_hosts: $KNOWN_HOSTS"
		echo "    strict_host_key: yes"
	fi
}

# once_status WANT: poni -1 on $CONF runs the command of no value (each
# would create $T/pwned), and exits WANT.
once_status() {
	local st
	"$PONI" -1 -c "$CONF" >"$T/out" 2>"$T/err"
	st=$?
	[ ! -e "$T/pwned" ] || fail "$TEST_NAME" "a value ran a command (\$T/pwned exists)"
	if [ "$st" != "$1" ]; then
		cat "$T/out" "$T/err" | detail
		fail "$TEST_NAME" "poni -1 exited $st, want $1"
	fi
}

# Values written to run commands, each in every key that takes text: all
# reach rsync and ssh as plain arguments or are refused, and none runs
# anything (each would create $T/pwned). remote_path and exclude take any
# text: a sync per value, local and over ssh (through the remote shell),
# each makes a real run whose copy lands at the literal path, exit 0;
# remote_host and remote_user refuse spaces (ssh would read them as
# options): poni -t names the key, poni -1 makes no run; the values
# without a space are taken and make runs that fail (no such host, no
# such user), exit 1.
t_injection_values_run_nothing() {
	local v k i calls m=$T/pwned
	local -a vals=("\$(touch $m)" "\`touch $m\`" "x; touch $m" "x && touch $m" "x | touch $m"
		"'; touch $m; '" "\$(touch\${IFS}$m)" "\`touch\${IFS}$m\`")
	start_sshd
	make_rsync_wrapper
	cd "$T" || fail "$TEST_NAME" "cannot cd"
	for v in "${vals[@]}"; do
		mkdir -p "$(dirname "$T/dst/$v")" "$(dirname "$T/rdst/$v")"
	done
	# remote_path and exclude: local copies, then copies over ssh
	for k in local ssh; do
		calls=$(rsync_calls)
		{
			echo "sync:"
			for i in "${!vals[@]}"; do
				if [ "$k" = local ]; then
					hostile_sync "$i" "remote_path: $(yaml_quote "$T/dst/${vals[i]}")" \
						"exclude: [$(yaml_quote "${vals[i]}")]"
				else
					hostile_sync "$i" "remote_path: $(yaml_quote "$T/rdst/${vals[i]}")" \
						"exclude: [$(yaml_quote "${vals[i]}")]" "remote_host: 127.0.0.1"
				fi
			done
		} | write_conf
		once_status 0
		for i in "${!vals[@]}"; do
			v=${vals[i]}
			if [ "$k" = local ]; then
				cmp -s "$T/src$i/f" "$T/dst/$v/f" || fail "$TEST_NAME" "remote_path '$v' was not taken verbatim"
			else
				cmp -s "$T/src$i/f" "$T/rdst/$v/f" || fail "$TEST_NAME" "remote_path '$v' over ssh was not taken verbatim"
			fi
		done
		assert_eq "$(rsync_calls)" $((calls + ${#vals[@]})) "rsync runs ($k)"
	done
	# remote_host and remote_user with a space: refused, no run
	calls=$(rsync_calls)
	for v in "${vals[@]}"; do
		case $v in *' '*) ;; *) continue ;; esac
		for k in remote_host remote_user; do
			{
				echo "sync:"
				if [ "$k" = remote_host ]; then
					hostile_sync 0 "remote_path: $T/rdst" "remote_host: $(yaml_quote "127.0.0.1$v")"
				else
					hostile_sync 0 "remote_path: $T/rdst" "remote_host: 127.0.0.1" "remote_user: $(yaml_quote "$v")"
				fi
			} | write_conf
			assert_exit 1 "$PONI" -t -c "$CONF"
			assert_contains "$T/err" "$k: .* contains a space"
			once_status 1
		done
	done
	assert_eq "$(rsync_calls)" "$calls" "rsync runs for refused configs"
	# remote_host and remote_user without a space: runs that fail
	i=0
	{
		echo "sync:"
		for v in "${vals[@]}"; do
			case $v in *' '*) continue ;; esac
			hostile_sync $((i++)) "remote_path: $T/rdst" "remote_host: $(yaml_quote "127.0.0.1$v")"
			hostile_sync $((i++)) "remote_path: $T/rdst" "remote_host: 127.0.0.1" "remote_user: $(yaml_quote "$v")"
		done
	} >"$T/conf"
	write_conf <"$T/conf"
	assert_eq "$i" 4 "syncs with a hostile host or user without a space"
	once_status 1
	cat "$T/out" "$T/err" >"$T/both"
	assert_eq "$(grep -c ': failed in ' "$T/both")" 4 "failed runs"
	assert_eq "$(rsync_calls)" $((calls + 4)) "rsync runs for a hostile host or user"
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
