#!/usr/bin/env bash
# mxtls logs against pflogsumm on the same generated Postfix log, in the same run: the log's
# size over each tool's wall time (MB/s), and the ratio. The log is generated here, at bench
# time, and removed after (never committed): its lines are the forms a real Postfix 3.7
# writes with smtp_tls_loglevel = 1 (as recorded by the logs.postfix test), for deliveries
# spread over 20000 recipient domains: TLS (70 %), plaintext (12 %), plaintext after a
# certificate failure under may (3 %), TLS required but not offered (5 %), certificate not
# verified under verify (3 %), connection refused (4 %), 421 (3 %).
#
#   bench/logs_vs_pflogsumm.sh [SIZE_MB]     (default 1024; needs twice that in /tmp)
#   MXTLS=path/to/mxtls bench/logs_vs_pflogsumm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
mxtls=${MXTLS:-$PWD/build/release/mxtls}
[ -x "$mxtls" ] || { echo "build first: cmake --build --preset release (or MXTLS=...)" >&2; exit 2; }
command -v pflogsumm >/dev/null || { echo "pflogsumm is missing (scripts/install-deps)" >&2; exit 2; }
dir=$(mktemp -d /tmp/mxtls-bench-logs-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
log=$dir/mail.log

python3 - "$log" "$size_mb" <<'PY'
import random, sys
path, size = sys.argv[1], int(sys.argv[2]) * 1000 * 1000
rng = random.Random(8460)
domains = [f"d{i}.example" for i in range(20000)]
tls = ("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
       "server-signature RSA-PSS (2048 bits) server-digest SHA256")
out = open(path, "w", buffering=1 << 20)
written, n, t = 0, 0, 0
while written < size:
    n += 1
    t += rng.randint(0, 2)
    day, rest = divmod(t, 86400)
    stamp = f"Jan {1 + day % 28:2d} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    qid = f"{n:011X}"
    pid = 1000 + rng.randint(0, 30000)
    i = rng.randrange(len(domains))
    d = domains[i]
    mx = f"mx{rng.randint(1, 2)}.{d}"
    addr = f"198.18.{(i >> 8) & 255}.{i & 255}"  # RFC 2544 benchmark range: text only
    relay = f"{mx}[{addr}]:25"
    h = f"{stamp} mail postfix"
    lines = [f"{h}/pickup[900]: {qid}: uid=1000 from=<u{n % 977}>",
             f"{h}/cleanup[901]: {qid}: message-id=<{n}.{qid}@client.example>",
             f"{h}/qmgr[902]: {qid}: from=<u{n % 977}@client.example>, size={rng.randint(800, 90000)}, nrcpt=1 (queue active)"]
    k = rng.random()
    to = f"{qid}: to=<r{n % 5003}@{d}>, relay={relay}, delay=0.{rng.randint(10, 99)}, delays=0.01/0/0.05/0.02"
    if k < 0.70:
        lines += [f"{h}/smtp[{pid}]: Trusted TLS connection established to {relay}: {tls}",
                  f"{h}/smtp[{pid}]: {to}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {n:X})"]
    elif k < 0.82:
        lines += [f"{h}/smtp[{pid}]: {to}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {n:X})"]
    elif k < 0.85:
        lines += [f"{h}/smtp[{pid}]: certificate verification failed for {relay}: self-signed certificate",
                  f"{h}/smtp[{pid}]: Untrusted TLS connection established to {relay}: {tls}",
                  f"{h}/smtp[{pid}]: {to}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {n:X})"]
    elif k < 0.90:
        lines += [f"{h}/smtp[{pid}]: {to}, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host {mx}[{addr}])"]
    elif k < 0.93:
        lines += [f"{h}/smtp[{pid}]: server certificate verification failed for {relay}: num=62:hostname mismatch",
                  f"{h}/smtp[{pid}]: Untrusted TLS connection established to {relay}: {tls}",
                  f"{h}/smtp[{pid}]: {to}, dsn=4.7.5, status=deferred (Server certificate not verified)"]
    elif k < 0.97:
        lines += [f"{h}/smtp[{pid}]: connect to {relay}: Connection refused",
                  f"{h}/smtp[{pid}]: {qid}: to=<r{n % 5003}@{d}>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.4.1, status=deferred (connect to {relay}: Connection refused)"]
    else:
        lines += [f"{h}/smtp[{pid}]: {to}, dsn=4.3.2, status=deferred (host {mx}[{addr}] refused to talk to me: 421 4.3.2 Service not available)"]
    if k < 0.85:
        lines.append(f"{h}/qmgr[902]: {qid}: removed")
    block = "\n".join(lines) + "\n"
    out.write(block)
    written += len(block)
out.close()
PY
bytes=$(stat -c %s "$log")
mb=$(python3 -c "print(f'{$bytes / 1e6:.0f}')")
# Warm the page cache so that both tools read from memory.
cat "$log" >/dev/null

# Wall time and CPU time (user + system) of each; on a shared machine the CPU time is the
# fairer measure, and both are printed.
timed() {  # timed NAME CMD... -> "WALL CPU" seconds on stdout
  /usr/bin/time -f "%e %U %S" -o "$dir/$1.time" "${@:2}" >"$dir/$1.out" 2>"$dir/$1.err" || true
  awk 'END { printf "%s %.2f\n", $1, $2 + $3 }' "$dir/$1.time"  # the last line: time's own note on a non-zero exit comes first
}
read -r w_mxtls c_mxtls < <(timed mxtls "$mxtls" logs --json --progress never "$log")
read -r w_pfl c_pfl < <(timed pflogsumm pflogsumm "$log")
delivered_mxtls=$(python3 -c "import json; print(sum(d['delivered'] for d in json.load(open('$dir/mxtls.out'))['destinations']))")
# pflogsumm rounds large counts ("1099k"): compared by eye, not asserted (logs.postfix asserts
# the exact counts on a real Postfix's log).
delivered_pfl=$(grep -E '^ +[0-9]+[km]? +delivered$' "$dir/pflogsumm.out" | awk '{print $1}' || true)
python3 - <<PY
b = $bytes
wm, cm, wp, cp = $w_mxtls, $c_mxtls, $w_pfl, $c_pfl
mb = b / 1e6
print(f"log: {mb:.0f} MB of generated Postfix lines")
print(f"mxtls logs --json: wall {wm:.2f} s ({mb / wm:.0f} MB/s), cpu {cm:.2f} s ({mb / cm:.0f} MB/s)")
print(f"pflogsumm:         wall {wp:.2f} s ({mb / wp:.0f} MB/s), cpu {cp:.2f} s ({mb / cp:.0f} MB/s)")
print(f"ratio (pflogsumm / mxtls logs): wall {wp / wm:.1f}x, cpu {cp / cm:.1f}x")
print(f"delivered: mxtls logs $delivered_mxtls, pflogsumm $delivered_pfl")
PY
