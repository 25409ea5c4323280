// What a probe found, as facts: a domain-level part (the MX lookup), an MX-host part (each
// MX host and its addresses) and an address part (the checks run against each address).
// Decisions about these facts live in core/diagnosis; the words in the renderers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "mxtls/model/checks.hpp"
#include "mxtls/model/dane.hpp"
#include "mxtls/model/dns.hpp"
#include "mxtls/model/mta_sts.hpp"

namespace mxtls {

// Cisco ESA's TLS settings (Destination Controls), which the probe's verdict is given for.
// dane-opportunistic / dane-mandatory: the ESA's DANE settings (AsyncOS 12+); their TLS part
// is taken as preferred / required, the DANE part is decided per the dane layer.
enum class tls_policy : std::uint8_t {
  none, preferred, required, preferred_verify, required_verify, dane_opportunistic, dane_mandatory
};
const char* to_string(tls_policy p);
bool verifies(tls_policy p);  // preferred-verify, required-verify
bool requires_tls(tls_policy p);

inline constexpr std::size_t no_index = std::numeric_limits<std::size_t>::max();

struct address_result {
  std::size_t mx_host = no_index;  // index into probe_facts::mx_hosts; no_index: an address target
  std::string address;
  unsigned short port = 25;
  std::string name;  // the name the certificate must match; empty: not checked
  std::vector<check_result> checks;  // one per check run, in registry order

  template <class T>
  const T* get() const {
    for (const auto& c : checks)
      if (auto* p = std::get_if<T>(&c)) return p;
    return nullptr;
  }
};

struct mx_host_facts {
  std::string name;
  int preference = 0;
  bool implicit = false;  // no MX records: the domain itself (RFC 5321 §5.1)
  std::vector<address_record> addresses;
  std::optional<dane_facts> dane;  // check "dane": its TLSA lookup (absent when not run)
};

struct probe_facts {
  std::string target;      // as given
  std::string host;        // the domain or address probed
  bool literal = false;    // an address target: no DNS
  unsigned short port = 25;
  tls_policy policy = tls_policy::preferred;
  std::string as_client;   // --as: the client model that decided whether to send STARTTLS
  check_set checks;
  dnssec_readiness dnssec;          // whether answers could be validated (a DNS target only)
  std::vector<dns_lookup> lookups;  // every lookup, in the order made
  std::vector<mx_record> mx;        // as answered, sorted by preference
  std::vector<mx_host_facts> mx_hosts;
  std::vector<address_result> hosts;  // each address probed, in order
  std::optional<mta_sts_facts> mta_sts;  // check "mta-sts" (a domain target)
  bool interrupted = false;           // stopped (SIGINT) before it ended
};

}  // namespace mxtls
