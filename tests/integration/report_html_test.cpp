// The HTML reports of `mxtls logs --html` and `mxtls tlsrpt --format html` opened in headless
// Chromium as a user would (report_checks.hpp: the checks every report page passes): the logs
// are written by `mxtls probe --log esa` against `mxtls serve` scenarios (the documented ESA
// line forms), the TLS-RPT reports are made to RFC 8460's schema, with a hostile MX name and an
// input that is no report. Screenshots at 375 pixels wide are kept under the build directory.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

#include "report_checks.hpp"
#include "served.hpp"

namespace mxtls::test {
namespace {

using json = nlohmann::json;

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The cells of column `title` by the text of column `by`.
json column(chromium_page& b, const std::string& title, int by) {
  return b.eval("(function(){var h=Array.from(document.querySelectorAll('#results thead th')).map(function(t){return t.textContent;});"
                "var i=h.indexOf(" + json(title).dump() + ");if(i<0)return null;var o={};"
                "Array.from(document.querySelectorAll('#results tbody tr')).forEach(function(r){o[r.cells[" + std::to_string(by) +
                "].textContent]=r.cells[i].textContent;});return o;})()");
}

class ReportHtml : public ::testing::Test {
 protected:
  fs::path dir_ = temp_dir();
  void TearDown() override { fs::remove_all(dir_); }
};

TEST_F(ReportHtml, LogsReportSaysWhatToFixFirst) {
  // Four destinations: one over TLS, two without STARTTLS (one of them probed twice), one
  // that refuses it.
  served compliant("compliant", dir_), seed("seed", dir_), not_offered("starttls-not-offered", dir_), refused("starttls-454", dir_);
  std::vector<std::string> logs;
  auto probe = [&](const served& s, const std::string& policy) {
    ASSERT_NE(s.port(), 0) << s.output();
    client_run r = run(dir_, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(s.port()), "--log", "esa", "--policy", policy,
                              "--no-injection-test", "--timeout", "5"},
                       60s);
    ASSERT_FALSE(r.timed_out);
    fs::path f = dir_ / ("esa-" + std::to_string(logs.size()) + ".log");
    write(f, r.output);
    logs.push_back(f.string());
  };
  probe(compliant, "preferred");
  probe(seed, "preferred");
  probe(seed, "required");
  probe(not_offered, "preferred");
  probe(refused, "preferred");
  fs::path html = dir_ / "logs.html";
  std::vector<std::string> argv{MXTLS_BINARY, "logs", "--html", html.string()};
  argv.insert(argv.end(), logs.begin(), logs.end());
  client_run r = run(dir_, argv, 60s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has(r.output, "format    esa")) << "the text table still goes to standard output: " << r.output;
  ASSERT_TRUE(fs::exists(html)) << r.output;
  std::string page = slurp(html);
  EXPECT_FALSE(has(page, "http://")) << "self-contained";
  EXPECT_FALSE(has(page, "https://"));

  chromium_page browser(dir_ / "cdp-profile");
  browser.open("file://" + html.string());
  check_report_behaviour(browser, "results", 4);
  auto problems = fix_first(browser);
  ASSERT_EQ(problems.size(), 2u) << page.substr(0, 2000);
  EXPECT_EQ(problems[0], (std::pair<std::string, long>{"starttls-not-supported", 2}));
  EXPECT_EQ(problems[1], (std::pair<std::string, long>{"starttls-refused", 1}));
  EXPECT_EQ(browser.eval("document.querySelector('#fix-first li[data-problem=\"starttls-not-supported\"] .cost').textContent"),
            "2 destinations · 3 attempts · 1 senders: (esa: no host in the log)")
      << "--log esa writes no message lines (attempts count) and the ESA file form names no host (one sender)";
  // Evidence: the log's own lines with their file and line number.
  std::string evidence = browser.eval("document.querySelector('#fix-first li[data-problem=\"starttls-not-supported\"] pre').textContent");
  EXPECT_TRUE(has(evidence, ".log:")) << evidence;
  EXPECT_TRUE(has(evidence, "STARTTLS")) << evidence;

  browser.click("button.card[data-filter=\"tls-failed\"]");
  EXPECT_EQ(visible_rows(browser), 3);
  browser.click("button.card[data-filter=\"tls\"]");
  EXPECT_EQ(visible_rows(browser), 1);
  browser.click("button.card[data-filter=\"tls\"]");
  EXPECT_EQ(visible_rows(browser), 4);
  auto outcome = column(browser, "Outcome", 0);
  ASSERT_TRUE(outcome.is_object());
  auto first_row = browser.eval("document.querySelector('#results tbody tr').dataset.outcome");
  EXPECT_EQ(first_row, "tls-failed") << "worst first";

