#!/usr/bin/env bash
# A DANE probe of one domain by mxtls against posttls-finger -l dane, in the same run,
# alternating, bounded. The domain is a zone signed here (ldns-keygen, ldns-signzone) and
# served by NSD on 127.0.0.1; its MX host is `mxtls serve` on 127.0.0.31 with a CA-issued
# certificate made here and a 3 1 1 TLSA record for it; DNSSEC validates from the zone's own
# trust anchor on both sides:
#   mxtls probe bench.test --resolver 127.0.0.1:DNSPORT --trust-anchor DS --skip injection,tls-senders,mta-sts
#       (the same steps; and again with --skip injection alone: its sender TLS replays and
#       MTA-STS lookups on top)
#       (libunbound in the process, asking NSD directly: MX + DNSKEY, A + AAAA + TLSA)
#   posttls-finger -c -l dane -o dnssec_probe=ns:bench.test bench.test:PORT
#       (its resolver is the system's: /etc/resolv.conf names a validating unbound on
#       127.0.0.2:53 that asks the same NSD), twice: with unbound's cache warm from the run
#       before, which favours posttls-finger (the validation was done once, by unbound, and
#       mxtls starts cold every run), and with the zone flushed from unbound's cache before
#       each run (unbound-control flush_zone, not timed), so that unbound looks the domain up
#       and validates it again, as for a domain it has not seen: the same work as mxtls's.
# The timing loop runs in a private mount namespace (unshare -m) whose /etc/resolv.conf is
# bind-mounted over the real one, entered once before any run: no run pays for it. Wall and
# CPU (user + system, from wait4) medians; runs alternate between the kinds.
#
#   [MXTLS=path] [PORT=24760] bench/dane_vs_posttls_finger.sh [RUNS [REPEATS]]
#     RUNS (default 20) each of the kinds a repeat, REPEATS (default 3). Run as root (unshare,
#     port 53), after scripts/install-deps (nsd, ldnsutils, unbound, postfix, openssl).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/loopback-dns.sh
runs=${1:-20}
repeats=${2:-3}
port=${PORT:-24760}
dnsport=$((port + 1))
mxtls=$(realpath "${MXTLS:-build/release/mxtls}")
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $runs -le 1000 ]] || { echo "RUNS: 1 to 1000" >&2; exit 2; }
[[ $repeats =~ ^[0-9]+$ && $repeats -ge 1 && $repeats -le 20 ]] || { echo "REPEATS: 1 to 20" >&2; exit 2; }
[ -x "$mxtls" ] || { echo "no mxtls at $mxtls: build first or set MXTLS" >&2; exit 2; }
for tool in posttls-finger ldns-keygen ldns-signzone nsd unbound unbound-control openssl unshare python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (scripts/install-deps)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run as root (unshare -m, unbound on port 53)" >&2; exit 2; }

