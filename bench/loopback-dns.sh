# Sourced by the benches: a zone on loopback, served by NSD and resolved by unbound, both in
# the foreground under the caller's cleanup (their pids go into the caller's `pids` array);
# logs in DIR/nsd.log and DIR/unbound.log.

# start_nsd DIR PORT ZONE ZONEFILE: NSD on 127.0.0.1@PORT serving ZONE from DIR/ZONEFILE.
start_nsd() {
  cat >"$1/nsd.conf" <<NSD
server:
  ip-address: 127.0.0.1@$2
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$1"
  pidfile: ""
  database: ""
  zonelistfile: "$1/zone.list"
  xfrdfile: "$1/xfrd.state"
  xfrdir: "$1"
  logfile: "$1/nsd.log"
  server-count: 1
  reuseport: no
remote-control:
  control-enable: no
zone:
  name: "$3"
  zonefile: "$4"
NSD
  nsd -d -c "$1/nsd.conf" &
  pids+=($!)
}

# start_unbound DIR PORT ZONE [ANCHOR]: unbound on 127.0.0.2:53 with a stub zone for ZONE to
# the NSD on 127.0.0.1@PORT, ZONE opened (not a special-use local zone); validating from the
# trust anchor file ANCHOR when given, else iterating only. Its remote control listens on the
# UNIX socket DIR/unbound.ctl (no certificates), for `unbound-control -c DIR/unbound.conf`.
start_unbound() {
  local modules="iterator" anchor=""
  if [ -n "${4:-}" ]; then
    modules="validator iterator"
    anchor="  trust-anchor-file: \"$4\""
  fi
  cat >"$1/unbound.conf" <<UB
server:
  interface: 127.0.0.2
  port: 53
  do-daemonize: no
  chroot: ""
  username: ""
  pidfile: ""
  directory: "$1"
  use-syslog: no
  logfile: "$1/unbound.log"
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "$modules"
$anchor
  local-zone: "$3" transparent
  so-reuseport: no
remote-control:
  control-enable: yes
  control-interface: "$1/unbound.ctl"
  control-use-cert: no
stub-zone:
  name: "$3"
  stub-addr: 127.0.0.1@$2
UB
  unbound -d -c "$1/unbound.conf" &
  pids+=($!)
}
