#include "mxtls/live_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <stdexcept>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "mxtls/reply_parser.hpp"
#include "mxtls/tls_identity.hpp"
#include "net/tls_socket.hpp"

namespace mxtls {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

std::string name_of(X509_NAME* n) {
  char buf[512];
  X509_NAME_oneline(n, buf, sizeof buf);
  return buf;
}

peer_certificate describe(X509* c) {
  peer_certificate p;
  p.subject = name_of(X509_get_subject_name(c));
  p.issuer = name_of(X509_get_issuer_name(c));
  p.sha256 = fingerprint_sha256(c);
  p.not_before = asn1_time_text(X509_get0_notBefore(c));
  p.not_after = asn1_time_text(X509_get0_notAfter(c));
  EVP_PKEY* k = X509_get0_pubkey(c);
  if (k) p.key = fmt::format("{} {} bits", OBJ_nid2sn(EVP_PKEY_base_id(k)), EVP_PKEY_bits(k));
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type == GEN_DNS)
        p.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                                 static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName)));
    }
    GENERAL_NAMES_free(sans);
  }
  return p;
}

// The session's state: plaintext socket, later a TLS stream over it.
struct client {
  tcp::socket sock;
  std::unique_ptr<tls_socket> tls;
  std::string in;  // received, not yet consumed
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  live_session_result& r;
  const session_options& opt;

  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  }
  void note(char dir, std::string_view bytes) {
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      std::size_t nl = bytes.find('\n', pos);
      std::size_t end = nl == std::string_view::npos ? bytes.size() : nl;
      std::string_view line = bytes.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      r.transcript.push_back({dir, std::string(line), now_ms()});
      pos = end + 1;
    }
  }

  // Starts TLS on the socket (after the server's 220 to STARTTLS); false with r.error set.
  awaitable<bool> start_tls(const session_options& o, const char* phase) {
    auto ctx = o.tls_context ? o.tls_context : make_client_tls_context(o);
    tls = std::make_unique<tls_socket>(sock, ctx->native_handle(), tls_socket::role::client);
    if (!o.sni.empty()) SSL_set_tlsext_host_name(tls->native_handle(), o.sni.c_str());
    asio::steady_timer timer(sock.get_executor(), o.timeouts.tls);
    auto res = co_await (tls->handshake() || timer.async_wait(as_tuple(use_awaitable)));
    if (res.index() == 0 && !std::get<0>(res)) co_return true;
    r.error_phase = phase;
    r.error = res.index() == 1 ? fmt::format("no handshake within {} ms", o.timeouts.tls.count()) : std::get<0>(res).message();
    co_return false;
  }

  // Reads more octets within `limit`; false on timeout, close or error (r.error set).
  awaitable<bool> read_more(std::chrono::milliseconds limit, const char* phase) {
    char buf[4096];
    asio::steady_timer timer(sock.get_executor(), limit);
    auto res = co_await (read_some(sock, tls.get(), asio::buffer(buf)) || timer.async_wait(as_tuple(use_awaitable)));
    if (res.index() == 1) {
      r.error_phase = phase;
      r.error = fmt::format("no complete reply within {} ms", limit.count());
      co_return false;
    }
    auto [ec, n] = std::get<0>(res);
    if (ec) {
      r.error_phase = phase;
      r.error = ec == asio::error::eof ? "the server closed the connection" : ec.message();
      co_return false;
    }
    in.append(buf, n);
    co_return true;
  }

  // Reads one complete reply; its octets go to `raw`. With `trailing`, octets that follow
  // the reply within a short wait (lines after an early final line) are kept too.
  awaitable<bool> read_reply(std::string& raw, std::chrono::milliseconds limit, const char* phase, bool trailing) {
    reply_parser p;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      std::size_t used = p.feed(in);
      raw.append(in, 0, used);
      in.erase(0, used);
      if (p.has_reply()) break;
      if (raw.size() > opt.max_reply_octets) {
        r.error_phase = phase;
        r.error = fmt::format("the reply is longer than {} octets", opt.max_reply_octets);
        co_return false;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !co_await read_more(left, phase)) {
        if (r.error.empty() || r.error.rfind("no complete reply", 0) == 0) {
          r.error_phase = phase;
          r.error = fmt::format("no complete reply within {} ms", limit.count());
        }
        note('S', raw);
        co_return false;
      }
    }
    note('S', raw);
    if (trailing) {
      std::size_t before = raw.size();
      if (in.empty()) {
        std::string saved_phase = r.error_phase, saved = r.error;
        if (!co_await read_more(opt.timeouts.trailing, phase)) {
          r.error_phase = saved_phase;  // silence is the normal case
          r.error = saved;
        }
      }
      std::size_t take = std::min(in.size(), opt.max_reply_octets);
      raw += in.substr(0, take);
      in.erase(0, take);
      if (raw.size() > before) note('S', std::string_view(raw).substr(before));  // lines after the final line
    }
    co_return true;
  }

  // Connects within the connect timeout; false with r.error set.
  awaitable<bool> connect(tcp::endpoint server) {
    asio::steady_timer timer(sock.get_executor(), opt.timeouts.connect);
    auto res = co_await (sock.async_connect(server, as_tuple(use_awaitable)) || timer.async_wait(as_tuple(use_awaitable)));
    if (res.index() == 0 && !std::get<0>(std::get<0>(res))) {
      // Every command is written whole. Without this, a command written right after the
      // TLS handshake waits for the server to acknowledge the client's Finished, which a
      // server with nothing to say delays by 40 ms: a stall that would show in every
      // timing of the transcript. (The other side of it, servers that write with Nagle
      // on, is in tls_socket: acknowledgements go out at once.)
      asio::error_code ignored;
      sock.set_option(tcp::no_delay(true), ignored);
      co_return true;
    }
    r.error_phase = "connect";
    r.error = res.index() == 1 ? fmt::format("no connection within {} ms", opt.timeouts.connect.count())
                               : std::get<0>(std::get<0>(res)).message();
    co_return false;
  }

  awaitable<bool> send(std::string line) {
    note('C', line);
    line += "\r\n";
    auto [ec, n] = co_await write_all(sock, tls.get(), asio::buffer(line));
    co_return !ec;
  }
};

