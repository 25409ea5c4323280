// journald's forms read by mxtls logs: the Journal Export Format and the Journal JSON Format
// as systemd documents them (https://systemd.io/JOURNAL_EXPORT_FORMATS/). The entries are
// built here from that documented form; the Postfix lines inside are lines a real Postfix 3.7
// wrote (tests/unit/logs/log_input_test.cpp, the logs.postfix test's forms). Then the
// export decoder on broken input, fuzz-corpus style: every cut of a valid stream, every
// octet of it changed, sizes that run past the end; each gives counted lines not
// understood, never a crash, and the entries before the damage are read.
#include <gtest/gtest.h>

#include <sstream>

#include "logs/journal_input.hpp"
#include "mxtls/logs.hpp"
#include "reader_test.hpp"

namespace mxtls::logs {
namespace {

using test::dest;


const char* const tls_line =
    "Trusted TLS connection established to mx.a.test[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
    "key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";
const char* const sent_line =
    "64D52A88523: to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=0.1, delays=0.02/0.01/0.04/0.03, dsn=2.0.0, status=sent "
    "(250 2.0.0 Ok: queued as 1)";
const char* const deferred_line =
    "7E55BA88540: to=<y@b.test>, relay=mx.b.test[192.0.2.2]:25, delay=0.1, delays=0/0/0.05/0, dsn=4.7.4, status=deferred (TLS "
    "is required, but was not offered by host mx.b.test[192.0.2.2])";

std::string binary_field(const std::string& name, const std::string& data, std::uint64_t size) {
  std::string f = name + "\n";
  for (int i = 0; i < 8; ++i) f += static_cast<char>((size >> (8 * i)) & 0xff);
  return f + data + "\n";
}
std::string binary_field(const std::string& name, const std::string& data) { return binary_field(name, data, data.size()); }

std::string export_entry(std::uint64_t usec, const std::string& pid, const std::string& message_field) {
  return "__CURSOR=s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7\n__REALTIME_TIMESTAMP=" + std::to_string(usec) +
         "\n__MONOTONIC_TIMESTAMP=21415215982\n_BOOT_ID=6c7c6013a26343b29e964691ff25d04c\n_TRANSPORT=syslog\nPRIORITY=6\n"
         "SYSLOG_FACILITY=2\nSYSLOG_IDENTIFIER=postfix/smtp\nSYSLOG_PID=" +
         pid + "\n" + message_field + "_PID=" + pid + "\n_COMM=smtp\n_HOSTNAME=client\n";
}

// 2026-12-01T10:00:01Z and on.
constexpr std::uint64_t t0 = 1796119201000000;

// Three entries: the TLS line (text), the delivery (binary MESSAGE), the deferral of another
// process (text); the last without an empty line after it, as journalctl writes it.
std::string valid_export() {
  return export_entry(t0, "7", "MESSAGE=" + std::string(tls_line) + "\n") + "\n" +
         export_entry(t0 + 1000000, "7", binary_field("MESSAGE", sent_line)) + "\n" +
         export_entry(t0 + 2000000, "9", "MESSAGE=" + std::string(deferred_line) + "\n");
}

log_summary read_text(const std::string& text, std::optional<log_format> forced = std::nullopt) {
  log_reader r({}, forced);
  std::istringstream in(text);
  EXPECT_EQ(read_stream(in, r, 0), "");
  return r.finish();
}

void expect_two_destinations(const log_summary& s) {
  EXPECT_EQ(s.lines, 3u);
  EXPECT_EQ(s.lines_not_understood, 0u);
  ASSERT_EQ(s.destinations.size(), 2u);
  const auto* a = dest(s, "a.test");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->count(attempt_class::tls), 1u);
  EXPECT_EQ(a->key.address, "192.0.2.1:25");
  EXPECT_EQ(a->tls_versions.count("TLSv1.3 TLS_AES_256_GCM_SHA384"), 1u);
  ASSERT_TRUE(a->first);
  EXPECT_TRUE(a->first->year_known);
  EXPECT_EQ(a->first->t.year, 2026);
  EXPECT_EQ(a->first->t.second, 2);
  const auto* b = dest(s, "b.test");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->count(attempt_class::tls_failed), 1u);
  EXPECT_EQ(b->reasons[static_cast<std::size_t>(result_type::starttls_not_supported)], 1u);
}

