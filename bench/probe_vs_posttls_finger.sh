#!/usr/bin/env bash
# One probe of a local Postfix smtpd (STARTTLS, self-signed ECDSA certificate) by mxtls
# against posttls-finger, in the same run, alternating, bounded:
#   (a) the same steps (banner, EHLO, STARTTLS, handshake, certificate, EHLO, QUIT):
#       mxtls probe --skip injection      vs  posttls-finger -l may -c [127.0.0.1]:PORT
#   (b) the default probe (with the injection check on a second connection):
#       mxtls probe                       vs  the same posttls-finger
# Each run is timed by its wall time and its CPU time (user + system, from wait4), and
# the report gives median, mean, min and max of both; the ratios are of the medians.
# Then one probe of each side under valgrind --tool=callgrind: instructions (repeatable
# on a loaded machine, unlike the times) and the functions they go to (inclusive).
#
#   [MXTLS=path] [PORT=24740] bench/probe_vs_posttls_finger.sh [RUNS [REPEATS]]
#     RUNS probes of each kind a repeat (default 20), REPEATS rounds of them (default 3;
#     each repeat is reported on its own, so the spread between rounds shows the load),
#     MXTLS the mxtls binary (default build/release/mxtls). CALLGRIND=0 skips valgrind.
#     Run as root (the Postfix daemons run as user postfix), after scripts/install-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
repeats=${2:-3}
port=${PORT:-24740}
mxtls=${MXTLS:-build/release/mxtls}
callgrind=${CALLGRIND:-1}
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $runs -le 1000 ]] || { echo "RUNS: 1 to 1000" >&2; exit 2; }
[[ $repeats =~ ^[0-9]+$ && $repeats -ge 1 && $repeats -le 20 ]] || { echo "REPEATS: 1 to 20" >&2; exit 2; }
[ -x "$mxtls" ] || { echo "no mxtls at $mxtls: build first (cmake --build --preset release) or set MXTLS" >&2; exit 2; }
for tool in posttls-finger postconf python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (scripts/install-deps)" >&2; exit 2; }
done
if [ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null; then
  echo "valgrind is needed for the instruction counts (scripts/install-deps), or CALLGRIND=0" >&2
  exit 2
fi

dir=$(mktemp -d /tmp/mxtls-bench-XXXXXX)
chmod 755 "$dir" # Postfix daemons run as user postfix
work=$(mktemp -d /tmp/mxtls-bench-work-XXXXXX)
chmod 755 "$work"
trap 'tests/integration/postfix-instance stop "$dir"; rm -rf "$work"' EXIT
tests/integration/postfix-instance serve "$dir" "$port"
target="[127.0.0.1]:$port"

# posttls-finger reads main.cf from $MAIL_CONFIG or /etc/postfix and stops with "fatal:
# open /etc/postfix/main.cf" when there is none. With the system's main.cf it runs as is.
# A Postfix package installed with "No configuration" (as scripts/install-deps does, so
# that no system MTA starts) has none; then posttls-finger gets the main.cf that the
# Debian package's postinst writes for its default choice, "Internet Site", with the
# debconf templates' default answers: /usr/share/postfix/main.cf.debian, the TLS lines of
# main.cf.tls only when the snakeoil key exists, and the settings postinst makes with
# postconf -e (myhostname from `hostname --fqdn` as its myfqdn() finds it, aliases,
# mydestination, mynetworks, mailbox_size_limit, recipient_delimiter, inet_interfaces,
# inet_protocols). Nothing in it is chosen to make either side faster; every other
# parameter keeps Postfix's built-in default (postconf -d).
if [ -f /etc/postfix/main.cf ]; then
  ptf_env=()
  ptf_conf="the system's /etc/postfix/main.cf"
else
  conf=$work/postfix-conf
  mkdir "$conf"
  cp /usr/share/postfix/main.cf.debian "$conf/main.cf"
  [ -f /etc/ssl/private/ssl-cert-snakeoil.key ] && cat /usr/share/postfix/main.cf.tls >>"$conf/main.cf"
  fqdn=$(hostname --fqdn 2>/dev/null || hostname)
  if [ "$fqdn" = "${fqdn%.*}" ]; then
    dom=$(sed -n 's/^search[[:space:]]*\.*\([^[:space:]]*\).*/\1/p;s/^domain[[:space:]]*\.*\([^[:space:]]*\).*/\1/p' /etc/resolv.conf 2>/dev/null | tail -1)
    fqdn="$fqdn${dom:+.${dom%.}}"
  fi
  postconf -c "$conf" -e \
    "smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination" \
    "myhostname=$fqdn" "alias_maps=hash:/etc/aliases" "alias_database=hash:/etc/aliases" \
    "mydestination=\$myhostname, $fqdn, localhost.${fqdn#*.}, localhost" "relayhost=" \
    "mynetworks=127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128" "mailbox_size_limit=0" \
    "recipient_delimiter=+" "inet_interfaces=all" "inet_protocols=all" 2>/dev/null
  ptf_env=(MAIL_CONFIG="$conf")
  ptf_conf="no /etc/postfix/main.cf on this machine (Postfix installed with \"No configuration\"); posttls-finger uses the main.cf a default Debian install (Internet Site) writes"
  echo "posttls-finger: $ptf_conf:"
  postconf -c "$conf" -n 2>/dev/null | sed 's/^/    /'
fi

# mxtls looks CA issuers up on demand in the hashed directory for a single probe, but
# loads the whole file named by SSL_CERT_FILE when that is set. A default Debian login
# sets neither SSL_CERT_FILE nor SSL_CERT_DIR; when the caller's environment has them,
# both environments are measured and reported.
ssl_env="SSL_CERT_FILE=${SSL_CERT_FILE-(unset)} SSL_CERT_DIR=${SSL_CERT_DIR-(unset)}"
with_env=0
[ -n "${SSL_CERT_FILE-}${SSL_CERT_DIR-}" ] && with_env=1

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs; $(uname -sr)"
echo "mxtls: $mxtls ($("$mxtls" --version 2>/dev/null | head -1))"
echo "posttls-finger: $(postconf -d mail_version 2>/dev/null)"
echo "caller's environment: $ssl_env"

export BENCH_MXTLS=$mxtls BENCH_TARGET=$target BENCH_RUNS=$runs BENCH_REPEATS=$repeats BENCH_WITH_ENV=$with_env
export BENCH_PTF_ENV="${ptf_env[*]-}"
python3 - <<'PY'
import os, statistics, subprocess, time

mxtls, target = os.environ["BENCH_MXTLS"], os.environ["BENCH_TARGET"]
runs, repeats = int(os.environ["BENCH_RUNS"]), int(os.environ["BENCH_REPEATS"])
with_env = os.environ["BENCH_WITH_ENV"] == "1"

base = dict(os.environ)
for k in list(base):
    if k.startswith("BENCH_"):
        del base[k]
debian = {k: v for k, v in base.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
ptf_env = dict(base)
for kv in os.environ["BENCH_PTF_ENV"].split():
    k, v = kv.split("=", 1)
    ptf_env[k] = v

kinds = [
    ("posttls-finger -l may -c", ["posttls-finger", "-l", "may", "-c", target], ptf_env),
    ("mxtls probe --skip injection", [mxtls, "probe", target, "--skip", "injection"], debian),
    ("mxtls probe (default)", [mxtls, "probe", target], debian),
]
if with_env:
    kinds += [
        ("  the same, caller's SSL_CERT_*", [mxtls, "probe", target, "--skip", "injection"], base),
        ("  default, caller's SSL_CERT_*", [mxtls, "probe", target], base),
    ]

def once(argv, env):
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _, status, ru = os.wait4(p.pid, 0)
    except BaseException:
        p.kill()
        raise
    wall = (time.perf_counter() - t) * 1000
    code = os.waitstatus_to_exitcode(status)
    # posttls-finger exits 0; mxtls 0 (a self-signed certificate is reported, not failed)
    if code != 0:
        raise SystemExit(f"{argv[0]} exited {code}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000

for _, argv, env in kinds:  # warm-up: page cache, smtpd processes started by master
    once(argv, env)

def stats(xs):
    return statistics.median(xs), statistics.fmean(xs), min(xs), max(xs)

summary = []
for rep in range(1, repeats + 1):
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    res = {name: ([], []) for name, _, _ in kinds}
    for i in range(runs):
        # alternate: each run starts with a different tool
        order = kinds[i % len(kinds):] + kinds[:i % len(kinds)]
        for name, argv, env in order:
            w, c = once(argv, env)
            res[name][0].append(w)
            res[name][1].append(c)
    print(f"\nrepeat {rep}/{repeats}: {runs} runs of each, alternating (load average {load} at its start)")
    print(f"  {'':32} {'wall ms: median   mean    min    max':38} {'CPU ms (user+sys): median   mean    min    max'}")
    for name, _, _ in kinds:
        w, c = stats(res[name][0]), stats(res[name][1])
        print(f"  {name:32} {w[0]:14.1f} {w[1]:6.1f} {w[2]:6.1f} {w[3]:6.1f}   {c[0]:24.1f} {c[1]:6.1f} {c[2]:6.1f} {c[3]:6.1f}")
    med = {name: (stats(res[name][0])[0], stats(res[name][1])[0]) for name, _, _ in kinds}
    ptf = med["posttls-finger -l may -c"]
    r = {}
    r["same"] = [med["mxtls probe --skip injection"][j] / ptf[j] for j in (0, 1)]
    r["default"] = [med["mxtls probe (default)"][j] / ptf[j] for j in (0, 1)]
    if with_env:
        r["same, caller's SSL_CERT_*"] = [med["  the same, caller's SSL_CERT_*"][j] / ptf[j] for j in (0, 1)]
        r["default, caller's SSL_CERT_*"] = [med["  default, caller's SSL_CERT_*"][j] / ptf[j] for j in (0, 1)]
    print(f"  ratio mxtls / posttls-finger (medians): same steps {r['same'][0]:.2f} wall, {r['same'][1]:.2f} CPU (goal <= 1.0);"
          f" default probe {r['default'][0]:.2f} wall, {r['default'][1]:.2f} CPU (goal <= 2.0)")
    mins = {name: min(res[name][0]) for name, _, _ in kinds}
    r["same, minima"] = [mins["mxtls probe --skip injection"] / mins["posttls-finger -l may -c"]] * 2
    r["default, minima"] = [mins["mxtls probe (default)"] / mins["posttls-finger -l may -c"]] * 2
    print(f"  ratio of the minima (the least disturbed run of each, wall): same steps {r['same, minima'][0]:.2f}, default {r['default, minima'][0]:.2f}")
    if with_env:
        a, b = r["same, caller's SSL_CERT_*"], r["default, caller's SSL_CERT_*"]
        print(f"  with the caller's SSL_CERT_FILE/SSL_CERT_DIR: same steps {a[0]:.2f} wall, {a[1]:.2f} CPU; default {b[0]:.2f} wall, {b[1]:.2f} CPU")
    summary.append(r)

if repeats > 1:
    print(f"\nranges over {repeats} repeats (ratios of medians, wall / CPU):")
    for key in summary[0]:
        ws = [s[key][0] for s in summary]
        cs = [s[key][1] for s in summary]
        if "minima" in key:
            print(f"  {key:30} wall {min(ws):.2f} to {max(ws):.2f}")
        else:
            print(f"  {key:30} wall {min(ws):.2f} to {max(ws):.2f}, CPU {min(cs):.2f} to {max(cs):.2f}")
PY

[ "$callgrind" = 1 ] || exit 0
# Instructions of one probe (Ir) and where they go. The mxtls side without SSL_CERT_*
# (a default Debian login) and, when the caller has them, with them.
count() { # LABEL OUTFILE [PREFIX...] @@ ARGV...: valgrind runs after the prefix
  local label=$1 out=$2
  shift 2
  local pre=()
  while [ "$1" != @@ ]; do pre+=("$1"); shift; done
  shift
  "${pre[@]}" valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>"$out.log" || true
  echo "$label: $(grep -o 'Collected : [0-9]*' "$out.log" | awk '{ printf "%\047d", $3 }') instructions"
}
cg=$work/callgrind
mkdir "$cg" && chmod 1777 "$cg"
echo
echo "instructions of one probe (valgrind --tool=callgrind):"
# posttls-finger started as root changes to the mail_owner user (postfix) before it ends,
# and valgrind then cannot write its file: it runs as that user from the start here.
count "  posttls-finger -l may -c" "$cg/ptf" runuser -u "$(env "${ptf_env[@]}" postconf -h mail_owner 2>/dev/null)" -- env "${ptf_env[@]}" @@ posttls-finger -l may -c "$target"
count "  mxtls probe --skip injection" "$cg/same" env -u SSL_CERT_FILE -u SSL_CERT_DIR @@ "$mxtls" probe "$target" --skip injection
count "  mxtls probe (default)" "$cg/default" env -u SSL_CERT_FILE -u SSL_CERT_DIR @@ "$mxtls" probe "$target"
if [ "$with_env" = 1 ]; then
  count "  mxtls probe --skip injection, caller's SSL_CERT_*" "$cg/same-env" @@ "$mxtls" probe "$target" --skip injection
fi
top() {
  echo
  echo "$1: the functions with the most instructions, inclusive (callgrind_annotate --inclusive=yes)"
  callgrind_annotate --inclusive=yes "$2" >"$2.inclusive" 2>/dev/null || true
  awk '/^-+$/ { n++; next } n >= 4 && NF && !/PROGRAM TOTALS|file:function/' "$2.inclusive" |
    sed -E 's/ \[[^]]*\]$//' | cut -c1-150 | head -"${3:-25}" || true
}
top "mxtls probe --skip injection (no SSL_CERT_*)" "$cg/same" 30
[ "$with_env" = 1 ] && top "mxtls probe --skip injection (caller's SSL_CERT_*)" "$cg/same-env" 12
top "posttls-finger -l may -c" "$cg/ptf" 12
exit 0
