#!/usr/bin/env bash
# The conventions every user expects, as a user meets them: version, help, the nearest
# command, "mxtls COMMAND:" errors with a hint, --json, -q, --color and NO_COLOR, and
# mxtls serve's --allow-remote. Every server runs on 127.0.0.1 and is stopped here.
# Usage: cli_conventions_test.sh MXTLS_BINARY SOURCE_DIR
set -uo pipefail
mxtls=$1
src=$2
status=0
fail() { echo "FAIL: $*" >&2; status=1; }
expect() {  # expect NAME WANTED_EXIT COMMAND...: runs it, keeps stdout in $out and stderr in $err
  local name=$1 want=$2; shift 2
  out=$("$@" 2>/tmp/mxtls-cli-err.$$); local got=$?
  err=$(cat /tmp/mxtls-cli-err.$$)
  [ "$got" = "$want" ] || fail "$name: exit $got, wanted $want (stderr: $err)"
}
has() { grep -qE -- "$2" <<<"$1" || fail "$3: wanted /$2/ in: $1"; }

# Version: the same text from both spellings, with commit, build type and library versions.
expect "--version" 0 "$mxtls" --version
version_text=$out
expect "version" 0 "$mxtls" version
[ "$out" = "$version_text" ] || fail "mxtls version and mxtls --version differ"
for field in '^mxtls [0-9]+\.[0-9]+\.[0-9]+$' '^  commit +[^ ]' '^  build type +[A-Za-z]' '^  OpenSSL +OpenSSL [0-9]' \
             '^  libunbound +[0-9]' '^  yaml-cpp +[0-9]' '^  fmt +[0-9]' '^  libidn2 +[0-9]' \
             '^  libcurl +[0-9]+\.[0-9]+.* \(OpenSSL/' '^  zlib +[0-9]'; do
  has "$out" "$field" "mxtls version"
done

# Help.
expect "help" 0 "$mxtls" help
has "$out" '^  probe +' "mxtls help"
has "$out" '^  version +' "mxtls help"
expect "help probe" 0 "$mxtls" help probe
expect "probe --help" 0 "$mxtls" probe --help
[ "$out" = "$("$mxtls" help probe)" ] || fail "mxtls help probe differs from mxtls probe --help"
expect "help prbe" 2 "$mxtls" help prbe
has "$err" "did you mean 'probe'" "mxtls help prbe"

# An unknown command: the nearest one, and the hint.
expect "prob" 2 "$mxtls" prob example.com
has "$err" "^mxtls: 'prob' is not a command; did you mean 'probe'\?" "mxtls prob"
has "$err" "^run 'mxtls --help'" "mxtls prob"
expect "srve" 2 "$mxtls" srve
has "$err" "did you mean 'serve'" "mxtls srve"
expect "xyzzy" 2 "$mxtls" xyzzy
grep -q "did you mean" <<<"$err" && fail "mxtls xyzzy suggested a command: $err"
expect "no command" 2 "$mxtls"
has "$err" "^mxtls: " "mxtls without a command"

# Parser errors: "mxtls COMMAND: ..." and the hint, for every command.
for cmd in lint serve probe scan demo; do
  expect "$cmd --no-such-option" 2 "$mxtls" "$cmd" --no-such-option
  has "$err" "^mxtls $cmd: " "mxtls $cmd --no-such-option"
  has "$err" "run 'mxtls $cmd --help' for its options\$" "mxtls $cmd --no-such-option"
done
expect "lint --format xml" 2 "$mxtls" lint --format xml "$src/examples/seed-transcript.txt"
has "$err" "^mxtls lint: .*xml" "mxtls lint --format xml"

