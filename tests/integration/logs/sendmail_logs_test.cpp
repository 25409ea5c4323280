// mxtls logs on the syslog lines of a real Sendmail: one private Sendmail 8.17 (tests/integration/
// sendmail-instance, Debian 12's sendmail-bin unpacked from its .deb) delivers one message per
// scenario and setting of sendmail-scenarios.json, each scenario served by its own `mxtls serve`
// on its own loopback port; Sendmail delivers in the foreground (-odi) and each send waits for
// the lines its process logged, so the log is complete when the last send returns. Then
// `mxtls logs --json` on the log is compared with the expected line of every destination. A
// missing Sendmail .deb fails the test (it does not skip).
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

const char* const settings[] = {"may", "required", "verify", "fallback"};

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

// The recipient domain of a scenario entry and setting: the port first, for sendmail-instance.
std::string domain_of(int port, const std::string& name, const std::string& setting) {
  return "p" + std::to_string(port) + "." + name + "." + setting + ".test";
}

struct sendmail_run {
  fs::path dir;
  json data;
  std::map<std::string, int> ports;  // scenario entry name -> port
  std::size_t messages = 0;
  std::string maillog;  // path of the copied log
  std::string setup_error;
  client_run logs{};
  json logs_json;
};

sendmail_run* run_state = nullptr;

