// DANE decisions (RFC 7672): from an MX host's TLSA facts and a handshake's DANE facts to a
// status per address, reasons with stable ids, and what each DANE-aware sender does. Pure
// functions (src/core/dane.cpp); the renderers word them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/model/checks.hpp"
#include "mxtls/model/dane.hpp"

namespace mxtls {

// The JSON "dane.status" of a host (docs/probe-json.md).
enum class dane_status : std::uint8_t {
  verified,       // usable records, and the served chain matched one (OpenSSL's DANE verification)
  mismatch,       // usable records, a handshake, and no record matched
  no_tlsa,        // addresses secure; no TLSA records, provably (secure NXDOMAIN / NODATA)
  insecure,       // the addresses or the TLSA answer are not secure: DANE does not apply
  bogus,          // the MX, an address or the TLSA answer failed validation
  unusable,       // TLSA records, none usable (RFC 7672 §3.1: PKIX-TA/EE, unknown parameters)
  lookup_failed,  // the TLSA lookup did not complete (SERVFAIL, timeout)
  no_tls,         // usable records, but no handshake to verify (STARTTLS not offered or failed)
};
const char* to_string(dane_status s);

dane_status dane_status_of(const dane_facts& d, const starttls_facts* session);

// What a sender that applies DANE does with the destination.
enum class dane_outcome : std::uint8_t {
  dane_verified,  // delivers over TLS authenticated by the TLSA records
  not_applied,    // DANE does not apply: delivers as it would without DANE (the other layers decide)
  encrypt,        // TLS required, the certificate not authenticated (Postfix with only unusable records)
  defer,          // does not deliver to this host now (tries the next MX host, then the queue)
  unknown,        // its documentation found does not say
};
const char* to_string(dane_outcome o);

struct dane_sender {
  std::string_view id;       // "postfix-dane"
  std::string_view name;     // "Postfix (smtp_tls_security_level = dane)"
  std::string_view source;   // where the behaviour is documented
  // Indexed by dane_status.
  std::array<dane_outcome, 8> outcome;
  // Where this sender's DANE check departs from OpenSSL's, which the status comes from: the
  // status it would reach instead indexes `outcome` (assess_dane). `observed` says where
  // each departure was seen.
  bool every_record = false;      // any usable record that matches authenticates: no RFC 7671 §9 preference for the strongest digest
  bool expanded_name_only = false;  // TLSA at a CNAME's expanded name only: no fallback to the original name (RFC 7672 §2.2.3)
  std::string_view served_by;     // tls_profile whose replayed handshake is what this sender is served (its certificate choice)
  std::string_view observed;
};
std::span<const dane_sender> dane_senders();

// The served leaf's "3 1 1" data (SHA2-256 of its SubjectPublicKeyInfo) among a chain's
// digests, hex; "" when the chain's digests do not hold it.
std::string leaf_key_digest(std::span<const chain_digest> chain);

struct dane_sender_prediction {
  std::string_view id;
  dane_outcome outcome = dane_outcome::unknown;
  // When the sender reaches a status other than the probe's (a departure above): that status,
  // and why, with the evidence (the name it looked at, the record or key it was served).
  std::optional<dane_status> status;
  std::string why;
};

}  // namespace mxtls

namespace mxtls {

// `mxtls tlsa`: records from a chain, and a record set checked against a chain.

// "3 1 1 HEX" or a zone line ("_25._tcp.mx.example. 300 IN TLSA 3 1 1 HEX"); the hex may be
// split by spaces. nullopt with `error` set when it is neither.
std::optional<tlsa_record> parse_tlsa_text(std::string_view text, std::string& error);
std::string tlsa_text(const tlsa_record& r);  // "3 1 1 hex"

// What to publish for a served chain: 3 1 1 for the leaf's key, 2 1 1 for each issuer sent.
std::vector<tlsa_record> records_to_publish(std::span<const chain_digest> chain);

enum class tlsa_match : std::uint8_t {
  matches,          // usage 3 at the leaf, usage 2 at an issuer
  no_match,
  unusable,         // RFC 7672 §3.1 (usability says why)
  weaker_digest,    // a SHA2-256 record where SHA2-512 records of its usage and selector exist (RFC 7671 §9): not used
};
const char* to_string(tlsa_match m);

struct tlsa_check {
  tlsa_record record;
  tlsa_usability usability = tlsa_usability::usable;
  tlsa_match match = tlsa_match::no_match;
  int depth = -1;  // where it matched
};

// Each record against the chain's digests, as a DANE client reads the set: usage 3 at the
// leaf (key or certificate), usage 2 at a certificate after the leaf; matching type 0 (the
// whole certificate or key) is not judged offline (no_match unless a digest type is used).
std::vector<tlsa_check> check_records(std::span<const tlsa_record> records, std::span<const chain_digest> chain);

}  // namespace mxtls
