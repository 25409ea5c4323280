// `mxtls probe`: a live destination met the way a sending MTA meets it. The engine runs the
// checks of the registry (model/checks.hpp) and records facts (model/probe_facts.hpp);
// core decides (diagnosis.hpp); the renderers word it (probe_report.hpp).
#pragma once

#include <cstddef>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "mxtls/diagnosis.hpp"
#include "mxtls/dns.hpp"
#include "mxtls/live_session.hpp"
#include "mxtls/model/probe_facts.hpp"

namespace mxtls {

class policy_fetcher;  // mta_sts_fetch.hpp
class mta_sts_cache;   // mta_sts_check.hpp

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

struct probe_options {
  session_options session;
  tls_policy policy = tls_policy::preferred;
  check_set checks = check_set::defaults();
  std::string as_client;  // a client model id; empty: STARTTLS whenever the word appears
  std::string resolver;   // "ADDR" or "ADDR@PORT"; empty: the system's resolv.conf
  // DNSSEC trust anchor (unbound's trust-anchor-file format). Empty: Debian's root key when
  // the system's resolver is used; with `resolver` set, no validation unless an anchor is
  // given (a named resolver is often a test or split-horizon server that cannot answer
  // for the root, and every lookup would wait for the chain of trust).
  std::string trust_anchor;
  bool dnssec = true;     // false: no validation at all (--no-dnssec)
  bool all_hosts = false; // probe every MX host and address, not only up to the first that answers
  std::chrono::milliseconds dns_timeout{10'000};
  tls_enum_limits tls_enum;  // check "tls-enum"
  // Check "mta-sts": the policies fetched by this run, by domain and TXT id (a scan shares
  // one among its threads); null: each probe context keeps its own.
  std::shared_ptr<mta_sts_cache> sts_cache;
  // run_probe(): the process ends soon after this probe (mxtls probe), so its resolver is
  // left to the process's exit instead of being torn down (libunbound's ub_ctx_delete stops
  // and joins its worker thread: about 1 ms a probe waited for after its report).
  bool process_ends_after = false;
};

// A probe's result: the facts, and what core decided about them.
struct probe_report {
  probe_facts facts;
  mxtls::diagnosis diagnosis;
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
  // null: one is made here, on a thread of its own, while the first DNS lookups run (an
  // OpenSSL 3 context with its CA store costs milliseconds of CPU, which a single probe
  // would otherwise wait for before its first query).
  explicit probe_context(const probe_options& options, std::shared_ptr<asio::ssl::context> tls = nullptr);
  ~probe_context();
  // Throws std::invalid_argument for a resolver libunbound does not accept.
  dns_resolver& resolver();
  // Waits for the context when it is still being made. Throws std::invalid_argument when
  // the CA store cannot be loaded.
  const std::shared_ptr<asio::ssl::context>& tls();
  // True once tls() would not wait.
  bool tls_ready() const;
  // The resolver (if one was made and no lookup of it is in flight) outlives this context:
  // nothing deletes it, and the process's exit ends its worker thread. For a process that
  // exits next.
  void leave_resolver_to_exit();
  connection_gate* gate = nullptr;
  // Check "mta-sts": the HTTPS fetcher on this context's io_context (made on first use) and
  // this context's policy cache (used when probe_options::sts_cache is null). Defined in
  // src/net/mta_sts_check.cpp.
  policy_fetcher& fetcher(asio::io_context& io);
  mta_sts_cache& sts_cache();

 private:
  std::shared_ptr<policy_fetcher> fetcher_;
  std::shared_ptr<mta_sts_cache> sts_cache_;
  resolver_options resolver_options_;
  std::unique_ptr<dns_resolver> resolver_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::future<std::shared_ptr<asio::ssl::context>> tls_pending_;
};

// One destination on the caller's io_context (mxtls scan runs thousands at once).
asio::awaitable<probe_report> probe(probe_target target, const probe_options& options, probe_context& context);

// One destination on an io_context of its own (mxtls probe, mxtls demo). With `stop`, a
// SIGINT (or SIGTERM) ends every wait: the report holds what was seen so far and says so.
probe_report run_probe(const probe_target& target, const probe_options& options, bool stop_on_signal = false);

}  // namespace mxtls
