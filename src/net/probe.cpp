#include "mxtls/probe.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "mxtls/dns.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace mxtls {

const char* to_string(tls_policy p) {
  switch (p) {
    case tls_policy::none: return "none";
    case tls_policy::preferred: return "preferred";
    case tls_policy::required: return "required";
    case tls_policy::preferred_verify: return "preferred-verify";
    case tls_policy::required_verify: return "required-verify";
  }
  return "?";
}

const char* to_string(probe_outcome o) {
  switch (o) {
    case probe_outcome::ok: return "ok";
    case probe_outcome::certificate: return "certificate";
    case probe_outcome::senders_lose_tls: return "senders-lose-tls";
    case probe_outcome::no_starttls: return "no-starttls";
    case probe_outcome::starttls_fails: return "starttls-fails";
    case probe_outcome::ehlo_fails: return "ehlo-fails";
    case probe_outcome::unreachable: return "unreachable";
    case probe_outcome::dns_fails: return "dns-fails";
  }
  return "?";
}

std::optional<tls_policy> parse_policy(const std::string& s) {
  for (auto p : {tls_policy::none, tls_policy::preferred, tls_policy::required, tls_policy::preferred_verify,
                 tls_policy::required_verify})
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

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return s;
}

// What RCPT said (with --rcpt): greylisting is a temporary refusal there, not a TLS problem.
void append_envelope(host_report& h) {
  const auto& r = h.session;
  if (r.rcpt_code >= 400 && r.rcpt_code < 500)
    h.verdict += fmt::format("; RCPT answered {}: greylisting or another temporary refusal, not a TLS problem ({})",
                             r.rcpt_code, r.rcpt_reply);
  else if (r.rcpt_code >= 500)
    h.verdict += fmt::format("; RCPT refused with {} ({})", r.rcpt_code, r.rcpt_reply);
  else if (r.mail_code >= 400)
    h.verdict += fmt::format("; MAIL FROM:<> answered {}", r.mail_code);
}

void diagnose(host_report& h, const probe_options& opt) {
  const live_session_result& r = h.session;
  h.reachable = r.error_phase != "connect";
  if (!r.ehlo.empty()) {
    lint_options lo;
    lo.raw = true;
    lint_result lr = lint(r.ehlo, lo);
    if (lr.reply_found) {
      for (const auto& c : lr.clients)
        if (c.outcome != tls_outcome::tls && c.opportunistic) h.losers.emplace_back(c.short_name);
      h.lint = std::move(lr);
    }
  }
  if (!r.ehlo_after_tls.empty()) {
    lint_options lo;
    lo.raw = true;
    lo.predict_clients = false;  // inside TLS the STARTTLS decision is behind us
    lint_result lr = lint(r.ehlo_after_tls, lo);
    if (lr.reply_found) {
      h.starttls_after_tls = lr.ehlo.starttls_anywhere;
      h.lint_after_tls = std::move(lr);
    }
  }

  auto banner_code = r.banner.size() >= 3 ? r.banner.substr(0, 3) : std::string();
  h.outcome = probe_outcome::unreachable;
  if (r.error_phase == "connect") {
    h.verdict = "no connection: " + r.error;
    return;
  }
  if (r.error_phase == "banner") {
    h.verdict = banner_code == "421" ? "the server refuses the connection with 421 (busy or blocking us), not a TLS problem"
                : r.banner.empty()    ? "no banner: " + r.error + " (a tarpit or an overloaded server, not a TLS problem)"
                                      : "bad banner: " + r.error;
    return;
  }
  h.outcome = probe_outcome::no_starttls;
  if (r.error_phase == "ehlo") {
    h.outcome = probe_outcome::ehlo_fails;
    h.verdict = "no complete EHLO reply: " + r.error;
    h.senders_lose_tls = true;
    return;
  }
  if (h.lint && h.lint->ehlo.code != 250) {
    h.verdict = fmt::format("EHLO refused with {}: senders fall back to HELO, without STARTTLS", h.lint->ehlo.code);
    h.senders_lose_tls = true;
    return;
  }
  if (!r.starttls_offered) {
    h.verdict = "STARTTLS is not offered: every sender delivers in plaintext (or not at all where TLS is required)";
    h.senders_lose_tls = true;
    return;
  }
  h.outcome = probe_outcome::senders_lose_tls;
  if (!r.starttls_attempted) {
    h.verdict = fmt::format("{} would not send STARTTLS to this server", opt.as_client.empty() ? "the client" : opt.as_client);
    h.senders_lose_tls = true;
    return;
  }
  h.outcome = probe_outcome::starttls_fails;
  if (r.starttls_code != 220) {
    h.verdict = r.starttls_code < 0 ? "STARTTLS is offered but never answered: " + r.error
                                    : fmt::format("STARTTLS is offered but refused with {}", r.starttls_code);
    h.senders_lose_tls = true;
    return;
  }
  if (!r.tls_established) {
    h.verdict = "STARTTLS is accepted but the TLS handshake fails: " + r.error;
    h.senders_lose_tls = true;
    return;
  }
  std::string tls = fmt::format("{} {}", r.tls_protocol, r.tls_cipher);
  std::vector<std::string> cert;
  if (!r.chain_verified) cert.push_back("certificate does not verify (" + r.verify_error + ")");
  if (!h.name.empty() && !r.hostname_match) cert.push_back("certificate does not match " + h.name);
  if (r.expired) cert.push_back("certificate expired");
  std::string cert_text = cert.empty() ? "" : "; " + join(cert);
  h.outcome = !h.losers.empty() ? probe_outcome::senders_lose_tls
              : cert.empty()     ? probe_outcome::ok
                                 : probe_outcome::certificate;
  if (!h.losers.empty()) {
    h.senders_lose_tls = true;
    bool on_greeting = false;
    for (const auto& f : h.lint->ehlo.findings)
      if (f.id == finding_id::keyword_as_greeting) on_greeting = true;
    h.verdict = fmt::format("STARTTLS works ({}), but {}: {} will send in plaintext{}", tls,
                            on_greeting ? "it is listed before the greeting" : "the EHLO reply breaks RFC 5321",
                            join(h.losers), cert_text);
  } else {
    h.verdict = fmt::format("STARTTLS works for every sender ({}){}", tls, cert_text);
  }
  if (r.plaintext_after_220 > 0)
    h.verdict += fmt::format("; {} octets of plaintext followed the 220 (response injection)", r.plaintext_after_220);
  if (h.command_injection) h.verdict += "; the server runs commands pipelined with STARTTLS inside TLS (CVE-2011-0411 class)";
  if (h.starttls_after_tls) h.verdict += "; the EHLO reply inside TLS still offers STARTTLS (RFC 3207 §4.2)";
  append_envelope(h);
}

}  // namespace

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
    : forwarder_(options.resolver), tls_(tls ? std::move(tls) : make_client_tls_context(options.session)) {}

