#include "mxtls/mock_server.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "net/tls_socket.hpp"

namespace mxtls {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using asio::experimental::as_tuple;

namespace {

std::string upper_verb(std::string_view line) {
  std::string v;
  for (char c : line) {
    if (c == ' ' || c == ':' || c == '\t') break;
    v += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return v;
}

std::string printable(std::string_view s) {
  std::string o;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\r') o += "\\r";
    else if (c == '\n') o += "\\n";
    else if (u < 32 || u > 126) o += fmt::format("\\x{:02X}", u);
    else o += c;
  }
  return o;
}

int tls_version(const std::string& v) {
  if (v == "TLSv1") return TLS1_VERSION;
  if (v == "TLSv1.1") return TLS1_1_VERSION;
  if (v == "TLSv1.2") return TLS1_2_VERSION;
  if (v == "TLSv1.3") return TLS1_3_VERSION;
  return 0;
}

// DHE parameters of the size asked for: RFC 7919 ffdhe groups, and for 1024 bits the RFC 5114
// group (OpenSSL names it dh_1024_160), as old servers had.
void use_dh_parameters(SSL_CTX* ctx, int bits) {
  std::string name = bits == 1024 ? "dh_1024_160" : fmt::format("ffdhe{}", bits);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
  EVP_PKEY* params = nullptr;
  OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("group", name.data(), 0), OSSL_PARAM_construct_end()};
  bool ok = pctx && EVP_PKEY_paramgen_init(pctx) == 1 && EVP_PKEY_CTX_set_params(pctx, p) == 1 &&
            EVP_PKEY_paramgen(pctx, &params) == 1;
  EVP_PKEY_CTX_free(pctx);
  if (!ok || SSL_CTX_set0_tmp_dh_pkey(ctx, params) != 1) {
    EVP_PKEY_free(params);
    throw std::runtime_error(fmt::format("cannot set up {}-bit DH parameters ({})", bits, name));
  }
}

}  // namespace

struct mock_server::impl : std::enable_shared_from_this<impl> {
  asio::io_context& io;
  scenario sc;
  tls_identity id;
  server_options opt;
  asio::ssl::context tls_ctx{asio::ssl::context::tls_server};
  tcp::acceptor acceptor;
  // Counted by sessions that may run on other threads (server_options::session_contexts).
  struct counters {
    std::atomic<std::size_t> sessions{0}, active{0}, peak_active{0}, refused{0}, tls_handshakes{0}, messages{0};
  } stats;
  std::atomic<bool> stopping{false};
  std::size_t next_context = 0;  // the session context of the next session (accept loop only)