# lint: --json is --format json; -q prints nothing and keeps the exit code; colour.
seed=$src/examples/seed-transcript.txt
expect "lint --json" 1 "$mxtls" lint --json "$seed"
json_out=$out
expect "lint --format json" 1 "$mxtls" lint --format json "$seed"
[ "$out" = "$json_out" ] || fail "lint --json differs from --format json"
expect "lint -q" 1 "$mxtls" lint -q "$seed"
[ -z "$out$err" ] || fail "lint -q printed: $out$err"
expect "lint --quiet compliant" 0 "$mxtls" lint --quiet "$src/examples/seed-compliant.txt"
[ -z "$out" ] || fail "lint --quiet printed: $out"
expect "lint --color always" 1 "$mxtls" lint --color always "$seed"
grep -q $'\033\[' <<<"$out" || fail "lint --color always: no colour"
expect "lint --color never" 1 "$mxtls" lint --color never "$seed"
grep -q $'\033\[' <<<"$out" && fail "lint --color never: colour"
# auto on a terminal, with and without NO_COLOR (script(1) gives the terminal).
if command -v script >/dev/null; then
  tty_out=$(script -qc "$mxtls lint --color auto $seed" /dev/null)
  grep -q $'\033\[' <<<"$tty_out" || fail "lint --color auto on a terminal: no colour"
  tty_out=$(NO_COLOR=1 script -qc "$mxtls lint --color auto $seed" /dev/null)
  grep -q $'\033\[' <<<"$tty_out" && fail "lint with NO_COLOR on a terminal: colour"
fi

