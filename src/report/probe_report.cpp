#include "mxtls/probe_report.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "mxtls/esa_lines.hpp"
#include "mxtls/mta_sts_report.hpp"
#include "mxtls/report.hpp"
#include "mxtls/target_text.hpp"

namespace mxtls {

namespace {

std::string join(const std::vector<std::string_view>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    s += i == 0 ? "" : i + 1 == names.size() ? " and " : ", ";
    s += names[i];
  }
  return s;
}

std::string where(const address_result& h) {
  return h.address.find(':') != std::string::npos ? fmt::format("[{}]:{}", h.address, h.port)
                                                  : fmt::format("{}:{}", h.address, h.port);
}

const std::string& mx_name(const probe_report& r, const address_result& h) {
  static const std::string none;
  return h.mx_host < r.facts.mx_hosts.size() ? r.facts.mx_hosts[h.mx_host].name : none;
}

bool certificate_reason(std::optional<reason_id> r) {
  return r == reason_id::certificate_untrusted || r == reason_id::certificate_expired ||
         r == reason_id::certificate_not_yet_valid || r == reason_id::certificate_name_mismatch;
}

// The senders that refuse this certificate in their default setting (Jakarta Mail).
std::vector<std::string_view> certificate_refusers(const address_diagnosis& d) {
  std::vector<std::string_view> ids;
  for (const auto& p : d.senders)
    if (p.outcome == tls_outcome::fail && certificate_reason(p.dialogue_reason)) ids.push_back(p.id);
  return ids;
}

// "Cisco ESA, Postfix and Go will send in plaintext; Exim will fail; …"
std::string senders_sentence(const address_diagnosis& d) {
  std::vector<std::string> parts;
  auto names = [&](const std::vector<std::string_view>& ids) { return join(short_names(d.senders, ids)); };
  auto one = [](const std::vector<std::string_view>& ids, const char* singular, const char* plural) {
    return ids.size() == 1 ? singular : plural;
  };
  const std::vector<std::string_view> refusers = certificate_refusers(d);
  std::vector<std::string_view> fail;
  for (auto id : d.groups.fail)
    if (std::find(refusers.begin(), refusers.end(), id) == refusers.end()) fail.push_back(id);
  if (!d.groups.plaintext.empty()) parts.push_back(names(d.groups.plaintext) + " will send in plaintext");
  if (!fail.empty()) parts.push_back(names(fail) + " will fail to deliver (protocol error, deferral or bounce)");
  if (!refusers.empty()) parts.push_back(names(refusers) + " will refuse the certificate and not deliver");
  if (!d.groups.hang.empty()) parts.push_back(names(d.groups.hang) + " will wait for a reply until they time out");
  // Services whose vendor does not document what they do here, by why.
  std::vector<std::string_view> no_version, beyond, sha1, unread;
  for (const auto& p : d.senders) {
    if (p.outcome != tls_outcome::unknown) continue;
    if (p.ehlo_reason == prediction_reason::ehlo_not_modelled) unread.push_back(p.id);
    else if (p.dialogue_reason == reason_id::tls_sha1_signature) sha1.push_back(p.id);
    else if (p.outcome_required == tls_outcome::unknown) beyond.push_back(p.id);
    else no_version.push_back(p.id);
  }
  if (!no_version.empty())
    parts.push_back(fmt::format("the server offers no TLS version that {} use{}, as {} vendor{} document{}, and what {} then is "
                                "not documented",
                                names(no_version), one(no_version, "s", ""), one(no_version, "its", "their"),
                                one(no_version, "", "s"), one(no_version, "s", ""), one(no_version, "it does", "they do")));
  if (!sha1.empty())
    parts.push_back(fmt::format("{} refuse{} a certificate signed with SHA-1, as {} vendor{} document{}, and what {} then is not "
                                "documented",
                                names(sha1), one(sha1, "s", ""), one(sha1, "its", "their"), one(sha1, "", "s"),
                                one(sha1, "s", ""), one(sha1, "it does", "they do")));
  if (!beyond.empty())
    parts.push_back(fmt::format("whether {} get{} TLS here is not known: a hello with the versions {} vendor{} document{} fails, "
                                "and the rest of {} offer is not documented",
                                names(beyond), one(beyond, "s", ""), one(beyond, "its", "their"), one(beyond, "", "s"),
                                one(beyond, "s", ""), one(beyond, "its", "their")));
  if (!unread.empty())
    parts.push_back(fmt::format("how {} read{} this EHLO reply is not documented", names(unread), one(unread, "s", "")));
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
  return s;
}

std::string tls_words(const starttls_facts& s) { return fmt::format("{} {}", s.tls.protocol, s.tls.cipher); }

// The host's verdict: its outcome's main reason first, then what else is wrong.
std::string host_verdict(const address_result& h, const address_diagnosis& d, const probe_facts& f) {
  const starttls_facts* s = h.get<starttls_facts>();
  std::string v;
  auto first = [&](std::initializer_list<reason_id> ids) -> const reason* {
    for (reason_id id : ids)
      for (const auto& r : d.reasons)
        if (r.id == id) return &r;
    return nullptr;
  };
  std::string lose = senders_sentence(d);
  switch (d.outcome) {
    case probe_outcome::unreachable:
    case probe_outcome::ehlo_fails:
    case probe_outcome::no_starttls:
    case probe_outcome::starttls_fails: {
      const reason* r = first({reason_id::connect_failed, reason_id::greeting_refused, reason_id::no_banner, reason_id::bad_banner,
                               reason_id::ehlo_incomplete, reason_id::ehlo_refused, reason_id::starttls_not_offered,
                               reason_id::starttls_refused, reason_id::starttls_unanswered, reason_id::handshake_failed});
      v = r ? render_reason(*r) : to_string(d.outcome);
      if (d.outcome == probe_outcome::starttls_fails && !lose.empty()) v += ": " + lose;
      break;
    }
    case probe_outcome::senders_lose_tls: {
      if (has_reason(d.reasons, reason_id::starttls_not_sent)) {
        v = fmt::format("{} would not send STARTTLS to this server", f.as_client.empty() ? "the probe" : f.as_client);
        break;
      }
      std::string why = has_reason(d.reasons, reason_id::starttls_on_greeting)        ? "it is listed before the greeting"
                        : has_reason(d.reasons, reason_id::starttls_after_final_line) ? "the reply's final line comes too early"
                        : has_reason(d.reasons, reason_id::ehlo_breaks_rfc5321)       ? "the EHLO reply breaks RFC 5321"
                        : has_reason(d.reasons, reason_id::sender_handshake_failed)
                            ? "some senders' own TLS settings fail the handshake"
                            : "the EHLO reply breaks RFC 5321";
      v = s && s->tls.established ? fmt::format("STARTTLS works ({}), but {}: {}", tls_words(*s), why, lose)
                                  : fmt::format("STARTTLS is offered, but {}: {}", why, lose);
      break;
    }
    case probe_outcome::ok:
    case probe_outcome::certificate:
    case probe_outcome::injection:
      v = s && s->tls.established ? fmt::format("STARTTLS works for every sender ({})", tls_words(*s))
                                  : "STARTTLS works for every sender";
      // Senders that check the certificate (Jakarta Mail) fail on one that does not verify;
      // services whose outcome is not known here are named.
      if (!lose.empty()) {
        const char* who = !certificate_refusers(d).empty() ? "for every sender that does not check the certificate"
                                                            : "for every sender whose outcome is known";
        v = (s && s->tls.established ? fmt::format("STARTTLS works ({}) {}", tls_words(*s), who)
                                     : fmt::format("STARTTLS works {}", who)) +
            "; " + lose;
      }
      break;
    case probe_outcome::dns_fails: v = "no address"; break;
  }
  // What else the facts show, in the diagnosis' order, minus the reason already worded.
  for (const auto& r : d.reasons) {
    switch (r.id) {
      case reason_id::certificate_untrusted:
      case reason_id::certificate_name_mismatch:
      case reason_id::certificate_expired:
      case reason_id::certificate_not_yet_valid:
      case reason_id::certificate_fails_policy:
      case reason_id::response_injection:
      case reason_id::command_injection:
      case reason_id::starttls_after_tls:
      case reason_id::rcpt_temporary:
      case reason_id::rcpt_refused:
      case reason_id::mail_refused: v += "; " + render_reason(r); break;
      default: break;
    }
  }
  return v;
}

std::string error_words(const session_error& e) {
  std::string s = fmt::format("{} at {}", to_string(e.code), to_string(e.phase));
  if (!e.detail.empty()) s += ": " + e.detail;
  return s;
}

}  // namespace

