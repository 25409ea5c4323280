// DANE end to end: a zone signed at test time and served by NSD on loopback (dns-zone/),
// MX hosts served by `mxtls serve` with certificates made here for each case, and
// `mxtls probe --resolver --trust-anchor` validating against the zone's own anchor.
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "dns-zone/signed_zone.hpp"
#include "logs/mta_log_run.hpp"
#include "served.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace t = mxtls::test;

std::string hex(const unsigned char* p, std::size_t n) {
  std::string out;
  char b[3];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", p[i]);
    out += b;
  }
  return out;
}

X509* load_cert(const fs::path& pem) {
  FILE* f = std::fopen(pem.c_str(), "r");
  if (!f) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return x;
}

// The TLSA association data of a certificate file: selector 0 (certificate) or 1 (SPKI),
// matching type 1 (SHA2-256) or 2 (SHA2-512).
std::string tlsa_data(const fs::path& pem, int selector, int mtype) {
  X509* x = load_cert(pem);
  if (!x) return "missing-" + pem.string();
  unsigned char* der = nullptr;
  int len = selector == 0 ? i2d_X509(x, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(der, static_cast<std::size_t>(len), md, &n, mtype == 1 ? EVP_sha256() : EVP_sha512(), nullptr);
  OPENSSL_free(der);
  X509_free(x);
  return hex(md, n);
}

// A port free on every loopback address the test listens on.
unsigned short free_port(const std::vector<std::string>& addresses) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, addresses.front().c_str(), &sa.sin_addr);
    socklen_t len = sizeof sa;
    bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len);
    unsigned short port = ntohs(sa.sin_port);
    close(s);
    bool all = true;
    for (const auto& a : addresses) {
      int u = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in b{};
      b.sin_family = AF_INET;
      b.sin_port = htons(port);
      inet_pton(AF_INET, a.c_str(), &b.sin_addr);
      all = all && bind(u, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0;
      close(u);
    }
    if (all) return port;
  }
  return 0;
}

// `mxtls serve --scenario compliant --cert --key` on ADDRESS:PORT, until destroyed.
class mock_mx {
 public:
  // With an empty chain: the scenario's own certificates, written into `certificates`.
  mock_mx(const fs::path& dir, const std::string& address, unsigned short port, const fs::path& chain, const fs::path& key,
          const std::string& scenario = "compliant", const fs::path& certificates = {}) {
    out_ = dir / ("serve-" + address + ".out");
    int fd = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string listen = address + ":" + std::to_string(port);
    std::vector<std::string> argv{MXTLS_BINARY, "serve", "--scenario", scenario, "--listen", listen};
    if (!chain.empty()) argv.insert(argv.end(), {"--cert", chain.string(), "--key", key.string()});
    if (!certificates.empty()) argv.insert(argv.end(), {"--write-certificates", certificates.string()});
    pid_ = t::spawn(argv, "", fd, fd);
    close(fd);
    for (int i = 0; i < 500 && !ready_; ++i) {
      ready_ = t::slurp(out_).find("listening on " + listen) != std::string::npos;
      if (!ready_) std::this_thread::sleep_for(10ms);
    }
  }
  ~mock_mx() {
    kill(pid_, SIGTERM);
    t::wait_for(pid_, 5s);
  }
  bool ready() const { return ready_; }
  std::string output() const { return t::slurp(out_); }

