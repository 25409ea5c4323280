#!/usr/bin/env bash
# Throughput of mxtls scan against `xargs -P 32 posttls-finger` over the same list, in one
# run: COUNT destinations, all `mxtls serve --scenario compliant` on loopback, each a full
# session (EHLO, STARTTLS, handshake, certificate, EHLO again, QUIT). Reports probes/s,
# CPU per probe (user + system of the prober and its children), the server's CPU per
# probe while each prober ran, and the ratios.
#
# Two placements of the server, each with both provers:
#   isolated  the server on the last core, both provers on the others (taskset). The server
#             stands in for the remote MTAs a scan meets, whose CPU is not the scanning
#             machine's; this compares the provers alone.
#   shared    server and provers on all cores at once: the server's CPU per probe is paid
#             from the provers' cores, which narrows the ratio of the cheaper prober.
#
#   bench/scan_vs_posttls_finger.sh [COUNT [CONCURRENCY [isolated|shared|both]]]
#     COUNT destinations (default 10000), mxtls scan --concurrency (default 500: enough
#     sessions in flight to keep the cores busy; 100 leaves them idle while sessions wait
#     on each other), which placements (default both). Run after scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
concurrency=${2:-500}
placements=${3:-both}
mxtls=$PWD/build/release/mxtls
[ -x "$mxtls" ] || { echo "build first: cmake --build --preset release" >&2; exit 2; }
command -v posttls-finger >/dev/null || { echo "posttls-finger (Debian package postfix) is needed" >&2; exit 2; }
case $placements in isolated | shared | both) ;; *) echo "placement: isolated, shared or both" >&2; exit 2 ;; esac
cores=$(nproc)
if [ "$placements" != shared ] && { [ "$cores" -lt 2 ] || ! command -v taskset >/dev/null; }; then
  echo "isolated placement needs two cores and taskset (util-linux); measuring shared only" >&2
  placements=shared
fi
dir=$(mktemp -d /tmp/mxtls-bench-scan-XXXXXX)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$dir"' EXIT
ulimit -n "$(ulimit -Hn)"
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

# run LABEL SERVER_CPUS PROBER_CPUS (empty: no pinning)
run() {
  local label=$1 server_pin=() prober_pin=()
  [ -n "$2" ] && server_pin=(taskset -c "$2")
  [ -n "$3" ] && prober_pin=(taskset -c "$3")
  "${server_pin[@]}" "$mxtls" serve --scenario compliant --listen 127.0.0.1:0 --max-sessions 30000 >"$dir/serve.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$dir/serve.out" && break; sleep 0.05; done
  local port
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$dir/serve.out" | cut -d: -f2)
  [ -n "$port" ] || { cat "$dir/serve.out" >&2; exit 1; }
  for _ in $(seq "$count"); do echo "[127.0.0.1]:$port"; done >"$dir/list.txt"

  local ptf_wall ptf_user ptf_sys ptf_server ptf_tls mx_wall mx_user mx_sys mx_server mx_tls
  read -r ptf_wall ptf_user ptf_sys ptf_server < <(measure "${prober_pin[@]}" sh -c \
    "MAIL_CONFIG=$dir/conf xargs -P 32 -n 1 posttls-finger -l may -c <'$dir/list.txt' >'$dir/ptf.out' 2>&1 || true")
  ptf_tls=$(grep -c "TLS connection established" "$dir/ptf.out" || true)
  read -r mx_wall mx_user mx_sys mx_server < <(measure "${prober_pin[@]}" "$mxtls" scan "$dir/list.txt" --per-host-limit 0 \
    --concurrency "$concurrency" --no-injection-test --progress never --out "$dir/scan.jsonl" 2>"$dir/scan.err")
  mx_tls=$(grep -c '"established":true' "$dir/scan.jsonl" || true)
  kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  server_pid=

  awk -v n="$count" -v pw="$ptf_wall" -v pu="$ptf_user" -v ps="$ptf_sys" -v pt="$ptf_tls" -v psv="$ptf_server" \
      -v mw="$mx_wall" -v mu="$mx_user" -v ms="$mx_sys" -v mt="$mx_tls" -v msv="$mx_server" -v c="$concurrency" \
      -v label="$label" 'BEGIN {
    printf "%s\n", label
    printf "  %-36s %7s %9s %13s %15s %7s\n", "", "wall s", "probes/s", "CPU ms/probe", "server ms/probe", "TLS ok"
    printf "  %-36s %7.1f %9.1f %13.2f %15.2f %7d\n", "xargs -P 32 posttls-finger -l may", pw, n / pw, (pu + ps) * 1000 / n, psv * 1000 / n, pt
    printf "  %-36s %7.1f %9.1f %13.2f %15.2f %7d\n", "mxtls scan --concurrency " c, mw, n / mw, (mu + ms) * 1000 / n, msv * 1000 / n, mt
    printf "  throughput ratio mxtls scan / posttls-finger: %.1f (goal: >= 10)\n", pw / mw
    printf "  CPU ratio posttls-finger / mxtls scan: %.1f\n", (pu + ps) / (mu + ms)
    printf "  CPU per probe with the server'"'"'s: posttls-finger %.2f ms, mxtls scan %.2f ms\n", \
           (pu + ps + psv) * 1000 / n, (mu + ms + msv) * 1000 / n
  }'
  sed 's/^/  /' "$dir/scan.err" | tail -2
}

echo "$count destinations on 127.0.0.1 (mxtls serve --scenario compliant), $cores cores"
if [ "$placements" != shared ]; then
  last=$((cores - 1))
  provers=$([ "$last" -eq 1 ] && echo "core 0" || echo "cores 0-$((last - 1))")
  run "isolated: server on core $last, provers on $provers" "$last" "0-$((last - 1))"
fi
if [ "$placements" != isolated ]; then
  run "shared: server and provers on all $cores cores" "" ""
fi
