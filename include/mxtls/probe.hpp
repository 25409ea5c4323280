// `mxtls probe`: a live destination met the way a sending MTA meets it, diagnosed.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "mxtls/dns.hpp"
#include "mxtls/lint.hpp"
#include "mxtls/live_session.hpp"

namespace mxtls {

// What a destination comes to, one word for counting (mxtls scan) and for JSON "outcome".
enum class probe_outcome {
  ok,                // TLS works for every sender, the certificate verifies and matches
  certificate,       // TLS works for every sender; the certificate does not verify, match, or has expired
  senders_lose_tls,  // STARTTLS works, but some senders will not use it (the seed case)
  no_starttls,       // STARTTLS not offered, or EHLO refused
  starttls_fails,    // STARTTLS refused or unanswered, or the handshake fails
  ehlo_fails,        // no complete EHLO reply
  unreachable,       // no connection, no banner, 421 or another non-220 greeting
  dns_fails,         // NXDOMAIN, null MX, no address, lookup failure or timeout
};
const char* to_string(probe_outcome o);
inline constexpr probe_outcome all_probe_outcomes[] = {
    probe_outcome::ok,          probe_outcome::certificate,    probe_outcome::senders_lose_tls,
    probe_outcome::no_starttls, probe_outcome::starttls_fails, probe_outcome::ehlo_fails,
    probe_outcome::unreachable, probe_outcome::dns_fails};

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
  probe_outcome outcome = probe_outcome::unreachable;
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
  probe_outcome outcome = probe_outcome::dns_fails;  // the chosen host's, or dns_fails without hosts
  int exit_code = 0;  // 0 TLS fine for all senders, 1 some lose TLS or fail the policy, 3 unreachable
};

// The key connection_gate counts an address under: one spelling per machine (IPv6 in its
// canonical text, an IPv4-mapped IPv6 address as the IPv4 one).
std::string gate_key(const asio::ip::address& a);

// At most `limit` connections at once to one address (mxtls scan --per-host-limit); 0: no
// limit. Waiters are served first come, first served. Shared by the scanners of several
// threads: a place handed to a waiter is announced on the waiter's own executor.
class connection_gate {
 public:
  explicit connection_gate(std::size_t limit) : limit_(limit) {}
  asio::awaitable<void> acquire(const std::string& key);
  void release(const std::string& key);
  std::size_t waiting() const;
  std::size_t peak() const;  // most places held at once for one address

 private:
  struct waiter {
    asio::steady_timer* timer;
    asio::any_io_executor executor;
  };
  struct slot {
    std::size_t holders = 0;
    std::deque<waiter> waiters;
  };
  std::size_t limit_;
  mutable std::mutex m_;
  std::size_t waiting_ = 0;
  std::size_t peak_ = 0;
  std::map<std::string, slot> slots_;
};

// What every probe on one io_context shares: the client TLS context (CA store loaded
// once), the resolver (made on first use), the connection gate.
class probe_context {
 public:
  // `tls`: a client context to share (many probe contexts on many threads may use one);
  // null: one is made here, looking certificates up as needed. Throws
  // std::invalid_argument when the CA store cannot be loaded.
  explicit probe_context(const probe_options& options, std::shared_ptr<asio::ssl::context> tls = nullptr);
  // Throws std::invalid_argument for a resolver libunbound does not accept.
  dns_resolver& resolver();
  connection_gate* gate = nullptr;

 private:
  std::string forwarder_;
  std::unique_ptr<dns_resolver> resolver_;
  std::shared_ptr<asio::ssl::context> tls_;
  friend asio::awaitable<probe_report> probe(probe_target, const probe_options&, probe_context&);
};

// One destination on the caller's io_context (mxtls scan runs thousands at once).
asio::awaitable<probe_report> probe(probe_target target, const probe_options& options, probe_context& context);

// One destination on an io_context of its own (mxtls probe, mxtls demo).
probe_report run_probe(const probe_target& target, const probe_options& options);

}  // namespace mxtls
