#!/usr/bin/env bash
# Start-up cost: `keysift stdin < /dev/null` with every built-in signature, which is what a git
# hook or a CI step pays before scanning anything. Measured with hyperfine (Debian's package):
#   portable           the default engine (keyword automaton built at start, regexes compiled
#                      lazily on a signature's first keyword hit)
#   hyperscan-warm     --engine hyperscan, its compiled database read from the on-disk cache
#   hyperscan-cold     --engine hyperscan with an empty cache: the database is compiled
#   every-signature    the portable engine on one small text holding every signature's keywords
#                      (the `keywords` lines of signatures/*.toml): the worst first blob, which
#                      builds every signature's regex and pattern facts before it is scanned
# The Hyperscan rows appear when the system has libhs (Debian's libhyperscan-dev).
#
#   benches/startup.sh [--runs N]
set -euo pipefail

RUNS=30
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FEATURES=()
if pkg-config --exists libhs 2>/dev/null; then
  FEATURES=(--features hyperscan)
fi
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
(cd "$ROOT" && cargo build -q --release "${FEATURES[@]}")
KEYSIFT=$ROOT/target/release/keysift
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT
grep -h '^keywords *=' "$ROOT"/signatures/*.toml > "$CACHE/every-keyword.txt"

commands=(-n portable "$KEYSIFT stdin < /dev/null")
commands+=(-n every-signature "$KEYSIFT stdin --quiet < $CACHE/every-keyword.txt")
if [ ${#FEATURES[@]} -gt 0 ]; then
  # Fill the cache once so the warm runs read it.
  XDG_CACHE_HOME=$CACHE "$KEYSIFT" stdin --engine hyperscan </dev/null
  commands+=(-n hyperscan-warm "XDG_CACHE_HOME=$CACHE $KEYSIFT stdin --engine hyperscan < /dev/null")
fi
hyperfine -w 3 -r "$RUNS" "${commands[@]}"
if [ ${#FEATURES[@]} -gt 0 ]; then
  hyperfine -r 3 -n hyperscan-cold --prepare "rm -rf $CACHE/keysift" \
    "XDG_CACHE_HOME=$CACHE $KEYSIFT stdin --engine hyperscan < /dev/null"
fi
