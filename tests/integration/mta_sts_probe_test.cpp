// MTA-STS end to end: a zone signed at test time and served by NSD on loopback (dns-zone/)
// with each case's MX, _mta-sts and _smtp._tls TXT and mta-sts.<domain> A records; the
// policy hosts served by a real nginx with a test CA (mta-sts/nginx_fixture.hpp); the MX
// host served by `mxtls serve` with a certificate for every MX name; `mxtls probe --resolver
// --trust-anchor --ca` as a sender sees it. postfix-mta-sts-resolver's mta-sts-query is the
// differential peer on the same cases.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <regex>
#include <set>
#include <thread>

#include "dns-zone/signed_zone.hpp"
#include "mta-sts/nginx_fixture.hpp"
#include "served.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace t = mxtls::test;

unsigned short free_tcp_port(const std::string& address) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  socklen_t len = sizeof sa;
  unsigned short port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
    port = ntohs(sa.sin_port);
  close(s);
  return port;
}

const std::string enforce_good = "version: STSv1\nmode: enforce\nmx: mx.good.sts.test\nmax_age: 604800\n";
const std::string enforce_other = "version: STSv1\nmode: enforce\nmx: mail.elsewhere.test\nmax_age: 604800\n";
const std::string testing_other = "version: STSv1\nmode: testing\nmx: mail.elsewhere.test\nmax_age: 86400\n";

struct sts_case {
  std::string label;        // <label>.sts.test
  bool txt = true;          // publishes _mta-sts and _smtp._tls
  std::string status;       // mxtls's "mta_sts"."status"
  std::string mode;         // policy mode ("" : no policy)
  json match;               // hosts[0].mta_sts_match
  std::string gmail;        // effect for gmail
  std::string resolver;     // effect for postfix-mta-sts-resolver
  std::string reason;       // a reason id the probe must give ("" : none in particular)
  int exit_code;
  std::string query;        // mta-sts-query's result: VALID, NONE, FETCH_ERROR
};

const std::vector<sts_case> cases = {
    {"good", true, "valid", "enforce", true, "delivers", "delivers", "", 0, "VALID"},
    {"notlisted", true, "valid", "enforce", false, "refuses", "refuses", "mta-sts-mx-not-listed", 1, "VALID"},
    {"testing", true, "valid", "testing", false, "delivers-reports", "not-applied", "mta-sts-testing", 0, "VALID"},
    {"none", false, "none", "", nullptr, "not-applied", "not-applied", "", 0, "NONE"},
    {"notfound", true, "fetch-failed", "", nullptr, "not-applied", "not-applied", "mta-sts-fetch-failed", 0, "FETCH_ERROR"},
    {"badcert", true, "fetch-failed", "", nullptr, "not-applied", "not-applied", "mta-sts-fetch-failed", 0, "FETCH_ERROR"},
};

