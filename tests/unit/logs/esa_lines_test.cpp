// The ESA mail_logs grammar both ways (include/mxtls/esa_lines.hpp): every fact the
// formatter writes parses back to the same fact, every published example line parses and is
// written back as the same text, ctime stamps both ways; and the log reader's classes for
// connections written with the grammar.
#include <gtest/gtest.h>

#include <random>

#include "mxtls/esa_lines.hpp"
#include "mxtls/logs.hpp"

namespace mxtls::esa {
namespace {

// Values a field can hold as the appliance writes it (no field holds a line ending).
std::vector<line> sample_facts() {
  std::vector<line> v;
  for (std::uint64_t dcid : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{63}, std::uint64_t{4294967296}}) {
    v.push_back(new_connection{dcid, "10.10.192.50", "10.13.101.31", 25});
    v.push_back(new_connection{dcid, "127.0.0.1", "::1", 2525});
    v.push_back(new_connection{dcid, "172.19.0.11", "63.251.108.110", 0});  // [UG]: no port
    v.push_back(tls_success{dcid, "TLSv1.2", "ECDHE-RSA-AES256-SHA384"});
    v.push_back(tls_success{dcid, "TLSv1.3", "TLS_AES_256_GCM_SHA384"});
    v.push_back(tls_success{dcid, "", ""});  // the bare older form
    v.push_back(starttls_not_supported{dcid});
    v.push_back(tls_failed{dcid, "STARTTLS unexpected response"});
    v.push_back(tls_failed{dcid, ""});
    v.push_back(tls_failed{dcid, "Error in TLS negotiation: (1, 'error:0A000410:SSL routines::sslv3 alert handshake failure')"});
    v.push_back(tls_required_failed{dcid, "204.15.82.140"});
    v.push_back(connection_error{dcid, "example.com", "10.13.101.31", 25, "[Errno 0] Error", "10.10.192.50", "network error"});
    v.push_back(connection_error{dcid, "a.example", "192.0.2.1", 2525, "timeout", "192.0.2.9", ""});
    v.push_back(connection_error{dcid, "x.test", "192.0.2.1", 25, "details: interface: inside", "192.0.2.9", "network error"});
    v.push_back(delivery_start{dcid, 14, "0"});
    v.push_back(delivery_start{dcid, 0, "0, 1, 2"});
    v.push_back(message_done{dcid, 14, "0"});
    v.push_back(message_done{dcid, 99999999, "0, 1"});
    v.push_back(delayed_or_bounced{false, dcid, 10800, "0", "4.4.0 - Other network problem (['connection refused'])"});
    v.push_back(delayed_or_bounced{true, dcid, 4, "0", "5.1.0 - Unknown address error ('550', ['<a@b>... Relaying denied']) []"});
    v.push_back(delayed_or_bounced{true, dcid, 4, "3", ""});
    v.push_back(connection_close{dcid});
  }
  v.push_back(message_recipient{6, 5, 0, "mary@yourdomain.com"});
  v.push_back(message_recipient{200257070, 282204970, 12, "user@example.com"});
  v.push_back(message_finished{2317877});
  return v;
}

std::string name_of(const line& l) {
  static const char* names[] = {"new_connection",   "tls_success",    "starttls_not_supported", "tls_failed",
                                "tls_required_failed", "connection_error", "delivery_start",      "message_done",
                                "delayed_or_bounced", "connection_close", "message_recipient", "message_finished"};
  return names[l.index()];
}

TEST(EsaLines, EveryFormattedFactParsesBackToTheSameFact) {
  std::size_t forms_seen = 0;
  std::vector<bool> seen(std::variant_size_v<line>, false);
  for (const line& fact : sample_facts()) {
    std::string text = format(fact);
    SCOPED_TRACE(name_of(fact) + ": " + text);
    std::optional<line> back = parse(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->index(), fact.index());
    EXPECT_TRUE(*back == fact);
    EXPECT_EQ(dcid_of(*back), dcid_of(fact));
    EXPECT_EQ(format(*back), text);
    if (!seen[fact.index()]) seen[fact.index()] = true, ++forms_seen;
  }
  EXPECT_EQ(forms_seen, std::variant_size_v<line>) << "a line form of the grammar has no sample";
}

// Numbers and words drawn at random (fixed seed): the round trip holds for any value a field
// of each form can take.
TEST(EsaLines, RoundTripHoldsForDrawnValues) {
  std::mt19937_64 rng(13);
  auto num = [&] { return rng() % 2 ? rng() % 1000 : rng(); };
  auto word = [&] {
    static const std::string chars = "abcdefghijklmnopqrstuvwxyz0123456789.-:_[]()'";
    std::string w;
    for (std::size_t n = 1 + rng() % 20; n > 0; --n) w += chars[rng() % chars.size()];
    return w;
  };
  auto text = [&] {
    std::string t = word();
    for (std::size_t n = rng() % 5; n > 0; --n) t += " " + word();
    return t;
  };
  for (int i = 0; i < 2000; ++i) {
    std::vector<line> facts = {
        new_connection{num(), word(), word(), static_cast<unsigned>(1 + rng() % 65535)},
        tls_success{num(), word(), word()},
        starttls_not_supported{num()},
        tls_failed{num(), text()},
        tls_required_failed{num(), word()},
        connection_error{num(), word(), word(), static_cast<unsigned>(rng() % 65536), text(), word(), text()},
        delivery_start{num(), num(), std::to_string(num())},
        message_done{num(), num(), std::to_string(num()) + ", " + std::to_string(num())},
        delayed_or_bounced{rng() % 2 == 0, num(), num(), std::to_string(num()), text()},
        connection_close{num()},
        message_recipient{num(), num(), num(), word() + "@" + word()},
        message_finished{num()},
    };
    for (const line& fact : facts) {
      std::string t = format(fact);
      std::optional<line> back = parse(t);
      ASSERT_TRUE(back.has_value()) << t;
      ASSERT_TRUE(*back == fact) << t << " read back as " << format(*back);
    }
  }
}

// Lines as the cited sources print them (src/logs/esa_lines.cpp names each source).
TEST(EsaLines, PublishedLinesParseAndAreWrittenBackAsTheyWere) {
  for (std::string_view published : {
           "New SMTP DCID 5 interface 172.19.0.11 address 63.251.108.110",                     // [UG]
           "New SMTP DCID 7436 interface 10.10.1.12 address 10.10.1.25 port 25",                // [TN212837]
           "New SMTP DCID 30 interface 10.13.102.10 address 10.13.101.31 port 25",              // [QA]
           "DCID 30 TLS success protocol TLSv1.2 cipher ECDHE-RSA-AES256-SHA384",               // [QA]
           "Connection Error: DCID 63 domain: domainsample2.com IP: 10.13.101.31 port: 25 details: [Errno 0] Error "
           "interface: 10.10.192.50 reason: network error",                                     // [QA]
           "DCID 80167 TLS failed: STARTTLS unexpected response",                               // [S2W]
           "DCID 8 IP 204.15.82.140 TLS was required but could not be successfully negotiated",  // [S2W]
           "Delivery start DCID 5 MID 4 to RID [0]",                                            // [UG]
           "Message done DCID 5 MID 4 to RID [0]",                                              // [UG]
           "Bounced: DCID 3 MID 4 to RID 0 - 5.1.0 - Unknown address error ('550', ['<a@b>... Relaying denied']) []",  // [UG]
           "DCID 5 close",                                                                      // [UG]
           "DCID 123 STARTTLS command not supported.",                                          // [SEED]
           "MID 6 ICID 5 RID 0 To: <mary@yourdomain.com>",                                      // [TN118232]
           "MID 200257070 ICID 282204970 RID 0 To: <user@example.com>",                         // [UG]
           "Message finished MID 2317877 done",                                                 // [UG]
       }) {
    SCOPED_TRACE(std::string(published));
    std::optional<line> l = parse(published);
    ASSERT_TRUE(l.has_value());
    EXPECT_EQ(format(*l), published);
  }
  // Older forms read (not written): [S2W]'s "DCID:" and "Message" words, [UG]'s trailing headers.
  EXPECT_TRUE(parse("Delayed: DCID: 4370 Message 10800 to 0 - 4.4.0 - Other network problem (x)").has_value());
  EXPECT_TRUE(parse("Connection Error: DCID: 263 IP: 192.0.2.1 details: EOF interface: 192.0.2.9 reason: network error").has_value());
  EXPECT_TRUE(parse("Message done DCID 5 MID 4 to RID [0] [('X-SBRS', 'None')]").has_value());
  EXPECT_TRUE(parse("DCID 239490 TLS success protocol TLSv1 cipher RC4-SHA").has_value());
  EXPECT_FALSE(parse("DCID 5 something else").has_value());
  EXPECT_FALSE(parse("New SMTP ICID 5 interface Management (192.0.2.1) address 192.0.2.2 reverse dns host x verified no")
                   .has_value());
}

TEST(EsaLines, CtimeRoundTripsOverFourHundredYears) {
  static constexpr int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int checked = 0;
  for (int y = 1970; y < 2370; y += 7)
    for (int m = 1; m <= 12; ++m) {
      bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
      int last = days_in[m - 1] + (m == 2 && leap ? 1 : 0);
      for (int d : {1, 9, 10, last}) {
        civil_time t{y, m, d, d % 24, (d * 7) % 60, (d * 13) % 60};
        std::string s = format_ctime(t);
        ASSERT_EQ(s.size(), 24u) << s;
        auto back = parse_ctime(s);
        ASSERT_TRUE(back.has_value()) << s;
        EXPECT_EQ(*back, t) << s;
        ++checked;
      }
    }
  EXPECT_GT(checked, 2000);
  EXPECT_EQ(format_ctime({2023, 9, 8, 5, 22, 23}), "Fri Sep  8 05:22:23 2023");  // ctime(3)'s example form
  EXPECT_EQ(format_ctime({2000, 2, 29, 0, 0, 0}), "Tue Feb 29 00:00:00 2000");
  EXPECT_FALSE(parse_ctime("Fri Sep  8 05:22:23 23").has_value());
  EXPECT_FALSE(parse_ctime("Fri Sep 38 05:22:23 2023").has_value());
}

}  // namespace
}  // namespace mxtls::esa

namespace mxtls::logs {
namespace {

// A log written with the grammar, line by line, read by the log reader.
struct esa_log {
  std::vector<std::string> lines;
  void put(const esa::line& l, int second = 0) {
    lines.push_back(esa::format_ctime({2026, 12, 1, 10, 0, second}) + " Info: " + esa::format(l));
  }
  log_summary read() const {
    log_reader r;
    std::uint64_t n = 0;
    for (const auto& l : lines) r.add_line(l, 0, ++n);
    return r.finish();
  }
};

const destination_summary* find(const log_summary& s, const std::string& address) {
  for (const auto& d : s.destinations)
    if (d.key.address == address) return &d;
  return nullptr;
}

TEST(EsaLogReader, EachConnectionShapeGivesItsClass) {
  esa_log log;
  // Delivered over TLS.
  log.put(esa::new_connection{1, "192.0.2.9", "192.0.2.1", 25});
  log.put(esa::tls_success{1, "TLSv1.3", "TLS_AES_256_GCM_SHA384"});
  log.put(esa::delivery_start{1, 10, "0"});
  log.put(esa::message_done{1, 10, "0"});
  log.put(esa::connection_close{1});
  // The seed case under a preferred policy: STARTTLS not seen, delivered in plaintext.
  log.put(esa::new_connection{2, "192.0.2.9", "192.0.2.2", 25});
  log.put(esa::starttls_not_supported{2});
  log.put(esa::delivery_start{2, 11, "0"});
  log.put(esa::message_done{2, 11, "0"});
  log.put(esa::connection_close{2});
  // The seed case under a required policy: nothing delivered.
  log.put(esa::new_connection{3, "192.0.2.9", "192.0.2.3", 25});
  log.put(esa::starttls_not_supported{3});
  log.put(esa::tls_required_failed{3, "192.0.2.3"});
  log.put(esa::connection_close{3});
  // STARTTLS answered with 454.
  log.put(esa::new_connection{4, "192.0.2.9", "192.0.2.4", 25});
  log.put(esa::tls_failed{4, "STARTTLS unexpected response"});
  log.put(esa::connection_close{4});
  // No connection.
  log.put(esa::connection_error{5, "example.test", "192.0.2.5", 25, "[Errno 111] Connection refused", "192.0.2.9", "network error"});
  log_summary s = log.read();
  EXPECT_EQ(s.format, log_format::esa);
  EXPECT_EQ(s.lines_not_understood, 0u);
  ASSERT_EQ(s.destinations.size(), 5u);
  struct want {
    std::string address;
    attempt_class cls;
    result_type reason;
    std::uint64_t delivered;
  };
  for (const want& w : std::vector<want>{
           {"192.0.2.1:25", attempt_class::tls, result_type::none, 1},
           {"192.0.2.2:25", attempt_class::plaintext_after_tls_failure, result_type::starttls_not_supported, 1},
           {"192.0.2.3:25", attempt_class::tls_failed, result_type::starttls_not_supported, 0},
           {"192.0.2.4:25", attempt_class::tls_failed, result_type::starttls_refused, 0},
           {"192.0.2.5:25", attempt_class::other_failure, result_type::connection_failed, 0},
       }) {
    SCOPED_TRACE(w.address);
    const destination_summary* d = find(s, w.address);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->attempts, 1u);
    EXPECT_EQ(d->count(w.cls), 1u);
    EXPECT_EQ(d->delivered, w.delivered);
    if (w.reason != result_type::none) EXPECT_EQ(d->reasons[static_cast<std::size_t>(w.reason)], 1u);
  }
  EXPECT_EQ(find(s, "192.0.2.5:25")->key.domain, "example.test");
}

// The recipient domain of a delivery connection, joined from its message's "MID m ICID i RID r
// To: <…>" line through "Delivery start DCID n MID m to RID [r]" (the sequence of Cisco tech
// note 118232's and the user guide's examples: received, then delivered).
TEST(EsaLogReader, RecipientDomainFromTheMessagesToLine) {
  esa_log log;
  log.put(esa::message_recipient{6, 5, 0, "mary@YourDomain.example"});
  log.put(esa::message_recipient{6, 5, 1, "joe@other.example"});
  log.put(esa::message_recipient{7, 5, 0, "sue@third.example"});
  // Message 6, recipient 0, over TLS; its recipient 1 over another connection, bounced.
  log.put(esa::new_connection{8, "192.0.2.9", "192.0.2.1", 25}, 1);
  log.put(esa::tls_success{8, "TLSv1.3", "TLS_AES_256_GCM_SHA384"}, 1);
  log.put(esa::delivery_start{8, 6, "0"}, 1);
  log.put(esa::message_done{8, 6, "0"}, 2);
  log.put(esa::connection_close{8}, 2);
  log.put(esa::new_connection{9, "192.0.2.9", "192.0.2.2", 25}, 3);
  log.put(esa::delayed_or_bounced{true, 9, 6, "1", "5.1.0 - Unknown address error ('550', ['<joe@other.example>... Relaying denied']) []"}, 3);
  log.put(esa::connection_close{9}, 3);
  log.put(esa::message_finished{6}, 4);
  // Message 7 under a required policy: the connection fails before any delivery starts; no
  // line names its recipient, so the destination is its address alone.
  log.put(esa::new_connection{10, "192.0.2.9", "192.0.2.3", 25}, 5);
  log.put(esa::starttls_not_supported{10}, 5);
  log.put(esa::tls_required_failed{10, "192.0.2.3"}, 5);
  log.put(esa::connection_close{10}, 5);
  // A delivery of a message whose To: line is not in the log (received before it began).
  log.put(esa::new_connection{11, "192.0.2.9", "192.0.2.4", 25}, 6);
  log.put(esa::delivery_start{11, 99, "0"}, 6);
  log.put(esa::message_done{11, 99, "0"}, 6);
  log.put(esa::connection_close{11}, 6);
  // After "Message finished", message 6's recipients are forgotten.
  log.put(esa::new_connection{12, "192.0.2.9", "192.0.2.5", 25}, 7);
  log.put(esa::delivery_start{12, 6, "0"}, 7);
  log.put(esa::message_done{12, 6, "0"}, 7);
  log.put(esa::connection_close{12}, 7);
  log_summary s = log.read();
  EXPECT_EQ(s.lines_not_understood, 0u);
  ASSERT_EQ(s.destinations.size(), 5u);
  EXPECT_EQ(find(s, "192.0.2.1:25")->key.domain, "yourdomain.example");
  EXPECT_EQ(find(s, "192.0.2.1:25")->count(attempt_class::tls), 1u);
  EXPECT_EQ(find(s, "192.0.2.2:25")->key.domain, "other.example");
  EXPECT_EQ(find(s, "192.0.2.2:25")->count(attempt_class::other_failure), 1u);
  EXPECT_EQ(find(s, "192.0.2.3:25")->key.domain, "");
  EXPECT_EQ(find(s, "192.0.2.3:25")->count(attempt_class::tls_failed), 1u);
  EXPECT_EQ(find(s, "192.0.2.4:25")->key.domain, "");
  EXPECT_EQ(find(s, "192.0.2.5:25")->key.domain, "");
}

}  // namespace
}  // namespace mxtls::logs
