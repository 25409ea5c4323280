// Microsoft Exchange's SMTP send protocol log and message tracking log read by mxtls logs.
// No Exchange runs here: the logs of tests/unit/logs/exchange/ are built from Microsoft's
// documentation and published log excerpts (that directory's README.md names each source),
// not recorded. What each must give per destination is below.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "logs/exchange_reader.hpp"
#include "mxtls/logs.hpp"

namespace mxtls::logs {
namespace {

std::string logs_dir() { return MXTLS_EXCHANGE_LOGS; }

log_summary read_files(const std::vector<std::string>& names, std::optional<log_format> forced = std::nullopt) {
  log_reader r({}, forced);
  std::vector<std::string> paths;
  for (const auto& n : names) paths.push_back(logs_dir() + "/" + n);
  EXPECT_EQ(read_inputs(paths, r).error, "");
  return r.finish();
}

log_summary read_text(const std::string& text) {
  log_reader r;
  std::istringstream in(text);
  EXPECT_EQ(read_stream(in, r, 0), "");
  return r.finish();
}

const destination_summary* dest(const log_summary& s, const std::string& domain, const std::string& address) {
  for (const auto& d : s.destinations)
    if (d.key.domain == domain && d.key.address == address) return &d;
  return nullptr;
}

std::uint64_t reason(const destination_summary& d, result_type r) { return d.reasons[static_cast<std::size_t>(r)]; }

void expect_send_log_destinations(const log_summary& s) {
  const auto* tls = dest(s, "tls.example", "10.0.0.2:25");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->attempts, 1u);
  EXPECT_EQ(tls->count(attempt_class::tls), 1u);
  EXPECT_EQ(tls->delivered, 1u);
  EXPECT_EQ(tls->tls_versions.count("TLSv1.2 CALG_AES_256"), 1u);
  ASSERT_FALSE(tls->samples.empty());
  EXPECT_NE(tls->samples[0].text.find(",>,STARTTLS,"), std::string::npos) << tls->samples[0].text;

  const auto* plain = dest(s, "plain.example", "192.0.2.10:25");
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->count(attempt_class::plaintext), 1u);
  EXPECT_EQ(plain->delivered, 1u);
  ASSERT_FALSE(plain->samples.empty());
  EXPECT_NE(plain->samples[0].text.find("SIZE 1000000 HELP ENHANCEDSTATUSCODES OK"), std::string::npos) << "the EHLO reply without STARTTLS";

  const auto* refused = dest(s, "", "192.0.2.20:25");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->count(attempt_class::tls_failed), 1u);
  EXPECT_EQ(reason(*refused, result_type::starttls_refused), 1u);
  bool quoted = false;
  for (const auto& l : refused->samples) quoted = quoted || l.text.find("454 4.7.0") != std::string::npos;
  EXPECT_TRUE(quoted);

  const auto* handshake = dest(s, "", "192.0.2.30:25");
  ASSERT_NE(handshake, nullptr);
  EXPECT_EQ(handshake->count(attempt_class::tls_failed), 1u);
  EXPECT_EQ(reason(*handshake, result_type::handshake_failure), 1u);

  const auto* greeting = dest(s, "", "192.0.2.40:25");
  ASSERT_NE(greeting, nullptr);
  EXPECT_EQ(greeting->count(attempt_class::other_failure), 1u);
  EXPECT_EQ(reason(*greeting, result_type::greeting_refused), 1u);

  const auto* rcpt = dest(s, "refused.example", "192.0.2.50:25");
  ASSERT_NE(rcpt, nullptr);
  EXPECT_EQ(rcpt->count(attempt_class::other_failure), 1u);
  EXPECT_EQ(reason(*rcpt, result_type::other), 1u);
}

TEST(ExchangeReader, SendProtocolLogJoinedBySession) {
  log_summary s = read_files({"SEND20261201-1.LOG"});
  EXPECT_EQ(s.format, log_format::exchange);
  EXPECT_FALSE(s.format_forced);
  EXPECT_EQ(s.lines_not_understood, 0u);
  EXPECT_EQ(s.destinations.size(), 6u);
  expect_send_log_destinations(s);
  EXPECT_TRUE(std::find(s.notes.begin(), s.notes.end(), note_id::no_tls_lines) == s.notes.end());
  EXPECT_EQ(logs_exit_code(s), 1);
}

// What the logs cannot show is said in the output whenever an Exchange log is read, and
// only then: no documented line gives the certificate verification result or a send
// connector's words for a required TLS that was not offered.
TEST(ExchangeReader, TheOutputSaysWhatExchangeLogsCannotShow) {
  for (const auto& files : std::vector<std::vector<std::string>>{{"SEND20261201-1.LOG"}, {"MSGTRK20261201-1.LOG"}}) {
    log_summary s = read_files(files);
    ASSERT_NE(std::find(s.notes.begin(), s.notes.end(), note_id::exchange_unseen), s.notes.end()) << files[0];
    std::string text = render_logs_text(s, files);
    EXPECT_NE(text.find("note: Exchange's logs do not show whether the remote certificate was verified"), std::string::npos) << text;
    EXPECT_NE(render_logs_json(s, files).find("\"id\": \"exchange-unseen\""), std::string::npos);
    for (const auto& d : s.destinations) EXPECT_EQ(d.verified, 0u);
  }
  log_reader postfix;
  postfix.add_line("Dec  1 10:00:02 client postfix/smtp[7]: 64D52A88523: to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, "
                   "delay=0.1, delays=0.06/0.02/0.03/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
                   0, 1);
  log_summary p = postfix.finish();
  EXPECT_EQ(std::find(p.notes.begin(), p.notes.end(), note_id::exchange_unseen), p.notes.end());
}

