// mxtls logs on the main log of a real Exim: one private Exim 4.96 (tests/integration/
// exim-instance, Debian 12's exim4-daemon-light unpacked from its .deb) delivers one message per
// scenario and setting of exim-scenarios.json, each scenario served by its own `mxtls serve` on
// its own loopback port; Exim delivers in the foreground (-odf), so the log is complete when the
// last send returns. Then `mxtls logs --json` on the main log is compared with the expected line
// of every destination. A missing Exim .deb fails the test (it does not skip).
#include "mta_log_run.hpp"

namespace mxtls::test {
namespace {

using namespace mta_logs;

const char* const scenarios = "tests/integration/logs/exim-scenarios.json";

// The name a verify domain's host has: the entry's "match".
std::string verify_host(const json& entry) { return entry.value("match", std::string("mx.mxtls.test")); }

mta_setup exim() {
  return {.name = "exim",
          .instance = "tests/integration/exim-instance",
          .scenarios = scenarios,
          .log = "log/mainlog",
          .settings = {"may", "required", "verify"},
          .start_args = {"25", "@CAFILE", "@/verify-hosts"},
          .start_hint = "scripts/install-deps downloads Exim's .deb",
          .prepare = [](const fs::path& dir, const json& data, const std::map<std::string, int>& ports) {
            // The host each verify domain goes to: the name its certificate is checked against.
            std::ofstream hosts(dir / "verify-hosts");
            for (const auto& e : data["scenarios"])
              if (e["expect"].contains("verify") && ports.count(e["name"]))
                hosts << port_domain(ports.at(e["name"]), e["name"], "verify") << ": " << verify_host(e) << "\n";
          }};
}

mta_run* run_state = nullptr;
const auto* const env = ::testing::AddGlobalTestEnvironment(new mta_environment(exim(), run_state));

class EximScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(EximScenario, EachSettingGivesTheExpectedDestination) {
  require_run(run_state);
  expect_entry(*run_state, GetParam(), [](const json& entry, const std::string& setting, int port) {
    return place{port_domain(port, entry["name"], setting), "127.0.0.1:" + std::to_string(port),
                 setting == "verify" ? verify_host(entry) : "127.0.0.1"};
  });
}

INSTANTIATE_TEST_SUITE_P(Scenarios, EximScenario, ::testing::ValuesIn(scenario_names(scenarios)), test_name);

TEST(EximLog, FormatDetectedEveryLineReadNoDestinationUnexpected) {
  require_run(run_state);
  expect_every_line_read(*run_state, "exim");
}

// --list: the servers that lost TLS, each once.
TEST(EximLog, ListNamesTheServersThatLostTls) {
  require_run(run_state);
  expect_list(*run_state, [](int port) { return "[127.0.0.1]:" + std::to_string(port); });
}

}  // namespace
}  // namespace mxtls::test
