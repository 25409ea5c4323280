// DNS facts: what each lookup answered, typed, with the DNSSEC status of the answer.
// No prose: renderers word these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxtls {

// RFC 4035 §4.3 security status of an answer: `secure` (a chain of signatures from a
// trust anchor), `insecure` (proved unsigned), `bogus` (validation failed), and
// `indeterminate` when the resolver did not validate (no trust anchor, or validation off).
enum class dnssec_status : std::uint8_t { indeterminate, secure, insecure, bogus };
const char* to_string(dnssec_status s);

enum class rr_type : std::uint16_t { a = 1, mx = 15, txt = 16, aaaa = 28, dnskey = 48, tlsa = 52 };
const char* to_string(rr_type t);

enum class lookup_status : std::uint8_t {
  ok,        // NOERROR, with or without data
  nxdomain,  // the name does not exist
  servfail,
  refused,   // another non-zero rcode
  error,     // the lookup did not complete (libunbound error)
  timeout,
};
const char* to_string(lookup_status s);

struct dns_lookup {
  std::string name;
  rr_type type = rr_type::a;
  lookup_status status = lookup_status::ok;
  int rcode = 0;
  std::string detail;  // the resolver's own message for `error`
  dnssec_status dnssec = dnssec_status::indeterminate;
  std::string why_bogus;    // the validator's reason when `dnssec` is bogus (libunbound's why_bogus)
  std::size_t records = 0;  // how many records it answered
  std::string canonical_name;  // where a CNAME chain ended (empty: no CNAME)
};

// RFC 6698 §2.1: a TLSA record's fields.
struct tlsa_record {
  std::uint8_t usage = 0;     // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
  std::uint8_t selector = 0;  // 0 full certificate, 1 SubjectPublicKeyInfo
  std::uint8_t mtype = 0;     // 0 exact, 1 SHA2-256, 2 SHA2-512
  std::vector<std::uint8_t> data;
};

// Whether the resolver could validate at all: the DNSKEY of the trust anchor's (first) zone
// asked, like Postfix's dnssec_probe. A forwarder that strips DNSSEC (no signatures, no
// DNSKEY), or one that cannot reach the anchor's zone, makes it bogus or unanswered; then
// no answer can be secure and `insecure` or `bogus` answers say nothing about the zone.
struct dnssec_readiness {
  bool validating = false;                // a trust anchor is loaded
  std::string anchor_file;                // as loaded
  std::vector<std::string> anchor_zones;  // the zones the anchor file names
  dnssec_status anchor_status = dnssec_status::indeterminate;  // of the DNSKEY answer
  std::string why_bogus;
  std::string error;  // the lookup failed: "timeout", "rcode 2", "no DNSKEY records", libunbound's text
};

struct mx_record {
  int preference = 0;
  std::string host;
  dnssec_status dnssec = dnssec_status::indeterminate;
};

struct address_record {
  std::string host;
  rr_type type = rr_type::a;
  std::string address;
  dnssec_status dnssec = dnssec_status::indeterminate;
};

}  // namespace mxtls
