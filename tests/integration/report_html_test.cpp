// The HTML reports of `mxtls logs --html` and `mxtls tlsrpt --format html` opened in headless
// Chromium as a user would (report_checks.hpp: the checks every report page passes): the logs
// are written by `mxtls probe --log esa` against `mxtls serve` scenarios (the documented ESA
// line forms), the TLS-RPT reports are made to RFC 8460's schema, with a hostile MX name and an
// input that is no report. Screenshots at 375 pixels wide are kept under the build directory.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

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
            "2 destinations · 3 attempts");
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

}  // namespace
}  // namespace mxtls::test
