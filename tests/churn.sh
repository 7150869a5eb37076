#!/bin/bash
# tests/churn.sh SEED N DIR: N random file system operations on DIR, for
# poni's reliability tests (sys_churn.sh, sys_failures.sh, soak.sh).
#
# The sequence is fixed by SEED (bash's RANDOM seeded with RANDOM=SEED and
# only ever read in this shell, never in a subshell), so a failure can be
# replayed: the first line printed is "churn: seed SEED ops N dir DIR".
# Timing (how the operations interleave with poni's runs) is not
# replayable, of course.
#
# Operations: create, append, overwrite, same-size rewrite, mkdir -p of a
# deep tree with files, rename of a file, rename of a directory with its
# content, a directory moved out (to DIR.out, a sibling outside DIR) and
# one moved in (from there), delete, rm -rf, relative symlink (often
# dangling), chmod; now and then a sleep of 0-20 ms so that events
# interleave with runs. Names sometimes hold spaces, quotes, a leading
# dash, non-ASCII bytes or (rarely) a newline.
#
# Environment: CHURN_MAX (default 1500) entries in DIR above which the
# operations shrink the tree; CHURN_VERBOSE=1 prints each operation.
# Exit status 0 unless the arguments are wrong: an operation that fails
# (a rename into itself, a name that just went away) is simply skipped.

if [ $# -ne 3 ] || ! [[ $1 =~ ^[0-9]+$ ]] || ! [[ $2 =~ ^[0-9]+$ ]]; then
	echo "usage: $0 SEED N DIR" >&2
	exit 2
fi
SEED=$1 N=$2 DIR=${3%/}
OUT=$DIR.out
MAX=${CHURN_MAX:-1500}
VERBOSE=${CHURN_VERBOSE:-0}
export LC_ALL=C

echo "churn: seed $SEED ops $N dir $DIR"
mkdir -p "$DIR" "$OUT" || exit 1
RANDOM=$SEED

# rnd N: a random number 0..N-1 in REPLY (no subshell: RANDOM must stay
# in this shell for the sequence to be replayable).
rnd() {
	REPLY=$((RANDOM % $1))
}

# name: a new entry name in NAME.
name() {
	local n
	rnd 1000
	n=$REPLY
	rnd 40
	case $REPLY in
	0) NAME="sp ace $n" ;;
	1) NAME="qu'ote\"$n" ;;
	2) NAME="-dash$n" ;;
	3) NAME=$'caf\xc3\xa9'"$n" ;;
	4) NAME=$'new\nline'"$n" ;;
	5) NAME="star*$n" ;;
	*) NAME="n$n" ;;
	esac
}