# serve: loopback by default; another address needs --allow-remote, and then a warning.
expect "serve 0.0.0.0" 2 "$mxtls" serve --scenario seed --listen 0.0.0.0:0
has "$err" "^mxtls serve: --listen 0.0.0.0:0 is not a loopback address" "serve 0.0.0.0"
has "$err" "--allow-remote" "serve 0.0.0.0"
expect "serve [::]" 2 "$mxtls" serve --scenario seed --listen '[::]:0'
serve_json() {  # serve_json ARGS...: starts mxtls serve --json, waits for its listening line
  "$mxtls" serve --json "$@" >/tmp/mxtls-serve-out.$$ 2>/tmp/mxtls-serve-err.$$ &
  serve_pid=$!
  for _ in $(seq 100); do grep -q '"listening"' /tmp/mxtls-serve-out.$$ 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
serve_stop() {
  kill -TERM "$serve_pid" 2>/dev/null
  wait "$serve_pid"
  serve_status=$?
}
if serve_json --scenario compliant --listen 0.0.0.0:0 --allow-remote --color never; then
  serve_stop
  has "$(cat /tmp/mxtls-serve-err.$$)" "^mxtls serve: warning: listening on 0.0.0.0:0, reachable from other machines" \
    "serve --allow-remote"
  [ "$serve_status" = 0 ] || fail "serve --allow-remote: exit $serve_status after SIGTERM"
else
  serve_stop
  fail "serve --allow-remote did not start: $(cat /tmp/mxtls-serve-err.$$)"
fi
# --json: the address to probe comes from the listening line; -q: nothing on stdout.
if serve_json --scenario seed --listen 127.0.0.1:0; then
  address=$(grep -o '"address":"[^"]*"' /tmp/mxtls-serve-out.$$ | cut -d'"' -f4)
  [ -s /tmp/mxtls-serve-err.$$ ] && fail "serve on loopback wrote to stderr: $(cat /tmp/mxtls-serve-err.$$)"
  "$mxtls" probe "[${address%:*}]:${address##*:}" --format json >/tmp/mxtls-probe-out.$$ 2>&1
  grep -q '"mail.domain1.com"\|STARTTLS' /tmp/mxtls-probe-out.$$ || fail "probe of serve --json's address"
  serve_stop
  has "$(tail -n1 /tmp/mxtls-serve-out.$$)" '^\{"event":"stopped","sessions":[1-9]' "serve --json stop line"
else
  serve_stop
  fail "serve --json did not start: $(cat /tmp/mxtls-serve-err.$$)"
fi
"$mxtls" serve -q --scenario seed --listen 127.0.0.1:0 >/tmp/mxtls-serve-out.$$ 2>&1 &
serve_pid=$!
sleep 0.5
serve_stop
[ -s /tmp/mxtls-serve-out.$$ ] && fail "serve -q printed: $(cat /tmp/mxtls-serve-out.$$)"

# probe and scan: --json, -q, --color and NO_COLOR, a target that only looks like an address,
# and scan --out that already holds records (--resume or --force, never silently lost).
if serve_json --scenario seed --listen 127.0.0.1:0; then
  address=$(grep -o '"address":"[^"]*"' /tmp/mxtls-serve-out.$$ | cut -d'"' -f4)
  target="[${address%:*}]:${address##*:}"
  expect "probe --json" 1 "$mxtls" probe "$target" --json
  has "$out" '"schema": "mxtls-probe"' "probe --json"
  expect "probe -q" 1 "$mxtls" probe "$target" -q
  [ -z "$out" ] || fail "probe -q printed: $out"
  expect "probe --color always" 1 "$mxtls" probe "$target" --color always --skip injection
  grep -q $'^\033\[1;31mSTARTTLS works' <<<"$out" || fail "probe --color always: the verdict is not red: $out"
  expect "probe --color never" 1 "$mxtls" probe "$target" --color never --skip injection
  grep -q $'\033\[' <<<"$out" && fail "probe --color never: colour"
  if command -v script >/dev/null; then
    tty_out=$(script -qc "$mxtls probe $target --skip injection" /dev/null)
    grep -q $'\033\[1;31m' <<<"$tty_out" || fail "probe on a terminal: no colour"
    tty_out=$(NO_COLOR= script -qc "$mxtls probe $target --skip injection" /dev/null)
    grep -q $'\033\[' <<<"$tty_out" && fail "probe with NO_COLOR on a terminal: colour"
  fi
  list=$(mktemp) records=$(mktemp)
  echo "$target" >"$list"
  rm -f "$records"
  expect "scan --out new" 1 "$mxtls" scan "$list" --out "$records" --color always --skip injection
  grep -q $'\033\[1;31msenders-lose-tls 1' <<<"$err" || fail "scan --color always: the outcome is not red: $err"
  first=$(cat "$records")
  expect "scan --out again" 2 "$mxtls" scan "$list" --out "$records"
  has "$err" "^mxtls scan: --out '.*' already holds [0-9]+ octets" "scan --out again"
  has "$err" "--resume .* --force" "scan --out again"
  [ "$(cat "$records")" = "$first" ] || fail "a refused scan changed --out"
  expect "scan --resume --force" 2 "$mxtls" scan "$list" --out "$records" --resume --force
  expect "scan --force -q" 1 "$mxtls" scan "$list" --out "$records" --force -q --skip injection
  [ -z "$out$err" ] || fail "scan -q printed: $out$err"
  [ "$(wc -l <"$records")" = 1 ] || fail "scan --force did not overwrite: $(wc -l <"$records") records"
  expect "scan --resume" 0 "$mxtls" scan "$list" --out "$records" --resume -q
  [ "$(wc -l <"$records")" = 1 ] || fail "scan --resume probed again"
  rm -f "$list" "$records"
  serve_stop
else
  serve_stop
  fail "serve --json did not start: $(cat /tmp/mxtls-serve-err.$$)"
fi
# demo: --json is the probe's JSON alone on standard output; --color.
expect "demo --json" 0 "$mxtls" demo --json
has "$out" '^\{$' "demo --json"
has "$out" '"schema": "mxtls-probe"' "demo --json"
has "$err" "^mxtls demo: mock server with scenario 'seed'" "demo --json notes on stderr"
expect "demo --color always" 0 "$mxtls" demo --color always
grep -q $'^Verdict: \033\[1;31m' <<<"$out" || fail "demo --color always: the verdict is not red"
expect "demo --color never" 0 "$mxtls" demo --color never
grep -q $'\033\[' <<<"$out" && fail "demo --color never: colour"

expect "probe 192.0.2.300" 2 "$mxtls" probe 192.0.2.300
has "$err" "^mxtls probe: '192.0.2.300' is not an IPv4 address" "probe 192.0.2.300"
expect "probe 127.1" 2 "$mxtls" probe 127.1

rm -f /tmp/mxtls-cli-err.$$ /tmp/mxtls-serve-out.$$ /tmp/mxtls-serve-err.$$ /tmp/mxtls-probe-out.$$
[ $status = 0 ] && echo "CLI conventions: ok"
exit $status
