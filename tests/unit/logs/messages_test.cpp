// A destination's distinct messages (mxtls logs "messages"): the counter itself (exact, then
// a sketch whose error is measured here), and each reader naming the messages of its attempts
// by the MTA's own key: Postfix's queue id, Exim's message id, Sendmail's queue id, the ESA's MID.
// And its senders: the MTAs whose lines attempted it (syslog host, else one per file format).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "mxtls/distinct_count.hpp"
#include "mxtls/esa_lines.hpp"
#include "mxtls/logs.hpp"
#include "mxtls/logs_html.hpp"
#include "reader_test.hpp"

namespace mxtls::logs {
namespace {

using test::dest;
using test::read;

TEST(DistinctCount, ExactUpToItsLimitAndRepeatsCountOnce) {
  distinct_count c;
  EXPECT_EQ(c.count(), 0u);
  for (int round = 0; round < 3; ++round)
    for (std::uint64_t i = 0; i < distinct_count::exact_limit; ++i) c.add(distinct_count::hash_of(i));
  EXPECT_TRUE(c.exact());
  EXPECT_EQ(c.count(), distinct_count::exact_limit);
  c.add(distinct_count::hash_of(std::uint64_t{1}));  // a repeat: still exact
  EXPECT_TRUE(c.exact());
  c.add(distinct_count::hash_of(std::uint64_t{distinct_count::exact_limit}));  // one more distinct: the sketch
  EXPECT_FALSE(c.exact());
  EXPECT_NEAR(static_cast<double>(c.count()), distinct_count::exact_limit + 1.0, 10.0);
}

// The sketch's estimate against the true count, from just over the exact limit to a million;
// the bound is four standard errors (1.04 / sqrt(2048) = 2.3 % each), and a repeat of every
// item changes nothing.
TEST(DistinctCount, SketchEstimateIsWithinItsError) {
  const double se = 1.04 / std::sqrt(double(std::size_t{1} << distinct_count::precision));
  for (std::uint64_t n : {300ull, 1000ull, 5000ull, 20000ull, 100000ull, 1000000ull}) {
    distinct_count c;
    for (std::uint64_t i = 0; i < n; ++i) c.add(distinct_count::hash_of("Q" + std::to_string(i)));
    std::uint64_t once = c.count();
    for (std::uint64_t i = 0; i < n; i += 7) c.add(distinct_count::hash_of("Q" + std::to_string(i)));
    EXPECT_EQ(c.count(), once) << n;
    double error = std::abs(static_cast<double>(once) - static_cast<double>(n)) / static_cast<double>(n);
    EXPECT_LT(error, 4 * se) << n << " counted as " << once;
    EXPECT_LE(c.footprint(), std::size_t{1} << distinct_count::precision) << n;
  }
}

TEST(DistinctCount, CopiesAreIndependent) {
  distinct_count a;
  for (std::uint64_t i = 0; i < 1000; ++i) a.add(distinct_count::hash_of(i));
  distinct_count b = a;
  for (std::uint64_t i = 1000; i < 5000; ++i) b.add(distinct_count::hash_of(i));
  EXPECT_LT(a.count(), 1100u);
  EXPECT_GT(b.count(), 4500u);
  a = b;
  EXPECT_EQ(a.count(), b.count());
}

// Postfix: one status line per recipient, the queue id first. A message to two recipients of
// one domain is two attempts and one message; a deferral and its later delivery, two attempts
// of the same message.
TEST(LogMessages, PostfixQueueIdsAreTheMessages) {
  auto status = [](const std::string& time, const std::string& qid, const std::string& rcpt, const std::string& st) {
    return "Dec 01 " + time + " client postfix/smtp[7]: " + qid + ": to=<" + rcpt +
           ">, relay=mx.a.test[192.0.2.1]:25, delay=0.1, delays=0.06/0.02/0.03/0, dsn=2.0.0, status=" + st;
  };
  log_summary s = read({
      status("10:00:01", "64D52A88523", "x@a.test", "sent (250 2.0.0 Ok)"),
      status("10:00:01", "64D52A88523", "y@a.test", "sent (250 2.0.0 Ok)"),
      status("10:00:02", "7E55BA88540", "x@a.test", "deferred (host mx.a.test[192.0.2.1] said: 451 4.3.0 try later)"),
      status("10:05:02", "7E55BA88540", "x@a.test", "sent (250 2.0.0 Ok)"),
  });
  const destination_summary* d = dest(s, "a.test");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->attempts, 4u);
  EXPECT_EQ(d->messages.count(), 2u);
  EXPECT_TRUE(d->messages.exact());
  EXPECT_EQ(d->attempts_without_message, 0u);
  auto j = nlohmann::json::parse(render_logs_json(s, {"mail.log"}));
  EXPECT_EQ(j["destinations"][0]["messages"], 2);
  EXPECT_EQ(j["destinations"][0]["messages_estimated"], false);
  EXPECT_EQ(j["destinations"][0]["attempts_without_message"], 0);
  EXPECT_NE(render_logs_text(s, {"mail.log"}).find("       4        2 "), std::string::npos) << render_logs_text(s, {"mail.log"});
}

// Over the exact limit the count is the sketch's, said so in the JSON ("messages_estimated")
// and the text ("~").
TEST(LogMessages, ManyMessagesAreEstimatedAndSaidSo) {
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i)
    lines.push_back("Dec 01 10:00:01 client postfix/smtp[7]: " + std::to_string(100000 + i) +
                    "A: to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)");
  log_summary s = read(lines);
  const destination_summary* d = dest(s, "a.test");
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->messages.exact());
  EXPECT_NEAR(static_cast<double>(d->messages.count()), 3000.0, 3000.0 * 0.1);
  auto j = nlohmann::json::parse(render_logs_json(s, {"mail.log"}));
  EXPECT_EQ(j["destinations"][0]["messages_estimated"], true);
  EXPECT_NE(render_logs_text(s, {"mail.log"}).find(" ~"), std::string::npos);
}

