// Every built-in scenario served in-process and probed: what the probe concludes must be
// what the scenario's `expect:` says (outcome, reason ids, sender groups, exit code), and
// what it prints (text, JSON, ESA log lines, and the lint of the scenario's EHLO reply) must
// equal the golden files in tests/golden/scenarios/, timings, ports, dates and fingerprints
// masked. MXTLS_UPDATE_GOLDEN=1 writes the golden files instead (scripts/regen-golden);
// MXTLS_PRINT_EXPECT=1 prints the `expect:` block each scenario would need.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "mxtls/mock_server.hpp"
#include "mxtls/probe_report.hpp"
#include "mxtls/report.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::vector<std::string> scenario_names() {
  std::vector<std::string> v;
  for (const auto& b : builtin_scenarios()) v.push_back(b.name);
  return v;
}

const char* yaml_of(const std::string& name) {
  for (const auto& b : builtin_scenarios())
    if (name == b.name) return b.yaml;
  return nullptr;
}

struct run {
  scenario sc;
  probe_report report;
  unsigned short port = 0;
};

// The scenario on 127.0.0.1:0 on a thread of its own, probed from this one.
run probe_scenario(const std::string& name) {
  scenario_error e;
  auto sc = builtin(name, e);
  if (!sc) throw std::runtime_error(e.what());
  asio::io_context io;
  mock_server server(io, *sc, make_identity(*sc), {});
  server.listen(parse_listen_address("127.0.0.1:0"));
  auto guard = asio::make_work_guard(io);
  std::thread t([&] { io.run(); });
  probe_options opt;
  opt.session.verify_name = sc->host;
  auto& to = opt.session.timeouts;
  // Long enough for a loaded 2-core machine under the sanitizers; the scenarios that wait on
  // purpose (tarpit, silent STARTTLS) wait longer than these.
  to.connect = 5000ms;
  to.banner = 2000ms;
  to.command = 3000ms;
  to.tls = 8000ms;
  run r{*sc, {}, server.local_endpoint().port()};
  r.report = run_probe(parse_probe_target("[127.0.0.1]:" + std::to_string(r.port), 25), opt);
  asio::post(io, [&] { server.stop(); });
  guard.reset();
  io.stop();
  t.join();
  return r;
}

std::string mask(std::string s, unsigned short port) {
  s = std::regex_replace(s, std::regex(":" + std::to_string(port) + "\\b"), ":PORT");
  s = std::regex_replace(s, std::regex("\"port\": " + std::to_string(port) + "\\b"), "\"port\": 0");
  s = std::regex_replace(s, std::regex("port " + std::to_string(port) + "\\b"), "port PORT");
  s = std::regex_replace(s, std::regex(" *\\b[0-9]+ ms\\b"), " N ms");
  s = std::regex_replace(s, std::regex("\"(ms|waited_ms)\": [0-9]+"), "\"$1\": 0");
  s = std::regex_replace(s, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}"), "SHA256");
  // The leaf's key is made per run; the mask keeps the document valid under the schema.
  s = std::regex_replace(s, std::regex("\"spki_sha256\": \"[0-9a-f]{64}\""), "\"spki_sha256\": \"" + std::string(64, '0') + "\"");
  s = std::regex_replace(s, std::regex("[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4} GMT"), "DATE");
  // ctime's form, as the ESA log lines begin: "Fri Sep  8 05:22:23 2023 ".
  s = std::regex_replace(s, std::regex("(^|\n)[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4} "), "$1CTIME ");
  return s;
}

std::vector<std::string> names_of(const YAML::Node& n) {
  std::vector<std::string> v;
  if (n && n.IsSequence())
    for (const auto& x : n) v.push_back(x.as<std::string>());
  return v;
}

std::vector<std::string> strings(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }

std::string flow(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s + "]";
}

class ScenarioProbe : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioProbe, ConcludesWhatTheScenarioExpects) {
  const std::string name = GetParam();
  run r = probe_scenario(name);
  const diagnosis& d = r.report.diagnosis;
  std::vector<std::string> reasons;
  for (const auto& x : d.reasons) reasons.push_back(to_string(x.id));
  if (std::getenv("MXTLS_PRINT_EXPECT")) {
    std::cout << "## " << name << "\nexpect:\n  outcome: " << to_string(d.outcome) << "\n  exit_code: " << d.exit_code
              << "\n  reasons: " << flow(reasons) << "\n  plaintext: " << flow(strings(d.groups.plaintext))
              << "\n  fail: " << flow(strings(d.groups.fail)) << "\n  hang: " << flow(strings(d.groups.hang));
    if (!d.groups.unknown.empty()) std::cout << "\n  unknown: " << flow(strings(d.groups.unknown));
    std::cout << "\n";
  }
  YAML::Node root = YAML::Load(yaml_of(name));
  YAML::Node e = root["expect"];
  ASSERT_TRUE(e && e.IsMap()) << name << ".yaml has no expect: block (MXTLS_PRINT_EXPECT=1 shows what it would be)";
  EXPECT_EQ(to_string(d.outcome), e["outcome"].as<std::string>()) << name;
  EXPECT_EQ(d.exit_code, e["exit_code"].as<int>()) << name;
  EXPECT_EQ(reasons, names_of(e["reasons"])) << name;
  EXPECT_EQ(strings(d.groups.plaintext), names_of(e["plaintext"])) << name;
  EXPECT_EQ(strings(d.groups.fail), names_of(e["fail"])) << name;
  EXPECT_EQ(strings(d.groups.hang), names_of(e["hang"])) << name;
  // The services whose vendor does not document what they do here; absent: none.
  EXPECT_EQ(strings(d.groups.unknown), names_of(e["unknown"])) << name;

  // What users read, against the golden files.
  std::string text = render_probe_text(r.report, {.color = false, .transcript = true});
  std::string json = render_probe_json(r.report) + "\n";
  std::string esa = render_esa_log(r.report);
  lint_options lo;
  lo.raw = true;
  std::string lint_text = render_lint_text(lint(r.sc.ehlo, lo), {false, "EHLO reply"});
  fs::path dir = fs::path(MXTLS_SOURCE_DIR) / "tests/golden/scenarios";
  for (auto [ext, out] : {std::pair{".probe.txt", &text}, {".probe.json", &json}, {".esa.log", &esa}, {".lint.txt", &lint_text}}) {
    std::string masked = mask(*out, r.port);
    fs::path file = dir / (name + ext);
    if (std::getenv("MXTLS_UPDATE_GOLDEN")) {
      fs::create_directories(dir);
      std::ofstream o(file, std::ios::binary);
      o << masked;
      ASSERT_TRUE(o.good()) << "cannot write " << file;
      continue;
    }
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(in) << file << " is missing; scripts/regen-golden writes it";
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(masked, want.str()) << file << " differs (a deliberate change: scripts/regen-golden, then review the diff)";
  }
}

INSTANTIATE_TEST_SUITE_P(BuiltIn, ScenarioProbe, ::testing::ValuesIn(scenario_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace mxtls
