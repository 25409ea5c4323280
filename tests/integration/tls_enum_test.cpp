// Check "tls-enum" against the restricted `mxtls serve` scenarios: what it finds accepted
// (versions, suites in order where the server's order decides, groups, signature algorithms,
// certificates, DH size, reasons) must be what tests/integration/tls-enum/scenarios.json
// says. The scenarios run in-process; the CLI tests run `mxtls serve` and `mxtls probe` as
// processes, and openssl s_client as the client that asks the dual-cert scenario for each of
// its certificates.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <regex>
#include <set>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "mxtls/mock_server.hpp"
#include "mxtls/probe.hpp"
#include "dual_cert.hpp"
#include "served.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

json expectations() {
  std::ifstream in(fs::path(MXTLS_SOURCE_DIR) / "tests/integration/tls-enum/scenarios.json");
  return json::parse(in);
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> v;
  const json all = expectations();
  for (const auto& [name, e] : all["scenarios"].items()) v.push_back(name);
  return v;
}

// A built-in scenario on 127.0.0.1:0, on a thread of its own, for as long as this lives.
class in_process_server {
 public:
  explicit in_process_server(const std::string& name) {
    scenario_error err;
    auto sc = builtin(name, err);
    if (!sc) throw std::runtime_error(err.what());
    server_ = std::make_unique<mock_server>(io_, *sc, make_identity(*sc), server_options{});
    server_->listen(parse_listen_address("127.0.0.1:0"));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~in_process_server() {
    asio::post(io_, [this] { server_->stop(); });
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return server_->local_endpoint().port(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::unique_ptr<mock_server> server_;
  std::thread thread_;
};

// The probe with starttls and tls-enum only, against a port on 127.0.0.1.
probe_report enumerate_at(unsigned short port, tls_enum_limits limits = {}) {
  probe_options opt;
  std::vector<std::string> check{"tls-enum"}, skip{"injection", "tls-senders"};
  opt.checks = select_checks(check, skip);
  opt.tls_enum = limits;
  opt.session.timeouts.tls = 8000ms;
  return run_probe(parse_probe_target("[127.0.0.1]:" + std::to_string(port), 25), opt);
}

probe_report enumerate(const std::string& name, tls_enum_limits limits = {}) {
  in_process_server server(name);
  return enumerate_at(server.port(), limits);
}

std::vector<std::string> strings(const json& j) { return j.get<std::vector<std::string>>(); }
std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class TlsEnumScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(TlsEnumScenario, FindsWhatTheScenarioAccepts) {
  const std::string name = GetParam();
  const json want = expectations()["scenarios"][name];
  probe_report r = enumerate(name);
  ASSERT_EQ(r.facts.hosts.size(), 1u);
  const address_result& h = r.facts.hosts.front();
  const tls_enum_facts* f = h.get<tls_enum_facts>();
  ASSERT_NE(f, nullptr) << name << ": no tls-enum facts (STARTTLS not accepted?)";
  EXPECT_TRUE(f->complete) << name;
  if (std::getenv("MXTLS_PRINT_TLS_ENUM")) {
    // What the scenario's entry would be, to review against the scenario before it goes into the data.
    json e;
    e["outcome"] = to_string(r.diagnosis.outcome);
    e["versions"] = json::array();
    for (const auto& v : f->versions)
      if (v.accepted) {
        e["versions"].push_back(v.version);
        json names = json::array();
        for (const auto& x : v.suites) names.push_back(x.name);
        e["suites"][v.version] = names;
        e["server_order"][v.version] = v.server_order ? json(*v.server_order) : json();
      }
    e["groups"] = f->groups;
    e["signature_algorithms"] = f->signature_algorithms;
    e["certificates"] = json::array();
    for (const auto& c : f->certificates)
      e["certificates"].push_back({{"key_type", c.leaf.key_type}, {"key_bits", c.leaf.key_bits},
                                   {"signature_algorithm", c.signature_algorithm}, {"chosen_for", c.chosen_for}});
    e["dh_bits"] = f->dh_bits;
    e["reasons"] = json::array();
    for (const auto& x : r.diagnosis.hosts.front().reasons)
      if (std::string_view(to_string(x.id)).rfind("tls-", 0) == 0) e["reasons"].push_back(to_string(x.id));
    std::cout << "\"" << name << "\": " << e.dump() << ",\n";
  }

  std::vector<std::string> accepted;
  for (const auto& v : f->versions)
    if (v.accepted) accepted.push_back(v.version);
  EXPECT_EQ(accepted, strings(want["versions"])) << name;
  for (const auto& [version, suites] : want["suites"].items()) {
    const tls_enum_version* v = f->find(version);
    ASSERT_NE(v, nullptr) << name << " " << version;
    std::vector<std::string> got;
    for (const auto& s : v->suites) got.push_back(s.name);
    const json& order = want["server_order"][version];
    if (order.is_boolean() && order.get<bool>()) {
      EXPECT_EQ(got, strings(suites)) << name << " " << version << ": the server's order";
    } else {
      EXPECT_EQ(as_set(got), as_set(strings(suites))) << name << " " << version;
    }
    if (order.is_null()) EXPECT_FALSE(v->server_order.has_value()) << name << " " << version;
    else EXPECT_EQ(v->server_order, std::optional<bool>(order.get<bool>())) << name << " " << version;
  }
  if (want.contains("groups")) EXPECT_EQ(as_set(f->groups), as_set(strings(want["groups"]))) << name;
  if (want.contains("signature_algorithms"))
    EXPECT_EQ(as_set(f->signature_algorithms), as_set(strings(want["signature_algorithms"]))) << name;
  ASSERT_EQ(f->certificates.size(), want["certificates"].size()) << name;
  for (const auto& wc : want["certificates"]) {
    auto it = std::find_if(f->certificates.begin(), f->certificates.end(), [&](const tls_enum_certificate& c) {
      return c.leaf.key_type == wc["key_type"] && c.leaf.key_bits == wc["key_bits"].get<int>();
    });
    ASSERT_NE(it, f->certificates.end()) << name << ": no " << wc.dump() << " certificate";
    EXPECT_EQ(it->signature_algorithm, wc["signature_algorithm"]) << name;
    for (const auto& label : strings(wc["chosen_for"]))
      EXPECT_NE(std::find(it->chosen_for.begin(), it->chosen_for.end(), label), it->chosen_for.end())
          << name << ": the " << it->leaf.key_type << " certificate is not sent for " << label;
    EXPECT_EQ(it->spki_sha256.size(), 64u);
  }
  EXPECT_EQ(f->dh_bits, want.value("dh_bits", 0)) << name;
  std::vector<std::string> reasons;
  for (const auto& x : r.diagnosis.hosts.front().reasons)
    if (std::string_view(to_string(x.id)).rfind("tls-", 0) == 0) reasons.push_back(to_string(x.id));
  EXPECT_EQ(reasons, strings(want["reasons"])) << name;
  // The enumeration says what to fix; it does not change what the probe concludes.
  EXPECT_EQ(to_string(r.diagnosis.outcome), want["outcome"].get<std::string>()) << name;
}

INSTANTIATE_TEST_SUITE_P(Restricted, TlsEnumScenario, ::testing::ValuesIn(scenario_names()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

// tls_enum_limits::max_handshakes: the enumeration stops there and says so.
TEST(TlsEnum, StopsAtTheHandshakeLimitAndSaysSo) {
  probe_report r = enumerate("dual-cert", {.concurrency = 2, .max_handshakes = 5});
  const tls_enum_facts* f = r.facts.hosts.front().get<tls_enum_facts>();
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(f->complete);
  EXPECT_EQ(f->handshakes, 5u);
  bool said = false;
  for (const auto& x : r.diagnosis.hosts.front().reasons) said = said || x.id == reason_id::tls_enum_incomplete;
  EXPECT_TRUE(said);
  // One under the limit it needs: complete.
  probe_report all = enumerate("tls13-chacha-only");
  const tls_enum_facts* g = all.facts.hosts.front().get<tls_enum_facts>();
  ASSERT_NE(g, nullptr);
  ASSERT_TRUE(g->complete);
  probe_report exact = enumerate("tls13-chacha-only", {.concurrency = 8, .max_handshakes = g->handshakes});
  EXPECT_TRUE(exact.facts.hosts.front().get<tls_enum_facts>()->complete);
}

// The enumeration starts beside the main session; a server that refuses STARTTLS there gets
// no tls_enum facts, whatever its version hellos met.
TEST(TlsEnum, IsKeptOnlyWhenTheMainSessionsStarttlsIsAccepted) {
  probe_report refused = enumerate("starttls-454");
  ASSERT_FALSE(refused.facts.hosts.empty());
  const starttls_facts* st = refused.facts.hosts.front().get<starttls_facts>();
  ASSERT_NE(st, nullptr);
  EXPECT_NE(st->dialogue.starttls, starttls_answer::accepted);
  EXPECT_EQ(refused.facts.hosts.front().get<tls_enum_facts>(), nullptr);
  probe_report accepted = enumerate("compliant");
  EXPECT_NE(accepted.facts.hosts.front().get<tls_enum_facts>(), nullptr);
}

TEST(TlsEnumCli, ProbeJsonListsBothCertificatesOfDualCert) {
  fs::path dir = test::temp_dir();
  test::dual_cert_server s(dir);
  ASSERT_NE(s.port, 0) << test::slurp(s.out);
  auto r = test::run(dir, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(s.port), "--full", "--json"}, 60s);
  ASSERT_FALSE(r.timed_out);
  json doc = json::parse(r.output);
  EXPECT_NE(std::find(doc["checks"].begin(), doc["checks"].end(), "tls-enum"), doc["checks"].end()) << "--full runs tls-enum";
  const json& e = doc["hosts"][0]["checks"]["tls_enum"];
  ASSERT_TRUE(e.is_object()) << r.output.substr(0, 2000);
  std::set<std::string> served;
  for (const auto& c : e["certificates"]) served.insert(c["sha256"].get<std::string>());
  EXPECT_EQ(served, (std::set<std::string>{test::fingerprint_of(dir, dir / "rsa-2048.pem"), test::fingerprint_of(dir, dir / "ecdsa-p256.pem")}));
  // Without --full (nor --check tls-enum) there is no enumeration.
  auto plain = test::run(dir, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(s.port), "--json"}, 60s);
  EXPECT_FALSE(json::parse(plain.output)["hosts"][0]["checks"].contains("tls_enum"));
}

// `mxtls serve --threads 3` serves the enumeration's sessions on three threads: the
// enumeration finds what it finds against the same scenario on one thread (each server makes
// certificates of its own: they are compared by key type and the hellos they were sent for),
// and the server counts every session it served.
TEST(TlsEnumCli, AServerOnThreadsServesTheSameEnumeration) {
  fs::path dir = test::temp_dir();
  auto enumeration = [&](test::served& s) {
    auto r = test::run(dir, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(s.port()), "--check", "tls-enum", "--json"}, 60s);
    EXPECT_FALSE(r.timed_out);
    json e = json::parse(r.output)["hosts"][0]["checks"]["tls_enum"];
    json certificates = json::array();
    for (const auto& c : e["certificates"]) certificates.push_back(json::array({c["key_type"], c["chosen_for"]}));
    e["certificates"] = certificates;
    return e;
  };
  fs::create_directories(dir / "one");
  fs::create_directories(dir / "three");
  test::served one("dual-cert", dir / "one");
  test::served three("dual-cert", dir / "three", "127.0.0.1:0", {"--threads", "3"});
  ASSERT_NE(one.port(), 0) << one.output();
  ASSERT_NE(three.port(), 0) << three.output();
  json a = enumeration(one), b = enumeration(three);
  ASSERT_TRUE(b.is_object() && b["complete"] == true) << b.dump();
  EXPECT_EQ(a, b);
  three.stop();
  std::smatch m;
  std::string out = three.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("stopped after ([0-9]+) sessions \\(([0-9]+) TLS handshakes"))) << out;
  // The enumeration's sessions, one a hello, and the probe's own (the main session, the
  // senders' replays).
  EXPECT_GT(std::stoi(m[1]), b["handshakes"].get<int>()) << out;
  auto bad = test::run(dir, {MXTLS_BINARY, "serve", "--scenario", "compliant", "--threads", "0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--threads"), std::string::npos) << bad.output;
}

