// Check "tls-enum": what a server accepts, found with ClientHellos of the probe's own, each in
// a STARTTLS session of its own (banner, EHLO, STARTTLS, handshake, QUIT).
//
//  1. Versions: one hello per version, pinned to it, offering everything else.
//  2. For each accepted version, at once:
//     - suites in the server's order: offer every suite OpenSSL can offer at that version,
//       note the one chosen, offer the rest, until the server refuses what is left (TLS 1.3
//       suites the same way, through SSL_CTX_set_ciphersuites); then the accepted ones
//       reversed: the same first choice means the server's preference decides;
//     - groups, each offered alone, at the highest version;
//     - signature algorithms at TLS 1.2, by elimination as the suites (eliminate_sigalgs),
//       else each offered alone at TLS 1.3: the certificate each one gets shows every
//       certificate the server chooses between (RSA, ECDSA);
//     - at the highest version up to TLS 1.2, the certificate chosen by suite: the one sent
//       with the suites of RSA and of ECDSA authentication among those found.
//  The handshake of everything at each version also gives secure renegotiation (RFC 5746),
//  compression, OCSP stapling and a session ticket (an EHLO inside TLS lets a TLS 1.3
//  server's tickets arrive). Every session waits for its place: the per-address gate of
//  mxtls scan, and this check's own limit of handshakes at once.
//
// The hellos that need only the server's choice (the suites of each version, the groups and
// the TLS 1.2 signature schemes) are written by the enumeration itself and given up on once
// the server's first flight is in (tls_hello.hpp says why): a TLS 1.3 group is offered alone
// with an empty key_share, and the server names it in a HelloRetryRequest without computing
// a key. The other hellos are OpenSSL's and complete the handshake.
//
// The OpenSSL hellos come from a library context of their own with OpenSSL's default and legacy
// providers and no openssl.cnf: security level 0 and every suite OpenSSL 3.0 still has (RC4
// and SEED live in the legacy provider), whatever the system's configuration says.
#include "net/tls_enum.hpp"

#include <openssl/comp.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ssl/context.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "mxtls/reply.hpp"
#include "net/dane_tls.hpp"
#include "net/smtp_session.hpp"
#include "net/started_task.hpp"
#include "net/tls_hello.hpp"

