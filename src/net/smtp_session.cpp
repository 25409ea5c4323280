#include "net/smtp_session.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "dane_tls.hpp"

#include "mxtls/reply_parser.hpp"
#include "mxtls/tls_identity.hpp"

namespace mxtls {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

// (Coroutines here build every awaitable as a local before awaiting it: g++ 12 destroys
// some temporaries inside a co_await expression twice.)

void session_stop::request() {
  requested_ = true;
  for (auto* t : waits_) t->cancel();
}

namespace {

// A wait's timer, enrolled with the probe's stop signal while it runs.
struct stoppable_timer {
  asio::steady_timer timer;
  session_stop* stop;
  stoppable_timer(const asio::any_io_executor& ex, std::chrono::steady_clock::time_point at, session_stop* s)
      : timer(ex, at), stop(s) {
    if (stop) stop->enrol(&timer);
  }
  ~stoppable_timer() {
    if (stop) stop->leave(&timer);
  }
};

std::string name_of(X509_NAME* n) {
  char buf[512];
  X509_NAME_oneline(n, buf, sizeof buf);
  return buf;
}

}  // namespace

certificate_facts describe_certificate(X509* c) {
  certificate_facts p;
  p.subject = name_of(X509_get_subject_name(c));
  p.issuer = name_of(X509_get_issuer_name(c));
  p.sha256 = fingerprint_sha256(c);
  p.not_before = asn1_time_text(X509_get0_notBefore(c));
  p.not_after = asn1_time_text(X509_get0_notAfter(c));
  p.signature_algorithm = OBJ_nid2ln(X509_get_signature_nid(c));
  if (EVP_PKEY* k = X509_get0_pubkey(c)) {
    p.key_type = OBJ_nid2sn(EVP_PKEY_base_id(k));
    p.key_bits = EVP_PKEY_bits(k);
  }
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

namespace {

void record_tls(SSL* ssl, const std::string& verify_name, tls_facts& t) {
  t.established = true;
  t.protocol = SSL_get_version(ssl);
  t.cipher = SSL_get_cipher_name(ssl);
  int nid = SSL_get_negotiated_group(ssl);
  if (nid > 0) t.group = OBJ_nid2sn(nid & ~TLSEXT_nid_unknown);
  int md = NID_undef;
  if (SSL_get_peer_signature_nid(ssl, &md) == 1 && md != NID_undef) t.signature_digest = OBJ_nid2sn(md);
  EVP_PKEY* temp = nullptr;
  if (SSL_get_peer_tmp_key(ssl, &temp) == 1) {
    t.temp_key_bits = EVP_PKEY_get_bits(temp);
    if (t.group.empty()) t.group = EVP_PKEY_get0_type_name(temp);  // "DH": a group without a name (TLS 1.2 DHE)
    EVP_PKEY_free(temp);
  }
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl))
    for (int i = 0; i < sk_X509_num(chain); ++i) t.chain.push_back(describe_certificate(sk_X509_value(chain, i)));
  long verdict = SSL_get_verify_result(ssl);
  t.chain_verified = verdict == X509_V_OK;
  t.verify_code = static_cast<int>(verdict);
  if (!t.chain_verified) t.verify_error = X509_verify_cert_error_string(verdict);
  if (X509* leaf = SSL_get1_peer_certificate(ssl)) {
    // RFC 6125 / RFC 7672 §3.2: DNS-ID in subjectAltName, wildcard in the leftmost label.
    t.name_checked = !verify_name.empty();
    if (t.name_checked)
      t.hostname_match = X509_check_host(leaf, verify_name.c_str(), 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    t.expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
    t.not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0;
    X509_free(leaf);
  }
}

}  // namespace

smtp_session::smtp_session(const asio::any_io_executor& ex, const session_options& opt, std::vector<session_event>& events)
    : sock_(ex), opt_(opt), events_(events) {}

std::int64_t smtp_session::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
}

void smtp_session::reset() {
  asio::error_code ignored;
  tls_.reset();
  sock_.set_option(asio::socket_base::linger(true, 0), ignored);
  sock_.close(ignored);
}

std::string smtp_session::local_address() const {
  asio::error_code ec;
  auto local = sock_.local_endpoint(ec);
  return ec ? std::string() : local.address().to_string();
}