  check_narrow_layout(browser, "file://" + html.string(), fs::path(MXTLS_BINARY_DIR) / "logs-report-375.png");
}

// With --probe, every reason the probe attached is on the page, grouped by its id: errors and
// warnings in the fix-first list ("probe-ID", its destinations linked in the table), the
// others under "Also found by the probe"; each group counts the destinations whose probe
// gave it, as the JSON of the same run says.
TEST_F(ReportHtml, LogsReportWithProbeGroupsTheProbesFindings) {
  served seed("seed", dir_), not_offered("starttls-not-offered", dir_), compliant("compliant", dir_);
  std::vector<std::string> argv{MXTLS_BINARY, "logs"};
  std::vector<std::string> logs;
  for (const served* s : {&seed, &not_offered, &compliant}) {
    ASSERT_NE(s->port(), 0) << s->output();
    client_run r = run(dir_, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(s->port()), "--log", "esa", "--policy",
                              "preferred", "--no-injection-test", "--timeout", "5"},
                       60s);
    ASSERT_FALSE(r.timed_out);
    fs::path f = dir_ / ("esa-" + std::to_string(logs.size()) + ".log");
    write(f, r.output);
    logs.push_back(f.string());
  }
  fs::path html = dir_ / "logs-probe.html";
  std::vector<std::string> probe_args{"--probe", "--no-injection-test", "--timeout", "5", "--html", html.string(), "--json"};
  argv.insert(argv.end(), probe_args.begin(), probe_args.end());
  argv.insert(argv.end(), logs.begin(), logs.end());
  client_run r = run(dir_, argv, 120s);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  json doc = json::parse(r.output.substr(r.output.find('{')));
  // Each probe reason id: the destinations whose probe gave it.
  std::map<std::string, long> want;
  long probed = 0;
  for (const auto& d : doc["destinations"]) {
    if (d["probe"].is_null()) continue;
    ++probed;
    std::set<std::string> ids;
    for (const auto& x : d["probe"]["reasons"]) ids.insert(x["id"].get<std::string>());
    for (const auto& id : ids) ++want[id];
  }
  ASSERT_EQ(probed, 2) << "seed and starttls-not-offered lost TLS: " << doc.dump(2).substr(0, 3000);
  ASSERT_FALSE(want.empty()) << doc.dump(2).substr(0, 3000);

  chromium_page browser(dir_ / "cdp-profile");
  browser.open("file://" + html.string());
  check_report_behaviour(browser, "results", 3);  // every fix-first link, the probe's among them, shows its rows
  std::map<std::string, long> shown;
  for (const auto& [id, n] : fix_first(browser))
    if (id.rfind("probe-", 0) == 0) shown[id.substr(6)] = n;
  json info = browser.eval("(function(){var o={};document.querySelectorAll('#probe-findings li').forEach(function(l){"
                           "o[l.dataset.reason]=Number(l.dataset.count);});return o;})()");
  for (auto it = info.begin(); it != info.end(); ++it) {
    EXPECT_FALSE(shown.count(it.key())) << it.key() << " is in one group only";
    shown[it.key()] = it.value().get<long>();
  }
  EXPECT_EQ(shown, want) << "every reason the probe attached, grouped, with its destinations";
  // An info group's link shows its destinations too.
  if (!info.empty()) {
    std::string first = info.begin().key();
    browser.click("#probe-findings li[data-reason=\"" + first + "\"] a[data-filter]");
    EXPECT_EQ(visible_rows(browser), want[first]);
    browser.click("#probe-findings li[data-reason=\"" + first + "\"] a[data-filter]");
    EXPECT_EQ(visible_rows(browser), 3) << "the second click shows every row again";
  }
  check_narrow_layout(browser, "file://" + html.string(), fs::path(MXTLS_BINARY_DIR) / "logs-probe-report-375.png");
}

