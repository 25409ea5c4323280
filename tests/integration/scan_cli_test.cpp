// `mxtls scan` as a user runs it, against `mxtls serve` processes on loopback: a list with
// garbage lines, names that do not resolve, refused ports, tarpits and hostile servers is
// accounted for line by line; SIGTERM keeps every finished record and --resume completes
// the run; the HTML report renders in headless Chromium (screenshot kept under build/).
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "report_checks.hpp"
#include "served.hpp"

namespace {

namespace fs = std::filesystem;
namespace t = mxtls::test;
using namespace std::chrono_literals;
using t::served;
using t::check_narrow_layout;
using t::check_report_behaviour;
using t::fix_first;
using t::visible_rows;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// The records of a JSONL file by list line; fails on a line that is not a record. While a
// scan is still writing (`growing`), a last line without its newline is not looked at.
std::map<std::size_t, nlohmann::json> records(const fs::path& p, std::size_t* count = nullptr, bool growing = false) {
  std::map<std::size_t, nlohmann::json> out;
  std::string text = t::slurp(p);
  if (growing) text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream in(text);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line.substr(0, 200);
    if (j.is_discarded()) continue;
    ++n;
    EXPECT_TRUE(out.emplace(j["line"].get<std::size_t>(), j).second) << "two records for line " << j["line"];
  }
  if (count) *count = n;
  return out;
}

