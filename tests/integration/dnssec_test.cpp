// The resolver's DNSSEC validation against a real signed tree: zones signed at test time,
// served by NSD on loopback (dns-zone/signed_zone.hpp), validated by libunbound from the
// tree's own trust anchor.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include "dns-zone/signed_zone.hpp"
#include "mxtls/dns.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using mxtls::dns_answer;
using mxtls::dns_resolver;
using mxtls::dnssec_status;
using mxtls::test::zone_server;
using mxtls::test::zone_spec;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("mxtls-dnssec-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// One tree for every test: a signed zone, a signed child with a DS, an unsigned child
// (insecure), a record added after signing (bogus), and a child whose signatures expired.
class Dnssec : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    zones_ = new zone_server(
        temp_dir("tree"),
        {{.name = "dane.test.",
          .records = {"@ IN MX 10 mx", "mx IN A 127.0.0.1", "mx IN AAAA ::1", "_mta-sts IN TXT \"v=STSv1; \" \"id=20240101\"",
                      "_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@dane.test\"",
                      "_25._tcp.mx IN TLSA 3 1 1 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
                      "_25._tcp.mx IN TLSA 2 0 1 a102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
                      "alias IN CNAME mx", "altered IN A 127.0.0.98"},
          .unsigned_records = {"forged IN A 127.0.0.9"},
          .tampered = {{"altered.dane.test.\t300\tIN\tA\t127.0.0.98", "altered.dane.test.\t300\tIN\tA\t127.0.0.8"}}},
         {.name = "signed.dane.test.", .records = {"mx IN A 127.0.0.2"}},
         {.name = "plain.dane.test.", .sign = false, .records = {"mx IN A 127.0.0.3"}},
         {.name = "expired.dane.test.",
          .records = {"mx IN A 127.0.0.4"},
          .expiration = "20200201000000",
          .inception = "20200101000000"}});
  }
  static void TearDownTestSuite() {
    delete zones_;
    zones_ = nullptr;
  }

  dns_resolver& resolver() {
    if (!resolver_)
      resolver_ = std::make_unique<dns_resolver>(
          mxtls::resolver_options{.forwarder = zones_->forwarder(), .trust_anchor_file = zones_->trust_anchor()});
    return *resolver_;
  }

  template <class T>
  T run(asio::awaitable<T> a) {
    T out{};
    std::exception_ptr failure;
    asio::co_spawn(io_, std::move(a), [&](std::exception_ptr e, T r) {
      failure = e;
      out = std::move(r);
    });
    io_.restart();
    io_.run();
    if (failure) std::rethrow_exception(failure);
    return out;
  }

  dns_answer ask(const std::string& name, int type) { return run(resolver().lookup(name, type, 5s)); }

  static zone_server* zones_;
  asio::io_context io_;
  std::unique_ptr<dns_resolver> resolver_;
};

zone_server* Dnssec::zones_ = nullptr;

TEST_F(Dnssec, SignedAnswersAreSecure) {
  auto mx = ask("dane.test", mxtls::rr_mx);
  ASSERT_TRUE(mx.ok) << mx.error << "\n" << zones_->log();
  EXPECT_EQ(mx.rcode, 0);
  EXPECT_EQ(mx.dnssec, dnssec_status::secure) << mx.why_bogus;
  EXPECT_EQ(mx.records, std::vector<std::string>{"10 mx.dane.test"});
  auto a = ask("mx.dane.test", mxtls::rr_a);
  EXPECT_EQ(a.dnssec, dnssec_status::secure) << a.why_bogus;
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(a.canonical_name, "") << "no CNAME";
  auto aaaa = ask("mx.dane.test", mxtls::rr_aaaa);
  EXPECT_EQ(aaaa.dnssec, dnssec_status::secure) << aaaa.why_bogus;
  EXPECT_EQ(aaaa.records, std::vector<std::string>{"::1"});
}

TEST_F(Dnssec, DenialOfExistenceIsSecure) {
  auto nx = ask("nothing.dane.test", mxtls::rr_a);
  ASSERT_TRUE(nx.ok) << nx.error;
  EXPECT_TRUE(nx.nxdomain);
  EXPECT_EQ(nx.dnssec, dnssec_status::secure) << nx.why_bogus;
  auto nodata = ask("mx.dane.test", mxtls::rr_mx);
  EXPECT_FALSE(nodata.has_data);
  EXPECT_EQ(nodata.rcode, 0);
  EXPECT_EQ(nodata.dnssec, dnssec_status::secure) << nodata.why_bogus;
}

TEST_F(Dnssec, TxtRecordsJoinTheirStrings) {
  auto sts = run(resolver().lookup_txt("_mta-sts.dane.test", 5s));
  EXPECT_EQ(sts.answer.dnssec, dnssec_status::secure) << sts.answer.why_bogus;
  EXPECT_EQ(sts.texts, std::vector<std::string>{"v=STSv1; id=20240101"});
  auto rpt = run(resolver().lookup_txt("_smtp._tls.dane.test", 5s));
  EXPECT_EQ(rpt.texts, std::vector<std::string>{"v=TLSRPTv1; rua=mailto:tlsrpt@dane.test"});
}