// Session tickets, against a real Postfix smtpd (tests/integration/postfix-instance serve,
// which keeps Postfix's ticket defaults; mxtls serve issues none). At TLS 1.2 the ticket
// comes within the handshake; at TLS 1.3 after it, which the EHLO inside TLS lets arrive:
// the version hellos send that EHLO at TLS 1.3 only.
TEST(TlsEnumCli, SessionTicketsOfARealPostfixAreSeenAtTls12And13) {
  if (!fs::exists("/usr/sbin/postfix")) GTEST_FAIL() << "postfix is not installed (scripts/install-deps installs it)";
  constexpr int port = 24736;
  fs::path dir = test::temp_dir();
  fs::path instance = fs::temp_directory_path() / ("mxtls-enum-pf-" + std::to_string(getpid()));
  std::string tool = (fs::path(MXTLS_SOURCE_DIR) / "tests/integration/postfix-instance").string();
  ASSERT_EQ(std::system((tool + " serve " + instance.string() + " " + std::to_string(port)).c_str()), 0);
  auto r = test::run(dir, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(port), "--check", "tls-enum", "--skip",
                           "injection,tls-senders", "--json"},
                     60s);
  std::system((tool + " stop " + instance.string()).c_str());
  ASSERT_FALSE(r.timed_out);
  json e = json::parse(r.output, nullptr, false);
  ASSERT_FALSE(e.is_discarded()) << r.output.substr(0, 2000);
  const json& versions = e["hosts"][0]["checks"]["tls_enum"]["versions"];
  ASSERT_TRUE(versions.is_array()) << r.output.substr(0, 2000);
  std::map<std::string, json> by_name;
  for (const auto& v : versions) by_name[v["version"].get<std::string>()] = v;
  for (const char* v : {"TLSv1.3", "TLSv1.2"}) {
    ASSERT_TRUE(by_name[v]["accepted"] == true) << v << ": " << by_name[v].dump();
    EXPECT_TRUE(by_name[v]["session_ticket"] == true) << v << ": " << by_name[v].dump();
  }
}

