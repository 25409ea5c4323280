#include "mxtls/scenario.hpp"

#include <gtest/gtest.h>

#include <set>

#include "mxtls/finding.hpp"

namespace mxtls {
namespace {

std::optional<scenario> parse(const std::string& y, scenario_error& e) { return parse_scenario(y, "t.yaml", e); }

TEST(Scenario, DefaultsMakeACompliantServer) {
  scenario_error e;
  auto s = parse("name: x\n", e);
  ASSERT_TRUE(s) << e.what();
  EXPECT_EQ(s->banner, "220 mx.mxtls.test ESMTP mxtls serve\r\n");
  EXPECT_NE(s->ehlo.find("250 STARTTLS\r\n"), std::string::npos);
  EXPECT_EQ(s->starttls_reply, "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(s->certificate, certificate_kind::self_signed);
}

TEST(Scenario, LinesRawAndLineEndings) {
  scenario_error e;
  auto s = parse("name: x\nline_ending: lf\nehlo: [\"250-a\", \"250 b\"]\nehlo_after_tls:\n  raw: \"250 c\\r\"\n", e);
  ASSERT_TRUE(s) << e.what();
  EXPECT_EQ(s->ehlo, "250-a\n250 b\n");
  EXPECT_EQ(s->ehlo_after_tls, "250 c\r");
}

TEST(Scenario, StarttlsVariants) {
  scenario_error e;
  auto silent = parse("name: x\nstarttls: {reply: none}\n", e);
  ASSERT_TRUE(silent);
  EXPECT_TRUE(silent->starttls_silent);
  auto gone = parse("name: x\nstarttls: {reply: disconnect, execute_pipelined: true}\n", e);
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->starttls_disconnect);
  EXPECT_TRUE(gone->execute_pipelined);
  auto refused = parse("name: x\nstarttls: {reply: \"454 4.7.0 no\", inject_after_220: \"250 x\"}\n", e);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->starttls_reply, "454 4.7.0 no\r\n");
  EXPECT_EQ(refused->inject_after_220, "250 x\r\n");
}

TEST(Scenario, ErrorsNameFileLineAndField) {
  struct row {
    const char* yaml;
    std::size_t line;
    const char* field;
  };
  const row rows[] = {
      {"name: x\nbogus: 1\n", 2, "bogus"},
      {"name: x\ntls:\n  certificate: shiny\n", 3, "tls.certificate"},
      {"name: x\ntls:\n  min_version: SSLv3\n", 3, "tls.min_version"},
      {"name: x\ndelays:\n  EHLO: -5\n", 3, "delays.EHLO"},
      {"name: x\ndelays:\n  FROB: 5\n", 3, "delays.FROB"},
      {"name: x\nfaults:\n  - at: RCPT\n    action: nope\n", 4, "faults.action"},
      {"name: x\nehlo:\n  - \"250-a\\r\\n\"\n", 3, "ehlo"},
      {"description: no name\n", 1, "name"},
      {"name: x\nline_ending: crcr\n", 2, "line_ending"},
      {"name: x\ndrip_us: lots\n", 2, "drip_us"},
      {"name: x\ntls:\n  key: dsa-1024\n", 3, "tls.key"},
      {"name: x\ntls:\n  signature: md5\n", 3, "tls.signature"},
      {"name: x\ntls:\n  dh_bits: 512\n", 3, "tls.dh_bits"},
      // Combinations with nothing left to negotiate are refused at the field that empties it.
      {"name: x\ntls:\n  min_version: TLSv1.3\n  dh_bits: 1024\n", 4, "tls.dh_bits"},
      {"name: x\ntls:\n  max_version: TLSv1.2\n  ciphers: \"ECDHE-RSA-AES128-GCM-SHA256\"\n", 4, "tls.ciphers"},
      {"name: x\ntls:\n  max_version: TLSv1.2\n  key: rsa-2048\n  ciphers: \"DHE-RSA-AES128-GCM-SHA256\"\n", 5, "tls.ciphers"},
      {"name: x\ntls:\n  max_version: TLSv1\n  key: rsa-2048\n  ciphers: \"AES128-GCM-SHA256\"\n", 5, "tls.ciphers"},
      {"name: x\ntls:\n  ciphersuites: \"TLS_AES_128_GCM_SHA256:AES128-SHA\"\n", 3, "tls.ciphersuites"},
      {"name: x\ntls:\n  max_version: TLSv1.2\n  ciphersuites: \"TLS_AES_128_GCM_SHA256\"\n", 4, "tls.ciphersuites"},
      {"name: x\ntls:\n  second_key: dsa-2048\n", 3, "tls.second_key"},
      {"name: x\ntls:\n  server_order: maybe\n", 3, "tls.server_order"},
      // One certificate per key type: a second ECDSA key would replace the first.
      {"name: x\ntls:\n  key: ecdsa-p256\n  second_key: ecdsa-p384\n", 4, "tls.second_key"},
      {"name: x\ntls:\n  key: rsa-2048\n  second_key: rsa-4096\n", 4, "tls.second_key"},
      // With two certificates a suite needs one of the keys; DHE still needs tls.dh_bits.
      {"name: x\ntls:\n  max_version: TLSv1.2\n  key: ecdsa-p256\n  second_key: rsa-2048\n  ciphers: \"DHE-RSA-AES128-SHA\"\n", 6,
       "tls.ciphers"},
  };
  for (const auto& r : rows) {
    scenario_error e;
    EXPECT_FALSE(parse(r.yaml, e)) << r.yaml;
    EXPECT_EQ(e.file, "t.yaml");
    EXPECT_EQ(e.line, r.line) << r.yaml << " -> " << e.what();
    EXPECT_EQ(e.field, r.field) << r.yaml << " -> " << e.what();
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(Scenario, TlsKeySignatureAndDhParameters) {
  scenario_error e;
  auto s = parse("name: x\ntls:\n  max_version: TLSv1.2\n  key: rsa-2048\n  signature: sha1\n  dh_bits: 1024\n"
                 "  ciphers: \"DHE-RSA-AES128-GCM-SHA256\"\n",
                 e);
  ASSERT_TRUE(s) << e.what();
  EXPECT_EQ(s->certificate_key, "rsa-2048");
  EXPECT_EQ(s->certificate_digest, "sha1");
  EXPECT_EQ(s->dh_bits, 1024);
  auto d = parse("name: x\n", e);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->certificate_key, "ecdsa-p256");
  EXPECT_EQ(d->certificate_digest, "sha256");
  EXPECT_EQ(d->dh_bits, 0);
}

TEST(Scenario, TwoCertificatesAndTls13Suites) {
  scenario_error e;
  // The list's RSA suite is usable only because the second certificate is RSA.
  auto s = parse("name: x\ntls:\n  max_version: TLSv1.2\n  key: ecdsa-p256\n  second_key: rsa-2048\n"
                 "  ciphers: \"ECDHE-RSA-AES128-GCM-SHA256\"\n",
                 e);
  ASSERT_TRUE(s) << e.what();
  EXPECT_EQ(s->certificate_key, "ecdsa-p256");
  EXPECT_EQ(s->second_certificate_key, "rsa-2048");
  auto t = parse("name: x\ntls:\n  ciphersuites: \"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384\"\n", e);
  ASSERT_TRUE(t) << e.what();
  EXPECT_EQ(t->tls_ciphersuites, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
  EXPECT_TRUE(t->second_certificate_key.empty());
}

TEST(Scenario, YamlSyntaxErrorsHaveALine) {
  scenario_error e;
  EXPECT_FALSE(parse("name: x\nehlo: [unclosed\n", e));
  EXPECT_GE(e.line, 2u);
  EXPECT_NE(e.what().find("t.yaml:"), std::string::npos);
  EXPECT_FALSE(parse("- a list\n", e));
  EXPECT_FALSE(parse("", e));
}

TEST(Scenario, EveryBuiltinParsesAndEveryFindingHasOne) {
  std::set<std::string> names;
  for (const auto& b : builtin_scenarios()) {
    scenario_error e;
    auto s = builtin(b.name, e);
    ASSERT_TRUE(s) << b.name << ": " << e.what();
    EXPECT_EQ(s->name, b.name) << "file name and name: field differ";
    EXPECT_FALSE(s->description.empty()) << b.name;
    EXPECT_TRUE(names.insert(b.name).second) << "duplicate " << b.name;
  }
  EXPECT_TRUE(names.count("seed"));
  EXPECT_TRUE(names.count("compliant"));
  for (const auto& f : catalogue()) EXPECT_TRUE(names.count(std::string(f.name))) << "no scenario for finding " << f.name;
  scenario_error e;
  EXPECT_FALSE(builtin("no-such", e));
  EXPECT_NE(e.message.find("--list"), std::string::npos);
}

TEST(Scenario, SeedIsTheTechNoteByteForByte) {
  scenario_error e;
  auto s = builtin("seed", e);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->banner, "220 mail.domain1.com ESMTP Service ready\r\n");
  EXPECT_EQ(s->ehlo,
            "250-STARTTLS\r\n250-mail.domain1.com\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-HELP\r\n"
            "250-DELIVERBY 300\r\n250 SIZE 30000000\r\n");
}

}  // namespace
}  // namespace mxtls

