#!/usr/bin/env bash
# bench-scale.sh measures whole processes at 10k, 100k and 1M charges: the wall
# time and peak memory (/usr/bin/time -v's maximum resident set size) of
# `doublecheck import` and `doublecheck scan`, and the dashboard's path from
# launch to the data of its first frame (BenchmarkDashboardLoad: open the
# store, load, detect). Each figure is the median of RUNS runs; CPU seconds
# (user + system, all threads) are in brackets, since the machine is shared. The charge
# files come from scripts/gencharges (about 650 bytes a charge).
#
#   scripts/bench-scale.sh                      # 10k, 100k and 1M, 3 runs each
#   SIZES="10000 100000" RUNS=5 scripts/bench-scale.sh
#
# Needs GNU time at /usr/bin/time. Files and stores go to $DIR (a temporary
# directory by default; about 2.5 GB at 1M charges).
set -euo pipefail
SIZES=${SIZES:-"10000 100000 1000000"}
RUNS=${RUNS:-3}
DIR=${DIR:-$(mktemp -d)}
cd "$(dirname "$0")/.."
go build -o "$DIR/doublecheck" .
go build -o "$DIR/gencharges" ./scripts/gencharges
go test -c -o "$DIR/cli.test" ./cli

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# measure CMD…: runs CMD with stdout discarded and prints "seconds peak-KiB
# cpu-seconds" (user + system: what a machine shared with other work moves less).
measure() {
	if ! /usr/bin/time -f "%e %M %U %S" -o "$DIR/time" "$@" >/dev/null 2>"$DIR/stderr"; then
		cat "$DIR/stderr" >&2
		exit 1
	fi
	awk '{print $1, $2, $3 + $4}' "$DIR/time"
}

echo "| charges | file | import (CPU) | import rate | import peak | scan (CPU) | scan peak | dashboard load (CPU) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $SIZES; do
	file="$DIR/charges-$n.jsonl"
	db="$DIR/store-$n.db"
	"$DIR/gencharges" -n "$n" >"$file"
	: >"$DIR/import" && : >"$DIR/scan"
	for _ in $(seq "$RUNS"); do
		rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
		measure "$DIR/doublecheck" import "$file" --db "$db" >>"$DIR/import"
	done
	for _ in $(seq "$RUNS"); do
		measure "$DIR/doublecheck" scan --db "$db" --format json >>"$DIR/scan"
	done
	# One process a run: later runs in one process reuse its memory and would
	# understate a launch.
	: >"$DIR/load"
	for _ in $(seq "$RUNS"); do
		DOUBLECHECK_BENCH_STORE="$db" "$DIR/cli.test" -test.run '^$' -test.bench DashboardLoad \
			-test.benchtime 1x >>"$DIR/load"
	done
	load=$(awk '/^BenchmarkDashboardLoad/ {print $3 / 1e9}' "$DIR/load" | median)
	load_cpu=$(awk '/^BenchmarkDashboardLoad/ {print $5}' "$DIR/load" | median)
	import_s=$(cut -d' ' -f1 "$DIR/import" | median)
	import_kb=$(cut -d' ' -f2 "$DIR/import" | median)
	import_cpu=$(cut -d' ' -f3 "$DIR/import" | median)
	scan_s=$(cut -d' ' -f1 "$DIR/scan" | median)
	scan_kb=$(cut -d' ' -f2 "$DIR/scan" | median)
	scan_cpu=$(cut -d' ' -f3 "$DIR/scan" | median)
	awk -v n="$n" -v size="$(stat -c %s "$file")" -v is="$import_s" -v ik="$import_kb" \
		-v ic="$import_cpu" -v ss="$scan_s" -v sk="$scan_kb" -v sc="$scan_cpu" -v ls="$load" -v lc="$load_cpu" 'BEGIN {
		printf "| %d | %.0f MB | %.2f s (%.2f) | %.0f charges/s | %.0f MB | %.2f s (%.2f) | %.0f MB | %.2f s (%.2f) |\n",
			n, size / 1e6, is, ic, n / is, ik / 1024, ss, sc, sk / 1024, ls, lc
	}'
done
