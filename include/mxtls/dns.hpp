// DNS through libunbound's asynchronous API, on the Asio event loop: MX, A, AAAA, TXT and
// TLSA lookups with a timeout each, validated with DNSSEC against a trust anchor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "mxtls/model/dns.hpp"

namespace mxtls {

// The root zone's trust anchor as Debian's dns-root-data installs it (DS/DNSKEY lines).
inline constexpr const char* default_trust_anchor_file = "/usr/share/dns/root.key";

struct resolver_options {
  // "ADDR" or "ADDR@PORT"; empty: the system's resolv.conf.
  std::string forwarder;
  // A trust anchor in unbound's trust-anchor-file format (zone-file DS or DNSKEY lines).
  // Empty: default_trust_anchor_file when it exists. Every zone it names is resolvable even
  // under a special-use name (RFC 6761: libunbound answers NXDOMAIN for `test.` and others
  // unless told otherwise) and, with a forwarder, is asked of the forwarder directly as a
  // stub zone (the forwarder may be the zone's authoritative server).
  std::string trust_anchor_file;
  bool validate = true;  // false: no DNSSEC validation, every answer indeterminate
};

struct dns_answer {
  bool ok = false;         // the lookup completed (any rcode)
  bool nxdomain = false;
  bool has_data = false;
  bool secure = false, bogus = false;
  dnssec_status dnssec = dnssec_status::indeterminate;
  std::string why_bogus;   // libunbound's reason when bogus
  int rcode = 0;
  std::string error;       // libunbound's message, or "timeout"
  std::string canonical_name;  // the name the answer is for, when a CNAME chain led there
  // MX: "PREF HOST"; A/AAAA: addresses; TXT: each record's character-strings concatenated
  // (RFC 7208 §3.3, RFC 8461 §3.1); TLSA: "USAGE SELECTOR MTYPE HEX"; others: hex rdata.
  std::vector<std::string> records;
  std::vector<std::vector<std::uint8_t>> rdata;  // each record's rdata as received
};

struct txt_answer {
  dns_answer answer;
  std::vector<std::string> texts;  // each record's strings concatenated
};

struct tlsa_answer {
  dns_answer answer;
  std::vector<tlsa_record> records;  // well-formed records
  std::size_t malformed = 0;         // rdata shorter than usage, selector, mtype and one octet
};

// libunbound's version ("1.17.1"), or why it cannot be used; this opens libunbound, which
// otherwise the first dns_resolver made does.
std::string libunbound_version_text();

class dns_resolver {
 public:
  // Throws std::invalid_argument for a forwarder libunbound does not accept or a trust
  // anchor file it cannot read.
  explicit dns_resolver(const resolver_options& options);
  // A forwarder only, no validation (answers indeterminate).
  explicit dns_resolver(const std::string& forwarder);
  ~dns_resolver();
  dns_resolver(const dns_resolver&) = delete;
  dns_resolver& operator=(const dns_resolver&) = delete;

  asio::awaitable<dns_answer> lookup(std::string name, int rrtype, std::chrono::milliseconds timeout);
  asio::awaitable<txt_answer> lookup_txt(std::string name, std::chrono::milliseconds timeout);
  asio::awaitable<tlsa_answer> lookup_tlsa(std::string name, std::chrono::milliseconds timeout);
  // The DNSKEY of the anchor's first zone, asked once (later calls return the first result).
  asio::awaitable<dnssec_readiness> readiness(std::chrono::milliseconds timeout);

  bool validating() const;
  // No lookup is waiting for libunbound and none was given up (ub_cancel): its thread is idle.
  bool idle() const;
  const std::vector<std::string>& anchor_zones() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The zones named by the DS/DNSKEY lines of a trust anchor file (owner names, with a final
// dot, lower case), in file order without repeats. Empty when the file cannot be read.
std::vector<std::string> trust_anchor_zones(const std::string& file);

// TLSA rdata (RFC 6698 §2.1) to fields; false when shorter than 4 octets.
bool parse_tlsa(const std::vector<std::uint8_t>& rdata, tlsa_record& out);

inline constexpr int rr_a = 1, rr_mx = 15, rr_txt = 16, rr_aaaa = 28, rr_dnskey = 48, rr_tlsa = 52;

}  // namespace mxtls
