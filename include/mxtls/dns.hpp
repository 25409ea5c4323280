// DNS through libunbound's asynchronous API, on the Asio event loop: MX, A and AAAA
// lookups with a timeout each. DNSSEC status is kept for DANE later.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

namespace mxtls {

struct dns_answer {
  bool ok = false;         // the lookup completed (any rcode)
  bool nxdomain = false;
  bool has_data = false;
  bool secure = false, bogus = false;
  int rcode = 0;
  std::string error;       // libunbound's message, or "timeout"
  std::vector<std::string> records;  // MX: "PREF HOST"; A/AAAA: addresses
};

class dns_resolver {
 public:
  // `forwarder`: "ADDR" or "ADDR@PORT"; empty: the system's resolv.conf.
  explicit dns_resolver(const std::string& forwarder);
  ~dns_resolver();
  dns_resolver(const dns_resolver&) = delete;
  dns_resolver& operator=(const dns_resolver&) = delete;

  asio::awaitable<dns_answer> lookup(std::string name, int rrtype, std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

inline constexpr int rr_a = 1, rr_mx = 15, rr_aaaa = 28;

}  // namespace mxtls