TEST_F(ReportHtml, TlsrptReportSaysWhatToFixFirst) {
  std::ifstream google(fs::path(MXTLS_SOURCE_DIR) / "tests/conformance/tlsrpt/sts-google-style.json");
  std::string google_text((std::istreambuf_iterator<char>(google)), std::istreambuf_iterator<char>());
  write(dir_ / "google.json", google_text);
  std::string hostile = "<img src=x onerror=\"window.__xss=1\">.example.com";
  auto failure = [](const std::string& type, const std::string& mx, int n) {
    return json{{"result-type", type}, {"sending-mta-ip", "198.51.100.7"}, {"receiving-ip", "192.0.2.30"},
                {"receiving-mx-hostname", mx}, {"failed-session-count", n}};
  };
  json report{{"organization-name", "Example Sender"},
              {"date-range", {{"start-datetime", "2024-03-01T00:00:00Z"}, {"end-datetime", "2024-03-01T23:59:59Z"}}},
              {"contact-info", "tlsrpt@sender.example"},
              {"report-id", "2024-03-01_example.com"},
              {"policies",
               {{{"policy", {{"policy-type", "sts"}, {"policy-string", {"version: STSv1", "mode: enforce", "mx: mail.example.com"}},
                             {"policy-domain", "example.com"}, {"mx-host", {"mail.example.com"}}}},
                 {"summary", {{"total-successful-session-count", 100}, {"total-failure-session-count", 11}}},
                 {"failure-details",
                  {failure("certificate-host-mismatch", "mx2.backup.example.com", 7), failure("certificate-host-mismatch", hostile, 1),
                   failure("starttls-not-supported", "mx1.example.com", 3)}}}}}};
  write(dir_ / "sender.json", report.dump());
  write(dir_ / "broken.json", "{\"organization-name\": \"cut off");
  fs::path html = dir_ / "tlsrpt.html";
  client_run r = run(dir_, {MXTLS_BINARY, "tlsrpt", "--format", "html", (dir_ / "google.json").string(), (dir_ / "sender.json").string(),
                            (dir_ / "broken.json").string()},
                     60s);
  EXPECT_EQ(r.exit_code, 4) << "an input that holds no report: " << r.output.substr(0, 500);
  write(html, r.output);
  EXPECT_TRUE(has(r.output, "<!DOCTYPE html>"));
  EXPECT_FALSE(has(r.output, "https://")) << "self-contained";

  chromium_page browser(dir_ / "cdp-profile");
  browser.open("file://" + html.string());
  EXPECT_EQ(browser.eval("window.__xss===undefined"), true) << "an MX name from a report runs no script";
  check_report_behaviour(browser, "results", 4);
  auto problems = fix_first(browser);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0], (std::pair<std::string, long>{"certificate-host-mismatch", 2}));
  EXPECT_EQ(problems[1], (std::pair<std::string, long>{"certificate-expired", 1})) << "5 failed sessions before 3";
  EXPECT_EQ(problems[2], (std::pair<std::string, long>{"starttls-not-supported", 1}));
  EXPECT_EQ(browser.eval("document.querySelector('#fix-first li[data-problem=\"certificate-host-mismatch\"] .cost').textContent"),
            "2 MX hosts · 23 failed sessions · 2 reporting organisations: Example Sender, Google Inc.");
  EXPECT_EQ(browser.eval("document.querySelector('#fix-first li[data-problem=\"certificate-expired\"] pre').textContent"),
            "X509_V_ERR_CERT_HAS_EXPIRED\n")
      << "the failure details";
  EXPECT_EQ(browser.eval("document.querySelector('#results tbody tr').cells[1].textContent"), "mx1.example.com")
      << "worst first: no STARTTLS before certificate problems";
  auto failed = column(browser, "Failed sessions", 1);
  ASSERT_TRUE(failed.is_object());
  EXPECT_EQ(failed["mx2.backup.example.com"], "22");
  EXPECT_EQ(failed[hostile], "1");
  browser.click("button.card[data-filter=\"certificate-host-mismatch\"]");
  EXPECT_EQ(visible_rows(browser), 2);
  browser.click("button.card[data-filter=\"starttls-not-supported\"]");
  EXPECT_EQ(visible_rows(browser), 1);
  std::string inputs = browser.eval("document.getElementById('inputs').nextElementSibling.textContent");
  EXPECT_TRUE(has(inputs, "broken.json")) << inputs;
  EXPECT_TRUE(has(inputs, "invalid")) << "the cut-off report is counted and named: " << inputs;
  EXPECT_TRUE(has(inputs, "not JSON")) << inputs;
  EXPECT_TRUE(has(browser.eval("document.body.textContent").get<std::string>(), "0 unreadable, 1 invalid report"));

  check_narrow_layout(browser, "file://" + html.string(), fs::path(MXTLS_BINARY_DIR) / "tlsrpt-report-375.png");
}

}  // namespace
}  // namespace mxtls::test
