// DANE record rules (RFC 6698 §2.1, RFC 7672 §3.1) on the facts of include/mxtls/model/dane.hpp.
#include "mxtls/model/dane.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "mxtls/dane.hpp"
#include "mxtls/diagnosis.hpp"
#include "mxtls/target_text.hpp"

namespace mxtls {

const char* to_string(tlsa_usability u) {
  switch (u) {
    case tlsa_usability::usable: return "usable";
    case tlsa_usability::pkix_usage: return "pkix-usage";
    case tlsa_usability::unknown_usage: return "unknown-usage";
    case tlsa_usability::unknown_selector: return "unknown-selector";
    case tlsa_usability::unknown_mtype: return "unknown-mtype";
    case tlsa_usability::bad_length: return "bad-length";
  }
  return "?";
}

tlsa_usability usability_of(const tlsa_record& r) {
  // RFC 7672 §3.1.3: "SMTP client treatment of TLSA RRs with certificate usages PKIX-TA(0)
  // or PKIX-EE(1) ... SMTP clients SHOULD NOT ... use them" (they are unusable for MTA-to-MTA).
  if (r.usage == 0 || r.usage == 1) return tlsa_usability::pkix_usage;
  if (r.usage > 3) return tlsa_usability::unknown_usage;
  // RFC 6698 §2.1.2: selector 0 Cert, 1 SPKI; §2.1.3: matching type 0 Full, 1 SHA2-256, 2 SHA2-512.
  if (r.selector > 1) return tlsa_usability::unknown_selector;
  if (r.mtype > 2) return tlsa_usability::unknown_mtype;
  if (r.data.empty() || (r.mtype == 1 && r.data.size() != 32) || (r.mtype == 2 && r.data.size() != 64))
    return tlsa_usability::bad_length;
  return tlsa_usability::usable;
}

}  // namespace mxtls

// ---- decisions ----------------------------------------------------------------------

