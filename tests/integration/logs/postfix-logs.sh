#!/usr/bin/env bash
# Writes the mail log of a real Postfix delivering to mxtls serve scenarios, one private
# Postfix instance per scenario (a failed destination would otherwise suspend the next
# ones: Postfix's queue manager marks the one next hop, [127.0.0.1]:PORT, dead).
# Each scenario gets its own recipient domains: m@NAME.may.test (TLS may), r@NAME.required.test
# (encrypt) and v@NAME.verify.test (verify). Log lines are appended to OUT in scenario order.
#
#   postfix-logs.sh MXTLS OUT SCENARIO...      (SCENARIO "refused": nothing listens)
set -euo pipefail
mxtls=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
pf=$here/postfix-instance
: >"$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for sc in "$@"; do
  dir=$(mktemp -d /tmp/mxtls-postfix-logs.XXXXXX)
  srv=
  if [ "$sc" != refused ]; then
    "$mxtls" serve --scenario "$sc" --listen "127.0.0.1:$port" -q &
    srv=$!
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  fi
  "$pf" start "$dir" "$port"
  for r in "m@$sc.may.test" "r@$sc.required.test" "v@$sc.verify.test"; do "$pf" send "$dir" "$r"; done
  # Every recipient ends with a status= line (sent, deferred or bounced) within the
  # instance's timeouts (10 s a phase at most).
  for _ in $(seq 600); do
    [ "$(grep -c ' status=' "$dir/maillog" 2>/dev/null || true)" -ge 3 ] && break
    sleep 0.05
  done
  cat "$dir/maillog" >>"$out"
  "$pf" stop "$dir"
  if [ -n "$srv" ]; then kill "$srv"; wait "$srv" 2>/dev/null || true; fi
done