int code_of(const std::string& raw) {
  if (raw.size() < 3 || !isdigit(static_cast<unsigned char>(raw[0]))) return -1;
  return std::atoi(raw.substr(0, 3).c_str());
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_client_tls_context(const session_options& opt, bool preload) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  ctx->set_verify_mode(asio::ssl::verify_none);  // verified after the handshake, to report, not to refuse
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  // Read what the socket holds in one call instead of a record header and then its body
  // (a handshake flight is six records); tls_socket asks OpenSSL before it waits on
  // the socket, so records read ahead are never left waiting.
  SSL_CTX_set_read_ahead(c, 1);
  if (!opt.ca_file.empty() || !opt.ca_dir.empty()) {
    if (SSL_CTX_load_verify_locations(c, opt.ca_file.empty() ? nullptr : opt.ca_file.c_str(),
                                      opt.ca_dir.empty() ? nullptr : opt.ca_dir.c_str()) != 1)
      throw std::invalid_argument("cannot load the CA store '" + (opt.ca_file.empty() ? opt.ca_dir : opt.ca_file) + "'");
    return ctx;
  }
  if (preload) {
    // The system's CA bundle, read into memory once. SSL_CTX_set_default_verify_paths()
    // would also add OpenSSL 3's directory store, which lists the whole certificate
    // directory on every lookup of an issuer it does not hold (every self-signed or
    // privately issued certificate): the main cost of a probe in mxtls scan.
    const char* env = std::getenv(X509_get_default_cert_file_env());
    const char* file = env && *env ? env : X509_get_default_cert_file();
    if (SSL_CTX_load_verify_locations(c, file, nullptr) == 1) return ctx;
    ERR_clear_error();
  }
  SSL_CTX_set_default_verify_paths(c);
  return ctx;
}