namespace mxtls {

const char* to_string(dane_status s) {
  switch (s) {
    case dane_status::verified: return "verified";
    case dane_status::mismatch: return "mismatch";
    case dane_status::no_tlsa: return "no-tlsa";
    case dane_status::insecure: return "insecure";
    case dane_status::bogus: return "bogus";
    case dane_status::unusable: return "unusable";
    case dane_status::lookup_failed: return "lookup-failed";
    case dane_status::no_tls: return "no-tls";
  }
  return "?";
}

const char* to_string(dane_outcome o) {
  switch (o) {
    case dane_outcome::dane_verified: return "dane-verified";
    case dane_outcome::not_applied: return "not-applied";
    case dane_outcome::encrypt: return "encrypt";
    case dane_outcome::defer: return "defer";
    case dane_outcome::unknown: return "unknown";
  }
  return "?";
}

dane_status dane_status_of(const dane_facts& d, const starttls_facts* s) {
  // RFC 7672 §2.2.2: TLSA records are used only when the host's address records are secure.
  if (d.mx_bogus || d.address_dnssec == dnssec_status::bogus) return dane_status::bogus;
  if (d.address_dnssec != dnssec_status::secure || !d.looked_up) return dane_status::insecure;
  const dns_lookup& l = d.lookup;
  if (l.dnssec == dnssec_status::bogus) return dane_status::bogus;
  // RFC 7672 §2.1.1: a failed TLSA lookup (not a secure denial) means the destination
  // cannot be trusted to be without DANE.
  if (l.status != lookup_status::ok && l.status != lookup_status::nxdomain) return dane_status::lookup_failed;
  if (l.dnssec != dnssec_status::secure) return dane_status::insecure;
  if (d.records.empty()) return d.malformed > 0 ? dane_status::unusable : dane_status::no_tlsa;
  bool usable = std::any_of(d.records.begin(), d.records.end(),
                            [](const tlsa_facts& r) { return r.usability == tlsa_usability::usable; });
  if (!usable) return dane_status::unusable;
  if (!s || !s->tls.established || !s->tls.dane.enabled) return dane_status::no_tls;
  return s->tls.dane.verified ? dane_status::verified : dane_status::mismatch;
}

namespace {

using O = dane_outcome;

// Debian 12's Exim 4.96 is built with GnuTLS and checks TLSA records with libgnutls-dane
// (its exim4 binary calls dane_verify_crt_raw; the package depends on libgnutls-dane0), not
// with OpenSSL as in Exim's own test suite. Seen delivering through the signed test tree
// (tests/integration/dane_probe_test.cpp, Dane.EximDaneDeliveriesAreReadFromItsLog, which
// also compares each prediction with Exim's mainlog): a right 3 1 1 record beside a wrong 3 1 2 one
// authenticates (CV=dane); TLSA only at the original name of a CNAME is not found (it
// delivers with CV=no and names the expanded host); a server with an RSA and an ECDSA
// certificate whose record covers the ECDSA key only is deferred, GnuTLS being sent the RSA one.
constexpr std::string_view exim_observed =
    "Exim 4.96 (Debian 12, GnuTLS with libgnutls-dane) delivering through the signed test tree of "
    "tests/integration/dane_probe_test.cpp (Dane.EximDaneDeliveriesAreReadFromItsLog)";

// Each row cites where its behaviour is documented; an outcome the source does not state is
// `unknown`. Order of the array: verified, mismatch, no-tlsa, insecure, bogus, unusable,
// lookup-failed, no-tls (dane_status).
constexpr dane_sender senders[] = {
    // postconf(5) smtp_tls_security_level, TLS_README "Mandatory server certificate
    // verification ... dane": usable TLSA -> authenticated TLS required; no usable records ->
    // "encrypt"; no TLSA or not DNSSEC-validated -> "may"; a TLSA lookup failure -> deferred.
    {.id = "postfix-dane",
     .name = "Postfix (smtp_tls_security_level = dane)",
     .source = "https://www.postfix.org/TLS_README.html#client_tls_dane",
     .outcome = {O::dane_verified, O::defer, O::not_applied, O::not_applied, O::defer, O::encrypt, O::defer, O::defer}},
    // The same page, "dane-only": no fallback to "may" or "encrypt".
    {.id = "postfix-dane-only",
     .name = "Postfix (smtp_tls_security_level = dane-only)",
     .source = "https://www.postfix.org/TLS_README.html#client_tls_dane",
     .outcome = {O::dane_verified, O::defer, O::defer, O::defer, O::defer, O::defer, O::defer, O::defer}},
    // Exim's DANE tests (test/scripts/5840-DANE-OpenSSL, descriptions in test/stderr/5840):
    // secure no-TLSA delivers, wrong TLSA fails, insecure TLSA or A delivers without DANE,
    // a failed TLSA lookup defers; experimental-spec.txt: "there is no fallback to non-DANE
    // or non-TLS" once usable TLSA records are found.
    {.id = "exim-try-dane",
     .name = "Exim (hosts_try_dane)",
     .source = "https://git.exim.org/exim.git (test/stderr/5840; doc/doc-txt/experimental-spec.txt, DANE)",
     .outcome = {O::dane_verified, O::defer, O::not_applied, O::not_applied, O::defer, O::unknown, O::defer, O::defer},
     .every_record = true, .expanded_name_only = true, .served_by = "gnutls-normal", .observed = exim_observed},
    // The same tests, "dane required": secure no-TLSA and insecure TLSA or A fail.
    {.id = "exim-require-dane",
     .name = "Exim (hosts_require_dane)",
     .source = "https://git.exim.org/exim.git (test/stderr/5840; doc/doc-txt/experimental-spec.txt, DANE)",
     .outcome = {O::dane_verified, O::defer, O::defer, O::defer, O::defer, O::defer, O::defer, O::defer},
     .every_record = true, .expanded_name_only = true, .served_by = "gnutls-normal", .observed = exim_observed},
    // "How SMTP DANE works": no TLSA -> mail flow as usual without DANE checks; authentic
    // TLSA -> DANE validation of the receiving server.
    {.id = "microsoft-365",
     .name = "Microsoft 365 (outbound SMTP DANE)",
     .source = "https://learn.microsoft.com/en-us/purview/how-smtp-dane-works",
     .outcome = {O::dane_verified, O::defer, O::not_applied, O::not_applied, O::unknown, O::unknown, O::unknown, O::defer}},
    // posttls-finger(1), -l level: "When dane or dane-only is supported and selected, if no
    // TLSA records are found, or all the records found are unusable, the secure level will
    // be used instead" (then PKIX decides whether it reports a verified connection).
    {.id = "posttls-finger",
     .name = "posttls-finger -l dane",
     .source = "posttls-finger(1), option -l (Postfix)",
     .outcome = {O::dane_verified, O::defer, O::not_applied, O::not_applied, O::defer, O::not_applied, O::defer, O::defer}},
    // Cisco TAC "DANE for Email Security Appliance" (document 214794): daneverify reports
    // DANE SUCCESS after SECURE MX, A and TLSA records and a verified certificate. The
    // fallbacks of DANE Opportunistic and Mandatory are not stated there: unknown.
    {.id = "cisco-esa-dane-opportunistic",
     .name = "Cisco ESA (DANE Opportunistic)",
     .source = "https://www.cisco.com/c/en/us/support/docs/security/email-security-appliance/214794-dane-for-email-security-appliance.html",
     .outcome = {O::dane_verified, O::unknown, O::unknown, O::unknown, O::unknown, O::unknown, O::unknown, O::unknown}},
    {.id = "cisco-esa-dane-mandatory",
     .name = "Cisco ESA (DANE Mandatory)",
     .source = "https://www.cisco.com/c/en/us/support/docs/security/email-security-appliance/214794-dane-for-email-security-appliance.html",
     .outcome = {O::dane_verified, O::unknown, O::unknown, O::unknown, O::unknown, O::unknown, O::unknown, O::unknown}},
};

void add(std::vector<reason>& v, reason_id id, std::string detail = {}) { v.push_back({.id = id, .code = -1, .detail = std::move(detail)}); }

std::string record_text(const tlsa_record& r) {
  return fmt::format("{} {} {} {}", r.usage, r.selector, r.mtype, hex_text(r.data));
}

bool digest_matches(const tlsa_record& r, const chain_digest& c) {
  if (r.selector != c.selector || r.mtype != c.mtype || r.mtype == 0) return false;
  return hex_text(r.data) == c.hex;
}

// "RSA" and "ECDSA" for OpenSSL's short names of those key types; others as they are.
std::string_view key_kind(std::string_view key_type) {
  if (key_type == "rsaEncryption") return "RSA";
  if (key_type == "id-ecPublicKey") return "ECDSA";
  return key_type;
}

// The status a sender reaches where its DANE check departs from OpenSSL's (dane_sender's
// flags); `status` when it does not, or when the facts to tell are missing.
dane_status sender_status(const dane_sender& row, dane_status status, const dane_facts& d, const dane_tls_facts* t,
                          const tls_senders_facts* replays, std::string& why) {
  // RFC 7672 §2.2.3 falls back to the original name after a secure denial at the expanded
  // one; a sender that does not sees that denial, whatever the original name's answer was
  // (records, a bogus answer, a failed lookup). The MX and the addresses it shares.
  // (expanded_without_tlsa is set only where the addresses are secure.)
  bool from_original = !d.expanded_without_tlsa.empty() && !d.mx_bogus && status != dane_status::no_tlsa &&
                       status != dane_status::insecure;
  if (row.expanded_name_only && from_original) {
    std::string name = d.tlsa_name.substr(0, d.tlsa_name.size() - d.base_domain.size()) + d.expanded_without_tlsa;
    why = fmt::format("looks for TLSA at {} only (the expanded name), where there are none; the answer at {} (the original name) is not used",
                      name, d.tlsa_name);
    return dane_status::no_tlsa;
  }
  if (status != dane_status::verified && status != dane_status::mismatch) return status;
  if (!row.every_record && row.served_by.empty()) return status;
  std::vector<tlsa_record> usable;
  for (const auto& x : d.records) {
    if (x.usability != tlsa_usability::usable) continue;
    if (x.record.mtype == 0) return status;  // whole certificates or keys are not compared offline
    usable.push_back(x.record);
  }
  // The chain this sender is served: its own replayed hello's, else the probe's.
  const std::vector<chain_digest>* served = nullptr;
  std::string whose;
  if (!row.served_by.empty() && replays)
    if (const profile_handshake* h = replays->find(row.served_by); h && h->established && !h->chain_digests.empty()) {
      served = &h->chain_digests;
      whose = h->leaf ? fmt::format("its own hello ({}) is served the {} {} certificate", row.served_by,
                                    key_kind(h->leaf->key_type), h->leaf->key_bits)
                      : fmt::format("its own hello ({}) is served another certificate", row.served_by);
    }
  if (!served && t && !t->chain_digests.empty()) {
    served = &t->chain_digests;
    whose = "the served chain";
  }
  if (!served) return status;
  bool any = false, ee = false;
  std::string matched;
  for (const auto& c : check_records(usable, *served)) {
    bool counts = c.match == tlsa_match::matches || (row.every_record && c.match == tlsa_match::weaker_digest && c.depth >= 0);
    if (!counts) continue;
    any = true;
    if (c.record.usage == 3 && !ee) {
      ee = true;
      matched = record_text(c.record);
    }
  }
  // A DANE-EE match needs no name or path (RFC 7672 §3.1.1), so it authenticates alone; a
  // DANE-TA one also needs OpenSSL's chain and name checks, which are the probe's to tell.
  if (status == dane_status::mismatch && ee) {
    why = fmt::format("any record that matches authenticates (no RFC 7671 §9 preference for the strongest digest): {} matches {}",
                      matched, whose);
    return dane_status::verified;
  }
  if (status == dane_status::verified && !any) {
    why = fmt::format("{}, which no record matches (3 1 1 {})", whose, leaf_key_digest(*served));
    return dane_status::mismatch;
  }
  return status;
}

}  // namespace

std::string leaf_key_digest(std::span<const chain_digest> chain) {
  for (const auto& c : chain)
    if (c.depth == 0 && c.selector == 1 && c.mtype == 1) return c.hex;
  return {};
}

std::span<const dane_sender> dane_senders() { return senders; }

dane_assessment assess_dane(const dane_facts& d, const starttls_facts* s, tls_policy policy, const tls_senders_facts* replays) {
  dane_assessment a;
  a.status = dane_status_of(d, s);
  std::vector<reason>& r = a.reasons;
  const dane_tls_facts* t = s && s->tls.established ? &s->tls.dane : nullptr;
  switch (a.status) {
    case dane_status::verified:
      if (t && t->matched) add(r, reason_id::dane_verified, fmt::format("{} {} {} depth {}", t->matched->usage, t->matched->selector, t->matched->mtype, t->matched_depth));
      else add(r, reason_id::dane_verified);
      break;
    case dane_status::mismatch: {
      // The served leaf key's digest: the record that would match (RFC 7671 §5.1 "3 1 1").
      std::string served = t ? leaf_key_digest(t->chain_digests) : std::string();
      add(r, reason_id::dane_mismatch, served.empty() ? served : "3 1 1 " + served);
      break;
    }
    case dane_status::bogus:
      // A bogus MX answer is the domain's reason already.
      if (!d.mx_bogus)
        add(r, reason_id::dnssec_bogus,
            d.address_dnssec == dnssec_status::bogus ? d.host : fmt::format("{}: {}", d.tlsa_name, d.lookup.why_bogus));
      break;
    case dane_status::lookup_failed:
      add(r, reason_id::dane_lookup_failed, fmt::format("{}: {}", d.tlsa_name, d.lookup.detail.empty() ? to_string(d.lookup.status) : d.lookup.detail));
      break;
    case dane_status::unusable: add(r, reason_id::dane_unusable, d.tlsa_name); break;
    case dane_status::no_tls: add(r, reason_id::dane_no_tls, d.tlsa_name); break;
    case dane_status::no_tlsa:
    case dane_status::insecure: break;
  }
  bool secure_tlsa = d.looked_up && d.lookup.dnssec == dnssec_status::secure;
  if (d.looked_up && d.lookup.dnssec == dnssec_status::insecure && !d.records.empty())
    add(r, reason_id::dane_tlsa_insecure, d.tlsa_name);
  if (secure_tlsa) {
    std::size_t usable = 0, bad = d.malformed;
    bool pkix = false;
    for (const auto& x : d.records) {
      if (x.usability == tlsa_usability::usable) ++usable;
      else if (x.usability == tlsa_usability::pkix_usage) pkix = true;
      else ++bad;
    }
    if (pkix) add(r, reason_id::dane_pkix_usage, d.tlsa_name);
    if (bad > 0) add(r, reason_id::dane_malformed, d.tlsa_name);
    // RFC 7671 §8.1: a key rollover needs the next key's record published beforehand; one
    // record alone breaks at the next change of key.
    if (usable == 1) add(r, reason_id::dane_no_rollover, d.tlsa_name);
    // RFC 7671 §5.1/§5.2: a selector-0 record pins the whole certificate, which changes at
    // every renewal, even with the same key.
    for (const auto& x : d.records)
      if (x.usability == tlsa_usability::usable && x.record.selector == 0 && x.record.mtype != 0) {
        add(r, reason_id::dane_full_certificate, record_text(x.record).substr(0, 6));
        break;
      }
    if (a.status == dane_status::mismatch && t) {
      // DANE-TA records none of whose digests is in the served chain (its issuer not sent).
      bool ta = false, ta_found = false;
      for (const auto& x : d.records) {
        if (x.usability != tlsa_usability::usable || x.record.usage != 2) continue;
        ta = true;
        for (const auto& c : t->chain_digests)
          if (c.depth > 0 && digest_matches(x.record, c)) ta_found = true;
      }
      if (ta && !ta_found) add(r, reason_id::dane_ta_not_in_chain, d.tlsa_name);
      // RFC 7671 §9: with records of several matching types for one usage and selector, a
      // client uses only the strongest; a wrong SHA2-512 record hides a right SHA2-256 one.
      for (const auto& x : d.records) {
        if (x.usability != tlsa_usability::usable || x.record.mtype != 1) continue;
        bool stronger = std::any_of(d.records.begin(), d.records.end(), [&](const tlsa_facts& y) {
          return y.usability == tlsa_usability::usable && y.record.usage == x.record.usage &&
                 y.record.selector == x.record.selector && y.record.mtype == 2;
        });
        bool matches = std::any_of(t->chain_digests.begin(), t->chain_digests.end(), [&](const chain_digest& c) {
          return (x.record.usage == 3 ? c.depth == 0 : c.depth > 0) && digest_matches(x.record, c);
        });
        if (stronger && matches) {
          add(r, reason_id::dane_digest_trap, record_text(x.record));
          break;
        }
      }
    }
  }
  // DANE-EE passes without names or expiry (RFC 7672 §3.1.1); senders without DANE still check them.
  if (a.status == dane_status::verified && t && t->matched && t->matched->usage == 3 && s &&
      (!s->tls.chain_verified || s->tls.expired || (s->tls.name_checked && !s->tls.hostname_match)))
    add(r, reason_id::dane_ee_pkix_fails, s->tls.verify_error);
  // The ESA's DANE settings: Mandatory wants DANE verified; Opportunistic fails where DANE
  // applies and fails.
  bool fails = a.status == dane_status::mismatch || a.status == dane_status::bogus ||
               a.status == dane_status::lookup_failed || a.status == dane_status::no_tls;
  if ((policy == tls_policy::dane_mandatory && a.status != dane_status::verified) ||
      (policy == tls_policy::dane_opportunistic && fails))
    add(r, reason_id::dane_fails_policy, to_string(policy));
  for (const auto& row : senders) {
    dane_sender_prediction p;
    p.id = row.id;
    std::string why;
    dane_status st = sender_status(row, a.status, d, t, replays, why);
    p.outcome = row.outcome[static_cast<std::size_t>(st)];
    if (st != a.status) {
      p.status = st;
      p.why = std::move(why);
    }
    a.senders.push_back(std::move(p));
  }
  return a;
}

void assess_dane_certificates(dane_assessment& a, const dane_facts& d, const tls_enum_facts& enumerated) {
  if (a.status != dane_status::verified && a.status != dane_status::mismatch) return;
  if (enumerated.certificates.size() < 2) return;
  // Only DANE-EE SHA2-256 records can be compared with the enumerated leaves (their key's and
  // their own digest); with any other usable record the answer is not known here.
  std::vector<const tlsa_record*> ee;
  for (const auto& x : d.records) {
    if (x.usability != tlsa_usability::usable) continue;
    if (x.record.usage != 3 || x.record.mtype != 1) return;
    ee.push_back(&x.record);
  }
  if (ee.empty()) return;
  // RFC 6698 §4.1: a client aborts the handshake when no record matches the certificate the
  // server gave; a server that chooses its certificate by the ClientHello (RSA or ECDSA)
  // fails the DANE senders whose hello gets the certificate without a record.
  std::size_t matched = 0;
  std::string unmatched;
  for (const auto& c : enumerated.certificates) {
    std::string whole;
    for (char ch : c.leaf.sha256)
      if (ch != ':') whole += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bool match = std::any_of(ee.begin(), ee.end(), [&](const tlsa_record* r) {
      return hex_text(r->data) == (r->selector == 1 ? c.spki_sha256 : whole);
    });
    if (match) {
      ++matched;
      continue;
    }
    std::string_view kind = key_kind(c.leaf.key_type);
    unmatched += fmt::format("{}{} {} (3 1 1 {})", unmatched.empty() ? "" : "; ", kind, c.leaf.key_bits, c.spki_sha256);
  }
  if (matched > 0 && !unmatched.empty()) add(a.reasons, reason_id::dane_key_not_covered, unmatched);
}

}  // namespace mxtls

