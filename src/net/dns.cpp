#include "mxtls/dns.hpp"
#include "mxtls/target_text.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "net/unbound_library.hpp"

namespace mxtls {

using asio::use_awaitable;
using asio::experimental::as_tuple;

// Many lookups may wait at once (mxtls scan): one pump per libunbound context reads its
// descriptor and runs ub_process(), which calls each finished lookup's callback; the
// callback wakes its waiter by cancelling the waiter's timer.
struct ub_channel {
  ub_ctx* ctx = nullptr;
  std::size_t outstanding = 0;
  bool cancelled = false;  // a lookup was given up (ub_cancel): libunbound may still be at it
  std::unique_ptr<asio::posix::stream_descriptor> fd;  // a dup of libunbound's, made on first use
  bool pumping = false;

  ~ub_channel() {
    fd.reset();
    if (ctx) unbound().ctx_delete(ctx);
  }

  asio::awaitable<void> pump() {
    while (outstanding > 0) {
      auto [ec] = co_await fd->async_wait(asio::posix::stream_descriptor::wait_read, as_tuple(use_awaitable));
      if (ec && ec != asio::error::operation_aborted) break;
      unbound().process(ctx);
    }
    pumping = false;
  }
};

// Two contexts when validating: the validating one, whose bogus answers carry no data
// (libunbound answers SERVFAIL, with why_bogus), and one that does not validate, asked
// again for a bogus answer's data, which is what senders that do not validate use.
// (val-permissive-mode would keep the data but reports bogus answers as indeterminate.)
struct dns_resolver::impl {
  ub_channel strict;
  std::unique_ptr<ub_channel> plain;  // made on the first bogus answer
  resolver_options options;
  bool validating = false;
  std::string anchor_file;
  std::vector<std::string> anchor_zones;
  std::optional<dnssec_readiness> ready;  // the first readiness() answer
};

namespace {

void set_option(ub_ctx* ctx, const char* name, const std::string& value) {
  int err = unbound().ctx_set_option(ctx, name, value.c_str());
  if (err != 0) throw std::invalid_argument(fmt::format("resolver option {} {}: {}", name, value, unbound().strerror(err)));
}

bool readable_file(const std::string& f) {
  struct stat st{};
  return stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::vector<std::string> trust_anchor_zones(const std::string& file) {
  std::vector<std::string> zones;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (auto semi = line.find(';'); semi != std::string::npos) line.erase(semi);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w.empty() || w[0][0] == '$') continue;
    // OWNER [TTL] [CLASS] TYPE RDATA: a trust anchor line has DS or DNSKEY among its first words.
    bool anchor = false;
    for (std::size_t i = 1; i < std::min<std::size_t>(w.size(), 4); ++i) {
      std::string t = w[i];
      std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::toupper(c); });
      anchor = anchor || t == "DS" || t == "DNSKEY";
    }
    if (!anchor) continue;
    std::string zone = w[0];
    std::transform(zone.begin(), zone.end(), zone.begin(), [](unsigned char c) { return std::tolower(c); });
    if (zone.back() != '.') zone += '.';
    if (std::find(zones.begin(), zones.end(), zone) == zones.end()) zones.push_back(zone);
  }
  return zones;
}

namespace {

// A context that asks `o.forwarder` (or resolv.conf) and, for each zone of `zones`, makes
// it resolvable and, with a forwarder, asks the forwarder for it as a stub zone.
ub_ctx* make_context(const resolver_options& o, const std::vector<std::string>& zones) {
  ub_ctx* ctx = unbound().ctx_create();
  if (!ctx) throw std::runtime_error("cannot create a libunbound context");
  try {
    int err = o.forwarder.empty() ? unbound().ctx_resolvconf(ctx, nullptr) : unbound().ctx_set_fwd(ctx, o.forwarder.c_str());
    if (err != 0) throw std::invalid_argument(fmt::format("resolver '{}': {}", o.forwarder, unbound().strerror(err)));
    unbound().ctx_async(ctx, 1);
    set_option(ctx, "do-not-query-localhost:", "no");
    // No RFC 8145 key-tag queries (_ta-XXXX): telemetry for the operators of a trust
    // anchor, sent by a resolver that lives for days, not by a probe that lives for one
    // domain; each is a query and a validated denial more per run.
    set_option(ctx, "trust-anchor-signaling:", "no");
    // QNAME minimisation (RFC 9156) hides a name from the servers above its zone. Forwarded
    // queries (resolv.conf, --resolver) are never minimised; what is left is the stub zones
    // below, asked of the zone's own server, from which minimising hides nothing: it only
    // adds a query and a validated denial per label (_25._tcp.mx: two more for a TLSA).
    set_option(ctx, "qname-minimisation:", "no");
    for (const auto& zone : zones) {
      if (zone == ".") continue;
      // RFC 6761 names (test., invalid., the local zones of private ranges) are answered
      // by libunbound itself by default; the anchor's zone is resolved instead.
      set_option(ctx, "local-zone:", zone + " transparent");
      // With a forwarder, the anchor's zone is asked of it without recursion: it may be the
      // zone's own authoritative server, which answers no recursive query outside its zones.
      if (!o.forwarder.empty()) {
        err = unbound().ctx_set_stub(ctx, zone.c_str(), o.forwarder.c_str(), 0);
        if (err != 0) throw std::invalid_argument(fmt::format("stub zone {} at {}: {}", zone, o.forwarder, unbound().strerror(err)));
      }
    }
  } catch (...) {
    unbound().ctx_delete(ctx);
    throw;
  }
  return ctx;
}

}  // namespace