namespace {

// Check "tls-enum", for the text report: one line per version, then what was tried alone.
std::string render_tls_enum_text(const tls_enum_facts& f) {
  std::string out = fmt::format("\n  TLS enumeration ({} handshakes{})\n", f.handshakes, f.complete ? "" : ", stopped early");
  auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? std::string("none") : s;
  };
  for (const auto& v : f.versions) {
    if (!v.accepted) {
      fmt::format_to(std::back_inserter(out), "    {:<8} not accepted{}\n", v.version, v.error ? " (" + error_words(v.error) + ")" : "");
      continue;
    }
    std::vector<std::string> suites;
    for (const auto& s : v.suites) suites.push_back(s.name);
    const char* order = !v.server_order ? "" : *v.server_order ? ", the server's order" : ", the client's order decides";
    fmt::format_to(std::back_inserter(out), "    {:<8} {} suite{}{}: {}\n", v.version, v.suites.size(), v.suites.size() == 1 ? "" : "s",
                   order, names(suites));
    std::string extras;
    if (v.secure_renegotiation) extras += *v.secure_renegotiation ? "secure renegotiation" : "no secure renegotiation (RFC 5746)";
    extras += std::string(extras.empty() ? "" : ", ") + (v.ocsp_stapled ? "OCSP stapled" : "no OCSP stapling");
    extras += v.session_ticket ? ", session tickets" : ", no session tickets";
    if (!v.compression.empty()) extras += ", compression " + v.compression;
    fmt::format_to(std::back_inserter(out), "             {}\n", extras);
  }
  if (!f.groups_version.empty()) fmt::format_to(std::back_inserter(out), "    groups   {} (at {})\n", names(f.groups), f.groups_version);
  if (!f.signature_algorithms_version.empty())
    fmt::format_to(std::back_inserter(out), "    sigalgs  {} (at {})\n", names(f.signature_algorithms), f.signature_algorithms_version);
  for (const auto& c : f.certificates)
    fmt::format_to(std::back_inserter(out), "    cert     {} {} bits, signed {}, SHA-256 {}\n             sent for: {}\n", c.leaf.key_type,
                   c.leaf.key_bits, c.signature_algorithm, c.leaf.sha256, names(c.chosen_for));
  if (f.dh_bits > 0) fmt::format_to(std::back_inserter(out), "    DH       {} bits\n", f.dh_bits);
  if (!f.compression_offered) out += "    compression not tried (this OpenSSL has none to offer)\n";
  return out;
}

}  // namespace

