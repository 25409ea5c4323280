#!/usr/bin/env bash
# OpenSMTPD's mta as a client: one message through a short-lived smtpd of the private instance
# in $MXTLS_OPENSMTPD_DIR (tests/integration/opensmtpd-instance), relayed to 127.0.0.1:PORT
# (MODE may: STARTTLS when offered; required: STARTTLS required). Exit 0: smtpd delivered it;
# 1: TempFail, PermFail or no verdict. The smtpd goes with the run, also when it is killed.
set -u
mode=$1 port=$2 dir=$MXTLS_OPENSMTPD_DIR
domain=x.may.test
[ "$mode" = required ] && domain=x.required.test
exec "$(dirname "$0")/../opensmtpd-instance" send "$dir" "$mode" "$port" "b-$$-${RANDOM}@${domain}"
