// Check "tls-senders": each sender TLS profile (sender_tls.hpp) as a ClientHello of its own
// (OpenSSL's, or GnuTLS's for the GnuTLS profiles: gnutls_replay.hpp).
// A profile the probe's handshake already decides is not replayed: the server chose version V,
// suite C and group G from an offer of everything, so a sender that offers V, C and G and
// accepts the server's key, temporary key and signature hash at its security level gets the
// same handshake. Any other profile gets its own STARTTLS session, all of them at once,
// each taking its place at the per-address connection gate.
#include "net/tls_senders.hpp"

#include "net/gnutls_replay.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace mxtls {

namespace {

int version_of(std::string_view v) {
  if (v == "TLSv1") return TLS1_VERSION;
  if (v == "TLSv1.1") return TLS1_1_VERSION;
  if (v == "TLSv1.2") return TLS1_2_VERSION;
  if (v == "TLSv1.3") return TLS1_3_VERSION;
  return 0;
}

// OpenSSL's security levels in bits (SSL_CTX_set_security_level(3)): 0, 80, 112, 128, 192, 256.
int level_bits(int level) {
  static const int bits[] = {0, 80, 112, 128, 192, 256};
  return bits[std::clamp(level, 0, 5)];
}

// The security of a key of `bits` of this type, as OpenSSL rates it (RSA/DH per NIST SP 800-57).
int security_bits(const std::string& key_type, int bits) {
  if (key_type == "id-ecPublicKey" || key_type == "ED25519" || key_type == "ED448") return bits / 2;
  if (bits >= 15360) return 256;
  if (bits >= 7680) return 192;
  if (bits >= 3072) return 128;
  if (bits >= 2048) return 112;
  if (bits >= 1024) return 80;
  return 0;
}

// The groups OpenSSL 3.0 offers when none are set.
constexpr const char* openssl_default_groups = "X25519:P-256:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192";

bool in_list(std::string_view list, std::string_view name) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(':', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view one = list.substr(start, end - start);
    // OpenSSL's names and their aliases as OBJ_nid2sn gives them.
    if (one == name || (one == "P-256" && name == "prime256v1") || (one == "P-384" && name == "secp384r1") ||
        (one == "P-521" && name == "secp521r1"))
      return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_profile_context(const tls_profile& p) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  ctx->set_verify_mode(asio::ssl::verify_none);  // senders without a verify setting do not refuse a certificate
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(c, 1);
  SSL_CTX_set_security_level(c, p.security_level);
  SSL_CTX_set_min_proto_version(c, version_of(p.min_version));
  SSL_CTX_set_max_proto_version(c, version_of(p.max_version));
  std::string ciphers = p.ciphers.empty() ? "DEFAULT" : std::string(p.ciphers);
  // The level is the profile's, not one a cipher string's @SECLEVEL would set.
  ciphers += ":@SECLEVEL=" + std::to_string(p.security_level);
  if (SSL_CTX_set_cipher_list(c, ciphers.c_str()) != 1 ||
      (!p.ciphersuites.empty() && SSL_CTX_set_ciphersuites(c, std::string(p.ciphersuites).c_str()) != 1) ||
      (!p.groups.empty() && SSL_CTX_set1_groups_list(c, std::string(p.groups).c_str()) != 1))
    throw std::runtime_error("OpenSSL refuses the settings of TLS profile " + std::string(p.id));
  return ctx;
}

bool decided_by(const tls_profile& p, const tls_facts& t) {
  // GnuTLS's choices are its own: the probe's OpenSSL handshake decides nothing for it.
  if (!t.established || !p.gnutls_priority.empty()) return false;
  int v = version_of(t.protocol);
  if (v == 0 || (version_of(p.min_version) && v < version_of(p.min_version)) ||
      (version_of(p.max_version) && v > version_of(p.max_version)))
    return false;
  // The suite: among those the profile's hello would offer at this version and level.
  auto ctx = make_profile_context(p);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx->native_handle()), &SSL_free);
  if (!ssl) return false;
  SSL_set_min_proto_version(ssl.get(), v);
  SSL_set_max_proto_version(ssl.get(), v);
  bool offered = false;
  if (STACK_OF(SSL_CIPHER)* list = SSL_get1_supported_ciphers(ssl.get())) {
    for (int i = 0; i < sk_SSL_CIPHER_num(list) && !offered; ++i)
      offered = t.cipher == SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, i));
    sk_SSL_CIPHER_free(list);
  }
  if (!offered) return false;
  // The group, where one was negotiated ("DH": TLS 1.2 DHE with the server's own group).
  if (!t.group.empty() && t.group != "DH" && !in_list(p.groups.empty() ? openssl_default_groups : p.groups, t.group))
    return false;
  int need = level_bits(p.security_level);
  if (t.group == "DH" && security_bits("DH", t.temp_key_bits) < need) return false;
  // The server's handshake signature: SHA-1 and MD5+SHA-1 are below 80 bits in OpenSSL 3.0.
  if (need > 0 && (t.signature_digest == "SHA1" || t.signature_digest == "MD5-SHA1")) return false;
  // The certificate's key (OpenSSL checks the leaf's key at the security level).
  if (!t.chain.empty() && security_bits(t.chain.front().key_type, t.chain.front().key_bits) < need) return false;
  return true;
}