std::string render_reason(const reason& r) {
  const std::string& d = r.detail;
  switch (r.id) {
    case reason_id::dns_lookup_failed: return fmt::format("the DNS lookup of the MX records failed: {}", d);
    case reason_id::domain_nxdomain: return fmt::format("{} does not exist (NXDOMAIN)", d);
    case reason_id::null_mx: return "the domain has a null MX (RFC 7505): it accepts no mail";
    case reason_id::no_address: return fmt::format("no mail host of {} has an address", d);
    case reason_id::implicit_mx: return fmt::format("no MX records: {} itself is the mail host (implicit MX, RFC 5321 §5.1)", d);
    case reason_id::address_lookup_failed: return fmt::format("the address lookup of {} failed", d);
    case reason_id::connect_failed: return "no connection: " + d;
    case reason_id::greeting_refused:
      return fmt::format("the server refuses the connection with {} (busy or blocking us), not a TLS problem", r.code);
    case reason_id::no_banner: return "no banner (a tarpit or an overloaded server, not a TLS problem): " + d;
    case reason_id::bad_banner: return fmt::format("the server greets with {} instead of 220", r.code);
    case reason_id::ehlo_incomplete: return "no complete EHLO reply: " + d;
    case reason_id::ehlo_refused: return fmt::format("EHLO refused with {}: senders fall back to HELO, without STARTTLS", r.code);
    case reason_id::starttls_not_offered:
      return "STARTTLS is not offered: every sender delivers in plaintext (or not at all where TLS is required)";
    case reason_id::starttls_on_greeting: return "STARTTLS is listed before the greeting";
    case reason_id::ehlo_breaks_rfc5321: return "the EHLO reply breaks RFC 5321 where some senders read it";
    case reason_id::starttls_after_final_line: return "the EHLO reply's final line comes before its other lines";
    case reason_id::starttls_not_sent: return "the probe did not send STARTTLS (as the chosen client would not)";
    case reason_id::starttls_refused: return fmt::format("STARTTLS is offered but refused with {}", r.code);
    case reason_id::starttls_unanswered: return "STARTTLS is offered but never answered: " + d;
    case reason_id::handshake_failed: return "STARTTLS is accepted but the TLS handshake fails: " + d;
    case reason_id::sender_handshake_failed:
      return "the probe's handshake succeeds, but the handshake of some senders' own TLS settings fails (" + d + ")";
    case reason_id::certificate_untrusted: return fmt::format("certificate does not verify ({})", d);
    case reason_id::certificate_name_mismatch: return fmt::format("certificate does not match {}", d);
    case reason_id::certificate_expired: return fmt::format("certificate expired ({})", d);
    case reason_id::certificate_not_yet_valid: return fmt::format("certificate not valid before {}", d);
    case reason_id::certificate_name_not_checked:
      return "the certificate's name was not checked (an address target without --name)";
    case reason_id::certificate_fails_policy: return fmt::format("with TLS setting {} the certificate is not accepted", d);
    case reason_id::response_injection: return fmt::format("{} octets of plaintext followed the 220 (response injection)", d);
    case reason_id::command_injection:
      return "the server runs commands pipelined with STARTTLS inside TLS (command injection, CVE-2011-0411 class)";
    case reason_id::injection_check_incomplete: return "the command-injection check did not complete: " + d;
    case reason_id::starttls_after_tls: return "the EHLO reply inside TLS still offers STARTTLS (RFC 3207 §4.2)";
    case reason_id::rcpt_temporary:
      return fmt::format("RCPT answered {}: greylisting or another temporary refusal, not a TLS problem ({})", r.code, d);
    case reason_id::rcpt_refused: return fmt::format("RCPT refused with {} ({})", r.code, d);
    case reason_id::mail_refused: return fmt::format("MAIL FROM:<> answered {} ({})", r.code, d);
    case reason_id::mta_sts_txt_invalid:
    case reason_id::mta_sts_fetch_failed:
    case reason_id::mta_sts_policy_invalid:
    case reason_id::mta_sts_testing:
    case reason_id::mta_sts_mx_not_listed:
    case reason_id::mta_sts_certificate_fails:
    case reason_id::tls_rpt_invalid:
    case reason_id::tls_rpt_missing: return render_mta_sts_reason(r);
    case reason_id::interrupted:
      return d.empty() ? "interrupted before the probe ended" : "interrupted while waiting in phase " + d;
    case reason_id::dnssec_unavailable:
      return "DNSSEC validation is not possible through this resolver (" + d + "): no answer can be secure, DANE cannot apply";
    case reason_id::dnssec_bogus: return "DNSSEC validation fails (bogus) for " + d + ": validating senders cannot resolve it";
    case reason_id::dane_verified: return "DANE verified: TLSA record " + d;
    case reason_id::dane_mismatch:
      return d.empty() ? "DANE fails: no TLSA record matches the served certificate chain"
                       : "DANE fails: no TLSA record matches the served certificate chain (its leaf key would match " + d + ")";
    case reason_id::dane_no_tls: return "TLSA records are published (" + d + ") but no TLS handshake took place: DANE senders defer";
    case reason_id::dane_lookup_failed: return "the TLSA lookup failed (" + d + "): DANE senders defer";
    case reason_id::dane_unusable: return "every TLSA record at " + d + " is unusable for SMTP (RFC 7672 §3.1)";
    case reason_id::dane_pkix_usage: return "TLSA records at " + d + " with usage PKIX-TA(0) or PKIX-EE(1) are ignored by SMTP senders (RFC 7672 §3.1.3)";
    case reason_id::dane_malformed: return "TLSA records at " + d + " have unknown parameters or a wrong digest length";
    case reason_id::dane_tlsa_insecure: return "TLSA records at " + d + " are in a zone that is not signed: ignored";
    case reason_id::dane_no_rollover:
      return "only one usable TLSA record at " + d + ": publish the next key's record before the key changes (RFC 7671 §8.1)";
    case reason_id::dane_full_certificate:
      return "a TLSA record " + d + " pins the whole certificate: it breaks at every renewal (prefer selector 1)";
    case reason_id::dane_ta_not_in_chain: return "no DANE-TA record at " + d + " matches a certificate the server sends";
    case reason_id::dane_digest_trap:
      return "TLSA " + d + " would match, but a SHA2-512 record for the same usage and selector does not, and senders use only the strongest (RFC 7671 §9)";
    case reason_id::dane_ee_pkix_fails:
      return "DANE-EE passes, but senders without DANE do not accept the certificate (" + d + ")";
    case reason_id::dane_partial: return d + " MX host(s) without TLSA records while others have them";
    case reason_id::dane_fails_policy: return "with TLS setting " + d + " DANE is not satisfied";
    case reason_id::dane_key_not_covered:
      return "the server also sends a certificate no TLSA record matches, to ClientHellos that ask for its key type: " + d;
    case reason_id::tls_legacy_version: return "the server accepts " + d + ", which RFC 8996 deprecates: allow TLS 1.2 and 1.3 only";
    case reason_id::tls_rc4: return "the server accepts RC4 suites, which RFC 7465 forbids (" + d + ")";
    case reason_id::tls_3des: return "the server accepts 3DES suites, 112-bit and open to Sweet32 (CVE-2016-2183) (" + d + ")";
    case reason_id::tls_export:
      return "the server accepts suites below 112 bits (export grade or single DES), which RFC 7525 §4.1 forbids (" + d + ")";
    case reason_id::tls_null_cipher: return "the server accepts suites without encryption (NULL), which RFC 7525 §4.1 forbids (" + d + ")";
    case reason_id::tls_anonymous:
      return "the server accepts anonymous suites: no certificate, nothing against an active attacker (" + d + ")";
    case reason_id::tls_weak_dh: return "the server's DHE group has " + d + " bits; RFC 7525 §4.3 asks for at least 2048";
    case reason_id::tls_weak_rsa_key: return "a certificate has an RSA key of " + d + " bits; RFC 7525 §4.3 asks for at least 2048";
    case reason_id::tls_sha1_signature: return "SHA-1 signatures (" + d + "): deprecated (RFC 9155), collisions are practical";
    case reason_id::tls_no_forward_secrecy:
      return "the server accepts suites without forward secrecy (RSA key transport, RFC 7525 §6.3) (" + d + ")";
    case reason_id::tls_enum_incomplete: return "the TLS enumeration stopped early, after " + d + " handshakes: what it lists is partial";
  }
  return to_string(r.id);
}

