#include "mxtls/probe.hpp"

#include <algorithm>
#include <cctype>
#include <future>
#include <optional>
#include <stdexcept>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "mxtls/dns.hpp"
#include "net/started_task.hpp"
#include "net/tls_enum.hpp"
#include "net/tls_senders.hpp"
#include "mxtls/mta_sts_check.hpp"

namespace mxtls {

using namespace asio::experimental::awaitable_operators;

std::optional<tls_policy> parse_policy(const std::string& s) {
  for (auto p : {tls_policy::none, tls_policy::preferred, tls_policy::required, tls_policy::preferred_verify,
                 tls_policy::required_verify, tls_policy::dane_opportunistic, tls_policy::dane_mandatory})
    if (s == to_string(p)) return p;
  return std::nullopt;
}

probe_target parse_probe_target(const std::string& text, unsigned short default_port) {
  probe_target t;
  t.text = text;
  t.port = default_port;
  std::string host = text, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) throw std::invalid_argument("'" + text + "': '[' without ']'");
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw std::invalid_argument("'" + text + "': expected ':PORT' after ']'");
      port = rest.substr(1);
    }
    if (host.rfind("IPv6:", 0) == 0) host = host.substr(5);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  }
  if (!port.empty()) {
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (*end || p < 1 || p > 65535) throw std::invalid_argument("'" + port + "' is not a port number (1-65535)");
    t.port = static_cast<unsigned short>(p);
  }
  if (host.empty()) throw std::invalid_argument("'" + text + "' names no host");
  asio::error_code ec;
  asio::ip::make_address(host, ec);
  t.literal = !ec;
  if (!t.literal && host != "localhost") {
    // A domain name: letters, digits, '-' and '_' in labels of 1..63 octets, 253 in all.
    std::string name = host.back() == '.' ? host.substr(0, host.size() - 1) : host;
    bool ok = !name.empty() && name.size() <= 253;
    std::size_t label = 0;
    for (char ch : name) {
      if (ch == '.') {
        ok = ok && label > 0;
        label = 0;
      } else {
        ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') && ++label <= 63;
      }
    }
    if (!ok || label == 0) throw std::invalid_argument("'" + text + "' is not a domain name or an IP address");
  }
  if (host == "localhost") {
    host = "127.0.0.1";
    t.literal = true;
  }
  t.host = host;
  return t;
}

