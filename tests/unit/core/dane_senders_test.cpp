// Each DANE sender's own status where its DANE check departs from OpenSSL's (dane_sender's
// flags): Debian's Exim on GnuTLS against a digest trap, TLSA at a CNAME's original name only,
// and a server whose certificate depends on the ClientHello; a bogus MX answer for all.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "mxtls/dane.hpp"
#include "mxtls/diagnosis.hpp"

namespace mxtls {
namespace {

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t fill) { return std::vector<std::uint8_t>(n, fill); }
std::string hex(std::size_t n, std::uint8_t fill) {
  std::string h;
  for (std::size_t i = 0; i < n; ++i) h += fmt::format("{:02x}", fill);
  return h;
}

tlsa_facts record(std::uint8_t usage, std::uint8_t selector, std::uint8_t mtype, std::uint8_t fill) {
  tlsa_record r{.usage = usage, .selector = selector, .mtype = mtype, .data = bytes(mtype == 2 ? 64 : 32, fill)};
  return {.record = r, .usability = usability_of(r)};
}

dane_facts secure(std::vector<tlsa_facts> records) {
  dane_facts d;
  d.host = d.base_domain = "mx.example.com";
  d.address_dnssec = dnssec_status::secure;
  d.looked_up = true;
  d.tlsa_name = "_25._tcp.mx.example.com";
  d.lookup = {.name = d.tlsa_name, .type = rr_type::tlsa, .dnssec = dnssec_status::secure, .records = records.size()};
  d.records = std::move(records);
  return d;
}

// The leaf's SPKI digests, as a served chain has them (fill 7: SHA2-256, fill 8: SHA2-512).
std::vector<chain_digest> leaf(std::uint8_t sha256_fill, std::uint8_t sha512_fill) {
  return {{.depth = 0, .selector = 1, .mtype = 1, .hex = hex(32, sha256_fill)},
          {.depth = 0, .selector = 1, .mtype = 2, .hex = hex(64, sha512_fill)}};
}

starttls_facts session(bool verified, std::vector<chain_digest> served) {
  starttls_facts s;
  s.tls.established = true;
  s.tls.dane.enabled = true;
  s.tls.dane.verified = verified;
  if (verified) {
    s.tls.dane.matched_depth = 0;
    s.tls.dane.matched = tlsa_record{.usage = 3, .selector = 1, .mtype = 1, .data = bytes(32, 7)};
  }
  s.tls.dane.chain_digests = std::move(served);
  return s;
}

// Check tls-senders' facts: the gnutls-normal replay, established and served `chain`.
tls_senders_facts gnutls_served(std::vector<chain_digest> chain, std::optional<certificate_facts> leaf_facts = std::nullopt) {
  profile_handshake h;
  h.profile = "gnutls-normal";
  h.replayed = h.established = true;
  h.leaf = std::move(leaf_facts);
  h.chain_digests = std::move(chain);
  tls_senders_facts f;
  f.handshakes.push_back(std::move(h));
  return f;
}

const dane_sender_prediction& of(const dane_assessment& a, std::string_view id) {
  for (const auto& p : a.senders)
    if (p.id == id) return p;
  throw std::runtime_error("no sender " + std::string(id));
}

TEST(DaneSenders, EveryRecordCountsForEximSoTheDigestTrapDoesNotCatchIt) {
  // A right 3 1 1 beside a wrong 3 1 2: OpenSSL uses the 3 1 2 only (RFC 7671 §9).
  dane_facts d = secure({record(3, 1, 1, 7), record(3, 1, 2, 1)});
  starttls_facts s = session(false, leaf(7, 8));
  dane_assessment a = assess_dane(d, &s, tls_policy::preferred);
  EXPECT_EQ(a.status, dane_status::mismatch);
  EXPECT_EQ(of(a, "postfix-dane").outcome, dane_outcome::defer);
  EXPECT_FALSE(of(a, "postfix-dane").status);
  const auto& exim = of(a, "exim-try-dane");
  EXPECT_EQ(exim.outcome, dane_outcome::dane_verified);
  ASSERT_TRUE(exim.status);
  EXPECT_EQ(*exim.status, dane_status::verified);
  EXPECT_NE(exim.why.find("3 1 1 " + hex(32, 7)), std::string::npos) << exim.why;
  EXPECT_EQ(of(a, "exim-require-dane").outcome, dane_outcome::dane_verified);
}

TEST(DaneSenders, AStaleRecordStaysAMismatchForEveryone) {
  dane_facts d = secure({record(3, 1, 1, 5), record(3, 1, 2, 1)});
  starttls_facts s = session(false, leaf(7, 8));
  dane_assessment a = assess_dane(d, &s, tls_policy::preferred);
  for (const auto& p : a.senders) EXPECT_FALSE(p.status) << p.id;
  EXPECT_EQ(of(a, "exim-try-dane").outcome, dane_outcome::defer);
}

TEST(DaneSenders, TlsaAtTheOriginalNameOnlyIsNotFoundByExim) {
  dane_facts d = secure({record(3, 1, 1, 7)});
  d.expanded_without_tlsa = "mx.target.example.net";
  starttls_facts s = session(true, {});
  dane_assessment a = assess_dane(d, &s, tls_policy::preferred);
  EXPECT_EQ(a.status, dane_status::verified);
  EXPECT_EQ(of(a, "postfix-dane").outcome, dane_outcome::dane_verified);
  const auto& exim = of(a, "exim-try-dane");
  ASSERT_TRUE(exim.status);
  EXPECT_EQ(*exim.status, dane_status::no_tlsa);
  EXPECT_EQ(exim.outcome, dane_outcome::not_applied);
  EXPECT_NE(exim.why.find("_25._tcp.mx.target.example.net"), std::string::npos) << exim.why;
  EXPECT_EQ(of(a, "exim-require-dane").outcome, dane_outcome::defer);

  // A failed TLSA lookup at the original name: Exim never asked it.
  dane_facts lame = secure({});
  lame.expanded_without_tlsa = "mx.target.example.net";
  lame.lookup.status = lookup_status::servfail;
  dane_assessment b = assess_dane(lame, nullptr, tls_policy::preferred);
  EXPECT_EQ(b.status, dane_status::lookup_failed);
  EXPECT_EQ(of(b, "postfix-dane").outcome, dane_outcome::defer);
  EXPECT_EQ(of(b, "exim-try-dane").outcome, dane_outcome::not_applied);
}

TEST(DaneSenders, EximIsJudgedOnTheCertificateItsOwnHelloIsServed) {
  // The probe's hello got the ECDSA key the record covers; GnuTLS's got an RSA one.
  dane_facts d = secure({record(3, 1, 1, 7)});
  starttls_facts s = session(true, {});
  tls_senders_facts replays = gnutls_served(leaf(3, 4), certificate_facts{.key_type = "rsaEncryption", .key_bits = 2048});
  dane_assessment a = assess_dane(d, &s, tls_policy::preferred, &replays);
  EXPECT_EQ(of(a, "postfix-dane").outcome, dane_outcome::dane_verified);
  const auto& exim = of(a, "exim-try-dane");
  ASSERT_TRUE(exim.status);
  EXPECT_EQ(*exim.status, dane_status::mismatch);
  EXPECT_EQ(exim.outcome, dane_outcome::defer);
  EXPECT_NE(exim.why.find("RSA 2048"), std::string::npos) << exim.why;
  EXPECT_NE(exim.why.find(hex(32, 3)), std::string::npos) << exim.why;

  // Served the covered key, or no replay to tell: the probe's status stands.
  replays.handshakes[0].chain_digests = leaf(7, 8);
  EXPECT_FALSE(of(assess_dane(d, &s, tls_policy::preferred, &replays), "exim-try-dane").status);
  EXPECT_FALSE(of(assess_dane(d, &s, tls_policy::preferred, nullptr), "exim-try-dane").status);
  replays.handshakes[0].established = false;
  replays.handshakes[0].chain_digests = leaf(3, 4);
  EXPECT_FALSE(of(assess_dane(d, &s, tls_policy::preferred, &replays), "exim-try-dane").status);
}

TEST(DaneSenders, WholeCertificateRecordsAreNotJudgedOffline) {
  dane_facts d = secure({record(3, 1, 0, 7)});
  d.records[0].record.data = bytes(91, 7);
  d.records[0].usability = usability_of(d.records[0].record);
  starttls_facts s = session(true, {});
  tls_senders_facts replays = gnutls_served(leaf(3, 4));
  EXPECT_FALSE(of(assess_dane(d, &s, tls_policy::preferred, &replays), "exim-try-dane").status);
}

TEST(DaneSenders, ABogusMxAnswerDefersEveryDaneSender) {
  dane_facts d = secure({});
  d.mx_bogus = true;
  dane_assessment a = assess_dane(d, nullptr, tls_policy::preferred);
  EXPECT_EQ(a.status, dane_status::bogus);
  for (const auto* id : {"postfix-dane", "exim-try-dane", "exim-require-dane", "posttls-finger"})
    EXPECT_EQ(of(a, id).outcome, dane_outcome::defer) << id;
  // The domain's reason says it; the host adds none of its own.
  for (const auto& r : a.reasons) EXPECT_NE(r.id, reason_id::dnssec_bogus);
}

}  // namespace
}  // namespace mxtls