std::string render_verdict(const probe_report& r) {
  const diagnosis& d = r.diagnosis;
  const probe_facts& f = r.facts;
  std::string v;
  if (d.verdict_host == no_index) {
    for (const auto& x : d.reasons)
      if (severity_of(x.id) == severity::error) {
        v = render_reason(x);
        break;
      }
    if (v.empty()) v = to_string(d.outcome);
  } else {
    const address_result& h = f.hosts[d.verdict_host];
    v = host_verdict(h, d.hosts[d.verdict_host], f);
    if (f.hosts.size() > 1) v = fmt::format("{} ({}): {}", mx_name(r, h).empty() ? h.address : mx_name(r, h), h.address, v);
  }
  if (f.interrupted) {
    std::string phase;
    for (const auto& x : d.reasons)
      if (x.id == reason_id::interrupted && !x.detail.empty()) phase = x.detail;
    v = phase.empty() ? "interrupted before the probe ended; nothing is concluded (what was seen so far follows)"
                      : "interrupted while waiting in phase " + phase + "; nothing after it is concluded (what was seen so far follows)";
  }
  return v;
}

std::string render_event(const session_event& e) {
  auto line = [&](const char* dir, std::string_view text) { return fmt::format("  {:>6} ms  {}  {}\n", e.ms, dir, text); };
  switch (e.kind) {
    case event_kind::connected: return line("-", "connected to " + e.text);
    case event_kind::line_received: return line("S", e.after_final ? e.text + "   (after the final line)" : e.text);
    case event_kind::line_sent: return line("C", e.text);
    case event_kind::starttls_skipped: return line("-", "STARTTLS not sent (as the client would not)");
    case event_kind::plaintext_discarded: return line("-", fmt::format("{} octets after the 220 discarded", e.octets));
    case event_kind::tls_established: return line("-", "TLS established: " + e.text);
    case event_kind::injection_sent: return line("C", "STARTTLS and NOOP in one segment");
    case event_kind::injection_answered: return line("S", fmt::format("{} octets inside TLS, unasked", e.octets));
  }
  return {};
}

std::string_view outcome_color(probe_outcome o) {
  switch (o) {
    case probe_outcome::ok: return "\033[1;32m";
    case probe_outcome::certificate:
    case probe_outcome::unreachable:
    case probe_outcome::dns_fails: return "\033[1;33m";
    default: return "\033[1;31m";
  }
}