awaitable<live_session_result> run_live_session(tcp::endpoint server, session_options opt) {
  live_session_result r;
  auto ex = co_await asio::this_coro::executor;
  client c{tcp::socket(ex), nullptr, {}, std::chrono::steady_clock::now(), r, opt};

  if (!co_await c.connect(server)) co_return r;
  c.note('-', fmt::format("connected to {}:{}", server.address().to_string(), server.port()));
  if (!co_await c.read_reply(r.banner, opt.timeouts.banner, "banner", false)) co_return r;
  if (code_of(r.banner) != 220) {
    r.error_phase = "banner";
    r.error = fmt::format("the server greets with {} instead of 220", r.banner.substr(0, 3));
    co_return r;
  }
  std::string cmd = "EHLO " + opt.ehlo_name;
  if (!co_await c.send(cmd)) co_return r;
  if (!co_await c.read_reply(r.ehlo, opt.timeouts.command, "ehlo", true)) co_return r;
  for (std::size_t i = 0; i + 8 <= r.ehlo.size() && !r.starttls_offered; ++i) {
    std::string w = r.ehlo.substr(i, 8);
    for (char& ch : w) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (w == "STARTTLS") r.starttls_offered = true;
  }

  bool send_starttls = opt.decide_starttls ? opt.decide_starttls(r.ehlo) : r.starttls_offered && opt.try_starttls;
  if (!send_starttls && r.starttls_offered) c.note('-', "STARTTLS not sent (as the client would not)");
  if (send_starttls) {
    r.starttls_attempted = true;
    cmd = "STARTTLS";
    if (!co_await c.send(cmd)) co_return r;
    std::string reply;
    if (!co_await c.read_reply(reply, opt.timeouts.command, "starttls", false)) co_return r;
    r.starttls_code = code_of(reply);
    if (r.starttls_code == 220) {
      // RFC 3207 §4.2 / §5: anything the server sent after its 220 is not trusted; drop it.
      r.plaintext_after_220 = c.in.size();
      if (!c.in.empty()) c.note('-', fmt::format("{} octets after the 220 discarded", c.in.size()));
      c.in.clear();
      if (!co_await c.start_tls(opt, "tls")) co_return r;
      SSL* ssl = c.tls->native_handle();
      r.tls_established = true;
      r.tls_protocol = SSL_get_version(ssl);
      r.tls_cipher = SSL_get_cipher_name(ssl);
      int nid = SSL_get_negotiated_group(ssl);
      if (nid > 0) r.tls_group = OBJ_nid2sn(nid & ~TLSEXT_nid_unknown);
      if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl))
        for (int i = 0; i < sk_X509_num(chain); ++i) r.chain.push_back(describe(sk_X509_value(chain, i)));
      long verdict = SSL_get_verify_result(ssl);
      r.chain_verified = verdict == X509_V_OK;
      if (!r.chain_verified) r.verify_error = X509_verify_cert_error_string(verdict);
      if (X509* leaf = SSL_get1_peer_certificate(ssl)) {
        // RFC 6125 / RFC 7672 §3.2: DNS-ID in subjectAltName, wildcard in the leftmost label.
        if (!opt.verify_name.empty())
          r.hostname_match = X509_check_host(leaf, opt.verify_name.c_str(), 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
        r.expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
        r.not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0;
        X509_free(leaf);
      }
      c.note('-', fmt::format("TLS established: {} {}", r.tls_protocol, r.tls_cipher));
      cmd = "EHLO " + opt.ehlo_name;
      if (!co_await c.send(cmd)) co_return r;
      if (!co_await c.read_reply(r.ehlo_after_tls, opt.timeouts.command, "ehlo-after-tls", false)) co_return r;
    }
  }
  if (!opt.rcpt.empty() && r.error.empty()) {
    // The envelope only: greylisting and recipient checks answer RCPT.
    std::string reply;
    cmd = "MAIL FROM:<>";
    if (co_await c.send(cmd) && co_await c.read_reply(reply, opt.timeouts.command, "mail", false)) {
      r.mail_code = code_of(reply);
      reply.clear();
      cmd = "RCPT TO:<" + opt.rcpt + ">";
      if (r.mail_code / 100 == 2 && co_await c.send(cmd) && co_await c.read_reply(reply, opt.timeouts.command, "rcpt", false)) {
        r.rcpt_code = code_of(reply);
        r.rcpt_reply = reply.substr(0, reply.find_first_of("\r\n"));
      }
      reply.clear();
      cmd = "RSET";
      if (co_await c.send(cmd)) co_await c.read_reply(reply, opt.timeouts.command, "rset", false);
    }
  }
  cmd = "QUIT";
  if (co_await c.send(cmd)) {
    std::string bye;
    std::string saved_phase = r.error_phase, saved = r.error;
    co_await c.read_reply(bye, opt.timeouts.command, "quit", false);
    r.error_phase = saved_phase;
    r.error = saved;
  }
  co_return r;
}

awaitable<bool> check_command_injection(tcp::endpoint server, session_options opt, std::string& error) {
  live_session_result r;
  auto ex = co_await asio::this_coro::executor;
  client c{tcp::socket(ex), nullptr, {}, std::chrono::steady_clock::now(), r, opt};
  if (!co_await c.connect(server)) {
    error = r.error;
    co_return false;
  }
  std::string banner, ehlo, reply;
  std::string cmd = "EHLO " + opt.ehlo_name;
  if (!co_await c.read_reply(banner, opt.timeouts.banner, "banner", false) || !co_await c.send(cmd) ||
      !co_await c.read_reply(ehlo, opt.timeouts.command, "ehlo", true)) {
    error = r.error;
    co_return false;
  }
  // Both commands in one write, so in one segment.
  std::string both = "STARTTLS\r\nNOOP\r\n";
  auto [wec, wn] = co_await asio::async_write(c.sock, asio::buffer(both), as_tuple(use_awaitable));
  if (wec || !co_await c.read_reply(reply, opt.timeouts.command, "starttls", false) || reply.rfind("220", 0) != 0) {
    error = wec ? wec.message() : r.error.empty() ? "STARTTLS was not answered with 220" : r.error;
    co_return false;
  }
  c.in.clear();
  auto handshake_start = std::chrono::steady_clock::now();
  if (!co_await c.start_tls(opt, "injection")) {
    error = "TLS handshake failed: " + r.error;
    co_return false;
  }
  auto handshake_time = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - handshake_start);
  // We send nothing: anything the server says now answers the NOOP we sent in plaintext.
  std::string unsolicited;
  // A vulnerable server answers at once; wait a few handshake round trips, at least 250 ms.
  std::chrono::milliseconds wait =
      std::min(opt.timeouts.command, std::max(std::chrono::milliseconds(250), handshake_time * 4));
  bool answered = co_await c.read_more(wait, "injection");
  cmd = "QUIT";
  co_await c.send(cmd);
  co_return answered && !c.in.empty();
}

}  // namespace mxtls