 private:
  fs::path out_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

struct dane_case {
  std::string name;     // the label under dane.test.; the MX host is mx.<name>.dane.test
  std::string address;  // where its server listens
  std::string chain;    // the served chain file (relative to the test directory)
  std::vector<std::string> tlsa;  // zone lines after "_PORT._tcp.mx.NAME IN TLSA"
  std::string key = "leaf.key";
  std::string scenario = "compliant";
};

class Dane : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("mxtls-dane-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Certificates: a CA, a leaf it issued for every MX host of the tree, and a key of
    // nobody's (the "stale" record of a renewal done without the TLSA update).
    std::string sans = "subjectAltName=DNS:mx.ee.dane.test,DNS:mx.ta.dane.test,DNS:mx.stale.dane.test,DNS:mx.trap.dane.test,"
                       "DNS:mx.pkix.dane.test,DNS:mx.none.dane.test,DNS:mx.plain.dane.test,DNS:mx.forged.dane.test,"
                       "DNS:mx.full.dane.test,DNS:mx.notls.dane.test,DNS:mx.tachain.dane.test,DNS:mx1.partial.dane.test,"
                       "DNS:mx2.partial.dane.test,DNS:mx.target.dane.test,DNS:mx.target2.dane.test,DNS:mx.badtlsa.dane.test,"
                       "DNS:mx.badmx.dane.test,DNS:mx.lame.dane.test";
    std::ofstream(dir_ / "leaf.ext") << sans << "\nbasicConstraints=CA:FALSE\n";
    std::string ssl = "/usr/bin/openssl";
    std::vector<std::vector<std::string>> steps = {
        {ssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "30", "-subj", "/CN=mxtls DANE test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
         "keyUsage=critical,keyCertSign,cRLSign"},
        {ssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
         "-subj", "/CN=mx.ee.dane.test"},
        {ssl, "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem",
         "-days", "30", "-extfile", "leaf.ext"},
        {ssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key", "-out",
         "other.pem", "-days", "30", "-subj", "/CN=someone else"},
        // Issued by the CA for another name: DANE-EE ignores the name, PKIX senders do not.
        {ssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "misnamed.key", "-out",
         "misnamed.csr", "-subj", "/CN=mail.elsewhere.example"},
        {ssl, "x509", "-req", "-in", "misnamed.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "misnamed.pem",
         "-days", "30", "-extfile", "misnamed.ext"},
    };
    std::ofstream(dir_ / "misnamed.ext") << "subjectAltName=DNS:mail.elsewhere.example\nbasicConstraints=CA:FALSE\n";
    for (const auto& s : steps) {
      std::vector<std::string> argv = {"/bin/sh", "-c", "cd '" + dir_.string() + "' && \"$@\" >>openssl.log 2>&1", "sh"};
      argv.insert(argv.end(), s.begin(), s.end());
      auto w = t::wait_for(t::spawn(argv), 30s);
      ASSERT_EQ(w.exit_code, 0) << t::slurp(dir_ / "openssl.log");
    }
    std::ofstream(dir_ / "chain.pem") << t::slurp(dir_ / "leaf.pem") << t::slurp(dir_ / "ca.pem");
    std::ofstream(dir_ / "misnamed-chain.pem") << t::slurp(dir_ / "misnamed.pem") << t::slurp(dir_ / "ca.pem");

    std::string leaf311 = tlsa_data(dir_ / "leaf.pem", 1, 1), leaf312 = tlsa_data(dir_ / "leaf.pem", 1, 2);
    std::string ca211 = tlsa_data(dir_ / "ca.pem", 1, 1), leaf301 = tlsa_data(dir_ / "leaf.pem", 0, 1);
    std::string other311 = tlsa_data(dir_ / "other.pem", 1, 1), other312 = tlsa_data(dir_ / "other.pem", 1, 2);
    cases_ = {
        {.name = "ee", .address = "127.0.0.11", .chain = "chain.pem",
         .tlsa = {"3 1 1 " + leaf311, "3 1 1 " + other311}},
        {.name = "ta", .address = "127.0.0.12", .chain = "chain.pem", .tlsa = {"2 1 1 " + ca211}},
        {.name = "stale", .address = "127.0.0.13", .chain = "chain.pem", .tlsa = {"3 1 1 " + other311}},
        {.name = "trap", .address = "127.0.0.14", .chain = "chain.pem", .tlsa = {"3 1 1 " + leaf311, "3 1 2 " + other312}},
        {.name = "pkix", .address = "127.0.0.15", .chain = "chain.pem", .tlsa = {"1 1 1 " + leaf311}},
        {.name = "none", .address = "127.0.0.16", .chain = "chain.pem", .tlsa = {}},
        {.name = "full", .address = "127.0.0.17", .chain = "chain.pem", .tlsa = {"3 0 1 " + leaf301}},
        // TLSA published, STARTTLS not offered.
        {.name = "notls", .address = "127.0.0.20", .chain = "chain.pem", .tlsa = {"3 1 1 " + leaf311},
         .scenario = "starttls-not-offered"},
        // A DANE-TA record for the CA, which the server does not send (leaf only).
        {.name = "tachain", .address = "127.0.0.21", .chain = "leaf.pem", .tlsa = {"2 1 1 " + ca211}},
        // DANE-EE matches a certificate issued for another name.
        {.name = "misnamed", .address = "127.0.0.22", .chain = "misnamed-chain.pem",
         .tlsa = {"3 1 1 " + tlsa_data(dir_ / "misnamed.pem", 1, 1)}, .key = "misnamed.key"},
        // A TLSA record whose data was changed after signing: bogus.
        {.name = "badtlsa", .address = "127.0.0.23", .chain = "chain.pem", .tlsa = {"3 1 1 " + leaf311}},
    };
    std::vector<std::string> addresses;
    for (const auto& c : cases_) addresses.push_back(c.address);
    addresses.push_back("127.0.0.18");  // plain
    addresses.push_back("127.0.0.19");  // forged
    for (const char* a : {"127.0.0.24", "127.0.0.25", "127.0.0.26", "127.0.0.27", "127.0.0.28", "127.0.0.29"}) addresses.push_back(a);
    addresses.push_back("127.0.0.30");  // dualkey
    port_ = free_port(addresses);
    ASSERT_NE(port_, 0);
    // RSA and ECDSA certificates chosen by the ClientHello (scenario dual-cert), started
    // before the zone is signed: its TLSA record names the ECDSA key only.
    fs::create_directories(dir_ / "dual");
    servers_.push_back(new mock_mx(dir_, "127.0.0.30", port_, {}, {}, "dual-cert", dir_ / "dual"));
    std::string dual_ecdsa311 = tlsa_data(dir_ / "dual" / "ecdsa-p256.pem", 1, 1);
    std::string tlsa_owner = "_" + std::to_string(port_) + "._tcp.";
    t::zone_spec top{.name = "dane.test."};
    for (const auto& c : cases_) {
      top.records.push_back(c.name + " IN MX 10 mx." + c.name);
      top.records.push_back("mx." + c.name + " IN A " + c.address);
      for (const auto& r : c.tlsa) top.records.push_back(tlsa_owner + "mx." + c.name + " IN TLSA " + r);
    }
    // An MX host whose address is in an unsigned child zone: DANE does not apply.
    // An MX host whose address record was changed after signing: bogus.
    top.records.push_back("forged IN MX 10 mx.forged");
    top.records.push_back("mx.forged IN A 127.0.0.99");
    top.tampered.push_back({"mx.forged.dane.test.\t300\tIN\tA\t127.0.0.99", "mx.forged.dane.test.\t300\tIN\tA\t127.0.0.19"});
    top.records.push_back(tlsa_owner + "mx.forged IN TLSA 3 1 1 " + leaf311);
    top.tampered.push_back({tlsa_owner + "mx.badtlsa.dane.test.\t300\tIN\tTLSA\t3 1 1 " + leaf311.substr(0, 8),
                            tlsa_owner + "mx.badtlsa.dane.test.\t300\tIN\tTLSA\t3 1 1 " + other311.substr(0, 8)});
    // Two MX hosts, only the first with TLSA: DANE senders authenticate one of them.
    top.records.push_back("partial IN MX 10 mx1.partial");
    top.records.push_back("partial IN MX 20 mx2.partial");
    top.records.push_back("mx1.partial IN A 127.0.0.24");
    top.records.push_back("mx2.partial IN A 127.0.0.25");
    top.records.push_back(tlsa_owner + "mx1.partial IN TLSA 3 1 1 " + leaf311);
    // RFC 7672 §2.2.3: an MX host that is an alias; the TLSA base domain is first the
    // expanded name (alias), then the original name (alias2, whose target has no TLSA).
    top.records.push_back("alias IN MX 10 mx.alias");
    top.records.push_back("mx.alias IN CNAME mx.target");
    top.records.push_back("mx.target IN A 127.0.0.26");
    top.records.push_back(tlsa_owner + "mx.target IN TLSA 3 1 1 " + leaf311);
    top.records.push_back("alias2 IN MX 10 mx.alias2");
    top.records.push_back("mx.alias2 IN CNAME mx.target2");
    top.records.push_back("mx.target2 IN A 127.0.0.27");
    top.records.push_back(tlsa_owner + "mx.alias2 IN TLSA 3 1 1 " + leaf311);
    // An MX record changed after signing: the domain's MX answer is bogus.
    top.records.push_back("badmx IN MX 10 mx.badmx");
    top.records.push_back("mx.badmx IN A 127.0.0.28");
    top.tampered.push_back({"badmx.dane.test.\t300\tIN\tMX\t10 mx.badmx.dane.test.", "badmx.dane.test.\t300\tIN\tMX\t20 mx.badmx.dane.test."});
    // The TLSA name delegated to a name server that never answers: the lookup fails, so
    // DANE senders cannot tell the destination is without DANE (RFC 7672 §2.1.1).
    top.records.push_back("lame IN MX 10 mx.lame");
    top.records.push_back("mx.lame IN A 127.0.0.29");
    top.records.push_back("_tcp.mx.lame IN NS ns.void");
    top.records.push_back("ns.void IN A 127.0.0.98");
    top.records.push_back("dualkey IN MX 10 mx.dualkey");
    top.records.push_back("mx.dualkey IN A 127.0.0.30");
    top.records.push_back(tlsa_owner + "mx.dualkey IN TLSA 3 1 1 " + dual_ecdsa311);
    t::zone_spec plain{.name = "plain.dane.test.", .sign = false,
                       .records = {"@ IN MX 10 mx", "mx IN A 127.0.0.18", tlsa_owner + "mx IN TLSA 3 1 1 " + leaf311}};
    zones_ = new t::zone_server(dir_ / "dns", {top, plain});
    for (const auto& c : cases_)
      servers_.push_back(new mock_mx(dir_, c.address, port_, dir_ / c.chain, dir_ / c.key, c.scenario));
    for (const char* a : {"127.0.0.24", "127.0.0.25", "127.0.0.26", "127.0.0.27", "127.0.0.28", "127.0.0.29"})
      servers_.push_back(new mock_mx(dir_, a, port_, dir_ / "chain.pem", dir_ / "leaf.key"));
    servers_.push_back(new mock_mx(dir_, "127.0.0.18", port_, dir_ / "chain.pem", dir_ / "leaf.key"));
    servers_.push_back(new mock_mx(dir_, "127.0.0.19", port_, dir_ / "chain.pem", dir_ / "leaf.key"));
  }
  static void TearDownTestSuite() {
    for (auto* s : servers_) delete s;
    servers_.clear();
    delete zones_;
    zones_ = nullptr;
    // Kept for a look when a case failed.
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (suite && !suite->Failed()) fs::remove_all(dir_);
  }

