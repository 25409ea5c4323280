#!/usr/bin/env bash
# Throughput of mxtls scan against `xargs -P 32 posttls-finger` over the same list, in one
# run: COUNT destinations, all `mxtls serve --scenario compliant` on loopback, each a full
# session (EHLO, STARTTLS, handshake, certificate, EHLO again, QUIT). Reports probes/s,
# CPU per probe (user + system of the prober and its children), the server's CPU per
# probe while each prober ran (it shares the machine with them), and the ratios.
#
#   bench/scan_vs_posttls_finger.sh [COUNT [CONCURRENCY]]
#     COUNT destinations (default 10000), mxtls scan --concurrency (default 500: enough
#     sessions in flight to keep both the scanner and the server busy; 100 leaves cores
#     idle while sessions wait on each other). Run after scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
concurrency=${2:-500}
mxtls=$PWD/build/release/mxtls
[ -x "$mxtls" ] || { echo "build first: cmake --build --preset release" >&2; exit 2; }
command -v posttls-finger >/dev/null || { echo "posttls-finger (Debian package postfix) is needed" >&2; exit 2; }
dir=$(mktemp -d /tmp/mxtls-bench-scan-XXXXXX)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$dir"' EXIT
ulimit -n "$(ulimit -Hn)"

"$mxtls" serve --scenario compliant --listen 127.0.0.1:0 --max-sessions 30000 >"$dir/serve.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/serve.out" && break; sleep 0.05; done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$dir/serve.out" | cut -d: -f2)
[ -n "$port" ] || { cat "$dir/serve.out" >&2; exit 1; }
for _ in $(seq "$count"); do echo "[127.0.0.1]:$port"; done >"$dir/list.txt"
mkdir "$dir/conf" && echo "compatibility_level = 3.6" >"$dir/conf/main.cf"

# wall seconds, user seconds, system seconds of a command and its children, then the
# server's CPU seconds during it
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$server_pid/stat"; }
measure() {
  local before after
  before=$(server_cpu)
  /usr/bin/time -q -f "%e %U %S" -o "$dir/time" "$@" || true
  after=$(server_cpu)
  echo "$(tail -1 "$dir/time") $(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')"
}

read -r ptf_wall ptf_user ptf_sys ptf_server < <(measure sh -c \
  "MAIL_CONFIG=$dir/conf xargs -P 32 -n 1 posttls-finger -l may -c <'$dir/list.txt' >'$dir/ptf.out' 2>&1 || true")
ptf_tls=$(grep -c "TLS connection established" "$dir/ptf.out" || true)

read -r mx_wall mx_user mx_sys mx_server < <(measure "$mxtls" scan "$dir/list.txt" --per-host-limit 0 --concurrency "$concurrency" \
  --no-injection-test --progress never --out "$dir/scan.jsonl" 2>"$dir/scan.err")
mx_tls=$(grep -c '"established":true' "$dir/scan.jsonl" || true)

awk -v n="$count" -v pw="$ptf_wall" -v pu="$ptf_user" -v ps="$ptf_sys" -v pt="$ptf_tls" -v psv="$ptf_server" \
    -v mw="$mx_wall" -v mu="$mx_user" -v ms="$mx_sys" -v mt="$mx_tls" -v msv="$mx_server" -v c="$concurrency" \
    -v cores="$(nproc)" 'BEGIN {
  printf "%d destinations on 127.0.0.1 (mxtls serve --scenario compliant), %d cores\n", n, cores
  printf "%-36s %7s %9s %13s %14s %7s\n", "", "wall s", "probes/s", "CPU ms/probe", "server ms/probe", "TLS ok"
  printf "%-36s %7.1f %9.1f %13.2f %14.2f %7d\n", "xargs -P 32 posttls-finger -l may", pw, n / pw, (pu + ps) * 1000 / n, psv * 1000 / n, pt
  printf "%-36s %7.1f %9.1f %13.2f %14.2f %7d\n", "mxtls scan --concurrency " c, mw, n / mw, (mu + ms) * 1000 / n, msv * 1000 / n, mt
  printf "throughput ratio mxtls scan / posttls-finger: %.1f (goal: >= 10)\n", pw / mw
  printf "CPU ratio posttls-finger / mxtls scan: %.1f\n", (pu + ps) / (mu + ms)
  printf "machine CPU per probe (prober + server): posttls-finger %.2f ms, mxtls scan %.2f ms\n", \
         (pu + ps + psv) * 1000 / n, (mu + ms + msv) * 1000 / n
}'
tail -2 "$dir/scan.err"