TEST_F(Dnssec, TlsaRecordsAreTyped) {
  auto t = run(resolver().lookup_tlsa("_25._tcp.mx.dane.test", 5s));
  EXPECT_EQ(t.answer.dnssec, dnssec_status::secure) << t.answer.why_bogus;
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.malformed, 0u);
  std::sort(t.records.begin(), t.records.end(), [](const auto& a, const auto& b) { return a.usage < b.usage; });
  EXPECT_EQ(t.records[0].usage, 2);
  EXPECT_EQ(t.records[0].selector, 0);
  EXPECT_EQ(t.records[0].mtype, 1);
  EXPECT_EQ(t.records[1].usage, 3);
  EXPECT_EQ(t.records[1].selector, 1);
  ASSERT_EQ(t.records[1].data.size(), 32u);
  EXPECT_EQ(t.records[1].data[0], 0x01);
  EXPECT_EQ(t.records[1].data[31], 0x20);
}

TEST_F(Dnssec, CnameChainNamesItsEnd) {
  auto a = ask("alias.dane.test", mxtls::rr_a);
  EXPECT_EQ(a.dnssec, dnssec_status::secure) << a.why_bogus;
  EXPECT_EQ(a.canonical_name, "mx.dane.test.");
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.1"});
}

TEST_F(Dnssec, SignedChildWithDsIsSecure) {
  auto a = ask("mx.signed.dane.test", mxtls::rr_a);
  EXPECT_EQ(a.dnssec, dnssec_status::secure) << a.why_bogus;
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.2"});
}

TEST_F(Dnssec, UnsignedChildIsInsecure) {
  auto a = ask("mx.plain.dane.test", mxtls::rr_a);
  EXPECT_EQ(a.dnssec, dnssec_status::insecure) << a.why_bogus;
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.3"});
}

TEST_F(Dnssec, UnsignedRecordInSignedZoneIsBogusWithReasonAndData) {
  auto a = ask("forged.dane.test", mxtls::rr_a);
  EXPECT_EQ(a.dnssec, dnssec_status::bogus);
  EXPECT_FALSE(a.why_bogus.empty());
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.9"}) << "bogus answers keep their data";
}

TEST_F(Dnssec, RecordChangedAfterSigningIsBogusWithItsNewData) {
  auto a = ask("altered.dane.test", mxtls::rr_a);
  EXPECT_EQ(a.dnssec, dnssec_status::bogus) << a.why_bogus;
  EXPECT_FALSE(a.why_bogus.empty());
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.8"});
}

TEST_F(Dnssec, ExpiredSignaturesAreBogus) {
  auto a = ask("mx.expired.dane.test", mxtls::rr_a);
  EXPECT_EQ(a.dnssec, dnssec_status::bogus);
  EXPECT_NE(a.why_bogus.find("expired"), std::string::npos) << a.why_bogus;
}

TEST_F(Dnssec, ReadinessValidatesTheAnchor) {
  auto r = run(resolver().readiness(5s));
  EXPECT_TRUE(r.validating);
  EXPECT_EQ(r.anchor_zones, std::vector<std::string>{"dane.test."});
  EXPECT_EQ(r.anchor_status, dnssec_status::secure) << r.why_bogus << r.error;
}

TEST_F(Dnssec, WithoutValidationEverythingIsIndeterminate) {
  // Without an anchor, no local-zone is opened: libunbound answers for test. itself (RFC 6761).
  mxtls::resolver_options o{.forwarder = zones_->forwarder(), .trust_anchor_file = {}, .validate = false};
  dns_resolver unvalidated(o);
  auto a = run(unvalidated.lookup("mx.dane.test", mxtls::rr_a, 5s));
  EXPECT_EQ(a.dnssec, dnssec_status::indeterminate);
  EXPECT_TRUE(a.nxdomain);
}

TEST_F(Dnssec, WrongAnchorMakesEverythingBogus) {
  fs::path dir = temp_dir("wrong-anchor");
  // A DS for the zone with a digest no key has.
  std::ofstream(dir / "anchor.ds")
      << "dane.test. IN DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000\n";
  dns_resolver wrong(mxtls::resolver_options{.forwarder = zones_->forwarder(), .trust_anchor_file = (dir / "anchor.ds").string()});
  auto r = run(wrong.readiness(5s));
  EXPECT_EQ(r.anchor_status, dnssec_status::bogus);
  EXPECT_FALSE(r.why_bogus.empty());
  auto a = run(wrong.lookup("mx.dane.test", mxtls::rr_a, 5s));
  EXPECT_EQ(a.dnssec, dnssec_status::bogus);
}

TEST(DnssecAnchor, ZonesAreReadFromDsAndDnskeyLines) {
  fs::path dir = temp_dir("zones");
  std::ofstream(dir / "a.key") << "; comment\n$TTL 300\nExample.TEST. 300 IN DNSKEY 257 3 13 AAAA\n"
                               << "example.test. IN DS 1 13 2 00\nother.test IN DS 1 13 2 00 ; tail\n";
  EXPECT_EQ(mxtls::trust_anchor_zones((dir / "a.key").string()), (std::vector<std::string>{"example.test.", "other.test."}));
  EXPECT_TRUE(mxtls::trust_anchor_zones((dir / "missing").string()).empty());
  EXPECT_THROW(dns_resolver(mxtls::resolver_options{.forwarder = "127.0.0.1", .trust_anchor_file = (dir / "missing").string()}),
               std::invalid_argument);
}

}  // namespace