std::vector<std::string> scan(const fs::path& list, std::vector<std::string> extra) {
  std::vector<std::string> a{MXTLS_BINARY, "scan", list.string(), "--resolver", "127.0.0.1:1", "--timeout", "dns=0.5",
                             "--timeout", "banner=1", "--timeout", "command=1"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

class ScanCli : public ::testing::Test {
 protected:
  fs::path dir_ = t::temp_dir();
  void TearDown() override { fs::remove_all(dir_); }
};

TEST_F(ScanCli, EveryLineOfAHostileListIsAccountedFor) {
  served seed("seed", dir_), compliant("compliant", dir_), tarpit("tarpit", dir_), endless("truncated-reply", dir_),
      drip("drip", dir_), busy("busy-421", dir_), injection("command-injection", dir_);
  auto at = [](const served& s) { return "[127.0.0.1]:" + std::to_string(s.port()); };
  std::string garbage = "\x01\x02\xff\xfe garbage \x80\n";
  write(dir_ / "list.txt",
        "# partners\n" + at(seed) + "\n" + at(compliant) + "   # the good one\n\n" + garbage + at(tarpit) + "\n" +
            at(endless) + "\n" + at(drip) + "\n" + at(busy) + "\n" + "[127.0.0.1]:1\n" + "nowhere.mxtls-probe.net\n" +
            "not a target at all\n" + at(injection) + "\n" + at(seed) + "\n" + std::string(5000, 'x') + "\n");
  auto r = t::run(dir_, scan(dir_ / "list.txt", {"--out", (dir_ / "out.jsonl").string(), "--concurrency", "4"}), 60s);
  ASSERT_FALSE(r.timed_out) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  std::size_t n = 0;
  auto recs = records(dir_ / "out.jsonl", &n);
  // 15 lines: 1 comment + 1 blank + 13 that each get exactly one record.
  std::set<std::size_t> expected{2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  EXPECT_EQ(n, 13u) << r.output;
  for (auto l : expected) EXPECT_TRUE(recs.count(l)) << "no record for line " << l << "\n" << r.output;
  auto outcome = [&](std::size_t l) { return recs[l]["outcome"].get<std::string>(); };
  EXPECT_EQ(outcome(2), "senders-lose-tls");
  EXPECT_EQ(outcome(3), "certificate");
  EXPECT_EQ(outcome(5), "invalid");
  EXPECT_EQ(outcome(6), "unreachable") << recs[6]["verdict"];  // tarpit: no banner within 1 s
  EXPECT_EQ(outcome(7), "ehlo-fails") << recs[7]["verdict"];   // a reply that never ends
  EXPECT_EQ(outcome(9), "unreachable") << recs[9]["verdict"];  // 421
  EXPECT_EQ(outcome(10), "unreachable") << recs[10]["verdict"];  // refused
  EXPECT_EQ(outcome(11), "dns-fails") << recs[11]["verdict"];
  EXPECT_EQ(outcome(12), "invalid");
  EXPECT_EQ(outcome(14), "senders-lose-tls") << "a repeated line is probed again";
  EXPECT_EQ(outcome(15), "invalid");
  EXPECT_EQ(recs[2]["input"], "[127.0.0.1]:" + std::to_string(seed.port()));
  EXPECT_EQ(outcome(13), "injection") << recs[13]["verdict"];
  bool command_injection = false;  // probe JSON version 2: a reason of the host
  ASSERT_TRUE(recs[13]["hosts"].is_array() && !recs[13]["hosts"].empty()) << recs[13];
  for (const auto& reason : recs[13]["hosts"][0]["reasons"])
    if (reason.is_object() && reason.value("id", std::string()) == "command-injection") command_injection = true;
  EXPECT_TRUE(command_injection) << recs[13]["hosts"][0]["reasons"];
  EXPECT_TRUE(has(r.output, "line 5: ")) << r.output;
  EXPECT_TRUE(has(r.output, "line 12: 'not a target at all' is not a target")) << r.output;
  EXPECT_TRUE(has(r.output, "line 15: ")) << r.output;
  EXPECT_TRUE(has(r.output, "15 lines: 10 probed, 3 invalid, 2 blank or comments")) << r.output;
  EXPECT_TRUE(has(r.output, "1 open to STARTTLS command injection")) << r.output;
  EXPECT_FALSE(has(r.output, "\r")) << "no progress line when standard error is not a terminal";
}

// A record says what the list said ("input") and what was probed ("target"); --resume
// matches on the line as written, so a list with U-labels and smtp:// resumes.
TEST_F(ScanCli, RecordsKeepTheLineAsWrittenAndTheFormProbed) {
  served seed("seed", dir_);
  std::string port = std::to_string(seed.port());
  write(dir_ / "list.txt", "\xEF\xBB\xBFsmtp://127.0.0.1:" + port + "/\nb\xC3\xBC" "cher.invalid\n");
  fs::path out = dir_ / "out.jsonl";
  auto r = t::run(dir_, scan(dir_ / "list.txt", {"--out", out.string(), "--no-injection-test"}), 30s);
  auto recs = records(out);
  ASSERT_EQ(recs.size(), 2u) << r.output;
  EXPECT_EQ(recs[1]["input"], "smtp://127.0.0.1:" + port + "/") << "the byte order mark is not part of the line";
  EXPECT_EQ(recs[1]["target"], "127.0.0.1:" + port);
  EXPECT_EQ(recs[1]["outcome"], "senders-lose-tls");
  EXPECT_EQ(recs[2]["input"], "b\xC3\xBC" "cher.invalid");
  EXPECT_EQ(recs[2]["target"], "xn--bcher-kva.invalid");
  auto again = t::run(dir_, scan(dir_ / "list.txt", {"--out", out.string(), "--resume", "--no-injection-test"}), 30s);
  EXPECT_TRUE(has(again.output, "2 done in the earlier run (--resume)")) << again.output;
  EXPECT_EQ(records(out).size(), 2u);
}

TEST_F(ScanCli, UniqueShardsStdinAndUsageErrors) {
  served compliant("compliant", dir_);
  std::string at = "[127.0.0.1]:" + std::to_string(compliant.port());
  write(dir_ / "list.txt", at + "\n" + at + "\n" + at + "\n# c\n" + at + "\n" + at + "\n");
  {
    auto a = scan(dir_ / "list.txt", {"--unique", "--out", (dir_ / "u.jsonl").string(), "--no-injection-test"});
    auto r = t::run(dir_, a, 30s);
    EXPECT_EQ(records(dir_ / "u.jsonl").size(), 1u) << r.output;
    EXPECT_TRUE(has(r.output, "4 repeats dropped (--unique)")) << r.output;
  }
  std::set<std::size_t> all;
  for (const char* shard : {"1/2", "2/2"}) {
    fs::path out = dir_ / (std::string("s") + shard[0] + ".jsonl");
    auto r = t::run(dir_, scan(dir_ / "list.txt", {"--shard", shard, "--out", out.string(), "--no-injection-test"}), 30s);
    for (const auto& [line, rec] : records(out)) EXPECT_TRUE(all.insert(line).second) << "line " << line << " in both shards";
    EXPECT_TRUE(has(r.output, "for other shards")) << r.output;
  }
  EXPECT_EQ(all, (std::set<std::size_t>{1, 2, 3, 5, 6}));
  {
    auto r = t::run(dir_, scan("-", {"--no-injection-test"}), 30s, (dir_ / "list.txt").string());
    // Self-signed under the default policy (preferred, which does not verify): outcome
    // certificate, each record's exit_code 0, and so the scan's.
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(has(r.output, "\"line\":6")) << "records go to standard output without --out";
  }
  EXPECT_EQ(t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "missing.txt").string()}).exit_code, 2);
  auto bad_shard = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--shard", "0/4"});
  EXPECT_EQ(bad_shard.exit_code, 2);
  EXPECT_TRUE(has(bad_shard.output, "K counts from 1 to N")) << bad_shard.output;
  auto resume = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--resume"});
  EXPECT_EQ(resume.exit_code, 2);
  EXPECT_TRUE(has(resume.output, "--resume needs --out")) << resume.output;
  auto html = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--html", (dir_ / "x.html").string()});
  EXPECT_EQ(html.exit_code, 2);
  auto pipe_out = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--out", "/dev/null", "--html",
                                (dir_ / "r.html").string()});
  EXPECT_EQ(pipe_out.exit_code, 2);
  EXPECT_TRUE(has(pipe_out.output, "must be a regular file")) << pipe_out.output;
  auto full = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--out", "/dev/full", "--no-injection-test"});
  EXPECT_EQ(full.exit_code, 2) << full.output;
  EXPECT_TRUE(has(full.output, "cannot write the records to /dev/full")) << "a full disk stops the scan: " << full.output;
  auto as = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--as", "nosuchclient"});
  EXPECT_EQ(as.exit_code, 2);
  EXPECT_TRUE(has(as.output, "no client model 'nosuchclient'")) << as.output;
}

