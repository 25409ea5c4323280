// `mxtls probe`: a live destination met the way a sending MTA meets it, diagnosed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mxtls/lint.hpp"
#include "mxtls/live_session.hpp"

namespace mxtls {

// Cisco ESA's TLS settings (Destination Controls).
enum class tls_policy { none, preferred, required, preferred_verify, required_verify };
const char* to_string(tls_policy p);
std::optional<tls_policy> parse_policy(const std::string& s);

struct probe_target {
  std::string text;      // as given
  std::string host;      // name or address, without brackets
  unsigned short port = 25;
  bool literal = false;  // an IP address: no DNS
};

// "[host]", "host:port", "[host]:port", "192.0.2.1", "[IPv6:2001:db8::1]", "2001:db8::1".
// Throws std::invalid_argument with a message for the user.
probe_target parse_probe_target(const std::string& text, unsigned short default_port);

struct host_report {
  std::string name;     // the host name the certificate must match
  std::string mx;       // the MX host this address belongs to (empty for an address target)
  std::string address;
  unsigned short port = 0;
  live_session_result session;
  std::optional<lint_result> lint;            // the EHLO reply, from the live octets
  std::optional<lint_result> lint_after_tls;
  bool starttls_after_tls = false;            // still offered inside TLS
  bool injection_checked = false;
  bool command_injection = false;
  std::string injection_error;
  bool reachable = false;
  bool senders_lose_tls = false;              // some senders will not use TLS
  std::vector<std::string> losers;            // their names
  std::string verdict;                        // one line
};

struct probe_options {
  session_options session;
  tls_policy policy = tls_policy::preferred;
  bool injection_test = true;
  std::string as_client;  // a client model id; empty: STARTTLS whenever the word appears
  std::string resolver;   // "ADDR" or "ADDR@PORT"; empty: the system's resolv.conf
  bool all_hosts = false; // probe every MX host and address, not only up to the first that answers
  std::chrono::milliseconds dns_timeout{10'000};
};

struct probe_report {
  std::string target;
  std::vector<std::string> dns;  // what DNS said, one line each ("MX 10 mx.example.com", ...)
  tls_policy policy = tls_policy::preferred;
  std::vector<host_report> hosts;
  std::string verdict;
  int exit_code = 0;  // 0 TLS fine for all senders, 1 some lose TLS or fail the policy, 3 unreachable
};

probe_report run_probe(const probe_target& target, const probe_options& options);

}  // namespace mxtls