// Exim: the message id of each delivery line (two recipients of one message, one domain).
TEST(LogMessages, EximMessageIds) {
  log_summary s = read({
      "2026-12-01 17:14:53 1xYRRN-0006nA-0N => x@tls.test R=scenario T=remote_may H=127.0.0.1 [127.0.0.1]:48800 "
      "X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=no C=\"250 2.0.0 Ok: queued as MXTLS1\"",
      "2026-12-01 17:14:53 1xYRRN-0006nA-0N -> y@tls.test R=scenario T=remote_may H=127.0.0.1 [127.0.0.1]:48800 "
      "X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=no C=\"250 2.0.0 Ok: queued as MXTLS1\"",
      "2026-12-01 17:14:54 1xYRRO-0006nW-09 => x@tls.test R=scenario T=remote_may H=127.0.0.1 [127.0.0.1]:48800 "
      "X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=no C=\"250 2.0.0 Ok: queued as MXTLS2\"",
  });
  const destination_summary* d = dest(s, "tls.test");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->attempts, 3u);
  EXPECT_EQ(d->messages.count(), 2u);
}

// Sendmail: the queue id before "to=".
TEST(LogMessages, SendmailQueueIds) {
  auto to = [](const std::string& qid, const std::string& rcpt) {
    return "2026-12-01T20:30:29.000000+00:00 mta sm-mta[100]: " + qid + ": to=<" + rcpt +
           ">, delay=00:00:01, xdelay=00:00:00, mailer=esmtp, pri=120, relay=mx.example.test. [192.0.2.1], dsn=2.0.0, "
           "stat=Sent (ok)";
  };
  log_summary s = read({to("6B1KUS48000100", "a@example.test"), to("6B1KUS48000100", "b@example.test"),
                        to("6B1KUS48000101", "c@example.test")});
  const destination_summary* d = dest(s, "example.test");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->attempts, 3u);
  EXPECT_EQ(d->messages.count(), 2u);
}

// The ESA: one attempt per delivery connection, which may carry several messages (each
// "Delivery start DCID n MID m"); a message delayed on one connection and delivered on the
// next is one message of two attempts.
TEST(LogMessages, EsaMidsOfEachConnection) {
  std::vector<std::string> lines;
  int second = 0;
  auto put = [&](const esa::line& l) {
    lines.push_back(esa::format_ctime({2026, 12, 1, 10, 0, second++}) + " Info: " + esa::format(l));
  };
  put(esa::message_recipient{6, 5, 0, "mary@a.example"});
  put(esa::message_recipient{7, 5, 0, "joe@a.example"});
  put(esa::message_recipient{8, 5, 0, "sue@a.example"});
  put(esa::new_connection{1, "192.0.2.9", "192.0.2.1", 25});
  put(esa::tls_success{1, "TLSv1.3", "TLS_AES_256_GCM_SHA384"});
  put(esa::delivery_start{1, 6, "0"});
  put(esa::message_done{1, 6, "0"});
  put(esa::delivery_start{1, 7, "0"});
  put(esa::message_done{1, 7, "0"});
  put(esa::delivery_start{1, 8, "0"});
  put(esa::delayed_or_bounced{false, 1, 8, "0", "4.4.0 - Other network problem ('451', ['try later']) []"});
  put(esa::connection_close{1});
  put(esa::new_connection{2, "192.0.2.9", "192.0.2.1", 25});
  put(esa::tls_success{2, "TLSv1.3", "TLS_AES_256_GCM_SHA384"});
  put(esa::delivery_start{2, 8, "0"});
  put(esa::message_done{2, 8, "0"});
  put(esa::connection_close{2});
  log_summary s = read(lines);
  const destination_summary* d = dest(s, "a.example");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->attempts, 2u);
  EXPECT_EQ(d->delivered, 3u);
  EXPECT_EQ(d->messages.count(), 3u);
}

