// Inputs of different kinds in one run of the log reader: a journal (journalctl -o export or
// -o json) beside plain syslog files, merged in time order as plain files are; journal times
// in the local time of TZ, as the plain files of the same host write them. The journal
// wrapping is built here from systemd's documented formats
// (https://systemd.io/JOURNAL_EXPORT_FORMATS/); the Postfix lines inside and in the plain
// files are the forms a real Postfix 3.7 wrote (tests/integration/logs/postfix_logs_test.cpp
// records them; tests/unit/logs/log_input_test.cpp uses the same).
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "mxtls/logs.hpp"

namespace mxtls::logs {
namespace {

namespace fs = std::filesystem;

// Postfix 3.7's messages (after "postfix/smtp[pid]: ").
std::string tls_to(const std::string& host, const std::string& ip) {
  return "Trusted TLS connection established to " + host + "[" + ip + "]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
}
std::string sent_to(const std::string& qid, const std::string& rcpt, const std::string& host, const std::string& ip) {
  return qid + ": to=<" + rcpt + ">, relay=" + host + "[" + ip + "]:25, delay=0.1, delays=0.06/0.02/0.03/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)";
}

// One journal entry of the export form, its fields in journalctl's order.
std::string export_entry(std::uint64_t usec, const std::string& identifier, int pid, const std::string& message) {
  return "__CURSOR=s=739ad463348b4ceca5a9e69c95a3c93f;i=" + std::to_string(usec % 100000) + "\n__REALTIME_TIMESTAMP=" +
         std::to_string(usec) + "\n__MONOTONIC_TIMESTAMP=21415215982\n_TRANSPORT=syslog\nSYSLOG_IDENTIFIER=" + identifier +
         "\nSYSLOG_PID=" + std::to_string(pid) + "\nMESSAGE=" + message + "\n_PID=" + std::to_string(pid) +
         "\n_HOSTNAME=client\n\n";
}
std::string json_entry(std::uint64_t usec, const std::string& identifier, int pid, const std::string& message) {
  return R"({"__CURSOR" : "s=1;i=)" + std::to_string(usec % 100000) + R"(", "__REALTIME_TIMESTAMP" : ")" + std::to_string(usec) +
         R"(", "_HOSTNAME" : "client", "SYSLOG_IDENTIFIER" : ")" + identifier + R"(", "SYSLOG_PID" : ")" + std::to_string(pid) +
         R"(", "MESSAGE" : ")" + message + "\"}\n";
}

// 2026-12-01T10:00:00Z
constexpr std::uint64_t t0 = 1796119200000000;
constexpr std::uint64_t second = 1000000;

// TZ for the time of a test.
class zone {
 public:
  explicit zone(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~zone() {
    if (old_) setenv("TZ", old_->c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  zone(const zone&) = delete;
  zone& operator=(const zone&) = delete;

 private:
  std::optional<std::string> old_;
};

class MixedInputs : public ::testing::TestWithParam<bool> {
 protected:
  fs::path dir = fs::temp_directory_path() / ("mxtls-mixed-" + std::to_string(getpid()) + "-" +
                                              std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
  bool json_form() const { return GetParam(); }
  std::string entry(std::uint64_t usec, const std::string& identifier, int pid, const std::string& message) const {
    return json_form() ? json_entry(usec, identifier, pid, message) : export_entry(usec, identifier, pid, message);
  }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  static log_summary read(const std::vector<std::string>& paths, bool merge = true) {
    log_reader r;
    read_options o;
    o.merge = merge;
    EXPECT_EQ(read_inputs(paths, r, o).error, "");
    return r.finish();
  }
  static const destination_summary* dest(const log_summary& s, const std::string& domain) {
    for (const auto& d : s.destinations)
      if (d.key.domain == domain) return &d;
    return nullptr;
  }
};

// Each connection's TLS line is in one input and its delivery in the other, both ways: only
// the merge by time joins them.
TEST_P(MixedInputs, AJournalAndAPlainFileMergeInTimeOrder) {
  zone utc("UTC");
  std::string plain = write("mail.log", "Dec  1 10:00:01 client postfix/smtp[7]: " + tls_to("mx.a.test", "192.0.2.1") + "\n" +
                                            "Dec  1 10:00:04 client postfix/smtp[9]: " +
                                            sent_to("7E55BA88540", "y@b.test", "mx.b.test", "192.0.2.2") + "\n");
  std::string journal = write("mail.journal", entry(t0 + 2 * second, "postfix/smtp", 9, tls_to("mx.b.test", "192.0.2.2")) +
                                                  entry(t0 + 3 * second, "postfix/smtp", 7,
                                                        sent_to("64D52A88523", "x@a.test", "mx.a.test", "192.0.2.1")));
  log_summary s = read({plain, journal});
  EXPECT_EQ(s.lines_not_understood, 0u);
  ASSERT_EQ(s.destinations.size(), 2u);
  for (const char* d : {"a.test", "b.test"}) {
    const auto* x = dest(s, d);
    ASSERT_NE(x, nullptr) << d;
    EXPECT_EQ(x->count(attempt_class::tls), 1u) << d << " joined across the inputs";
  }
  // What each input was read as.
  EXPECT_EQ(s.format, log_format::postfix);
  ASSERT_EQ(s.input_formats.size(), 2u);
  EXPECT_EQ(s.input_formats[0].format, log_format::postfix);
  EXPECT_TRUE(s.input_formats[0].mtas.empty());
  EXPECT_EQ(s.input_formats[1].format, json_form() ? log_format::journal_json : log_format::journal_export);
  EXPECT_EQ(s.input_formats[1].mtas, std::vector<log_format>{log_format::postfix});
  std::string text = render_logs_text(s, {"mail.log", "mail.journal"});
  EXPECT_NE(text.find(std::string("format    postfix (detected); per input: mail.log postfix, mail.journal ") +
                      (json_form() ? "journal-json" : "journal-export") + " of postfix\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(logs_exit_code(s), 0);

  // One after the other, the deliveries of the first input find no TLS line of theirs.
  log_summary in_order = read({plain, journal}, false);
  const auto* b = dest(in_order, "b.test");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->count(attempt_class::plaintext), 1u);
}

// Journal times are shown in the zone of TZ, as the host's syslog daemon writes its plain files
// (and journalctl shows them): here one hour east of UTC.
TEST_P(MixedInputs, JournalTimesAreTheLocalTimeOfTz) {
  zone cet("CET-1");
  std::string plain = write("mail.log", "Dec  1 11:00:00 client postfix/smtp[7]: " + tls_to("mx.a.test", "192.0.2.1") + "\n");
  std::string journal = write("mail.journal", entry(t0 + 1 * second, "postfix/smtp", 7,
                                                    sent_to("64D52A88523", "x@a.test", "mx.a.test", "192.0.2.1")));
  log_summary s = read({journal, plain});
  const auto* a = dest(s, "a.test");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->count(attempt_class::tls), 1u) << "10:00:01Z is 11:00:01 here: after the TLS line of 11:00:00";
  ASSERT_EQ(a->samples.size(), 2u);
  EXPECT_EQ(a->samples[1].text, "2026-12-01T11:00:01.000000+01:00 client postfix/smtp[7]: " +
                                    sent_to("64D52A88523", "x@a.test", "mx.a.test", "192.0.2.1"));
}

// A syslog file without years merged with a journal across the turn of the year: its lines
// take the year that puts them nearest the journal's first time.
TEST_P(MixedInputs, ASyslogFileTakesItsYearFromTheJournal) {
  zone utc("UTC");
  constexpr std::uint64_t new_year = 1798761600000000;  // 2027-01-01T00:00:00Z
  std::string journal = write("mail.journal", entry(new_year - 2 * second, "postfix/smtp", 7, tls_to("mx.a.test", "192.0.2.1")));
  std::string plain = write("mail.log", "Jan  1 00:00:02 client postfix/smtp[7]: " +
                                            sent_to("64D52A88523", "x@a.test", "mx.a.test", "192.0.2.1") + "\n");
  log_summary s = read({plain, journal});
  const auto* a = dest(s, "a.test");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->count(attempt_class::tls), 1u) << "Jan 1 of 2027, after the journal's 2026-12-31T23:59:58";
  // The syslog line's time carries that year too: first and last are dated, no note says
  // the log has no year.
  ASSERT_TRUE(a->last.has_value());
  EXPECT_TRUE(a->last->year_known);
  EXPECT_EQ(a->last->t.year, 2027);
  EXPECT_EQ(std::count(s.notes.begin(), s.notes.end(), note_id::no_year), 0);
}

INSTANTIATE_TEST_SUITE_P(Forms, MixedInputs, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "json" : "export"; });

}  // namespace
}  // namespace mxtls::logs
