// The domain-scope check "mta-sts" on the engine's loop: the `_mta-sts` and `_smtp._tls` TXT
// records and the policy host's addresses through mxtls's resolver (one round of lookups, side
// by side), then the policy fetch with those addresses pinned (policy_fetcher). A run (a scan)
// keeps each domain's fetched policy by TXT id, as a sender caches it (RFC 8461 §5.1).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "mxtls/dns.hpp"
#include "mxtls/model/mta_sts.hpp"
#include "mxtls/model/probe_facts.hpp"
#include "mxtls/mta_sts_fetch.hpp"

namespace mxtls {

// Fetched policies of one run, by domain and TXT id. Shared by the probes of every thread.
// A policy is fetched once per key: the first probe to ask claims the fetch, the others
// asking while it runs wait for it (find_or_claim), so a list naming a domain many times
// makes one HTTPS request however many probes run at once.
class mta_sts_cache {
 public:
  enum class lookup : std::uint8_t { hit, fetch, wait };
  // (domain, id) fetched: copied to `out`, hit. Not yet asked, or claimed longer than
  // `claim_lifetime` ago (its probe was abandoned): the caller fetches and must store(), fetch.
  // Being fetched: `wake` is kept and called (from the storing thread) once stored, wait.
  lookup find_or_claim(const std::string& domain, const std::string& id, policy_fetch_result& out,
                       std::function<void()> wake, std::chrono::steady_clock::duration claim_lifetime);
  // The fetch made for (domain, id), if any.
  bool find(const std::string& domain, const std::string& id, policy_fetch_result& out) const;
  // Keeps the first result for a key; wakes the probes waiting for it.
  void store(const std::string& domain, const std::string& id, const policy_fetch_result& r);
  std::size_t size() const;  // policies stored
  std::size_t hits() const;  // probes answered from the cache

 private:
  struct entry {
    std::optional<policy_fetch_result> result;
    std::chrono::steady_clock::time_point claimed;
    std::vector<std::function<void()>> waiting;
  };
  mutable std::mutex m_;
  std::map<std::string, entry> by_key_;
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