// A destination none of whose lines names a message (an ESA connection refused before any
// delivery): no count, "-" in the text, null in the JSON.
TEST(LogMessages, NoMessageNamedIsNull) {
  std::vector<std::string> lines{esa::format_ctime({2026, 12, 1, 10, 0, 0}) + " Info: " +
                                 esa::format(esa::connection_error{63, "a.example", "192.0.2.1", 25, "Connection refused", "192.0.2.9", "network error"})};
  log_summary s = read(lines);
  ASSERT_EQ(s.destinations.size(), 1u);
  EXPECT_EQ(s.destinations[0].attempts_without_message, 1u);
  auto j = nlohmann::json::parse(render_logs_json(s, {"mail_logs"}));
  EXPECT_TRUE(j["destinations"][0]["messages"].is_null());
}

// Senders: a central syslog file with two Postfix hosts; the destination both reached names
// both, in the JSON, the text (only when the log has more than one sender) and the page,
// whose fix-first list then puts the problem of two senders before the one of one.
TEST(LogSenders, SyslogHostsAreTheSenders) {
  auto line = [](const std::string& host, const std::string& qid, const std::string& rcpt, const std::string& rest) {
    return "Dec 01 10:00:01 " + host + " postfix/smtp[7]: " + qid + ": to=<" + rcpt + ">, " + rest;
  };
  const std::string not_offered =
      "relay=mx.a.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0, dsn=4.7.4, status=deferred (TLS is required, but was not "
      "offered by host mx.a.test[192.0.2.1])";
  const std::string refused =
      "relay=none, delay=0.1, delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to mx.b.test[192.0.2.2]:25: Connection refused)";
  log_summary s = read({
      line("mx-out1", "AAA1", "x@a.test", not_offered),
      line("mx-out2", "AAA1", "y@a.test", not_offered),  // the same queue id on another host: another message
      line("mx-out1", "CCC1", "z@b.test", refused),
      line("mx-out1", "CCC2", "w@b.test", refused),
  });
  const destination_summary* a = dest(s, "a.test");
  const destination_summary* b = dest(s, "b.test");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->messages.count(), 2u);
  EXPECT_EQ(b->messages.count(), 2u);
  ASSERT_EQ(a->senders.size(), 2u);
  EXPECT_EQ(sender_name(a->senders[0]), "mx-out1");
  EXPECT_EQ(sender_name(a->senders[1]), "mx-out2");
  ASSERT_EQ(b->senders.size(), 1u);
  auto j = nlohmann::json::parse(render_logs_json(s, {"maillog"}));
  for (const auto& d : j["destinations"])
    if (d["destination"]["domain"] == "a.test") EXPECT_EQ(d["senders"], nlohmann::json::array({"mx-out1", "mx-out2"}));
  std::string text = render_logs_text(s, {"maillog"});
  EXPECT_NE(text.find("senders: mx-out1, mx-out2"), std::string::npos) << text;
  // Same destinations (1) and messages (2) each: the problem two senders have comes first.
  std::string page = render_logs_html(s, {"maillog"}, {});
  std::size_t two = page.find("<b>2</b> senders: mx-out1, mx-out2"), one = page.find("<b>1</b> senders: mx-out1");
  ASSERT_NE(two, std::string::npos) << page;
  ASSERT_NE(one, std::string::npos);
  EXPECT_LT(two, one) << "the problem two senders have first";
}

// The file forms name no host: every input of one format is one sender (an MTA's rotated
// logs), named by the format; one sender in all, so the text has no senders line.
TEST(LogSenders, FileFormsAreOneSenderPerFormat) {
  log_reader r;
  auto esa_line = [](const esa::line& l, int second) {
    return esa::format_ctime({2026, 12, 1, 10, 0, second}) + " Info: " + esa::format(l);
  };
  r.add_line(esa_line(esa::new_connection{1, "192.0.2.9", "192.0.2.1", 25}, 0), 0, 1);
  r.add_line(esa_line(esa::connection_close{1}, 1), 0, 2);
  r.add_line(esa_line(esa::new_connection{2, "192.0.2.9", "192.0.2.1", 25}, 2), 1, 1);
  r.add_line(esa_line(esa::connection_close{2}, 3), 1, 2);
  log_summary s = r.finish();
  ASSERT_EQ(s.destinations.size(), 1u);
  ASSERT_EQ(s.destinations[0].senders.size(), 1u);
  EXPECT_EQ(sender_name(s.destinations[0].senders[0]), "(esa: no host in the log)");
  EXPECT_EQ(render_logs_text(s, {"mail_logs.1", "mail_logs.2"}).find("senders:"), std::string::npos);
}

// At most max_senders_per_destination are kept; more is said.
TEST(LogSenders, BoundedPerDestination) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < max_senders_per_destination + 4; ++i)
    lines.push_back("Dec 01 10:00:01 h" + std::to_string(i) + " postfix/smtp[7]: Q" + std::to_string(i) +
                    ": to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)");
  log_summary s = read(lines);
  ASSERT_EQ(s.destinations.size(), 1u);
  EXPECT_EQ(s.destinations[0].senders.size(), max_senders_per_destination);
  EXPECT_TRUE(s.destinations[0].senders_cut);
  EXPECT_EQ(nlohmann::json::parse(render_logs_json(s, {"maillog"}))["destinations"][0]["senders_cut"], true);
}

}  // namespace
}  // namespace mxtls::logs