namespace mxtls {

using namespace asio::experimental::awaitable_operators;

namespace {

struct version_row {
  const char* name;
  int number;
};
// Highest first: the order of tls_enum_facts::versions.
constexpr version_row versions[] = {
    {"TLSv1.3", TLS1_3_VERSION}, {"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1", TLS1_VERSION}};

constexpr const char* every_suite = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";  // COMPLEMENTOFALL: the NULL-encryption suites
constexpr const char* every_tls13_suite =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:"
    "TLS_AES_128_CCM_8_SHA256";
// Every group OpenSSL 3.0 knows for TLS, as the probe's own hello offers them (live_session.cpp).
constexpr const char* every_group[] = {
    "X25519",    "X448",      "P-256",     "P-384",     "P-521",     "ffdhe2048", "ffdhe3072", "ffdhe4096",  "ffdhe6144",
    "ffdhe8192", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "secp256k1", "secp224r1", "secp224k1",
    "secp192r1", "secp192k1", "secp160r1", "secp160r2", "secp160k1", "sect571r1", "sect571k1", "sect409r1",  "sect409k1",
    "sect283r1", "sect283k1", "sect239k1", "sect233r1", "sect233k1", "sect193r1", "sect193r2", "sect163r1", "sect163r2",
    "sect163k1"};
// Signature algorithms (RFC 8446 §4.2.3 names, and OpenSSL's for the TLS 1.2-only ones).
constexpr const char* every_sigalg[] = {
    "ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512", "ed25519",           "ed448",
    "rsa_pss_pss_sha256",     "rsa_pss_pss_sha384",     "rsa_pss_pss_sha512",     "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384",
    "rsa_pss_rsae_sha512",    "rsa_pkcs1_sha256",       "rsa_pkcs1_sha384",       "rsa_pkcs1_sha512",  "ECDSA+SHA224",
    "RSA+SHA224",             "ecdsa_sha1",             "rsa_pkcs1_sha1",         "DSA+SHA256",        "DSA+SHA1"};

// The providers' library context of every hello here (made once, kept for the process).
OSSL_LIB_CTX* enum_library() {
  static OSSL_LIB_CTX* lib = [] {
    OSSL_LIB_CTX* l = OSSL_LIB_CTX_new();
    if (l) {
      OSSL_PROVIDER_load(l, "default");
      OSSL_PROVIDER_load(l, "legacy");  // may be missing: its suites are then not offered
      ERR_clear_error();
    }
    return l;
  }();
  return lib;
}

bool compression_available() { return sk_SSL_COMP_num(SSL_COMP_get_compression_methods()) > 0; }

// One ClientHello: the version it is pinned to and what it offers (empty: everything).
struct hello {
  int version = 0;           // OpenSSL's hellos offer every suite and group of it
  std::string sigalgs;       // empty: OpenSSL's own list (all of them at level 0)
  bool ehlo_inside = false;  // EHLO inside TLS, so that TLS 1.3 tickets arrive
  // Written by tls_hello instead (sigalgs and ehlo_inside then unused): the server's choice
  // only.
  std::optional<tls_hello::offer> own;
  // An own TLS 1.2 hello offering one signature scheme: a ServerKeyExchange signed with
  // another is a refusal (OpenSSL's handshake would fail on it).
  std::uint16_t signed_with = 0;
};

struct ctx_free {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// Every group of every_group, as OpenSSL's list.
const std::string& every_group_list() {
  static const std::string groups = [] {
    std::string g;
    for (const char* name : every_group) g += (g.empty() ? "" : ":") + std::string(name);
    return g;
  }();
  return groups;
}

// The client context of the enumerations (SSL_CTX_new costs more than a handshake in
// OpenSSL 3.0). It offers every suite and group; each hello's version and signature
// algorithms are set on its own connection (apply), as parsing the suite and group lists
// for each connection cost more than the rest of an own hello's work on this side. Nothing
// on the context changes after this, so one serves every enumeration of the process, on
// every thread.
std::shared_ptr<asio::ssl::context> base_context() {
  std::unique_ptr<SSL_CTX, ctx_free> c(SSL_CTX_new_ex(enum_library(), nullptr, TLS_client_method()));
  if (!c) throw std::runtime_error("OpenSSL cannot make the TLS enumeration's client context");
  SSL_CTX* x = c.get();
  SSL_CTX_set_verify(x, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_mode(x, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(x, 1);
  SSL_CTX_set_security_level(x, 0);
  // Every suite of both lists: each hello's pinned version decides which apply.
  if (SSL_CTX_set_cipher_list(x, every_suite) != 1 || SSL_CTX_set_ciphersuites(x, every_tls13_suite) != 1 ||
      SSL_CTX_set1_groups_list(x, every_group_list().c_str()) != 1)
    throw std::runtime_error("OpenSSL refuses the TLS enumeration's suites or groups");
  SSL_CTX_set_options(x, SSL_OP_LEGACY_SERVER_CONNECT);
  if (compression_available()) SSL_CTX_clear_options(x, SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_tlsext_status_type(x, TLSEXT_STATUSTYPE_ocsp);
  // A TLS 1.3 ticket replaces the connection's session (SSL_get_session) as it arrives.
  SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  return std::make_shared<asio::ssl::context>(c.release());  // owns it now
}

// That context, made once, on a thread of its own (prepare_tls_enum starts it when a probe
// that enumerates begins). Never freed: it lives as long as the process, and a program
// using the library may clean OpenSSL up (OPENSSL_cleanup) before static objects go. A
// context OpenSSL could not make stays an error for the process.
const std::shared_future<std::shared_ptr<asio::ssl::context>>& shared_context() {
  static const auto* made =
      new std::shared_future<std::shared_ptr<asio::ssl::context>>(std::async(std::launch::async, base_context).share());
  return *made;
}

// The hello's offer on one connection (the suites and groups are the context's); false when
// OpenSSL refuses it (nothing of it left).
bool apply(SSL* x, const hello& h) {
  bool ok = SSL_set_min_proto_version(x, h.version) == 1 && SSL_set_max_proto_version(x, h.version) == 1 &&
            (h.sigalgs.empty() || SSL_set1_sigalgs_list(x, h.sigalgs.c_str()) == 1);
  if (!ok) ERR_clear_error();
  return ok;
}

using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;

// Whether OpenSSL can make this hello at all (on a connection never used).
bool can_make(SSL_CTX* ctx, const hello& h) {
  ssl_ptr ssl(SSL_new(ctx), &SSL_free);
  return ssl && apply(ssl.get(), h);
}

using suite_list = std::vector<const SSL_CIPHER*>;

// The suites a hello pinned to `version` offers when it offers everything, in OpenSSL's order.
suite_list offerable_suites(SSL_CTX* ctx, int version) {
  suite_list suites;
  ssl_ptr ssl(SSL_new(ctx), &SSL_free);
  if (!ssl || !apply(ssl.get(), {.version = version})) return suites;
  if (STACK_OF(SSL_CIPHER)* list = SSL_get1_supported_ciphers(ssl.get())) {
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) suites.push_back(sk_SSL_CIPHER_value(list, i));
    sk_SSL_CIPHER_free(list);
  }
  return suites;
}

std::uint16_t suite_id(const SSL_CIPHER* c) { return static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(c)); }

// The suite of `list` with this name or number; end() when it has none.
suite_list::const_iterator suite_named(const suite_list& list, const std::string& name) {
  return std::find_if(list.begin(), list.end(), [&](const SSL_CIPHER* c) { return name == SSL_CIPHER_get_name(c); });
}
suite_list::const_iterator suite_numbered(const suite_list& list, std::uint16_t id) {
  return std::find_if(list.begin(), list.end(), [&](const SSL_CIPHER* c) { return suite_id(c) == id; });
}

// A certificate as the enumeration reports it: its facts, its own signature and the SHA-256
// of its DER SubjectPublicKeyInfo, as a "3 1 1" record holds it (RFC 6698 §2.1.3).
tls_enum_certificate enum_certificate(X509* leaf, certificate_facts facts) {
  tls_enum_certificate c;
  c.leaf = std::move(facts);
  c.signature_algorithm = OBJ_nid2ln(X509_get_signature_nid(leaf));
  c.spki_sha256 = tlsa_digest(leaf, 1, 1);
  return c;
}

bool is_tls13_group(std::string_view g) {
  return g.rfind("ffdhe", 0) == 0 || g == "X25519" || g == "X448" || g.rfind("P-", 0) == 0;
}

// The signature schemes of every own hello (RFC 8446 §4.2.3 and the TLS 1.2 pairs of RFC
// 5246 §7.4.1.4.1): those of every_sigalg.
constexpr std::uint16_t own_sigalg_ids[] = {0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805,
                                            0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0203, 0x0201, 0x0402, 0x0202};
static_assert(std::size(own_sigalg_ids) == std::size(every_sigalg), "one scheme number per name, in the same order");
const std::vector<std::uint16_t> own_sigalgs(std::begin(own_sigalg_ids), std::end(own_sigalg_ids));

// An own hello at `version` offering `suites`, with the groups of that version.
tls_hello::offer own_offer(int version, const suite_list& suites, const std::string& sni) {
  tls_hello::offer o{.version = version, .sigalgs = own_sigalgs, .sni = sni};
  for (const SSL_CIPHER* c : suites) o.suites.push_back(suite_id(c));
  for (const char* g : every_group)
    if (version == TLS1_3_VERSION ? is_tls13_group(g) : std::string_view(g).rfind("ffdhe", 0) != 0)
      o.groups.push_back(tls_hello::group_id(g));
  return o;
}

std::string without_prefix(int nid, const char* prefix) {
  if (nid == NID_undef) return "";
  std::string sn = OBJ_nid2sn(nid);
  if (sn.rfind(prefix, 0) == 0) sn.erase(0, std::strlen(prefix));
  return sn == "ANY" ? "any" : sn;
}

tls_enum_suite describe(const SSL_CIPHER* c) {
  int enc = SSL_CIPHER_get_cipher_nid(c);
  return {.name = SSL_CIPHER_get_name(c),
          .kx = without_prefix(SSL_CIPHER_get_kx_nid(c), "Kx"),
          .auth = without_prefix(SSL_CIPHER_get_auth_nid(c), "Auth"),
          .enc = enc == NID_undef ? "NULL" : OBJ_nid2sn(enc),
          .bits = SSL_CIPHER_get_bits(c, nullptr)};
}

// The NID a group name stands for ("P-256" is prime256v1).
int group_nid(const std::string& name) {
  int nid = EC_curve_nist2nid(name.c_str());
  return nid != NID_undef ? nid : OBJ_sn2nid(name.c_str());
}

struct hello_result {
  bool made = false;         // the hello was sent (OpenSSL accepted the offer, a place was free)
  bool established = false;
  std::string protocol, group, signature_digest, compression;
  tls_enum_suite suite;
  int temp_key_bits = 0;
  std::optional<bool> secure_renegotiation;
  bool ocsp = false, ticket = false;
  std::optional<tls_enum_certificate> leaf;
  session_error error;
  std::uint16_t own_group = 0;  // an own hello's: the group the server named
  std::uint16_t own_signature = 0;  // an own TLS 1.2 hello's: the ServerKeyExchange's scheme (0: none)
};

// What every hello of one enumeration shares (alive as long as any of its sessions).
struct run_state {
  asio::ip::tcp::endpoint server;
  session_options options;
  tls_enum_limits limits;
  connection_gate* gate = nullptr;  // mxtls scan's, per address
  connection_gate own{1};           // this check's handshakes at once (reset in run_tls_enum)
  std::shared_ptr<asio::ssl::context> ctx;  // shared_context(), set by run_tls_enum once made
  std::string key;
  std::size_t handshakes = 0;
  bool complete = true;
  std::array<suite_list, std::size(versions)> offerable;  // per version (the order of versions), made once
  suite_list known;  // every suite of every version, for the own hellos' answers
  // The own hellos' leaves, by their DER: a server sends one or two certificates to dozens of
  // hellos, and OpenSSL 3.0's d2i_X509 (its key decoders above all) costs more than the rest
  // of such a hello's work on this side. A few distinct leaves at most are kept.
  std::map<std::string, tls_enum_certificate, std::less<>> own_leaves;
  const suite_list& offerable_at(int version) const {
    for (std::size_t i = 0; i < std::size(versions); ++i)
      if (versions[i].number == version) return offerable[i];
    throw std::logic_error("not a TLS version of the enumeration");
  }
  run_state(asio::ip::tcp::endpoint s, session_options o, tls_enum_limits l, connection_gate* g)
      : server(s), options(std::move(o)), limits(l), gate(g), own(l.concurrency), key(gate_key(s.address())) {}
  bool stopped() const { return options.stop && options.stop->requested(); }
};

void read_facts(SSL* ssl, const tls_facts& t, hello_result& r) {
  r.established = true;
  r.protocol = t.protocol;
  r.group = t.group;
  r.signature_digest = t.signature_digest;
  r.temp_key_bits = t.temp_key_bits;
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) r.suite = describe(c);
  if (SSL_version(ssl) <= TLS1_2_VERSION) r.secure_renegotiation = SSL_get_secure_renegotiation_support(ssl) == 1;
  const unsigned char* ocsp = nullptr;
  r.ocsp = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp) > 0 && ocsp;
  if (const COMP_METHOD* m = SSL_get_current_compression(ssl)) r.compression = SSL_COMP_get_name(m);
  if (X509* leaf = SSL_get0_peer_certificate(ssl)) r.leaf = enum_certificate(leaf, t.chain.empty() ? certificate_facts{} : t.chain.front());
}

// Holds a place at a gate for as long as it lives.
struct place {
  connection_gate* gate;
  std::string key;
  ~place() {
    if (gate) gate->release(key);
  }
};

// An own hello's exchange in place of OpenSSL's handshake (session_options::external_handshake):
// the hello out, the server's first flight in, as far as `out` needs; the connection is given
// up afterwards. True when the server chose (a ServerHello or a retry).
decltype(session_options::external_handshake) own_exchange(std::string hello_octets, bool tls13, std::chrono::milliseconds timeout,
                                                    std::shared_ptr<run_state> st, tls_hello::answer* out) {
  return [hello_octets = std::move(hello_octets), tls13, timeout, st, out](
             asio::ip::tcp::socket& sock, tls_facts&, session_error& error) -> asio::awaitable<bool> {
    using asio::experimental::as_tuple;
    auto failed = [&](session_error_code code, std::string detail) {
      error = {session_phase::tls, code, std::move(detail)};
      return false;
    };
    asio::steady_timer timer(sock.get_executor(), std::chrono::steady_clock::now() + timeout);
    auto write = asio::async_write(sock, asio::buffer(hello_octets), as_tuple(asio::use_awaitable));
    auto expiry = timer.async_wait(as_tuple(asio::use_awaitable));
    auto sent = co_await (std::move(write) || std::move(expiry));
    if (sent.index() == 1) co_return failed(session_error_code::handshake_timeout, std::to_string(timeout.count()));
    if (auto [e, n] = std::get<0>(sent); e) co_return failed(session_error_code::io_error, e.message());
    auto dhe = [st](std::uint16_t id) {
      auto c = suite_numbered(st->known, id);
      return c != st->known.end() && (SSL_CIPHER_get_kx_nid(*c) == NID_kx_dhe || SSL_CIPHER_get_kx_nid(*c) == NID_kx_dhe_psk);
    };
    std::string got;
    std::array<char, 16384> buf;
    while (true) {
      auto read = sock.async_read_some(asio::buffer(buf), as_tuple(asio::use_awaitable));
      auto wait = timer.async_wait(as_tuple(asio::use_awaitable));
      auto res = co_await (std::move(read) || std::move(wait));
      if (res.index() == 1) co_return failed(session_error_code::handshake_timeout, std::to_string(timeout.count()));
      auto [e, n] = std::get<0>(res);
      got.append(buf.data(), n);
      tls_hello::answer a = tls_hello::read_answer(got, tls13, dhe);
      if (a.kind == tls_hello::answer_kind::incomplete) {
        if (e) co_return failed(session_error_code::handshake_failed, e == asio::error::eof ? "the server closed the connection" : e.message());
        continue;
      }
      *out = a;
      if (a.kind == tls_hello::answer_kind::alert)
        co_return failed(session_error_code::handshake_failed,
                         std::string("the server sent the alert ") + SSL_alert_desc_string_long(a.alert));
      if (a.kind == tls_hello::answer_kind::malformed) co_return failed(session_error_code::handshake_failed, a.why);
      co_return true;
    }
  };
}

// What the server chose for an own hello, as a hello_result.
void read_own_answer(run_state& st, const hello& h, const tls_hello::answer& a, hello_result& r) {
  if (a.kind != tls_hello::answer_kind::server_hello && a.kind != tls_hello::answer_kind::retry) return;
  if (a.version != h.version) return;  // another version than the one offered: this one refused
  auto it = suite_numbered(st.known, a.suite);
  if (it == st.known.end()) return;  // a suite not offered
  if (h.signed_with && a.key_signature && a.key_signature != h.signed_with) return;
  r.established = true;
  r.suite = describe(*it);
  r.own_group = a.group;
  r.own_signature = a.key_signature;
  r.temp_key_bits = a.dh_prime_bits;
  if (a.leaf.empty()) return;
  if (auto known = st.own_leaves.find(a.leaf); known != st.own_leaves.end()) {
    r.leaf = known->second;
    return;
  }
  const unsigned char* der = reinterpret_cast<const unsigned char*>(a.leaf.data());
  std::unique_ptr<X509, decltype(&X509_free)> leaf(d2i_X509(nullptr, &der, static_cast<long>(a.leaf.size())), &X509_free);
  if (!leaf) return;  // the choice stands; the certificate does not parse
  r.leaf = enum_certificate(leaf.get(), describe_certificate(leaf.get()));
  if (st.own_leaves.size() < 8) st.own_leaves.emplace(a.leaf, *r.leaf);
}

// Banner, EHLO and STARTTLS: true when the server says 220 to STARTTLS.
asio::awaitable<bool> up_to_starttls(smtp_session& s, const asio::ip::tcp::endpoint& server, const std::string& ehlo_name,
                                     std::size_t max_reply_octets, session_error& error) {
  std::string banner, ehlo, answer;
  if (!co_await s.open(server) || !co_await s.read_reply(banner, session_phase::banner)) {
    error = s.error();
    co_return false;
  }
  if (reply_code(banner) != 220) {
    error = {session_phase::banner, session_error_code::bad_banner, std::to_string(reply_code(banner))};
    co_return false;
  }
  std::string cmd = "EHLO " + ehlo_name;
  if (!co_await s.send(cmd, session_phase::ehlo) || !co_await s.read_reply(ehlo, session_phase::ehlo)) {
    error = s.error();
    co_return false;
  }
  ehlo += s.take_buffered(max_reply_octets);  // lines after the final line: not this check's concern
  if (!co_await s.send("STARTTLS", session_phase::starttls) || !co_await s.read_reply(answer, session_phase::starttls)) {
    error = s.error();
    co_return false;
  }
  if (reply_code(answer) != 220) {
    error = {session_phase::starttls, session_error_code::unexpected_reply, std::to_string(reply_code(answer))};
    co_return false;
  }
  co_return true;
}

// (Values are made before each co_await and awaited as locals: g++ 12 and temporaries, see
// mock_server.cpp.)
asio::awaitable<hello_result> try_hello(std::shared_ptr<run_state> st, hello h) {
  hello_result r;
  if (st->stopped() || st->handshakes >= st->limits.max_handshakes) {
    st->complete = false;
    co_return r;
  }
  std::string own_octets = h.own ? tls_hello::client_hello(*h.own) : std::string();
  if (h.own ? own_octets.empty() : !can_make(st->ctx->native_handle(), h)) co_return r;  // nothing of this offer can be made: not sent
  ++st->handshakes;
  r.made = true;
  if (st->gate) {
    auto wait = st->gate->acquire(st->key);
    co_await std::move(wait);
  }
  place outer{st->gate, st->key};
  auto wait_own = st->own.acquire(st->key);
  co_await std::move(wait_own);
  place own{&st->own, st->key};

  session_options so = st->options;
  so.tls_context = st->ctx;
  so.tls_setup = [h](SSL* ssl) { apply(ssl, h); };
  tls_hello::answer own_answer;
  if (h.own) so.external_handshake = own_exchange(std::move(own_octets), h.version == TLS1_3_VERSION, so.timeouts.tls, st, &own_answer);
  auto ex = co_await asio::this_coro::executor;
  std::vector<session_event> events;
  smtp_session s(ex, so, events);
  auto prefix = up_to_starttls(s, st->server, so.ehlo_name, so.max_reply_octets, r.error);
  if (!co_await std::move(prefix)) co_return r;
  tls_facts t;
  std::size_t discarded = 0;
  bool up = co_await s.start_tls(t, discarded, session_phase::tls);
  if (h.own) {  // the connection is dropped here: the server's choice is all this hello asks
    if (!up) r.error = s.error();
    read_own_answer(*st, h, own_answer, r);
    s.reset();
    co_return r;
  }
  if (!up) {
    r.error = s.error();
    co_return r;
  }
  SSL* ssl = s.native_tls();
  read_facts(ssl, t, r);
  if (h.ehlo_inside) {
    std::string inside;
    std::string cmd = "EHLO " + so.ehlo_name;
    if (co_await s.send(cmd, session_phase::ehlo_after_tls)) co_await s.read_reply(inside, session_phase::ehlo_after_tls);
  }
  SSL_SESSION* session = SSL_get_session(ssl);
  r.ticket = session && SSL_SESSION_has_ticket(session) == 1;
  co_await s.send("QUIT", session_phase::quit);
  co_return r;
}

// Each task at once; the results in the tasks' order when the last one is done (a task that
// failed leaves its result as T{}).
template <class T>
asio::awaitable<std::vector<T>> all_of(std::vector<asio::awaitable<T>> tasks) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<started_task<T>> started;
  started.reserve(tasks.size());
  for (auto& t : tasks) started.emplace_back(ex, std::move(t));
  std::vector<T> results(started.size());
  for (std::size_t i = 0; i < started.size(); ++i) {
    try {
      auto one = started[i].get();
      results[i] = co_await std::move(one);
    } catch (...) {
    }
  }
  co_return results;
}

// One version's suites, in the order the server chooses them (see the top of the file).
struct suite_run {
  std::vector<tls_enum_suite> suites;
  std::optional<bool> server_order;
  int dh_bits = 0;  // smallest DHE group seen
  // The certificate sent with the first suite of RSA and of ECDSA authentication found (TLS
  // 1.2 and below, where own hellos read it): the certificate chosen by suite.
  std::optional<tls_enum_certificate> rsa_leaf, ecdsa_leaf;
};

// Suites from `offer` in the order the server chooses them, one hello after another: offer
// them all, note the chosen one, offer the rest, until the server refuses what is left.
asio::awaitable<std::vector<hello_result>> eliminate(std::shared_ptr<run_state> st, int version, suite_list offer) {
  std::vector<hello_result> chosen;
  while (!offer.empty()) {
    auto one = try_hello(st, hello{.version = version, .own = own_offer(version, offer, st->options.sni)});
    hello_result r = co_await std::move(one);
    if (!r.established) break;
    auto it = suite_named(offer, r.suite.name);
    if (it == offer.end()) break;  // a suite not offered: nothing more can be learnt this way
    offer.erase(it);
    chosen.push_back(std::move(r));
  }
  co_return chosen;
}

// One version's suites. First every suite offered in OpenSSL's order and in the reverse, at
// once: the same choice both ways means the server's order decides (or only one suite is
// accepted), and the suites are found one after another from there; different choices mean
// the client's order decides, so the offer is cut into parts whose suites are found side by
// side, each part in order, and the parts joined keep the client's order.
asio::awaitable<suite_run> enumerate_suites(std::shared_ptr<run_state> st, int version) {
  suite_run out;
  suite_list offer = st->offerable_at(version);
  if (offer.empty()) co_return out;
  suite_list reversed(offer.rbegin(), offer.rend());
  std::vector<asio::awaitable<hello_result>> both;
  both.push_back(try_hello(st, hello{.version = version, .own = own_offer(version, offer, st->options.sni)}));
  both.push_back(try_hello(st, hello{.version = version, .own = own_offer(version, reversed, st->options.sni)}));
  auto first = all_of(std::move(both));
  std::vector<hello_result> ends = co_await std::move(first);
  if (!ends[0].established) co_return out;
  std::vector<hello_result> found;
  if (!ends[1].established || ends[1].suite.name == ends[0].suite.name) {
    auto it = suite_named(offer, ends[0].suite.name);
    if (it != offer.end()) offer.erase(it);
    auto rest = eliminate(st, version, std::move(offer));
    found = co_await std::move(rest);
    found.insert(found.begin(), std::move(ends[0]));
    if (found.size() >= 2 && ends[1].established) out.server_order = true;
  } else {
    std::size_t parts = std::max<std::size_t>(1, std::min<std::size_t>(st->limits.concurrency, offer.size()));
    std::vector<asio::awaitable<std::vector<hello_result>>> runs;
    for (std::size_t k = 0; k < parts; ++k) {
      std::size_t from = offer.size() * k / parts, to = offer.size() * (k + 1) / parts;
      runs.push_back(eliminate(st, version, suite_list(offer.begin() + from, offer.begin() + to)));
    }
    auto all = all_of(std::move(runs));
    std::vector<std::vector<hello_result>> by_part = co_await std::move(all);
    for (auto& part : by_part)
      for (auto& r : part) found.push_back(std::move(r));
    if (found.size() >= 2) out.server_order = false;
  }
  for (auto& r : found) {
    if (r.suite.kx == "DHE" && r.temp_key_bits > 0 && (out.dh_bits == 0 || r.temp_key_bits < out.dh_bits)) out.dh_bits = r.temp_key_bits;
    auto* by_auth = r.suite.auth == "RSA" ? &out.rsa_leaf : r.suite.auth == "ECDSA" ? &out.ecdsa_leaf : nullptr;
    if (by_auth && r.leaf && !*by_auth) *by_auth = std::move(r.leaf);
    out.suites.push_back(std::move(r.suite));
  }
  co_return out;
}

// The TLS 1.2 signature schemes of `part` (indices into every_sigalg) the server signs its
// key exchange with, one hello after another: offer them all, note the one it signed with,
// offer the rest, until it refuses what is left. A scheme offered alone is accepted when the
// server signs with it; one of several, when the server chose it over the others, so each
// accepted scheme is found once and the refusal at the end stands for the ones left. An
// answer that shows no scheme of the offer (a key exchange that is not signed: RSA) tells
// nothing of the rest, which are then offered alone, at once. Results by index.
asio::awaitable<std::vector<std::pair<std::size_t, hello_result>>> eliminate_sigalgs(std::shared_ptr<run_state> st,
                                                                                    std::vector<std::size_t> part) {
  std::vector<std::pair<std::size_t, hello_result>> found;
  auto offer = [&st](const std::vector<std::size_t>& schemes) {
    hello h{.version = TLS1_2_VERSION, .own = own_offer(TLS1_2_VERSION, st->offerable_at(TLS1_2_VERSION), st->options.sni)};
    h.own->sigalgs.clear();
    for (std::size_t k : schemes) h.own->sigalgs.push_back(own_sigalg_ids[k]);
    if (schemes.size() == 1) h.signed_with = own_sigalg_ids[schemes.front()];
    return h;
  };
  while (!part.empty()) {
    auto one = try_hello(st, offer(part));
    hello_result r = co_await std::move(one);
    if (!r.established) break;
    if (part.size() == 1) {
      found.emplace_back(part.front(), std::move(r));
      break;
    }
    auto it = std::find_if(part.begin(), part.end(), [&](std::size_t k) { return own_sigalg_ids[k] == r.own_signature; });
    if (it == part.end()) {
      std::vector<asio::awaitable<hello_result>> alone;
      for (std::size_t k : part) alone.push_back(try_hello(st, offer({k})));
      auto each = all_of(std::move(alone));
      std::vector<hello_result> results = co_await std::move(each);
      for (std::size_t i = 0; i < part.size(); ++i)
        if (results[i].established) found.emplace_back(part[i], std::move(results[i]));
      break;
    }
    found.emplace_back(*it, std::move(r));
    part.erase(it);
  }
  co_return found;
}

void add_certificate(std::vector<tls_enum_certificate>& all, tls_enum_certificate c, const std::string& label) {
  auto it = std::find_if(all.begin(), all.end(), [&](const tls_enum_certificate& x) { return x.leaf.sha256 == c.leaf.sha256; });
  if (it == all.end()) {
    all.push_back(std::move(c));
    it = all.end() - 1;
  }
  if (!label.empty() && std::find(it->chosen_for.begin(), it->chosen_for.end(), label) == it->chosen_for.end())
    it->chosen_for.push_back(label);
}

}  // namespace