  static json probe(const std::string& domain, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{MXTLS_BINARY, "probe", domain, "--port", std::to_string(port_), "--resolver", zones_->resolver(),
                                  "--trust-anchor", zones_->trust_anchor(), "--no-injection-test", "--json",
                                  "--ca", (dir_ / "ca.pem").string(), "--timeout", "5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = t::run(dir_, argv, 60s);
    last_output_ = r.output;
    last_exit_ = r.exit_code;
    try {
      return json::parse(r.output);
    } catch (const std::exception&) {
      ADD_FAILURE() << domain << ": " << r.output;
      return json::object();
    }
  }

  // A loopback address of this process's own, 127.NET.x.y from the pid: another test process's
  // resolver on port 53 is not in the way.
  static std::string own_loopback(int net) {
    pid_t me = getpid();
    return "127." + std::to_string(net) + "." + std::to_string(me % 250 + 1) + "." + std::to_string((me / 250) % 250 + 1);
  }

  // A *-dane-scenarios.json of the source tree; a failure when it has no destinations.
  static json read_destinations(const std::string& rel) {
    json data = t::mta_logs::read_json(t::mta_logs::source(rel));
    EXPECT_TRUE(data["destinations"].is_array() && !data["destinations"].empty()) << rel;
    if (!data["destinations"].is_array()) data["destinations"] = json::array();
    return data;
  }

  // `mxtls logs --json` of an MTA's log against the destinations of a *-dane-scenarios.json:
  // each one's expect line (as in the logs.MTA tests), MX host and address (the port added).
  static void expect_log_destinations(const json& data, const fs::path& log, const std::string& format) {
    namespace ml = t::mta_logs;
    ml::read_log read = ml::copy_and_read(dir_, log, log.filename().string() + ".read");
    ASSERT_EQ(read.error, "");
    const json& got = read.logs_json;
    EXPECT_EQ(got["format"], format);
    EXPECT_EQ(got["lines"]["not_understood"], 0) << got["not_understood"].dump();
    EXPECT_EQ(got["destinations"].size(), data["destinations"].size()) << got["destinations"].dump(1);
    for (const auto& want : data["destinations"]) {
      std::string domain = want["domain"];
      SCOPED_TRACE(domain);
      const json* d = ml::destination_for(got, domain);
      ASSERT_NE(d, nullptr) << read.logs.output;
      ml::expect_destination(*d, want["expect"], domain);
      EXPECT_EQ((*d)["destination"]["mx_host"], want["mx_host"]) << d->dump();
      std::string where = want["address"];
      EXPECT_EQ((*d)["destination"]["address"], where.empty() ? where : where + ":" + std::to_string(port_)) << d->dump();
    }
  }

  static std::set<std::string> reason_ids(const json& j) {
    std::set<std::string> ids;
    for (const auto& r : j["reasons"]) ids.insert(r["id"].get<std::string>());
    return ids;
  }

  static std::string sender(const json& dane, const std::string& id) {
    if (!dane.is_object() || !dane.contains("senders")) return "?";
    for (const auto& s : dane["senders"])
      if (s["id"] == id) return s["outcome"];
    return "?";
  }

  static fs::path dir_;
  static unsigned short port_;
  static std::vector<dane_case> cases_;
  static t::zone_server* zones_;
  static std::vector<mock_mx*> servers_;
  static std::string last_output_;
  static int last_exit_;
};

fs::path Dane::dir_;
unsigned short Dane::port_ = 0;
std::vector<dane_case> Dane::cases_;
t::zone_server* Dane::zones_ = nullptr;
std::vector<mock_mx*> Dane::servers_;
std::string Dane::last_output_;
int Dane::last_exit_ = -1;

TEST_F(Dane, ServersAreUp) {
  for (auto* s : servers_) EXPECT_TRUE(s->ready()) << s->output();
}

TEST_F(Dane, DaneEeRecordVerifies) {
  json j = probe("ee.dane.test");
  ASSERT_TRUE(j.contains("hosts")) << last_output_;
  EXPECT_EQ(j["dns"]["validation"]["anchor_status"], "secure") << last_output_;
  EXPECT_EQ(j["dns"]["lookups"][0]["dnssec"], "secure") << last_output_;
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "verified") << last_output_;
  EXPECT_EQ(d["address_dnssec"], "secure");
  EXPECT_EQ(d["tlsa_dnssec"], "secure");
  EXPECT_EQ(d["sni"], "mx.ee.dane.test") << "SNI is the TLSA base domain (RFC 7672 §8.1)";
  ASSERT_TRUE(d["matched"].is_object()) << last_output_;
  EXPECT_EQ(d["matched"]["usage"], 3);
  EXPECT_EQ(d["matched"]["selector"], 1);
  EXPECT_EQ(d["matched"]["mtype"], 1);
  EXPECT_EQ(d["matched"]["depth"], 0);
  EXPECT_EQ(d["tlsa"].size(), 2u);
  EXPECT_TRUE(reason_ids(j).count("dane-verified")) << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "dane-verified");
  EXPECT_EQ(j["exit_code"], 0) << last_output_;
}