namespace mxtls {
namespace {

// The error a scenario file gets: file, line (from yaml-cpp's marks) and field.
scenario_error rejected(const std::string& yaml) {
  scenario_error e;
  auto s = parse_scenario(yaml, "bad.yaml", e);
  EXPECT_FALSE(s) << yaml;
  return e;
}

TEST(ScenarioValidation, TlsSettingsOpenSslDoesNotKnowAreRejectedWithFileLineAndField) {
  auto e = rejected("name: x\ntls:\n  ciphers: \"ECDHE-RSA-AES128-GCM-SHA256:NO-SUCH-CIPHER\"\n");
  EXPECT_EQ(e.file, "bad.yaml");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.field, "tls.ciphers");
  EXPECT_NE(e.message.find("'NO-SUCH-CIPHER'"), std::string::npos) << e.message;
  EXPECT_EQ(e.what().rfind("bad.yaml:3: tls.ciphers: ", 0), 0u) << e.what();

  e = rejected("name: x\ntls:\n  groups: \"X25519:P-999\"\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.field, "tls.groups");
  EXPECT_NE(e.message.find("'P-999'"), std::string::npos) << e.message;

  e = rejected("name: x\ntls:\n  max_version: TLSv1.4\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.field, "tls.max_version");

  e = rejected("name: x\ntls:\n  min_version: TLSv1.3\n  max_version: TLSv1.2\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.field, "tls.min_version");
  EXPECT_NE(e.message.find("above max_version TLSv1.2"), std::string::npos) << e.message;
}

TEST(ScenarioValidation, KnownTlsSettingsAreAccepted) {
  scenario_error e;
  auto s = parse_scenario(
      "name: x\ntls:\n  min_version: TLSv1.2\n  max_version: TLSv1.2\n  ciphers: \"HIGH:!aNULL:ECDHE-RSA-AES128-GCM-SHA256\"\n"
      "  groups: \"X25519:P-256\"\n",
      "ok.yaml", e);
  ASSERT_TRUE(s) << e.what();
  EXPECT_EQ(s->tls_groups, "X25519:P-256");
}

TEST(ScenarioValidation, CrOrLfInsideATextLineIsRejected) {
  auto e = rejected("name: x\nbanner: \"220 a\\r\\n250 smuggled\"\n");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.field, "banner");
  EXPECT_NE(e.message.find("CR or LF"), std::string::npos);
  e = rejected("name: x\nehlo:\n  - \"250-a\"\n  - \"250 b\\nc\"\n");
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.field, "ehlo");
  e = rejected("name: x\nhost: \"mx.example\\r\\nRSET\"\n");
  EXPECT_EQ(e.field, "host");
  e = rejected("name: x\nfaults:\n  - at: MAIL\n    action: \"421 bye\\r\\n250 ok\"\n");
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.field, "faults.action");
  scenario_error ok;
  EXPECT_TRUE(parse_scenario("name: x\nehlo_after_tls:\n  raw: \"250 a\\r\\n\"\n", "raw.yaml", ok)) << "raw octets may hold them";
}

TEST(ScenarioValidation, EveryBuiltInScenarioStillParses) {
  for (const auto& b : builtin_scenarios()) {
    scenario_error e;
    EXPECT_TRUE(builtin(b.name, e)) << b.name << ": " << e.what();
  }
}

}  // namespace
}  // namespace mxtls