std::string render_probe_text(const probe_report& r, const probe_text_options& o) {
  const probe_facts& f = r.facts;
  std::string out = o.color ? fmt::format("{}{}\033[0m\n", outcome_color(r.diagnosis.outcome), render_verdict(r))
                            : render_verdict(r) + "\n";
  if (!f.lookups.empty()) {
    out += "\nDNS:\n";
    for (const auto& l : f.lookups) {
      if (l.status != lookup_status::ok)
        fmt::format_to(std::back_inserter(out), "  {} {}: {}{}\n", to_string(l.type), l.name, to_string(l.status),
                       l.detail.empty() ? "" : " (" + l.detail + ")");
      else if (l.type == rr_type::mx && l.records == 0)
        out += "  no MX records: the domain itself is the mail host (implicit MX, RFC 5321 §5.1)\n";
    }
    for (const auto& m : f.mx) fmt::format_to(std::back_inserter(out), "  MX {} {}\n", m.preference, m.host);
    for (const auto& h : f.mx_hosts) {
      for (const auto& a : h.addresses)
        fmt::format_to(std::back_inserter(out), "  {} {} {}{}\n", to_string(a.type), h.name, a.address,
                       f.dnssec.validating ? fmt::format(" (DNSSEC {})", to_string(a.dnssec)) : "");
      if (h.addresses.empty()) fmt::format_to(std::back_inserter(out), "  {} has no address\n", h.name);
    }
  }
  out += render_probe_mta_sts_text(r);
  for (std::size_t i = 0; i < f.hosts.size(); ++i) {
    const auto& h = f.hosts[i];
    const auto& d = r.diagnosis.hosts[i];
    const starttls_facts* s = h.get<starttls_facts>();
    const std::string& mx = mx_name(r, h);
    fmt::format_to(std::back_inserter(out), "\nHost {}{} (TLS setting {})\n", mx.empty() ? "" : mx + " ", where(h), to_string(f.policy));
    if (!s) continue;
    if (o.transcript)
      for (const auto& e : s->events) out += render_event(e);
    if (s->error) fmt::format_to(std::back_inserter(out), "  error     {}\n", error_words(s->error));
    if (s->tls.established) {
      const tls_facts& t = s->tls;
      fmt::format_to(std::back_inserter(out), "\n  TLS       {} {}{}{}\n", t.protocol, t.cipher, t.group.empty() ? "" : ", key exchange ",
                     t.group);
      fmt::format_to(std::back_inserter(out), "  verified  {}\n", t.chain_verified ? "yes" : "no: " + t.verify_error);
      if (t.name_checked)
        fmt::format_to(std::back_inserter(out), "  name      {} {}\n", h.name, t.hostname_match ? "matches" : "does not match");
      else
        out += "  name      not checked (an address target: give --name to check it)\n";
      for (std::size_t c = 0; c < t.chain.size(); ++c) {
        const auto& x = t.chain[c];
        fmt::format_to(std::back_inserter(out),
                       "  cert {}    {}\n            issuer {}\n            valid {} to {}, {} {} bits\n            SHA-256 {}\n", c,
                       x.subject, x.issuer, x.not_before, x.not_after, x.key_type, x.key_bits, x.sha256);
        if (!x.dns_names.empty()) {
          std::string names;
          for (const auto& n : x.dns_names) names += (names.empty() ? "" : ", ") + n;
          fmt::format_to(std::back_inserter(out), "            DNS {}\n", names);
        }
      }
    }
    if (s->plaintext_after_220 > 0)
      fmt::format_to(std::back_inserter(out), "  injection {} octets of plaintext after the 220 were discarded (response injection)\n",
                     s->plaintext_after_220);
    if (const injection_facts* inj = h.get<injection_facts>()) {
      switch (inj->status) {
        case injection_status::vulnerable:
          fmt::format_to(std::back_inserter(out), "  injection VULNERABLE: a command pipelined with STARTTLS was answered inside TLS ({})\n",
                         inj->answer);
          break;
        case injection_status::not_vulnerable:
          fmt::format_to(std::back_inserter(out),
                         "  injection a NOOP pipelined with STARTTLS was discarded (QUIT inside TLS answered first, after {} ms)\n",
                         inj->waited_ms);
          break;
        case injection_status::not_applicable: break;
        case injection_status::incomplete:
          fmt::format_to(std::back_inserter(out), "  injection check not completed: {}\n", error_words(inj->error));
          break;
      }
    }
    if (const tls_enum_facts* e = h.get<tls_enum_facts>()) out += render_tls_enum_text(*e);
    if (d.dane) {
      fmt::format_to(std::back_inserter(out), "\n  DANE      {}\n", to_string(d.dane->status));
      for (const auto& x : d.dane->reasons) fmt::format_to(std::back_inserter(out), "            {}\n", render_reason(x));
      // The DANE senders by outcome, then each one whose own check reaches another status.
      std::vector<std::pair<dane_outcome, std::string>> by;
      for (const auto& p : d.dane->senders) {
        auto it = std::find_if(by.begin(), by.end(), [&](const auto& b) { return b.first == p.outcome; });
        if (it == by.end()) by.emplace_back(p.outcome, std::string(p.id));
        else it->second += ", " + std::string(p.id);
      }
      for (const auto& [outcome, ids] : by) fmt::format_to(std::back_inserter(out), "            {}: {}\n", to_string(outcome), ids);
      for (const auto& p : d.dane->senders)
        if (p.status) fmt::format_to(std::back_inserter(out), "            {} reaches {}: {}\n", p.id, to_string(*p.status), p.why);
    }
    if (d.lint) {
      out += "\nThe EHLO reply, as received:\n";
      out += render_lint_text(*d.lint, {o.color, "EHLO reply"});
    }
  }
  return out;
}

