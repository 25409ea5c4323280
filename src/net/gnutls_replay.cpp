#include "net/gnutls_replay.hpp"

#include <gnutls/gnutls.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "net/dane_tls.hpp"
#include "net/runtime_library.hpp"
#include "net/smtp_session.hpp"

namespace mxtls {

namespace {

// The GnuTLS functions a replay calls, with GnuTLS's own signatures.
struct gnutls_api {
  decltype(&::gnutls_check_version) check_version;
  decltype(&::gnutls_init) init;
  decltype(&::gnutls_deinit) deinit;
  decltype(&::gnutls_priority_set_direct) priority_set_direct;
  decltype(&::gnutls_certificate_allocate_credentials) certificate_allocate_credentials;
  decltype(&::gnutls_certificate_free_credentials) certificate_free_credentials;
  decltype(&::gnutls_credentials_set) credentials_set;
  decltype(&::gnutls_server_name_set) server_name_set;
  decltype(&::gnutls_transport_set_int2) transport_set_int2;
  decltype(&::gnutls_handshake) handshake;
  decltype(&::gnutls_record_get_direction) record_get_direction;
  decltype(&::gnutls_error_is_fatal) error_is_fatal;
  decltype(&::gnutls_strerror) strerror;
  decltype(&::gnutls_alert_get) alert_get;
  decltype(&::gnutls_alert_get_name) alert_get_name;
  decltype(&::gnutls_protocol_get_version) protocol_get_version;
  decltype(&::gnutls_ciphersuite_get) ciphersuite_get;
  decltype(&::gnutls_group_get) group_get;
  decltype(&::gnutls_group_get_name) group_get_name;
  decltype(&::gnutls_kx_get) kx_get;
  decltype(&::gnutls_certificate_get_peers) certificate_get_peers;
};

using loaded = loaded_library<gnutls_api>;

const gnutls_api* load_gnutls(std::string& why) {
  static std::once_flag once;
  static loaded l;
  std::call_once(once, [] {
    runtime_library so;
    if (!so.open("libgnutls.so.30", "libgnutls30", l.why)) return;
    gnutls_api& g = l.lib;
    std::string& w = l.why;
    l.ok = so.bind("gnutls_check_version", g.check_version, w) && so.bind("gnutls_init", g.init, w) &&
           so.bind("gnutls_deinit", g.deinit, w) && so.bind("gnutls_priority_set_direct", g.priority_set_direct, w) &&
           so.bind("gnutls_certificate_allocate_credentials", g.certificate_allocate_credentials, w) &&
           so.bind("gnutls_certificate_free_credentials", g.certificate_free_credentials, w) &&
           so.bind("gnutls_credentials_set", g.credentials_set, w) && so.bind("gnutls_server_name_set", g.server_name_set, w) &&
           so.bind("gnutls_transport_set_int2", g.transport_set_int2, w) && so.bind("gnutls_handshake", g.handshake, w) &&
           so.bind("gnutls_record_get_direction", g.record_get_direction, w) &&
           so.bind("gnutls_error_is_fatal", g.error_is_fatal, w) && so.bind("gnutls_strerror", g.strerror, w) &&
           so.bind("gnutls_alert_get", g.alert_get, w) && so.bind("gnutls_alert_get_name", g.alert_get_name, w) &&
           so.bind("gnutls_protocol_get_version", g.protocol_get_version, w) &&
           so.bind("gnutls_ciphersuite_get", g.ciphersuite_get, w) && so.bind("gnutls_group_get", g.group_get, w) &&
           so.bind("gnutls_group_get_name", g.group_get_name, w) && so.bind("gnutls_kx_get", g.kx_get, w) &&
           so.bind("gnutls_certificate_get_peers", g.certificate_get_peers, w);
    // gnutls_ciphersuite_get (the suite's IANA name) is 3.7.3's; the headers are Debian 12's.
    if (l.ok && !l.lib.check_version(GNUTLS_VERSION)) {
      l.ok = false;
      l.why = std::string("GnuTLS ") + l.lib.check_version(nullptr) + " is older than " + GNUTLS_VERSION +
              ", the version mxtls was built with";
    }
  });
  if (!l.ok) why = l.why;
  return l.ok ? &l.lib : nullptr;
}

// "TLS1.2" as OpenSSL names it ("TLSv1.2"; TLS 1.0 is "TLSv1").
std::string openssl_version_name(gnutls_protocol_t v) {
  switch (v) {
    case GNUTLS_TLS1_0: return "TLSv1";
    case GNUTLS_TLS1_1: return "TLSv1.1";
    case GNUTLS_TLS1_2: return "TLSv1.2";
    case GNUTLS_TLS1_3: return "TLSv1.3";
    default: return "unknown";
  }
}

// GnuTLS's group names as the probe's facts have them (OpenSSL's short names); a TLS 1.2
// finite-field exchange with the server's own parameters is "DH", as in the probe's facts.
std::string openssl_group_name(const gnutls_api& g, gnutls_session_t s) {
  gnutls_group_t group = g.group_get(s);
  const char* name = group ? g.group_get_name(group) : nullptr;
  if (!name) {
    gnutls_kx_algorithm_t kx = g.kx_get(s);
    return kx == GNUTLS_KX_DHE_RSA || kx == GNUTLS_KX_DHE_DSS ? "DH" : "";
  }
  std::string n = name;
  if (n == "SECP256R1") return "prime256v1";
  if (n == "SECP384R1") return "secp384r1";
  if (n == "SECP521R1") return "secp521r1";
  if (n == "X25519" || n == "X448") return n;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  return n;  // ffdhe2048 ...
}

// The chain the server sent GnuTLS (DER, leaf first) as the probe's facts describe a chain,
// with the digests a TLSA record of each certificate would hold: what a GnuTLS sender's DANE
// check is given, which can differ from the probe's when the server chooses its certificate
// by the ClientHello.
void record_served_chain(const gnutls_api& g, gnutls_session_t s, tls_facts& tls) {
  unsigned int n = 0;
  const gnutls_datum_t* der = g.certificate_get_peers(s, &n);
  if (!der || n == 0) return;
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(sk_X509_new_null(),
                                                                   [](STACK_OF(X509)* c) { sk_X509_pop_free(c, X509_free); });
  if (!chain) return;
  for (unsigned int i = 0; i < n; ++i) {
    const unsigned char* p = der[i].data;
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der[i].size));
    if (!x) break;  // the rest cannot be described; what came before still can
    if (sk_X509_push(chain.get(), x) <= 0) {
      X509_free(x);
      break;
    }
  }
  for (int i = 0; i < sk_X509_num(chain.get()); ++i) tls.chain.push_back(describe_certificate(sk_X509_value(chain.get(), i)));
  tls.dane.chain_digests = chain_digests(chain.get());
}

}  // namespace