asio::awaitable<tls_senders_facts> run_tls_senders(asio::ip::tcp::endpoint server, session_options opt,
                                                   const tls_facts& probe_tls, connection_gate* gate) {
  tls_senders_facts f;
  std::vector<std::size_t> replay;
  for (const auto& p : tls_profiles()) {
    profile_handshake h;
    h.profile = std::string(p.id);
    if (decided_by(p, probe_tls)) {
      h.established = true;
      h.protocol = probe_tls.protocol;
      h.cipher = probe_tls.cipher;
      h.group = probe_tls.group;
    } else {
      h.replayed = true;
      replay.push_back(f.handshakes.size());
    }
    f.handshakes.push_back(std::move(h));
  }
  if (replay.empty()) co_return f;

  // Every replay at once; the last to finish wakes this coroutine. The state is shared, so a
  // replay that outlives an interrupted probe writes into memory that still exists.
  struct state {
    std::vector<profile_handshake> results;
    std::size_t left;
    asio::steady_timer done;
  };
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<state>(state{f.handshakes, replay.size(), asio::steady_timer(ex, asio::steady_timer::time_point::max())});
  opt.on_event = nullptr;  // their lines are not the transcript's
  opt.decide_starttls = nullptr;
  opt.try_starttls = true;
  opt.rcpt.clear();
  opt.dane = {};
  opt.dane.digests = true;  // no DANE check; the served chain's digests, for the DANE senders
  for (std::size_t i : replay) {
    const tls_profile& p = *find_tls_profile(st->results[i].profile);
    session_options so = opt;
    if (p.gnutls_priority.empty()) so.tls_context = make_profile_context(p);
    else so.external_handshake = gnutls_handshake(std::string(p.gnutls_priority), so.sni, so.timeouts.tls);
    auto task = [](asio::ip::tcp::endpoint ep, session_options so, connection_gate* gate) -> asio::awaitable<starttls_facts> {
      std::string key = gate_key(ep.address());
      if (gate) co_await gate->acquire(key);
      struct pass {
        connection_gate* g;
        std::string k;
        ~pass() {
          if (g) g->release(k);
        }
      } held{gate, key};
      auto session = run_starttls_session(ep, std::move(so), nullptr);
      co_return co_await std::move(session);
    };
    asio::co_spawn(ex, task(server, std::move(so), gate), [st, i](std::exception_ptr e, starttls_facts s) {
      profile_handshake& h = st->results[i];
      if (e) {
        h.error = {session_phase::tls, session_error_code::io_error, "the replay stopped"};
      } else {
        h.established = s.tls.established;
        h.protocol = s.tls.protocol;
        h.cipher = s.tls.cipher;
        h.group = s.tls.group;
        if (!s.tls.chain.empty()) h.leaf = s.tls.chain.front();
        h.chain_digests = std::move(s.tls.dane.chain_digests);
        h.error = s.error;
      }
      if (--st->left == 0) st->done.cancel();
    });
  }
  auto wait = st->done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  co_await std::move(wait);
  f.handshakes = st->results;
  co_return f;
}

}  // namespace mxtls
