#!/usr/bin/env bash
# Side-by-side directory-scan comparison: keysift vs Kingfisher vs ripsecrets, with ripgrep as
# the floor (reading and searching every byte once for a literal that never occurs). When the
# system has libhs (Debian's libhyperscan-dev), keysift is built with the `hyperscan` feature and
# runs twice: `keysift` (its default engine) and `keysift-hyperscan` (`--engine hyperscan`, with
# its compiled database cached under $XDG_CACHE_HOME/keysift after the first run).
#
#   benches/compare.sh [--runs N] [--size SIZE] [--only generated|registry|bigfiles] [--tools "keysift kingfisher ..."]
#
# Corpora:
#   generated  a synthetic tree of SIZE (default 500M) from `cargo run --example gen-corpus`,
#              with planted secrets and an answer key
#   registry   ~/.cargo/registry/src: real code from the crates keysift builds with
#   bigfiles   six 60 MB files cut from the generated corpus: a few huge files, where a scanner
#              that gives each file to one thread leaves cores idle
#
# Peers are installed outside the repository on first use: Kingfisher into a venv under
# $BENCH_HOME (pip install kingfisher-bin), ripsecrets with `cargo install`, ripgrep and GNU time
# from Debian. Each tool runs RUNS times per corpus (default 5); the table shows medians of wall
# time, CPU time (user+sys), peak RSS (GNU time), throughput, findings, and wall-time ratios
# against keysift. All tools run with their default thread counts on the same machine in the
# same invocation, so the ratios are comparable even when the machine is noisy.
set -euo pipefail

RUNS=5
SIZE=500M
ONLY=""
TOOLS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --tools) TOOLS="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FEATURES=()
if pkg-config --exists libhs 2>/dev/null; then
  FEATURES=(--features hyperscan)
fi
if [ -z "$TOOLS" ]; then
  TOOLS="keysift${FEATURES:+ keysift-hyperscan} kingfisher ripsecrets ripgrep"
fi
BENCH_HOME=${BENCH_HOME:-$HOME/.cache/keysift-bench}
WORK=$BENCH_HOME/work
mkdir -p "$WORK"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

install_peers() {
  if ! command -v rg >/dev/null || [ ! -x /usr/bin/time ]; then
    say "installing ripgrep and GNU time (apt)"
    apt-get update -qq && apt-get install -y -qq ripgrep time >/dev/null
  fi
  if [ ! -x "$BENCH_HOME/venv/bin/kingfisher" ]; then
    say "installing Kingfisher into $BENCH_HOME/venv"
    python3 -m venv "$BENCH_HOME/venv"
    "$BENCH_HOME/venv/bin/pip" install -q kingfisher-bin
  fi
  if ! command -v ripsecrets >/dev/null; then
    say "installing ripsecrets (cargo install)"
    cargo install -q ripsecrets
  fi
}

build_keysift() {
  say "building keysift (release)"
  (cd "$ROOT" && cargo build -q --release "${FEATURES[@]}" && cargo build -q --release --example gen-corpus)
  KEYSIFT=$ROOT/target/release/keysift
}

corpus_dir() {
  case "$1" in
    generated)
      local dir=$WORK/generated-$SIZE
      if [ ! -f "$dir.answer-key.json" ]; then
        say "generating $SIZE corpus in $dir"
        rm -rf "$dir"
        "$ROOT/target/release/examples/gen-corpus" "$dir" "$SIZE" 1 >&2
      fi
      echo "$dir" ;;
    registry) echo "$HOME/.cargo/registry/src" ;;
    bigfiles)
      local source dir=$WORK/bigfiles
      source=$(corpus_dir generated)
      if [ ! -f "$dir/.complete" ]; then
        say "cutting six 60 MB files from $source into $dir"
        rm -rf "$dir" && mkdir -p "$dir"
        # (head closes the pipe early on purpose: cat's SIGPIPE is expected.)
        find "$source" -type f -print0 | sort -z | xargs -0 cat 2>/dev/null | head -c 360000000 |
          split -b 60000000 -d - "$dir/part-"
        touch "$dir/.complete"
      fi
      echo "$dir" ;;
  esac
}

# Prints "wall_seconds cpu_seconds peak_rss_kb findings" for one run of a tool.
measure() {
  local tool=$1 dir=$2
  case "$tool" in
    keysift)    timed json-lines -- "$KEYSIFT" dir "$dir" --format jsonl ;;
    keysift-hyperscan) timed json-lines -- "$KEYSIFT" dir "$dir" --format jsonl --engine hyperscan ;;
    kingfisher) timed json-lines -- "$BENCH_HOME/venv/bin/kingfisher" --no-update-check scan --no-validate --format jsonl "$dir" ;;
    ripsecrets) timed lines -- ripsecrets "$dir" ;;
    ripgrep)    timed none -- rg -c --no-ignore --hidden zqxjkvbwpfzqxjkv "$dir" ;;
  esac
}

compare_on() {
  local name=$1 dir bytes
  dir=$(corpus_dir "$name")
  bytes=$(du -sb --apparent-size "$dir" | cut -f1)
  say "corpus $name: $dir ($((bytes / 1000000)) MB), $RUNS runs per tool"
  # Warm the page cache so every tool reads from memory.
  rg -c --no-ignore --hidden zqxjkvbwpfzqxjkv "$dir" >/dev/null 2>&1 || true
  read -r -a tools <<< "$TOOLS"
  declare -gA wall=() cpu=() rss=() found=()
  for run in $(seq "$RUNS"); do
    for tool in "${tools[@]}"; do
      read -r w c r f < <(measure "$tool" "$dir")
      wall[$tool]+="$w "; cpu[$tool]+="$c "; rss[$tool]+="$r "; found[$tool]=$f
    done
    say "  run $run/$RUNS done"
  done
  print_table "$(printf '%s (%d MB, median of %d runs)' "$name" "$((bytes / 1000000))" "$RUNS")" "$bytes"
}

install_peers
build_keysift
for corpus in generated registry bigfiles; do
  if [ -z "$ONLY" ] || [ "$ONLY" = "$corpus" ]; then
    compare_on "$corpus"
  fi
done
