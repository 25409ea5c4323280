// libcurl's multi socket interface on Asio: libcurl opens its sockets through
// CURLOPT_OPENSOCKETFUNCTION into Asio descriptors, says which to watch through
// CURLMOPT_SOCKETFUNCTION and when to call back through CURLMOPT_TIMERFUNCTION; Asio's waits
// and one steady_timer drive curl_multi_socket_action. No thread, no select loop of libcurl's.
#include "mxtls/mta_sts_fetch.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <map>

#include "net/curl_library.hpp"

namespace mxtls {

bool is_text_plain(std::string_view ct) {
  std::string_view t = ct.substr(0, ct.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  constexpr std::string_view want = "text/plain";
  if (t.size() != want.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(t[i])) != want[i]) return false;
  return true;
}

std::string libcurl_version_text() {
  std::string why;
  const curl_library* lib = load_curl(&why);
  if (!lib) return "not usable: " + why;
  const curl_version_info_data* v = lib->version_info(CURLVERSION_NOW);
  return fmt::format("{} ({})", v->version, v->ssl_version ? v->ssl_version : "no TLS");
}

namespace {

struct watched_socket {
  explicit watched_socket(asio::io_context& io, int fd) : d(io, fd), fd(fd) {}
  asio::posix::stream_descriptor d;
  int fd;
  int want = 0;  // CURL_POLL_IN / OUT / INOUT
  bool reading = false, writing = false, closed = false;
};

struct request {
  explicit request(asio::io_context& io) : wake(io) {}
  asio::steady_timer wake;  // cancelled when the transfer is done
  CURL* easy = nullptr;
  curl_slist* resolve = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::size_t max_body = 0;
  bool too_large = false;
  bool done = false;
  std::chrono::steady_clock::time_point started;
  policy_fetch_result result;
};

}  // namespace

struct policy_fetcher::impl {
  explicit impl(asio::io_context& io) : io(io), timer(io) {}
  ~impl() {
    if (!multi) return;
    for (auto& [easy, req] : requests) {
      lib->multi_remove_handle(multi, easy);
      lib->easy_cleanup(easy);
      lib->slist_free_all(req->resolve);
    }
    requests.clear();
    lib->multi_cleanup(multi);  // closes cached connections through on_close
    for (auto& [fd, s] : sockets) {
      s->closed = true;
      asio::error_code ec;
      s->d.cancel(ec);
      s->d.close(ec);
    }
  }

  // libcurl and the multi handle, on the first fetch (curl_library.hpp: why not at start-up).
  bool ready(std::string& why) {
    if (multi) return true;
    lib = load_curl(&why);
    if (!lib) return false;
    multi = lib->multi_init();
    if (!multi) {
      why = "curl_multi_init failed";
      return false;
    }
    lib->multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    lib->multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    lib->multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    lib->multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    return true;
  }

  static curl_socket_t on_open(void* self, curlsocktype, curl_sockaddr* a) {
    auto* me = static_cast<impl*>(self);
    int fd = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    me->sockets[fd] = std::make_shared<watched_socket>(me->io, fd);
    return fd;
  }

  static int on_close(void* self, curl_socket_t fd) {
    auto* me = static_cast<impl*>(self);
    auto it = me->sockets.find(fd);
    if (it == me->sockets.end()) return ::close(fd);
    auto s = it->second;
    me->sockets.erase(it);
    s->closed = true;
    asio::error_code ec;
    s->d.cancel(ec);
    s->d.close(ec);  // closes fd
    return 0;
  }

  static int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto* me = static_cast<impl*>(self);
    auto it = me->sockets.find(fd);
    if (it == me->sockets.end()) return 0;
    auto s = it->second;
    if (what == CURL_POLL_REMOVE) {
      s->want = 0;
      return 0;
    }
    s->want = what;
    me->arm(s);
    return 0;
  }

