#!/bin/sh
# tests/deps.sh: make sure the tools the tests drive are installed.
# As root on Debian they are installed with apt-get; otherwise the
# missing ones are named, and the tests that need them fail or skip.

# command  Debian package
need="rsync:rsync ssh:openssh-client ssh-keygen:openssh-client /usr/sbin/sshd:openssh-server"

missing=""
for pair in $need; do
	cmd=${pair%%:*} pkg=${pair#*:}
	if ! command -v "$cmd" >/dev/null 2>&1; then
		case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing test tools:$missing"
	# a foreign architecture's index may fail to update: go on regardless
	apt-get update -qq || true
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
		echo "warning: could not install:$missing" >&2
else
	echo "missing test tools (install them, e.g. apt-get install$missing):" \
		"the tests that need them will fail" >&2
fi
exit 0