# content TAG SIZE FILE: write SIZE bytes made of TAG to FILE (replaces).
content() {
	local tag=$1 size=$2 s
	s="$tag $SEED "
	while [ ${#s} -lt "$size" ] && [ ${#s} -lt 65536 ]; do
		s=$s$s
	done
	if [ "$size" -le ${#s} ]; then
		printf '%s' "${s:0:size}" >"$3"
	else
		yes "$s" | head -c "$size" >"$3"
	fi
}

# Lists of the entries under DIR (sorted, so that the choices made from
# them do not depend on the order of readdir). They are read from a file
# (in OUT, which holds nothing else but directories), not from a pipe,
# which bash would read a byte at a time.
shopt -s nullglob dotglob
LIST=$OUT/.churn-list
scan() {
	local e
	FILES=() DIRS=() LINKS=()
	find "$DIR" -mindepth 1 -printf '%y %p\0' 2>/dev/null | sort -z >"$LIST"
	while IFS= read -r -d '' e; do
		case $e in
		f\ *) FILES+=("${e#f }") ;;
		d\ *) DIRS+=("${e#d }") ;;
		l\ *) LINKS+=("${e#l }") ;;
		esac
	done <"$LIST"
	# the directories in OUT (glob order is sort's, as LC_ALL is C)
	OUTS=()
	for e in "$OUT"/*; do
		[ -d "$e" ] && [ ! -L "$e" ] && OUTS+=("$e")
	done
}

# pick_file / pick_dir / pick_any_dir: a random entry in PICK; 1 if none.
pick_file() {
	[ ${#FILES[@]} -gt 0 ] || return 1
	rnd ${#FILES[@]}
	PICK=${FILES[REPLY]}
}
pick_dir() {
	[ ${#DIRS[@]} -gt 0 ] || return 1
	rnd ${#DIRS[@]}
	PICK=${DIRS[REPLY]}
}
# A directory for something new: DIR itself or one below it.
pick_any_dir() {
	rnd 4
	if [ "$REPLY" = 0 ] || ! pick_dir; then
		PICK=$DIR
	fi
}

say() {
	[ "$VERBOSE" = 1 ] && printf 'churn %d: %s\n' "$i" "$*"
	return 0
}

op_create() {
	pick_any_dir
	name
	rnd 5000
	say create "$PICK/$NAME"
	content "c$i" "$REPLY" "$PICK/$NAME"
}

op_append() {
	pick_file || return
	say append "$PICK"
	rnd 300
	printf 'append %d %0*d\n' "$i" "$REPLY" 0 >>"$PICK"
}

op_overwrite() {
	local size
	pick_file || return
	size=$(stat -c %s -- "$PICK" 2>/dev/null) || return
	rnd 4000
	[ "$REPLY" = "$size" ] && REPLY=$((REPLY + 1))
	say overwrite "$PICK"
	content "o$i" "$REPLY" "$PICK"
}

# Same size, other bytes, within the same second as the last write: what
# rsync's quick check (size and time) would miss.
op_same_size() {
	local size
	pick_file || return
	size=$(stat -c %s -- "$PICK" 2>/dev/null) || return
	[ "$size" -gt 0 ] || return
	say same-size "$PICK"
	content "s$i" "$size" "$PICK"
}

op_mkdir_deep() {
	local d k depth
	pick_any_dir
	d=$PICK
	rnd 4
	depth=$((REPLY + 2))
	for ((k = 0; k < depth; k++)); do
		name
		d=$d/$NAME
	done
	say mkdir "$d"
	mkdir -p -- "$d" || return
	rnd 4
	for ((k = 0; k <= REPLY; k++)); do
		content "m$i.$k" $((k * 100 + 1)) "$d/file$k"
	done
	echo top >"${d%/*}/beside$i"
}

op_rename_file() {
	local from
	pick_file || return
	from=$PICK
	pick_any_dir
	name
	say rename "$from" "$PICK/$NAME"
	mv -f -- "$from" "$PICK/$NAME" 2>/dev/null
}

op_rename_dir() {
	local from
	pick_dir || return
	from=$PICK
	pick_any_dir
	case $PICK/ in "$from"/*) return ;; esac # not into itself
	name
	say rename-dir "$from" "$PICK/$NAME"
	mv -- "$from" "$PICK/$NAME" 2>/dev/null
}

op_move_out() {
	pick_dir || return
	name
	say move-out "$PICK"
	mv -- "$PICK" "$OUT/$NAME" 2>/dev/null
}

# A directory with content from outside: one moved out before, or a new
# tree made out there.
op_move_in() {
	local from k
	rnd 2
	if [ ${#OUTS[@]} -gt 0 ] && [ "$REPLY" = 0 ]; then
		rnd ${#OUTS[@]}
		from=${OUTS[REPLY]}
	else
		name
		from=$OUT/$NAME
		mkdir -p -- "$from/inner/deeper" || return
		for ((k = 0; k < 3; k++)); do
			content "i$i.$k" $((k * 50 + 7)) "$from/in$k"
		done
		content "i$i.d" 99 "$from/inner/deeper/leaf"
	fi
	pick_any_dir
	name
	say move-in "$from" "$PICK/$NAME"
	mv -- "$from" "$PICK/$NAME" 2>/dev/null
}

op_delete() {
	rnd 4
	if [ "$REPLY" = 0 ] && [ ${#LINKS[@]} -gt 0 ]; then
		rnd ${#LINKS[@]}
		PICK=${LINKS[REPLY]}
	else
		pick_file || return
	fi
	say delete "$PICK"
	rm -f -- "$PICK"
}

op_rmrf() {
	pick_dir || return
	say rm-rf "$PICK"
	rm -rf -- "$PICK"
}

op_symlink() {
	local target
	pick_any_dir
	rnd 6
	case $REPLY in
	0) target=missing$RANDOM ;;
	1) target=../n$((RANDOM % 1000)) ;;
	2) target=. ;;
	3) target=.. ;;
	*)
		if pick_file; then
			target=${PICK##*/}
		else
			target=nothing
		fi
		;;
	esac
	pick_any_dir
	name
	say symlink "$PICK/$NAME" "-> $target"
	ln -sfn -- "$target" "$PICK/$NAME" 2>/dev/null
}

op_chmod() {
	local modes
	rnd 3
	if [ "$REPLY" = 0 ] && pick_dir; then
		modes=(755 700 750 775)
	else
		pick_file || return
		modes=(644 600 640 755 700 444 664)
	fi
	rnd ${#modes[@]}
	say chmod "${modes[REPLY]}" "$PICK"
	chmod "${modes[REPLY]}" -- "$PICK" 2>/dev/null
}

for ((i = 1; i <= N; i++)); do
	scan
	rnd 100
	if [ $((${#FILES[@]} + ${#DIRS[@]} + ${#LINKS[@]})) -gt "$MAX" ]; then
		# too big: shrink
		if [ "$REPLY" -lt 30 ]; then
			op_rmrf
		else
			op_delete
		fi
	elif [ "$REPLY" -lt 14 ]; then
		op_create
	elif [ "$REPLY" -lt 22 ]; then
		op_append
	elif [ "$REPLY" -lt 30 ]; then
		op_overwrite
	elif [ "$REPLY" -lt 38 ]; then
		op_same_size
	elif [ "$REPLY" -lt 45 ]; then
		op_mkdir_deep
	elif [ "$REPLY" -lt 53 ]; then
		op_rename_file
	elif [ "$REPLY" -lt 58 ]; then
		op_rename_dir
	elif [ "$REPLY" -lt 61 ]; then
		op_move_out
	elif [ "$REPLY" -lt 65 ]; then
		op_move_in
	elif [ "$REPLY" -lt 73 ]; then
		op_delete
	elif [ "$REPLY" -lt 76 ]; then
		op_rmrf
	elif [ "$REPLY" -lt 84 ]; then
		op_symlink
	elif [ "$REPLY" -lt 90 ]; then
		op_chmod
	else
		op_create
	fi
	rnd 8
	if [ "$REPLY" = 0 ]; then
		rnd 21
		sleep "0.0$(printf %02d "$REPLY")"
	fi
done
exit 0
