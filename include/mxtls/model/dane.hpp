// DANE for SMTP (RFC 7672) as facts: the TLSA records of an MX host with what makes each
// usable, and what OpenSSL's DANE verification of a handshake gave. Decisions (the status
// verified / mismatch / ..., the reasons, each sender's behaviour) live in core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mxtls/model/dns.hpp"

namespace mxtls {

// RFC 7672 §3.1: which records an SMTP client uses.
enum class tlsa_usability : std::uint8_t {
  usable,            // DANE-TA(2) or DANE-EE(3), known selector and matching type, right length
  pkix_usage,        // PKIX-TA(0) or PKIX-EE(1): RFC 7672 §3.1.3, SMTP clients ignore them
  unknown_usage,     // above 3
  unknown_selector,  // above 1
  unknown_mtype,     // above 2
  bad_length,        // a SHA2-256 digest not 32 octets, SHA2-512 not 64, or empty data
};
const char* to_string(tlsa_usability u);

// The rules of RFC 6698 §2.1 and RFC 7672 §3.1 for one record.
tlsa_usability usability_of(const tlsa_record& r);

struct tlsa_facts {
  tlsa_record record;
  tlsa_usability usability = tlsa_usability::usable;
};

// What one certificate of the served chain would match: selector 0 (the certificate) or
// 1 (its SubjectPublicKeyInfo), matching type 1 (SHA2-256) or 2 (SHA2-512).
struct chain_digest {
  int depth = 0;  // 0: the leaf
  std::uint8_t selector = 0, mtype = 0;
  std::string hex;
};

// What the TLS handshake needs for DANE: the records to hand to OpenSSL.
struct dane_request {
  std::string base_domain;                // TLSA base domain (RFC 7672 §2.2.3), also the SNI (§8.1)
  std::vector<std::string> other_names;   // further reference identifiers for DANE-TA (§3.2.2)
  std::vector<tlsa_record> records;       // usable records only
  bool digests = false;                   // also record the served chain's digests
};

// The DANE part of one handshake (per address).
struct dane_tls_facts {
  bool enabled = false;   // records were handed to OpenSSL (SSL_dane_enable, SSL_dane_tlsa_add)
  std::string sni;        // the name sent
  std::size_t records_added = 0;  // accepted by SSL_dane_tlsa_add
  bool verified = false;  // OpenSSL verified the chain against the records
  int verify_code = 0;    // X509_V_ERR_* of the DANE verification
  std::string verify_error;
  int matched_depth = -1;  // the chain depth the matching record matched (SSL_get0_dane_tlsa)
  std::optional<tlsa_record> matched;
  std::vector<chain_digest> chain_digests;  // when asked (dane_request::digests), DANE failed, or a GnuTLS replay
};

// check "dane" (MX-host scope): the TLSA lookup of one MX host, RFC 7672 §2.2.
struct dane_facts {
  std::string host;                     // the MX host name
  dnssec_status address_dnssec = dnssec_status::indeterminate;  // weakest of its A/AAAA answers
  // The domain's MX answer that named this host failed validation: a DANE sender has no MX
  // host to use and treats the lookup as a temporary failure (RFC 7672 §2.2.1).
  bool mx_bogus = false;
  bool looked_up = false;               // TLSA asked (only where the addresses are secure)
  std::string base_domain;              // the TLSA base domain used (the CNAME target or the host)
  std::string tlsa_name;                // _PORT._tcp.<base domain>
  // The host is an alias whose expanded name securely has no TLSA records, so the original
  // name became the base domain (RFC 7672 §2.2.3): that expanded name; empty otherwise. A
  // sender that looks at the expanded name only finds no records.
  std::string expanded_without_tlsa;
  dns_lookup lookup;                    // the TLSA lookup that decided (its status, DNSSEC, why_bogus)
  std::vector<tlsa_facts> records;
  std::size_t malformed = 0;            // rdata too short to hold usage, selector and mtype
};

}  // namespace mxtls