// A probe that fails after the enumeration began (a CA store that cannot be loaded) waits
// for the enumeration's sessions before it reports: exit code 2 and the reason, no crash
// (the asan build runs this test: an enumeration left running would touch freed memory).
TEST(TlsEnumCli, AnUnusableCaStoreEndsTheProbeCleanly) {
  fs::path dir = test::temp_dir();
  test::dual_cert_server s(dir);
  ASSERT_NE(s.port, 0) << test::slurp(s.out);
  std::ofstream(dir / "empty.pem").flush();
  auto r = test::run(dir, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(s.port), "--check", "tls-enum", "--ca",
                           (dir / "empty.pem").string(), "--json"},
                     60s);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cannot load the CA store"), std::string::npos) << r.output;
}

// The differential test: for every restricted scenario, the versions and suites sslscan and
// testssl.sh find accepted equal what tls-enum finds, but for the differences listed with
// their reason in tests/integration/tls-enum/peer-exceptions.json.
struct accepted_set {
  std::set<std::string> versions;  // "TLSv1.2"
  std::set<std::string> suites;    // "TLSv1.2 ECDHE-ECDSA-AES128-SHA", or the name alone (testssl.sh -e)
};

accepted_set of_mxtls(const tls_enum_facts& f, bool with_version) {
  accepted_set a;
  for (const auto& v : f.versions) {
    if (!v.accepted) continue;
    a.versions.insert(v.version);
    for (const auto& s : v.suites) a.suites.insert(with_version ? v.version + " " + s.name : s.name);
  }
  return a;
}

