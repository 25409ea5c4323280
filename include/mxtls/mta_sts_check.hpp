// The domain-scope check "mta-sts" on the engine's loop: the `_mta-sts` and `_smtp._tls` TXT
// records and the policy host's addresses through mxtls's resolver (one round of lookups, side
// by side), then the policy fetch with those addresses pinned (policy_fetcher). A run (a scan)
// keeps each domain's fetched policy by TXT id, as a sender caches it (RFC 8461 §5.1).
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <map>
#include <mutex>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "mxtls/dns.hpp"
#include "mxtls/model/mta_sts.hpp"
#include "mxtls/model/probe_facts.hpp"
#include "mxtls/mta_sts_fetch.hpp"

namespace mxtls {

// Fetched policies of one run, by domain and TXT id. Shared by the probes of every thread.
class mta_sts_cache {
 public:
  // The fetch made for (domain, id), if any.
  bool find(const std::string& domain, const std::string& id, policy_fetch_result& out) const;
  void store(const std::string& domain, const std::string& id, const policy_fetch_result& r);
  std::size_t size() const;
  std::size_t hits() const;

 private:
  mutable std::mutex m_;
  std::map<std::string, policy_fetch_result> by_key_;
  mutable std::size_t hits_ = 0;
};

struct mta_sts_check_options {
  std::chrono::milliseconds dns_timeout{10'000};
  policy_fetch_options fetch;
};

// The check for `domain` (an A-label name, no final dot). `cache`: null for none.
asio::awaitable<mta_sts_facts> run_mta_sts_check(std::string domain, dns_resolver& resolver, policy_fetcher& fetcher,
                                                 mta_sts_check_options options, mta_sts_cache* cache);

struct probe_options;
class probe_context;

// The check as a probe runs it: started at once on the probe's executor (beside the MX
// lookup), its facts taken when the probe has done the rest.
struct mta_sts_pending {
  explicit mta_sts_pending(const asio::any_io_executor& ex) : done(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;  // cancelled when the check ends
  bool finished = false;
  mta_sts_facts facts;
  std::exception_ptr failure;
};

// Null when the check is off (an address target, --skip mta-sts).
asio::awaitable<std::shared_ptr<mta_sts_pending>> start_mta_sts_check(std::string domain, const probe_options& options,
                                                                      probe_context& context);
// Waits for the check (unless `abandon`: a stopped probe takes what has ended) and puts its
// facts in `facts.mta_sts`. Rethrows what the check threw.
asio::awaitable<void> finish_mta_sts_check(std::shared_ptr<mta_sts_pending> pending, probe_facts& facts, bool abandon);

}  // namespace mxtls