void smtp_session::emit(session_event e) {
  if (opt_.on_event) opt_.on_event(e);
  events_.push_back(std::move(e));
}

void smtp_session::fail(session_phase phase, session_error_code code, std::string detail) {
  error_ = {phase, code, std::move(detail)};
}

std::chrono::milliseconds smtp_session::timeout_of(session_phase p) const {
  switch (p) {
    case session_phase::connect: return opt_.timeouts.connect;
    case session_phase::banner: return opt_.timeouts.banner;
    case session_phase::tls: return opt_.timeouts.tls;
    default: return opt_.timeouts.command;
  }
}

void smtp_session::note_received(std::string_view bytes, bool after_final) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t nl = bytes.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? bytes.size() : nl + 1;
    std::string_view line = bytes.substr(pos, end - pos);
    std::size_t octets = line.size();
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    emit({.kind = event_kind::line_received, .ms = now_ms(), .octets = octets, .text = std::string(line), .after_final = after_final});
    pos = end;
  }
}

std::string smtp_session::take_buffered(std::size_t max) {
  std::string out = in_.substr(0, std::min(max, in_.size()));
  in_.erase(0, out.size());
  return out;
}

awaitable<bool> smtp_session::open(tcp::endpoint server) {
  if (opt_.stop && opt_.stop->requested()) {
    fail(session_phase::connect, session_error_code::interrupted);
    co_return false;
  }
  stoppable_timer timer(sock_.get_executor(), std::chrono::steady_clock::now() + opt_.timeouts.connect, opt_.stop);
  auto connect = sock_.async_connect(server, as_tuple(use_awaitable));
  auto expiry = timer.timer.async_wait(as_tuple(use_awaitable));
  auto res = co_await (std::move(connect) || std::move(expiry));
  if (res.index() == 0 && !std::get<0>(std::get<0>(res))) {
    // Every command is written whole. Without this, a command written right after the
    // TLS handshake waits for the server to acknowledge the client's Finished, which a
    // server with nothing to say delays by 40 ms. (The other side of it, servers that write
    // with Nagle on, is in tls_socket: acknowledgements go out at once.)
    asio::error_code ignored;
    sock_.set_option(tcp::no_delay(true), ignored);
    emit({.kind = event_kind::connected,
          .ms = now_ms(),
          .text = (server.address().is_v6() ? "[" + server.address().to_string() + "]" : server.address().to_string()) + ":" +
                  std::to_string(server.port())});
    co_return true;
  }
  if (res.index() == 1)
    fail(session_phase::connect, opt_.stop && opt_.stop->requested() ? session_error_code::interrupted : session_error_code::connect_timeout,
         std::to_string(opt_.timeouts.connect.count()));
  else
    fail(session_phase::connect, session_error_code::connect_refused, std::get<0>(std::get<0>(res)).message());
  co_return false;
}

awaitable<bool> smtp_session::read_more(std::chrono::steady_clock::time_point deadline, session_phase phase) {
  if (opt_.stop && opt_.stop->requested()) {
    fail(phase, session_error_code::interrupted);
    co_return false;
  }
  char buf[4096];
  stoppable_timer timer(sock_.get_executor(), deadline, opt_.stop);
  auto read = read_some(sock_, tls_.get(), asio::buffer(buf));
  auto expiry = timer.timer.async_wait(as_tuple(use_awaitable));
  auto res = co_await (std::move(read) || std::move(expiry));
  if (res.index() == 1) {
    fail(phase, opt_.stop && opt_.stop->requested() ? session_error_code::interrupted : session_error_code::read_timeout,
         std::to_string(timeout_of(phase).count()));
    co_return false;
  }
  auto [ec, n] = std::get<0>(res);
  if (ec) {
    fail(phase, ec == asio::error::eof ? session_error_code::closed : session_error_code::io_error, ec.message());
    co_return false;
  }
  in_.append(buf, n);
  co_return true;
}