// sslscan --starttls-smtp --xml=-: <protocol type="tls" version="1.2" enabled="1" /> and
// <cipher status="accepted" sslversion="TLSv1.2" ... cipher="NAME" ... />.
accepted_set of_sslscan(const std::string& xml) {
  accepted_set a;
  std::regex protocol(R"re(<protocol type="tls" version="([0-9.]+)" enabled="1")re"),
      cipher(R"re(<cipher status="[a-z]+" sslversion="([^"]+)" [^>]*cipher="([^"]+)")re");
  for (std::sregex_iterator it(xml.begin(), xml.end(), protocol), end; it != end; ++it)
    a.versions.insert((*it)[1] == "1.0" ? std::string("TLSv1") : "TLSv" + (*it)[1].str());
  for (std::sregex_iterator it(xml.begin(), xml.end(), cipher), end; it != end; ++it)
    a.suites.insert(((*it)[1] == "TLSv1.0" ? std::string("TLSv1") : (*it)[1].str()) + " " + (*it)[2].str());
  return a;
}

// testssl.sh --jsonfile with -p (ids TLS1, TLS1_1, TLS1_2, TLS1_3: "offered ...") and -e
// (ids cipher_xHEX: "xHEX  OPENSSL-NAME  KX ..."; -e does not say at which version).
accepted_set of_testssl(const json& doc) {
  accepted_set a;
  const std::map<std::string, std::string> ids{{"TLS1", "TLSv1"}, {"TLS1_1", "TLSv1.1"}, {"TLS1_2", "TLSv1.2"}, {"TLS1_3", "TLSv1.3"}};
  for (const auto& e : doc) {
    std::string id = e.value("id", ""), finding = e.value("finding", "");
    if (auto v = ids.find(id); v != ids.end() && finding.rfind("offered", 0) == 0) a.versions.insert(v->second);
    if (id.rfind("cipher_x", 0) == 0) {
      std::istringstream words(finding);
      std::string hex, name;
      words >> hex >> name;
      a.suites.insert(name);
    }
  }
  return a;
}

