// mxtls logs on the syslog lines of a real Sendmail: one private Sendmail 8.17 (tests/integration/
// sendmail-instance, Debian 12's sendmail-bin unpacked from its .deb) delivers one message per
// scenario and setting of sendmail-scenarios.json, each scenario served by its own `mxtls serve`
// on its own loopback port; Sendmail delivers in the foreground (-odi) and each send waits for
// the lines its process logged, so the log is complete when the last send returns. Then
// `mxtls logs --json` on the log is compared with the expected line of every destination. A
// missing Sendmail .deb fails the test (it does not skip).
#include "mta_log_run.hpp"

namespace mxtls::test {
namespace {

using namespace mta_logs;

const char* const scenarios = "tests/integration/logs/sendmail-scenarios.json";

mta_setup sendmail() {
  return {.name = "sendmail",
          .instance = "tests/integration/sendmail-instance",
          .scenarios = scenarios,
          .log = "log/maillog",
          .settings = {"may", "required", "verify", "fallback"},
          .start_args = {"25", "@CAFILE"},
          .start_hint = "scripts/install-deps downloads Sendmail's .debs",
          .prepare = {}};
}

mta_run* run_state = nullptr;
const auto* const env = ::testing::AddGlobalTestEnvironment(new mta_environment(sendmail(), run_state));

class SendmailScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(SendmailScenario, EachSettingGivesTheExpectedDestination) {
  require_run(run_state);
  // Sendmail logs no port.
  expect_entry(*run_state, GetParam(), [](const json& entry, const std::string& setting, int port) {
    return place{port_domain(port, entry["name"], setting), "127.0.0.1", "127.0.0.1"};
  });
}

INSTANTIATE_TEST_SUITE_P(Scenarios, SendmailScenario, ::testing::ValuesIn(scenario_names(scenarios)), test_name);

TEST(SendmailLog, FormatDetectedEveryLineReadNoDestinationUnexpected) {
  require_run(run_state);
  expect_every_line_read(*run_state, "sendmail");
}

// --list: the servers that lost TLS, each once (all of them 127.0.0.1: Sendmail logs no port).
TEST(SendmailLog, ListNamesTheServersThatLostTls) {
  require_run(run_state);
  expect_list(*run_state, [](int) { return std::string("[127.0.0.1]"); });
}

}  // namespace
}  // namespace mxtls::test