dns_resolver::dns_resolver(const resolver_options& o) : impl_(std::make_unique<impl>()) {
  impl& d = *impl_;
  d.options = o;
  std::string anchor = o.validate ? o.trust_anchor_file : std::string();
  if (o.validate && anchor.empty() && readable_file(default_trust_anchor_file)) anchor = default_trust_anchor_file;
  if (!anchor.empty()) {
    if (!readable_file(anchor)) throw std::invalid_argument(fmt::format("trust anchor '{}' is not a readable file", anchor));
    d.anchor_zones = trust_anchor_zones(anchor);
    if (d.anchor_zones.empty()) throw std::invalid_argument(fmt::format("trust anchor '{}' has no DS or DNSKEY line", anchor));
  }
  d.strict.ctx = make_context(o, d.anchor_zones);
  if (!anchor.empty()) {
    int err = unbound().ctx_add_ta_file(d.strict.ctx, anchor.c_str());
    if (err != 0) throw std::invalid_argument(fmt::format("trust anchor '{}': {}", anchor, unbound().strerror(err)));
    d.validating = true;
    d.anchor_file = anchor;
  }
}

dns_resolver::dns_resolver(const std::string& forwarder)
    : dns_resolver(resolver_options{.forwarder = forwarder, .trust_anchor_file = {}, .validate = false}) {}

bool dns_resolver::validating() const { return impl_->validating; }
bool dns_resolver::idle() const {
  auto quiet = [](const ub_channel& c) { return c.outstanding == 0 && !c.cancelled; };
  return quiet(impl_->strict) && (!impl_->plain || quiet(*impl_->plain));
}
const std::vector<std::string>& dns_resolver::anchor_zones() const { return impl_->anchor_zones; }

dns_resolver::~dns_resolver() = default;

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

namespace {

asio::awaitable<dns_answer> ask(ub_channel& d, const std::string& name, int rrtype, std::chrono::milliseconds timeout,
                                ub_result*& out) {
  dns_answer a;
  out = nullptr;
  auto ex = co_await asio::this_coro::executor;
  pending p;
  int id = 0;
  int err = unbound().resolve_async(d.ctx, name.c_str(), rrtype, 1, &p, on_result, &id);
  if (err != 0) {
    a.error = unbound().strerror(err);
    co_return a;
  }
  if (!d.fd) d.fd = std::make_unique<asio::posix::stream_descriptor>(ex, ::dup(unbound().fd(d.ctx)));
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
    unbound().cancel(d.ctx, id);
    d.cancelled = true;
    a.error = "timeout";
    co_return a;
  }
  if (p.err != 0 || !p.result) {
    a.error = unbound().strerror(p.err);
    co_return a;
  }
  out = p.result;
  a.ok = true;
  co_return a;
}

