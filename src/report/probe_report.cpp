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

nlohmann::ordered_json probe_to_json(const probe_report& r) {
  using json = nlohmann::ordered_json;
  json j;
  j["schema"] = "mxtls-probe";
  j["version"] = probe_json_version;
  j["target"] = r.target;
  j["policy"] = to_string(r.policy);
  j["verdict"] = r.verdict;
  j["outcome"] = to_string(r.outcome);
  j["exit_code"] = r.exit_code;
  j["dns"] = r.dns;
  j["hosts"] = json::array();
  for (const auto& h : r.hosts) {
    const auto& s = h.session;
    json host;
    host["name"] = h.name.empty() ? json(nullptr) : json(h.name);
    host["mx"] = h.mx.empty() ? json(nullptr) : json(h.mx);
    host["address"] = h.address;
    host["port"] = h.port;
    host["verdict"] = h.verdict;
    host["outcome"] = to_string(h.outcome);
    host["senders_losing_tls"] = h.losers;
    host["transcript"] = json::array();
    for (const auto& t : s.transcript) host["transcript"].push_back({{"dir", std::string(1, t.dir)}, {"text", t.text}, {"ms", t.ms}});
    host["lint"] = h.lint ? lint_to_json(*h.lint, "EHLO reply", true) : json(nullptr);
    host["starttls"] = {{"offered", s.starttls_offered},
                        {"attempted", s.starttls_attempted},
                        {"reply_code", s.starttls_code >= 0 ? json(s.starttls_code) : json(nullptr)}};
    json chain = json::array();
    for (const auto& c : s.chain)
      chain.push_back({{"subject", c.subject}, {"issuer", c.issuer}, {"dns_names", c.dns_names}, {"not_before", c.not_before},
                       {"not_after", c.not_after}, {"key", c.key}, {"sha256", c.sha256}});
    host["tls"] = {{"established", s.tls_established},
                   {"protocol", s.tls_established ? json(s.tls_protocol) : json(nullptr)},
                   {"cipher", s.tls_established ? json(s.tls_cipher) : json(nullptr)},
                   {"group", s.tls_group.empty() ? json(nullptr) : json(s.tls_group)},
                   {"verified", s.tls_established ? json(s.chain_verified) : json(nullptr)},
                   {"verify_error", s.verify_error.empty() ? json(nullptr) : json(s.verify_error)},
                   {"hostname_match", s.tls_established && !h.name.empty() ? json(s.hostname_match) : json(nullptr)},
                   {"expired", s.tls_established ? json(s.expired) : json(nullptr)},
                   {"chain", chain}};
    host["lint_after_tls"] = h.lint_after_tls ? lint_to_json(*h.lint_after_tls, "EHLO reply after TLS", true) : json(nullptr);
    host["injection"] = {{"plaintext_after_220", s.plaintext_after_220},
                         {"command_injection", h.injection_checked && h.injection_error.empty() ? json(h.command_injection) : json(nullptr)}};
    host["starttls_after_tls"] = h.starttls_after_tls;
    host["envelope"] = s.mail_code < 0 ? json(nullptr)
                                       : json{{"mail_code", s.mail_code},
                                              {"rcpt_code", s.rcpt_code >= 0 ? json(s.rcpt_code) : json(nullptr)},
                                              {"rcpt_reply", s.rcpt_reply}};
    host["error"] = s.error.empty() ? json(nullptr) : json{{"phase", s.error_phase}, {"message", s.error}};
    j["hosts"].push_back(std::move(host));
  }
  return j;
}

std::string render_probe_json(const probe_report& r) {
  return probe_to_json(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
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
