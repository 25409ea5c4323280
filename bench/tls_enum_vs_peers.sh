#!/usr/bin/env bash
# The TLS enumeration of one `mxtls serve` scenario by mxtls against sslscan and testssl.sh,
# in the same run, on the same server (loopback, STARTTLS on SMTP):
#   mxtls probe --check tls-enum --skip injection,tls-senders [127.0.0.1]:PORT
#   sslscan --starttls-smtp --no-colour 127.0.0.1:PORT
#   testssl.sh --starttls smtp --quiet --color 0 --warnings off 127.0.0.1:PORT  (its default run)
#   testssl.sh --starttls smtp -p -e ...   (only what mxtls and sslscan enumerate: protocols, each cipher)
# Wall time of each, RUNS times for mxtls and sslscan (median), once for testssl.sh (it
# takes minutes); the ratios are of the medians. Goals (the TLS layer issue): mxtls at least
# 10x faster than sslscan and 100x faster than testssl.sh --starttls smtp.
# The server is `mxtls serve --threads 2` (THREADS), which serves sessions side by side on
# both cores as a real MTA does (Postfix runs an smtpd process a connection); mxtls and
# sslscan also meet the same scenario on one thread (`--threads 1`, a second server), in
# the same rounds: sslscan's hellos come one after another, so the server's threads are
# mxtls's gain only, and both figures are printed.
#
#   [MXTLS=path] [SCENARIO=dual-cert] [PORT=24760] [THREADS=2] bench/tls_enum_vs_peers.sh [RUNS]
#     RUNS of mxtls and of sslscan (default 5). MXTLS: the mxtls binary (default
#     build/release/mxtls). Needs sslscan and testssl.sh (scripts/install-deps).
set -euo pipefail
export LC_NUMERIC=C  # a point in $EPOCHREALTIME, whatever the caller's locale
cd "$(dirname "$0")/.."
runs=${1:-5}
scenario=${SCENARIO:-dual-cert}
port=${PORT:-24760}
threads=${THREADS:-2}
mxtls=${MXTLS:-build/release/mxtls}
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $runs -le 100 ]] || { echo "RUNS: 1 to 100" >&2; exit 2; }
[ -x "$mxtls" ] || { echo "no mxtls at $mxtls: build first (cmake --build --preset release) or set MXTLS" >&2; exit 2; }
testssl=$(command -v testssl || command -v testssl.sh || true)
for tool in sslscan python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (scripts/install-deps)" >&2; exit 2; }
done
[ -n "$testssl" ] || { echo "testssl.sh is needed (scripts/install-deps)" >&2; exit 2; }

[[ $threads =~ ^[0-9]+$ && $threads -ge 1 && $threads -le 256 ]] || { echo "THREADS: 1 to 256" >&2; exit 2; }
port1=$((port + 1))  # the one-thread server's

work=$(mktemp -d /tmp/mxtls-bench-enum-XXXXXX)
"$mxtls" serve --scenario "$scenario" --listen "127.0.0.1:$port" --threads "$threads" -q &
server=$!
"$mxtls" serve --scenario "$scenario" --listen "127.0.0.1:$port1" --threads 1 -q &
server1=$!
trap 'kill $server $server1 2>/dev/null; wait $server $server1 2>/dev/null; rm -rf "$work"' EXIT
for p in "$port" "$port1"; do
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
    sleep 0.05
  done
done

# Seconds of wall time of one command (its output to a file), from bash's own clock
# ($EPOCHREALTIME, in microseconds once its point is taken out) and bash's arithmetic: no
# process is started inside the interval measured, nor between one measurement and the next
# (a python3 started there to subtract made the next command about 2 ms slower).
wall() {
  local out=$1
  shift
  local start end us
  start=$EPOCHREALTIME
  "$@" >"$out" 2>&1 || true
  end=$EPOCHREALTIME
  us=$((${end/./} - ${start/./}))
  printf '%d.%03d\n' $((us / 1000000)) $((us % 1000000 / 1000))
}
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }

mx=() ss=() mx1=() ss1=()
for i in $(seq "$runs"); do
  mx+=("$(wall "$work/mxtls.json" "$mxtls" probe --check tls-enum --skip injection,tls-senders --json "[127.0.0.1]:$port")")
  ss+=("$(wall "$work/sslscan.txt" sslscan --starttls-smtp --no-colour "127.0.0.1:$port")")
  mx1+=("$(wall "$work/mxtls1.json" "$mxtls" probe --check tls-enum --skip injection,tls-senders --json "[127.0.0.1]:$port1")")
  ss1+=("$(wall "$work/sslscan1.txt" sslscan --starttls-smtp --no-colour "127.0.0.1:$port1")")
done
ts_pe=$(wall "$work/testssl-pe.txt" "$testssl" --starttls smtp -p -e --quiet --color 0 --warnings off "127.0.0.1:$port")
ts_all=$(wall "$work/testssl.txt" "$testssl" --starttls smtp --quiet --color 0 --warnings off "127.0.0.1:$port")
handshakes=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['hosts'][0]['checks']['tls_enum']['handshakes'])" "$work/mxtls.json")
m=$(median "${mx[@]}")
s=$(median "${ss[@]}")
m1=$(median "${mx1[@]}")
s1=$(median "${ss1[@]}")
python3 - "$scenario" "$runs" "$m" "$s" "$ts_pe" "$ts_all" "$handshakes" "${mx[*]}" "${ss[*]}" "$threads" "$m1" "$s1" <<'EOF'
import sys
scenario, runs, m, s, tpe, tall, hs, mxs, sss, threads, m1, s1 = sys.argv[1:]
m, s, tpe, tall, m1, s1 = map(float, (m, s, tpe, tall, m1, s1))
print(f"scenario {scenario}, loopback, mxtls serve --threads {threads}, {runs} runs of mxtls and sslscan (median), one of each testssl.sh")
print(f"  mxtls probe --check tls-enum      {m:8.3f} s   ({hs} handshakes; runs: {mxs})")
print(f"  sslscan --starttls-smtp           {s:8.3f} s   (runs: {sss})   {s / m:7.1f}x mxtls  (goal 10x)")
print(f"  testssl.sh --starttls smtp -p -e  {tpe:8.3f} s                  {tpe / m:7.1f}x mxtls")
print(f"  testssl.sh --starttls smtp        {tall:8.3f} s                  {tall / m:7.1f}x mxtls  (goal 100x)")
print(f"the same scenario on mxtls serve --threads 1, in the same rounds:")
print(f"  mxtls probe --check tls-enum      {m1:8.3f} s")
print(f"  sslscan --starttls-smtp           {s1:8.3f} s                  {s1 / m1:7.1f}x mxtls")
EOF
