#!/usr/bin/env bash
# Wall time of one probe of a local Postfix smtpd (STARTTLS, self-signed certificate):
# mxtls probe against posttls-finger -l may, measured in the same run, alternating.
#
#   bench/probe_vs_posttls_finger.sh [RUNS]      (default 20; run as root, after scripts/test)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
port=48740
mxtls=build/release/mxtls
[ -x "$mxtls" ] || { echo "build first: cmake --build --preset release" >&2; exit 2; }
dir=$(mktemp -d /tmp/mxtls-bench-XXXXXX)
chmod 755 "$dir"  # Postfix daemons run as user postfix
conf=$(mktemp -d /tmp/mxtls-bench-conf-XXXXXX)
trap 'tests/integration/postfix-instance stop "$dir"; rm -rf "$conf"' EXIT
tests/integration/postfix-instance serve "$dir" "$port"
echo "compatibility_level = 3.6" >"$conf/main.cf"

now_ms() { date +%s%3N; }
total_mxtls=0 total_ptf=0 total_mxtls_full=0
for _ in $(seq "$runs"); do
  t0=$(now_ms); "$mxtls" probe "[127.0.0.1]:$port" --no-injection-test >/dev/null || true; t1=$(now_ms)
  MAIL_CONFIG=$conf posttls-finger -l may -c "[127.0.0.1]:$port" >/dev/null 2>&1 || true; t2=$(now_ms)
  "$mxtls" probe "[127.0.0.1]:$port" >/dev/null || true; t3=$(now_ms)
  total_mxtls=$((total_mxtls + t1 - t0))
  total_ptf=$((total_ptf + t2 - t1))
  total_mxtls_full=$((total_mxtls_full + t3 - t2))
done
awk -v a="$total_mxtls" -v b="$total_ptf" -v c="$total_mxtls_full" -v n="$runs" 'BEGIN {
  printf "runs: %d against Postfix smtpd on 127.0.0.1\n", n
  printf "mxtls probe --no-injection-test : %7.1f ms a probe (same steps as posttls-finger)\n", a / n
  printf "posttls-finger -l may           : %7.1f ms a probe\n", b / n
  printf "mxtls probe (with injection test): %7.1f ms a probe (a second connection)\n", c / n
  printf "ratio mxtls / posttls-finger    : %7.2f (goal: <= 1)\n", a / b
}'
