// The MTA-STS policy fetch (RFC 8461 §3.3) over HTTPS with libcurl, driven from the Asio
// event loop through libcurl's multi socket interface: many fetches at once on one thread.
// The policy host's addresses come from the caller (mxtls's own resolver, with its DNSSEC
// view) and are pinned with CURLOPT_RESOLVE; libcurl resolves nothing itself.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "mxtls/model/mta_sts.hpp"  // fetch_error, policy_fetch_result

namespace mxtls {

struct policy_fetch_options {
  std::string ca_file;                        // PEM bundle (--ca FILE)
  std::string ca_dir;                         // hashed directory (--ca DIR, c_rehash / openssl rehash)
                                              // both "": the system's store; else they replace it
  std::chrono::milliseconds connect_timeout{10000};
  // RFC 8461 §3.3: the fetch SHOULD time out after one minute.
  std::chrono::milliseconds timeout{60000};
  // Octets of the body read at most (RFC 8461 §3.3: 64 KiB SHOULD be the limit).
  std::size_t max_body_octets = 64 * 1024;
  unsigned short port = 443;                  // RFC 8461 §3.3: port 443; other values for tests only
};

// libcurl's version and TLS library ("7.88.1 (OpenSSL/3.0.19)"), or why it cannot be used;
// this opens libcurl, which the policy fetch otherwise does only when it first runs.
std::string libcurl_version_text();

// "text/plain" with or without parameters, any case.
bool is_text_plain(std::string_view content_type);

class policy_fetcher {
 public:
  explicit policy_fetcher(asio::io_context& io);
  ~policy_fetcher();
  policy_fetcher(const policy_fetcher&) = delete;
  policy_fetcher& operator=(const policy_fetcher&) = delete;

  // https://mta-sts.<domain>/.well-known/mta-sts.txt from `addresses` (IPv4 or IPv6 text).
  asio::awaitable<policy_fetch_result> fetch(std::string domain, std::vector<std::string> addresses,
                                             policy_fetch_options options);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mxtls