// Differences not explained in peer-exceptions.json, worded for the failure message.
std::vector<std::string> unexplained(const std::string& peer, const std::string& scenario, const std::string& kind,
                                     const std::set<std::string>& ours, const std::set<std::string>& theirs) {
  std::ifstream in(fs::path(MXTLS_SOURCE_DIR) / "tests/integration/tls-enum/peer-exceptions.json");
  json exceptions = json::parse(in)["exceptions"];
  auto explained = [&](const std::string& item, const std::string& side) {
    for (const auto& x : exceptions)
      if (x["peer"] == peer && (x["scenario"] == "*" || x["scenario"] == scenario) && x["kind"] == kind && x["item"] == item &&
          x["side"] == side && !x["why"].get<std::string>().empty())
        return true;
    return false;
  };
  std::vector<std::string> out;
  for (const auto& x : ours)
    if (!theirs.count(x) && !explained(x, "mxtls-only")) out.push_back(kind + " " + x + ": mxtls only");
  for (const auto& x : theirs)
    if (!ours.count(x) && !explained(x, "peer-only")) out.push_back(kind + " " + x + ": " + peer + " only");
  return out;
}

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n  " + x;
  return s;
}

class TlsEnumPeers : public ::testing::TestWithParam<std::string> {};

TEST_P(TlsEnumPeers, SslscanFindsTheSameVersionsAndSuites) {
  ASSERT_TRUE(fs::exists("/usr/bin/sslscan")) << "sslscan is not installed (scripts/install-deps)";
  const std::string name = GetParam();
  fs::path dir = test::temp_dir();
  in_process_server server(name);
  probe_report r = enumerate_at(server.port());
  const tls_enum_facts* f = r.facts.hosts.front().get<tls_enum_facts>();
  ASSERT_NE(f, nullptr);
  auto run = test::run(dir, {"/usr/bin/sslscan", "--starttls-smtp", "--xml=-", "--no-colour", "127.0.0.1:" + std::to_string(server.port())},
                       300s);
  ASSERT_FALSE(run.timed_out) << "sslscan did not finish";
  ASSERT_NE(run.output.find("<protocol"), std::string::npos) << run.output.substr(0, 2000);
  accepted_set ours = of_mxtls(*f, true), theirs = of_sslscan(run.output);
  auto diff = unexplained("sslscan", name, "version", ours.versions, theirs.versions);
  auto suites = unexplained("sslscan", name, "suite", ours.suites, theirs.suites);
  diff.insert(diff.end(), suites.begin(), suites.end());
  EXPECT_TRUE(diff.empty()) << name << ":" << lines(diff);
}

TEST_P(TlsEnumPeers, TestsslFindsTheSameVersionsAndSuites) {
  std::string testssl = fs::exists("/usr/bin/testssl") ? "/usr/bin/testssl" : "/usr/bin/testssl.sh";
  ASSERT_TRUE(fs::exists(testssl)) << "testssl.sh is not installed (scripts/install-deps)";
  const std::string name = GetParam();
  fs::path dir = test::temp_dir();
  in_process_server server(name);
  probe_report r = enumerate_at(server.port());
  const tls_enum_facts* f = r.facts.hosts.front().get<tls_enum_facts>();
  ASSERT_NE(f, nullptr);
  fs::path report = dir / "testssl.json";
  fs::remove(report);
  // Debian's testssl.sh runs with /usr/bin/openssl (its bundled openssl is not packaged).
  auto run = test::run(dir, {testssl, "--starttls", "smtp", "-p", "-e", "--quiet", "--color", "0", "--warnings", "off",
                             "--jsonfile", report.string(), "127.0.0.1:" + std::to_string(server.port())},
                       900s);
  ASSERT_FALSE(run.timed_out) << "testssl.sh did not finish";
  std::ifstream in(report);
  ASSERT_TRUE(in) << run.output.substr(0, 2000);
  accepted_set ours = of_mxtls(*f, false), theirs = of_testssl(json::parse(in));
  auto diff = unexplained("testssl.sh", name, "version", ours.versions, theirs.versions);
  auto suites = unexplained("testssl.sh", name, "suite", ours.suites, theirs.suites);
  diff.insert(diff.end(), suites.begin(), suites.end());
  EXPECT_TRUE(diff.empty()) << name << ":" << lines(diff);
}

INSTANTIATE_TEST_SUITE_P(Restricted, TlsEnumPeers, ::testing::ValuesIn(scenario_names()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

}  // namespace
}  // namespace mxtls