TEST(ExchangeReader, MessageTrackingLogAloneCannotShowTls) {
  log_summary s = read_files({"MSGTRK20261201-1.LOG"});
  EXPECT_EQ(s.format, log_format::exchange);
  EXPECT_EQ(s.lines_not_understood, 0u);
  // SEND: delivered, TLS unknown (the tracking log has no field for it); FAIL, DEFER: failed.
  const auto* tls = dest(s, "tls.example", "10.0.0.2");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->key.mx_host, "mx.tls.example");
  EXPECT_EQ(tls->count(attempt_class::unknown), 1u);
  const auto* other = dest(s, "other.example", "192.0.2.77");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->attempts, 2u) << "one attempt per recipient of the row";
  EXPECT_EQ(other->delivered, 2u);
  const auto* failed = dest(s, "failed.example", "192.0.2.88");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->count(attempt_class::other_failure), 1u);
  const auto* late = dest(s, "late.example", "");
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->count(attempt_class::other_failure), 1u);
  EXPECT_EQ(s.destinations.size(), 4u) << "RECEIVE and STOREDRIVER DELIVER rows are not SMTP deliveries";
  EXPECT_TRUE(std::find(s.notes.begin(), s.notes.end(), note_id::no_tls_lines) != s.notes.end());
}

// Both logs of one server in one run, merged by time: the tracking row of a message the send
// log's session named (InternetMessageId) is that session's delivery, not a second one.
TEST(ExchangeReader, BothLogsJoinedByInternetMessageId) {
  // The send log first: lines of the same second are taken from the first input given.
  log_summary s = read_files({"SEND20261201-1.LOG", "MSGTRK20261201-1.LOG"});
  EXPECT_EQ(s.lines_not_understood, 0u);
  expect_send_log_destinations(s);
  EXPECT_EQ(dest(s, "tls.example", "10.0.0.2"), nullptr) << "the SEND row of <m1@…> is the session's delivery";
  ASSERT_NE(dest(s, "other.example", "192.0.2.77"), nullptr);
  EXPECT_EQ(s.destinations.size(), 9u);
  EXPECT_TRUE(std::find(s.notes.begin(), s.notes.end(), note_id::no_tls_lines) == s.notes.end());
}

TEST(ExchangeReader, DetectedAndForced) {
  EXPECT_EQ(detect_format("#Software: Microsoft Exchange Server"), log_format::exchange);
  EXPECT_EQ(detect_format("#Log-Type: Message Tracking Log"), log_format::exchange);
  EXPECT_EQ(parse_log_format("exchange"), log_format::exchange);
  EXPECT_STREQ(to_string(log_format::exchange), "exchange");
  // A file without #Software and #Log-Type: its #Fields say which log it is.
  log_summary s = read_files({"SEND20261201-1.LOG"}, log_format::exchange);
  EXPECT_TRUE(s.format_forced);
  expect_send_log_destinations(s);
  log_summary f = read_text(
      "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context\n"
      "2026-12-01T10:00:01.010Z,c,S1,0,10.0.0.1:1,192.0.2.9:25,+,,\n"
      "2026-12-01T10:00:01.020Z,c,S1,1,10.0.0.1:1,192.0.2.9:25,<,421 4.3.2 busy,\n"
      "2026-12-01T10:00:01.030Z,c,S1,2,10.0.0.1:1,192.0.2.9:25,-,,Remote\n");
  EXPECT_EQ(f.format, log_format::unknown) << "not detected without its header";
}

TEST(ExchangeReader, BadLinesAreCountedNotUnderstood) {
  std::string head =
      "#Software: Microsoft Exchange Server\n#Log-Type: SMTP Send Protocol Log\n"
      "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context\n";
  log_summary s = read_text(head +
                            "not a time,c,S1,0,,,+,,\n"                       // no time
                            "2026-12-01T10:00:01.010Z,c,,0,,,+,,\n"            // no session
                            "2026-12-01T10:00:01.010Z,c,S2,0,,,<,\"open quote\n"  // quote not closed
                            "2026-12-01T10:00:01.010Z,c,S3,0,,192.0.2.1:25,+,,\n");
  EXPECT_EQ(s.lines_not_understood, 3u);
  EXPECT_EQ(s.not_understood_samples.size(), 3u);
  // Lines before any #Fields header.
  log_summary n = read_text("#Software: Microsoft Exchange Server\n2026-12-01T10:00:01.010Z,c,S1,0,,,+,,\n");
  EXPECT_EQ(n.lines_not_understood, 1u);
  // Every cut of the send log is safe, and never more attempts than the whole gives.
  std::ifstream in(logs_dir() + "/SEND20261201-1.LOG", std::ios::binary);
  std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t cut = 0; cut < whole.size(); cut += 7) {
    log_summary c = read_text(whole.substr(0, cut));
    std::uint64_t attempts = 0;
    for (const auto& d : c.destinations) attempts += d.attempts;
    EXPECT_LE(attempts, 6u) << cut;
  }
}

TEST(ExchangeReader, CsvFields) {
  std::vector<std::string> v;
  ASSERT_TRUE(exchange::split_csv(R"(a,"b,c","d ""e""",,f)", v));
  EXPECT_EQ(v, (std::vector<std::string>{"a", "b,c", "d \"e\"", "", "f"}));
  EXPECT_FALSE(exchange::split_csv(R"(a,"b)", v));
}

}  // namespace
}  // namespace mxtls::logs
