// The registry of checks (include/mxtls/model/checks.hpp): one row each. The coroutine of
// each row is in src/net/checks.cpp, indexed by the same check_id.
#include <array>
#include <stdexcept>

#include "mxtls/model/checks.hpp"

namespace mxtls {

namespace {

constexpr check_id after_starttls[] = {check_id::starttls};

constexpr std::array<check_info, check_count> registry{{
    {.id = check_id::starttls,
     .name = "starttls",
     .scope = check_scope::address,
     .needs = {},
     .connections = 1,
     .by_default = true,
     .summary = "the session a sending MTA has: banner, EHLO, STARTTLS, TLS handshake, certificate, EHLO again"},
    {.id = check_id::injection,
     .name = "injection",
     .scope = check_scope::address,
     .needs = after_starttls,
     .connections = 1,
     .by_default = true,
     .summary = "STARTTLS and NOOP in one segment: does the server answer the NOOP inside TLS (CVE-2011-0411 class)"},
    {.id = check_id::envelope,
     .name = "envelope",
     .scope = check_scope::address,
     .needs = after_starttls,
     .connections = 0,
     .by_default = false,
     .summary = "MAIL FROM:<> and RCPT TO (--rcpt) on the starttls session, then RSET; sends no mail"},
    // RFC 7672: the TLSA records of each MX host whose addresses are DNSSEC-secure, verified
    // in the starttls session's handshake (OpenSSL's DANE API); no connection of its own.
    {.id = check_id::dane,
     .name = "dane",
     .scope = check_scope::mx_host,
     .needs = after_starttls,
     .connections = 0,
     .by_default = true,
     .summary = "DANE (RFC 7672): TLSA at _25._tcp.<MX host> where its addresses are DNSSEC-secure, verified in the handshake"},
    // RFC 8461, RFC 8460 §3: the domain's policy, judged per MX host with the starttls
    // session's certificate (when it ran); an HTTPS connection of its own, no SMTP one.
    {.id = check_id::mta_sts,
     .name = "mta-sts",
     .scope = check_scope::domain,
     .needs = {},
     .connections = 0,
     .by_default = true,
     .summary = "MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): _mta-sts and _smtp._tls TXT, the HTTPS policy, each MX host against it"},
    // One connection per distinct sender TLS profile the probe's handshake does not already
    // decide (sender_tls.hpp), after the starttls session, within the per-address limit.
    {.id = check_id::tls_senders,
     .name = "tls-senders",
     .scope = check_scope::address,
     .needs = after_starttls,
     .connections = 9,
     .by_default = true,
     .summary = "each sender's own ClientHello (its TLS library and settings) where the probe's handshake does not decide it"},
    // ClientHellos of its own after the starttls session (src/net/tls_enum.cpp): versions,
    // suites in the server's order, groups, signature algorithms, certificates; one STARTTLS
    // session each, concurrently, within the per-address gate and tls_enum_limits.
    {.id = check_id::tls_enum,
     .name = "tls-enum",
     .scope = check_scope::address,
     .needs = after_starttls,
     .connections = 16,
     .by_default = false,
     .in_full = true,
     .summary = "enumerate TLS: versions, suites in the server's order, groups, signature algorithms, every certificate"},
}};

}  // namespace

std::span<const check_info> all_checks() { return registry; }
const check_info& info(check_id id) { return registry[static_cast<std::size_t>(id)]; }

std::optional<check_id> find_check(std::string_view name) {
  for (const auto& c : registry)
    if (c.name == name) return c.id;
  return std::nullopt;
}

check_set check_set::defaults() {
  check_set s;
  for (const auto& c : registry) s.set(c.id, c.by_default);
  return s;
}

check_set select_checks(std::span<const std::string> check, std::span<const std::string> skip, bool full) {
  auto names = [] {
    std::string all;
    for (const auto& c : registry) all += (all.empty() ? "" : ", ") + std::string(c.name);
    return all;
  };
  auto lookup = [&](const std::string& n) {
    auto id = find_check(n);
    if (!id) throw std::invalid_argument("no check '" + n + "' (checks: " + names() + ")");
    return *id;
  };
  check_set s = check_set::defaults();
  if (full)
    for (const auto& c : registry)
      if (c.in_full) s.set(c.id, true);
  for (const auto& n : check) {
    check_id id = lookup(n);
    s.set(id, true);
    for (check_id need : info(id).needs) s.set(need, true);
  }
  for (const auto& n : skip) s.set(lookup(n), false);
  for (const auto& c : registry)
    if (s.has(c.id))
      for (check_id need : c.needs)
        if (!s.has(need))
          throw std::invalid_argument("check '" + std::string(c.name) + "' needs '" + std::string(info(need).name) +
                                      "', which is skipped");
  return s;
}

}  // namespace mxtls
