#!/usr/bin/env bash
# Exim's smtp transport as a client: hands one message to the private instance in
# $MXTLS_EXIM_DIR (tests/integration/exim-instance), which delivers it to 127.0.0.1:PORT in
# the foreground, then reads Exim's verdict on it in the instance's main log.
# Exit 0: delivered (=>); 1: deferred (==) or bounced (**). A session still open is left to
# the caller's deadline.
set -u
mode=$1 port=$2 dir=$MXTLS_EXIM_DIR
domain=p${port}.may.test
[ "$mode" = required ] && domain=p${port}.required.test
rcpt="b-$$-${RANDOM}@${domain}"
"$(dirname "$0")/../exim-instance" send "$dir" "$rcpt" >/dev/null 2>&1
grep -qF " => $rcpt " "$dir/log/mainlog"