namespace {

void write_reasons(json_writer& w, const std::vector<reason>& reasons) {
  w.begin_array();
  for (const auto& r : reasons) {
    w.begin_object().member("id", to_string(r.id)).member("severity", to_string(severity_of(r.id)));
    w.member_if("code", r.code >= 0, r.code);
    w.key("detail").value_or_null(r.detail);
    w.member("text", render_reason(r)).end_object();
  }
  w.end_array();
}

void write_error(json_writer& w, const session_error& e) {
  if (!e) {
    w.null();
    return;
  }
  w.begin_object().member("phase", to_string(e.phase)).member("code", to_string(e.code)).key("detail").value_or_null(e.detail);
  w.end_object();
}

const char* dir_of(event_kind k) {
  switch (k) {
    case event_kind::line_received:
    case event_kind::injection_answered: return "S";
    case event_kind::line_sent:
    case event_kind::injection_sent: return "C";
    default: return "-";
  }
}

void write_tls(json_writer& w, const tls_facts& t) {
  bool tls = t.established;
  w.begin_object().member("established", tls);
  w.member_if("protocol", tls, t.protocol);
  w.member_if("cipher", tls, t.cipher);
  w.key("group").value_or_null(t.group);
  w.key("signature_digest").value_or_null(t.signature_digest);
  w.member_if("temp_key_bits", tls && t.temp_key_bits > 0, t.temp_key_bits);
  w.member_if("verified", tls, t.chain_verified);
  w.member_if("verify_code", tls && !t.chain_verified, t.verify_code);
  w.key("verify_error").value_or_null(t.verify_error);
  w.member("name_checked", t.name_checked);
  w.member_if("hostname_match", tls && t.name_checked, t.hostname_match);
  w.member_if("expired", tls, t.expired);
  w.member_if("not_yet_valid", tls, t.not_yet_valid);
  w.key("chain").begin_array();
  for (const auto& c : t.chain) {
    w.begin_object().member("subject", c.subject).member("issuer", c.issuer).key("dns_names").strings(c.dns_names);
    w.member("not_before", c.not_before).member("not_after", c.not_after).member("key_type", c.key_type).member("key_bits", c.key_bits);
    w.member("signature_algorithm", c.signature_algorithm);
    w.member("sha256", c.sha256).end_object();
  }
  w.end_array().end_object();
}

void write_check(json_writer& w, const starttls_facts& s) {
  w.key("starttls").begin_object();
  w.key("transcript").begin_array();
  for (const auto& e : s.events) {
    w.begin_object().member("kind", to_string(e.kind)).member("dir", dir_of(e.kind)).member("text", e.text);
    w.member("octets", e.octets).member("ms", e.ms);
    if (e.after_final) w.member("after_final", true);
    w.end_object();
  }
  w.end_array();
  w.member("offered", s.starttls_offered).member("sent", s.starttls_sent);
  w.member("answer", to_string(s.dialogue.starttls));
  w.member_if("reply_code", s.dialogue.starttls_code >= 0, s.dialogue.starttls_code);
  w.member("handshake", to_string(s.dialogue.handshake));
  w.member("ehlo_waited", to_string(s.ehlo_waited)).member("ehlo_after_final_octets", s.ehlo_after_final);
  w.member("plaintext_after_220", s.plaintext_after_220);
  w.key("tls");
  write_tls(w, s.tls);
  w.key("error");
  write_error(w, s.error);
  w.end_object();
}

void write_check(json_writer& w, const tls_senders_facts& t) {
  w.key("tls_senders").begin_object().key("handshakes").begin_array();
  for (const auto& h : t.handshakes) {
    w.begin_object().member("profile", h.profile).member("replayed", h.replayed).member("established", h.established);
    w.member_if("protocol", h.established, h.protocol).member_if("cipher", h.established, h.cipher);
    w.key("group").value_or_null(h.group);
    // The leaf it was served (a replayed, established handshake): which certificate this
    // sender's hello gets, with the 3 1 1 digest a DANE-EE record of its key holds.
    w.key("leaf");
    if (h.leaf) {
      std::string spki = leaf_key_digest(h.chain_digests);
      w.begin_object().member("subject", h.leaf->subject).member("key_type", h.leaf->key_type).member("key_bits", h.leaf->key_bits);
      w.key("spki_sha256").value_or_null(spki).end_object();
    } else {
      w.null();
    }
    w.key("error");
    write_error(w, h.error);
    w.end_object();
  }
  w.end_array().end_object();
}

void write_check(json_writer& w, const tls_enum_facts& f) {
  w.key("tls_enum").begin_object().member("handshakes", f.handshakes).member("complete", f.complete);
  w.key("versions").begin_array();
  for (const auto& v : f.versions) {
    w.begin_object().member("version", v.version).member("accepted", v.accepted);
    w.key("server_order");
    if (v.server_order) w.value(*v.server_order);
    else w.null();
    w.key("suites").begin_array();
    for (const auto& s : v.suites) {
      w.begin_object().member("name", s.name).member("kx", s.kx).member("auth", s.auth).member("enc", s.enc);
      w.member("bits", s.bits).end_object();
    }
    w.end_array();
    w.key("secure_renegotiation");
    if (v.secure_renegotiation) w.value(*v.secure_renegotiation);
    else w.null();
    w.member("ocsp_stapled", v.ocsp_stapled).member("session_ticket", v.session_ticket);
    w.key("compression").value_or_null(v.compression);
    w.key("signature_digest").value_or_null(v.signature_digest);
    w.key("error");
    write_error(w, v.error);
    w.end_object();
  }
  w.end_array();
  w.key("groups").strings(f.groups);
  w.key("groups_version").value_or_null(f.groups_version);
  w.key("signature_algorithms").strings(f.signature_algorithms);
  w.key("signature_algorithms_version").value_or_null(f.signature_algorithms_version);
  w.key("certificates").begin_array();
  for (const auto& c : f.certificates) {
    w.begin_object().member("subject", c.leaf.subject).member("issuer", c.leaf.issuer).member("key_type", c.leaf.key_type);
    w.member("key_bits", c.leaf.key_bits).member("signature_algorithm", c.signature_algorithm).member("sha256", c.leaf.sha256);
    w.member("spki_sha256", c.spki_sha256).key("chosen_for").strings(c.chosen_for).end_object();
  }
  w.end_array();
  w.member_if("dh_bits", f.dh_bits > 0, f.dh_bits);
  w.member("compression_offered", f.compression_offered);
  w.end_object();
}

void write_check(json_writer& w, const injection_facts& i) {
  w.key("injection").begin_object().member("status", to_string(i.status)).member("waited_ms", i.waited_ms);
  w.key("answer").value_or_null(i.answer);
  w.key("error");
  write_error(w, i.error);
  w.end_object();
}

void write_check(json_writer& w, const envelope_facts& e) {
  w.key("envelope").begin_object().member("rcpt", e.rcpt);
  w.member_if("mail_code", e.mail_code >= 0, e.mail_code);
  w.member_if("rcpt_code", e.rcpt_code >= 0, e.rcpt_code);
  w.key("mail_reply").value_or_null(e.mail_reply);
  w.key("rcpt_reply").value_or_null(e.rcpt_reply);
  w.key("error");
  write_error(w, e.error);
  w.end_object();
}

// "dane" of a host (docs/probe-json.md): the status, the TLSA records, what matched.
void write_dane(json_writer& w, const dane_facts& f, const address_result& h, const dane_assessment& a) {
  const starttls_facts* s = h.get<starttls_facts>();
  const dane_tls_facts* t = s && s->tls.established ? &s->tls.dane : nullptr;
  w.key("dane").begin_object().member("status", to_string(a.status));
  w.member("address_dnssec", to_string(f.address_dnssec)).key("tlsa_name").value_or_null(f.tlsa_name);
  w.key("base_domain").value_or_null(f.base_domain);
  if (f.looked_up) w.member("tlsa_dnssec", to_string(f.lookup.dnssec));
  else w.key("tlsa_dnssec").null();
  w.key("tlsa").begin_array();
  for (const auto& x : f.records) {
    w.begin_object().member("usage", x.record.usage).member("selector", x.record.selector).member("mtype", x.record.mtype);
    w.member("data", hex_text(x.record.data)).member("usable", x.usability == tlsa_usability::usable);
    w.member("usability", to_string(x.usability)).end_object();
  }
  w.end_array();
  w.key("sni").value_or_null(t && t->enabled ? t->sni : std::string());
  w.key("matched");
  if (t && t->matched) {
    w.begin_object().member("usage", t->matched->usage).member("selector", t->matched->selector);
    w.member("mtype", t->matched->mtype).member("data", hex_text(t->matched->data)).member("depth", t->matched_depth).end_object();
  } else {
    w.null();
  }
  w.key("served").begin_array();
  if (t)
    for (const auto& c : t->chain_digests)
      w.begin_object().member("depth", c.depth).member("selector", c.selector).member("mtype", c.mtype).member("data", c.hex).end_object();
  w.end_array();
  w.key("senders").begin_array();
  for (const auto& p : a.senders) {
    w.begin_object().member("id", p.id).member("outcome", to_string(p.outcome));
    w.key("status").value_or_null(p.status ? std::string(to_string(*p.status)) : std::string());
    w.key("why").value_or_null(p.why);
    w.end_object();
  }
  w.end_array().end_object();
}

void write_host(json_writer& w, const probe_report& r, std::size_t i) {
  const address_result& h = r.facts.hosts[i];
  const address_diagnosis& d = r.diagnosis.hosts[i];
  w.begin_object();
  if (h.mx_host == no_index) w.key("mx_host").null();
  else w.member("mx_host", h.mx_host);
  w.key("mx").value_or_null(mx_name(r, h));
  w.key("name").value_or_null(h.name);
  w.member("address", h.address).member("port", h.port);
  w.member("outcome", to_string(d.outcome)).member("verdict", host_verdict(h, d, r.facts));
  w.key("reasons");
  write_reasons(w, d.reasons);
  w.key("senders");
  write_sender_groups(w, d.groups);
  w.key("predictions");
  write_predictions(w, d.senders);
  w.key("esa").begin_object().member("policy", to_string(r.facts.policy)).member("sees_starttls", d.esa.sees_starttls);
  w.member("result", to_string(d.esa.result)).end_object();
  write_host_mta_sts(w, r, i);
  if (d.dane && h.mx_host < r.facts.mx_hosts.size() && r.facts.mx_hosts[h.mx_host].dane) write_dane(w, *r.facts.mx_hosts[h.mx_host].dane, h, *d.dane);
  w.key("checks").begin_object();
  for (const auto& c : h.checks) std::visit([&](const auto& x) { write_check(w, x); }, c);
  w.end_object();
  w.key("lint");
  if (d.lint) write_lint_json(w, *d.lint, "EHLO reply", true);
  else w.null();
  w.key("lint_after_tls");
  if (d.lint_after_tls) write_lint_json(w, *d.lint_after_tls, "EHLO reply after TLS", true);
  else w.null();
  w.end_object();
}

}  // namespace