TEST_F(Dane, DaneTaRecordVerifiesAtTheIssuer) {
  json j = probe("ta.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "verified") << last_output_;
  ASSERT_TRUE(d["matched"].is_object()) << last_output_;
  EXPECT_EQ(d["matched"]["usage"], 2);
  EXPECT_EQ(d["matched"]["depth"], 1);
  EXPECT_TRUE(reason_ids(j).count("dane-no-rollover")) << last_output_;
}

TEST_F(Dane, StaleRecordIsAMismatchWithTheDigestThatWouldMatch) {
  json j = probe("stale.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "mismatch") << last_output_;
  EXPECT_TRUE(d["matched"].is_null());
  std::string leaf311 = tlsa_data(dir_ / "leaf.pem", 1, 1);
  bool served = false;
  for (const auto& c : d["served"])
    served = served || (c["depth"] == 0 && c["selector"] == 1 && c["mtype"] == 1 && c["data"] == leaf311);
  EXPECT_TRUE(served) << last_output_;
  auto ids = reason_ids(j);
  EXPECT_TRUE(ids.count("dane-mismatch")) << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "defer");
  EXPECT_EQ(sender(d, "exim-try-dane"), "defer");
  EXPECT_EQ(j["exit_code"], 1) << last_output_;
  // PKIX senders still verify the chain (the CA given with --ca).
  EXPECT_EQ(j["hosts"][0]["checks"]["starttls"]["tls"]["verified"], true) << last_output_;
}

TEST_F(Dane, WrongStrongerDigestHidesTheRightOne) {
  json j = probe("trap.dane.test");
  EXPECT_EQ(j["hosts"][0]["dane"]["status"], "mismatch") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dane-digest-trap")) << last_output_;
}

TEST_F(Dane, PkixUsagesAreUnusable) {
  json j = probe("pkix.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "unusable") << last_output_;
  EXPECT_EQ(d["tlsa"][0]["usable"], false);
  EXPECT_EQ(d["tlsa"][0]["usability"], "pkix-usage");
  auto ids = reason_ids(j);
  EXPECT_TRUE(ids.count("dane-unusable") && ids.count("dane-pkix-usage")) << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "encrypt");
  EXPECT_EQ(sender(d, "postfix-dane-only"), "defer");
}

TEST_F(Dane, SecureDenialIsNoTlsa) {
  json j = probe("none.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "no-tlsa") << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "not-applied");
  EXPECT_EQ(sender(d, "exim-require-dane"), "defer");
}

TEST_F(Dane, FullCertificateRecordIsFragile) {
  json j = probe("full.dane.test");
  EXPECT_EQ(j["hosts"][0]["dane"]["status"], "verified") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dane-full-certificate")) << last_output_;
}

TEST_F(Dane, UnsignedZoneIsInsecure) {
  json j = probe("plain.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "insecure") << last_output_;
  EXPECT_EQ(d["address_dnssec"], "insecure");
  EXPECT_EQ(j["exit_code"], 0) << last_output_;
}

TEST_F(Dane, UnsignedAddressIsBogus) {
  json j = probe("forged.dane.test");
  ASSERT_FALSE(j["hosts"].empty()) << "the bogus address is still probed (senders that do not validate use it): " << last_output_;
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "bogus") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dnssec-bogus")) << last_output_;
  EXPECT_EQ(j["exit_code"], 1) << last_output_;
}

TEST_F(Dane, TlsaWithoutStarttlsIsNoTls) {
  json j = probe("notls.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "no-tls") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dane-no-tls")) << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "defer");
  EXPECT_EQ(sender(d, "microsoft-365"), "defer");
  EXPECT_EQ(j["exit_code"], 1) << last_output_;
}

