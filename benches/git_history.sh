#!/usr/bin/env bash
# Whole-history git scan: keysift vs Kingfisher on a real repository built from real history.
#
#   benches/git_history.sh [--runs N] [--package NAME] [--versions N] [--tools "keysift kingfisher"]
#
# No public repository can be cloned here, so the repository is built from a package's
# published history: the last VERSIONS (default 360, about 520 MB of distinct blobs) versions of an npm package (default vue,
# about 2 MB of mostly-rebuilt bundles per version), one commit per version, dated with the
# version's publish time, then packed with `git gc` as a real repository would be. Three
# synthetic tokens are planted in three versions and deleted in the next, so both tools have
# something to find in history only. The repository is built once under $BENCH_HOME and reused.
#
# Each tool scans the full history of a bare clone (so neither reads a work tree):
#   keysift git REPO --format jsonl
#   kingfisher scan REPO --git-history full --no-validate --format jsonl
# The table shows medians of wall time, CPU time, peak RSS (GNU time) and findings, with
# wall-time ratios against keysift, all measured in one invocation.
set -euo pipefail

RUNS=3
PACKAGE=vue
VERSIONS=360
TOOLS="keysift kingfisher"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --package) PACKAGE="$2"; shift 2 ;;
    --versions) VERSIONS="$2"; shift 2 ;;
    --tools) TOOLS="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_HOME=${BENCH_HOME:-$HOME/.cache/keysift-bench}
WORK=$BENCH_HOME/work
REPO=$WORK/history-$PACKAGE-$VERSIONS.git
mkdir -p "$WORK"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

install_peers() {
  if [ ! -x /usr/bin/time ] || ! command -v bc >/dev/null; then
    apt-get update -qq && apt-get install -y -qq time bc >/dev/null
  fi
  if [ ! -x "$BENCH_HOME/venv/bin/kingfisher" ]; then
    say "installing Kingfisher into $BENCH_HOME/venv"
    python3 -m venv "$BENCH_HOME/venv"
    "$BENCH_HOME/venv/bin/pip" install -q kingfisher-bin
  fi
}

# Synthetic tokens (valid checksums, never real credentials), planted then deleted.
PLANTED=(
  "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"
  "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"
  "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"
)

build_repo() {
  [ -f "$REPO/keysift-bench-complete" ] && return
  local build=$WORK/history-$PACKAGE-build
  rm -rf "$build" "$REPO"
  mkdir -p "$build/tarballs" "$build/tree"
  say "listing the last $VERSIONS versions of $PACKAGE"
  npm view "$PACKAGE" time --json >"$build/times.json"
  python3 - "$build/times.json" "$VERSIONS" >"$build/versions.txt" <<'PY'
import json, sys
times = json.load(open(sys.argv[1]))
versions = sorted(((t, v) for v, t in times.items() if v not in ("created", "modified")))
for t, v in versions[-int(sys.argv[2]):]:
    print(v, t)
PY
  say "downloading $(wc -l <"$build/versions.txt") tarballs (npm pack)"
  cut -d' ' -f1 "$build/versions.txt" | sed "s/^/$PACKAGE@/" |
    xargs -n 20 -P 4 sh -c 'cd "$0" && npm pack --silent "$@" >/dev/null' "$build/tarballs"
  say "committing one version per commit"
  git init -q -b main "$build/tree"
  local n=0
  while read -r version date; do
    n=$((n + 1))
    find "$build/tree" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
    local tarball
    tarball=$(ls "$build/tarballs/"*"-$version.tgz" 2>/dev/null | head -n 1 || true)
    [ -n "$tarball" ] || { say "  no tarball for $version, skipped"; continue; }
    tar -xzf "$tarball" -C "$build/tree" --strip-components=1 --no-same-owner
    # Plant a token in three versions; the next version's tree no longer has it.
    case $n in
      50|150|250) printf 'GITHUB_TOKEN=%s\n' "${PLANTED[$((n / 100))]}" >"$build/tree/.env.deploy" ;;
    esac
    (cd "$build/tree" && git add -A -f &&
      GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
      git -c user.name="$PACKAGE releases" -c user.email=releases@example.invalid \
        commit -q --allow-empty -m "$PACKAGE $version")
  done <"$build/versions.txt"
  say "packing (git gc)"
  git -C "$build/tree" gc -q
  git clone -q --bare "$build/tree" "$REPO"
  touch "$REPO/keysift-bench-complete"
  rm -rf "$build"
}

measure() {
  case "$1" in
    keysift)    timed json-lines -- "$ROOT/target/release/keysift" git "$REPO" --format jsonl ;;
    kingfisher) timed json-lines -- "$BENCH_HOME/venv/bin/kingfisher" --no-update-check scan --no-validate --git-history full --format jsonl "$REPO" ;;
  esac
}

install_peers
(cd "$ROOT" && cargo build -q --release)
build_repo
commits=$(git -C "$REPO" rev-list --all | wc -l)
blob_bytes=$(git -C "$REPO" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
  awk '$1 == "blob" {s += $2} END {print s}')
pack_bytes=$(du -sb "$REPO/objects" | cut -f1)
say "repository $REPO: $commits commits, $((blob_bytes / 1000000)) MB of distinct blobs, $((pack_bytes / 1000000)) MB packed"
# Warm the page cache.
cat "$REPO"/objects/pack/* >/dev/null

read -r -a tools <<< "$TOOLS"
declare -A wall=() cpu=() rss=() found=()
for run in $(seq "$RUNS"); do
  for tool in "${tools[@]}"; do
    read -r w c r f < <(measure "$tool")
    wall[$tool]+="$w "; cpu[$tool]+="$c "; rss[$tool]+="$r "; found[$tool]=$f
  done
  say "  run $run/$RUNS done"
done
print_table "$(printf 'git history of %s (%d commits, %d MB of blobs; median of %d runs)' \
  "$PACKAGE" "$commits" "$((blob_bytes / 1000000))" "$RUNS")" "$blob_bytes"
