// What the domain-scope check "mta-sts" records (RFC 8461, RFC 8460 §3): the `_mta-sts` and
// `_smtp._tls` TXT answers as given, the policy host's address lookups and the policy fetch.
// Facts only: core parses and judges them (mta_sts.hpp, mta_sts_eval.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mxtls/model/dns.hpp"

namespace mxtls {

// Why a fetch gave no policy body to parse.
enum class fetch_error : std::uint8_t {
  none,
  no_address,    // the policy host has no address (the caller's DNS said so)
  connect,       // TCP connection failed or refused
  tls,           // the TLS handshake failed
  tls_verify,    // the certificate does not verify for mta-sts.<domain> (PKIX, RFC 8461 §3.3)
  timeout,
  http_status,   // a status other than 200
  redirect,      // a 3xx: RFC 8461 §3.3 says redirects MUST NOT be followed
  content_type,  // not text/plain (RFC 8461 §3.2)
  too_large,     // body over max_body_octets
  other,
};
const char* to_string(fetch_error e);

// One HTTPS fetch of https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3).
struct policy_fetch_result {
  std::string url;
  std::string host;                 // mta-sts.<domain>
  std::vector<std::string> addresses;  // as pinned
  std::string address_used;         // the address libcurl connected to
  long http_status = 0;             // 0: no HTTP answer
  std::string content_type;         // as sent
  std::string location;             // of a redirect
  std::string body;                 // at most max_body_octets
  fetch_error error = fetch_error::none;
  std::string detail;               // libcurl's message
  std::int64_t elapsed_ms = 0;
  bool ok() const { return error == fetch_error::none; }
};

// Check "mta-sts": one per domain target.
struct mta_sts_facts {
  std::string domain;
  dns_lookup txt_lookup;              // _mta-sts.<domain> TXT
  std::vector<std::string> txt;       // its records, each record's strings joined
  dns_lookup tls_rpt_lookup;          // _smtp._tls.<domain> TXT
  std::vector<std::string> tls_rpt;
  std::vector<dns_lookup> policy_host_lookups;  // mta-sts.<domain> A and AAAA
  bool fetched = false;               // a valid v=STSv1 record was found, so the policy was fetched
  policy_fetch_result fetch;
  // The fetch came from this run's cache: the same domain with the same TXT id was fetched
  // before by this run (a scan), as a sender caches a policy by id (RFC 8461 §5.1).
  bool cached = false;
};

}  // namespace mxtls
