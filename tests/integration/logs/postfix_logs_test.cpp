// mxtls logs on the log of a real Postfix: one private Postfix instance (tests/integration/
// postfix-instance) delivers to every scenario of postfix-scenarios.json at once, each scenario
// served by its own `mxtls serve` on its own loopback port (so that a failed next hop, which
// Postfix's queue manager throttles, holds up no other); then `mxtls logs --json` on the
// instance's maillog is compared with the expected line of every destination, and its delivered
// and deferred counts with pflogsumm's on the same file.
//
// A missing Postfix, pflogsumm or openssl fails the test (it does not skip).
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "../served.hpp"

namespace mxtls::test {
namespace {

using json = nlohmann::json;

const char* const policies[] = {"may", "required", "verify"};

fs::path source(const std::string& rel) { return fs::path(MXTLS_SOURCE_DIR) / rel; }

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Waits until `file` (in `dir`) holds `n` occurrences of `needle`, woken by inotify; false
// past the deadline.
bool await_count(const fs::path& dir, const fs::path& file, const std::string& needle, std::size_t n,
                 std::chrono::seconds deadline) {
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  inotify_add_watch(in, dir.c_str(), IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE);
  auto end = std::chrono::steady_clock::now() + deadline;
  bool ok = false;
  while (true) {
    if (count_of(slurp(file), needle) >= n) {
      ok = true;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{in, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) > 0) {
      char buf[4096];
      while (read(in, buf, sizeof buf) > 0) {
      }
    }
  }
  close(in);
  return ok;
}

// Everything the tests below read, made once for the whole program: the servers, the Postfix
// run, its log, and what mxtls logs and pflogsumm say of it.
struct postfix_run {
  fs::path dir;
  json data;
  std::map<std::string, int> ports;  // scenario entry name -> port
  std::vector<std::unique_ptr<served>> servers;
  std::string maillog;               // path of the copied log
  std::size_t messages = 0;
  bool all_status = false;
  std::string setup_error, probe_error;
  client_run logs{}, pflogsumm{}, probed{};
  json logs_json, probed_json;
};

postfix_run* run_state = nullptr;

class PostfixRun : public ::testing::Environment {
 public:
  void SetUp() override {
    run_state = new postfix_run;
    postfix_run& r = *run_state;
    r.dir = fs::temp_directory_path() / ("mxtls-logs-postfix-" + std::to_string(getpid()));
    fs::remove_all(r.dir);
    fs::create_directories(r.dir / "routes");
    fs::permissions(r.dir, fs::perms::all & ~fs::perms::group_write & ~fs::perms::others_write);
    std::ifstream in(source("tests/integration/logs/postfix-scenarios.json"));
    r.data = json::parse(in);
    for (const char* tool : {"/usr/sbin/postfix", "/usr/sbin/pflogsumm", "/usr/bin/openssl"})
      if (!fs::exists(tool)) r.setup_error += std::string(tool) + " is missing (scripts/install-deps); ";
    if (!r.setup_error.empty()) return;

    std::ofstream transport(r.dir / "routes/transport"), policy(r.dir / "routes/verify-policy"), ca(r.dir / "routes/CAfile");
    int refused_port = free_port();
    for (const auto& s : r.data["scenarios"]) {
      std::string name = s["name"], scenario = s.value("scenario", name);
      int port = refused_port;
      if (scenario != "refused") {
        fs::create_directories(r.dir / name);
        r.servers.push_back(std::make_unique<served>(scenario, r.dir / name, "127.0.0.1:0"));
        port = r.servers.back()->port();
        if (port == 0) {
          r.setup_error += "mxtls serve --scenario " + scenario + " did not start; ";
          continue;
        }
      }
      r.ports[name] = port;
      std::string hop = "[127.0.0.1]:" + std::to_string(port);
      transport << name << ".may.test smtp:" << hop << "\n"
                << name << ".required.test smtpreq:" << hop << "\n"
                << name << ".verify.test smtpver:" << hop << "\n";
      policy << hop << " verify match=" << s.value("match", std::string("mx.mxtls.test")) << "\n";
      if (s.value("ca", false)) {
        // The certificate the scenario serves; self-signed, so it is its own trust anchor.
        client_run c = run(r.dir, {"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-starttls",
                                   "smtp", "-servername", "mx.mxtls.test"});
        std::smatch m;
        if (std::regex_search(c.output, m, std::regex("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")))
          ca << m[0] << "\n";
        else
          r.setup_error += "no certificate read from " + name + "; ";
      }
    }
    transport.close(), policy.close(), ca.close();
    for (const auto& e : fs::directory_iterator(r.dir / "routes")) fs::permissions(e.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);

    fs::path pf = source("tests/integration/postfix-instance"), pfdir = r.dir / "postfix";
    client_run start = run(r.dir, {pf.string(), "start", pfdir.string(), std::to_string(refused_port), (r.dir / "routes").string()}, 60s);
    if (start.exit_code != 0) {
      r.setup_error += "postfix-instance start failed: " + start.output;
      return;
    }
    for (const auto& s : r.data["scenarios"]) {
      std::string name = s["name"];
      for (const char* p : policies) {
        if (!s["expect"].contains(p)) continue;
        client_run send = run(r.dir, {pf.string(), "send", pfdir.string(), "x@" + name + "." + p + ".test"});
        if (send.exit_code != 0) r.setup_error += "sendmail to " + name + "." + p + ".test failed; ";
        ++r.messages;
      }
    }
    // Every recipient ends with one status= line (sent or deferred: the instance's backoff is an
    // hour, so none is tried twice); the instance's timeouts bound a stuck session to seconds.
    r.all_status = await_count(pfdir, pfdir / "maillog", " status=", r.messages, 90s);
    r.maillog = (r.dir / "maillog").string();
    fs::copy_file(pfdir / "maillog", r.maillog, fs::copy_options::overwrite_existing);
    run(r.dir, {pf.string(), "stop", pfdir.string()}, 60s);

    r.logs = run(r.dir, {MXTLS_BINARY, "logs", "--json", r.maillog}, 60s);
    try {
      r.logs_json = json::parse(r.logs.output);
    } catch (const std::exception& e) {
      r.setup_error += std::string("mxtls logs --json: ") + e.what() + ": " + r.logs.output;
    }
    r.pflogsumm = run(r.dir, {"/usr/sbin/pflogsumm", r.maillog}, 60s);
    // The same log with --probe, the scenarios still served.
    r.probed = run(r.dir, {MXTLS_BINARY, "logs", "--json", "--probe", "--no-injection-test", "--timeout", "5", r.maillog}, 120s);
    try {
      r.probed_json = json::parse(r.probed.output);
    } catch (const std::exception& e) {
      r.probe_error = std::string("mxtls logs --probe --json: ") + e.what() + ": " + r.probed.output;
    }
  }
  void TearDown() override {
    if (!run_state) return;
    run_state->servers.clear();
    if (!::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(run_state->dir);
    delete run_state;
    run_state = nullptr;
  }
};

const auto* const env = ::testing::AddGlobalTestEnvironment(new PostfixRun);

void require_run() {
  ASSERT_NE(run_state, nullptr);
  ASSERT_EQ(run_state->setup_error, "");
  ASSERT_TRUE(run_state->all_status) << "not every message reached a status= line; log:\n" << slurp(run_state->maillog);
}

const json* destination_for(const std::string& domain) {
  for (const auto& d : run_state->logs_json["destinations"])
    if (d["destination"]["domain"] == domain) return &d;
  return nullptr;
}

std::vector<std::string> scenario_names() {
  std::ifstream in(source("tests/integration/logs/postfix-scenarios.json"));
  json data = json::parse(in);
  std::vector<std::string> out;
  for (const auto& s : data["scenarios"]) out.push_back(s["name"]);
  return out;
}

class PostfixScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(PostfixScenario, EachPolicyGivesTheExpectedDestination) {
  require_run();
  const postfix_run& r = *run_state;
  const json* entry = nullptr;
  for (const auto& s : r.data["scenarios"])
    if (s["name"] == GetParam()) entry = &s;
  ASSERT_NE(entry, nullptr);
  for (const auto& [policy, want] : (*entry)["expect"].items()) {
    std::string domain = GetParam() + "." + policy + ".test";
    SCOPED_TRACE(domain);
    const json* d = destination_for(domain);
    ASSERT_NE(d, nullptr) << "no destination " << domain << " in\n" << r.logs.output;
    EXPECT_EQ((*d)["destination"]["address"], "127.0.0.1:" + std::to_string(r.ports.at(GetParam())));
    for (const char* field : {"attempts", "delivered", "tls", "tls_verified", "plaintext", "plaintext_after_tls_failure",
                              "tls_failed", "other_failed", "unknown"})
      EXPECT_EQ((*d)[field], want.value(field, std::string(field) == "attempts" ? 1 : 0)) << field << " in " << d->dump();
    EXPECT_EQ((*d)["reasons"], want.value("reasons", json::object())) << d->dump();
    // The evidence is the log's own lines, with their line numbers.
    if ((*d)["tls"] != (*d)["attempts"]) {
      ASSERT_FALSE((*d)["samples"].empty());
      EXPECT_NE((*d)["samples"].back()["text"].get<std::string>().find(domain), std::string::npos);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, PostfixScenario, ::testing::ValuesIn(scenario_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// --probe: every destination that lost TLS carries the probe's diagnosis of the server it was
// delivered to ([127.0.0.1]:PORT), each target probed once; the others carry none.
TEST(PostfixLog, ProbeAttachesTheDiagnosisOfEachServerThatLostTls) {
  require_run();
  const postfix_run& r = *run_state;
  ASSERT_EQ(r.probe_error, "");
  EXPECT_EQ(r.probed.exit_code, r.logs.exit_code) << "the exit code stays the log's";
  for (const auto& s : r.data["scenarios"]) {
    std::string name = s["name"];
    for (const auto& [policy, want] : s["expect"].items()) {
      std::string domain = name + "." + policy + ".test";
      SCOPED_TRACE(domain);
      const json* d = nullptr;
      for (const auto& x : r.probed_json["destinations"])
        if (x["destination"]["domain"] == domain) d = &x;
      ASSERT_NE(d, nullptr);
      bool lost = want.value("plaintext", 0) + want.value("plaintext_after_tls_failure", 0) + want.value("tls_failed", 0) > 0;
      if (!lost) {
        EXPECT_TRUE((*d)["probe"].is_null()) << d->dump();
        continue;
      }
      ASSERT_TRUE((*d)["probe"].is_object()) << d->dump();
      const json& p = (*d)["probe"];
      EXPECT_EQ(p["target"], "[127.0.0.1]:" + std::to_string(r.ports.at(name)));
      EXPECT_FALSE(p.contains("error")) << p.dump();
      EXPECT_EQ(p["outcome"], s.value("probe_outcome", std::string("?"))) << p.dump();
      EXPECT_FALSE(p["verdict"].get<std::string>().empty());
      EXPECT_TRUE(p["reasons"].is_array());
    }
  }
}

// --list: the servers that lost TLS, each once, as a list mxtls scan reads (the scenarios
// still served).
TEST(PostfixLog, ListIsAScanListOfTheServersThatLostTls) {
  require_run();
  const postfix_run& r = *run_state;
  client_run list = run(r.dir, {MXTLS_BINARY, "logs", "--list", r.maillog});
  EXPECT_EQ(list.exit_code, 1);
  std::set<std::string> want, got;
  for (const auto& s : r.data["scenarios"])
    if (s.contains("probe_outcome")) want.insert("[127.0.0.1]:" + std::to_string(r.ports.at(s["name"])));
  std::istringstream lines(list.output);
  std::size_t n = 0;
  for (std::string l; std::getline(lines, l); ++n) got.insert(l);
  EXPECT_EQ(got, want) << list.output;
  EXPECT_EQ(n, want.size()) << "each once";
  fs::path file = r.dir / "lost.list";
  std::ofstream(file) << list.output;
  client_run scan = run(r.dir, {MXTLS_BINARY, "scan", file.string(), "--no-injection-test", "--timeout", "5", "-q"}, 120s);
  EXPECT_EQ(scan.exit_code, 1) << scan.output;
  std::istringstream records(scan.output);
  std::size_t probed = 0;
  for (std::string rec; std::getline(records, rec);) {
    json j = json::parse(rec);
    EXPECT_TRUE(want.count(j["input"].get<std::string>())) << rec.substr(0, 200);
    ++probed;
  }
  EXPECT_EQ(probed, want.size());
}

TEST(PostfixLog, EveryLineIsReadAndNoDestinationIsUnexpected) {
  require_run();
  const postfix_run& r = *run_state;
  EXPECT_EQ(r.logs.exit_code, 1) << "some destination lost TLS";
  EXPECT_EQ(r.logs_json["format"], "postfix");
  EXPECT_EQ(r.logs_json["lines"]["not_understood"], 0) << r.logs.output;
  EXPECT_EQ(r.logs_json["destinations"].size(), r.messages);
}

// pflogsumm's "delivered" and "(N deferrals)" on the same log: the status=sent and
// status=deferred lines, which mxtls logs counts as delivered and failed attempts.
TEST(PostfixLog, DeliveredAndDeferredAgreeWithPflogsumm) {
  require_run();
  const postfix_run& r = *run_state;
  ASSERT_EQ(r.pflogsumm.exit_code, 0) << r.pflogsumm.output;
  std::smatch delivered, deferrals;
  ASSERT_TRUE(std::regex_search(r.pflogsumm.output, delivered, std::regex("\\n\\s*([0-9]+)\\s+delivered\\n"))) << r.pflogsumm.output;
  ASSERT_TRUE(std::regex_search(r.pflogsumm.output, deferrals, std::regex("\\(([0-9]+)\\s+deferrals\\)"))) << r.pflogsumm.output;
  std::uint64_t ours_delivered = 0, ours_failed = 0;
  for (const auto& d : r.logs_json["destinations"]) {
    ours_delivered += d["delivered"].get<std::uint64_t>();
    ours_failed += d["failed"].get<std::uint64_t>();
  }
  EXPECT_EQ(ours_delivered, std::stoull(delivered[1]));
  EXPECT_EQ(ours_failed, std::stoull(deferrals[1]));
  EXPECT_GT(ours_delivered, 0u);
}

}  // namespace
}  // namespace mxtls::test
