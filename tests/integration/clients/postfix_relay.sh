#!/usr/bin/env bash
# Postfix smtp(8) as a client: submits one message through the private instance in
# $MXTLS_POSTFIX_DIR and waits for Postfix's verdict on it in the instance's log.
# Exit 0: status=sent; 1: deferred or bounced. A session still open is left to the
# caller's deadline.
set -u
mode=$1 port=$2 dir=$MXTLS_POSTFIX_DIR
domain=may.test
[ "$mode" = required ] && domain=required.test
rcpt="b-${port}-$$-${RANDOM}@${domain}"
"$(dirname "$0")/../postfix-instance" send "$dir" "$rcpt"
while true; do
  line=$(grep -F "to=<$rcpt>" "$dir/maillog" 2>/dev/null | grep -E 'status=(sent|deferred|bounced)' | tail -n 1)
  case "$line" in
  *status=sent*) exit 0 ;;
  *status=deferred* | *status=bounced*)
    postsuper -c "$dir/conf" -d ALL >/dev/null 2>&1
    exit 1
    ;;
  esac
  sleep 0.05
done