void read_result(ub_result* res, int rrtype, dns_answer& a) {
  a.rcode = res->rcode;
  a.nxdomain = res->nxdomain;
  a.has_data = res->havedata;
  a.records.clear();
  a.rdata.clear();
  a.canonical_name.clear();
  if (res->canonname && res->qname) {
    // libunbound names the answer's owner even without a CNAME: an alias only when it differs.
    auto bare = [](std::string n) {
      if (!n.empty() && n.back() == '.') n.pop_back();
      std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
      return n;
    };
    if (bare(res->canonname) != bare(res->qname)) a.canonical_name = res->canonname;
  }
  for (int i = 0; res->havedata && res->data[i]; ++i) {
    const auto* d = reinterpret_cast<const unsigned char*>(res->data[i]);
    std::size_t len = static_cast<std::size_t>(res->len[i]);
    a.rdata.emplace_back(d, d + len);
    char buf[INET6_ADDRSTRLEN];
    if (rrtype == rr_a && len == 4 && inet_ntop(AF_INET, d, buf, sizeof buf)) a.records.emplace_back(buf);
    else if (rrtype == rr_aaaa && len == 16 && inet_ntop(AF_INET6, d, buf, sizeof buf)) a.records.emplace_back(buf);
    else if (rrtype == rr_mx && len >= 3) {
      std::size_t pos = 2;
      a.records.push_back(fmt::format("{} {}", (d[0] << 8) | d[1], wire_name(d, len, pos)));
    } else if (rrtype == rr_txt) {
      // RFC 1035 §3.3.14: one or more <character-string>s, each a length octet and octets.
      std::string text;
      for (std::size_t pos = 0; pos < len;) {
        std::size_t n = d[pos++];
        n = std::min(n, len - pos);
        text.append(reinterpret_cast<const char*>(d + pos), n);
        pos += n;
      }
      a.records.push_back(std::move(text));
    } else if (rrtype == rr_tlsa && len >= 4) {
      a.records.push_back(fmt::format("{} {} {} {}", d[0], d[1], d[2], hex_text({d + 3, len - 3})));
    } else if (rrtype != rr_a && rrtype != rr_aaaa && rrtype != rr_mx) {
      a.records.push_back(hex_text({d, len}));
    }
  }
}

}  // namespace

asio::awaitable<dns_answer> dns_resolver::lookup(std::string name, int rrtype, std::chrono::milliseconds timeout) {
  impl& d = *impl_;
  ub_result* res = nullptr;
  auto first = ask(d.strict, name, rrtype, timeout, res);
  dns_answer a = co_await std::move(first);
  if (!res) co_return a;
  a.secure = res->secure;
  a.bogus = res->bogus;
  a.dnssec = !d.validating ? dnssec_status::indeterminate
             : res->secure ? dnssec_status::secure
             : res->bogus  ? dnssec_status::bogus
                           : dnssec_status::insecure;
  if (res->bogus && res->why_bogus) a.why_bogus = res->why_bogus;
  read_result(res, rrtype, a);
  unbound().resolve_free(res);
  if (a.bogus) {
    // The data a resolver that does not validate would have given.
    if (!d.plain) {
      d.plain = std::make_unique<ub_channel>();
      d.plain->ctx = make_context(d.options, d.anchor_zones);
    }
    auto again = ask(*d.plain, name, rrtype, timeout, res);
    co_await std::move(again);
    if (res) {
      read_result(res, rrtype, a);
      unbound().resolve_free(res);
    }
  }
  co_return a;
}

bool parse_tlsa(const std::vector<std::uint8_t>& rdata, tlsa_record& out) {
  // RFC 6698 §2.1: certificate usage, selector and matching type (one octet each), then
  // the certificate association data.
  if (rdata.size() < 4) return false;
  out.usage = rdata[0];
  out.selector = rdata[1];
  out.mtype = rdata[2];
  out.data.assign(rdata.begin() + 3, rdata.end());
  return true;
}

asio::awaitable<txt_answer> dns_resolver::lookup_txt(std::string name, std::chrono::milliseconds timeout) {
  txt_answer t;
  auto l = lookup(std::move(name), rr_txt, timeout);
  t.answer = co_await std::move(l);
  t.texts = t.answer.records;
  co_return t;
}

asio::awaitable<tlsa_answer> dns_resolver::lookup_tlsa(std::string name, std::chrono::milliseconds timeout) {
  tlsa_answer t;
  auto l = lookup(std::move(name), rr_tlsa, timeout);
  t.answer = co_await std::move(l);
  for (const auto& r : t.answer.rdata) {
    tlsa_record rec;
    if (parse_tlsa(r, rec)) t.records.push_back(std::move(rec));
    else ++t.malformed;
  }
  co_return t;
}

asio::awaitable<dnssec_readiness> dns_resolver::readiness(std::chrono::milliseconds timeout) {
  if (impl_->ready) co_return *impl_->ready;
  dnssec_readiness r;
  r.validating = impl_->validating;
  r.anchor_file = impl_->anchor_file;
  r.anchor_zones = impl_->anchor_zones;
  if (r.validating) {
    // Like Postfix's dnssec_probe: a query whose answer must validate when DNSSEC works.
    auto l = lookup(r.anchor_zones.front(), rr_dnskey, timeout);
    dns_answer a = co_await std::move(l);
    r.anchor_status = a.ok && a.has_data ? a.dnssec : a.bogus ? dnssec_status::bogus : dnssec_status::indeterminate;
    r.why_bogus = a.why_bogus;
    if (!a.ok) r.error = a.error;
    else if (a.rcode != 0) r.error = fmt::format("rcode {}", a.rcode);
    else if (!a.has_data) r.error = "no DNSKEY records";
  }
  if (!impl_->ready) impl_->ready = r;
  co_return *impl_->ready;
}

}  // namespace mxtls