TEST_F(Dane, TrustAnchorNotSentIsAMismatchThatSaysSo) {
  json j = probe("tachain.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "mismatch") << last_output_;
  auto ids = reason_ids(j);
  EXPECT_TRUE(ids.count("dane-mismatch") && ids.count("dane-ta-not-in-chain")) << last_output_;
  // The served chain is the leaf alone.
  for (const auto& c : d["served"]) EXPECT_EQ(c["depth"], 0) << last_output_;
}

TEST_F(Dane, DaneEeOnAMisnamedCertificatePassesButPkixFails) {
  json j = probe("misnamed.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "verified") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dane-ee-pkix-fails")) << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "dane-verified");
  EXPECT_EQ(j["hosts"][0]["checks"]["starttls"]["tls"]["hostname_match"], false) << last_output_;
}

TEST_F(Dane, TamperedTlsaIsBogus) {
  json j = probe("badtlsa.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "bogus") << last_output_;
  EXPECT_EQ(d["address_dnssec"], "secure");
  EXPECT_EQ(d["tlsa_dnssec"], "bogus") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dnssec-bogus")) << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "defer");
  EXPECT_EQ(j["exit_code"], 1) << last_output_;
}

TEST_F(Dane, TamperedMxIsBogus) {
  json j = probe("badmx.dane.test");
  bool bogus = false;
  for (const auto& l : j["dns"]["lookups"])
    if (l["type"] == "MX") bogus = l["dnssec"] == "bogus";
  EXPECT_TRUE(bogus) << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dnssec-bogus")) << last_output_;
}

TEST_F(Dane, SomeHostsWithoutTlsaArePartial) {
  json j = probe("partial.dane.test", {"--all-hosts"});
  ASSERT_EQ(j["hosts"].size(), 2u) << last_output_;
  EXPECT_EQ(j["hosts"][0]["dane"]["status"], "verified") << last_output_;
  EXPECT_EQ(j["hosts"][1]["dane"]["status"], "no-tlsa") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dane-partial")) << last_output_;
}

TEST_F(Dane, AliasedMxHostUsesTheExpandedNameFirst) {
  json j = probe("alias.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "verified") << last_output_;
  EXPECT_EQ(d["base_domain"], "mx.target.dane.test") << last_output_;
  EXPECT_EQ(d["sni"], "mx.target.dane.test") << last_output_;
  // No TLSA at the expanded name (secure denial): the original name is the base domain.
  json k = probe("alias2.dane.test");
  const json& e = k["hosts"][0]["dane"];
  EXPECT_EQ(e["status"], "verified") << last_output_;
  EXPECT_EQ(e["base_domain"], "mx.alias2.dane.test") << last_output_;
  EXPECT_EQ(e["sni"], "mx.alias2.dane.test") << last_output_;
}

TEST_F(Dane, TlsaServerThatNeverAnswersIsALookupFailure) {
  json j = probe("lame.dane.test");
  const json& d = j["hosts"][0]["dane"];
  EXPECT_EQ(d["status"], "lookup-failed") << last_output_;
  EXPECT_TRUE(reason_ids(j).count("dane-lookup-failed")) << last_output_;
  EXPECT_EQ(sender(d, "postfix-dane"), "defer");
  EXPECT_EQ(sender(d, "exim-try-dane"), "defer");
  EXPECT_EQ(j["exit_code"], 1) << last_output_;
}

TEST_F(Dane, SecondCertificateWithoutRecordIsFound) {
  // The enumeration (check tls-enum, in --full) sees both certificates; the record covers one.
  json j = probe("dualkey.dane.test", {"--full"});
  const json& d = j["hosts"][0]["dane"];
  std::string status = d.value("status", "?");
  EXPECT_TRUE(status == "verified" || status == "mismatch") << last_output_;
  auto ids = reason_ids(j);
  ASSERT_TRUE(ids.count("dane-key-not-covered")) << last_output_;
  std::string rsa311 = tlsa_data(dir_ / "dual" / "rsa-2048.pem", 1, 1);
  bool named = false;
  for (const auto& r : j["reasons"])
    if (r["id"] == "dane-key-not-covered") named = r.value("detail", "").find("RSA 2048 (3 1 1 " + rsa311 + ")") != std::string::npos;
  EXPECT_TRUE(named) << "the RSA certificate and the record that would match it: " << last_output_;
  // Without the enumeration nothing can be said of the other certificate.
  EXPECT_FALSE(reason_ids(probe("dualkey.dane.test")).count("dane-key-not-covered")) << last_output_;
}

TEST_F(Dane, MandatoryPolicyWantsDane) {
  json j = probe("none.dane.test", {"--policy", "dane-mandatory"});
  EXPECT_EQ(j["policy"], "dane-mandatory");
  EXPECT_TRUE(reason_ids(j).count("dane-fails-policy")) << last_output_;
  EXPECT_EQ(j["exit_code"], 1) << last_output_;
  json ok = probe("ee.dane.test", {"--policy", "dane-opportunistic"});
  EXPECT_FALSE(reason_ids(ok).count("dane-fails-policy")) << last_output_;
}

TEST_F(Dane, WithoutAnchorNothingIsSecure) {
  auto r = t::run(dir_, {MXTLS_BINARY, "probe", "ee.dane.test", "--port", std::to_string(port_), "--resolver", zones_->resolver(),
                         "--no-injection-test", "--json"}, 60s);
  // test. is a special-use name: without the anchor's zone made resolvable, it does not exist.
  EXPECT_NE(r.output.find("\"nxdomain\""), std::string::npos) << r.output;
}

// A validating unbound on ADDRESS:53 (the zone's anchor, a stub zone to NSD, dane.test.
// opened) for the programs that ask the system's resolver and trust its AD bit: they run in a
// private mount namespace whose /etc/resolv.conf is resolv_conf(), which names it with
// "options trust-ad" (glibc passes the AD bit on only then). Stopped however the test ends (a
// leftover would answer the next run's queries).
class validating_unbound {
 public:
  validating_unbound(const fs::path& dir, const std::string& address, const t::zone_server& zones) : dir_(dir) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "unbound.conf") << "server:\n  interface: " << address << "\n  port: 53\n  do-daemonize: no\n  chroot: \"\"\n"
                                        << "  username: \"\"\n  pidfile: \"\"\n  directory: \"" << dir_.string() << "\"\n"
                                        << "  use-syslog: no\n  verbosity: 1\n  access-control: 127.0.0.0/8 allow\n"
                                        << "  so-reuseport: no\n"
                                        << "  do-not-query-localhost: no\n  module-config: \"validator iterator\"\n"
                                        << "  trust-anchor-file: \"" << zones.trust_anchor() << "\"\n"
                                        << "  local-zone: \"dane.test.\" transparent\n"
                                        << "stub-zone:\n  name: \"dane.test.\"\n  stub-addr: 127.0.0.1@" << zones.port() << "\n";
    int fd = open((dir_ / "unbound.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_ = t::spawn({"/usr/sbin/unbound", "-d", "-c", (dir_ / "unbound.conf").string()}, "", fd, fd);
    close(fd);
    for (int i = 0; i < 500 && !ready(); ++i) std::this_thread::sleep_for(10ms);
    std::ofstream(resolv_conf()) << "nameserver " << address << "\noptions trust-ad\n";
  }
  ~validating_unbound() {
    kill(pid_, SIGTERM);
    t::wait_for(pid_, 5s);
  }
  bool ready() const { return log().find("start of service") != std::string::npos; }
  std::string log() const { return t::slurp(dir_ / "unbound.log"); }
  fs::path resolv_conf() const { return dir_ / "resolv.conf"; }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
};

// posttls-finger -l dane as the differential peer, asking a validating unbound on
// 127.0.0.2:53 (validating_unbound); -o dnssec_probe points at a name inside the private tree.
TEST_F(Dane, PosttlsFingerAgreesWithItsPrediction) {
  validating_unbound unbound(dir_ / "unbound", "127.0.0.2", *zones_);
  ASSERT_TRUE(unbound.ready()) << unbound.log();
  fs::path pf = dir_ / "postfix";
  fs::create_directories(pf);
  std::ofstream(pf / "main.cf") << "compatibility_level = 3.6\n";

  struct expectation {
    std::string domain;
    std::string mxtls_status;  // hosts[0].dane.status
    bool verified;             // posttls-finger reports a verified connection
  };
  // no-tlsa, insecure, unusable: posttls-finger falls back to its secure level, where the
  // CA given with -F verifies the chain and the name (mx.NAME.dane.test under NAME.dane.test).
  std::vector<expectation> cases = {{"ee.dane.test", "verified", true},     {"ta.dane.test", "verified", true},
                                    {"stale.dane.test", "mismatch", false}, {"trap.dane.test", "mismatch", false},
                                    {"pkix.dane.test", "unusable", true},   {"none.dane.test", "no-tlsa", true},
                                    {"full.dane.test", "verified", true},   {"plain.dane.test", "insecure", true},
                                    {"forged.dane.test", "bogus", false},   {"notls.dane.test", "no-tls", false},
                                    {"tachain.dane.test", "mismatch", false}, {"misnamed.dane.test", "verified", true},
                                    {"badtlsa.dane.test", "bogus", false},  {"alias.dane.test", "verified", true},
                                    {"alias2.dane.test", "verified", true}, {"lame.dane.test", "lookup-failed", false}};
  for (const auto& c : cases) {
    json j = probe(c.domain);
    json d = j.contains("hosts") && !j["hosts"].empty() ? j["hosts"][0]["dane"] : json::object();
    EXPECT_EQ(d.value("status", "?"), c.mxtls_status) << c.domain << ": " << last_output_;
    std::string predicted = sender(d, "posttls-finger");
    std::string script = "mount --bind '" + unbound.resolv_conf().string() + "' /etc/resolv.conf && MAIL_CONFIG='" + pf.string() +
                         "' exec /usr/sbin/posttls-finger -l dane -o dnssec_probe=ns:dane.test -F '" + (dir_ / "ca.pem").string() +
                         "' '" + c.domain + ":" + std::to_string(port_) + "'";
    auto r = t::run(dir_, {"/usr/bin/unshare", "-m", "/bin/sh", "-c", script}, 60s);
    std::ofstream(dir_ / ("posttls-finger-" + c.domain + ".txt")) << r.output;
    // It ran and reached the destination (its session is printed: no -c), not a failure to start it.
    EXPECT_NE(r.output.find("posttls-finger: "), std::string::npos) << c.domain << ": " << r.output;
    bool verified = r.output.find("Verified TLS connection established") != std::string::npos;
    EXPECT_EQ(verified, c.verified) << c.domain << ": posttls-finger said\n" << r.output;
    // The prediction: dane-verified, or not-applied with the PKIX chain verified, is a verified connection.
    json tls = j.contains("hosts") && !j["hosts"].empty() ? j["hosts"][0]["checks"]["starttls"]["tls"] : json();
    bool pkix = tls.is_object() && tls.contains("verified") && tls["verified"].is_boolean() && tls["verified"].get<bool>();
    bool predicted_verified = predicted == "dane-verified" || (predicted == "not-applied" && pkix);
    EXPECT_EQ(verified, predicted_verified) << c.domain << ": mxtls predicts " << predicted << ", posttls-finger said\n" << r.output;
    // Where both matched a record: the same usage and chain depth.
    std::smatch m;
    std::regex matched("Matched DANE (EE|TA) (?:certificate|public key) at depth ([0-9]+)");
    if (std::regex_search(r.output, m, matched) && d.contains("matched") && d["matched"].is_object()) {
      EXPECT_EQ(d["matched"]["usage"].get<int>(), m[1] == "EE" ? 3 : 2) << c.domain << ": " << r.output;
      EXPECT_EQ(d["matched"]["depth"].get<int>(), std::stoi(m[2])) << c.domain << ": " << r.output;
    }
  }
}

// mxtls logs on the log of a real Postfix 3.7 delivering with smtp_tls_security_level = dane
// (tests/integration/postfix-instance: its smtpdane transport, DNS lookups with DNSSEC, in a
// private mount namespace whose resolver is a validating unbound on a loopback address of this
// process's own) to every destination of logs/postfix-dane-scenarios.json, one message each,
// through the tree above: the DANE failures as Postfix words them, each destination compared
// with its expected line. The unbound's address is made from the pid, so that another test
// process's resolver (posttls-finger's on 127.0.0.2) is not in the way.
TEST_F(Dane, PostfixDaneDeliveriesAreReadFromItsLog) {
  namespace ml = t::mta_logs;
  for (const char* tool : {"/usr/sbin/postfix", "/usr/bin/unshare", "/usr/sbin/unbound"}) ASSERT_TRUE(fs::exists(tool)) << tool << " is missing (scripts/install-deps)";
  validating_unbound unbound(dir_ / "unbound-postfix", own_loopback(88), *zones_);
  ASSERT_TRUE(unbound.ready()) << unbound.log();
  json data = read_destinations("tests/integration/logs/postfix-dane-scenarios.json");
  fs::path run_dir = dir_ / "postfix-dane", routes = run_dir / "routes", instance = run_dir / "postfix";
  fs::create_directories(routes);
  {
    std::ofstream transport(routes / "transport");
    for (const auto& d : data["destinations"]) {
      std::string domain = d["domain"];
      transport << domain << " smtpdane:" << domain << ":" << port_ << "\n";
    }
  }
  fs::copy_file(unbound.resolv_conf(), routes / "resolv.conf", fs::copy_options::overwrite_existing);
  std::ofstream(routes / "dnssec-probe") << "ns:dane.test\n";
  for (const auto& e : fs::directory_iterator(routes)) fs::permissions(e.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  fs::path pf = ml::source("tests/integration/postfix-instance");
  auto start = t::run(run_dir, {pf.string(), "start", instance.string(), std::to_string(ml::free_port()), routes.string()}, 60s);
  ASSERT_EQ(start.exit_code, 0) << start.output;
  struct stop_postfix {
    fs::path script, instance, dir;
    ~stop_postfix() { t::run(dir, {script.string(), "stop", instance.string()}, 60s); }
  };
  std::size_t sent = 0;
  fs::path log_copy;
  {
    stop_postfix stop{pf, instance, run_dir};
    for (const auto& d : data["destinations"]) {
      auto send = t::run(run_dir, {pf.string(), "send", instance.string(), "x@" + d["domain"].get<std::string>()}, 30s);
      ASSERT_EQ(send.exit_code, 0) << send.output;
      ++sent;
    }
    // Every message ends with one status= line (sent or deferred: the backoff is an hour);
    // the instance's timeouts, and the resolver's, bound a stuck lookup or session.
    ASSERT_TRUE(ml::await_count(instance, instance / "maillog", " status=", sent, 120s)) << t::slurp(instance / "maillog");
    EXPECT_EQ(ml::count_of(t::slurp(instance / "maillog"), " status="), sent) << "one status line a message";
    log_copy = dir_ / "postfix-dane.maillog";
    fs::copy_file(instance / "maillog", log_copy, fs::copy_options::overwrite_existing);
  }
  expect_log_destinations(data, log_copy, "postfix");
}

// What a real Exim did with one message, from its mainlog (its own words, not mxtls logs'
// reading): "=> x@DOMAIN ... CV=dane" delivered authenticated by DANE, "=>" without it
// delivered otherwise, "==" deferred, "**" bounced; "" no line.
std::string exim_did(const std::string& mainlog, const std::string& domain) {
  std::istringstream in(mainlog);
  std::string line, did;
  while (std::getline(in, line)) {
    if (line.find(" => x@" + domain + " ") != std::string::npos)
      did = line.find(" CV=dane") != std::string::npos ? "delivered-dane" : "delivered";
    else if (line.find(" == x@" + domain + " ") != std::string::npos && did.empty())
      did = "deferred";
    else if (line.find(" ** x@" + domain + " ") != std::string::npos && did.empty())
      did = "bounced";
  }
  return did;
}

// The same with a real Exim 4.96 (tests/integration/exim-instance, Debian's
// exim4-daemon-light unpacked from its .deb: the dnslookup router with DNSSEC requested and a
// transport with hosts_try_dane = *, its resolver a validating unbound as above), one message
// each, delivered in the foreground: logs/exim-dane-scenarios.json. The same run is the
// differential of the exim-try-dane prediction: for every destination, what Exim did (its
// mainlog) against what mxtls probe predicts for it (dane.senders[] of the first host).
TEST_F(Dane, EximDaneDeliveriesAreReadFromItsLog) {
  namespace ml = t::mta_logs;
  validating_unbound unbound(dir_ / "unbound-exim", own_loopback(89), *zones_);
  ASSERT_TRUE(unbound.ready()) << unbound.log();
  json data = read_destinations("tests/integration/logs/exim-dane-scenarios.json");
  fs::path instance = dir_ / "exim-dane", script = ml::source("tests/integration/exim-instance");
  auto start = t::run(dir_, {script.string(), "start", instance.string(), std::to_string(port_), "", "", unbound.resolv_conf().string()}, 60s);
  ASSERT_EQ(start.exit_code, 0) << start.output;
  for (const auto& d : data["destinations"]) {
    // exim -odf: returns when the message is delivered or deferred.
    auto send = t::run(dir_, {script.string(), "send", instance.string(), "x@" + d["domain"].get<std::string>()}, 90s);
    EXPECT_NE(send.exit_code, -1) << d["domain"] << ": " << send.output;
  }
  fs::path log_copy = dir_ / "exim-dane.mainlog";
  fs::copy_file(instance / "log" / "mainlog", log_copy, fs::copy_options::overwrite_existing);
  t::run(dir_, {script.string(), "stop", instance.string()}, 60s);
  expect_log_destinations(data, log_copy, "exim");

  // The differential. dane-verified: delivered with CV=dane; not-applied: delivered without
  // DANE (these servers all offer TLS, so the other layers deliver); defer: deferred. A
  // destination whose MX answer is bogus has no host to predict for: Exim's router defers it,
  // and the probe's reason is the domain's dnssec-bogus. `unknown` is compared with nothing.
  std::string mainlog = t::slurp(log_copy);
  std::size_t compared = 0;
  for (const auto& d : data["destinations"]) {
    std::string domain = d["domain"];
    SCOPED_TRACE(domain);
    std::string did = exim_did(mainlog, domain);
    json j = probe(domain);
    if (!j.contains("hosts") || j["hosts"].empty() || !j["hosts"][0].contains("dane")) {
      EXPECT_TRUE(reason_ids(j).count("dnssec-bogus")) << last_output_;
      EXPECT_EQ(did, "deferred") << mainlog;
      ++compared;
      continue;
    }
    std::string predicted = sender(j["hosts"][0]["dane"], "exim-try-dane");
    if (predicted == "unknown") continue;
    std::string want = predicted == "dane-verified" ? "delivered-dane" : predicted == "not-applied" ? "delivered" : predicted == "defer" ? "deferred" : "?";
    EXPECT_EQ(did, want) << "mxtls predicts " << predicted << " for exim-try-dane: " << j["hosts"][0]["dane"].dump() << "\n" << mainlog;
    ++compared;
  }
  // Every destination but pkix (only PKIX usages: the row's unknown cell).
  EXPECT_EQ(compared, data["destinations"].size() - 1);
}

// mxtls tlsa against a second implementation (GnuTLS's danetool) for the records to publish,
// danetool's own zone lines read back as the record set, and a live check by OpenSSL.
TEST_F(Dane, TlsaCommandAgreesWithDanetool) {
  auto danetool = [&](const std::string& cert, bool ca) {
    std::vector<std::string> argv{"/usr/bin/danetool", "--tlsa-rr", "--load-certificate", (dir_ / cert).string(), "--host",
                                  "mx.ee.dane.test", "--port", "25"};
    if (ca) argv.push_back("--ca");
    return t::run(dir_, argv, 30s).output;
  };
  std::string theirs = danetool("leaf.pem", false) + danetool("ca.pem", true);
  std::ofstream(dir_ / "danetool.zone") << theirs;
  auto mine = t::run(dir_, {MXTLS_BINARY, "tlsa", (dir_ / "chain.pem").string()}, 30s);
  EXPECT_EQ(mine.exit_code, 0) << mine.output;
  std::regex rr("IN TLSA \\( 0([23]) 01 01 ([0-9a-f]+) \\)");
  int compared = 0;
  for (std::sregex_iterator it(theirs.begin(), theirs.end(), rr), end; it != end; ++it, ++compared) {
    std::string line = "_25._tcp.mx.ee.dane.test. IN TLSA " + (*it)[1].str() + " 1 1 " + (*it)[2].str();
    EXPECT_NE(mine.output.find(line), std::string::npos) << "danetool: " << it->str() << "\nmxtls tlsa:\n" << mine.output;
  }
  EXPECT_EQ(compared, 2) << theirs;
  auto check = t::run(dir_, {MXTLS_BINARY, "tlsa", (dir_ / "chain.pem").string(), "--records", (dir_ / "danetool.zone").string()}, 30s);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("matches at depth 0"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("matches at depth 1"), std::string::npos) << check.output;
  // Live: the stale record fails in OpenSSL's verification, the right one passes; the next key.
  std::string target = "[127.0.0.11]:" + std::to_string(port_);
  auto stale = t::run(dir_, {MXTLS_BINARY, "tlsa", target, "--sni", "mx.ee.dane.test", "--record",
                             "3 1 1 " + tlsa_data(dir_ / "other.pem", 1, 1)}, 30s);
  EXPECT_EQ(stale.exit_code, 1) << stale.output;
  EXPECT_NE(stale.output.find("verification of the live handshake: failed"), std::string::npos) << stale.output;
  auto good = t::run(dir_, {MXTLS_BINARY, "tlsa", target, "--sni", "mx.ee.dane.test", "--record",
                            "3 1 1 " + tlsa_data(dir_ / "leaf.pem", 1, 1), "--next-key", (dir_ / "other.key").string()}, 30s);
  EXPECT_EQ(good.exit_code, 1) << "the next key is not published: " << good.output;
  EXPECT_NE(good.output.find("verification of the live handshake: verified (depth 0)"), std::string::npos) << good.output;
  EXPECT_NE(good.output.find("3 1 1 " + tlsa_data(dir_ / "other.pem", 1, 1)), std::string::npos)
      << "the next key's record, from its private key: " << good.output;
}

TEST_F(Dane, EveryDocumentMatchesTheSchema) {
  fs::path out = dir_ / "json";
  fs::create_directories(out);
  for (const std::string d : {"ee", "ta", "stale", "trap", "pkix", "none", "full", "plain", "forged", "notls", "tachain", "misnamed",
                              "badtlsa", "badmx", "partial", "alias", "alias2", "lame"}) {
    probe(d + ".dane.test");
    std::ofstream(out / (d + ".json")) << last_output_;
  }
  auto r = t::run(dir_, {"/usr/bin/python3", MXTLS_SOURCE_DIR "/tests/schema/validate.py", MXTLS_SOURCE_DIR "/docs/probe-json.schema.json",
                         out.string()}, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace
