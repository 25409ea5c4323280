// A destination's distinct messages (mxtls logs "messages"): the counter itself (exact, then
// a sketch whose error is measured here), and each reader naming the messages of its attempts
// by the MTA's own key: Postfix's queue id, Exim's message id, Sendmail's queue id, the ESA's MID.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "mxtls/distinct_count.hpp"
#include "mxtls/esa_lines.hpp"
#include "mxtls/logs.hpp"
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

}  // namespace
}  // namespace mxtls::logs
