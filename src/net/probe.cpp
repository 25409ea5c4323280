#include "mxtls/probe.hpp"

#include <stdexcept>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
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
    lint_result lr = lint(r.ehlo_after_tls, lo);
    if (lr.reply_found) {
      h.starttls_after_tls = lr.ehlo.starttls_anywhere;
      h.lint_after_tls = std::move(lr);
    }
  }

  auto banner_code = r.banner.size() >= 3 ? r.banner.substr(0, 3) : std::string();
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
  if (r.error_phase == "ehlo") {
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
  if (!r.starttls_attempted) {
    h.verdict = fmt::format("{} would not send STARTTLS to this server", opt.as_client.empty() ? "the client" : opt.as_client);
    h.senders_lose_tls = true;
    return;
  }
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
}

}  // namespace

probe_report run_probe(const probe_target& target, const probe_options& opt) {
  probe_report rep;
  rep.target = target.text;
  rep.policy = opt.policy;
  if (!target.literal)
    throw std::invalid_argument("'" + target.host +
                                "' needs a DNS (MX) lookup, which mxtls probe cannot do yet; give an address, e.g. "
                                "[192.0.2.1]:25");
  asio::io_context io;
  host_report h;
  h.name = opt.session.verify_name;
  h.address = target.host;
  h.port = target.port;
  asio::ip::tcp::endpoint ep(asio::ip::make_address(target.host), target.port);

  session_options so = opt.session;
  if (opt.policy == tls_policy::none) so.try_starttls = false;
  if (!opt.as_client.empty()) {
    const client_model* m = find_client_model(opt.as_client);
    if (!m) throw std::invalid_argument("no client model '" + opt.as_client + "' (see mxtls lint --format json)");
    so.decide_starttls = [m](const std::string& ehlo) {
      auto turn = ehlo_turn_from_raw(ehlo, {});
      return predict(*m, sent_lines(turn)).sees_starttls || m->mode == tls_mode::always_try;
    };
  }
  asio::co_spawn(io, run_live_session(ep, so), [&](std::exception_ptr e, live_session_result r) {
    if (e) std::rethrow_exception(e);
    h.session = std::move(r);
  });
  io.run();
  io.restart();
  if (opt.injection_test && h.session.tls_established) {
    h.injection_checked = true;
    asio::co_spawn(io, check_command_injection(ep, so, h.injection_error), [&](std::exception_ptr e, bool vulnerable) {
      if (e) std::rethrow_exception(e);
      h.command_injection = vulnerable;
    });
    io.run();
  }
  diagnose(h, opt);
  rep.hosts.push_back(std::move(h));

  const host_report& only = rep.hosts.front();
  rep.verdict = only.verdict;
  bool verify_policy = opt.policy == tls_policy::preferred_verify || opt.policy == tls_policy::required_verify;
  bool cert_bad = only.session.tls_established && (!only.session.chain_verified ||
                                                   (!only.name.empty() && !only.session.hostname_match));
  if (!only.reachable || (only.session.error_phase == "banner")) rep.exit_code = 3;
  else if (only.senders_lose_tls || (verify_policy && cert_bad) || only.command_injection) rep.exit_code = 1;
  else rep.exit_code = 0;
  if (verify_policy && cert_bad)
    rep.verdict += fmt::format("; with TLS setting {} the certificate is not accepted", to_string(opt.policy));
  return rep;
}

}  // namespace mxtls