TEST(JournalInput, ExportEntriesAreReadByThePostfixRules) {
  log_summary s = read_text(valid_export());
  EXPECT_EQ(s.format, log_format::journal_export);
  EXPECT_FALSE(s.format_forced);
  expect_two_destinations(s);
  // The evidence is the line the entry describes, at the line of its MESSAGE field.
  const auto* a = dest(s, "a.test");
  ASSERT_EQ(a->samples.size(), 2u);
  EXPECT_EQ(a->samples[0].text, std::string("2026-12-01T10:00:01.000000+00:00 client postfix/smtp[7]: ") + tls_line);
  EXPECT_EQ(a->samples[0].line, 10u);
  EXPECT_EQ(a->samples[1].line, 14u + 10u);  // the binary field's name line, in the second entry
}

TEST(JournalInput, JsonEntriesAreReadByThePostfixRules) {
  std::string bytes;
  for (unsigned char c : std::string(sent_line)) bytes += (bytes.empty() ? "" : ",") + std::to_string(c);
  std::string text =
      R"({"__CURSOR":"s=1;i=1","__REALTIME_TIMESTAMP":")" + std::to_string(t0) +
      R"(","_HOSTNAME":"client","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"7","_PID":"7","MESSAGE":")" + tls_line + "\"}\n" +
      R"({"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":")" + std::to_string(t0 + 1000000) +
      R"(","_HOSTNAME":"client","SYSLOG_IDENTIFIER":["postfix/smtp","postfix/smtp"],"_PID":"7","MESSAGE":[)" + bytes + "]}\n" +
      R"({"__CURSOR":"s=1;i=3","__REALTIME_TIMESTAMP":")" + std::to_string(t0 + 2000000) +
      R"(","_HOSTNAME":"client","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"9","MESSAGE":")" + deferred_line + "\"}\n";
  log_summary s = read_text(text);
  EXPECT_EQ(s.format, log_format::journal_json);
  expect_two_destinations(s);
  // A field too large for the serializer is null; an entry without MESSAGE says nothing.
  log_summary n = read_text(R"({"__CURSOR":"s","__REALTIME_TIMESTAMP":"1","MESSAGE":null})" "\n");
  EXPECT_EQ(n.lines, 1u);
  EXPECT_EQ(n.lines_not_understood, 0u);
  EXPECT_EQ(n.lines_other, 1u);
}

TEST(JournalInput, DetectedAndForced) {
  EXPECT_EQ(detect_format("__CURSOR=s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7"), log_format::journal_export);
  EXPECT_EQ(detect_format(R"({"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1"})"), log_format::journal_json);
  EXPECT_EQ(parse_log_format("journal-export"), log_format::journal_export);
  EXPECT_EQ(parse_log_format("journal-json"), log_format::journal_json);
  EXPECT_STREQ(to_string(log_format::journal_export), "journal-export");
  // Forced: an export stream that does not open with __CURSOR (the metadata is optional).
  std::string e = valid_export();
  e = e.substr(e.find('\n') + 1);
  log_summary s = read_text(e, log_format::journal_export);
  EXPECT_TRUE(s.format_forced);
  expect_two_destinations(s);
  // A plain Postfix log is not read as a journal.
  log_summary p = read_text("Dec  1 10:00:01 client postfix/smtp[7]: " + std::string(tls_line) + "\n");
  EXPECT_EQ(p.format, log_format::postfix);
}

// A binary field whose data holds newlines and whose size's first octet is '\n' (10).
TEST(JournalInput, BinaryFieldsWithNewlinesAndAnEmptyLineInsideTheirSize) {
  std::string ten = "ab\n\ncd\nefg";  // 10 octets: the size's first octet is '\n'
  std::string text = export_entry(t0, "7", binary_field("OTHER", ten) + "MESSAGE=" + std::string(tls_line) + "\n") + "\n\n\n" +
                     export_entry(t0 + 1000000, "7", binary_field("MESSAGE", std::string(sent_line) + "\nsecond line")) + "\n" +
                     export_entry(t0 + 2000000, "9", binary_field("EMPTY", "") + "MESSAGE=" + deferred_line + "\n") + "\n";
  log_summary s = read_text(text);
  expect_two_destinations(s);
}

struct damaged {
  const char* name;
  std::string text;
  std::uint64_t entries_read;  // whole entries before (or after) the damage
};

