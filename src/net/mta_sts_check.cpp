#include "mxtls/mta_sts_check.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "mxtls/mta_sts.hpp"
#include "mxtls/probe.hpp"

namespace mxtls {

using namespace asio::experimental::awaitable_operators;

mta_sts_cache::lookup mta_sts_cache::find_or_claim(const std::string& domain, const std::string& id, policy_fetch_result& out,
                                                   std::function<void()> wake,
                                                   std::chrono::steady_clock::duration claim_lifetime) {
  std::lock_guard lock(m_);
  auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = by_key_.try_emplace(domain + '\n' + id);
  entry& e = it->second;
  if (e.result) {
    ++hits_;
    out = *e.result;
    return lookup::hit;
  }
  if (fresh || now - e.claimed > claim_lifetime) {
    e.claimed = now;
    return lookup::fetch;
  }
  e.waiting.push_back(std::move(wake));
  return lookup::wait;
}

bool mta_sts_cache::find(const std::string& domain, const std::string& id, policy_fetch_result& out) const {
  std::lock_guard lock(m_);
  auto it = by_key_.find(domain + '\n' + id);
  if (it == by_key_.end() || !it->second.result) return false;
  ++hits_;
  out = *it->second.result;
  return true;
}

void mta_sts_cache::store(const std::string& domain, const std::string& id, const policy_fetch_result& r) {
  std::vector<std::function<void()>> waiting;
  {
    std::lock_guard lock(m_);
    entry& e = by_key_[domain + '\n' + id];
    if (!e.result) e.result = r;
    waiting.swap(e.waiting);
  }
  for (auto& w : waiting) w();
}

std::size_t mta_sts_cache::size() const {
  std::lock_guard lock(m_);
  std::size_t n = 0;
  for (const auto& [key, e] : by_key_) n += e.result.has_value();
  return n;
}

std::size_t mta_sts_cache::hits() const {
  std::lock_guard lock(m_);
  return hits_;
}

policy_fetcher& probe_context::fetcher(asio::io_context& io) {
  if (!fetcher_) fetcher_ = std::make_shared<policy_fetcher>(io);
  return *fetcher_;
}

mta_sts_cache& probe_context::sts_cache() {
  if (!sts_cache_) sts_cache_ = std::make_shared<mta_sts_cache>();
  return *sts_cache_;
}

namespace {

// The model's record of one lookup (the probe's MX and address lookups are recorded alike).
dns_lookup fact_of(const std::string& name, rr_type type, const dns_answer& a) {
  lookup_status st = !a.ok         ? (a.error == "timeout" ? lookup_status::timeout : lookup_status::error)
                     : a.nxdomain  ? lookup_status::nxdomain
                     : a.rcode == 0 ? lookup_status::ok
                     : a.rcode == 2 ? lookup_status::servfail
                                    : lookup_status::refused;
  return {.name = name,
          .type = type,
          .status = st,
          .rcode = a.rcode,
          .detail = a.ok ? std::string() : a.error,
          .dnssec = a.dnssec,
          .why_bogus = a.why_bogus,
          .records = a.records.size(),
          .canonical_name = a.canonical_name};
}

}  // namespace

asio::awaitable<mta_sts_facts> run_mta_sts_check(std::string domain, dns_resolver& res, policy_fetcher& fetcher,
                                                 mta_sts_check_options opt, mta_sts_cache* cache) {
  mta_sts_facts f;
  f.domain = domain;
  std::string txt_name = "_mta-sts." + domain, rpt_name = "_smtp._tls." + domain, host = "mta-sts." + domain;
  // One round: both TXT records and the policy host's addresses, asked together, so that the
  // fetch can start as soon as the TXT record says there is a policy (the address lookups are
  // wasted for a domain without one: two small queries).
  auto txt = res.lookup_txt(txt_name, opt.dns_timeout);
  auto rpt = res.lookup_txt(rpt_name, opt.dns_timeout);
  auto a4 = res.lookup(host, rr_a, opt.dns_timeout);
  auto a6 = res.lookup(host, rr_aaaa, opt.dns_timeout);
  auto all = std::move(txt) && std::move(rpt) && std::move(a4) && std::move(a6);
  auto [t, r, v4, v6] = co_await std::move(all);
  f.txt_lookup = fact_of(txt_name, rr_type::txt, t.answer);
  f.txt = t.texts;
  f.tls_rpt_lookup = fact_of(rpt_name, rr_type::txt, r.answer);
  f.tls_rpt = r.texts;
  f.policy_host_lookups.push_back(fact_of(host, rr_type::a, v4));
  f.policy_host_lookups.push_back(fact_of(host, rr_type::aaaa, v6));

  sts_txt parsed = parse_sts_txt(f.txt);
  if (parsed.status != txt_status::valid) co_return f;
  f.fetched = true;
  if (cache) {
    // RFC 8461 §5.1: a policy is cached by TXT id. A probe of this run fetching the same one
    // is waited for, at most as long as its fetch may take (then this probe fetches itself).
    // The wake-up is posted to this probe's executor: store() may run on another thread.
    auto ex = co_await asio::this_coro::executor;
    auto most = opt.fetch.connect_timeout + opt.fetch.timeout + std::chrono::seconds(1);
    auto woken = std::make_shared<asio::steady_timer>(ex, most);
    auto got = cache->find_or_claim(domain, parsed.id, f.fetch, [ex, woken] { asio::post(ex, [woken] { woken->cancel(); }); },
                                    most);
    if (got == mta_sts_cache::lookup::wait) {
      auto wait = woken->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      co_await std::move(wait);
      if (cache->find(domain, parsed.id, f.fetch)) got = mta_sts_cache::lookup::hit;
    }
    if (got == mta_sts_cache::lookup::hit) {
      f.cached = true;
      co_return f;
    }
  }
  std::vector<std::string> addresses;
  for (const auto* a : {&v4, &v6})
    if (a->ok && a->rcode == 0) addresses.insert(addresses.end(), a->records.begin(), a->records.end());
  auto fetch = fetcher.fetch(domain, std::move(addresses), opt.fetch);
  f.fetch = co_await std::move(fetch);
  if (cache) cache->store(domain, parsed.id, f.fetch);
  co_return f;
}

asio::awaitable<std::shared_ptr<mta_sts_pending>> start_mta_sts_check(std::string domain, const probe_options& opt,
                                                                      probe_context& ctx) {
  if (!opt.checks.has(check_id::mta_sts)) co_return nullptr;
  auto ex = co_await asio::this_coro::executor;
  auto& io = static_cast<asio::io_context&>(asio::query(ex, asio::execution::context));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  mta_sts_check_options o{.dns_timeout = opt.dns_timeout, .fetch = {}};
  o.fetch.ca_file = opt.session.ca_file;
  o.fetch.ca_dir = opt.session.ca_dir;
  mta_sts_cache* cache = opt.sts_cache ? opt.sts_cache.get() : &ctx.sts_cache();
  auto p = std::make_shared<mta_sts_pending>(ex);
  asio::co_spawn(ex, run_mta_sts_check(std::move(domain), ctx.resolver(), ctx.fetcher(io), std::move(o), cache),
                 [p](std::exception_ptr e, mta_sts_facts f) {
                   p->failure = e;
                   p->facts = std::move(f);
                   p->finished = true;
                   p->done.cancel();
                 });
  co_return p;
}

asio::awaitable<void> finish_mta_sts_check(std::shared_ptr<mta_sts_pending> p, probe_facts& facts, bool abandon) {
  if (!p) co_return;
  if (!p->finished && !abandon) co_await p->done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  if (!p->finished) co_return;
  if (p->failure) std::rethrow_exception(p->failure);
  facts.mta_sts = std::move(p->facts);
}

}  // namespace mxtls
