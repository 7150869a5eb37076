#!/bin/bash
# tests/lib_router.sh: fixtures for tests/sys_router.sh, poni as a router
# runs it: a syslog receiver, BusyBox's sh and start-stop-daemon, a
# Dropbear server. Sourced after lib.sh. Each fixture stops what it
# started at the end of the test (router_cleanup, then lib.sh's cleanup)
# and leaves the machine as it found it: root's home and /dev/log are
# replaced only inside a private mount namespace, or, for a /dev/log
# that did not exist, made for the test and removed after it.

SYSLOG_PID=
SYSLOG_SOCK=
SYSLOG_MADE_DEVLOG=
DROPBEAR_PID=

# router_test: call first in a test that uses these fixtures.
router_test() {
	trap router_cleanup EXIT
}

router_cleanup() {
	local st=$?
	trap - EXIT
	stop_dropbear
	if [ -n "$SYSLOG_PID" ]; then
		kill "$SYSLOG_PID" 2>/dev/null
		wait "$SYSLOG_PID" 2>/dev/null
		SYSLOG_PID=
	fi
	if [ -n "$SYSLOG_MADE_DEVLOG" ]; then
		rm -f /dev/log
		SYSLOG_MADE_DEVLOG=
	fi
	(exit "$st")
	cleanup
}

is_root() {
	[ "$(id -u)" = 0 ]
}

# private_ns_works: this machine lets root make a private mount namespace.
private_ns_works() {
	is_root && command -v unshare >/dev/null &&
		unshare -m true 2>/dev/null
}

# --- syslog ----------------------------------------------------------------------

# start_syslog [deaf]: receive what poni sends to syslog in
# $T/syslog.log, one message a line, as sent (<PRI>IDENT[PID]: TEXT), or
# with deaf, bind the socket and never read it (a syslog daemon that
# hangs). poni always sends to /dev/log: if there is none, the receiver
# is made there (and removed after the test); if there is one (a syslog
# daemon's), PONI is wrapped so that poni runs in a private mount
# namespace with the receiver bound over /dev/log, and the system's
# logger is not touched.
start_syslog() {
	SYSLOG_SOCK=$T/syslog.sock
	is_root || skip "$TEST_NAME" "syslog receiver on /dev/log needs root"
	if [ -e /dev/log ] || [ -L /dev/log ]; then
		private_ns_works ||
			skip "$TEST_NAME" "/dev/log is in use and no private mount namespace can be made"
	else
		SYSLOG_SOCK=/dev/log
		SYSLOG_MADE_DEVLOG=1
	fi
	: >"$T/syslog.log"
	syslog_listen "${1:-}"
	if [ "$SYSLOG_SOCK" != /dev/log ]; then
		cat >"$T/poni-ns" <<-EOF
			#!/bin/sh
			# poni with $SYSLOG_SOCK as its /dev/log
			exec unshare -m sh -c 'mount --bind "\$0" /dev/log && exec "\$@"' \\
				"$SYSLOG_SOCK" "$PONI" "\$@"
		EOF
		chmod +x "$T/poni-ns"
		PONI=$T/poni-ns
	fi
}

# syslog_listen [deaf]: start the receiver on $SYSLOG_SOCK.
syslog_listen() {
	perl -MIO::Socket::UNIX -MSocket -e '
		my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0])
			or die "syslog receiver: bind $ARGV[0]: $!\n";
		if ($ARGV[2] eq "deaf") {
			sleep 1 while 1;
		}
		open(my $out, ">>", $ARGV[1]) or die "syslog receiver: $ARGV[1]: $!\n";
		$out->autoflush(1);
		while (defined $s->recv(my $msg, 65536)) {
			$msg =~ s/\n+$//;
			print $out "$msg\n";
		}' "$SYSLOG_SOCK" "$T/syslog.log" "${1:-}" 2>>"$T/syslog.err" &
	SYSLOG_PID=$!
	wait_until 5 test -S "$SYSLOG_SOCK" || {
		detail <"$T/syslog.err"
		fail "$TEST_NAME" "the syslog receiver did not start"
	}
}

# restart_syslog: stop the receiver and start a new one on a new socket
# at the same path, as a restarted syslog daemon does; $T/syslog.log
# then holds only what the new one received.
restart_syslog() {
	kill "$SYSLOG_PID" 2>/dev/null
	wait "$SYSLOG_PID" 2>/dev/null
	rm -f "$SYSLOG_SOCK"
	: >"$T/syslog.log"
	syslog_listen
}

syslog_has() {
	grep -Eq -- "$1" "$T/syslog.log"
}

# wait_syslog ERE [SECONDS]: wait until a received message matches ERE.
wait_syslog() {
	wait_poni "${2:-10}" syslog_has "$1" || {
		detail <"$T/syslog.log"
		fail "$TEST_NAME" "no syslog message matching /$1/"
	}
}

# --- BusyBox ---------------------------------------------------------------------