TEST(JournalInput, DamagedExportIsCountedNotUnderstood) {
  std::string good = valid_export();
  std::string first = export_entry(t0, "7", "MESSAGE=" + std::string(tls_line) + "\n");
  std::vector<damaged> cases = {
      {"size past the end", first + "\n" + export_entry(t0, "7", binary_field("MESSAGE", "short", 1000)), 1},
      {"size cut", first + "\n__REALTIME_TIMESTAMP=1\nMESSAGE\n\x05\x00\x00", 1},
      {"huge size, then a good entry", first + "\n" + export_entry(t0, "7", binary_field("MESSAGE", "x", 1ull << 62)) + "\n" + first, 2},
      {"size too small", first + "\n" + export_entry(t0, "7", binary_field("MESSAGE", "longer data", 3)) + "\n" + first, 2},
      {"not a field", first + "\nlower=case\n" + first, 1},
      {"garbage", first + "\n\x01\x02\x03 garbage \xff\n" + first, 1},
      {"timestamp not a number", first + "\n__REALTIME_TIMESTAMP=soon\nMESSAGE=x\n\n" + first, 2},
      {"no timestamp", first + "\nMESSAGE=x\nSYSLOG_IDENTIFIER=postfix/smtp\n", 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    log_summary s = read_text(c.text, log_format::journal_export);
    EXPECT_GE(s.lines_not_understood, 1u);
    ASSERT_FALSE(s.not_understood_samples.empty());
    EXPECT_EQ(s.not_understood_samples[0].text.rfind("journal export entry", 0), 0u) << s.not_understood_samples[0].text;
    EXPECT_EQ(s.lines - s.lines_not_understood, c.entries_read);
    EXPECT_TRUE(std::find(s.notes.begin(), s.notes.end(), note_id::lines_not_understood) != s.notes.end());
  }
}

// Fuzz-corpus style: every prefix of a valid stream, and the stream with each octet in turn
// replaced by a few values; no crash, every line counted, at most what the whole stream had.
TEST(JournalInput, EveryCutAndEveryChangedOctetIsSafe) {
  std::string good = valid_export();
  for (std::size_t cut = 0; cut <= good.size(); ++cut) {
    log_summary s = read_text(good.substr(0, cut), log_format::journal_export);
    EXPECT_LE(s.lines, 3u) << cut;
    EXPECT_LE(s.lines_not_understood, s.lines) << cut;
    std::uint64_t attempts = 0;
    for (const auto& d : s.destinations) attempts += d.attempts;
    EXPECT_LE(attempts, 2u) << cut;
  }
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (char v : {'\n', '\0', '=', '\xff', 'A'}) {
      std::string bad = good;
      bad[at] = v;
      log_summary s = read_text(bad, log_format::journal_export);
      EXPECT_LE(s.lines_not_understood, s.lines) << at;
      EXPECT_LE(s.not_understood_samples.size(), 5u);
    }
  }
}

TEST(JournalInput, DamagedJsonIsCountedNotUnderstood) {
  std::string ok = R"({"__CURSOR":"s=1","__REALTIME_TIMESTAMP":")" + std::to_string(t0) +
                   R"(","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"7","MESSAGE":")" + tls_line + "\"}";
  for (const std::string& bad : {std::string(R"({"__CURSOR":"s=1","MESSAGE":"x"})"), ok.substr(0, ok.size() / 2),
                                 std::string(R"({"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"x","MESSAGE":"y"})"),
                                 std::string(R"(["__CURSOR"])"), std::string(R"({"__CURSOR":"s","__REALTIME_TIMESTAMP":"1","MESSAGE":[1,300]})")}) {
    SCOPED_TRACE(bad);
    log_summary s = read_text(ok + "\n" + bad + "\n", log_format::journal_json);
    EXPECT_EQ(s.lines, 2u);
    if (bad.find("300") != std::string::npos) {
      EXPECT_EQ(s.lines_not_understood, 0u);  // a MESSAGE that is no octet array: an entry without MESSAGE
      continue;
    }
    EXPECT_EQ(s.lines_not_understood, 1u);
    ASSERT_EQ(s.not_understood_samples.size(), 1u);
    EXPECT_EQ(s.not_understood_samples[0].line, 2u);
  }
  // Every prefix of an entry line.
  for (std::size_t cut = 0; cut < ok.size(); ++cut) {
    log_summary s = read_text(ok.substr(0, cut) + "\n", log_format::journal_json);
    EXPECT_LE(s.lines_not_understood, 1u);
  }
}

TEST(JournalInput, SyslogLineFromTheFields) {
  journal::entry e;
  e.realtime = t0 + 123456;
  e.hostname = "client";
  e.identifier = "postfix/smtp";
  e.pid = 7;
  e.message = "x";
  EXPECT_EQ(journal::syslog_line(e), "2026-12-01T10:00:01.123456+00:00 client postfix/smtp[7]: x");
  e.pid = 0;
  e.hostname.clear();
  EXPECT_EQ(journal::syslog_line(e), "2026-12-01T10:00:01.123456+00:00 - postfix/smtp: x");
}

}  // namespace
}  // namespace mxtls::logs
