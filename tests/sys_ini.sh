#!/bin/bash
# INI configs (the INI=1 build, through inih): every good YAML config in
# tests/configs has an INI twin summarised the same by -t; bad INI files
# are refused with the expected file:line message; a tree is mirrored
# with an INI config; the default build names the rebuild an INI config
# needs.
# Test functions are only called through run_test:
# shellcheck disable=SC2317

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

CONFIGS=$TESTS_DIR/configs
INI_BUILD=$(mktemp -d "${TMPDIR:-/tmp}/poni-ini.XXXXXX") || exit 1
trap 'rm -rf "$INI_BUILD"' EXIT
PONI_INI=$INI_BUILD/poni

# Build poni with INI support beside the default build.
build_ini() {
	local version
	pkg-config --exists inih 2>/dev/null ||
		skip "$TEST_NAME" "no inih (apt-get install libinih-dev pkg-config)"
	[ -x "$PONI_INI" ] && return
	version=$(sed -n 's/^VERSION = //p' "$TESTS_DIR/../config.mk")
	# shellcheck disable=SC2046 # pkg-config's words are meant to split
	cc -std=c99 -pedantic -Wall -Wextra -Werror -D_GNU_SOURCE -DPONI_INI \
		"-DVERSION=\"$version\"" $(pkg-config --cflags inih) -o "$PONI_INI" \
		"$TESTS_DIR"/../src/*.c $(pkg-config --libs inih) >"$T/build.log" 2>&1 || {
		detail <"$T/build.log"
		fail "$TEST_NAME" "poni does not build with INI support"
	}
}

# copy_configs: the test configs, private to this test (poni refuses a
# config others can write, and a checkout's umask may allow that), and
# test_key private too (git keeps it 0644, which OpenSSH refuses).
copy_configs() {
	cp "$CONFIGS"/* "$T/"
	chmod 600 "$T"/*.yml "$T"/*.ini "$T/test_key"
}

t_ini_twins_summarise_the_same() {
	local y n=0
	build_ini
	copy_configs
	for y in "$T"/*.yml; do
		[ -f "${y%.yml}.ini" ] || fail "$TEST_NAME" "$(basename "$y") has no INI twin"
		assert_exit 0 "$PONI_INI" -t -c "$y"
		cp "$T/out" "$T/yaml.out"
		assert_exit 0 "$PONI_INI" -t -c "${y%.yml}.ini"
		if ! diff -u "$T/yaml.out" "$T/out" >"$T/diff"; then
			detail <"$T/diff"
			fail "$TEST_NAME" "$(basename "$y") and its INI twin differ under -t"
		fi
		n=$((n + 1))
	done
	[ "$n" -ge 3 ] || fail "$TEST_NAME" "only $n config pairs"
}

t_bad_ini_refused_with_line() {
	local f want n=0
	build_ini
	copy_configs
	for f in "$T"/bad-*.ini; do
		want=$(sed -n '1s/^; expect: //p' "$f")
		assert_exit 1 "$PONI_INI" -t -c "$f"
		grep -qF -- "$T/$want" "$T/err" || {
			detail <"$T/err"
			fail "$TEST_NAME" "$(basename "$f"): want '$want'"
		}
		n=$((n + 1))
	done
	[ "$n" -ge 5 ] || fail "$TEST_NAME" "only $n bad files"
}

t_ini_chosen_by_section_or_name() {
	build_ini
	# a .conf file of key = value lines is INI, a .yml one is YAML
	printf 'log = stdout\n[%s/src/]\nremote_path = %s/dst\n' "$T" "$T" >"$T/p.conf"
	printf 'log = stdout\n' >"$T/p.yml"
	chmod 600 "$T/p.conf" "$T/p.yml"
	mkdir -p "$T/src"
	assert_exit 0 "$PONI_INI" -t -c "$T/p.conf"
	assert_exit 1 "$PONI_INI" -t -c "$T/p.yml"
	assert_contains "$T/err" "p.yml:1"
}

t_ini_config_mirrors_tree() {
	build_ini
	mkdir -p "$T/src/a/b"
	echo one >"$T/src/a/b/one"
	echo skip >"$T/src/a/skip.tmp"
	CONF=$T/poni.ini
	write_conf <<-EOF
		; a local mirror in INI
		[$T/src/]
		remote_path = $T/dst
		interval = 0
		recurse = true
		delete = true
		exclude = *.tmp
	EOF
	PONI=$PONI_INI start_poni "$CONF"
	wait_runs 1
	echo two >"$T/src/a/two"
	mkdir -p "$T/src/c/d" && echo three >"$T/src/c/d/three"
	rm "$T/src/a/b/one"
	wait_poni 10 test -f "$T/dst/c/d/three" || fail "$TEST_NAME" "new files did not arrive"
	wait_poni 10 test ! -e "$T/dst/a/b/one" || fail "$TEST_NAME" "a deletion was not mirrored"
	[ ! -e "$T/dst/a/skip.tmp" ] || fail "$TEST_NAME" "an excluded file was copied"
	rm "$T/src/a/skip.tmp"
	assert_same_tree "$T/src" "$T/dst"
}

t_default_build_names_ini_rebuild() {
	cp "$CONFIGS/local.ini" "$T/c.ini"
	chmod 600 "$T/c.ini"
	if "$PONI" -t -c "$T/c.ini" >"$T/out" 2>"$T/err"; then
		skip "$TEST_NAME" "this poni was built with INI=1"
	fi
	assert_contains "$T/err" "built without INI support: rebuild it with make INI=1"
}

run_test ini_twins_summarise_the_same t_ini_twins_summarise_the_same
run_test bad_ini_refused_with_line t_bad_ini_refused_with_line
run_test ini_chosen_by_section_or_name t_ini_chosen_by_section_or_name
run_test ini_config_mirrors_tree t_ini_config_mirrors_tree
run_test default_build_names_ini_rebuild t_default_build_names_ini_rebuild
finish