  impl(asio::io_context& io_, scenario s, tls_identity i, server_options o)
      : io(io_), sc(std::move(s)), id(std::move(i)), opt(std::move(o)), acceptor(io_) {
    SSL_CTX* ctx = tls_ctx.native_handle();
    // No session tickets and no session cache: nothing resumes a session with a mock
    // server, and each TLS 1.3 ticket costs an encryption per handshake (and a parse on
    // the client's side). Idle buffers are released: ten thousand sessions stay small.
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    // TLS 1.0 and 1.1 (SHA-1 signatures), RSA 1024, SHA-1 certificates and 1024-bit DH need
    // security level 0 in OpenSSL 3 when a scenario asks for them.
    if ((!sc.tls_min_version.empty() && tls_version(sc.tls_min_version) < TLS1_2_VERSION) ||
        sc.certificate_key == "rsa-1024" || sc.second_certificate_key == "rsa-1024" || sc.certificate_digest == "sha1" || (sc.dh_bits > 0 && sc.dh_bits < 2048))
      SSL_CTX_set_security_level(ctx, 0);
    // The identity after the level: OpenSSL checks the certificate's key against it.
    use_identity(ctx, id);
    if (!sc.tls_min_version.empty()) SSL_CTX_set_min_proto_version(ctx, tls_version(sc.tls_min_version));
    if (sc.dh_bits > 0) use_dh_parameters(ctx, sc.dh_bits);
    if (!sc.tls_max_version.empty()) SSL_CTX_set_max_proto_version(ctx, tls_version(sc.tls_max_version));
    if (!sc.tls_groups.empty() && SSL_CTX_set1_groups_list(ctx, sc.tls_groups.c_str()) != 1)
      throw std::invalid_argument(fmt::format("scenario {}: tls.groups: OpenSSL refuses \"{}\"", sc.name, sc.tls_groups));
    if (!sc.tls_ciphers.empty() && SSL_CTX_set_cipher_list(ctx, sc.tls_ciphers.c_str()) != 1)
      throw std::invalid_argument(fmt::format("scenario {}: tls.ciphers: OpenSSL knows none of \"{}\"", sc.name, sc.tls_ciphers));
    // SSL_OP_CIPHER_SERVER_PREFERENCE: the server's list order decides (both for TLS 1.2 and 1.3 suites).
    if (sc.tls_server_order) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!sc.tls_ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, sc.tls_ciphersuites.c_str()) != 1)
      throw std::invalid_argument(
          fmt::format("scenario {}: tls.ciphersuites: OpenSSL knows none of \"{}\"", sc.name, sc.tls_ciphersuites));
  }

  void log(std::size_t session, const std::string& line) {
    if (opt.log) opt.log(session, line);
  }

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto [ec, sock] = co_await acceptor.async_accept(as_tuple(use_awaitable));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        // E.g. too many open files: keep serving the open sessions and try again shortly.
        // At once would spin, as the waiting connection keeps the listener readable.
        asio::steady_timer pause(io, std::chrono::milliseconds(50));
        co_await pause.async_wait(as_tuple(use_awaitable));
        continue;
      }
      // Replies go out as the scenario writes them (a dripped line is its own segment),
      // not held back until the client acknowledges the previous one.
      asio::error_code ignored;
      sock.set_option(tcp::no_delay(true), ignored);
      std::size_t n = ++stats.sessions;
      if (stats.active >= opt.max_sessions) {
        ++stats.refused;
        asio::co_spawn(io, refuse(std::move(sock)), asio::detached);
        continue;
      }
      // Counted here, not when the session starts on its own context: the limit above then
      // holds however many sessions wait for their thread.
      std::size_t now = ++stats.active;
      for (std::size_t peak = stats.peak_active; now > peak && !stats.peak_active.compare_exchange_weak(peak, now);) {
      }
      asio::io_context& where = session_context();
      if (&where != &io) {
        // The descriptor moves to the session's own context (and thread).
        asio::error_code ec;
        auto protocol = sock.local_endpoint(ec).protocol();
        tcp::socket moved(where);
        if (!ec) {
          int fd = sock.release(ec);
          if (!ec && moved.assign(protocol, fd, ec)) ::close(fd);
        }
        if (ec) {
          --stats.active;
          continue;
        }
        sock = std::move(moved);
      }
      asio::co_spawn(where, run_session(std::move(sock), n), asio::detached);
    }
  }

  asio::io_context& session_context() {
    if (opt.session_contexts.empty()) return io;
    asio::io_context& c = *opt.session_contexts[next_context];
    next_context = (next_context + 1) % opt.session_contexts.size();
    return c;
  }

  awaitable<void> refuse(tcp::socket sock) {
    std::string msg = "421 4.7.0 " + sc.host + " too many sessions, try again later" + sc.line_ending;
    co_await asio::async_write(sock, asio::buffer(msg), as_tuple(use_awaitable));
    asio::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
  }

  // One SMTP session.
  struct session {
    impl& server;
    std::size_t number;
    tcp::socket sock;  // its executor is the context (thread) the session runs on
    std::unique_ptr<tls_socket> tls;  // on `sock`, after STARTTLS
    std::string in;   // received, not yet processed
    std::string out;  // the next reply; built before co_await (no temporaries in co_await
                      // expressions: g++ 12 may destroy those twice)

    awaitable<bool> pause(std::chrono::microseconds d) {
      if (d.count() <= 0) co_return true;
      asio::steady_timer t(sock.get_executor(), d);
      auto [ec] = co_await t.async_wait(as_tuple(use_awaitable));
      co_return !ec;
    }

    awaitable<bool> send(const std::string& bytes) {
      for (std::size_t start = 0, end = 0; server.opt.log && start < bytes.size(); start = end) {
        end = bytes.find('\n', start);
        end = end == std::string::npos ? bytes.size() : end + 1;
        server.log(number, "S: " + printable(std::string_view(bytes).substr(start, end - start)));
      }
      if (server.sc.drip.count() > 0) {
        for (char c : bytes) {
          if (!co_await pause(server.sc.drip)) co_return false;
          auto [ec, n] = co_await write_all(sock, tls.get(), asio::buffer(&c, 1));
          if (ec) co_return false;
        }
        co_return true;
      }
      auto [ec, n] = co_await write_all(sock, tls.get(), asio::buffer(bytes));
      co_return !ec;
    }

    awaitable<bool> flush() {
      bool ok = co_await send(out);
      out.clear();
      co_return ok;
    }

    // Reads one line into `line`. Returns false on close, timeout or an over-long line.
    awaitable<bool> read_line(std::string& line, bool data_mode = false) {
      while (true) {
        auto nl = in.find('\n');
        if (nl != std::string::npos) {
          line = in.substr(0, nl);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          in.erase(0, nl + 1);
          co_return true;
        }
        if (in.size() > server.opt.max_line) {
          if (data_mode) {
            in.erase(0, in.size() - 1);  // message text is discarded; keep memory bounded
          } else {
            server.log(number, "-- command line over " + std::to_string(server.opt.max_line) + " octets");
            out = "500 5.5.0 Line too long" + server.sc.line_ending;
            co_await flush();
            co_return false;
          }
        }
        char buf[4096];
        asio::steady_timer timer(sock.get_executor(), server.opt.idle_timeout);
        auto r = co_await (read_some(sock, tls.get(), asio::buffer(buf)) || timer.async_wait(as_tuple(use_awaitable)));
        if (r.index() == 1) {
          server.log(number, "-- idle timeout");
          out = "421 4.4.2 " + server.sc.host + " timeout, closing" + server.sc.line_ending;
          co_await flush();
          co_return false;
        }
        auto [ec, n] = std::get<0>(r);
        if (ec) {
          server.log(number, "-- connection closed by the client");
          co_return false;
        }
        in.append(buf, n);
      }
    }

    const scenario_fault* fault_at(const std::string& step) const {
      for (const auto& f : server.sc.faults)
        if (f.at == step) return &f;
      return nullptr;
    }

    // Applies a fault for `step`, if any. Returns true when the session must stop.
    awaitable<bool> faulted(const std::string& step, bool& replied) {
      replied = false;
      const scenario_fault* f = fault_at(step);
      if (!f) co_return false;
      if (f->action == "disconnect") {
        server.log(number, "-- disconnect at " + step + " (scenario)");
        co_return true;
      }
      replied = true;
      co_await send(f->action);
      co_return f->action.rfind("421", 0) == 0;
    }

    awaitable<bool> start_tls() {
      if (!in.empty()) {
        if (server.sc.execute_pipelined) {
          server.log(number, fmt::format("-- {} octets pipelined after STARTTLS kept, to run inside TLS (scenario)", in.size()));
        } else {
          server.log(number, fmt::format("-- {} octets pipelined after STARTTLS discarded", in.size()));
          in.clear();
        }
      }
      tls = std::make_unique<tls_socket>(sock, server.tls_ctx.native_handle(), tls_socket::role::server);
      asio::steady_timer timer(sock.get_executor(), server.opt.handshake_timeout);
      auto r = co_await (tls->handshake() || timer.async_wait(as_tuple(use_awaitable)));
      if (r.index() == 1) {
        server.log(number, "-- TLS handshake timed out");
        co_return false;
      }
      if (auto ec = std::get<0>(r)) {
        server.log(number, "-- TLS handshake failed: " + ec.message());
        co_return false;
      }
      ++server.stats.tls_handshakes;
      SSL* ssl = tls->native_handle();
      server.log(number, fmt::format("-- TLS established: {} {}", SSL_get_version(ssl), SSL_get_cipher_name(ssl)));
      co_return true;
    }

    awaitable<void> run() {
      const scenario& sc = server.sc;
      const std::string& eol = sc.line_ending;
      server.log(number, "-- session from " + sock.remote_endpoint().address().to_string());
      bool replied = false;
      if (co_await faulted("banner", replied)) co_return;
      if (auto d = sc.delays.find("banner"); d != sc.delays.end() && !co_await pause(d->second)) co_return;
      if (!replied && !co_await send(sc.banner)) co_return;

      bool in_mail = false;
      std::string line;
      while (co_await read_line(line)) {
        server.log(number, "C: " + printable(line));
        std::string verb = upper_verb(line);
        std::string step = verb == "LHLO" ? "EHLO" : verb;
        if (co_await faulted(step, replied)) co_return;
        if (replied) continue;
        if (auto d = sc.delays.find(step); d != sc.delays.end() && !co_await pause(d->second)) co_return;

        if (verb == "EHLO" || verb == "LHLO") {
          out = tls ? sc.ehlo_after_tls : sc.ehlo;
          if (!co_await flush()) co_return;
        } else if (verb == "HELO") {
          out = "250 " + sc.host + eol;
          if (!co_await flush()) co_return;
        } else if (verb == "STARTTLS") {
          if (tls) {
            out = "503 5.5.1 TLS already active" + eol;
            if (!co_await flush()) co_return;
            continue;
          }
          if (sc.starttls_disconnect) {
            server.log(number, "-- disconnect at STARTTLS (scenario)");
            co_return;
          }
          if (sc.starttls_silent) {
            server.log(number, "-- no reply to STARTTLS (scenario)");
            continue;
          }
          // The 220 and any injected plaintext leave in one write, as one segment.
          out = sc.starttls_reply + sc.inject_after_220;
          if (!co_await flush()) co_return;
          if (sc.starttls_reply.rfind("220", 0) != 0) continue;
          if (!co_await start_tls()) co_return;
          in_mail = false;
        } else if (verb == "MAIL") {
          in_mail = true;
          out = "250 2.1.0 Ok" + eol;
          if (!co_await flush()) co_return;
        } else if (verb == "RCPT") {
          out = in_mail ? "250 2.1.5 Ok" + eol : "503 5.5.1 Error: need MAIL command" + eol;
          if (!co_await flush()) co_return;
        } else if (verb == "DATA") {
          if (!in_mail) {
            out = "503 5.5.1 Error: need RCPT command" + eol;
            if (!co_await flush()) co_return;
            continue;
          }
          out = "354 End data with <CR><LF>.<CR><LF>" + eol;
          if (!co_await flush()) co_return;
          // RFC 5321 §4.5.2: a line of a single "." ends the text; a leading "." of any
          // other line is transparency and removed. The text itself is discarded.
          std::size_t octets = 0;
          bool ended = false;
          while (co_await read_line(line, true)) {
            if (line == ".") {
              ended = true;
              break;
            }
            octets += line.size() - (line.rfind('.', 0) == 0 ? 1 : 0) + 2;
          }
          if (!ended) co_return;
          server.log(number, fmt::format("C: <message of {} octets, discarded>", octets));
          server.log(number, "C: .");
          if (co_await faulted("DOT", replied)) co_return;
          if (replied) continue;
          std::size_t queued = ++server.stats.messages;
          in_mail = false;
          out = "250 2.0.0 Ok: queued as MXTLS" + std::to_string(queued) + eol;
          if (!co_await flush()) co_return;
        } else if (verb == "RSET") {
          in_mail = false;
          out = "250 2.0.0 Ok" + eol;
          if (!co_await flush()) co_return;
        } else if (verb == "NOOP") {
          out = "250 2.0.0 Ok" + eol;
          if (!co_await flush()) co_return;
        } else if (verb == "QUIT") {
          out = "221 2.0.0 Bye" + eol;
          co_await flush();
          co_return;
        } else {
          out = "502 5.5.2 Error: command not recognized" + eol;
          if (!co_await flush()) co_return;
        }
      }
    }
  };

  // One session, counted in `active` by the accept loop.
  awaitable<void> run_session(tcp::socket sock, std::size_t n) {
    auto self = shared_from_this();
    {
      session s{*this, n, std::move(sock), nullptr, {}, {}};
      try {
        co_await s.run();
      } catch (const std::exception& e) {
        log(n, std::string("-- session error: ") + e.what());
      }
      asio::error_code ignored;
      s.tls.reset();
      s.sock.shutdown(tcp::socket::shutdown_both, ignored);
      s.sock.close(ignored);
    }
    --stats.active;
    log(n, "-- session closed");
  }
};

