// The stable words of the result model's enums: what JSON carries and scripts match on.
// Changing one is a change of the JSON schema (docs/probe-json.md).
#include <array>
#include <string_view>

#include "mxtls/diagnosis.hpp"

namespace mxtls {

const char* to_string(dnssec_status s) {
  switch (s) {
    case dnssec_status::indeterminate: return "indeterminate";
    case dnssec_status::secure: return "secure";
    case dnssec_status::insecure: return "insecure";
    case dnssec_status::bogus: return "bogus";
  }
  return "?";
}

const char* to_string(rr_type t) {
  switch (t) {
    case rr_type::a: return "A";
    case rr_type::mx: return "MX";
    case rr_type::aaaa: return "AAAA";
    case rr_type::txt: return "TXT";
    case rr_type::dnskey: return "DNSKEY";
    case rr_type::tlsa: return "TLSA";
  }
  return "?";
}

const char* to_string(lookup_status s) {
  switch (s) {
    case lookup_status::ok: return "ok";
    case lookup_status::nxdomain: return "nxdomain";
    case lookup_status::servfail: return "servfail";
    case lookup_status::refused: return "rcode";
    case lookup_status::error: return "error";
    case lookup_status::timeout: return "timeout";
  }
  return "?";
}

const char* to_string(session_phase p) {
  switch (p) {
    case session_phase::none: return "none";
    case session_phase::connect: return "connect";
    case session_phase::banner: return "banner";
    case session_phase::ehlo: return "ehlo";
    case session_phase::starttls: return "starttls";
    case session_phase::tls: return "tls";
    case session_phase::ehlo_after_tls: return "ehlo-after-tls";
    case session_phase::mail: return "mail";
    case session_phase::rcpt: return "rcpt";
    case session_phase::rset: return "rset";
    case session_phase::quit: return "quit";
    case session_phase::injection: return "injection";
  }
  return "?";
}

const char* to_string(session_error_code c) {
  switch (c) {
    case session_error_code::none: return "none";
    case session_error_code::connect_refused: return "connect-failed";
    case session_error_code::connect_timeout: return "connect-timeout";
    case session_error_code::closed: return "closed";
    case session_error_code::read_timeout: return "timeout";
    case session_error_code::reply_too_long: return "reply-too-long";
    case session_error_code::io_error: return "io-error";
    case session_error_code::bad_banner: return "bad-banner";
    case session_error_code::handshake_failed: return "handshake-failed";
    case session_error_code::handshake_timeout: return "handshake-timeout";
    case session_error_code::interrupted: return "interrupted";
    case session_error_code::unexpected_reply: return "unexpected-reply";
  }
  return "?";
}

const char* to_string(event_kind k) {
  switch (k) {
    case event_kind::connected: return "connected";
    case event_kind::line_received: return "received";
    case event_kind::line_sent: return "sent";
    case event_kind::starttls_skipped: return "starttls-skipped";
    case event_kind::plaintext_discarded: return "plaintext-discarded";
    case event_kind::tls_established: return "tls-established";
    case event_kind::injection_sent: return "injection-sent";
    case event_kind::injection_answered: return "injection-answered";
  }
  return "?";
}

const char* to_string(check_scope s) {
  switch (s) {
    case check_scope::domain: return "domain";
    case check_scope::mx_host: return "mx-host";
    case check_scope::address: return "address";
  }
  return "?";
}

const char* to_string(ehlo_wait w) {
  switch (w) {
    case ehlo_wait::final_line: return "final-line";
    case ehlo_wait::buffered_lines: return "buffered-lines";
    case ehlo_wait::next_answer: return "next-answer";
  }
  return "?";
}

const char* to_string(injection_status s) {
  switch (s) {
    case injection_status::not_vulnerable: return "not-vulnerable";
    case injection_status::vulnerable: return "vulnerable";
    case injection_status::not_applicable: return "not-applicable";
    case injection_status::incomplete: return "incomplete";
  }
  return "?";
}

const char* to_string(tls_policy p) {
  switch (p) {
    case tls_policy::none: return "none";
    case tls_policy::preferred: return "preferred";
    case tls_policy::required: return "required";
    case tls_policy::preferred_verify: return "preferred-verify";
    case tls_policy::required_verify: return "required-verify";
    case tls_policy::dane_opportunistic: return "dane-opportunistic";
    case tls_policy::dane_mandatory: return "dane-mandatory";
  }
  return "?";
}
bool verifies(tls_policy p) { return p == tls_policy::preferred_verify || p == tls_policy::required_verify; }
bool requires_tls(tls_policy p) {
  return p == tls_policy::required || p == tls_policy::required_verify || p == tls_policy::dane_mandatory;
}

const char* to_string(probe_outcome o) {
  switch (o) {
    case probe_outcome::ok: return "ok";
    case probe_outcome::certificate: return "certificate";
    case probe_outcome::injection: return "injection";
    case probe_outcome::senders_lose_tls: return "senders-lose-tls";
    case probe_outcome::no_starttls: return "no-starttls";
    case probe_outcome::starttls_fails: return "starttls-fails";
    case probe_outcome::ehlo_fails: return "ehlo-fails";
    case probe_outcome::unreachable: return "unreachable";
    case probe_outcome::dns_fails: return "dns-fails";
  }
  return "?";
}

std::optional<probe_outcome> parse_probe_outcome(std::string_view s) {
  for (auto o : all_probe_outcomes)
    if (s == to_string(o)) return o;
  return std::nullopt;
}

namespace {

struct reason_row {
  reason_id id;
  const char* name;
  severity level;
};

// One row per reason, in enum order (checked by the unit test).
constexpr std::array<reason_row, reason_count> reasons{{
    {reason_id::dns_lookup_failed, "dns-lookup-failed", severity::error},
    {reason_id::domain_nxdomain, "domain-nxdomain", severity::error},
    {reason_id::null_mx, "null-mx", severity::error},
    {reason_id::no_address, "no-address", severity::error},
    {reason_id::implicit_mx, "implicit-mx", severity::info},
    {reason_id::address_lookup_failed, "address-lookup-failed", severity::warning},
    {reason_id::connect_failed, "connect-failed", severity::error},
    {reason_id::greeting_refused, "greeting-refused", severity::error},
    {reason_id::no_banner, "no-banner", severity::error},
    {reason_id::bad_banner, "bad-banner", severity::error},
    {reason_id::ehlo_incomplete, "ehlo-incomplete", severity::error},
    {reason_id::ehlo_refused, "ehlo-refused", severity::error},
    {reason_id::starttls_not_offered, "starttls-not-offered", severity::error},
    {reason_id::starttls_on_greeting, "starttls-on-greeting", severity::error},
    {reason_id::ehlo_breaks_rfc5321, "ehlo-breaks-rfc5321", severity::error},
    {reason_id::starttls_after_final_line, "starttls-after-final-line", severity::error},
    {reason_id::starttls_not_sent, "starttls-not-sent", severity::warning},
    {reason_id::starttls_refused, "starttls-refused", severity::error},
    {reason_id::starttls_unanswered, "starttls-unanswered", severity::error},
    {reason_id::handshake_failed, "handshake-failed", severity::error},
    {reason_id::sender_handshake_failed, "sender-handshake-failed", severity::error},
    {reason_id::certificate_untrusted, "certificate-untrusted", severity::warning},
    {reason_id::certificate_name_mismatch, "certificate-name-mismatch", severity::warning},
    {reason_id::certificate_expired, "certificate-expired", severity::warning},
    {reason_id::certificate_not_yet_valid, "certificate-not-yet-valid", severity::warning},
    {reason_id::certificate_name_not_checked, "certificate-name-not-checked", severity::info},
    {reason_id::certificate_fails_policy, "certificate-fails-policy", severity::error},
    {reason_id::response_injection, "response-injection", severity::error},
    {reason_id::command_injection, "command-injection", severity::error},
    {reason_id::injection_check_incomplete, "injection-check-incomplete", severity::info},
    {reason_id::starttls_after_tls, "starttls-after-tls", severity::warning},
    {reason_id::rcpt_temporary, "rcpt-temporary", severity::info},
    {reason_id::rcpt_refused, "rcpt-refused", severity::warning},
    {reason_id::mail_refused, "mail-refused", severity::warning},
    {reason_id::dnssec_unavailable, "dnssec-unavailable", severity::warning},
    {reason_id::dnssec_bogus, "dnssec-bogus", severity::error},
    {reason_id::dane_verified, "dane-verified", severity::info},
    {reason_id::dane_mismatch, "dane-mismatch", severity::error},
    {reason_id::dane_no_tls, "dane-no-tls", severity::error},
    {reason_id::dane_lookup_failed, "dane-lookup-failed", severity::error},
    {reason_id::dane_unusable, "dane-unusable", severity::warning},
    {reason_id::dane_pkix_usage, "dane-pkix-usage", severity::warning},
    {reason_id::dane_malformed, "dane-malformed", severity::warning},
    {reason_id::dane_tlsa_insecure, "dane-tlsa-insecure", severity::warning},
    {reason_id::dane_no_rollover, "dane-no-rollover", severity::info},
    {reason_id::dane_full_certificate, "dane-full-certificate", severity::info},
    {reason_id::dane_ta_not_in_chain, "dane-ta-not-in-chain", severity::error},
    {reason_id::dane_digest_trap, "dane-digest-trap", severity::error},
    {reason_id::dane_ee_pkix_fails, "dane-ee-pkix-fails", severity::warning},
    {reason_id::dane_partial, "dane-partial", severity::warning},
    {reason_id::dane_fails_policy, "dane-fails-policy", severity::error},
    {reason_id::dane_key_not_covered, "dane-key-not-covered", severity::error},
    {reason_id::mta_sts_txt_invalid, "mta-sts-txt-invalid", severity::warning},
    {reason_id::mta_sts_fetch_failed, "mta-sts-fetch-failed", severity::warning},
    {reason_id::mta_sts_policy_invalid, "mta-sts-policy-invalid", severity::warning},
    {reason_id::mta_sts_testing, "mta-sts-testing", severity::info},
    {reason_id::mta_sts_mx_not_listed, "mta-sts-mx-not-listed", severity::error},
    {reason_id::mta_sts_certificate_fails, "mta-sts-certificate-fails", severity::error},
    {reason_id::tls_rpt_invalid, "tls-rpt-invalid", severity::warning},
    {reason_id::tls_rpt_missing, "tls-rpt-missing", severity::info},
    {reason_id::tls_legacy_version, "tls-legacy-version", severity::warning},
    {reason_id::tls_rc4, "tls-rc4", severity::warning},
    {reason_id::tls_3des, "tls-3des", severity::info},
    {reason_id::tls_export, "tls-export", severity::warning},
    {reason_id::tls_null_cipher, "tls-null-cipher", severity::warning},
    {reason_id::tls_anonymous, "tls-anonymous", severity::warning},
    {reason_id::tls_weak_dh, "tls-weak-dh", severity::info},
    {reason_id::tls_weak_rsa_key, "tls-weak-rsa-key", severity::info},
    {reason_id::tls_sha1_signature, "tls-sha1-signature", severity::info},
    {reason_id::tls_no_forward_secrecy, "tls-no-forward-secrecy", severity::info},
    {reason_id::tls_enum_incomplete, "tls-enum-incomplete", severity::info},
    {reason_id::interrupted, "interrupted", severity::warning},
}};

}  // namespace

const char* to_string(reason_id r) { return reasons[static_cast<std::size_t>(r)].name; }
severity severity_of(reason_id r) { return reasons[static_cast<std::size_t>(r)].level; }
std::optional<reason_id> parse_reason_id(std::string_view s) {
  for (const auto& row : reasons)
    if (s == row.name) return row.id;
  return std::nullopt;
}
bool reason_table_in_order() {
  for (std::size_t i = 0; i < reasons.size(); ++i)
    if (static_cast<std::size_t>(reasons[i].id) != i) return false;
  return true;
}

const char* to_string(decided_at l) {
  switch (l) {
    case decided_at::smtp: return "smtp";
    case decided_at::tls: return "tls";
  }
  return "?";
}

const char* to_string(esa_result r) {
  switch (r) {
    case esa_result::no_connection: return "no-connection";
    case esa_result::plaintext: return "plaintext";
    case esa_result::tls: return "tls";
    case esa_result::tls_verified: return "tls-verified";
    case esa_result::deferred: return "deferred";
    case esa_result::verify_failed: return "verify-failed";
    case esa_result::tls_failed: return "tls-failed";
  }
  return "?";
}

}  // namespace mxtls
