# Helpers shared by the benchmark scripts (sourced, not run).
#
# A script fills the global arrays `tools` (tool names, keysift first) and, per run, the
# associative arrays `wall cpu rss found` with space-separated samples, then calls print_table.

say() { printf '>> %s\n' "$*" >&2; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# timed COUNT -- CMD...: runs CMD under GNU time with stdout to a file and prints
# "wall_seconds cpu_seconds peak_rss_kb findings". COUNT says how findings are counted from
# stdout: `json-lines` (lines starting with `{`), `lines` (non-empty lines) or `none`.
timed() {
  local count=$1 out timing errors
  shift 2 # COUNT --
  out=$(mktemp "$WORK/out.XXXXXX"); timing=$(mktemp "$WORK/time.XXXXXX"); errors=$(mktemp "$WORK/stderr.XXXXXX")
  rm -f "$timing"
  /usr/bin/time -f '%e %U %S %M' -o "$timing" "$@" >"$out" 2>"$errors" </dev/null || true
  local findings=0
  case "$count" in
    json-lines) findings=$(grep -c '^{' "$out" || true) ;;
    lines) findings=$(grep -c . "$out" || true) ;;
  esac
  if [ ! -s "$timing" ]; then
    say "  $1: no timing recorded: $(tail -n 3 "$errors")"
    echo "nan nan nan $findings"
  else
    local wall user sys rss
    read -r wall user sys rss < <(tail -n 1 "$timing")
    echo "$wall $(echo "$user + $sys" | bc -l) $rss $findings"
  fi
  rm -f "$out" "$timing" "$errors"
}

# print_table TITLE BYTES: medians of each tool's samples, MB/s over BYTES, ratio to keysift.
print_table() {
  local title=$1 bytes=$2 base w c r
  printf '\n%s\n' "$title"
  printf '%-11s %9s %9s %9s %9s %9s %14s\n' tool wall_s cpu_s rss_MB MB/s findings "wall/keysift"
  base=$(echo "${wall[keysift]}" | tr ' ' '\n' | grep . | median)
  for tool in "${tools[@]}"; do
    w=$(echo "${wall[$tool]}" | tr ' ' '\n' | grep . | median)
    c=$(echo "${cpu[$tool]}" | tr ' ' '\n' | grep . | median)
    r=$(echo "${rss[$tool]}" | tr ' ' '\n' | grep . | median)
    if [ "$w" = nan ] || [ "$base" = nan ]; then
      printf '%-11s %9s\n' "$tool" failed
      continue
    fi
    printf '%-11s %9.2f %9.2f %9.0f %9.0f %9s %13.2fx\n' "$tool" "$w" "$c" "$(echo "$r / 1024" | bc -l)" \
      "$(echo "$bytes / 1000000 / $w" | bc -l)" "${found[$tool]}" "$(echo "$w / $base" | bc -l)"
  done
}

# debian_rootfs DIR: a Debian root filesystem (`debootstrap --variant=minbase bookworm`) in DIR,
# built once.
debian_rootfs() {
  local dir=$1
  if [ ! -f "$dir/.complete" ]; then
    command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
    say "debootstrap --variant=minbase bookworm $dir"
    rm -rf "$dir"
    debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >/dev/null
    touch "$dir/.complete"
  fi
}