// ---- mxtls tlsa -----------------------------------------------------------------------

namespace mxtls {

const char* to_string(tlsa_match m) {
  switch (m) {
    case tlsa_match::matches: return "matches";
    case tlsa_match::no_match: return "no-match";
    case tlsa_match::unusable: return "unusable";
    case tlsa_match::weaker_digest: return "weaker-digest";
  }
  return "?";
}

std::string tlsa_text(const tlsa_record& r) { return record_text(r); }

std::optional<tlsa_record> parse_tlsa_text(std::string_view text, std::string& error) {
  std::vector<std::string> w;
  std::string cur;
  for (char c : text) {
    if (c == ';') break;  // a zone-file comment
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')') {
      if (!cur.empty()) w.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) w.push_back(std::move(cur));
  // A zone line: everything up to the TLSA type is owner, TTL and class.
  for (std::size_t i = 0; i < w.size(); ++i) {
    std::string up = w[i];
    std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
    if (up == "TLSA") {
      w.erase(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      break;
    }
  }
  if (w.size() < 4) {
    error = "expected USAGE SELECTOR MTYPE HEX";
    return std::nullopt;
  }
  tlsa_record r;
  std::uint8_t* fields[] = {&r.usage, &r.selector, &r.mtype};
  for (int i = 0; i < 3; ++i) {
    const std::string& f = w[static_cast<std::size_t>(i)];
    if (f.empty() || f.size() > 3 || !std::all_of(f.begin(), f.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoi(f) > 255) {
      error = "'" + f + "' is not a number from 0 to 255";
      return std::nullopt;
    }
    *fields[i] = static_cast<std::uint8_t>(std::stoi(f));
  }
  std::string hex;
  for (std::size_t i = 3; i < w.size(); ++i) hex += w[i];
  if (hex.size() % 2 != 0 || !std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c); })) {
    error = "the association data is not hex";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < hex.size(); i += 2) r.data.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return r;
}

