#!/usr/bin/env bash
# The manual pages cannot drift from the program: every command has a page (and a line in
# mxtls(1)), every option `mxtls COMMAND --help` shows is described in that command's page,
# every option a page describes exists, and man(1) formats each page without a warning.
# Usage: man_pages_test.sh MXTLS_BINARY MAN_DIR (docs/man)
set -uo pipefail
mxtls=$1
man_dir=$2
status=0
fail() { echo "FAIL: $*" >&2; status=1; }
command -v man >/dev/null || { echo "FAIL: man is not installed (scripts/install-deps installs man-db)" >&2; exit 1; }

# In a page, an option is written \fB\-\-name\fR (and \fB\-x\fR for a short one).
roff_option() { sed 's/-/\\-/g; s/^/\\fB/; s/$/\\fR/' <<<"$1"; }

commands=$("$mxtls" __complete commands) || { echo "FAIL: mxtls __complete commands" >&2; exit 1; }
for cmd in $commands; do
  grep -q "^\.B $cmd\b" "$man_dir/mxtls.1" || fail "mxtls.1 does not list the command '$cmd'"
  [[ $cmd == help || $cmd == version ]] && continue
  page=$man_dir/mxtls-$cmd.1
  [ -e "$page" ] || { fail "no manual page for 'mxtls $cmd' ($page)"; continue; }
  help=$("$mxtls" "$cmd" --help)
  # Option lines of --help: "  -s,--scenario TEXT ...", "  --raw ...".
  shown=$(grep -E '^  -' <<<"$help" | sed -E 's/^  //; s/[ =].*//' | tr ',' '\n' | grep -E '^-' | sort -u)
  for opt in $shown; do
    grep -qF -- "$(roff_option "$opt")" "$page" ||
      fail "mxtls-$cmd.1 does not describe $opt (shown by 'mxtls $cmd --help'); add it under OPTIONS"
  done
  # Options a page describes (the line after each .TP) that --help does not show.
  described=$(awk 'prev == ".TP" { print } { prev = $0 }' "$page" | grep -oE '\\fB(\\-)+[A-Za-z0-9\\-]+\\fR' |
              sed 's/\\fB//; s/\\fR//; s/\\-/-/g' | sort -u)
  for opt in $described; do
    grep -qx -- "$opt" <<<"$shown" || fail "mxtls-$cmd.1 describes $opt, which 'mxtls $cmd --help' does not show"
  done
done
for page in "$man_dir"/*.1; do
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
done
[ $status = 0 ] && echo "manual pages: every command and option of $("$mxtls" --version | head -n1) described"
exit $status
