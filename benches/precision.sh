#!/usr/bin/env bash
# Precision on real code: what keysift reports on three real trees that contain no leaked
# credentials of their own (only test keys, documentation examples and look-alikes), so every
# high- or medium-confidence finding is a candidate false positive to review.
#
#   benches/precision.sh [--keysift PATH] [--trees "registry node_modules debian"] [--out DIR]
#
# Trees (built once under $BENCH_HOME/work):
#   registry      ~/.cargo/registry/src: the crates keysift builds with
#   node_modules  `npm install` of popular frameworks and SDKs in a temp project
#   debian        `debootstrap --variant=minbase bookworm`: a Debian root filesystem
#
# For each tree it prints findings by confidence and by signature, and writes every high- and
# medium-confidence finding (path, line, signature, redacted snippet) to OUT/<tree>.review.tsv
# for a person to judge. Run it with the keysift of two commits (--keysift) to get before/after
# figures.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_HOME=${BENCH_HOME:-$HOME/.cache/keysift-bench}
WORK=$BENCH_HOME/work
KEYSIFT=""
TREES="registry node_modules debian"
OUT=$WORK/precision
while [ $# -gt 0 ]; do
  case "$1" in
    --keysift) KEYSIFT="$2"; shift 2 ;;
    --trees) TREES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$WORK" "$OUT"
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

if [ -z "$KEYSIFT" ]; then
  (cd "$ROOT" && cargo build -q --release)
  KEYSIFT=$ROOT/target/release/keysift
fi

tree_dir() {
  case "$1" in
    registry) echo "$HOME/.cargo/registry/src" ;;
    node_modules)
      local dir=$WORK/npm-project
      if [ ! -f "$dir/.complete" ]; then
        say "npm install into $dir"
        rm -rf "$dir" && mkdir -p "$dir"
        (cd "$dir" && npm init -y >/dev/null &&
          npm install --silent --no-audit --no-fund --ignore-scripts \
            next react react-dom express webpack eslint typescript vue @angular/core \
            @aws-sdk/client-s3 firebase stripe openai axios lodash jest >/dev/null)
        touch "$dir/.complete"
      fi
      echo "$dir/node_modules" ;;
    debian)
      debian_rootfs "$WORK/debian-rootfs"
      echo "$WORK/debian-rootfs" ;;
  esac
}

for tree in $TREES; do
  dir=$(tree_dir "$tree")
  bytes=$(du -sb --apparent-size "$dir" 2>/dev/null | cut -f1)
  report=$OUT/$tree.jsonl
  # --follow-symlinks stays off: a root filesystem is full of absolute links.
  "$KEYSIFT" dir "$dir" --format jsonl --confidence low -q >"$report" 2>"$OUT/$tree.stderr" || true
  python3 - "$tree" "$dir" "$report" "$OUT/$tree.review.tsv" "$bytes" <<'PY'
import collections, json, sys
tree, root, report, review, size = sys.argv[1:]
findings = [json.loads(line) for line in open(report) if line.startswith("{")]
by_conf = collections.Counter(f["confidence"] for f in findings)
print(f"\n{tree}: {root} ({int(size) // 1_000_000} MB)")
print(f"  findings: {len(findings)}  high {by_conf['high']}  medium {by_conf['medium']}  low {by_conf['low']}")
by_sig = collections.Counter((f["signature_id"], f["confidence"]) for f in findings if f["confidence"] != "low")
for (sig, conf), n in by_sig.most_common():
    print(f"    {n:5}  {conf:6}  {sig}")
with open(review, "w") as out:
    for f in findings:
        if f["confidence"] == "low":
            continue
        path = f["path"][len(root):].lstrip("/") if f["path"].startswith(root) else f["path"]
        out.write(f"{f['confidence']}\t{f['signature_id']}\t{path}:{f['line']}\t{f['snippet'][:160]}\n")
print(f"  review list: {review}")
PY
done