void prepare_tls_enum() { shared_context(); }

asio::awaitable<tls_enum_facts> run_tls_enum(asio::ip::tcp::endpoint server, session_options options,
                                             tls_enum_limits limits, connection_gate* gate) {
  options.on_event = nullptr;  // their lines are not the transcript's
  options.decide_starttls = nullptr;
  options.rcpt.clear();
  options.dane = {};
  limits.concurrency = std::max<std::size_t>(limits.concurrency, 1);
  auto st = std::make_shared<run_state>(server, std::move(options), limits, gate);
  // The context may still be in the making: waited for without holding up the io_context
  // (the main session runs beside this check).
  const auto& shared = shared_context();
  auto made = poll_until([&shared] { return shared.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
  co_await std::move(made);
  st->ctx = shared.get();
  for (std::size_t i = 0; i < std::size(versions); ++i) {
    st->offerable[i] = offerable_suites(st->ctx->native_handle(), versions[i].number);
    for (const SSL_CIPHER* c : st->offerable[i])
      if (std::find(st->known.begin(), st->known.end(), c) == st->known.end()) st->known.push_back(c);
  }
  tls_enum_facts f;
  f.compression_offered = compression_available();

  // 1. Versions.
  std::vector<asio::awaitable<hello_result>> version_hellos;
  // An EHLO inside TLS only at TLS 1.3, whose tickets come after the handshake; below, a
  // ticket comes within it (NewSessionTicket before the server's Finished).
  for (const auto& v : versions)
    version_hellos.push_back(try_hello(st, {.version = v.number, .ehlo_inside = v.number == TLS1_3_VERSION}));
  auto first = all_of(std::move(version_hellos));
  std::vector<hello_result> by_version = co_await std::move(first);
  int highest = 0, highest_12 = 0;
  bool has_12 = false, has_13 = false;
  for (std::size_t i = 0; i < std::size(versions); ++i) {
    const hello_result& r = by_version[i];
    tls_enum_version v;
    v.version = versions[i].name;
    v.accepted = r.established;
    if (r.established) {
      v.secure_renegotiation = r.secure_renegotiation;
      v.ocsp_stapled = r.ocsp;
      v.session_ticket = r.ticket;
      v.compression = r.compression;
      v.signature_digest = r.signature_digest;
      highest = std::max(highest, versions[i].number);
      if (versions[i].number <= TLS1_2_VERSION) highest_12 = std::max(highest_12, versions[i].number);
      has_12 = has_12 || versions[i].number == TLS1_2_VERSION;
      has_13 = has_13 || versions[i].number == TLS1_3_VERSION;
      if (r.leaf) add_certificate(f.certificates, *r.leaf, "");
      if (r.suite.kx == "DHE" && r.temp_key_bits > 0 && (f.dh_bits == 0 || r.temp_key_bits < f.dh_bits)) f.dh_bits = r.temp_key_bits;
    } else {
      v.error = r.error;
    }
    f.versions.push_back(std::move(v));
  }

  // 2. Suites per version, groups, signature algorithms, certificates by suite.
  std::vector<asio::awaitable<suite_run>> chains;
  std::vector<std::size_t> chain_of;
  for (std::size_t i = 0; i < f.versions.size(); ++i)
    if (f.versions[i].accepted) {
      chains.push_back(enumerate_suites(st, versions[i].number));
      chain_of.push_back(i);
    }
  std::vector<asio::awaitable<hello_result>> group_hellos, sigalg_hellos;
  std::vector<asio::awaitable<std::vector<std::pair<std::size_t, hello_result>>>> sigalg_runs;
  std::vector<std::string> group_names, sigalg_names;
  if (highest) {
    f.groups_version = std::find_if(std::begin(versions), std::end(versions), [&](const version_row& v) { return v.number == highest; })->name;
    for (const char* g : every_group) {
      // TLS 1.3 has X25519, X448, the NIST curves and the ffdhe groups (RFC 8446 §4.2.7);
      // TLS 1.2 has the elliptic curves only (OpenSSL 3.0 negotiates no ffdhe group there).
      if (highest == TLS1_3_VERSION ? !is_tls13_group(g) : std::string_view(g).rfind("ffdhe", 0) == 0) continue;
      group_names.emplace_back(g);
      hello h{.version = highest, .own = own_offer(highest, st->offerable_at(highest), st->options.sni)};
      // TLS 1.3: the group alone and no key share: a server that has it names it in a
      // HelloRetryRequest. At TLS 1.2 and below an ECDSA certificate needs its curve among
      // the client's groups (RFC 8422 §5.1; OpenSSL checks it): the NIST curves follow the
      // group tried, so that a server that accepts the group with a P-256 certificate shows
      // it (a server that picks groups by its own order could then pick a NIST curve
      // instead: see docs/mxtls-probe.md).
      h.own->groups = {tls_hello::group_id(g)};
      if (highest != TLS1_3_VERSION)
        for (const char* nist : {"P-256", "P-384", "P-521"})
          if (std::string_view(g) != nist) h.own->groups.push_back(tls_hello::group_id(nist));
      group_hellos.push_back(try_hello(st, std::move(h)));
    }
  }
  int sigalg_version = has_12 ? TLS1_2_VERSION : has_13 ? TLS1_3_VERSION : 0;
  if (sigalg_version) {
    f.signature_algorithms_version = sigalg_version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3";
    for (const char* a : every_sigalg) sigalg_names.emplace_back(a);
    if (sigalg_version == TLS1_2_VERSION) {
      // At TLS 1.2 the certificate travels in the clear: own hellos, given up on after the
      // server's first flight, by elimination in three runs side by side, one per kind of
      // key: ECDSA and EdDSA; RSA-PSS; RSA PKCS #1 and DSA.
      std::array<std::vector<std::size_t>, 3> parts;
      for (std::size_t k = 0; k < std::size(every_sigalg); ++k) {
        std::string_view name = every_sigalg[k];
        bool ec = name.rfind("ecdsa", 0) == 0 || name.rfind("ECDSA", 0) == 0 || name.rfind("ed", 0) == 0;
        parts[ec ? 0 : name.rfind("rsa_pss", 0) == 0 ? 1 : 2].push_back(k);
      }
      for (auto& part : parts) sigalg_runs.push_back(eliminate_sigalgs(st, std::move(part)));
    } else {
      // At TLS 1.3 only a finished handshake shows the certificate: OpenSSL's, each scheme alone.
      for (const char* a : every_sigalg) sigalg_hellos.push_back(try_hello(st, hello{.version = sigalg_version, .sigalgs = a}));
    }
  }
  auto c = all_of(std::move(chains));
  auto g = all_of(std::move(group_hellos));
  auto s = all_of(std::move(sigalg_hellos));
  auto e = all_of(std::move(sigalg_runs));
  auto together = std::move(c) && std::move(g) && std::move(s) && std::move(e);
  auto [suite_runs, groups, sigalgs, sigalgs_by_run] = co_await std::move(together);
  if (!sigalgs_by_run.empty()) {  // the runs' results in every_sigalg's order, as the alone ones
    sigalgs.assign(std::size(every_sigalg), hello_result{});
    for (auto& run : sigalgs_by_run)
      for (auto& [k, r] : run) sigalgs[k] = std::move(r);
  }

  for (std::size_t k = 0; k < suite_runs.size(); ++k) {
    tls_enum_version& v = f.versions[chain_of[k]];
    v.suites = std::move(suite_runs[k].suites);
    v.server_order = suite_runs[k].server_order;
    if (suite_runs[k].dh_bits && (f.dh_bits == 0 || suite_runs[k].dh_bits < f.dh_bits)) f.dh_bits = suite_runs[k].dh_bits;
  }
  for (std::size_t k = 0; k < groups.size(); ++k)
    if (groups[k].established && groups[k].own_group != 0 && groups[k].own_group == tls_hello::group_id(group_names[k]))
      f.groups.push_back(OBJ_nid2sn(group_nid(group_names[k])));
  for (std::size_t k = 0; k < sigalgs.size(); ++k)
    if (sigalgs[k].established) {
      f.signature_algorithms.push_back(sigalg_names[k]);
      if (sigalgs[k].leaf) add_certificate(f.certificates, std::move(*sigalgs[k].leaf), sigalg_names[k]);
    }
  // The certificate by suite, at the highest version up to TLS 1.2 (its suites' hellos read
  // the certificate that came with each).
  for (std::size_t k = 0; k < suite_runs.size(); ++k)
    if (versions[chain_of[k]].number == highest_12) {
      if (suite_runs[k].rsa_leaf) add_certificate(f.certificates, std::move(*suite_runs[k].rsa_leaf), "aRSA");
      if (suite_runs[k].ecdsa_leaf) add_certificate(f.certificates, std::move(*suite_runs[k].ecdsa_leaf), "aECDSA");
    }
  f.handshakes = st->handshakes;
  f.complete = st->complete && !st->stopped();
  co_return f;
}

}  // namespace mxtls
