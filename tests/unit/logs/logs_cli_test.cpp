// `mxtls logs` as a user runs it on inputs of several kinds in one run: a plain Postfix log
// beside a journal export (a file) and a journal JSON (standard input), merged in time order;
// the format line and the JSON's input_formats say what each input was read as. The journal
// wrapping is built from systemd's documented formats (https://systemd.io/JOURNAL_EXPORT_FORMATS/);
// the Postfix lines are the forms a real Postfix 3.7 wrote (the logs.postfix test records them).
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "../../integration/process.hpp"

namespace mxtls::logs {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct cli_run {
  int exit_code = -1;
  std::string out, err;
};

// Runs mxtls with `args`, standard input from `stdin_file` (or /dev/null).
cli_run run_mxtls(const fs::path& dir, const std::vector<std::string>& args, const std::string& stdin_file = "") {
  std::vector<std::string> argv{MXTLS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  fs::path out = dir / "out", err = dir / "err";
  int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = test::spawn(argv, stdin_file, o, e);
  close(o);
  close(e);
  test::wait_result w = test::wait_for(pid, std::chrono::seconds(60));  // a guard against a hang, not a timing
  cli_run r;
  r.exit_code = w.timed_out ? -2 : w.exit_code;
  std::ifstream so(out), se(err);
  r.out.assign(std::istreambuf_iterator<char>(so), {});
  r.err.assign(std::istreambuf_iterator<char>(se), {});
  return r;
}

const std::string tls_a =
    "Trusted TLS connection established to mx.a.test[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
const std::string sent_a =
    "64D52A88523: to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=0.1, delays=0.06/0.02/0.03/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)";
const std::string tls_b =
    "Trusted TLS connection established to mx.b.test[192.0.2.2]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
const std::string sent_b =
    "7E55BA88540: to=<y@b.test>, relay=mx.b.test[192.0.2.2]:25, delay=0.1, delays=0.06/0.02/0.03/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)";

class LogsCli : public ::testing::Test {
 protected:
  fs::path dir = fs::temp_directory_path() / ("mxtls-logs-cli-" + std::to_string(getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return (dir / name).string();
  }
};

TEST_F(LogsCli, PlainFileJournalExportAndJournalJsonOnStandardInputInOneRun) {
  setenv("TZ", "UTC", 1);  // journal times in the zone of the plain file's lines (the child inherits it)
  // 2026-12-01T10:00:02Z, 10:00:03Z
  std::string plain = write("mail.log", "Dec  1 10:00:01 client postfix/smtp[7]: " + tls_a + "\n" +
                                            "Dec  1 10:00:04 client postfix/smtp[9]: " + sent_b + "\n");
  std::string exported = write("mail.export",
                               "__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1796119202000000\n_HOSTNAME=client\n"
                               "SYSLOG_IDENTIFIER=postfix/smtp\nSYSLOG_PID=9\nMESSAGE=" + tls_b + "\n");
  std::string json_in = write("mail.json", R"({"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1796119203000000",)"
                                           R"("_HOSTNAME":"client","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"7","MESSAGE":")" +
                                               sent_a + "\"}\n");
  cli_run r = run_mxtls(dir, {"logs", "--json", plain, exported, "-"}, json_in);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["format"], "postfix");
  ASSERT_EQ(doc["input_formats"].size(), 3u) << doc.dump(2);
  EXPECT_EQ(doc["input_formats"][0], json({{"input", plain}, {"format", "postfix"}, {"mtas", json::array()}}));
  EXPECT_EQ(doc["input_formats"][1], json({{"input", exported}, {"format", "journal-export"}, {"mtas", {"postfix"}}}));
  EXPECT_EQ(doc["input_formats"][2], json({{"input", "-"}, {"format", "journal-json"}, {"mtas", {"postfix"}}}));
  EXPECT_EQ(doc["lines"]["not_understood"], 0);
  ASSERT_EQ(doc["destinations"].size(), 2u) << doc.dump(2);
  for (const auto& d : doc["destinations"]) EXPECT_EQ(d["tls"], 1) << d.dump(2);

  cli_run text = run_mxtls(dir, {"logs", plain, exported, "-"}, json_in);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("format    postfix (detected); per input: " + plain + " postfix, " + exported +
                          " journal-export of postfix, - journal-json of postfix\n"),
            std::string::npos)
      << text.out;
  unsetenv("TZ");
}

}  // namespace
}  // namespace mxtls::logs
