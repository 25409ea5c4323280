// mxtls logs on the log of a real Postfix: one private Postfix instance (tests/integration/
// postfix-instance) delivers to every scenario of postfix-scenarios.json at once, each scenario
// served by its own `mxtls serve` on its own loopback port (so that a failed next hop, which
// Postfix's queue manager throttles, holds up no other); then `mxtls logs --json` on the
// instance's maillog is compared with the expected line of every destination, and its delivered
// and deferred counts with pflogsumm's on the same file.
//
// A missing Postfix, pflogsumm or openssl fails the test (it does not skip).
#include <fmt/format.h>

#include <ctime>

#include "mta_log_run.hpp"

namespace mxtls::test {
namespace {

using namespace mta_logs;

const char* const scenarios = "tests/integration/logs/postfix-scenarios.json";
const char* const policies[] = {"may", "required", "verify", "secure"};

// Everything the tests below read, made once for the whole program: the servers, the Postfix
// run, its log, and what mxtls logs and pflogsumm say of it.
struct postfix_run : mta_run {
  scenario_servers served;  // kept for --probe and --list | scan
  bool all_status = false;
  std::string probe_error;
  client_run pflogsumm{}, probed{};
  json probed_json;
};

postfix_run* run_state = nullptr;

class PostfixRun : public ::testing::Environment {
 public:
  void SetUp() override {
    run_state = new postfix_run;
    postfix_run& r = *run_state;
    r.dir = fs::temp_directory_path() / ("mxtls-logs-postfix-" + std::to_string(getpid()));
    r.instance_dir = r.dir / "postfix";
    fs::remove_all(r.dir);
    fs::create_directories(r.dir / "routes");
    fs::permissions(r.dir, fs::perms::all & ~fs::perms::group_write & ~fs::perms::others_write);
    r.data = read_json(source(scenarios));
    for (const char* tool : {"/usr/sbin/postfix", "/usr/sbin/pflogsumm", "/usr/bin/openssl"})
      if (!fs::exists(tool)) r.setup_error += std::string(tool) + " is missing (scripts/install-deps); ";
    if (!r.setup_error.empty()) return;

    // Postfix allows no substitution in its transport table: each entry's domains are routed
    // to its port by a table written here.
    int refused_port = free_port();
    serve_scenarios(r.dir, r.data, refused_port, r.served);
    r.ports = r.served.ports;
    r.setup_error += r.served.error;
    std::ofstream transport(r.dir / "routes/transport"), policy(r.dir / "routes/verify-policy"), secure(r.dir / "routes/secure-policy"),
        ca(r.dir / "routes/CAfile");
    for (const auto& [name, port] : r.ports) {
      std::string hop = "[127.0.0.1]:" + std::to_string(port);
      transport << name << ".may.test smtp:" << hop << "\n"
                << name << ".required.test smtpreq:" << hop << "\n"
                << name << ".verify.test smtpver:" << hop << "\n"
                << name << ".secure.test smtpsec:" << hop << "\n";
    }
    // The verify and secure transports have a policy table each (both go to the same next hop).
    for (const auto& s : r.data["scenarios"]) {
      if (!r.ports.count(s["name"])) continue;
      std::string hop = "[127.0.0.1]:" + std::to_string(r.ports[s["name"]]), match = s.value("match", std::string("mx.mxtls.test"));
      policy << hop << " verify match=" << match << "\n";
      secure << hop << " secure match=" << match << "\n";
    }
    write_trusted(r.dir, r.data, r.ports, ca, r.setup_error);
    transport.close(), policy.close(), secure.close(), ca.close();
    for (const auto& e : fs::directory_iterator(r.dir / "routes")) fs::permissions(e.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);

    fs::path pf = source("tests/integration/postfix-instance");
    client_run start = run(r.dir, {pf.string(), "start", r.instance_dir.string(), std::to_string(refused_port), (r.dir / "routes").string()}, 60s);
    if (start.exit_code != 0) {
      r.setup_error += "postfix-instance start failed: " + start.output;
      return;
    }
    for (const auto& s : r.data["scenarios"]) {
      std::string name = s["name"];
      for (const char* p : policies) {
        if (!s["expect"].contains(p)) continue;
        client_run send = run(r.dir, {pf.string(), "send", r.instance_dir.string(), "x@" + name + "." + p + ".test"});
        if (send.exit_code != 0) r.setup_error += "sendmail to " + name + "." + p + ".test failed; ";
        ++r.messages;
      }
    }
    // Every recipient ends with one status= line (sent or deferred: the instance's backoff is an
    // hour, so none is tried twice); the instance's timeouts bound a stuck session to seconds.
    r.all_status = await_count(r.instance_dir, r.instance_dir / "maillog", " status=", r.messages, 90s);
    r.log = copy_and_read(r.dir, r.instance_dir / "maillog", "maillog");
    r.setup_error += r.log.error;
    run(r.dir, {pf.string(), "stop", r.instance_dir.string()}, 60s);

    r.pflogsumm = run(r.dir, {"/usr/sbin/pflogsumm", r.log.path}, 60s);
    // The same log with --probe, the scenarios still served.
    r.probed = run(r.dir, {MXTLS_BINARY, "logs", "--json", "--probe", "--no-injection-test", "--timeout", "5", r.log.path}, 120s);
    try {
      r.probed_json = json::parse(r.probed.output);
    } catch (const std::exception& e) {
      r.probe_error = std::string("mxtls logs --probe --json: ") + e.what() + ": " + r.probed.output;
    }
  }
  void TearDown() override {
    if (!run_state) return;
    run_state->served.servers.clear();
    if (!::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(run_state->dir);
    delete run_state;
    run_state = nullptr;
  }
};

const auto* const env = ::testing::AddGlobalTestEnvironment(new PostfixRun);

void require_run() {
  mta_logs::require_run(run_state);
  ASSERT_TRUE(run_state->all_status) << "not every message reached a status= line; log:\n" << slurp(run_state->log.path);
}

class PostfixScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(PostfixScenario, EachPolicyGivesTheExpectedDestination) {
  require_run();
  expect_entry(*run_state, GetParam(), [](const json& entry, const std::string& policy, int port) {
    return place{entry["name"].get<std::string>() + "." + policy + ".test", "127.0.0.1:" + std::to_string(port), "127.0.0.1"};
  });
}

INSTANTIATE_TEST_SUITE_P(Scenarios, PostfixScenario, ::testing::ValuesIn(scenario_names(scenarios)), test_name);

// --probe: every destination that lost TLS carries the probe's diagnosis of the server it was
// delivered to ([127.0.0.1]:PORT), each target probed once; the others carry none.
TEST(PostfixLog, ProbeAttachesTheDiagnosisOfEachServerThatLostTls) {
  require_run();
  const postfix_run& r = *run_state;
  ASSERT_EQ(r.probe_error, "");
  EXPECT_EQ(r.probed.exit_code, r.log.logs.exit_code) << "the exit code stays the log's";
  for (const auto& s : r.data["scenarios"]) {
    std::string name = s["name"];
    for (const auto& [policy, want] : s["expect"].items()) {
      std::string domain = name + "." + policy + ".test";
      SCOPED_TRACE(domain);
      const json* d = destination_for(r.probed_json, domain);
      ASSERT_NE(d, nullptr);
      if (!lost_tls(want)) {
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
  client_run list = run(r.dir, {MXTLS_BINARY, "logs", "--list", r.log.path});
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
  expect_every_line_read(*run_state, "postfix");
}

// The same real log as journald would keep it: each line made into a journal entry (the
// wrapping is built here from systemd's Journal Export Format and Journal JSON Format,
// https://systemd.io/JOURNAL_EXPORT_FORMATS/; the Postfix lines inside are the real ones),
// written as `journalctl -o export` and `journalctl -o json` write entries. The log's wall
// clock is taken as UTC (journald keeps UTC) and mxtls logs runs with TZ=UTC, so the times
// differ only by the year the syslog form lacks, whatever the machine's zone.
struct journal_forms {
  std::string export_text, json_text;
  std::size_t entries = 0;
};

journal_forms journal_of(const std::string& maillog) {
  static const std::regex line_form(R"(^([A-Z][a-z]{2}) ([ 0-9][0-9]) ([0-9]{2}):([0-9]{2}):([0-9]{2}) (\S+) ([^\[: ]+)(?:\[([0-9]+)\])?: (.*)$)");
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm today{};
  gmtime_r(&now, &today);
  journal_forms out;
  std::istringstream in(slurp(maillog));
  std::smatch m;
  for (std::string l; std::getline(in, l);) {
    if (!std::regex_match(l, m, line_form)) continue;
    std::tm t{};
    for (int i = 0; i < 12; ++i)
      if (m[1] == months[i]) t.tm_mon = i;
    t.tm_year = today.tm_year;
    t.tm_mday = std::stoi(m[2].str());
    t.tm_hour = std::stoi(m[3]), t.tm_min = std::stoi(m[4]), t.tm_sec = std::stoi(m[5]);
    std::uint64_t usec = static_cast<std::uint64_t>(timegm(&t)) * 1000000 + out.entries % 1000;
    std::string host = m[6], ident = m[7], pid = m[8], message = m[9];
    std::string comm = ident.substr(ident.rfind('/') + 1);
    std::size_t n = out.entries++;
    // Export: fields as NAME=VALUE lines; every third entry's MESSAGE in the binary-safe form
    // (NAME, newline, 64-bit little-endian size, data, newline), which the format allows for
    // any field; the field order varies (the format does not define it).
    std::string e = fmt::format("__CURSOR=s=6c7c6013a26343b29e964691ff25d04c;i={:x};b=0;m={:x};t={:x}\n", n + 1, n, usec);
    e += fmt::format("__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=6c7c6013a26343b29e964691ff25d04c\n", usec, 1000 + n);
    std::string msg_field;
    if (n % 3 == 2) {
      msg_field = "MESSAGE\n";
      std::uint64_t size = message.size();
      for (int i = 0; i < 8; ++i) msg_field += static_cast<char>((size >> (8 * i)) & 0xff);
      msg_field += message + "\n";
    } else {
      msg_field = "MESSAGE=" + message + "\n";
    }
    if (n % 2) e += msg_field;
    e += "_TRANSPORT=syslog\nPRIORITY=6\nSYSLOG_FACILITY=2\nSYSLOG_IDENTIFIER=" + ident + "\n";
    if (!pid.empty()) e += "SYSLOG_PID=" + pid + "\n_PID=" + pid + "\n";
    e += "_COMM=" + comm + "\n_HOSTNAME=" + host + "\n";
    if (n % 2 == 0) e += msg_field;
    out.export_text += (n ? "\n" : "") + e;  // entries separated by an empty line; none after the last
    // JSON: one object a line, values as strings; every third MESSAGE as an array of its
    // octets (the form for non-printable data), and SYSLOG_IDENTIFIER once as several values.
    json j = {{"__CURSOR", fmt::format("s=6c7c6013a26343b29e964691ff25d04c;i={:x}", n + 1)},
              {"__REALTIME_TIMESTAMP", std::to_string(usec)},
              {"__MONOTONIC_TIMESTAMP", std::to_string(1000 + n)},
              {"_BOOT_ID", "6c7c6013a26343b29e964691ff25d04c"},
              {"_TRANSPORT", "syslog"},
              {"PRIORITY", "6"},
              {"SYSLOG_IDENTIFIER", ident},
              {"_COMM", comm},
              {"_HOSTNAME", host}};
    if (!pid.empty()) j["SYSLOG_PID"] = pid, j["_PID"] = pid;
    if (n % 3 == 2) {
      json bytes = json::array();
      for (unsigned char c : message) bytes.push_back(static_cast<unsigned>(c));
      j["MESSAGE"] = bytes;
    } else {
      j["MESSAGE"] = message;
    }
    if (n == 4) j["SYSLOG_IDENTIFIER"] = json::array({ident, ident});
    out.json_text += j.dump() + "\n";
  }
  return out;
}

// The plain log's destinations equal the journal forms', but for the year the syslog times
// lack and the samples' time headers.
void expect_same_destinations(const json& plain, const json& journal, const std::string& form) {
  SCOPED_TRACE(form);
  ASSERT_EQ(plain["destinations"].size(), journal["destinations"].size());
  for (std::size_t i = 0; i < plain["destinations"].size(); ++i) {
    json a = plain["destinations"][i], b = journal["destinations"][i];
    SCOPED_TRACE(a["destination"].dump());
    for (const char* t : {"first", "last"}) {
      std::string pa = a[t], pb = b[t];
      ASSERT_GE(pb.size(), 5u);
      EXPECT_EQ(pb.substr(5), pa) << t;  // "YYYY-" + "MM-DDThh:mm:ss"
    }
    ASSERT_EQ(a["samples"].size(), b["samples"].size());
    for (std::size_t k = 0; k < a["samples"].size(); ++k) {
      std::string la = a["samples"][k]["text"], lb = b["samples"][k]["text"];
      EXPECT_EQ(lb.substr(lb.find(' ') + 1), la.substr(16));  // after "Mmm dd hh:mm:ss "
    }
    for (const char* t : {"first", "last", "samples"}) a.erase(t), b.erase(t);
    EXPECT_EQ(a, b);
  }
  EXPECT_EQ(plain["lines"]["total"], journal["lines"]["total"]);
  EXPECT_EQ(plain["lines"]["tls"], journal["lines"]["tls"]);
  EXPECT_EQ(journal["lines"]["not_understood"], 0) << journal["not_understood"].dump();
}

TEST(PostfixLog, JournalExportAndJsonOfTheRealLogGiveTheSameDestinations) {
  require_run();
  const postfix_run& r = *run_state;
  journal_forms j = journal_of(r.log.path);
  ASSERT_GT(j.entries, r.messages);
  fs::path exp = r.dir / "maillog.export", js = r.dir / "maillog.json";
  std::ofstream(exp, std::ios::binary) << j.export_text;
  std::ofstream(js, std::ios::binary) << j.json_text;
  for (const auto& [path, form] : {std::pair{exp, std::string("journal-export")}, std::pair{js, std::string("journal-json")}}) {
    // TZ=UTC: the entries' times were made from the log's wall clock taken as UTC, and
    // mxtls logs shows journal times in TZ's local time, so any other zone of the machine
    // would move them.
    client_run c = run(r.dir, {"/usr/bin/env", "TZ=UTC", MXTLS_BINARY, "logs", "--json", path.string()}, 60s);
    json got;
    ASSERT_NO_THROW(got = json::parse(c.output)) << c.output;
    EXPECT_EQ(got["format"], form);
    EXPECT_EQ(got["format_forced"], false);
    EXPECT_EQ(c.exit_code, r.log.logs.exit_code);
    expect_same_destinations(r.log.logs_json, got, form);
    // Standard input and --format give the same.
    client_run forced = run(r.dir, {"/bin/sh", "-c", "TZ=UTC " + std::string(MXTLS_BINARY) + " logs --json --format " + form + " - < " + path.string()}, 60s);
    json f;
    ASSERT_NO_THROW(f = json::parse(forced.output)) << forced.output;
    EXPECT_EQ(f["format_forced"], true);
    auto without_inputs = [](json d) {
      for (auto& x : d)
        for (auto& l : x["samples"]) l.erase("input");
      return d;
    };
    EXPECT_EQ(without_inputs(f["destinations"]), without_inputs(got["destinations"]));
  }
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
  for (const auto& d : r.log.logs_json["destinations"]) {
    ours_delivered += d["delivered"].get<std::uint64_t>();
    ours_failed += d["failed"].get<std::uint64_t>();
  }
  EXPECT_EQ(ours_delivered, std::stoull(delivered[1]));
  EXPECT_EQ(ours_failed, std::stoull(deferrals[1]));
  EXPECT_GT(ours_delivered, 0u);
}

}  // namespace
}  // namespace mxtls::test