void write_probe_json(json_writer& w, const probe_report& r, const probe_json_head& head) {
  const probe_facts& f = r.facts;
  const diagnosis& d = r.diagnosis;
  w.begin_object();
  w.member("schema", "mxtls-probe").member("version", probe_json_version);
  if (head.line > 0) w.member("line", head.line).member("input", head.input);
  w.member("target", f.target).member("policy", to_string(f.policy));
  w.key("checks").begin_array();
  for (const auto& c : all_checks())
    if (f.checks.has(c.id)) w.value(c.name);
  w.end_array();
  w.member("verdict", render_verdict(r)).member("outcome", to_string(d.outcome)).member("exit_code", d.exit_code);
  if (d.verdict_host == no_index) w.key("verdict_host").null();
  else w.member("verdict_host", d.verdict_host);
  w.member("interrupted", f.interrupted);
  w.key("reasons");
  write_reasons(w, d.reasons);
  w.key("senders");
  write_sender_groups(w, d.groups);
  w.key("dns").begin_object();
  w.key("lookups").begin_array();
  for (const auto& l : f.lookups) {
    w.begin_object().member("name", l.name).member("type", to_string(l.type)).member("status", to_string(l.status));
    w.member("rcode", l.rcode).key("detail").value_or_null(l.detail);
    w.member("dnssec", to_string(l.dnssec)).key("why_bogus").value_or_null(l.why_bogus);
    w.member("records", l.records).key("canonical_name").value_or_null(l.canonical_name).end_object();
  }
  w.end_array();
  if (!f.literal) {
    // Whether answers could be validated at all (the anchor zone's DNSKEY, like Postfix's dnssec_probe).
    const dnssec_readiness& v = f.dnssec;
    w.key("validation").begin_object().member("validating", v.validating).key("anchor").value_or_null(v.anchor_file);
    w.key("anchor_zones").begin_array();
    for (const auto& z : v.anchor_zones) w.value(z);
    w.end_array();
    w.member("anchor_status", to_string(v.anchor_status)).key("why_bogus").value_or_null(v.why_bogus);
    w.key("error").value_or_null(v.error).end_object();
  }
  w.key("mx").begin_array();
  for (const auto& m : f.mx)
    w.begin_object().member("preference", m.preference).member("host", m.host).member("dnssec", to_string(m.dnssec)).end_object();
  w.end_array();
  w.key("mx_hosts").begin_array();
  for (const auto& m : f.mx_hosts) {
    w.begin_object().member("name", m.name).member("preference", m.preference).member("implicit", m.implicit);
    w.key("addresses").begin_array();
    for (const auto& a : m.addresses)
      w.begin_object().member("type", to_string(a.type)).member("address", a.address).member("dnssec", to_string(a.dnssec)).end_object();
    w.end_array().end_object();
  }
  w.end_array();
  w.end_object();
  write_probe_mta_sts(w, r);
  w.key("hosts").begin_array();
  for (std::size_t i = 0; i < f.hosts.size(); ++i) write_host(w, r, i);
  w.end_array();
  w.end_object();
}

