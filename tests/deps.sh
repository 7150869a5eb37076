#!/bin/sh
# tests/deps.sh [cross]: make sure the tools the tests drive are installed.
# As root on Debian they are installed with apt-get; otherwise the
# missing ones are named, and the tests that need them fail or skip.
# With "cross": what make check-cross needs, the musl cross compilers and
# qemu-user (Debian's come from the armhf and arm64 architectures, which
# are added to dpkg for them).

# command  Debian package
if [ "$1" = cross ]; then
	need="x86_64-linux-musl-gcc:musl-tools arm-linux-musleabihf-gcc:musl-dev:armhf
		aarch64-linux-musl-gcc:musl-dev:arm64 qemu-arm-static:qemu-user-static
		qemu-aarch64-static:qemu-user-static"
else
	need="rsync:rsync ssh:openssh-client ssh-keygen:openssh-client
		/usr/sbin/sshd:openssh-server busybox:busybox-static
		/usr/sbin/dropbear:dropbear-bin dbclient:dropbear-bin
		dropbearkey:dropbear-bin shellcheck:shellcheck clang:clang
		pkg-config:pkg-config /usr/include/ini.h:libinih-dev
		mkfs.ext2:e2fsprogs losetup:mount mount.exfat-fuse:exfat-fuse
		mkfs.exfat:exfatprogs fusermount3:fuse3"
	# libFuzzer's runtime, for sys_fuzz.sh (Debian 12's clang is 14)
	for f in /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a; do
		[ -e "$f" ] || need="$need /nonexistent/libfuzzer:libclang-rt-14-dev"
		break
	done
fi

# have CMD: an absolute path exists, or a command is in PATH
have() {
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

missing=""
for pair in $need; do
	cmd=${pair%%:*} pkg=${pair#*:}
	if ! have "$cmd"; then
		case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing test tools:$missing"
	case $missing in
	*:armhf*) dpkg --add-architecture armhf ;;
	esac
	case $missing in
	*:arm64*) dpkg --add-architecture arm64 ;;
	esac
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
