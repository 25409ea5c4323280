// `mxtls tlsrpt` as a user runs it: the program on report files, gzip files, mails and standard
// input, each exit code of docs/exit-codes.md with the words that say why. The reports are
// tests/conformance/tlsrpt/*.json; the gzip and mail forms are made here with gzip(1) and
// base64(1), as a reporter sends them (RFC 8460 §5.3: application/tlsrpt+gzip in a mail).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "served.hpp"

namespace {

namespace fs = std::filesystem;
namespace t = mxtls::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

const fs::path reports = fs::path(MXTLS_SOURCE_DIR) / "tests/conformance/tlsrpt";

class TlsRptCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mxtls-tlsrpt-cli-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  t::client_run tlsrpt(std::vector<std::string> args, const std::string& stdin_file = "") {
    std::vector<std::string> argv{MXTLS_BINARY, "tlsrpt"};
    argv.insert(argv.end(), args.begin(), args.end());
    return t::run(dir_, argv, 30s, stdin_file);
  }
  // `cmd` in /bin/sh, in the test's directory; its exit code 0 is asserted by the caller.
  int sh(const std::string& cmd) { return t::run(dir_, {"/bin/sh", "-c", "cd '" + dir_.string() + "' && " + cmd}, 30s).exit_code; }

  // A mail carrying `file` as one base64 part of type `type` (application/tlsrpt+gzip: the
  // file is gzipped first).
  fs::path mail(const fs::path& file, const std::string& type, const std::string& name) {
    std::string body = dir_ / (name + ".part");
    std::string src = type == "application/tlsrpt+gzip" ? "gzip -c '" + file.string() + "'" : "cat '" + file.string() + "'";
    EXPECT_EQ(sh(src + " | base64 > '" + body + "'"), 0);
    fs::path eml = dir_ / (name + ".eml");
    std::ofstream(eml, std::ios::binary) << "From: noreply-smtp-tls-reporting@reporter.example\r\n"
                                            "To: tlsrpt@example.com\r\nSubject: Report Domain: example.com\r\n"
                                            "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary=\"b1\"\r\n\r\n"
                                            "--b1\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate TLS report.\r\n"
                                            "--b1\r\nContent-Type: " << type << "\r\nContent-Transfer-Encoding: base64\r\n"
                                            "Content-Disposition: attachment; filename=\"report\"\r\n\r\n"
                                         << t::slurp(body) << "\r\n--b1--\r\n";
    return eml;
  }

  fs::path dir_;
};

TEST_F(TlsRptCli, ReportsWithoutFailuresExitZero) {
  auto r = tlsrpt({(reports / "clean.json").string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 valid report"), std::string::npos) << r.output;
  auto m = tlsrpt({mail(reports / "clean.json", "application/tlsrpt+json", "clean").string()});
  EXPECT_EQ(m.exit_code, 0) << m.output;
}

TEST_F(TlsRptCli, FailedSessionsExitOne) {
  fs::path json_file = reports / "sts-google-style.json";
  ASSERT_EQ(sh("gzip -c '" + json_file.string() + "' > google.json.gz"), 0);
  for (const fs::path& f : {json_file, dir_ / "google.json.gz", mail(json_file, "application/tlsrpt+gzip", "google-gzip"),
                            mail(json_file, "application/tlsrpt+json", "google-json")}) {
    SCOPED_TRACE(f.string());
    auto r = tlsrpt({f.string()});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("certificate-host-mismatch"), std::string::npos) << r.output;
  }
  // The same from standard input ("-", and no file at all).
  auto dash = tlsrpt({"-"}, json_file.string());
  EXPECT_EQ(dash.exit_code, 1) << dash.output;
  auto none = tlsrpt({}, (dir_ / "google.json.gz").string());
  EXPECT_EQ(none.exit_code, 1) << none.output;
  // JSON output: the same counts, the same code.
  auto j = tlsrpt({json_file.string(), "--format", "json"});
  EXPECT_EQ(j.exit_code, 1);
  json doc = json::parse(j.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << j.output;
}

TEST_F(TlsRptCli, UnreadableOrInvalidInputExitsFourAndSaysWhy) {
  std::ofstream(dir_ / "words.txt") << "just some words\n";
  std::ofstream(dir_ / "cut.json") << "{\"organization-name\": ";
  std::ofstream(dir_ / "incomplete.json") << "{\"policies\": []}";
  std::ofstream(dir_ / "hello.eml") << "From: a@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nhi\r\n";
  std::ofstream(dir_ / "empty");
  ASSERT_EQ(sh("gzip -c '" + (reports / "sts-google-style.json").string() + "' | head -c 100 > cut.json.gz"), 0);
  for (const std::string f : {"words.txt", "cut.json", "incomplete.json", "hello.eml", "cut.json.gz"}) {
    SCOPED_TRACE(f);
    auto r = tlsrpt({(dir_ / f).string()});
    EXPECT_EQ(r.exit_code, 4) << r.output;
    // Counted and listed with the input's name, never dropped silently.
    EXPECT_NE(r.output.find("Input: 1 file"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find((dir_ / f).string() + ": "), std::string::npos) << r.output;
  }
  // Empty standard input is an input without a report.
  auto e = tlsrpt({"-"}, (dir_ / "empty").string());
  EXPECT_EQ(e.exit_code, 4) << e.output;
  EXPECT_NE(e.output.find("<stdin>: unreadable"), std::string::npos) << e.output;
  // 4 wins over 1: a good report with failures and an unreadable one; both are counted.
  auto both = tlsrpt({(reports / "sts-google-style.json").string(), (dir_ / "words.txt").string()});
  EXPECT_EQ(both.exit_code, 4) << both.output;
  EXPECT_NE(both.output.find("Input: 2 files, 1 valid report"), std::string::npos) << both.output;
  // Over --max-input: an input over the limit is not read as a report.
  auto big = tlsrpt({(reports / "sts-google-style.json").string(), "--max-input", "64"});
  EXPECT_EQ(big.exit_code, 4) << big.output;
}

TEST_F(TlsRptCli, MissingFileAndBadUsageExitTwo) {
  auto r = tlsrpt({(dir_ / "no-such-report.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("mxtls tlsrpt: cannot open '" + (dir_ / "no-such-report.json").string() + "': No such file or directory"),
            std::string::npos)
      << r.output;
  auto f = tlsrpt({(reports / "clean.json").string(), "--format", "xml"});
  EXPECT_EQ(f.exit_code, 2) << f.output;
  // A directory is not a report file.
  auto d = tlsrpt({dir_.string()});
  EXPECT_EQ(d.exit_code, 2) << d.output;
}

}  // namespace