TEST_F(ScanCli, SigtermKeepsFinishedRecordsAndResumeCompletesTheList) {
  served compliant("compliant", dir_), tarpit("tarpit", dir_);
  std::string good = "[127.0.0.1]:" + std::to_string(compliant.port());
  std::string slow = "[127.0.0.1]:" + std::to_string(tarpit.port());
  std::string list;
  for (int i = 0; i < 3; ++i) list += good + "\n";
  for (int i = 0; i < 20; ++i) list += slow + "\n";
  write(dir_ / "list.txt", list);
  fs::path out = dir_ / "out.jsonl";
  // First run: the tarpit's banner comes after 20 s; wait for it up to 30 s. Stop once the
  // three good ones are written: the first SIGTERM lets the open probes run on, the second
  // abandons them.
  fs::path err = dir_ / "scan.err";
  int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = t::spawn({MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--out", out.string(), "--concurrency", "5",
                        "--no-injection-test", "--timeout", "banner=30"},
                       "", fd, fd);
  close(fd);
  for (int i = 0; i < 1000 && records(out, nullptr, true).size() < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(records(out).size(), 3u) << t::slurp(err);
  kill(pid, SIGTERM);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), 0) << "the first SIGTERM waits for the open probes";
  kill(pid, SIGTERM);
  auto w = t::wait_for(pid, 10s);
  EXPECT_FALSE(w.timed_out);
  EXPECT_EQ(w.exit_code, 130) << t::slurp(err);
  std::string text = t::slurp(err);
  EXPECT_TRUE(has(text, "SIGTERM: no new probes; waiting for")) << text;
  EXPECT_TRUE(has(text, "20 not probed (stopped)")) << text;
  EXPECT_EQ(records(out).size(), 3u);

  // A cut-off last line (as a kill -9 in the middle of a write leaves it) is dropped.
  std::ofstream(out, std::ios::app) << "{\"schema\":\"mxtls-probe\",\"line\":4,\"inp";
  auto r = t::run(dir_, {MXTLS_BINARY, "scan", (dir_ / "list.txt").string(), "--out", out.string(), "--resume",
                         "--concurrency", "20", "--no-injection-test", "--timeout", "banner=0.3"},
                  60s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has(r.output, "3 done in the earlier run (--resume)")) << r.output;
  std::size_t n = 0;
  auto recs = records(out, &n);
  EXPECT_EQ(n, 23u);
  EXPECT_EQ(recs.size(), 23u) << "every line exactly once after the resumed run";
}