class SendmailRun : public ::testing::Environment {
 public:
  void SetUp() override {
    run_state = new sendmail_run;
    sendmail_run& r = *run_state;
    r.dir = fs::temp_directory_path() / ("mxtls-logs-sendmail-" + std::to_string(getpid()));
    fs::remove_all(r.dir);
    fs::create_directories(r.dir);
    std::ifstream in(source("tests/integration/logs/sendmail-scenarios.json"));
    r.data = json::parse(in);
    fs::path instance = source("tests/integration/sendmail-instance"), sendmail_dir = r.dir / "sendmail";
    fs::path cafile = r.dir / "CAfile";
    std::ofstream(cafile).close();
    client_run start = run(r.dir, {instance.string(), "start", sendmail_dir.string(), "25", cafile.string()}, 60s);
    if (start.exit_code != 0) {
      r.setup_error = "sendmail-instance start failed (scripts/install-deps downloads Sendmail's .debs): " + start.output;
      return;
    }
    {
      std::vector<std::unique_ptr<served>> servers;
      int refused_port = free_port();
      for (const auto& s : r.data["scenarios"]) {
        std::string name = s["name"], scenario = s.value("scenario", name);
        int port = refused_port;
        if (scenario != "refused") {
          fs::create_directories(r.dir / name);
          servers.push_back(std::make_unique<served>(scenario, r.dir / name, "127.0.0.1:0"));
          port = servers.back()->port();
          if (port == 0) {
            r.setup_error += "mxtls serve --scenario " + scenario + " did not start; ";
            continue;
          }
        }
        r.ports[name] = port;
        if (s.value("ca", false)) {
          // The certificate the scenario serves; self-signed, so it is its own trust anchor.
          client_run c = run(r.dir, {"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-starttls",
                                     "smtp", "-servername", "mx.mxtls.test"});
          std::smatch m;
          if (std::regex_search(c.output, m, std::regex("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")))
            std::ofstream(cafile, std::ios::app) << m[0] << "\n";
          else
            r.setup_error += "no certificate read from " + name + "; ";
        }
      }
      for (const auto& s : r.data["scenarios"]) {
        std::string name = s["name"];
        if (!r.ports.count(name)) continue;
        int port = r.ports[name];
        for (const char* setting : settings) {
          if (!s["expect"].contains(setting)) continue;
          client_run send = run(r.dir, {instance.string(), "send", sendmail_dir.string(), "x@" + domain_of(port, name, setting)}, 60s);
          if (send.timed_out) r.setup_error += "sendmail -odi to " + name + "." + setting + " did not return; ";
          ++r.messages;
        }
      }
    }  // the servers stop here
    r.maillog = (r.dir / "maillog").string();
    fs::copy_file(sendmail_dir / "log" / "maillog", r.maillog, fs::copy_options::overwrite_existing);
    run(r.dir, {instance.string(), "stop", sendmail_dir.string()}, 60s);
    r.logs = run(r.dir, {MXTLS_BINARY, "logs", "--json", r.maillog}, 60s);
    try {
      r.logs_json = json::parse(r.logs.output);
    } catch (const std::exception& e) {
      r.setup_error += std::string("mxtls logs --json: ") + e.what() + ": " + r.logs.output;
    }
  }
  void TearDown() override {
    if (!run_state) return;
    if (!::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(run_state->dir);
    else run(fs::temp_directory_path(), {source("tests/integration/sendmail-instance").string(), "stop", (run_state->dir / "sendmail").string()});
    delete run_state;
    run_state = nullptr;
  }
};

const auto* const env = ::testing::AddGlobalTestEnvironment(new SendmailRun);

void require_run() {
  ASSERT_NE(run_state, nullptr);
  ASSERT_EQ(run_state->setup_error, "");
}

std::vector<std::string> scenario_names() {
  std::ifstream in(source("tests/integration/logs/sendmail-scenarios.json"));
  json data = json::parse(in);
  std::vector<std::string> out;
  for (const auto& s : data["scenarios"]) out.push_back(s["name"]);
  return out;
}

class SendmailScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(SendmailScenario, EachSettingGivesTheExpectedDestination) {
  require_run();
  const sendmail_run& r = *run_state;
  const json* entry = nullptr;
  for (const auto& s : r.data["scenarios"])
    if (s["name"] == GetParam()) entry = &s;
  ASSERT_NE(entry, nullptr);
  int port = r.ports.at(GetParam());
  for (const auto& [setting, want] : (*entry)["expect"].items()) {
    std::string domain = domain_of(port, GetParam(), setting);
    SCOPED_TRACE(domain);
    const json* d = nullptr;
    for (const auto& x : r.logs_json["destinations"])
      if (x["destination"]["domain"] == domain) d = &x;
    ASSERT_NE(d, nullptr) << "no destination " << domain << " in\n" << r.logs.output << "\nlog:\n" << slurp(r.maillog);
    EXPECT_EQ((*d)["destination"]["address"], "127.0.0.1");  // Sendmail logs no port
    EXPECT_EQ((*d)["destination"]["mx_host"], "127.0.0.1");
    for (const char* field : {"attempts", "delivered", "tls", "tls_verified", "plaintext", "plaintext_after_tls_failure",
                              "tls_failed", "other_failed", "unknown"})
      EXPECT_EQ((*d)[field], want.value(field, std::string(field) == "attempts" ? 1 : 0)) << field << " in " << d->dump();
    EXPECT_EQ((*d)["reasons"], want.value("reasons", json::object())) << d->dump();
    if (want.contains("tls_version")) {
      json versions = json::object();
      versions[want["tls_version"].get<std::string>()] = 1;
      EXPECT_EQ((*d)["tls_versions"], versions);
    }
    // The evidence is the log's own lines, with their line numbers.
    if ((*d)["tls"] != (*d)["attempts"]) {
      ASSERT_FALSE((*d)["samples"].empty());
      EXPECT_NE((*d)["samples"].back()["text"].get<std::string>().find(domain), std::string::npos);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, SendmailScenario, ::testing::ValuesIn(scenario_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(SendmailLog, FormatDetectedEveryLineReadNoDestinationUnexpected) {
  require_run();
  const sendmail_run& r = *run_state;
  EXPECT_EQ(r.logs.exit_code, 1) << "some destination lost TLS";
  EXPECT_EQ(r.logs_json["format"], "sendmail");
  EXPECT_EQ(r.logs_json["lines"]["not_understood"], 0) << r.logs.output;
  EXPECT_EQ(r.logs_json["destinations"].size(), r.messages);
}

// --list: the servers that lost TLS, each once (all of them 127.0.0.1: Sendmail logs no port).
TEST(SendmailLog, ListNamesTheServersThatLostTls) {
  require_run();
  const sendmail_run& r = *run_state;
  client_run list = run(r.dir, {MXTLS_BINARY, "logs", "--list", r.maillog});
  EXPECT_EQ(list.exit_code, 1);
  std::set<std::string> want, got;
  for (const auto& s : r.data["scenarios"])
    for (const auto& [setting, e] : s["expect"].items())
      if (e.value("plaintext", 0) + e.value("plaintext_after_tls_failure", 0) + e.value("tls_failed", 0) > 0)
        want.insert("[127.0.0.1]");
  std::istringstream lines(list.output);
  for (std::string l; std::getline(lines, l);) got.insert(l);
  EXPECT_EQ(got, want) << list.output;
}

}  // namespace
}  // namespace mxtls::test