std::vector<tlsa_record> records_to_publish(std::span<const chain_digest> chain) {
  std::vector<tlsa_record> out;
  for (const auto& c : chain) {
    if (c.selector != 1 || c.mtype != 1) continue;
    std::string err;
    auto r = parse_tlsa_text(fmt::format("{} 1 1 {}", c.depth == 0 ? 3 : 2, c.hex), err);
    if (r) out.push_back(*r);
  }
  return out;
}

std::vector<tlsa_check> check_records(std::span<const tlsa_record> records, std::span<const chain_digest> chain) {
  std::vector<tlsa_check> out;
  for (const auto& r : records) {
    tlsa_check c{.record = r, .usability = usability_of(r)};
    if (c.usability != tlsa_usability::usable) {
      c.match = tlsa_match::unusable;
    } else {
      bool stronger = r.mtype == 1 && std::any_of(records.begin(), records.end(), [&](const tlsa_record& y) {
                        return usability_of(y) == tlsa_usability::usable && y.usage == r.usage && y.selector == r.selector &&
                               y.mtype == 2;
                      });
      for (const auto& d : chain)
        if ((r.usage == 3 ? d.depth == 0 : d.depth > 0) && digest_matches(r, d)) {
          c.depth = d.depth;
          break;
        }
      c.match = stronger ? tlsa_match::weaker_digest : c.depth >= 0 ? tlsa_match::matches : tlsa_match::no_match;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace mxtls