mock_server::mock_server(asio::io_context& io, scenario sc, tls_identity identity, server_options options)
    : impl_(std::make_shared<impl>(io, std::move(sc), std::move(identity), std::move(options))) {}

mock_server::~mock_server() { stop(); }

void mock_server::listen(const tcp::endpoint& at) {
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(at);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
}

tcp::endpoint mock_server::local_endpoint() const { return impl_->acceptor.local_endpoint(); }

void mock_server::stop() {
  if (!impl_) return;
  impl_->stopping = true;
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
}

server_stats mock_server::stats() const {
  const auto& c = impl_->stats;
  return {c.sessions, c.active, c.peak_active, c.refused, c.tls_handshakes, c.messages};
}
const scenario& mock_server::current_scenario() const { return impl_->sc; }
const tls_identity& mock_server::identity() const { return impl_->id; }

tcp::endpoint parse_listen_address(const std::string& text) {
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw std::invalid_argument("'" + text + "' is not [IPv6]:PORT");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("'" + text + "' is not ADDRESS:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p < 0 || p > 65535) throw std::invalid_argument("'" + port + "' is not a port number (0-65535)");
  asio::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("'" + host + "' is not an IP address");
  return {addr, static_cast<unsigned short>(p)};
}

}  // namespace mxtls
