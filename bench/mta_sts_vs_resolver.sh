#!/usr/bin/env bash
# MTA-STS policies of many domains: `mxtls scan` against postfix-mta-sts-resolver, in the
# same run, on loopback. COUNT domains d0001.mxtls.bench ... in one zone generated here and
# served by NSD on 127.0.0.1, each with `_mta-sts` and `_smtp._tls` TXT records, an MX
# (mx.mxtls.bench) and mta-sts.<domain> pointing at one nginx on a loopback address whose
# certificate (from a CA made here) names every policy host; the same enforce policy for all.
#   mxtls scan LIST --skip starttls,injection,dane,tls-senders   (check mta-sts alone: per
#       domain _mta-sts TXT, _smtp._tls TXT, mta-sts.<domain> A/AAAA, the HTTPS fetch, and the
#       MX lookup with the MX host's A/AAAA, which the probe always makes; no SMTP session),
#       libunbound asking NSD directly, --concurrency CONCURRENCY
#   mta-sts-query DOMAIN, once per domain, PARALLEL at a time (xargs -P), in a private mount
#       namespace whose resolv.conf names an unbound on 127.0.0.2:53 (iterator, stub zone to
#       the same NSD; c-ares needs port 53); SSL_CERT_FILE = the CA. Each query is a Python
#       process: its start-up is part of the tool's cost, as a user running it pays it.
#   resolver library: postfix_mta_sts_resolver.resolver.STSResolver (the daemon's engine) in
#       one Python process, CONCURRENCY domains at once (asyncio.gather behind a semaphore;
#       all 1,000 at once ran out of open files and got 219 policies), same namespace: the
#       resolver without the process start-ups.
# Each side's answers are checked: mxtls's records all say "status": "valid", every
# mta-sts-query line says STSFetchResult.VALID, the library gets VALID for every domain.
# Wall time and CPU (user + system of the children, from wait4 via /usr/bin/time's format).
# Bounded: COUNT <= 5000, each side killed after LIMIT seconds.
#
#   [MXTLS=path] [COUNT=1000] [QUERIES=COUNT] [CONCURRENCY=100] [PARALLEL=2] [LIMIT=900] [ROUNDS=10]
#   bench/mta_sts_vs_resolver.sh
#     QUERIES: mta-sts-query asks the first QUERIES domains only (about 0.4 s of CPU each: a
#     Python start-up); the ratio is then per domain.
#     ROUNDS: then the cost of the check in one probe: ROUNDS probes of d0001 (its MX served by
#     mxtls serve --scenario compliant) with and without --skip mta-sts, alternating, against
#     ROUNDS fetches of its policy by curl (one HTTPS exchange); medians.
#     Run as root (unshare -m, port 53 and 443 on loopback), after scripts/install-deps
#     (nsd, nginx-light, unbound, postfix-mta-sts-resolver, openssl).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/loopback-dns.sh
count=${COUNT:-1000}
concurrency=${CONCURRENCY:-100}
parallel=${PARALLEL:-2}
queries=${QUERIES:-$count}
limit=${LIMIT:-900}
mxtls=$(realpath "${MXTLS:-build/release/mxtls}")
[[ $count =~ ^[0-9]+$ && $count -ge 1 && $count -le 5000 ]] || { echo "COUNT: 1 to 5000" >&2; exit 2; }
[[ $parallel =~ ^[0-9]+$ && $parallel -ge 1 && $parallel -le 64 ]] || { echo "PARALLEL: 1 to 64" >&2; exit 2; }
[[ $queries =~ ^[0-9]+$ && $queries -ge 1 && $queries -le $count ]] || { echo "QUERIES: 1 to COUNT" >&2; exit 2; }
[ -x "$mxtls" ] || { echo "no mxtls at $mxtls: build first or set MXTLS" >&2; exit 2; }
for tool in nsd nginx unbound mta-sts-query openssl unshare timeout; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "$tool is needed (scripts/install-deps)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run as root (unshare -m, unbound on port 53, nginx on 443)" >&2; exit 2; }

