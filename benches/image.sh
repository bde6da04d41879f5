#!/usr/bin/env bash
# Container-image scan: keysift vs Kingfisher on a realistic image, side by side.
#
#   benches/image.sh [--runs N] [--tools "keysift kingfisher"]
#
# The image is a Debian root filesystem (`debootstrap --variant=minbase bookworm`) split into
# three gzip layers (/usr, /var and /etc, the rest) plus an application layer with planted
# synthetic secrets, one of which a later layer deletes. It is written as a `docker save`
# tarball (classic layout) and as an OCI image layout directory, both built once under
# $BENCH_HOME. Each tool scans the tarball:
#   keysift image FILE --format jsonl
#   kingfisher scan docker --archive FILE --no-validate --format jsonl
# and keysift also scans the OCI layout. The table shows medians of wall time, CPU time, peak
# RSS (GNU time) and findings, with wall-time ratios against keysift.
set -euo pipefail

RUNS=3
TOOLS="keysift kingfisher"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --tools) TOOLS="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_HOME=${BENCH_HOME:-$HOME/.cache/keysift-bench}
WORK=$BENCH_HOME/work
ROOTFS=$WORK/debian-rootfs
IMAGE=$WORK/image-bench
mkdir -p "$WORK"
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

debian_rootfs "$ROOTFS"
if [ ! -f "$IMAGE/.complete" ]; then
  say "building the image in $IMAGE"
  rm -rf "$IMAGE" && mkdir -p "$IMAGE"
  python3 - "$ROOTFS" "$IMAGE" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile

rootfs, out = sys.argv[1:]
# Synthetic tokens with valid checksums: never real credentials.
tokens = ["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", "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",
          "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"]

def layer_of(select):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for top in sorted(os.listdir(rootfs)):
            if top == ".complete" or not select(top):
                continue
            tar.add(os.path.join(rootfs, top), arcname=top, recursive=True)
    return buf.getvalue()

def files_layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()

layers = [
    layer_of(lambda t: t == "usr"),
    layer_of(lambda t: t == "var"),
    layer_of(lambda t: t not in ("usr", "var")),
    files_layer([("app/config/.env", f"GITHUB_TOKEN={tokens[0]}\n".encode()),
                 ("app/settings.yaml", f"deploy:\n  token: {tokens[1]}\n".encode()),
                 ("app/old.env", f"OLD_TOKEN={tokens[2]}\n".encode())]),
    files_layer([("app/.wh.old.env", b"")]),
]
compressed = [gzip.compress(l, compresslevel=6) for l in layers]
history = [{"created_by": c} for c in
           ["debootstrap /usr", "debootstrap /var", "debootstrap rest", "COPY app /app", "RUN rm /app/old.env"]]
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers",
                                "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]},
                     "history": history}).encode()
sha = lambda b: hashlib.sha256(b).hexdigest()

# docker save (classic layout)
with tarfile.open(os.path.join(out, "image.tar"), "w") as tar:
    def add(name, data):
        info = tarfile.TarInfo(name); info.size = len(data); tar.addfile(info, io.BytesIO(data))
    names = []
    for i, layer in enumerate(compressed):
        name = f"{sha(layer)}/layer.tar"
        add(name, layer); names.append(name)
    add(f"{sha(config)}.json", config)
    add("manifest.json", json.dumps([{"Config": f"{sha(config)}.json", "RepoTags": ["bench:1"], "Layers": names}]).encode())

# OCI layout directory
def blob(data):
    path = os.path.join(out, "oci", "blobs", "sha256", sha(data))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(data)
    return {"digest": "sha256:" + sha(data), "size": len(data)}
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(blob(config), mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(blob(l), mediaType="application/vnd.oci.image.layer.v1.tar+gzip") for l in compressed]}).encode()
index = {"schemaVersion": 2, "manifests": [dict(blob(manifest), mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "bench:1"})]}
open(os.path.join(out, "oci", "index.json"), "w").write(json.dumps(index))
open(os.path.join(out, "oci", "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
print(f"{sum(map(len, layers)) // 1_000_000} MB uncompressed in {len(layers)} layers", file=sys.stderr)
PY
  touch "$IMAGE/.complete"
fi
if [[ " $TOOLS " == *" kingfisher "* ]] && [ ! -x "$BENCH_HOME/venv/bin/kingfisher" ]; then
  python3 -m venv "$BENCH_HOME/venv" && "$BENCH_HOME/venv/bin/pip" install -q kingfisher-bin
fi
(cd "$ROOT" && cargo build -q --release)

measure() {
  case "$1" in
    keysift)     timed json-lines -- "$ROOT/target/release/keysift" image "$IMAGE/image.tar" --format jsonl ;;
    keysift-oci) timed json-lines -- "$ROOT/target/release/keysift" image "$IMAGE/oci" --format jsonl ;;
    kingfisher)  timed json-lines -- "$BENCH_HOME/venv/bin/kingfisher" --no-update-check scan docker --archive "$IMAGE/image.tar" --no-validate --format jsonl ;;
  esac
}

read -r -a tools <<< "$TOOLS"
tools=("${tools[0]}" keysift-oci "${tools[@]:1}")
declare -A wall=() cpu=() rss=() found=()
bytes=$(du -sb --apparent-size "$IMAGE/image.tar" | cut -f1)
cat "$IMAGE/image.tar" >/dev/null
for run in $(seq "$RUNS"); do
  for tool in "${tools[@]}"; do
    read -r w c r f < <(measure "$tool")
    wall[$tool]+="$w "; cpu[$tool]+="$c "; rss[$tool]+="$r "; found[$tool]=$f
  done
  say "  run $run/$RUNS done"
done
print_table "$(printf 'image: debootstrap minbase bookworm in 3 gzip layers + 2 app layers (%d MB compressed; MB/s of compressed input; median of %d runs)' "$((bytes / 1000000))" "$RUNS")" "$bytes"
