#!/usr/bin/env bash
# Sendmail's relay mailer as a client: hands one message to the private instance in
# $MXTLS_SENDMAIL_DIR (tests/integration/sendmail-instance), which delivers it to
# 127.0.0.1:PORT in the foreground, then reads Sendmail's verdict on it in the instance's
# maillog. Exit 0: "to=RCPT, ... stat=Sent"; 1: deferred or bounced. A session still open is
# left to the caller's deadline.
set -u
mode=$1 port=$2 dir=$MXTLS_SENDMAIL_DIR
domain=p${port}.may.test
[ "$mode" = required ] && domain=p${port}.required.test
rcpt="b-$$-${RANDOM}@${domain}"
"$(dirname "$0")/../sendmail-instance" send "$dir" "$rcpt" >/dev/null 2>&1
grep -F "to=$rcpt, " "$dir/log/maillog" | grep -qF ", stat=Sent "
