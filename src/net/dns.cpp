#include "mxtls/dns.hpp"

#include <arpa/inet.h>
#include <unbound.h>

#include <stdexcept>

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace mxtls {

using asio::use_awaitable;
using asio::experimental::as_tuple;

// Many lookups may wait at once (mxtls scan): one pump reads libunbound's descriptor and
// runs ub_process(), which calls each finished lookup's callback; the callback wakes its
// waiter by cancelling the waiter's timer.
struct dns_resolver::impl {
  ub_ctx* ctx = nullptr;
  std::size_t outstanding = 0;
  std::unique_ptr<asio::posix::stream_descriptor> fd;  // a dup of libunbound's, made on first use
  bool pumping = false;

  asio::awaitable<void> pump() {
    while (outstanding > 0) {
      auto [ec] = co_await fd->async_wait(asio::posix::stream_descriptor::wait_read, as_tuple(use_awaitable));
      if (ec && ec != asio::error::operation_aborted) break;
      ub_process(ctx);
    }
    pumping = false;
  }
};

dns_resolver::dns_resolver(const std::string& forwarder) : impl_(std::make_unique<impl>()) {
  impl_->ctx = ub_ctx_create();
  if (!impl_->ctx) throw std::runtime_error("cannot create a libunbound context");
  int err = forwarder.empty() ? ub_ctx_resolvconf(impl_->ctx, nullptr) : ub_ctx_set_fwd(impl_->ctx, forwarder.c_str());
  if (err != 0) throw std::invalid_argument(fmt::format("resolver '{}': {}", forwarder, ub_strerror(err)));
  ub_ctx_async(impl_->ctx, 1);
  ub_ctx_set_option(impl_->ctx, "do-not-query-localhost:", "no");
}

dns_resolver::~dns_resolver() { ub_ctx_delete(impl_->ctx); }

namespace {

struct pending {
  bool done = false;
  int err = 0;
  ub_result* result = nullptr;
  asio::steady_timer* wake = nullptr;
};

void on_result(void* arg, int err, ub_result* result) {
  auto* p = static_cast<pending*>(arg);
  p->done = true;
  p->err = err;
  p->result = result;
  if (p->wake) p->wake->cancel();
}

// A domain name in DNS wire format (uncompressed, as libunbound hands out rdata).
std::string wire_name(const unsigned char* p, std::size_t len, std::size_t& pos) {
  std::string name;
  while (pos < len) {
    std::size_t n = p[pos++];
    if (n == 0) break;
    if (n > 63 || pos + n > len) return name;
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(p + pos), n);
    pos += n;
  }
  return name.empty() ? "." : name;
}

}  // namespace

asio::awaitable<dns_answer> dns_resolver::lookup(std::string name, int rrtype, std::chrono::milliseconds timeout) {
  dns_answer a;
  auto ex = co_await asio::this_coro::executor;
  pending p;
  int id = 0;
  int err = ub_resolve_async(impl_->ctx, name.c_str(), rrtype, 1, &p, on_result, &id);
  if (err != 0) {
    a.error = ub_strerror(err);
    co_return a;
  }
  impl& d = *impl_;
  if (!d.fd) d.fd = std::make_unique<asio::posix::stream_descriptor>(ex, ::dup(ub_fd(d.ctx)));
  ++d.outstanding;
  if (!d.pumping) {
    d.pumping = true;
    asio::co_spawn(ex, d.pump(), asio::detached);
  }
  asio::steady_timer timer(ex, timeout);
  p.wake = &timer;
  if (!p.done) co_await timer.async_wait(as_tuple(use_awaitable));  // cancelled by on_result, or the timeout
  p.wake = nullptr;
  if (--d.outstanding == 0) d.fd->cancel();
  if (!p.done) {
    ub_cancel(impl_->ctx, id);
    a.error = "timeout";
    co_return a;
  }
  if (p.err != 0 || !p.result) {
    a.error = ub_strerror(p.err);
    co_return a;
  }
  ub_result* res = p.result;
  a.ok = true;
  a.rcode = res->rcode;
  a.nxdomain = res->nxdomain;
  a.has_data = res->havedata;
  a.secure = res->secure;
  a.bogus = res->bogus;
  for (int i = 0; res->havedata && res->data[i]; ++i) {
    const auto* d = reinterpret_cast<const unsigned char*>(res->data[i]);
    std::size_t len = static_cast<std::size_t>(res->len[i]);
    char buf[INET6_ADDRSTRLEN];
    if (rrtype == rr_a && len == 4 && inet_ntop(AF_INET, d, buf, sizeof buf)) a.records.emplace_back(buf);
    else if (rrtype == rr_aaaa && len == 16 && inet_ntop(AF_INET6, d, buf, sizeof buf)) a.records.emplace_back(buf);
    else if (rrtype == rr_mx && len >= 3) {
      std::size_t pos = 2;
      a.records.push_back(fmt::format("{} {}", (d[0] << 8) | d[1], wire_name(d, len, pos)));
    }
  }
  ub_resolve_free(res);
  co_return a;
}

}  // namespace mxtls