// `mxtls serve --scenario compliant --cert --key` on ADDRESS:PORT, until destroyed.
class mock_mx {
 public:
  mock_mx(const fs::path& dir, const std::string& listen, const fs::path& chain, const fs::path& key) {
    out_ = dir / "serve.out";
    int fd = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_ = t::spawn({MXTLS_BINARY, "serve", "--scenario", "compliant", "--listen", listen, "--cert", chain.string(), "--key",
                     key.string()},
                    "", fd, fd);
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

class MtaStsProbe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("mxtls-mta-sts-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    using c = t::policy_host::cert;
    nginx_ = new t::nginx_fixture({{.domain = "good.sts.test", .body = enforce_good},
                                   {.domain = "notlisted.sts.test", .body = enforce_other},
                                   {.domain = "testing.sts.test", .body = testing_other},
                                   {.domain = "notfound.sts.test", .body = "", .status = 404},
                                   {.domain = "badcert.sts.test", .body = enforce_good, .certificate = c::wrong_name}});
    // The MX host's certificate, from a CA of its own; the probe trusts both CAs (--ca).
    std::string sans = "subjectAltName=";
    for (const auto& k : cases) sans += (sans.back() == '=' ? "" : ",") + std::string("DNS:mx.") + k.label + ".sts.test";
    std::ofstream(dir_ / "leaf.ext") << sans << "\nextendedKeyUsage=serverAuth\n";
    for (const std::vector<std::string>& s : std::vector<std::vector<std::string>>{
             {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mxtls MX test CA", "-keyout",
              "mxca.key", "-out", "mxca.pem", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
              "keyUsage=critical,keyCertSign,cRLSign"},
             {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=mx.good.sts.test", "-keyout", "leaf.key", "-out",
              "leaf.csr"},
             {"openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "mxca.pem", "-CAkey", "mxca.key", "-CAcreateserial", "-out",
              "leaf.pem", "-days", "2", "-extfile", "leaf.ext"}}) {
      std::vector<std::string> argv = {"/bin/sh", "-c", "cd '" + dir_.string() + "' && \"$@\" >>openssl.log 2>&1", "sh"};
      argv.insert(argv.end(), s.begin(), s.end());
      auto w = t::wait_for(t::spawn(argv), 30s);
      ASSERT_EQ(w.exit_code, 0) << t::slurp(dir_ / "openssl.log");
    }
    std::ofstream(dir_ / "chain.pem") << t::slurp(dir_ / "leaf.pem") << t::slurp(dir_ / "mxca.pem");
    std::ofstream(dir_ / "cas.pem") << t::slurp(nginx_->ca_file()) << t::slurp(dir_ / "mxca.pem");

    port_ = free_tcp_port("127.0.0.1");
    ASSERT_NE(port_, 0);
    t::zone_spec zone{.name = "sts.test."};
    for (const auto& k : cases) {
      zone.records.push_back(k.label + " IN MX 10 mx." + k.label);
      zone.records.push_back("mx." + k.label + " IN A 127.0.0.1");
      if (!k.txt) continue;
      zone.records.push_back("_mta-sts." + k.label + " IN TXT \"v=STSv1; id=20240101" + k.label + "\"");
      zone.records.push_back("_smtp._tls." + k.label + " IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@" + k.label + ".sts.test\"");
      zone.records.push_back("mta-sts." + k.label + " IN A " + nginx_->address());
    }
    zones_ = new t::zone_server(dir_ / "dns", {zone});
    mx_ = new mock_mx(dir_, "127.0.0.1:" + std::to_string(port_), dir_ / "chain.pem", dir_ / "leaf.key");
  }
  static void TearDownTestSuite() {
    delete mx_;
    delete zones_;
    delete nginx_;
    mx_ = nullptr;
    zones_ = nullptr;
    nginx_ = nullptr;
  }

  static json probe(const std::string& domain, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{MXTLS_BINARY, "probe", domain, "--port", std::to_string(port_), "--resolver", zones_->resolver(),
                                  "--trust-anchor", zones_->trust_anchor(), "--no-injection-test", "--json",
                                  "--ca", (dir_ / "cas.pem").string(), "--timeout", "5"};
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

  static std::set<std::string> reason_ids(const json& j) {
    std::set<std::string> ids;
    for (const auto& r : j["reasons"]) ids.insert(r["id"].get<std::string>());
    return ids;
  }

  static std::string effect(const json& host, const std::string& id) {
    if (!host.contains("mta_sts") || host["mta_sts"].is_null()) return "?";
    for (const auto& s : host["mta_sts"]["senders"])
      if (s["id"] == id) return s["effect"];
    return "?";
  }

  static fs::path dir_;
  static unsigned short port_;
  static t::nginx_fixture* nginx_;
  static t::zone_server* zones_;
  static mock_mx* mx_;
  static std::string last_output_;
  static int last_exit_;
};

fs::path MtaStsProbe::dir_;
unsigned short MtaStsProbe::port_ = 0;
t::nginx_fixture* MtaStsProbe::nginx_ = nullptr;
t::zone_server* MtaStsProbe::zones_ = nullptr;
mock_mx* MtaStsProbe::mx_ = nullptr;
std::string MtaStsProbe::last_output_;
int MtaStsProbe::last_exit_ = -1;

TEST_F(MtaStsProbe, EveryCaseStatusPolicyAndPredictions) {
  ASSERT_TRUE(mx_->ready()) << mx_->output();
  for (const auto& k : cases) {
    SCOPED_TRACE(k.label);
    json j = probe(k.label + ".sts.test");
    ASSERT_TRUE(j.contains("mta_sts")) << last_output_;
    const json& m = j["mta_sts"];
    ASSERT_TRUE(m.is_object()) << last_output_;
    EXPECT_EQ(m["status"], k.status) << last_output_;
    if (k.mode.empty()) {
      EXPECT_TRUE(m["policy"].is_null()) << last_output_;
    } else {
      EXPECT_EQ(m["policy"]["mode"], k.mode) << last_output_;
      EXPECT_EQ(m["txt"]["id"], "20240101" + k.label);
      EXPECT_EQ(m["fetch"]["http_status"], 200);
      EXPECT_EQ(m["fetch"]["address"], nginx_->address());
    }
    EXPECT_EQ(j["tls_rpt"]["status"], k.txt ? "valid" : "none") << last_output_;
    if (k.txt) EXPECT_EQ(j["tls_rpt"]["rua"][0], "mailto:tlsrpt@" + k.label + ".sts.test");
    ASSERT_FALSE(j["hosts"].empty()) << last_output_;
    const json& h = j["hosts"][0];
    EXPECT_EQ(h["mta_sts_match"], k.match) << last_output_;
    EXPECT_EQ(effect(h, "gmail"), k.gmail) << last_output_;
    EXPECT_EQ(effect(h, "microsoft-365"), k.gmail) << last_output_;
    EXPECT_EQ(effect(h, "postfix-mta-sts-resolver"), k.resolver) << last_output_;
    EXPECT_EQ(effect(h, "cisco-esa"), "not-applied");
    for (const auto& s : h["mta_sts"]["senders"]) EXPECT_EQ(s["layer"], "mta-sts");
    if (!k.reason.empty()) EXPECT_TRUE(reason_ids(j).count(k.reason)) << k.reason << ": " << last_output_;
    EXPECT_EQ(last_exit_, k.exit_code) << last_output_;
  }
}

TEST_F(MtaStsProbe, FetchFailuresSayWhy) {
  json nf = probe("notfound.sts.test");
  EXPECT_EQ(nf["mta_sts"]["fetch"]["http_status"], 404) << last_output_;
  EXPECT_EQ(nf["mta_sts"]["fetch"]["error"], "http-status");
  EXPECT_EQ(nf["mta_sts"]["fetch"]["url"], "https://mta-sts.notfound.sts.test/.well-known/mta-sts.txt");
  json bc = probe("badcert.sts.test");
  EXPECT_EQ(bc["mta_sts"]["fetch"]["error"], "tls-verify") << last_output_;
  EXPECT_TRUE(bc["mta_sts"]["fetch"]["http_status"].is_null());
}

// libcurl is opened on the first policy fetch, not linked (src/net/curl_library.hpp). With
// libcurl.so.4 unreadable as a library (/dev/null bind-mounted over it in a private mount
// namespace), the program still starts, the SMTP layers are probed as always, and the fetch
// says why it could not run instead of the program failing to start.
TEST_F(MtaStsProbe, WithoutLibcurlTheFetchSaysWhy) {
  const char* lib = "/usr/lib/x86_64-linux-gnu/libcurl.so.4";
  ASSERT_TRUE(fs::exists(lib)) << lib << " (libcurl4, scripts/install-deps)";
  ASSERT_TRUE(fs::exists("/usr/bin/unshare"));
  auto quoted = [](const std::string& a) { return "'" + a + "'"; };
  std::string probe_cmd = quoted(MXTLS_BINARY) + " probe good.sts.test --port " + std::to_string(port_) + " --resolver " +
                          quoted(zones_->resolver()) + " --trust-anchor " + quoted(zones_->trust_anchor()) +
                          " --no-injection-test --json --ca " + quoted((dir_ / "cas.pem").string()) + " --timeout 5";
  std::string hide = std::string("mount --bind /dev/null ") + lib + " && ";
  auto version = t::run(dir_, {"/usr/bin/unshare", "-m", "/bin/sh", "-c", hide + quoted(MXTLS_BINARY) + " --version"}, 60s);
  EXPECT_EQ(version.exit_code, 0) << version.output;
  EXPECT_NE(version.output.find("libcurl        not usable: libcurl.so.4 cannot be loaded"), std::string::npos) << version.output;
  auto r = t::run(dir_, {"/usr/bin/unshare", "-m", "/bin/sh", "-c", hide + "exec " + probe_cmd}, 60s);
  json j = json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["mta_sts"]["fetch"]["error"], "other") << r.output;
  EXPECT_NE(j["mta_sts"]["fetch"].value("detail", "").find("libcurl.so.4 cannot be loaded"), std::string::npos) << r.output;
  EXPECT_NE(j["mta_sts"]["status"], "valid") << r.output;
  EXPECT_TRUE(j["hosts"][0]["checks"]["starttls"]["tls"].is_object()) << r.output;
}

TEST_F(MtaStsProbe, SkippedForAnAddressTargetAndWithSkip) {
  json a = probe("127.0.0.1");
  EXPECT_TRUE(a["mta_sts"].is_null()) << last_output_;
  EXPECT_TRUE(a["hosts"][0]["mta_sts_match"].is_null());
  for (const auto& c : a["checks"]) EXPECT_NE(c, "mta-sts");
  json s = probe("good.sts.test", {"--skip", "mta-sts"});
  EXPECT_TRUE(s["mta_sts"].is_null()) << last_output_;
}

TEST_F(MtaStsProbe, TextNamesThePolicyAndTheMatch) {
  auto r = t::run(dir_, {MXTLS_BINARY, "probe", "notlisted.sts.test", "--port", std::to_string(port_), "--resolver", zones_->resolver(),
                         "--trust-anchor", zones_->trust_anchor(), "--no-injection-test", "--ca", (dir_ / "cas.pem").string(),
                         "--timeout", "5"}, 60s);
  EXPECT_NE(r.output.find("MTA-STS:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("policy    mode enforce"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("matches no pattern"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TLS-RPT:\n  status    valid rua mailto:tlsrpt@notlisted.sts.test"), std::string::npos) << r.output;
}

TEST_F(MtaStsProbe, EveryDocumentMatchesTheSchema) {
  fs::path out = dir_ / "json";
  fs::create_directories(out);
  for (const auto& k : cases) {
    probe(k.label + ".sts.test");
    std::ofstream(out / (k.label + ".json")) << last_output_;
  }
  auto r = t::run(dir_, {"/usr/bin/python3", MXTLS_SOURCE_DIR "/tests/schema/validate.py", MXTLS_SOURCE_DIR "/docs/probe-json.schema.json",
                         out.string()}, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// --ca DIR (a directory hashed by openssl rehash): the store of the policy fetch as of the SMTP
// session (libcurl's CURLOPT_CAPATH), in place of the system's. With the policy host's CA in
// it the policy is fetched; without it, the fetch fails verification.
TEST_F(MtaStsProbe, CaDirectoryVerifiesThePolicyHost) {
  auto probe_with_dir = [](const fs::path& cadir, const std::vector<fs::path>& cas) {
    fs::remove_all(cadir);
    fs::create_directories(cadir);
    for (std::size_t i = 0; i < cas.size(); ++i) fs::copy_file(cas[i], cadir / ("ca" + std::to_string(i) + ".pem"));
    auto rh = t::run(dir_, {"/usr/bin/openssl", "rehash", cadir.string()}, 30s);
    EXPECT_EQ(rh.exit_code, 0) << rh.output;
    auto r = t::run(dir_, {MXTLS_BINARY, "probe", "good.sts.test", "--port", std::to_string(port_), "--resolver", zones_->resolver(),
                           "--trust-anchor", zones_->trust_anchor(), "--no-injection-test", "--json", "--ca", cadir.string(),
                           "--timeout", "5"}, 60s);
    last_exit_ = r.exit_code;
    last_output_ = r.output;
    json j = json::parse(r.output, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << r.output;
    return j;
  };
  json both = probe_with_dir(dir_ / "cadir-both", {nginx_->ca_file(), dir_ / "mxca.pem"});
  EXPECT_EQ(both["mta_sts"]["status"], "valid") << last_output_;
  EXPECT_EQ(both["mta_sts"]["fetch"]["http_status"], 200) << last_output_;
  EXPECT_EQ(both["hosts"][0]["mta_sts_match"], true) << last_output_;
  EXPECT_EQ(last_exit_, 0) << last_output_;
  json mx_only = probe_with_dir(dir_ / "cadir-mx", {dir_ / "mxca.pem"});
  EXPECT_EQ(mx_only["mta_sts"]["status"], "fetch-failed") << last_output_;
  EXPECT_EQ(mx_only["mta_sts"]["fetch"]["error"], "tls-verify") << last_output_;
}

// Asked for by name on an address target, check mta-sts (a mail domain's policy) cannot run:
// the probe says so on standard error instead of dropping it silently; a scan says it once,
// with how many of its targets are addresses. (The probe's result is unchanged: mta_sts null.)
TEST_F(MtaStsProbe, CheckAskedForAnAddressIsNotedOnStandardError) {
  ASSERT_TRUE(mx_->ready()) << mx_->output();
  const std::string note = "--check mta-sts is not run";
  auto p = t::run(dir_, {MXTLS_BINARY, "probe", "127.0.0.1", "--port", std::to_string(port_), "--check", "mta-sts,dane",
                         "--no-injection-test", "--ca", (dir_ / "cas.pem").string(), "--timeout", "5", "--json"}, 60s);
  EXPECT_NE(p.output.find("mxtls probe: --check mta-sts is not run: the target is an address, and MTA-STS and TLS-RPT are a "
                          "mail domain's policy"), std::string::npos)
      << p.output;
  EXPECT_NE(p.output.find("mxtls probe: --check dane is not run: the target is an address, and TLSA records are named after "
                          "an MX host"), std::string::npos)
      << p.output;
  auto json_start = p.output.find('{');
  ASSERT_NE(json_start, std::string::npos) << p.output;
  json j = json::parse(p.output.substr(json_start), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << p.output;
  EXPECT_TRUE(j["mta_sts"].is_null());
  // Not asked for (on by default): nothing to say.
  auto quiet = t::run(dir_, {MXTLS_BINARY, "probe", "127.0.0.1", "--port", std::to_string(port_), "--no-injection-test", "--ca",
                             (dir_ / "cas.pem").string(), "--timeout", "5", "--json"}, 60s);
  EXPECT_EQ(quiet.output.find(note), std::string::npos) << quiet.output;
  // A domain target: no note.
  auto domain = t::run(dir_, {MXTLS_BINARY, "probe", "good.sts.test", "--port", std::to_string(port_), "--resolver", zones_->resolver(),
                              "--trust-anchor", zones_->trust_anchor(), "--check", "mta-sts", "--no-injection-test", "--ca",
                              (dir_ / "cas.pem").string(), "--timeout", "5", "--json"}, 60s);
  EXPECT_EQ(domain.output.find(note), std::string::npos) << domain.output;
  // A scan: once, with the count.
  std::ofstream(dir_ / "mixed.txt") << "good.sts.test\n127.0.0.1\n[127.0.0.1]\n";
  fs::remove(dir_ / "mixed.jsonl");
  auto s = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "mixed.txt").string(), "--out", (dir_ / "mixed.jsonl").string(), "--port",
                         std::to_string(port_), "--resolver", zones_->resolver(), "--trust-anchor", zones_->trust_anchor(), "--check",
                         "mta-sts", "--no-injection-test", "--ca", (dir_ / "cas.pem").string(), "--timeout", "5"}, 120s);
  EXPECT_NE(s.output.find("mxtls scan: --check mta-sts is not run for 2 of the 3 targets: they are addresses"), std::string::npos)
      << s.output;
  std::string once = s.output.substr(s.output.find(note) + note.size());
  EXPECT_EQ(once.find(note), std::string::npos) << s.output;
}

// A scan shares one policy cache among all its probes and threads (RFC 8461 §5.1: a sender
// caches a domain's policy by TXT id): a domain listed again is fetched once, as nginx's
// access log shows, even by probes running at the same moment on two threads (one fetches,
// the others wait for it), and the other records of that domain say "cached": true. (Each
// thread has its own probe context: with a cache per context, each thread would fetch.)
TEST_F(MtaStsProbe, ScanFetchesEachPolicyOncePerRun) {
  auto fetches = [](const std::string& domain) {
    std::string log = nginx_->access_log(), line = "mta-sts." + domain + " /.well-known/mta-sts.txt 200\n";
    std::size_t n = 0;
    for (auto p = log.find(line); p != std::string::npos; p = log.find(line, p + 1)) ++n;
    return n;
  };
  std::size_t good_before = fetches("good.sts.test"), testing_before = fetches("testing.sts.test");
  const std::vector<std::string> list = {"good.sts.test", "good.sts.test", "testing.sts.test", "good.sts.test",
                                         "testing.sts.test", "good.sts.test"};
  std::ofstream lf(dir_ / "again.txt");
  for (const auto& l : list) lf << l << "\n";
  lf.close();
  fs::path out = dir_ / "again.jsonl";
  fs::remove(out);
  auto r = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "again.txt").string(), "--out", out.string(), "-q", "--concurrency", "6",
                         "--threads", "2", "--port", std::to_string(port_), "--resolver", zones_->resolver(), "--trust-anchor",
                         zones_->trust_anchor(), "--no-injection-test", "--ca", (dir_ / "cas.pem").string(), "--timeout", "5"},
                  120s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, std::pair<int, int>> fetched_cached;  // domain -> records not cached, cached
  std::map<std::string, json> policy;
  std::istringstream lines(t::slurp(out));
  std::size_t records = 0;
  for (std::string l; std::getline(lines, l); ++records) {
    json j = json::parse(l, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << l;
    std::string d = j["target"];
    EXPECT_EQ(j["mta_sts"]["status"], "valid") << l;
    (j["mta_sts"]["cached"] == true ? fetched_cached[d].second : fetched_cached[d].first)++;
    if (policy.count(d)) EXPECT_EQ(j["mta_sts"]["policy"], policy[d]) << d;
    policy[d] = j["mta_sts"]["policy"];
  }
  ASSERT_EQ(records, list.size()) << t::slurp(out);
  EXPECT_EQ(fetched_cached["good.sts.test"], std::make_pair(1, 3));
  EXPECT_EQ(fetched_cached["testing.sts.test"], std::make_pair(1, 1));
  EXPECT_EQ(fetches("good.sts.test") - good_before, 1u) << nginx_->access_log();
  EXPECT_EQ(fetches("testing.sts.test") - testing_before, 1u) << nginx_->access_log();
}

// postfix-mta-sts-resolver (mta-sts-query) as the differential peer. It resolves through the
// system: the TXT record with aiodns (c-ares reads /etc/resolv.conf, port 53 only) and the
// policy host with getaddrinfo, and verifies with OpenSSL's default store. So it runs in a
// private mount namespace (unshare -m) whose /etc/resolv.conf, bind-mounted over the real
// one, names an unbound on a loopback address at port 53 that sends sts.test. to the test's
// NSD (a stub zone); SSL_CERT_FILE names the test CAs; proxies from the environment are
// unset. Every query stays on loopback.
TEST_F(MtaStsProbe, MtaStsQueryAgreesOnEveryCase) {
  ASSERT_TRUE(fs::exists("/usr/bin/mta-sts-query")) << "postfix-mta-sts-resolver is not installed (scripts/install-deps)";
  ASSERT_TRUE(fs::exists("/usr/sbin/unbound")) << "unbound is not installed";
  fs::path ub = dir_ / "unbound";
  fs::create_directories(ub);
  std::string address = "127.86." + std::to_string(getpid() % 250 + 1) + "." + std::to_string((getpid() / 250) % 250 + 1);
  std::ofstream(ub / "unbound.conf") << "server:\n  interface: " << address << "\n  port: 53\n  do-daemonize: no\n  chroot: \"\"\n"
                                     << "  username: \"\"\n  pidfile: \"\"\n  directory: \"" << ub.string() << "\"\n"
                                     << "  use-syslog: no\n  verbosity: 1\n  access-control: 127.0.0.0/8 allow\n"
                                     << "  do-not-query-localhost: no\n  module-config: \"iterator\"\n"
                                     << "  local-zone: \"sts.test.\" transparent\n"
                                     << "stub-zone:\n  name: \"sts.test.\"\n  stub-addr: 127.0.0.1@" << zones_->port() << "\n";
  int fd = open((ub / "unbound.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t unbound = t::spawn({"/usr/sbin/unbound", "-d", "-c", (ub / "unbound.conf").string()}, "", fd, fd);
  close(fd);
  for (int i = 0; i < 500 && t::slurp(ub / "unbound.log").find("start of service") == std::string::npos; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_NE(t::slurp(ub / "unbound.log").find("start of service"), std::string::npos) << t::slurp(ub / "unbound.log");
  std::ofstream(ub / "resolv.conf") << "nameserver " << address << "\n";

  std::regex result_re(R"(STSFetchResult\.(\w+))"), mode_re(R"('mode': '(\w+)')"), mx_re(R"('mx': \[([^\]]*)\])"),
      age_re(R"('max_age': '?(\d+))");
  for (const auto& k : cases) {
    SCOPED_TRACE(k.label);
    std::string domain = k.label + ".sts.test";
    json j = probe(domain);
    std::string script = "mount --bind '" + (ub / "resolv.conf").string() + "' /etc/resolv.conf && SSL_CERT_FILE='" +
                         (dir_ / "cas.pem").string() +
                         "' exec env -u https_proxy -u HTTPS_PROXY -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY "
                         "/usr/bin/mta-sts-query '" + domain + "'";
    auto r = t::run(dir_, {"/usr/bin/unshare", "-m", "/bin/sh", "-c", script}, 60s);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, result_re)) << "mta-sts-query said\n" << r.output;
    std::string theirs = m[1];
    EXPECT_EQ(theirs, k.query) << r.output;
    // Its result against mxtls's status: VALID = valid, NONE = none (or an invalid TXT), and
    // FETCH_ERROR = a failed fetch (or a policy it refuses).
    std::string ours = j["mta_sts"].value("status", "?");
    std::string ours_as_theirs = ours == "valid" ? "VALID" : ours == "none" || ours == "txt-invalid" ? "NONE" : "FETCH_ERROR";
    EXPECT_EQ(theirs, ours_as_theirs) << "mxtls: " << ours << "; mta-sts-query said\n" << r.output;
    if (theirs != "VALID" || ours != "valid") continue;
    const json& p = j["mta_sts"]["policy"];
    ASSERT_TRUE(std::regex_search(r.output, m, mode_re)) << r.output;
    EXPECT_EQ(m[1].str(), p["mode"].get<std::string>()) << r.output;
    ASSERT_TRUE(std::regex_search(r.output, m, age_re)) << r.output;
    EXPECT_EQ(std::stoull(m[1].str()), p["max_age"].get<std::uint64_t>()) << r.output;
    ASSERT_TRUE(std::regex_search(r.output, m, mx_re)) << r.output;
    std::string mx;
    for (const auto& x : p["mx"]) mx += (mx.empty() ? "'" : ", '") + x.get<std::string>() + "'";
    EXPECT_EQ(m[1].str(), mx) << r.output;
  }
  kill(unbound, SIGTERM);
  t::wait_for(unbound, 5s);
}

}  // namespace