awaitable<bool> smtp_session::read_reply(std::string& raw, session_phase phase) {
  reply_parser p;
  auto deadline = std::chrono::steady_clock::now() + timeout_of(phase);
  std::size_t begin = raw.size();
  while (true) {
    std::size_t used = p.feed(in_);
    raw.append(in_, 0, used);
    in_.erase(0, used);
    if (p.has_reply()) break;
    if (raw.size() - begin > opt_.max_reply_octets) {
      fail(phase, session_error_code::reply_too_long, std::to_string(opt_.max_reply_octets));
      note_received(std::string_view(raw).substr(begin), false);
      co_return false;
    }
    if (!co_await read_more(deadline, phase)) {
      note_received(std::string_view(raw).substr(begin), false);
      co_return false;
    }
  }
  note_received(std::string_view(raw).substr(begin), false);
  co_return true;
}

awaitable<bool> smtp_session::wait_for_data(std::chrono::milliseconds limit, session_phase phase) {
  if (!in_.empty()) co_return true;
  bool got = co_await read_more(std::chrono::steady_clock::now() + limit, phase);
  co_return got;
}

awaitable<bool> smtp_session::send(std::string_view line, session_phase phase) {
  emit({.kind = event_kind::line_sent, .ms = now_ms(), .octets = line.size() + 2, .text = std::string(line)});
  std::string octets = std::string(line) + "\r\n";
  auto [ec, n] = co_await write_all(sock_, tls_.get(), asio::buffer(octets));
  if (ec) fail(phase, session_error_code::io_error, ec.message());
  co_return !ec;
}

awaitable<bool> smtp_session::send_raw(std::string_view octets, event_kind kind) {
  emit({.kind = kind, .ms = now_ms(), .octets = octets.size(), .text = std::string(octets)});
  std::string copy(octets);
  auto [ec, n] = co_await write_all(sock_, tls_.get(), asio::buffer(copy));
  if (ec) fail(session_phase::none, session_error_code::io_error, ec.message());
  co_return !ec;
}

awaitable<bool> smtp_session::start_tls(tls_facts& tls, std::size_t& discarded, session_phase phase) {
  // RFC 3207 §4.2 / §5: anything the server sent after its 220 is not trusted; drop it.
  discarded = in_.size();
  if (!in_.empty()) emit({.kind = event_kind::plaintext_discarded, .ms = now_ms(), .octets = in_.size()});
  in_.clear();
  if (opt_.stop && opt_.stop->requested()) {
    fail(phase, session_error_code::interrupted);
    co_return false;
  }
  if (opt_.external_handshake) {
    session_error e;
    bool ok = co_await opt_.external_handshake(sock_, tls, e);
    if (!ok) fail(phase, e.code, e.detail);
    else emit({.kind = event_kind::tls_established, .ms = now_ms(), .text = tls.protocol + " " + tls.cipher});
    co_return ok;
  }
  auto ctx = opt_.tls_context ? opt_.tls_context : make_client_tls_context(opt_);
  tls_ = std::make_unique<tls_socket>(sock_, ctx->native_handle(), tls_socket::role::client);
  if (!opt_.sni.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), opt_.sni.c_str());
  if (opt_.tls_setup) opt_.tls_setup(tls_->native_handle());
  dane_before_handshake(tls_->native_handle(), opt_.dane, tls.dane);
  stoppable_timer timer(sock_.get_executor(), std::chrono::steady_clock::now() + opt_.timeouts.tls, opt_.stop);
  auto handshake = tls_->handshake();
  auto expiry = timer.timer.async_wait(as_tuple(use_awaitable));
  auto res = co_await (std::move(handshake) || std::move(expiry));
  if (res.index() == 0 && !std::get<0>(res)) {
    record_tls(tls_->native_handle(), opt_.verify_name, tls);
    dane_after_handshake(tls_->native_handle(), opt_.dane, tls.dane, tls);
    emit({.kind = event_kind::tls_established, .ms = now_ms(), .text = tls.protocol + " " + tls.cipher});
    co_return true;
  }
  if (res.index() == 1)
    fail(phase, opt_.stop && opt_.stop->requested() ? session_error_code::interrupted : session_error_code::handshake_timeout,
         std::to_string(opt_.timeouts.tls.count()));
  else
    fail(phase, session_error_code::handshake_failed, std::get<0>(res).message());
  co_return false;
}

}  // namespace mxtls