asio::awaitable<void> connection_gate::acquire(const std::string& key) {
  if (limit_ == 0) co_return;
  auto ex = co_await asio::this_coro::executor;
  // Wait until a holder hands its place over (release() cancels this timer).
  asio::steady_timer turn(ex, asio::steady_timer::time_point::max());
  {
    std::lock_guard lock(m_);
    slot& s = slots_[key];
    if (s.holders < limit_) {
      peak_ = std::max(peak_, ++s.holders);
      co_return;
    }
    s.waiters.push_back({&turn, ex});
    ++waiting_;
  }
  co_await turn.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

void connection_gate::release(const std::string& key) {
  if (limit_ == 0) return;
  std::lock_guard lock(m_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return;
  slot& s = it->second;
  if (!s.waiters.empty()) {
    // The place passes to the first waiter, on its own executor (it may be another thread's).
    waiter w = s.waiters.front();
    s.waiters.pop_front();
    --waiting_;
    asio::post(w.executor, [t = w.timer] { t->cancel(); });
  } else if (--s.holders == 0) {
    slots_.erase(it);
  }
}

std::size_t connection_gate::waiting() const {
  std::lock_guard lock(m_);
  return waiting_;
}

std::size_t connection_gate::peak() const {
  std::lock_guard lock(m_);
  return peak_;
}

probe_context::probe_context(const probe_options& options, std::shared_ptr<asio::ssl::context> tls)
    : resolver_options_{.forwarder = options.resolver,
                        .trust_anchor_file = options.trust_anchor,
                        .validate = options.dnssec && (options.resolver.empty() || !options.trust_anchor.empty())},
      tls_(std::move(tls)) {
  if (!tls_) tls_pending_ = std::async(std::launch::async, [so = options.session] { return make_client_tls_context(so); });
  if (options.checks.has(check_id::tls_enum)) prepare_tls_enum();
}

probe_context::~probe_context() {
  if (tls_pending_.valid()) tls_pending_.wait();  // its thread ends before what it uses
}

bool probe_context::tls_ready() const {
  return !tls_pending_.valid() || tls_pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

const std::shared_ptr<asio::ssl::context>& probe_context::tls() {
  if (tls_pending_.valid()) tls_ = tls_pending_.get();
  return tls_;
}

void probe_context::leave_resolver_to_exit() {
  // Only an idle one: a lookup still in flight (a stopped probe, an MTA-STS lookup the probe
  // did not wait for) would have libunbound's thread call back while the process exits, so
  // that resolver is deleted as usual. The one left is reachable from a static for the rest
  // of the process (leak checkers do not report it); nothing calls ub_process on it again.
  static auto* left = new std::vector<std::unique_ptr<dns_resolver>>;
  if (resolver_ && resolver_->idle()) left->push_back(std::move(resolver_));
}

dns_resolver& probe_context::resolver() {
  if (!resolver_) resolver_ = std::make_unique<dns_resolver>(resolver_options_);
  return *resolver_;
}

std::string gate_key(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

namespace {

// Holds one place at the gate for as long as it lives.
struct gate_pass {
  connection_gate* gate;
  std::string key;
  ~gate_pass() {
    if (gate) gate->release(key);
  }
};

// (Each awaitable is made first and awaited as a local: g++ 12 mishandles temporaries that
// live across a co_await; see mock_server.cpp.)

asio::awaitable<starttls_facts> gated_starttls(asio::ip::tcp::endpoint ep, session_options so, envelope_facts* env,
                                               connection_gate* gate) {
  std::string key = gate_key(ep.address());
  if (gate) co_await gate->acquire(key);
  gate_pass pass{gate, key};
  auto session = run_starttls_session(ep, std::move(so), env);
  co_return co_await std::move(session);
}

asio::awaitable<injection_facts> gated_injection(asio::ip::tcp::endpoint ep, session_options so, connection_gate* gate) {
  std::string key = gate_key(ep.address());
  if (gate) co_await gate->acquire(key);
  gate_pass pass{gate, key};
  auto check = run_injection_check(ep, std::move(so));
  co_return co_await std::move(check);
}

// One address: the checks of the registry that are on, the injection check beside the
// main session (each takes its own place at the gate, which counts connections).
asio::awaitable<address_result> probe_address(std::size_t mx_host, std::string name, std::string address,
                                              unsigned short port, const probe_options& opt, probe_context& ctx,
                                              dane_request dane = {}) {
  address_result a;
  a.mx_host = mx_host;
  a.name = !opt.session.verify_name.empty() ? opt.session.verify_name : name;
  a.address = address;
  a.port = port;
  asio::ip::tcp::endpoint ep(asio::ip::make_address(address), port);
  session_options so = opt.session;
  so.verify_name = a.name;
  so.dane = std::move(dane);
  if (opt.policy == tls_policy::none) so.try_starttls = false;
  if (!opt.as_client.empty()) {
    const client_model* m = find_client_model(opt.as_client);
    if (!m) throw std::invalid_argument("no client model '" + opt.as_client + "'");
    so.decide_starttls = [m](const std::string& ehlo) {
      auto turn = ehlo_turn_from_raw(ehlo, {});
      return predict(*m, sent_lines(turn)).sees_starttls || m->mode == tls_mode::always_try;
    };
  }
  // Check "tls-enum", whose facts are kept only when the main session's STARTTLS was
  // accepted. When the main session sends STARTTLS whatever the reply says, it starts now,
  // beside it (its hellos open sessions of their own, with a TLS context of their own; on a
  // server without STARTTLS that costs the version hellos, one session each); with --policy
  // none or --as (whose model may not see the keyword) it starts after the main session, as
  // the answer decides whether it runs at all. Begun early, it is awaited on every path
  // below, so that none of its sessions outlives the probe.
  auto ex = co_await asio::this_coro::executor;
  bool enumerating = opt.checks.has(check_id::tls_enum) && opt.checks.has(check_id::starttls) &&
                     !(opt.session.stop && opt.session.stop->requested());
  std::optional<started_task<tls_enum_facts>> enumeration;
  if (enumerating && so.try_starttls && !so.decide_starttls) enumeration.emplace(ex, run_tls_enum(ep, so, opt.tls_enum, ctx.gate));
  bool accepted = false, running = false;
  std::exception_ptr failed;
  try {
    // The client context may still be in the making (its CA store): waited for here without
    // holding up the io_context, on which the enumeration's first sessions are opening.
    auto made = poll_until([&ctx] { return ctx.tls_ready(); });
    co_await std::move(made);
    so.tls_context = ctx.tls();
    bool envelope = opt.checks.has(check_id::envelope) && !so.rcpt.empty();
    envelope_facts env;
    if (!envelope) so.rcpt.clear();
    if (opt.checks.has(check_id::starttls) && opt.checks.has(check_id::injection)) {
      session_options quiet = so;
      quiet.on_event = nullptr;
      auto main = gated_starttls(ep, so, envelope ? &env : nullptr, ctx.gate);
      auto inj = gated_injection(ep, std::move(quiet), ctx.gate);
      auto both = std::move(main) && std::move(inj);
      auto [st, in] = co_await std::move(both);
      a.checks.emplace_back(std::move(st));
      a.checks.emplace_back(std::move(in));
    } else if (opt.checks.has(check_id::starttls)) {
      auto main = gated_starttls(ep, so, envelope ? &env : nullptr, ctx.gate);
      a.checks.emplace_back(co_await std::move(main));
    } else if (opt.checks.has(check_id::injection)) {
      auto inj = gated_injection(ep, so, ctx.gate);
      a.checks.emplace_back(co_await std::move(inj));
    }
    if (envelope) a.checks.emplace_back(std::move(env));
    // Each sender's own ClientHello, after the probe's handshake was established (a failed
    // one fails every sender's: its hello offered a superset of theirs). The enumeration's
    // facts join them once STARTTLS was accepted (a failed handshake of the probe's does not
    // stop it: which versions a server accepts is what says why).
    const starttls_facts* st = a.get<starttls_facts>();
    accepted = st && st->dialogue.starttls == starttls_answer::accepted;  // (st moves with a.checks below)
    running = !(opt.session.stop && opt.session.stop->requested());
    if (opt.checks.has(check_id::tls_senders) && st && st->tls.established && running) {
      auto replays = run_tls_senders(ep, so, st->tls, ctx.gate);
      a.checks.emplace_back(co_await std::move(replays));
    }
    if (enumerating && !enumeration && accepted && running) {
      auto hellos = run_tls_enum(ep, so, opt.tls_enum, ctx.gate);
      a.checks.emplace_back(co_await std::move(hellos));
    }
  } catch (...) {
    failed = std::current_exception();
  }
  if (enumeration) {
    tls_enum_facts e;
    std::exception_ptr enum_failed;
    try {
      auto hellos = enumeration->get();
      e = co_await std::move(hellos);
    } catch (...) {
      enum_failed = std::current_exception();
    }
    if (!failed && accepted) {  // an error of facts that would be dropped is dropped with them
      if (enum_failed) std::rethrow_exception(enum_failed);
      a.checks.emplace_back(std::move(e));
    }
  }
  if (failed) std::rethrow_exception(failed);
  co_return a;
}

lookup_status status_of(const dns_answer& a) {
  if (!a.ok) return a.error == "timeout" ? lookup_status::timeout : lookup_status::error;
  if (a.nxdomain) return lookup_status::nxdomain;
  if (a.rcode == 0) return lookup_status::ok;
  return a.rcode == 2 ? lookup_status::servfail : lookup_status::refused;
}

dns_lookup lookup_fact(const std::string& name, rr_type type, const dns_answer& a) {
  return {.name = name,
          .type = type,
          .status = status_of(a),
          .rcode = a.rcode,
          .detail = a.ok ? std::string() : a.error,
          .dnssec = a.dnssec,
          .why_bogus = a.why_bogus,
          .records = a.records.size(),
          .canonical_name = a.canonical_name};
}

asio::awaitable<tlsa_answer> no_tlsa_lookup() { co_return tlsa_answer{}; }

// The weaker of two answers' DNSSEC status: bogus, then indeterminate, insecure, secure.
dnssec_status weaker(dnssec_status a, dnssec_status b) {
  auto rank = [](dnssec_status s) {
    switch (s) {
      case dnssec_status::bogus: return 0;
      case dnssec_status::indeterminate: return 1;
      case dnssec_status::insecure: return 2;
      case dnssec_status::secure: return 3;
    }
    return 0;
  };
  return rank(a) <= rank(b) ? a : b;
}

std::string without_final_dot(std::string n) {
  if (n.size() > 1 && n.back() == '.') n.pop_back();
  return n;
}

// Check "dane" for one MX host (RFC 7672 §2.2): facts on f.mx_hosts[hi].dane; the records
// the handshake is to verify with.
asio::awaitable<dane_request> dane_lookups(probe_facts& f, std::size_t hi, std::string host, unsigned short port,
                                           const dns_answer& v4, const dns_answer& v6, tlsa_answer tlsa,
                                           const probe_options& opt, dns_resolver& res) {
  dane_facts d;
  d.host = host;
  // Each address answer counts, a secure denial (no AAAA) included; a failed lookup is not secure.
  auto status = [](const dns_answer& a) { return a.ok ? a.dnssec : dnssec_status::indeterminate; };
  d.address_dnssec = weaker(status(v4), status(v6));
  d.mx_bogus = std::any_of(f.mx.begin(), f.mx.end(), [](const mx_record& m) { return m.dnssec == dnssec_status::bogus; });
  dane_request req;
  if (d.address_dnssec == dnssec_status::secure) {
    // RFC 7672 §2.2.3: when the host name is an alias and its expansion is secure, the
    // TLSA base domain is first the expanded name, then the original name.
    std::string canonical = without_final_dot(v4.canonical_name.empty() ? v6.canonical_name : v4.canonical_name);
    std::vector<std::string> bases;
    if (!canonical.empty() && canonical != host) bases.push_back(canonical);
    bases.push_back(host);
    for (std::size_t i = 0; i < bases.size(); ++i) {
      std::string name = "_" + std::to_string(port) + "._tcp." + bases[i];
      tlsa_answer t;
      if (bases[i] == host) {
        t = std::move(tlsa);  // asked beside A and AAAA
      } else {
        auto l = res.lookup_tlsa(name, opt.dns_timeout);
        t = co_await std::move(l);
      }
      d.looked_up = true;
      d.base_domain = bases[i];
      d.tlsa_name = name;
      d.lookup = lookup_fact(name, rr_type::tlsa, t.answer);
      f.lookups.push_back(d.lookup);
      d.records.clear();
      for (auto& r : t.records) d.records.push_back({.record = r, .usability = usability_of(r)});
      d.malformed = t.malformed;
      // The next base domain only after a secure "no such records" (NXDOMAIN or NODATA).
      bool none = t.answer.ok && (t.answer.nxdomain || (t.answer.rcode == 0 && !t.answer.has_data)) &&
                  t.answer.dnssec == dnssec_status::secure;
      if (!none) break;
      if (bases[i] != host) d.expanded_without_tlsa = bases[i];
    }
    bool tlsa_secure = d.lookup.dnssec == dnssec_status::secure;
    if (tlsa_secure) {
      req.base_domain = d.base_domain;
      req.other_names = {host};
      for (const auto& r : d.records)
        if (r.usability == tlsa_usability::usable) req.records.push_back(r.record);
    }
  }
  f.mx_hosts[hi].dane = std::move(d);
  co_return req;
}

bool answered(const address_result& a) {
  const starttls_facts* s = a.get<starttls_facts>();
  if (!s) return false;
  return s->error.phase != session_phase::connect && s->error.phase != session_phase::banner;
}

bool stopped(const probe_options& opt) { return opt.session.stop && opt.session.stop->requested(); }

}  // namespace

asio::awaitable<probe_report> probe(probe_target target, const probe_options& opt, probe_context& ctx) {
  probe_report rep;
  probe_facts& f = rep.facts;
  f.target = target.text;
  f.host = target.host;
  f.literal = target.literal;
  f.port = target.port;
  f.policy = opt.policy;
  f.as_client = opt.as_client;
  f.checks = opt.checks;
  // MTA-STS is a domain's policy (RFC 8461 §3): an address target has none to look up.
  if (target.literal) f.checks.set(check_id::mta_sts, false);
  std::shared_ptr<mta_sts_pending> sts;
  // DANE needs a TLSA base domain: an MX host (an address target has none).
  if (target.literal) f.checks.set(check_id::dane, false);

  if (target.literal) {
    auto one = probe_address(no_index, opt.session.verify_name, target.host, target.port, opt, ctx);
    f.hosts.push_back(co_await std::move(one));
  } else {
    // RFC 5321 §5.1: the MX records in preference order; without any, the domain itself
    // (implicit MX); RFC 7505: a single MX of "." means the domain accepts no mail.
    dns_resolver& res = ctx.resolver();
    // Check "mta-sts" beside the MX lookup and the sessions (its lookups and fetch overlap them).
    auto sts_start = start_mta_sts_check(target.host, opt, ctx);
    sts = co_await std::move(sts_start);
    // Whether validation works at all (the anchor zone's DNSKEY), beside the MX lookup.
    auto ready = res.readiness(opt.dns_timeout);
    auto mx_lookup = res.lookup(target.host, rr_mx, opt.dns_timeout);
    auto both = std::move(ready) && std::move(mx_lookup);
    auto [readiness, mx] = co_await std::move(both);
    f.dnssec = std::move(readiness);
    f.lookups.push_back(lookup_fact(target.host, rr_type::mx, mx));
    dnssec_status mx_sec = f.lookups.back().dnssec;
    if (f.lookups.back().status != lookup_status::ok) {
      auto sts_end = finish_mta_sts_check(sts, f, stopped(opt));
      co_await std::move(sts_end);
      rep.diagnosis = diagnose(f);
      co_return rep;
    }
    for (const auto& r : mx.records) {
      auto sp = r.find(' ');
      if (sp == std::string::npos) continue;
      f.mx.push_back({.preference = std::atoi(r.substr(0, sp).c_str()), .host = r.substr(sp + 1), .dnssec = mx_sec});
    }
    std::stable_sort(f.mx.begin(), f.mx.end(), [](const mx_record& a, const mx_record& b) { return a.preference < b.preference; });
    if (f.mx.size() == 1 && f.mx.front().host == ".") {
      auto sts_end = finish_mta_sts_check(sts, f, stopped(opt));
      co_await std::move(sts_end);
      rep.diagnosis = diagnose(f);
      co_return rep;
    }
    for (const auto& m : f.mx) f.mx_hosts.push_back({.name = m.host, .preference = m.preference});
    if (f.mx_hosts.empty()) f.mx_hosts.push_back({.name = target.host, .preference = 0, .implicit = true});
    bool done = false;
    bool dane = opt.checks.has(check_id::dane);
    for (std::size_t hi = 0; hi < f.mx_hosts.size() && !done && !stopped(opt); ++hi) {
      std::string host = f.mx_hosts[hi].name;
      // A, AAAA and (check "dane") the host's TLSA side by side; the TLSA answer is used only
      // when both address answers are secure (RFC 7672 §2.2.2).
      std::string tlsa_name = "_" + std::to_string(target.port) + "._tcp." + host;
      auto a4 = res.lookup(host, rr_a, opt.dns_timeout);
      auto a6 = res.lookup(host, rr_aaaa, opt.dns_timeout);
      // (Without validation no answer is secure: the TLSA query would only add load.)
      auto t = dane && res.validating() ? res.lookup_tlsa(tlsa_name, opt.dns_timeout) : no_tlsa_lookup();
      auto all = std::move(a4) && std::move(a6) && std::move(t);
      auto [v4, v6, tlsa] = co_await std::move(all);
      for (auto [type, a] : {std::pair<rr_type, const dns_answer*>{rr_type::a, &v4}, {rr_type::aaaa, &v6}}) {
        f.lookups.push_back(lookup_fact(host, type, *a));
        for (const auto& addr : a->records)
          f.mx_hosts[hi].addresses.push_back({.host = host, .type = type, .address = addr, .dnssec = a->dnssec});
      }
      dane_request req;
      if (dane) {
        auto step = dane_lookups(f, hi, host, target.port, v4, v6, std::move(tlsa), opt, res);
        req = co_await std::move(step);
      }
      for (const auto& addr : f.mx_hosts[hi].addresses) {
        if ((done && !opt.all_hosts) || stopped(opt)) break;
        auto one = probe_address(hi, host, addr.address, target.port, opt, ctx, req);
        address_result r = co_await std::move(one);
        if (answered(r)) done = !opt.all_hosts;
        f.hosts.push_back(std::move(r));
      }
    }
  }
  auto sts_end = finish_mta_sts_check(sts, f, stopped(opt));
  co_await std::move(sts_end);
  f.interrupted = stopped(opt);
  rep.diagnosis = diagnose(f);
  co_return rep;
}

probe_report run_probe(const probe_target& target, const probe_options& options, bool stop_on_signal) {
  session_stop stop;  // before io: a session's timer leaves it as io destroys what is left
  asio::io_context io;
  probe_options opt = options;
  if (stop_on_signal) opt.session.stop = &stop;
  probe_context ctx(opt);
  probe_report out;
  std::exception_ptr failure;
  asio::signal_set sigs(io);
  if (stop_on_signal) {
    sigs.add(SIGINT);
    sigs.add(SIGTERM);
    sigs.async_wait([&](std::error_code ec, int) {
      if (!ec) stop.request();
    });
  }
  asio::co_spawn(io, probe(target, opt, ctx), [&](std::exception_ptr e, probe_report r) {
    failure = e;
    out = std::move(r);
    std::error_code ignored;
    sigs.cancel(ignored);
    io.stop();  // a stopped probe leaves an unfinished MTA-STS fetch behind: not waited for
  });
  io.run();
  if (opt.process_ends_after) ctx.leave_resolver_to_exit();
  if (failure) std::rethrow_exception(failure);
  ctx.tls();  // a CA store that cannot be loaded is an error even when no session needed it
  return out;
}

}  // namespace mxtls
