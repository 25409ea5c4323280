#!/usr/bin/env bash
# Peak memory of mxtls scan per open session, COUNT sessions held open at once against
# slow servers on loopback (mxtls serve):
#   before TLS: a tarpit that never sends its banner (the probe waits up to 8 s);
#   inside TLS: a server that answers everything at once but QUIT only after a minute
#               (the probe waits up to 10 s, its TLS session and whole diagnosis open).
# Per session = (peak RSS - peak RSS of a one-at-a-time run) / COUNT. Goal: < 64 KiB.
#
#   bench/scan_memory.sh [COUNT]    (default 10000; needs COUNT + 100 open files)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
mxtls=$PWD/build/release/mxtls
[ -x "$mxtls" ] || { echo "build first: cmake --build --preset release" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((count + 100)) ] || { echo "open-file limit $(ulimit -n) is too low for $count sessions" >&2; exit 2; }
dir=$(mktemp -d /tmp/mxtls-bench-mem-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

serve() {  # serve SCENARIO -> port
  "$mxtls" serve --scenario "$1" --listen 127.0.0.1:0 --max-sessions $((count + 1000)) >"$dir/serve-$2.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$dir/serve-$2.out" && break; sleep 0.05; done
  grep -o 'listening on 127.0.0.1:[0-9]*' "$dir/serve-$2.out" | cut -d: -f2
}
cat >"$dir/slow-quit.yaml" <<'YAML'
name: slow-quit
description: "answers at once, but QUIT only after a minute: probes wait inside TLS"
host: mail.mxtls.test
ehlo: ["250-mail.mxtls.test", "250-PIPELINING", "250 STARTTLS"]
ehlo_after_tls: ["250-mail.mxtls.test", "250 PIPELINING"]
delays:
  QUIT: 60000
YAML
tarpit=$(serve tarpit tarpit)
slow=$(serve "$dir/slow-quit.yaml" slow)

peak() {  # peak RSS in KiB of mxtls scan LIST OPTIONS...
  /usr/bin/time -q -f "%M" -o "$dir/rss" "$mxtls" scan "$@" --per-host-limit 0 --no-injection-test --progress never \
    --out "$dir/out.jsonl" 2>"$dir/scan.err" || true
  tail -1 "$dir/rss"
}
for _ in $(seq 100); do echo "[127.0.0.1]:$tarpit"; done >"$dir/base.txt"
for _ in $(seq "$count"); do echo "[127.0.0.1]:$tarpit"; done >"$dir/tarpit.txt"
for _ in $(seq "$count"); do echo "[127.0.0.1]:$slow"; done >"$dir/slow.txt"

base=$(peak "$dir/base.txt" --concurrency 1 --threads 1 --timeout banner=0.01)
before=$(peak "$dir/tarpit.txt" --concurrency "$count" --timeout banner=8 --timeout connect=30)
before_open=$(grep -c '"phase":"banner"' "$dir/out.jsonl" || true)
inside=$(peak "$dir/slow.txt" --concurrency "$count" --timeout command=10 --timeout connect=30 --timeout tls=30)
inside_open=$(grep -c '"established":true' "$dir/out.jsonl" || true)

awk -v n="$count" -v b="$base" -v p1="$before" -v o1="$before_open" -v p2="$inside" -v o2="$inside_open" 'BEGIN {
  printf "%d sessions at once; one-at-a-time run peaks at %d KiB\n", n, b
  printf "%-44s %10s %14s %8s\n", "", "peak KiB", "KiB/session", "open"
  printf "%-44s %10d %14.1f %8d\n", "before TLS (tarpit, no banner)", p1, (p1 - b) / n, o1
  printf "%-44s %10d %14.1f %8d\n", "inside TLS (QUIT answered after a minute)", p2, (p2 - b) / n, o2
  printf "goal: < 64 KiB per open session\n"
}'
