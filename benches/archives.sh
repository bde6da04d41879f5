#!/usr/bin/env bash
# Archives: the cost of opening them, on the same content three ways.
#
#   benches/archives.sh [--runs N]
#
# The content is the cargo registry's unpacked sources ($CARGO_HOME/registry/src, whatever this
# machine has downloaded). Built once under $BENCH_HOME:
#   plain   the sources as a directory tree;
#   crates  the registry's .crate files (one tar.gz per crate);
#   jars    the sources zipped (deflate) into three .jar files.
# Each is scanned with `keysift dir DIR --format jsonl`. The table shows medians of wall time,
# CPU time and peak RSS, and MB/s over the bytes of the plain tree (what the archives expand to).
set -euo pipefail

RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_HOME=${BENCH_HOME:-$HOME/.cache/keysift-bench}
WORK=$BENCH_HOME/work
DATA=$WORK/archives
REGISTRY=${CARGO_HOME:-$HOME/.cargo}/registry
mkdir -p "$WORK"
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

if [ ! -f "$DATA/.complete" ]; then
  say "building the archives in $DATA"
  rm -rf "$DATA" && mkdir -p "$DATA/plain" "$DATA/crates" "$DATA/jars"
  cp -r "$REGISTRY"/src/*/. "$DATA/plain/"
  cp "$REGISTRY"/cache/*/*.crate "$DATA/crates/"
  (cd "$DATA/plain" && ls | awk '{print > ("'"$DATA"'/part" NR % 3)}')
  for part in 0 1 2; do
    (cd "$DATA/plain" && xargs zip -q -r "$DATA/jars/part$part.jar" < "$DATA/part$part")
  done
  touch "$DATA/.complete"
fi

say "building keysift (release)"
(cd "$ROOT" && cargo build --release -q)
KEYSIFT=$ROOT/target/release/keysift
bytes=$(du -sb "$DATA/plain" | cut -f1)

printf '\n%-7s %9s %9s %9s %9s %9s %9s\n' input size_MB wall_s cpu_s rss_MB MB/s findings
for input in plain crates jars; do
  walls="" cpus="" rsss="" found=0
  for _ in $(seq "$RUNS"); do
    read -r w c r found < <(timed json-lines -- "$KEYSIFT" dir "$DATA/$input" --format jsonl)
    walls+="$w " cpus+="$c " rsss+="$r "
  done
  w=$(echo "$walls" | tr ' ' '\n' | grep . | median)
  c=$(echo "$cpus" | tr ' ' '\n' | grep . | median)
  r=$(echo "$rsss" | tr ' ' '\n' | grep . | median)
  size=$(du -sb "$DATA/$input" | cut -f1)
  printf '%-7s %9.0f %9.2f %9.2f %9.0f %9.0f %9s\n' "$input" "$(echo "$size / 1000000" | bc -l)" \
    "$w" "$c" "$(echo "$r / 1024" | bc -l)" "$(echo "$bytes / 1000000 / $w" | bc -l)" "$found"
done
