// The enumeration's own ClientHellos (src/net/tls_hello.cpp) met by an OpenSSL server in
// memory, and the parse of server answers: real ones cut at every octet, and hostile ones.
#include "net/tls_hello.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "mxtls/scenario.hpp"
#include "mxtls/tls_identity.hpp"

namespace mxtls::tls_hello {
namespace {

struct server_options {
  std::string key = "ecdsa-p256";
  int max_version = TLS1_3_VERSION;
  std::string groups;  // empty: OpenSSL's defaults
};

// What an OpenSSL 3.0 server writes back to `hello`, from memory (no socket).
std::string server_answer(const std::string& hello, const server_options& so = {}) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  SSL_CTX_set_security_level(ctx.get(), 0);
  SSL_CTX_set_max_proto_version(ctx.get(), so.max_version);
  SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0");
  SSL_CTX_set_dh_auto(ctx.get(), 1);
  if (!so.groups.empty()) SSL_CTX_set1_groups_list(ctx.get(), so.groups.c_str());
  use_identity(ctx.get(), make_identity("mx.mxtls.test", certificate_kind::self_signed, {.key = so.key}));
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  BIO_write(in, hello.data(), static_cast<int>(hello.size()));
  SSL_set_bio(ssl.get(), in, out);
  SSL_accept(ssl.get());  // wants more (the client's next flight) or fails with an alert
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

const std::vector<std::uint16_t> sigalgs = {0x0403, 0x0804, 0x0401};

offer tls13_offer(std::vector<std::uint16_t> groups) {
  return {.version = 0x0304, .suites = {0x1301, 0x1302, 0x1303}, .groups = std::move(groups), .sigalgs = sigalgs, .sni = "mx.mxtls.test"};
}

TEST(TlsHello, ATls13GroupOfferedWithoutAShareIsNamedInARetry) {
  for (auto [name, id] : {std::pair{"ffdhe2048", 256}, std::pair{"X25519", 29}, std::pair{"P-384", 24}}) {
    std::string hello = client_hello(tls13_offer({group_id(name)}));
    ASSERT_FALSE(hello.empty());
    answer a = read_answer(server_answer(hello), true);
    EXPECT_EQ(a.kind, answer_kind::retry) << name << ": " << a.why;
    EXPECT_EQ(a.version, 0x0304) << name;
    EXPECT_EQ(a.group, id) << name;
    EXPECT_TRUE(a.suite == 0x1301 || a.suite == 0x1302 || a.suite == 0x1303) << name << " " << a.suite;
  }
}

TEST(TlsHello, AGroupTheServerLacksIsRefusedWithAnAlert) {
  answer a = read_answer(server_answer(client_hello(tls13_offer({group_id("ffdhe8192")})), {.groups = "X25519:P-256"}), true);
  EXPECT_EQ(a.kind, answer_kind::alert);
  EXPECT_EQ(a.alert, SSL_AD_HANDSHAKE_FAILURE);
}

TEST(TlsHello, ATls12FlightGivesTheSuiteAndTheCurve) {
  offer o{.version = 0x0303, .suites = {0xC02B}, .groups = {group_id("P-256"), group_id("X25519")}, .sigalgs = sigalgs};
  std::string flight = server_answer(client_hello(o));
  answer a = read_answer(flight, false);
  ASSERT_EQ(a.kind, answer_kind::server_hello) << a.why;
  EXPECT_EQ(a.version, 0x0303);
  EXPECT_EQ(a.suite, 0xC02B);
  EXPECT_TRUE(a.group == 23 || a.group == 29) << a.group;
  // Cut anywhere, the flight is not yet an answer.
  for (std::size_t n = 0; n < flight.size(); ++n) EXPECT_EQ(read_answer(flight.substr(0, n), false).kind, answer_kind::incomplete) << n;
}

TEST(TlsHello, ADheFlightGivesThePrimeSize) {
  offer o{.version = 0x0303, .suites = {0x009E}, .groups = {}, .sigalgs = sigalgs};  // DHE-RSA-AES128-GCM-SHA256
  std::string flight = server_answer(client_hello(o), {.key = "rsa-2048"});
  answer a = read_answer(flight, false, [](std::uint16_t s) { return s == 0x009E; });
  ASSERT_EQ(a.kind, answer_kind::server_hello) << a.why;
  EXPECT_EQ(a.suite, 0x009E);
  EXPECT_EQ(a.dh_prime_bits, 2048);
}

TEST(TlsHello, ATls13HelloOffersTls13Only) {
  // supported_versions names 1.3 alone: a server without it refuses (OpenSSL with the alert
  // protocol_version); one that ignores the extension answers 1.2, which the caller counts as
  // refused because it is not the version offered.
  std::string hello = client_hello({.version = 0x0304, .suites = {0x1301, 0xC02B}, .groups = {group_id("P-256")}, .sigalgs = sigalgs});
  answer a = read_answer(server_answer(hello, {.max_version = TLS1_2_VERSION}), true);
  EXPECT_EQ(a.kind, answer_kind::alert) << a.why;
  EXPECT_EQ(a.alert, SSL_AD_PROTOCOL_VERSION);
}

TEST(TlsHello, OldVersionsAreOfferedInTheHelloItself) {
  std::string hello = client_hello({.version = 0x0301, .suites = {0xC009}, .groups = {group_id("P-256")}});
  answer a = read_answer(server_answer(hello), false);
  EXPECT_EQ(a.kind, answer_kind::server_hello) << a.why;
  EXPECT_EQ(a.version, 0x0301);
  EXPECT_EQ(a.suite, 0xC009);  // ECDHE-ECDSA-AES128-SHA
}

TEST(TlsHello, TheHelloIsOneWellFormedRecord) {
  std::string h = client_hello(tls13_offer({29}));
  ASSERT_GE(h.size(), 9u);
  EXPECT_EQ(static_cast<unsigned char>(h[0]), 22);
  EXPECT_EQ((static_cast<std::size_t>(static_cast<unsigned char>(h[3])) << 8 | static_cast<unsigned char>(h[4])), h.size() - 5);
  EXPECT_EQ(static_cast<unsigned char>(h[5]), 1);  // client_hello
  EXPECT_NE(h.find("mx.mxtls.test"), std::string::npos);
  // No suites: nothing to send. An address is never a server name (RFC 6066 §3).
  EXPECT_TRUE(client_hello({.version = 0x0303}).empty());
  EXPECT_EQ(client_hello({.version = 0x0303, .suites = {0xC02B}, .sni = "192.0.2.1"}).find("192.0.2.1"), std::string::npos);
  EXPECT_EQ(group_id("ffdhe8192"), 260);
  EXPECT_EQ(group_id("no-such-group"), 0);
}

TEST(TlsHello, HostileAnswersAreMalformedNotTrusted) {
  auto kind = [](std::string s) { return read_answer(s, true).kind; };
  EXPECT_EQ(kind(""), answer_kind::incomplete);
  EXPECT_EQ(kind("500 5.5.1 not TLS\r\n"), answer_kind::malformed);
  EXPECT_EQ(kind(std::string("\x16\x03\x03\xff\xff", 5)), answer_kind::malformed);  // a record longer than TLS allows
  EXPECT_EQ(kind(std::string(70 * 1024, '\x16')), answer_kind::malformed);         // past the bound
  EXPECT_EQ(kind(std::string("\x15\x03\x03\x00\x01\x02", 6)), answer_kind::malformed);  // an alert cut short
  // A handshake record whose first message is a Certificate, not a ServerHello.
  EXPECT_EQ(kind(std::string("\x16\x03\x03\x00\x04\x0b\x00\x00\x00", 9)), answer_kind::malformed);
  // A ServerHello whose extensions claim more than they hold.
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + std::string("\x00\x13\x01\x00\x00\x10\x00\x2b\x00\x02", 10);
  std::string hs = std::string("\x02\x00\x00", 3) + static_cast<char>(body.size()) + body;
  std::string rec = std::string("\x16\x03\x03\x00", 4) + static_cast<char>(hs.size()) + hs;
  EXPECT_EQ(kind(rec), answer_kind::malformed);
  // A ServerHello cut short inside its own length.
  std::string tiny = std::string("\x02\x00\x00\x03\x03\x03\x00", 7);
  EXPECT_EQ(kind(std::string("\x16\x03\x03\x00\x07", 5) + tiny), answer_kind::malformed);
}

}  // namespace
}  // namespace mxtls::tls_hello
