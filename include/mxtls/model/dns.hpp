// DNS facts: what each lookup answered, typed, with the DNSSEC status of the answer.
// No prose: renderers word these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxtls {

// RFC 4035 §4.3 security status of an answer. `indeterminate` until the resolver
// validates (no trust anchor configured).
enum class dnssec_status : std::uint8_t { indeterminate, secure, insecure, bogus };
const char* to_string(dnssec_status s);

enum class rr_type : std::uint16_t { a = 1, mx = 15, aaaa = 28 };
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
  std::size_t records = 0;  // how many records it answered
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
