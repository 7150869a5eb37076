#!/bin/bash
# tests/soak.sh MINUTES: a soak test of poni (not run by make check).
#
# poni mirrors a local tree (interval 0, recurse, delete) while churn.sh
# runs in a loop on it for MINUTES minutes (batches of 200 operations,
# seeds SEED, SEED+1, ...; SEED from $SOAK_SEED or random). Every minute
# it prints poni's resident memory (VmRSS), its open file descriptors,
# the runs so far (ok, failed, full) and the size of the tree. At the end
# the churn stops and the replica must converge (within 60 s); a summary
# follows. Exit 0 when it converged, poni still ran, it watches exactly
# the tree's directories, and the fds did not grow (more than 4 over the
# first sample); 1 otherwise.
#
# Environment: SOAK_SEED, SOAK_INTERVAL (poni's interval, default 0),
# PONI (the binary, default ./poni).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_faults.sh
. "$(dirname "$0")/lib_faults.sh"

if [ $# -ne 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
	echo "usage: $0 MINUTES" >&2
	exit 2
fi
MINUTES=$1
SEED=${SOAK_SEED:-$(churn_seed)}
TEST_NAME=soak
T=$(mktemp -d "${TMPDIR:-/tmp}/poni-soak.XXXXXX") || exit 1
CONF=$T/poni.yml
CHURN_PID=
trap soak_cleanup EXIT
trap 'exit 130' INT TERM

soak_cleanup() {
	local st=$?
	if [ -n "$CHURN_PID" ]; then
		touch "$T/stop"
		kill "$CHURN_PID" 2>/dev/null
		wait "$CHURN_PID" 2>/dev/null
	fi
	(exit "$st")
	cleanup
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$PONI_PID/status" 2>/dev/null
}

fd_count() {
	find "/proc/$PONI_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

entries() {
	find "$T/src" -mindepth 1 2>/dev/null | wc -l
}

# churn_loop: batches of 200 operations until $T/stop exists; the number
# of batches done goes to $T/batches.
churn_loop() {
	local k=0
	while [ ! -e "$T/stop" ]; do
		"$CHURN" $((SEED + k)) 200 "$T/src" >>"$T/churn.out" 2>&1
		k=$((k + 1))
		echo "$k" >"$T/batches"
	done
}

sample() {
	printf '%4s  %8s  %4s  %7s  %6s  %5s  %7s\n' "$1" "$(rss_kb)" "$(fd_count)" \
		"$(count_runs)" "$(count_log ': failed in ')" \
		"$(count_log 'ok in [0-9.]+ s \(full\)')" "$(entries)"
}

echo "soak: $MINUTES min, seed $SEED, poni $PONI, workspace $T"
"$CHURN" "$SEED" 100 "$T/src" >"$T/churn.out" 2>&1
SEED=$((SEED + 1))
{
	echo "sync:"
	sync_local "$T/src/" "$T/dst" "interval: ${SOAK_INTERVAL:-0}"
} | write_conf
start_poni "$CONF"
wait_runs 1 30
printf '%4s  %8s  %4s  %7s  %6s  %5s  %7s\n' min rss_kB fds runs_ok failed full entries
sample 0
rss0=$(rss_kb) fd0=$(fd_count) rss_max=$rss0 fd_max=$fd0
churn_loop &
CHURN_PID=$!
start=$(now_us)
for ((m = 1; m <= MINUTES; m++)); do
	while [ $(($(now_us) - start)) -lt $((m * 60000000)) ]; do
		sleep 1
		poni_alive || break 2
	done
	sample "$m"
	r=$(rss_kb) f=$(fd_count)
	[ "${r:-0}" -gt "$rss_max" ] && rss_max=$r
	[ "${f:-0}" -gt "$fd_max" ] && fd_max=$f
done
touch "$T/stop"
wait "$CHURN_PID"
CHURN_PID=
batches=$(cat "$T/batches" 2>/dev/null || echo 0)
t0=$(now_us)
ok=1
if ! poni_alive; then
	echo "soak: FAIL: poni died"
	tail -n 20 "$T/poni.log"
	exit 1
fi
if wait_until 60 same_mirror "$T/src" "$T/dst"; then
	conv="converged in $(awk -v d=$(($(now_us) - t0)) 'BEGIN { printf "%.1f", d / 1e6 }') s"
else
	conv="did NOT converge within 60 s"
	show_mirror_diff "$T/src" "$T/dst"
	ok=0
fi
settle
if wait_until 5 watches_match "$PONI_PID" "$T/src"; then
	watched="watches: every directory ($(dir_inodes "$T/src" | wc -l)), nothing else"
else
	watched="watches: NOT the tree's directories ($(kernel_watches "$PONI_PID" | wc -l) for $(dir_inodes "$T/src" | wc -l))"
	ok=0
fi
rss1=$(rss_kb) fd1=$(fd_count)
echo "soak: $MINUTES min, $((batches * 200 + 100)) operations ($batches batches of 200, seeds from $((SEED - 1)))"
echo "soak: runs ok $(count_runs) (full $(count_log 'ok in [0-9.]+ s \(full\)')), failed $(count_log ': failed in '), overflows $(count_log 'queue overflow'), vanished-files runs $(count_log 'some files vanished')"
echo "soak: VmRSS start ${rss0} kB, end ${rss1} kB, max ${rss_max} kB; fds start $fd0, end $fd1, max $fd_max"
echo "soak: tree $(entries) entries; replica $conv; $watched"
if [ "$fd1" -gt $((fd0 + 4)) ]; then
	echo "soak: file descriptors grew from $fd0 to $fd1"
	ok=0
fi
stop_poni TERM || ok=0
if [ "$ok" = 1 ]; then
	echo "soak: PASS"
else
	echo "soak: FAIL"
	exit 1
fi