dir=$(mktemp -d /tmp/mxtls-bench-dane-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

# Certificates: a CA and the MX host's leaf.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 \
  -subj "/CN=mxtls bench CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=mx.bench.test 2>/dev/null
printf 'subjectAltName=DNS:mx.bench.test\n' >leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 30 -extfile leaf.ext 2>/dev/null
cat leaf.pem ca.pem >chain.pem
spki=$(openssl x509 -in leaf.pem -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)

# The zone, signed.
cat >bench.test.zone <<EOF
\$ORIGIN bench.test.
\$TTL 300
@ IN SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300
@ IN NS ns
ns IN A 127.0.0.1
@ IN MX 10 mx
mx IN A 127.0.0.31
_$port._tcp.mx IN TLSA 3 1 1 $spki
EOF
ksk=$(ldns-keygen -a ECDSAP256SHA256 -k bench.test)
zsk=$(ldns-keygen -a ECDSAP256SHA256 bench.test)
ldns-signzone bench.test.zone "$ksk" "$zsk"
cp "$ksk.ds" anchor.ds
start_nsd "$dir" "$dnsport" bench.test. bench.test.zone.signed
start_unbound "$dir" "$dnsport" bench.test. "$dir/anchor.ds"
printf 'nameserver 127.0.0.2\noptions trust-ad\n' >resolv.conf
mkdir postfix && echo "compatibility_level = 3.6" >postfix/main.cf
"$mxtls" serve --scenario compliant --listen "127.0.0.31:$port" --cert chain.pem --key leaf.key -q & pids+=($!)
for _ in $(seq 200); do
  grep -q "nsd started" nsd.log 2>/dev/null && grep -q "start of service" unbound.log 2>/dev/null &&
    (exec 3<>"/dev/tcp/127.0.0.31/$port") 2>/dev/null && break
  sleep 0.05
done

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs; $(uname -sr)"
echo "mxtls: $mxtls ($("$mxtls" --version 2>/dev/null | head -1))"
echo "posttls-finger: $(postconf -d mail_version 2>/dev/null)"

export BENCH_MXTLS=$mxtls BENCH_DIR=$dir BENCH_PORT=$port BENCH_DNSPORT=$dnsport BENCH_RUNS=$runs BENCH_REPEATS=$repeats
unshare -m /bin/sh -c "mount --bind '$dir/resolv.conf' /etc/resolv.conf && exec python3 -" <<'PY'
import os, statistics, subprocess, time

mxtls, d = os.environ["BENCH_MXTLS"], os.environ["BENCH_DIR"]
port, dnsport = os.environ["BENCH_PORT"], os.environ["BENCH_DNSPORT"]
runs, repeats = int(os.environ["BENCH_RUNS"]), int(os.environ["BENCH_REPEATS"])
ptf = ["env", f"MAIL_CONFIG={d}/postfix", "posttls-finger", "-c", "-l", "dane", "-o", "dnssec_probe=ns:bench.test",
       "-F", f"{d}/ca.pem", f"bench.test:{port}"]
flush = ["unbound-control", "-c", f"{d}/unbound.conf", "flush_zone", "bench.test"]
kinds = [
    ("posttls-finger -l dane", ptf, "Verified TLS connection established"),
    ("posttls-finger, unbound's cache flushed", ptf, "Verified TLS connection established"),
    # The same steps as posttls-finger (MX, addresses, TLSA, one DANE handshake), then the
    # probe as it runs by default but for the injection check's second connection.
    ("mxtls probe, same steps", [mxtls, "probe", "bench.test", "--port", port, "--resolver", f"127.0.0.1:{dnsport}",
      "--trust-anchor", f"{d}/anchor.ds", "--ca", f"{d}/ca.pem", "--skip", "injection,tls-senders,mta-sts", "--json"],
     '"status": "verified"'),
    ("mxtls probe --skip injection", [mxtls, "probe", "bench.test", "--port", port, "--resolver", f"127.0.0.1:{dnsport}",
      "--trust-anchor", f"{d}/anchor.ds", "--ca", f"{d}/ca.pem", "--skip", "injection", "--json"], '"status": "verified"'),
]

def once(argv, expect, before=None):
    if before:  # not timed
        subprocess.run(before, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1000
    if expect and expect not in out:
        raise SystemExit(f"{argv[0]}: no '{expect}' in:\n{out}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000

for _, argv, expect in kinds:
    once(argv, expect)  # warm-up: page cache, unbound's cache
for r in range(repeats):
    walls = {k: [] for k, _, _ in kinds}
    cpus = {k: [] for k, _, _ in kinds}
    for _ in range(runs):
        for k, argv, expect in kinds:
            w, c = once(argv, expect, flush if "flushed" in k else None)
            walls[k].append(w)
            cpus[k].append(c)
    print(f"repeat {r + 1}: {runs} runs each, alternating; wall ms median/mean/min/max, CPU ms median")
    for k, _, _ in kinds:
        w = walls[k]
        print(f"  {k:<36} {statistics.median(w):7.1f} {statistics.mean(w):7.1f} {min(w):7.1f} {max(w):7.1f}   cpu {statistics.median(cpus[k]):6.1f}")
    for p in (0, 1):
        ptf_wall = statistics.median(walls[kinds[p][0]])
        for i in (2, 3):
            mx = statistics.median(walls[kinds[i][0]])
            print(f"  ratio {kinds[i][0]} / {kinds[p][0]} (wall medians): {mx / ptf_wall:.2f}")
PY