# busybox_path [no-ssd]: make $T/bb, a directory of BusyBox applets (its
# start-stop-daemon too, unless no-ssd) plus rsync, for a PATH in which
# the init script finds only what a BusyBox router has.
busybox_path() {
	local bb
	bb=$(command -v busybox) || skip "$TEST_NAME" "no busybox (apt-get install busybox-static)"
	busybox start-stop-daemon --help >/dev/null 2>&1 ||
		skip "$TEST_NAME" "this busybox has no start-stop-daemon"
	mkdir -p "$T/bb"
	"$bb" --install -s "$T/bb" 2>/dev/null || fail "$TEST_NAME" "busybox --install failed"
	[ "$1" = no-ssd ] && rm -f "$T/bb/start-stop-daemon"
	ln -sf "$(command -v rsync)" "$T/bb/rsync"
}

# --- Dropbear --------------------------------------------------------------------

# start_dropbear: a Dropbear server on 127.0.0.1 letting root in with a
# throwaway Dropbear key. It runs in a private mount namespace in which
# root's home is $T/root, so that its ~/.ssh/authorized_keys is the
# test's and the real one is not touched. HOME is $T/home for the
# clients (dbclient's ~/.ssh/known_hosts). Sets DB_PORT DB_KEY DB_HOSTKEY
# (the host's public key, "ssh-ed25519 AAAA...") and DROPBEAR_PID.
start_dropbear() {
	local root=$T/root _
	for _ in dropbear dbclient dropbearkey; do
		command -v "$_" >/dev/null ||
			skip "$TEST_NAME" "no $_ (apt-get install dropbear-bin)"
	done
	private_ns_works ||
		skip "$TEST_NAME" "the Dropbear fixture needs root and a private mount namespace"
	mkdir -p "$root/.ssh" "$T/home"
	chmod 700 "$root" "$root/.ssh"
	export HOME=$T/home
	DB_KEY=$T/db_key
	dropbearkey -t ed25519 -f "$T/db_hostkey" >/dev/null 2>&1 ||
		fail "$TEST_NAME" "dropbearkey failed"
	dropbearkey -t ed25519 -f "$DB_KEY" 2>/dev/null | grep '^ssh-' >"$root/.ssh/authorized_keys" ||
		fail "$TEST_NAME" "dropbearkey failed"
	chmod 600 "$root/.ssh/authorized_keys"
	DB_HOSTKEY=$(dropbearkey -y -f "$T/db_hostkey" | grep '^ssh-' | cut -d' ' -f1,2)
	for _ in 1 2 3; do
		DB_PORT=$(free_port) || fail "$TEST_NAME" "no free port"
		# -s: no password logins, so a refused key fails at once
		# shellcheck disable=SC2016 # $0 and $@ are the inner sh's
		unshare -m sh -c 'mount --bind "$0" /root && exec "$@"' "$root" \
			dropbear -F -E -s -p "127.0.0.1:$DB_PORT" -r "$T/db_hostkey" \
			-P "$T/dropbear.pid" >>"$T/dropbear.log" 2>&1 &
		DROPBEAR_PID=$!
		wait_until 10 listening "$DB_PORT" "$DROPBEAR_PID" && break
		stop_dropbear
	done
	[ -n "$DROPBEAR_PID" ] || {
		detail <"$T/dropbear.log"
		fail "$TEST_NAME" "dropbear did not start"
	}
	# the fixture itself must work before poni is blamed for anything
	if ! dbclient -p "$DB_PORT" -i "$DB_KEY" -l root -yy 127.0.0.1 true \
		</dev/null >"$T/db_check.log" 2>&1; then
		cat "$T/db_check.log" "$T/dropbear.log" | detail
		fail "$TEST_NAME" "cannot log in to the test dropbear with dbclient (test setup)"
	fi
	export DB_PORT DB_KEY DB_HOSTKEY
}

# stop_dropbear: stop dropbear and its sessions.
stop_dropbear() {
	local pids
	[ -n "$DROPBEAR_PID" ] || return 0
	pids=$(descendants "$DROPBEAR_PID")
	# shellcheck disable=SC2086 # one pid a word
	stop_pids TERM "$DROPBEAR_PID" $pids
	wait "$DROPBEAR_PID" 2>/dev/null
	DROPBEAR_PID=
}

# stop_poni_explained [SIG]: stop_poni_ok SIG (TERM), but when poni has
# not stopped after 10 s, show where it hangs (state, kernel stack,
# system call, descriptors) before the test fails.
stop_poni_explained() {
	local pid=$PONI_PID p f
	kill "-${1:-TERM}" "$pid" 2>/dev/null
	if ! wait_until 10 not alive "$pid"; then
		for p in "$pid" $(descendants "$pid"); do
			echo "pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
			grep -E '^(State|SigBlk|SigPnd|ShdPnd)' "/proc/$p/status" 2>/dev/null
			echo "wchan: $(cat "/proc/$p/wchan" 2>/dev/null)"
			echo "syscall: $(cat "/proc/$p/syscall" 2>/dev/null)"
			cat "/proc/$p/stack" 2>/dev/null
			for f in "/proc/$p/fd/"*; do
				echo "fd ${f##*/} -> $(readlink "$f")"
			done
		done | detail
		[ -s "$T/syslog.log" ] && tail -n 5 "$T/syslog.log" | detail
		fail "$TEST_NAME" "poni does not stop on SIG${1:-TERM} within 10 s"
	fi
	stop_poni_ok "${1:-TERM}"
}
