#!/usr/bin/env bash
# Hook latency: `keysift git --staged` (pre-commit) and `keysift git --range` (pre-push, CI) on
# a typical commit in a repository of 20,000 files, end to end (process start, signature load,
# diff, scan), measured with hyperfine.
#
#   benches/git_hooks.sh [--files N] [--runs N]
#
# The repository holds N (default 20000) real source files copied from ~/.cargo/registry/src,
# committed once. The "typical commit" edits three files (a few lines each) and adds one new
# file, with no secrets. For scale, `keysift stdin </dev/null` (start-up and signature load
# only) and `git diff --cached --quiet` are measured alongside.
set -euo pipefail

FILES=20000
RUNS=30
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_HOME=${BENCH_HOME:-$HOME/.cache/keysift-bench}
REPO=$BENCH_HOME/work/hooks-$FILES
KEYSIFT=$ROOT/target/release/keysift
say() { printf '>> %s\n' "$*" >&2; }

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
(cd "$ROOT" && cargo build -q --release)

if [ ! -f "$REPO/.git/keysift-bench-complete" ] || [ "$(git -C "$REPO" ls-files | wc -l)" -lt "$FILES" ]; then
  say "building a $FILES-file repository in $REPO"
  rm -rf "$REPO" && mkdir -p "$REPO"
  # Real files: the crates keysift builds with, then Python's standard library, C headers and
  # /usr/share, up to FILES.
  local_sources=("$HOME/.cargo/registry/src" /usr/lib/python3* /usr/include /usr/share)
  remaining=$FILES
  for src in "${local_sources[@]}"; do
    [ "$remaining" -gt 0 ] && [ -d "$src" ] || continue
    dest="$REPO/$(basename "$src")"
    mkdir -p "$dest"
    (cd "$src" && find . -type f -size -200k ! -name '*.pyc' 2>/dev/null | sort | head -n "$remaining" |
      tar -cf - -T - 2>/dev/null) | tar -xf - -C "$dest"
    remaining=$((FILES - $(find "$REPO" -type f | wc -l)))
  done
  git -C "$REPO" init -q -b main
  git -C "$REPO" add -A -f
  git -C "$REPO" -c user.name=bench -c user.email=bench@example.invalid commit -q -m "import"
  touch "$REPO/.git/keysift-bench-complete"
fi
git -C "$REPO" reset -q --hard HEAD
git -C "$REPO" clean -qfd
count=$(git -C "$REPO" ls-files | wc -l)

# A typical commit: three edited files and a new one.
mapfile -t edited < <(git -C "$REPO" ls-files | grep '\.rs$' | awk 'NR % 4000 == 1' | head -n 3)
for f in "${edited[@]}"; do
  printf '\n// A change of a few lines.\nfn added_helper() -> u32 {\n    42\n}\n' >>"$REPO/$f"
done
mkdir -p "$REPO/new_module"
printf 'pub fn new_module() {\n    println!("hello");\n}\n' >"$REPO/new_module/mod.rs"
git -C "$REPO" add -A
say "repository: $count files; staged: ${#edited[@]} edited + 1 new file"

cd "$REPO"
hyperfine -N --warmup 3 --runs "$RUNS" --style basic \
  "$KEYSIFT git --staged --quiet" \
  "git diff --cached --quiet" \
  "$KEYSIFT stdin --quiet" \
  --export-json "$BENCH_HOME/work/hooks-staged.json" -i

git -c user.name=bench -c user.email=bench@example.invalid commit -q -m "typical change"
hyperfine -N --warmup 3 --runs "$RUNS" --style basic \
  "$KEYSIFT git --range HEAD~1..HEAD --quiet" \
  --export-json "$BENCH_HOME/work/hooks-range.json" -i
git reset -q --hard HEAD~1