external_handshake_fn gnutls_handshake(std::string priority, std::string sni, std::chrono::milliseconds timeout) {
  return [priority = std::move(priority), sni = std::move(sni), timeout](
             asio::ip::tcp::socket& sock, tls_facts& tls, session_error& error) -> asio::awaitable<bool> {
    using namespace asio::experimental::awaitable_operators;
    using asio::experimental::as_tuple;
    auto failed = [&](session_error_code code, std::string detail) {
      error = {session_phase::tls, code, std::move(detail)};
      return false;
    };
    std::string why;
    const gnutls_api* g = load_gnutls(why);
    if (!g) co_return failed(session_error_code::handshake_failed, why);
    gnutls_session_t raw = nullptr;
    if (int rc = g->init(&raw, GNUTLS_CLIENT | GNUTLS_NONBLOCK); rc < 0)
      co_return failed(session_error_code::handshake_failed, g->strerror(rc));
    std::unique_ptr<gnutls_session_int, decltype(g->deinit)> session(raw, g->deinit);
    gnutls_certificate_credentials_t cred_raw = nullptr;
    if (int rc = g->certificate_allocate_credentials(&cred_raw); rc < 0)
      co_return failed(session_error_code::handshake_failed, g->strerror(rc));
    std::unique_ptr<gnutls_certificate_credentials_st, decltype(g->certificate_free_credentials)> cred(
        cred_raw, g->certificate_free_credentials);
    const char* bad = nullptr;
    if (int rc = g->priority_set_direct(raw, priority.c_str(), &bad); rc < 0)
      co_return failed(session_error_code::handshake_failed,
                       std::string(g->strerror(rc)) + (bad ? std::string(" at '") + bad + "'" : ""));
    // No certificate store: the senders replayed here deliver whatever the server presents
    // (Exim's tls_try_verify_hosts, msmtp without --tls-certcheck).
    g->credentials_set(raw, GNUTLS_CRD_CERTIFICATE, cred_raw);
    if (!sni.empty()) g->server_name_set(raw, GNUTLS_NAME_DNS, sni.data(), sni.size());
    asio::error_code ec;
    sock.native_non_blocking(true, ec);
    g->transport_set_int2(raw, sock.native_handle(), sock.native_handle());
    asio::steady_timer timer(sock.get_executor(), std::chrono::steady_clock::now() + timeout);
    while (true) {
      int rc = g->handshake(raw);
      if (rc == GNUTLS_E_SUCCESS) break;
      if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED || !g->error_is_fatal(rc)) {
        auto dir = g->record_get_direction(raw) ? asio::ip::tcp::socket::wait_write : asio::ip::tcp::socket::wait_read;
        auto ready = sock.async_wait(dir, as_tuple(asio::use_awaitable));
        auto expiry = timer.async_wait(as_tuple(asio::use_awaitable));
        auto res = co_await (std::move(ready) || std::move(expiry));
        if (res.index() == 1) co_return failed(session_error_code::handshake_timeout, std::to_string(timeout.count()));
        if (auto [wait_error] = std::get<0>(res); wait_error)
          co_return failed(session_error_code::io_error, wait_error.message());
        continue;
      }
      std::string detail = g->strerror(rc);
      if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
        if (const char* a = g->alert_get_name(g->alert_get(raw))) detail += std::string(" (") + a + ")";
      co_return failed(session_error_code::handshake_failed, detail);
    }
    tls.established = true;
    tls.protocol = openssl_version_name(g->protocol_get_version(raw));
    // The suite's IANA name as OpenSSL names it (TLS 1.3 suites keep the IANA name there).
    const char* iana = g->ciphersuite_get(raw);
    const char* ossl = iana ? OPENSSL_cipher_name(iana) : nullptr;
    tls.cipher = ossl && std::string_view(ossl) != "(NONE)" ? ossl : (iana ? iana : "");
    tls.group = openssl_group_name(*g, raw);
    record_served_chain(*g, raw, tls);
    co_return true;
  };
}

}  // namespace mxtls