TEST_F(ScanCli, HtmlReportRendersInHeadlessChromium) {
  served seed("seed", dir_), compliant("compliant", dir_), injection("command-injection", dir_);
  auto at = [](const served& s) { return "[127.0.0.1]:" + std::to_string(s.port()); };
  write(dir_ / "list.txt", at(seed) + "\n" + at(compliant) + "\n" + at(injection) + "\n[127.0.0.1]:1\nbad target\n" +
                               "<script>alert(1)</script>\n");
  fs::path html = dir_ / "report.html";
  auto r = t::run(dir_, scan(dir_ / "list.txt", {"--out", (dir_ / "out.jsonl").string(), "--html", html.string()}), 60s);
  ASSERT_TRUE(fs::exists(html)) << r.output;
  std::string page = t::slurp(html);
  EXPECT_FALSE(has(page, "http://")) << "self-contained: nothing to fetch";
  EXPECT_FALSE(has(page, "https://"));
  EXPECT_FALSE(has(page, "<script>alert(1)")) << "input is escaped";
  EXPECT_TRUE(has(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));

  const char* chromium = "/usr/bin/chromium";
  ASSERT_TRUE(fs::exists(chromium)) << "Debian's chromium package is needed (scripts/install-deps installs it)";
  std::vector<std::string> common{chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                  "--disable-background-networking", "--disable-component-update", "--no-first-run",
                                  "--user-data-dir=" + (dir_ / "chromium").string()};
  auto dom_args = common;
  dom_args.insert(dom_args.end(), {"--dump-dom", "file://" + html.string()});
  fs::path dom_file = dir_ / "dom.html";
  int fd = open(dom_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = t::spawn(dom_args, "", fd, -1);
  close(fd);
  auto w = t::wait_for(pid, 60s);
  ASSERT_FALSE(w.timed_out);
  std::string dom = t::slurp(dom_file);
  EXPECT_TRUE(has(dom, "data-ready=\"yes\"")) << "the report's script ran: " << dom.substr(0, 500);
  EXPECT_TRUE(has(dom, "data-charts-drawn=\"4/4\"")) << "every chart has laid-out bars";
  EXPECT_TRUE(has(dom, "6 of 6 shown")) << "the table's filter initialised";
  EXPECT_TRUE(has(dom, "data-outcome=\"senders-lose-tls\"><b>1</b>")) << "summary card";
  EXPECT_TRUE(has(dom, "data-outcome=\"invalid\"><b>2</b>")) << "summary card";
  EXPECT_TRUE(has(dom, "command injection</button>")) << "a card for injection";

  fs::path shot = fs::path(MXTLS_BINARY_DIR) / "scan-report.png";
  fs::remove(shot);
  auto shot_args = common;
  shot_args.insert(shot_args.end(), {"--window-size=1280,1600", "--screenshot=" + shot.string(), "file://" + html.string()});
  w = t::wait_for(t::spawn(shot_args), 60s);
  ASSERT_FALSE(w.timed_out);
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_GT(fs::file_size(shot), 20'000u) << "a blank page compresses to almost nothing";

  // Driven as a user would, over the DevTools protocol: cards filter, the table is worst
  // first, each fix-first item's count is the rows its link shows, a phone's width fits.
  t::chromium_page browser(dir_ / "cdp-profile");
  browser.open("file://" + html.string());
  check_report_behaviour(browser, "results", 6);
  auto cards = browser.eval("Array.from(document.querySelectorAll('button.card')).map(function(c){return c.dataset.filter;})");
  ASSERT_TRUE(cards.is_array());
  browser.click("button.card[data-filter=\"invalid\"]");
  EXPECT_EQ(visible_rows(browser), 2) << "the invalid card shows the two lines that are not destinations";
  EXPECT_EQ(browser.eval("Array.from(document.querySelectorAll('#results tbody tr')).filter(function(r){return !r.hidden;})"
                         ".every(function(r){return r.dataset.outcome==='invalid';})"),
            true);
  browser.click("button.card[data-filter=\"invalid\"]");
  EXPECT_EQ(visible_rows(browser), 6) << "a second click shows every row again";
  browser.click("button.card[data-filter=\"command-injection\"]");
  EXPECT_EQ(visible_rows(browser), 1);
  auto problems = fix_first(browser);
  bool connect_failed = false;
  for (const auto& p : problems) connect_failed |= p.first == "connect-failed" && p.second == 1;
  EXPECT_TRUE(connect_failed) << "the refused port is a problem of one destination";

  check_narrow_layout(browser, "file://" + html.string(), fs::path(MXTLS_BINARY_DIR) / "scan-report-375.png");
}

// DANE, MTA-STS and TLS-RPT per destination, from records as a domain scan writes them (a
// scan resumed with every line already done renders the report from the records alone).
// The hostile names come from DNS and from the policy file a remote server serves.
TEST_F(ScanCli, HtmlReportShowsDaneAndMtaStsPerDestination) {
  std::string hostile = "<img src=x onerror=\"window.__xss=1\">.mx.example";
  auto host = [](const std::string& mx, const std::string& dane, bool listed) {
    return nlohmann::json{{"mx", mx}, {"address", "192.0.2.1"}, {"port", 25}, {"outcome", "ok"}, {"verdict", "v"},
                          {"reasons", nlohmann::json::array()}, {"mta_sts_match", listed},
                          {"dane", {{"status", dane}, {"senders", {{{"id", "postfix-dane"}, {"outcome", dane == "mismatch" ? "defer" : "dane-verified"}}}}}},
                          {"mta_sts", {{"host", mx}, {"match", listed}, {"refused", !listed},
                                       {"senders", {{{"id", "gmail"}, {"effect", listed ? "delivers" : "refuses"}}}}}}};
  };
  auto reason = [](const char* id, const char* severity) {
    return nlohmann::json{{"id", id}, {"severity", severity}, {"code", nullptr}, {"detail", nullptr}, {"text", id}};
  };
  auto record = [&](int line, const std::string& domain, std::vector<nlohmann::json> hosts, std::vector<nlohmann::json> reasons,
                    const char* sts, const char* rpt) {
    nlohmann::json r{{"schema", "mxtls-probe"}, {"version", 2}, {"line", line}, {"input", domain}, {"target", domain},
                     {"verdict", "v"}, {"outcome", "ok"}, {"exit_code", 1}, {"verdict_host", 0},
                     {"senders", {{"tls", {"postfix"}}, {"plaintext", nlohmann::json::array()}, {"fail", nlohmann::json::array()},
                                  {"hang", nlohmann::json::array()}, {"tls_off", nlohmann::json::array()}}},
                     {"reasons", reasons}, {"hosts", hosts},
                     {"mta_sts", {{"status", sts}, {"policy", {{"mode", "enforce"}, {"mx", {"mx1.a.example"}}}}}},
                     {"tls_rpt", {{"status", rpt}, {"rua", {"mailto:tlsrpt@a.example"}}}}};
    return r.dump() + "\n";
  };
  std::string records = record(1, "a.example", {host("mx1.a.example", "mismatch", true), host(hostile, "verified", false)},
                               {reason("dane-mismatch", "error"), reason("mta-sts-mx-not-listed", "error")}, "valid", "valid") +
                        record(2, "b.example", {host("mx.b.example", "mismatch", true)}, {reason("dane-mismatch", "error")},
                               "none", "none") +
                        record(3, "c.example", {host("mx.c.example", "verified", true)}, {reason("dane-verified", "info")},
                               "valid", "valid");
  write(dir_ / "list.txt", "a.example\nb.example\nc.example\n");
  write(dir_ / "out.jsonl", records);
  fs::path html = dir_ / "report.html";
  auto r = t::run(dir_, scan(dir_ / "list.txt", {"--out", (dir_ / "out.jsonl").string(), "--resume", "--html", html.string()}), 60s);
  ASSERT_TRUE(fs::exists(html)) << r.output;
  EXPECT_TRUE(has(r.output, "3 done in the earlier run")) << r.output;

  t::chromium_page browser(dir_ / "cdp-profile");
  browser.open("file://" + html.string());
  EXPECT_TRUE(browser.eval("window.__xss===undefined")) << "a host name from DNS runs no script";
  check_report_behaviour(browser, "results", 3);
  auto column = [&](const std::string& title) {
    return browser.eval("(function(){var h=Array.from(document.querySelectorAll('#results thead th')).map(function(t){return t.textContent;});"
                        "var i=h.indexOf(" + nlohmann::json(title).dump() + ");if(i<0)return null;var o={};"
                        "Array.from(document.querySelectorAll('#results tbody tr')).forEach(function(r){o[r.cells[1].textContent]=r.cells[i].textContent;});return o;})()");
  };
  auto dane = column("DANE");
  ASSERT_TRUE(dane.is_object()) << "a DANE column";
  EXPECT_EQ(dane["a.example"], "mismatch 1, verified 1");
  EXPECT_EQ(dane["b.example"], "mismatch");
  EXPECT_EQ(dane["c.example"], "verified");
  auto sts = column("MTA-STS");
  ASSERT_TRUE(sts.is_object()) << "an MTA-STS column";
  EXPECT_EQ(sts["a.example"], "valid enforce; not listed: " + hostile + "; refused: " + hostile);
  EXPECT_EQ(sts["b.example"], "none enforce");
  auto rpt = column("TLS-RPT");
  ASSERT_TRUE(rpt.is_object()) << "a TLS-RPT column";
  EXPECT_EQ(rpt["a.example"], "valid (1 rua)");

  auto problems = fix_first(browser);
  ASSERT_EQ(problems.size(), 2u) << "dane-verified is not a problem";
  EXPECT_EQ(problems[0], (std::pair<std::string, long>{"dane-mismatch", 2}));
  EXPECT_EQ(problems[1], (std::pair<std::string, long>{"mta-sts-mx-not-listed", 1}));
  EXPECT_EQ(browser.eval("document.querySelector('#fix-first li[data-problem=\"dane-mismatch\"] .cost').textContent"),
            "2 destinations · 1 senders lose TLS: postfix-dane");
  EXPECT_EQ(browser.eval("document.querySelector('#fix-first li[data-problem=\"mta-sts-mx-not-listed\"] .cost').textContent"),
            "1 destinations · 1 senders lose TLS: gmail");

  check_narrow_layout(browser, "file://" + html.string(), fs::path(MXTLS_BINARY_DIR) / "scan-report-dane-375.png");
}

TEST_F(ScanCli, ProgressLineWhenAsked) {
  served compliant("compliant", dir_);
  std::string list;
  for (int i = 0; i < 5; ++i) list += "[127.0.0.1]:" + std::to_string(compliant.port()) + "\n";
  write(dir_ / "list.txt", list);
  auto r = t::run(dir_, scan(dir_ / "list.txt", {"--progress", "always", "--rate", "8", "--out", (dir_ / "o.jsonl").string()}), 30s);
  EXPECT_TRUE(has(r.output, "\r\033[K")) << r.output;
  EXPECT_TRUE(has(r.output, "/5 done,")) << r.output;
  EXPECT_TRUE(has(r.output, "ETA")) << r.output;
  EXPECT_TRUE(has(r.output, "5 probed")) << r.output;
}

// One thread per core the process may use: under taskset to one core, one thread.
TEST_F(ScanCli, ThreadsFollowTheCoresTheProcessMayUse) {
  if (!fs::exists("/usr/bin/taskset")) GTEST_FAIL() << "taskset (util-linux) is not installed";
  served compliant("compliant", dir_);
  std::string list;
  for (int i = 0; i < 4; ++i) list += "[127.0.0.1]:" + std::to_string(compliant.port()) + "\n";
  write(dir_ / "list.txt", list);
  std::vector<std::string> pinned{"/usr/bin/taskset", "-c", "0"};
  auto args = scan(dir_ / "list.txt", {"--progress", "never", "--out", (dir_ / "o.jsonl").string()});
  pinned.insert(pinned.end(), args.begin(), args.end());
  auto r = t::run(dir_, pinned, 30s);
  EXPECT_TRUE(has(r.output, "4 probed")) << r.output;
  EXPECT_TRUE(has(r.output, " 1 thread,")) << r.output;
}

// Records to a pipe whose reader has gone: the scan says so, stops probing and exits 2 with
// its summary, instead of dying of SIGPIPE.
TEST_F(ScanCli, AReaderThatGoesAwayStopsTheScanWithAMessage) {
  served compliant("compliant", dir_);
  std::string list;
  for (int i = 0; i < 40; ++i) list += "[127.0.0.1]:" + std::to_string(compliant.port()) + "\n";
  write(dir_ / "list.txt", list);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);  // nobody reads
  fs::path err = dir_ / "scan.err";
  int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = t::spawn(scan(dir_ / "list.txt", {"--progress", "never", "--no-injection-test", "--concurrency", "2"}), "", p[1], fd);
  close(p[1]);
  close(fd);
  auto w = t::wait_for(pid, 30s);
  std::string text = t::slurp(err);
  EXPECT_EQ(w.exit_code, 2) << text;
  EXPECT_TRUE(has(text, "cannot write the records to standard output")) << text;
  EXPECT_TRUE(has(text, "not probed")) << "the summary accounts for the rest: " << text;
}

}  // namespace
