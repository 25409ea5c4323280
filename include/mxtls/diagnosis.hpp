// Decisions: from a probe's facts (or a pasted conversation) to an outcome, reasons with
// stable ids, what each sender does, the Cisco ESA decision for each ESA setting, and the
// exit code. Pure functions of their inputs (src/core/diagnosis/); the renderers word the
// reasons, nothing here writes a sentence.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/client_model.hpp"
#include "mxtls/dane.hpp"
#include "mxtls/lint.hpp"
#include "mxtls/model/probe_facts.hpp"
#include "mxtls/mta_sts_eval.hpp"

namespace mxtls {

// What a destination comes to, one word for counting (mxtls scan) and for JSON "outcome".
// In order of precedence: the first that applies to the host the verdict is about.
enum class probe_outcome : std::uint8_t {
  ok,                // TLS works for every sender, the certificate verifies and matches
  certificate,       // TLS works for every sender; the certificate does not verify, match, or has expired
  injection,         // TLS works for every sender; the server is open to STARTTLS command or response injection
  senders_lose_tls,  // STARTTLS works, but some senders will not use it (the seed case)
  no_starttls,       // STARTTLS not offered, or EHLO refused
  starttls_fails,    // STARTTLS refused or unanswered, or the handshake fails
  ehlo_fails,        // no complete EHLO reply
  unreachable,       // no connection, no banner, 421 or another non-220 greeting
  dns_fails,         // NXDOMAIN, null MX, no address, lookup failure or timeout
};
const char* to_string(probe_outcome o);
std::optional<probe_outcome> parse_probe_outcome(std::string_view s);
inline constexpr probe_outcome all_probe_outcomes[] = {
    probe_outcome::ok,          probe_outcome::certificate,    probe_outcome::injection,
    probe_outcome::senders_lose_tls, probe_outcome::no_starttls, probe_outcome::starttls_fails,
    probe_outcome::ehlo_fails,  probe_outcome::unreachable,    probe_outcome::dns_fails};

// Reasons: each has a stable id (docs/probe-json.md lists them), a scope and a severity.
enum class reason_id : std::uint8_t {
  // domain
  dns_lookup_failed, domain_nxdomain, null_mx, no_address, implicit_mx, address_lookup_failed,
  // address: reaching the server
  connect_failed, greeting_refused, no_banner, bad_banner,
  // address: the EHLO reply
  ehlo_incomplete, ehlo_refused, starttls_not_offered, starttls_on_greeting, ehlo_breaks_rfc5321,
  starttls_after_final_line,
  // address: STARTTLS and TLS
  starttls_not_sent, starttls_refused, starttls_unanswered, handshake_failed, sender_handshake_failed,
  certificate_untrusted, certificate_name_mismatch, certificate_expired, certificate_not_yet_valid,
  certificate_name_not_checked, certificate_fails_policy,
  response_injection, command_injection, injection_check_incomplete, starttls_after_tls,
  // address: the envelope (--rcpt)
  rcpt_temporary, rcpt_refused, mail_refused,
  // MX host and address: DNSSEC and DANE (RFC 7672, RFC 7671)
  dnssec_unavailable, dnssec_bogus, dane_verified, dane_mismatch, dane_no_tls, dane_lookup_failed, dane_unusable,
  dane_pkix_usage, dane_malformed, dane_tlsa_insecure, dane_no_rollover, dane_full_certificate, dane_ta_not_in_chain,
  dane_digest_trap, dane_ee_pkix_fails, dane_partial, dane_fails_policy, dane_key_not_covered,
  // domain and MX host: MTA-STS (RFC 8461) and TLS-RPT (RFC 8460)
  mta_sts_txt_invalid, mta_sts_fetch_failed, mta_sts_policy_invalid, mta_sts_testing, mta_sts_mx_not_listed,
  mta_sts_certificate_fails, tls_rpt_invalid, tls_rpt_missing,
  // address: what the TLS enumeration found accepted (check tls-enum)
  tls_legacy_version, tls_rc4, tls_3des, tls_export, tls_null_cipher, tls_anonymous, tls_weak_dh, tls_weak_rsa_key,
  tls_sha1_signature, tls_no_forward_secrecy, tls_enum_incomplete,
  // the probe itself
  interrupted,
};
inline constexpr std::size_t reason_count = static_cast<std::size_t>(reason_id::interrupted) + 1;
const char* to_string(reason_id r);  // the stable id: "starttls-on-greeting"
std::optional<reason_id> parse_reason_id(std::string_view s);

severity severity_of(reason_id r);  // the findings' severities (finding.hpp)
bool reason_table_in_order();       // for the unit test

struct reason {
  reason_id id;
  int code = -1;        // a reply code the reason is about, when there is one
  std::string detail;   // a fact to quote (OpenSSL's text, a reply line, a name); never a sentence of ours
  bool operator==(const reason&) const = default;
};

bool has_reason(std::span<const reason> reasons, reason_id id);

// Which layer decided a sender's outcome.
enum class decided_at : std::uint8_t { smtp, tls };
const char* to_string(decided_at l);

// One sender: the client model's reading of the EHLO reply combined with what the dialogue
// after it showed (the answer to STARTTLS, the handshake). The client models come first, in
// catalogue order, then the sending services (sender_tls.hpp), whose EHLO reading is what
// every model agrees on.
struct sender_prediction {
  std::string_view id, short_name;
  bool tls_by_default = true;          // has a "TLS when offered" setting on by default
  tls_outcome outcome = tls_outcome::plaintext;          // default or opportunistic setting
  tls_outcome outcome_required = tls_outcome::fail;      // TLS required
  decided_at layer = decided_at::smtp;
  prediction_reason ehlo_reason = prediction_reason::sees_starttls;  // the client model's rule
  std::optional<reason_id> dialogue_reason;  // set when the dialogue, not the EHLO reply, decided `outcome`
  std::optional<reason_id> dialogue_reason_required;  // the same for `outcome_required` (when it alone was)
  bool assumed_handshake = false;  // tls predicted without a handshake seen (a paste that ends early)
  std::string tls_version, tls_cipher;  // when outcome is tls and a handshake was seen; cipher "": not predicted
};

// The one rule for "senders that lose TLS": every sender by its default outcome; senders
// whose TLS is off unless configured, and that therefore send in plaintext, are kept apart
// (they lose nothing to this server). lose() = plaintext + fail + hang. `unknown`: services
// whose behaviour here their vendor does not document; they are not counted as losing TLS.
struct sender_groups {
  std::vector<std::string_view> tls, plaintext, fail, hang, tls_off, unknown;
  std::vector<std::string_view> lose() const;
  bool any_lose() const { return !plaintext.empty() || !fail.empty() || !hang.empty(); }
};

// The first thing a PKIX check of this handshake's certificate finds (expired, not yet valid,
// untrusted chain, name mismatch, in that order; `with_name` false: not the name); nullopt:
// it passes.
std::optional<reason_id> pkix_problem(const tls_facts& t, bool with_name = true);

// A signature algorithm, as OpenSSL names it, that hashes with SHA-1 (sha1WithRSAEncryption,
// ecdsa-with-SHA1, dsaWithSHA1).
bool sha1_signature(std::string_view algorithm);

// `replays`: check tls-senders, each sender's own ClientHello (null: not run).
std::vector<sender_prediction> predict_senders(std::span<const client_prediction> ehlo, const dialogue_facts& dialogue,
                                               const tls_facts* tls = nullptr, const tls_senders_facts* replays = nullptr);
sender_groups group_senders(std::span<const sender_prediction> senders);
// Short names, for words ("Cisco ESA, Postfix and Go"), in catalogue order.
std::vector<std::string_view> short_names(std::span<const sender_prediction> senders, std::span<const std::string_view> ids);

// What Cisco ESA does, by its TLS setting (Destination Controls).
enum class esa_result : std::uint8_t {
  no_connection,     // nothing to deliver to
  plaintext,         // TLS off, or Preferred and STARTTLS not seen / not started
  tls,               // TLS, certificate not required to verify
  tls_verified,      // TLS, certificate verified (verify settings)
  deferred,          // Required: no TLS, the message waits in the queue
  verify_failed,     // a verify setting and the certificate fails it
  tls_failed,        // STARTTLS refused or the handshake failed
};
const char* to_string(esa_result r);
struct esa_decision {
  bool sees_starttls = false;
  esa_result result = esa_result::plaintext;
};

// DANE for one address of an MX host (check "dane").
struct dane_assessment {
  dane_status status = dane_status::insecure;
  std::vector<reason> reasons;
  std::vector<dane_sender_prediction> senders;  // one per dane_senders() row
};
// `replays` (check tls-senders, may be null): the chains the senders' own hellos were served,
// for the senders whose DANE check is given a different certificate than the probe's.
dane_assessment assess_dane(const dane_facts& d, const starttls_facts* session, tls_policy policy,
                            const tls_senders_facts* replays = nullptr);
// With check tls-enum's certificates (the server sends RSA or ECDSA by the ClientHello): a
// certificate that no DANE-EE record matches while another does (reason dane-key-not-covered).
void assess_dane_certificates(dane_assessment& a, const dane_facts& d, const tls_enum_facts& enumerated);

struct address_diagnosis {
  std::optional<lint_result> lint;            // the EHLO reply, from the live octets
  std::optional<lint_result> lint_after_tls;
  std::vector<sender_prediction> senders;
  sender_groups groups;
  std::vector<reason> reasons;                // in order of importance
  probe_outcome outcome = probe_outcome::unreachable;
  bool answered = false;                      // connected and greeted with 220
  esa_decision esa;                           // for the probe's --policy
  std::optional<mta_sts_host> mta_sts;        // an address of an MX host with check "mta-sts"
  std::optional<dane_assessment> dane;        // an address of an MX host with check "dane"
};

struct diagnosis {
  probe_outcome outcome = probe_outcome::dns_fails;
  std::vector<reason> reasons;           // domain reasons, then the verdict host's
  std::size_t verdict_host = no_index;   // which address the verdict is about
  std::vector<address_diagnosis> hosts;  // one per probe_facts::hosts entry
  sender_groups groups;                  // the verdict host's
  std::optional<mta_sts_assessment> mta_sts;  // check "mta-sts"
  int exit_code = 3;
};

address_diagnosis diagnose_address(const address_result& a, tls_policy policy);
// Check "tls-enum" (src/core/diagnosis/tls_enum.cpp): what the server accepts that RFCs
// deprecate or forbid; appended to `out`. They say what to fix; no outcome changes for them.
void tls_enum_reasons(const tls_enum_facts& f, std::vector<reason>& out);
// Check "mta-sts" (src/core/diagnosis/mta_sts.cpp): out.mta_sts, each MX address's
// mta_sts and reasons; the domain's reasons appended to `domain`.
void diagnose_mta_sts(const probe_facts& facts, diagnosis& out, std::vector<reason>& domain);
diagnosis diagnose(const probe_facts& facts);

// The ESA's decision for one address.
esa_decision esa_decides(const address_result& a, const address_diagnosis& d, tls_policy policy);

// The exit policy (docs/exit-codes.md): 0 TLS works for every sender and nothing needs
// fixing under the chosen policy; 1 senders lose TLS, STARTTLS or TLS fails, injection, or
// a certificate failure under a verify policy (the reason certificate-fails-policy, given by
// the diagnosis for that policy); 3 nothing reachable (DNS, connection, greeting).
int exit_code_of(probe_outcome outcome, std::span<const reason> reasons);

// What lint's paste showed, diagnosed with the same rule as a probe.
struct lint_diagnosis {
  std::vector<sender_prediction> senders;
  sender_groups groups;
};
lint_diagnosis diagnose_lint(const lint_result& r, const dialogue_facts& dialogue);

}  // namespace mxtls
