#include "mxtls/probe_report.hpp"

#include <fmt/format.h>

#include "mxtls/report.hpp"

namespace mxtls {

namespace {

std::string where(const host_report& h) {
  return h.address.find(':') != std::string::npos ? fmt::format("[{}]:{}", h.address, h.port)
                                                  : fmt::format("{}:{}", h.address, h.port);
}

}  // namespace

std::string render_probe_text(const probe_report& r, bool color) {
  std::string out = r.verdict + "\n";
  if (!r.dns.empty()) {
    out += "\nDNS:\n";
    for (const auto& d : r.dns) out += "  " + d + "\n";
  }
  for (const auto& h : r.hosts) {
    const auto& s = h.session;
    fmt::format_to(std::back_inserter(out), "\nHost {}{} (TLS setting {})\n", h.mx.empty() ? "" : h.mx + " ", where(h),
                   to_string(r.policy));
    for (const auto& t : s.transcript) fmt::format_to(std::back_inserter(out), "  {:>6} ms  {}  {}\n", t.ms, t.dir, t.text);
    if (!s.error.empty()) fmt::format_to(std::back_inserter(out), "  error at {}: {}\n", s.error_phase, s.error);
    if (s.tls_established) {
      fmt::format_to(std::back_inserter(out), "\n  TLS       {} {}{}{}\n", s.tls_protocol, s.tls_cipher,
                     s.tls_group.empty() ? "" : ", key exchange ", s.tls_group);
      fmt::format_to(std::back_inserter(out), "  verified  {}\n", s.chain_verified ? "yes" : "no: " + s.verify_error);
      if (!h.name.empty())
        fmt::format_to(std::back_inserter(out), "  name      {} {}\n", h.name, s.hostname_match ? "matches" : "does not match");
      for (std::size_t i = 0; i < s.chain.size(); ++i) {
        const auto& c = s.chain[i];
        fmt::format_to(std::back_inserter(out), "  cert {}    {}\n            issuer {}\n            valid {} to {}, {}\n            SHA-256 {}\n",
                       i, c.subject, c.issuer, c.not_before, c.not_after, c.key, c.sha256);
        if (!c.dns_names.empty()) {
          std::string names;
          for (const auto& n : c.dns_names) names += (names.empty() ? "" : ", ") + n;
          fmt::format_to(std::back_inserter(out), "            DNS {}\n", names);
        }
      }
      if (h.starttls_after_tls) out += "  note      the EHLO reply inside TLS still offers STARTTLS\n";
    }
    if (s.plaintext_after_220 > 0)
      fmt::format_to(std::back_inserter(out), "  injection {} octets of plaintext after the 220 were discarded (response injection)\n",
                     s.plaintext_after_220);
    if (h.injection_checked)
      fmt::format_to(std::back_inserter(out), "  injection {}\n",
                     h.command_injection ? "VULNERABLE: a command pipelined with STARTTLS was answered inside TLS"
                     : h.injection_error.empty() ? "commands pipelined with STARTTLS are not run inside TLS"
                                                 : "check not completed: " + h.injection_error);
    if (h.lint) {
      out += "\nThe EHLO reply, as received:\n";
      out += render_lint_text(*h.lint, {color, "EHLO reply"});
    }
  }
  return out;
}

namespace {

void write_host(json_writer& w, const host_report& h) {
  const auto& s = h.session;
  bool tls = s.tls_established;
  w.begin_object();
  w.key("name").value_or_null(h.name).key("mx").value_or_null(h.mx);
  w.member("address", h.address).member("port", h.port).member("verdict", h.verdict);
  w.member("outcome", to_string(h.outcome)).key("senders_losing_tls").strings(h.losers);
  w.key("transcript").begin_array();
  for (const auto& t : s.transcript)
    w.begin_object().member("dir", std::string_view(&t.dir, 1)).member("text", t.text).member("ms", t.ms).end_object();
  w.end_array();
  w.key("lint");
  if (h.lint)
    write_lint_json(w, *h.lint, "EHLO reply", true);
  else
    w.null();
  w.key("starttls").begin_object().member("offered", s.starttls_offered).member("attempted", s.starttls_attempted);
  w.member_if("reply_code", s.starttls_code >= 0, s.starttls_code);
  w.end_object();
  w.key("tls").begin_object().member("established", tls);
  w.member_if("protocol", tls, s.tls_protocol);
  w.member_if("cipher", tls, s.tls_cipher);
  w.key("group").value_or_null(s.tls_group);
  w.member_if("verified", tls, s.chain_verified);
  w.key("verify_error").value_or_null(s.verify_error);
  w.member_if("hostname_match", tls && !h.name.empty(), s.hostname_match);
  w.member_if("expired", tls, s.expired);
  w.key("chain").begin_array();
  for (const auto& c : s.chain) {
    w.begin_object().member("subject", c.subject).member("issuer", c.issuer).key("dns_names").strings(c.dns_names);
    w.member("not_before", c.not_before).member("not_after", c.not_after).member("key", c.key).member("sha256", c.sha256);
    w.end_object();
  }
  w.end_array().end_object();
  w.key("lint_after_tls");
  if (h.lint_after_tls)
    write_lint_json(w, *h.lint_after_tls, "EHLO reply after TLS", true);
  else
    w.null();
  w.key("injection").begin_object().member("plaintext_after_220", s.plaintext_after_220);
  w.member_if("command_injection", h.injection_checked && h.injection_error.empty(), h.command_injection);
  w.end_object();
  w.member("starttls_after_tls", h.starttls_after_tls);
  w.key("envelope");
  if (s.mail_code < 0) {
    w.null();
  } else {
    w.begin_object().member("mail_code", s.mail_code);
    w.member_if("rcpt_code", s.rcpt_code >= 0, s.rcpt_code);
    w.member("rcpt_reply", s.rcpt_reply).end_object();
  }
  w.key("error");
  if (s.error.empty())
    w.null();
  else
    w.begin_object().member("phase", s.error_phase).member("message", s.error).end_object();
  w.end_object();
}

}  // namespace

void write_probe_json(json_writer& w, const probe_report& r, const probe_json_head& head) {
  w.begin_object();
  w.member("schema", "mxtls-probe").member("version", probe_json_version);
  if (head.line > 0) w.member("line", head.line).member("input", head.input);
  w.member("target", r.target).member("policy", to_string(r.policy)).member("verdict", r.verdict);
  w.member("outcome", to_string(r.outcome)).member("exit_code", r.exit_code).key("dns").strings(r.dns);
  w.key("hosts").begin_array();
  for (const auto& h : r.hosts) write_host(w, h);
  w.end_array();
  w.end_object();
}

std::string render_probe_json(const probe_report& r) {
  std::string out;
  json_writer w(out, 2);
  write_probe_json(w, r);
  return out;
}

std::string render_esa_log(const probe_report& r) {
  std::string out;
  int dcid = 0;
  for (const auto& h : r.hosts) {
    ++dcid;
    const auto& s = h.session;
    fmt::format_to(std::back_inserter(out), "Info: New SMTP DCID {} interface 127.0.0.1 address {} port {}\n", dcid, h.address, h.port);
    if (s.error_phase == "connect") {
      fmt::format_to(std::back_inserter(out), "Info: DCID {} connection failed: {}\n", dcid, s.error);
      continue;
    }
    bool esa_sees = false;
    if (h.lint)
      for (const auto& c : h.lint->clients)
        if (c.id == "cisco-esa") esa_sees = c.sees_starttls;
    if (r.policy != tls_policy::none && h.lint) {
      if (!esa_sees) {
        fmt::format_to(std::back_inserter(out), "Info: DCID {} STARTTLS command not supported.\n", dcid);
        if (r.policy == tls_policy::required || r.policy == tls_policy::required_verify)
          fmt::format_to(std::back_inserter(out), "Info: DCID {} TLS required but not supported; delivery deferred\n", dcid);
      } else if (s.tls_established) {
        fmt::format_to(std::back_inserter(out), "Info: DCID {} TLS success protocol {} cipher {}\n", dcid, s.tls_protocol, s.tls_cipher);
        bool verify = r.policy == tls_policy::preferred_verify || r.policy == tls_policy::required_verify;
        if (verify && (!s.chain_verified || (!h.name.empty() && !s.hostname_match)))
          fmt::format_to(std::back_inserter(out), "Info: DCID {} TLS certificate verification failed: {}\n", dcid,
                         !s.chain_verified ? s.verify_error : "host name mismatch");
      } else {
        fmt::format_to(std::back_inserter(out), "Info: DCID {} TLS failed: {}\n", dcid,
                       s.starttls_code >= 0 && s.starttls_code != 220 ? fmt::format("STARTTLS answered {}", s.starttls_code) : s.error);
      }
    }
    fmt::format_to(std::back_inserter(out), "Info: DCID {} close\n", dcid);
  }
  return out;
}

}  // namespace mxtls