dns_resolver& probe_context::resolver() {
  if (!resolver_) resolver_ = std::make_unique<dns_resolver>(forwarder_);
  return *resolver_;
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

}  // namespace

std::string gate_key(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

namespace {

// One address: the session, then (with TLS) the command-injection check.
asio::awaitable<host_report> probe_address(std::string name, std::string address, unsigned short port,
                                           const probe_options& opt, probe_context& ctx,
                                           std::shared_ptr<asio::ssl::context> tls) {
  host_report h;
  h.name = !opt.session.verify_name.empty() ? opt.session.verify_name : name;
  h.address = address;
  h.port = port;
  asio::ip::tcp::endpoint ep(asio::ip::make_address(address), port);
  session_options so = opt.session;
  so.verify_name = h.name;
  so.tls_context = std::move(tls);
  if (opt.policy == tls_policy::none) so.try_starttls = false;
  if (!opt.as_client.empty()) {
    const client_model* m = find_client_model(opt.as_client);
    if (!m) throw std::invalid_argument("no client model '" + opt.as_client + "' (see mxtls lint --format json)");
    so.decide_starttls = [m](const std::string& ehlo) {
      auto turn = ehlo_turn_from_raw(ehlo, {});
      return predict(*m, sent_lines(turn)).sees_starttls || m->mode == tls_mode::always_try;
    };
  }
  // The gate counts connections to one machine: its address in one spelling, whatever the
  // list wrote ("2001:DB8::1" and "2001:db8:0::1", "::ffff:192.0.2.1" and "192.0.2.1").
  std::string key = gate_key(ep.address());
  if (ctx.gate) co_await ctx.gate->acquire(key);
  gate_pass pass{ctx.gate, key};
  // (Each awaitable is made first and awaited as a local: g++ 12 mishandles temporaries
  // that live across a co_await; see mock_server.cpp.)
  auto session = run_live_session(ep, so);
  h.session = co_await std::move(session);
  if (opt.injection_test && h.session.tls_established) {
    h.injection_checked = true;
    auto check = check_command_injection(ep, so, h.injection_error);
    h.command_injection = co_await std::move(check);
  }
  diagnose(h, opt);
  co_return h;
}

std::string failure(const dns_answer& a) {
  return !a.ok ? a.error : a.nxdomain ? "NXDOMAIN" : a.rcode == 2 ? "SERVFAIL" : fmt::format("rcode {}", a.rcode);
}

}  // namespace

asio::awaitable<probe_report> probe(probe_target target, const probe_options& opt, probe_context& ctx) {
  probe_report rep;
  rep.target = target.text;
  rep.policy = opt.policy;

  if (target.literal) {
    auto one = probe_address(opt.session.verify_name, target.host, target.port, opt, ctx, ctx.tls_);
    rep.hosts.push_back(co_await std::move(one));
  } else {
    // RFC 5321 §5.1: the MX records in preference order; without any, the domain itself
    // (implicit MX); RFC 7505: a single MX of "." means the domain accepts no mail.
    dns_resolver& res = ctx.resolver();
    auto mx_lookup = res.lookup(target.host, rr_mx, opt.dns_timeout);
    dns_answer mx = co_await std::move(mx_lookup);
    std::vector<std::pair<int, std::string>> hosts;
    if (!mx.ok || (mx.rcode != 0 && !mx.nxdomain)) {
      rep.verdict = fmt::format("DNS lookup of the MX records of {} failed: {}", target.host, failure(mx));
      rep.exit_code = 3;
      co_return rep;
    }
    if (mx.nxdomain) {
      rep.verdict = fmt::format("{} does not exist (NXDOMAIN)", target.host);
      rep.exit_code = 3;
      co_return rep;
    }
    for (const auto& r : mx.records) {
      rep.dns.push_back("MX " + r);
      auto sp = r.find(' ');
      hosts.emplace_back(std::stoi(r.substr(0, sp)), r.substr(sp + 1));
    }
    if (hosts.size() == 1 && hosts.front().second == ".") {
      rep.verdict = fmt::format("{} has a null MX (RFC 7505): it accepts no mail", target.host);
      rep.exit_code = 3;
      co_return rep;
    }
    if (hosts.empty()) {
      rep.dns.push_back("no MX records: the domain itself is the mail host (implicit MX, RFC 5321 §5.1)");
      hosts.emplace_back(0, target.host);
    }
    std::stable_sort(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    bool answered = false;
    for (const auto& [pref, host] : hosts) {
      if (answered && !opt.all_hosts) break;
      std::vector<std::string> addresses;
      for (int type : {rr_a, rr_aaaa}) {
        auto addr_lookup = res.lookup(host, type, opt.dns_timeout);
        dns_answer a = co_await std::move(addr_lookup);
        if (!a.ok || (a.rcode != 0 && !a.nxdomain)) rep.dns.push_back(fmt::format("{} {}: {}", type == rr_a ? "A" : "AAAA", host, failure(a)));
        for (const auto& addr : a.records) {
          rep.dns.push_back(fmt::format("{} {} {}", type == rr_a ? "A" : "AAAA", host, addr));
          addresses.push_back(addr);
        }
      }
      if (addresses.empty()) rep.dns.push_back(fmt::format("{} has no address", host));
      for (const auto& addr : addresses) {
        if (answered && !opt.all_hosts) break;
        auto one = probe_address(host, addr, target.port, opt, ctx, ctx.tls_);
        host_report h = co_await std::move(one);
        h.mx = host;
        if (h.reachable && h.session.error_phase != "banner") answered = true;
        rep.hosts.push_back(std::move(h));
      }
    }
    if (rep.hosts.empty()) {
      rep.verdict = fmt::format("no mail host of {} has an address", target.host);
      rep.exit_code = 3;
      co_return rep;
    }
  }

  // The verdict is the first host that answered (or the last one tried).
  const host_report* chosen = &rep.hosts.back();
  for (const auto& h : rep.hosts)
    if (h.reachable && h.session.error_phase != "banner") {
      chosen = &h;
      break;
    }
  rep.verdict = rep.hosts.size() > 1 ? fmt::format("{} ({}): {}", chosen->mx.empty() ? chosen->address : chosen->mx,
                                                   chosen->address, chosen->verdict)
                                     : chosen->verdict;
  rep.outcome = chosen->outcome;
  bool verify_policy = opt.policy == tls_policy::preferred_verify || opt.policy == tls_policy::required_verify;
  bool cert_bad = chosen->session.tls_established &&
                  (!chosen->session.chain_verified || (!chosen->name.empty() && !chosen->session.hostname_match));
  if (!chosen->reachable || chosen->session.error_phase == "banner") rep.exit_code = 3;
  else if (chosen->senders_lose_tls || (verify_policy && cert_bad) || chosen->command_injection) rep.exit_code = 1;
  else rep.exit_code = 0;
  if (verify_policy && cert_bad)
    rep.verdict += fmt::format("; with TLS setting {} the certificate is not accepted", to_string(opt.policy));
  co_return rep;
}

probe_report run_probe(const probe_target& target, const probe_options& options) {
  asio::io_context io;
  probe_context ctx(options);
  probe_report out;
  asio::co_spawn(io, probe(target, options, ctx), [&](std::exception_ptr e, probe_report r) {
    if (e) std::rethrow_exception(e);
    out = std::move(r);
  });
  io.run();
  return out;
}

}  // namespace mxtls