  void arm(const std::shared_ptr<watched_socket>& s) {
    if (s->closed) return;
    if ((s->want & CURL_POLL_IN) && !s->reading) {
      s->reading = true;
      s->d.async_wait(asio::posix::stream_descriptor::wait_read, [this, s](const asio::error_code& ec) {
        s->reading = false;
        if (ec || s->closed || !(s->want & CURL_POLL_IN)) return;
        act(s->fd, CURL_CSELECT_IN);
        arm(s);
      });
    }
    if ((s->want & CURL_POLL_OUT) && !s->writing) {
      s->writing = true;
      s->d.async_wait(asio::posix::stream_descriptor::wait_write, [this, s](const asio::error_code& ec) {
        s->writing = false;
        if (ec || s->closed || !(s->want & CURL_POLL_OUT)) return;
        act(s->fd, CURL_CSELECT_OUT);
        arm(s);
      });
    }
  }

  static int on_timer(CURLM*, long ms, void* self) {
    auto* me = static_cast<impl*>(self);
    me->timer.cancel();
    if (ms < 0) return 0;
    me->timer.expires_after(std::chrono::milliseconds(ms));
    me->timer.async_wait([me](const asio::error_code& ec) {
      if (!ec) me->act(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  void act(curl_socket_t fd, int events) {
    int running = 0;
    lib->multi_socket_action(multi, fd, events, &running);
    finished();
  }

  void finished() {
    int left = 0;
    while (CURLMsg* m = lib->multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      auto it = requests.find(m->easy_handle);
      if (it == requests.end()) continue;
      auto req = it->second;
      requests.erase(it);
      conclude(*req, m->data.result);
      lib->multi_remove_handle(multi, req->easy);
      lib->easy_cleanup(req->easy);
      lib->slist_free_all(req->resolve);
      req->easy = nullptr;
      req->resolve = nullptr;
      req->done = true;
      req->wake.cancel();
    }
  }

  void conclude(request& req, CURLcode code) const {
    policy_fetch_result& r = req.result;
    r.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - req.started).count();
    lib->easy_getinfo(req.easy, CURLINFO_RESPONSE_CODE, &r.http_status);
    if (char* ct = nullptr; lib->easy_getinfo(req.easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) r.content_type = ct;
    if (char* ip = nullptr; lib->easy_getinfo(req.easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) r.address_used = ip;
    if (char* loc = nullptr; lib->easy_getinfo(req.easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) r.location = loc;
    std::string message = req.errbuf[0] ? std::string(req.errbuf) : std::string(lib->easy_strerror(code));
    switch (code) {
      case CURLE_OK:
        if (r.http_status >= 300 && r.http_status < 400) {
          r.error = fetch_error::redirect;
          r.detail = fmt::format("HTTP {} to {}; RFC 8461 §3.3: redirects are not followed", r.http_status,
                                 r.location.empty() ? "(no Location)" : r.location);
        } else if (r.http_status != 200) {
          r.error = fetch_error::http_status;
          r.detail = fmt::format("HTTP {}", r.http_status);
        } else if (!is_text_plain(r.content_type)) {
          r.error = fetch_error::content_type;
          r.detail = fmt::format("Content-Type {}, not text/plain",
                                 r.content_type.empty() ? std::string("absent") : r.content_type);
        }
        return;
      case CURLE_WRITE_ERROR:
        if (req.too_large) {
          r.error = fetch_error::too_large;
          r.detail = fmt::format("body longer than {} octets (max_body_octets)", req.max_body);
          return;
        }
        break;
      case CURLE_PEER_FAILED_VERIFICATION: r.error = fetch_error::tls_verify; r.detail = message; return;
      case CURLE_SSL_CONNECT_ERROR: r.error = fetch_error::tls; r.detail = message; return;
      case CURLE_OPERATION_TIMEDOUT: r.error = fetch_error::timeout; r.detail = message; return;
      case CURLE_COULDNT_CONNECT: r.error = fetch_error::connect; r.detail = message; return;
      default: break;
    }
    r.error = fetch_error::other;
    r.detail = message;
  }

  static std::size_t on_body(char* data, std::size_t, std::size_t n, void* user) {
    auto* req = static_cast<request*>(user);
    if (req->result.body.size() + n > req->max_body) {
      req->too_large = true;
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    req->result.body.append(data, n);
    return n;
  }

  asio::io_context& io;
  const curl_library* lib = nullptr;
  CURLM* multi = nullptr;
  asio::steady_timer timer;
  std::map<curl_socket_t, std::shared_ptr<watched_socket>> sockets;
  std::map<CURL*, std::shared_ptr<request>> requests;
};

policy_fetcher::policy_fetcher(asio::io_context& io) : impl_(std::make_unique<impl>(io)) {}
policy_fetcher::~policy_fetcher() = default;

asio::awaitable<policy_fetch_result> policy_fetcher::fetch(std::string domain, std::vector<std::string> addresses,
                                                           policy_fetch_options o) {
  auto req = std::make_shared<request>(impl_->io);
  policy_fetch_result& r = req->result;
  r.host = "mta-sts." + domain;
  // RFC 8461 §3.3: "https://mta-sts.<domain>/.well-known/mta-sts.txt", port 443.
  r.url = o.port == 443 ? fmt::format("https://{}/.well-known/mta-sts.txt", r.host)
                        : fmt::format("https://{}:{}/.well-known/mta-sts.txt", r.host, o.port);
  r.addresses = addresses;
  if (addresses.empty()) {
    r.error = fetch_error::no_address;
    r.detail = fmt::format("{} has no address", r.host);
    co_return std::move(req->result);
  }
  if (std::string why; !impl_->ready(why)) {
    r.error = fetch_error::other;
    r.detail = why;
    co_return std::move(req->result);
  }
  const curl_library& lib = *impl_->lib;
  std::string pinned = fmt::format("{}:{}:", r.host, o.port);
  for (std::size_t i = 0; i < addresses.size(); ++i)
    pinned += (i ? "," : "") + (addresses[i].find(':') != std::string::npos ? "[" + addresses[i] + "]" : addresses[i]);
  req->resolve = lib.slist_append(nullptr, pinned.c_str());
  req->max_body = o.max_body_octets;
  CURL* e = lib.easy_init();
  req->easy = e;
  lib.easy_setopt(e, CURLOPT_URL, r.url.c_str());
  lib.easy_setopt(e, CURLOPT_RESOLVE, req->resolve);
  lib.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
  lib.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // RFC 8461 §3.3: redirects MUST NOT be followed
  lib.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);  // PKIX, RFC 8461 §3.3
  lib.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);  // the name mta-sts.<domain>
  // --ca FILE or DIR replaces the system's store, as for the SMTP sessions (live_session.cpp):
  // the other of libcurl's two defaults (its bundle, its hashed directory) is turned off.
  if (!o.ca_file.empty() || !o.ca_dir.empty()) {
    lib.easy_setopt(e, CURLOPT_CAINFO, o.ca_file.empty() ? nullptr : o.ca_file.c_str());
    lib.easy_setopt(e, CURLOPT_CAPATH, o.ca_dir.empty() ? nullptr : o.ca_dir.c_str());
  }
  lib.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  lib.easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  lib.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);  // each fetch as a sender makes it
  lib.easy_setopt(e, CURLOPT_USERAGENT, "mxtls");
  lib.easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
  lib.easy_setopt(e, CURLOPT_WRITEFUNCTION, &impl::on_body);
  lib.easy_setopt(e, CURLOPT_WRITEDATA, req.get());
  lib.easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &impl::on_open);
  lib.easy_setopt(e, CURLOPT_OPENSOCKETDATA, impl_.get());
  lib.easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &impl::on_close);
  lib.easy_setopt(e, CURLOPT_CLOSESOCKETDATA, impl_.get());
  req->started = std::chrono::steady_clock::now();
  impl_->requests[e] = req;
  lib.multi_add_handle(impl_->multi, e);
  req->wake.expires_at(asio::steady_timer::time_point::max());
  while (!req->done) {
    auto wait = req->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    co_await std::move(wait);
  }
  co_return std::move(req->result);
}

}  // namespace mxtls