std::string render_probe_json(const probe_report& r) {
  std::string out;
  json_writer w(out, 2);
  write_probe_json(w, r);
  return out;
}

namespace {

// The wall-clock time of an event, as ctime's form of this machine's local time (the
// appliance writes its own local time, without a zone).
std::string esa_time(const starttls_facts& s, std::int64_t ms) {
  if (s.started_unix_ms == 0) return {};
  std::time_t t = static_cast<std::time_t>((s.started_unix_ms + ms) / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return esa::format_ctime({.year = tm.tm_year + 1900, .month = tm.tm_mon + 1, .day = tm.tm_mday, .hour = tm.tm_hour,
                            .minute = tm.tm_min, .second = tm.tm_sec}) + " ";
}

std::int64_t event_ms(const starttls_facts& s, event_kind k) {
  for (const auto& e : s.events)
    if (e.kind == k) return e.ms;
  return s.events.empty() ? 0 : s.events.back().ms;
}

}  // namespace

// Only line forms published by Cisco or quoted from an appliance's log are written
// (src/logs/esa_lines.cpp cites each); where none is known for what happened, nothing is
// written for it (docs/esa-log.md, "What is not written").
std::string render_esa_log(const probe_report& r) {
  std::string out;
  std::uint64_t dcid = 0;
  for (std::size_t i = 0; i < r.facts.hosts.size(); ++i) {
    const address_result& h = r.facts.hosts[i];
    const address_diagnosis& d = r.diagnosis.hosts[i];
    const starttls_facts* s = h.get<starttls_facts>();
    ++dcid;
    // No TCP connection: no published form (the "Connection Error" line follows a "New SMTP
    // DCID" line in every example, and its details are the appliance's own words).
    if (!s || s->local_address.empty()) continue;
    std::string last = esa_time(*s, s->events.empty() ? 0 : s->events.back().ms);
    auto put = [&](const std::string& when, const esa::line& l) {
      out += when;
      out += "Info: ";
      out += esa::format(l);
      out += '\n';
    };
    put(esa_time(*s, event_ms(*s, event_kind::connected)),
        esa::new_connection{.dcid = dcid, .interface = s->local_address, .address = h.address, .port = h.port});
    switch (d.esa.result) {
      case esa_result::no_connection:  // a greeting other than 220: no published form
        break;
      case esa_result::plaintext:
        // [SEED]: logged when the appliance, set to use TLS, does not see STARTTLS.
        if (r.facts.policy != tls_policy::none && !d.esa.sees_starttls) put(last, esa::starttls_not_supported{dcid});
        break;
      case esa_result::deferred:
        put(last, esa::starttls_not_supported{dcid});
        put(last, esa::tls_required_failed{dcid, h.address});
        break;
      case esa_result::tls:
      case esa_result::tls_verified:
        put(esa_time(*s, event_ms(*s, event_kind::tls_established)), esa::tls_success{dcid, s->tls.protocol, s->tls.cipher});
        break;
      case esa_result::verify_failed:  // no published form for a certificate that fails verification
        break;
      case esa_result::tls_failed:
        // [S2W]: a refused or unexpected answer to STARTTLS. A handshake that fails or an
        // unanswered STARTTLS has no published form with its own words.
        if (s->dialogue.starttls == starttls_answer::refused || s->dialogue.starttls == starttls_answer::other)
          put(last, esa::tls_failed{dcid, "STARTTLS unexpected response"});
        break;
    }
    put(last, esa::connection_close{dcid});
  }
  return out;
}

}  // namespace mxtls