dir=$(mktemp -d /tmp/mxtls-bench-sts-XXXXXX)
pids=()
cleanup() {
  [ -s "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
web=127.0.0.44
dnsport=$((20000 + RANDOM % 20000))

# Not under test.: libunbound answers that RFC 6761 name NXDOMAIN itself (a default local zone)
# unless a trust anchor makes it resolvable, and the bench runs without DNSSEC.
names=$(seq -f 'd%04g.mxtls.bench' 1 "$count")
printf '%s\n' $names >list.txt

# The CA and one certificate naming every policy host.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 \
  -subj "/CN=mxtls bench CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout web.key -out web.csr -subj /CN=mta-sts.mxtls.bench 2>/dev/null
{ printf 'subjectAltName='; printf '%s\n' $names | sed 's/^/DNS:mta-sts./' | paste -sd, -; printf 'extendedKeyUsage=serverAuth\n'; } >web.ext
openssl x509 -req -in web.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out web.pem -days 30 -extfile web.ext 2>/dev/null

# The zone.
{
  printf '$ORIGIN mxtls.bench.\n$TTL 300\n@ IN SOA ns.mxtls.bench. hostmaster.mxtls.bench. 1 3600 600 86400 300\n'
  printf '@ IN NS ns\nns IN A 127.0.0.1\nmx IN A 127.0.0.45\n'
  for n in $names; do
    d=${n%.mxtls.bench}
    printf '%s IN MX 10 mx\n_mta-sts.%s IN TXT "v=STSv1; id=20260101"\n' "$d" "$d"
    printf '_smtp._tls.%s IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@%s"\nmta-sts.%s IN A %s\n' "$d" "$n" "$d" "$web"
  done
} >mxtls.bench.zone
start_nsd "$dir" "$dnsport" mxtls.bench. mxtls.bench.zone
start_unbound "$dir" "$dnsport" mxtls.bench.
printf 'nameserver 127.0.0.2\n' >resolv.conf
mkdir -p www/.well-known t
printf 'version: STSv1\nmode: enforce\nmx: mx.mxtls.bench\nmax_age: 86400\n' >www/.well-known/mta-sts.txt
cat >nginx.conf <<NGX
worker_processes 1;
user root;
error_log $dir/nginx.err;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/t; proxy_temp_path $dir/t; fastcgi_temp_path $dir/t; uwsgi_temp_path $dir/t; scgi_temp_path $dir/t;
  server {
    listen $web:443 ssl default_server;
    server_name ~^mta-sts\.;
    ssl_certificate $dir/web.pem;
    ssl_certificate_key $dir/web.key;
    root $dir/www;
    location / { types { } default_type "text/plain"; }
  }
}
NGX
/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf"
for _ in $(seq 200); do
  grep -q "nsd started" nsd.log 2>/dev/null && grep -q "start of service" unbound.log 2>/dev/null && break
  sleep 0.05
done
grep -q "start of service" unbound.log || { echo "unbound did not start:"; cat unbound.log; exit 1; } >&2

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs; $(uname -sr)"
echo "mxtls: $mxtls ($("$mxtls" --version 2>/dev/null | head -1))"
echo "postfix-mta-sts-resolver: $(dpkg-query -W -f '${Version}' postfix-mta-sts-resolver 2>/dev/null)"
echo "domains: $count; mxtls --concurrency $concurrency; mta-sts-query $parallel at a time"

ns="mount --bind $dir/resolv.conf /etc/resolv.conf && export SSL_CERT_FILE=$dir/ca.pem && unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY && "
# seconds wall, seconds CPU of the command and its children
# (the exit code is not the measure: a record's exit code is 3 without an SMTP session)
timed() { /usr/bin/time -f '%e %U %S' -o "$dir/time.out" timeout "$limit" "$@" || true; tail -1 "$dir/time.out" | awk '{printf "%.2f %.2f", $1, $2 + $3}'; }

read -r m_wall m_cpu < <(timed "$mxtls" scan list.txt --out mxtls.jsonl -q --concurrency "$concurrency" \
  --resolver "127.0.0.1:$dnsport" --ca ca.pem --skip starttls,injection,dane,tls-senders --check mta-sts --timeout 10; echo)
[ "$(wc -l <mxtls.jsonl)" = "$count" ] || { echo "mxtls wrote $(wc -l <mxtls.jsonl) records, not $count" >&2; exit 1; }
cat >check.py <<'PY'
import json, sys
n = int(sys.argv[1]); bad = 0; fetched = 0
for line in open(sys.argv[2]):
    r = json.loads(line); m = r.get("mta_sts") or {}
    if m.get("status") != "valid" or (m.get("policy") or {}).get("mode") != "enforce": bad += 1
    fetched += not m.get("cached", False)
if bad: sys.exit(f"mxtls: {bad} of {n} records without a valid enforce policy")
print(f"mxtls: {n} records, all valid enforce policies, {fetched} fetched")
PY
/usr/bin/python3 check.py "$count" mxtls.jsonl || exit 1

head -n "$queries" list.txt >queries.txt
read -r q_wall q_cpu < <(timed unshare -m /bin/sh -c "$ns xargs -P $parallel -n 1 mta-sts-query <queries.txt >query.out 2>query.err"; echo)
q_valid=$(grep -c 'STSFetchResult.VALID' query.out || true)
[ "$q_valid" = "$queries" ] || { echo "mta-sts-query: $q_valid of $queries VALID"; tail -5 query.out query.err; exit 1; } >&2
echo "mta-sts-query: $queries lines (the first $queries domains), all STSFetchResult.VALID"

cat >lib.py <<'PY'
import asyncio, sys
from postfix_mta_sts_resolver.resolver import STSResolver, STSFetchResult
async def main(names, at_once):
    r = STSResolver(loop=asyncio.get_running_loop())
    gate = asyncio.Semaphore(at_once)  # as many at once as mxtls's --concurrency (and within the open-file limit)
    async def one(n):
        async with gate:
            return await r.resolve(n)
    res = await asyncio.gather(*(one(n) for n in names))
    ok = sum(1 for s, _ in res if s == STSFetchResult.VALID)
    if ok != len(names): sys.exit(f"resolver library: {ok} of {len(names)} VALID")
    print(f"resolver library: {len(names)} domains, all VALID")
asyncio.run(main(open(sys.argv[1]).read().split(), int(sys.argv[2])))
PY
read -r l_wall l_cpu < <(timed unshare -m /bin/sh -c "$ns /usr/bin/python3 $dir/lib.py $dir/list.txt $concurrency >lib.out 2>&1"; echo)
cat lib.out
grep -q "all VALID" lib.out || { echo "the resolver library did not get every policy" >&2; exit 1; }

echo "results: domains, wall s, CPU s (user + system), ms a domain wall / CPU"
/usr/bin/python3 -c "
n, q = $count, $queries
m, mc, qw, qc, l, lc = map(float, '$m_wall $m_cpu $q_wall $q_cpu $l_wall $l_cpu'.split())
rows = [('mxtls scan (check mta-sts alone), --concurrency $concurrency', n, m, mc),
        ('mta-sts-query, a process per domain, $parallel at a time', q, qw, qc),
        ('postfix-mta-sts-resolver library, one process', n, l, lc)]
for name, k, w, c in rows:
    print(f'  {name:<58} {k:5d} {w:8.2f} {c:8.2f}   {1000 * w / k:7.2f} / {1000 * c / k:6.2f}')
per = lambda w, k: w / k
print(f'  ratio mta-sts-query / mxtls, per domain: wall {per(qw, q) / per(m, n):.1f}x, CPU {per(qc, q) / max(per(mc, n), 1e-6):.1f}x')
print(f'  ratio resolver library / mxtls (same {n} domains): wall {l / m:.1f}x, CPU {lc / max(mc, 1e-6):.1f}x')
"

# What the check adds to one probe, against one HTTPS exchange (the goal: at most one).
rounds=${ROUNDS:-10}
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 && $rounds -le 100 ]] || { echo "ROUNDS: 1 to 100" >&2; exit 2; }
smtpport=$((20000 + RANDOM % 20000))
"$mxtls" serve --scenario compliant --listen "127.0.0.45:$smtpport" >serve.out 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q "listening on" serve.out && break; sleep 0.05; done
grep -q "listening on" serve.out || { echo "mxtls serve did not start:"; cat serve.out; exit 1; } >&2
probe_ms() {
  local start end
  start=$(date +%s%N)
  timeout 60 "$mxtls" probe d0001.mxtls.bench --port "$smtpport" --resolver "127.0.0.1:$dnsport" --ca ca.pem \
    --no-injection-test -q "$@" || true
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
with=() without=() fetch=()
for _ in $(seq "$rounds"); do
  with+=("$(probe_ms)")
  without+=("$(probe_ms --skip mta-sts)")
  fetch+=("$(curl -s -o /dev/null -w '%{time_total}' --cacert ca.pem --resolve "mta-sts.d0001.mxtls.bench:443:$web" \
    https://mta-sts.d0001.mxtls.bench/.well-known/mta-sts.txt | awk '{printf "%d", $1 * 1000}')")
done
/usr/bin/python3 -c "
import statistics as s
w, wo, f = [list(map(int, x.split())) for x in ('${with[*]}', '${without[*]}', '${fetch[*]}')]
mw, mwo, mf = s.median(w), s.median(wo), s.median(f)
print(f'one probe, $rounds rounds (medians): with mta-sts {mw:.0f} ms, without {mwo:.0f} ms, added {mw - mwo:.0f} ms;'
      f' one HTTPS fetch of the policy by curl {mf:.0f} ms: the check adds {(mw - mwo) / max(mf, 1):.2f} of it')
"
