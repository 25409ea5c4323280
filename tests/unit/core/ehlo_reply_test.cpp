#include "mxtls/ehlo_reply.hpp"

#include <gtest/gtest.h>

#include "mxtls/lint.hpp"

namespace mxtls {
namespace {

ehlo_reply analyse_raw(std::string_view bytes) { return analyse_ehlo(ehlo_turn_from_raw(bytes, {})); }

TEST(EhloReply, StrictReadingOfTheSeedReply) {
  auto e = analyse_raw("250-STARTTLS\r\n250-mail.domain1.com\r\n250-8BITMIME\r\n250 SIZE 30000000\r\n");
  ASSERT_TRUE(e.greeting);
  EXPECT_EQ(e.greeting->domain, "STARTTLS");
  EXPECT_FALSE(e.starttls_visible);
  EXPECT_TRUE(e.starttls_anywhere);
  ASSERT_EQ(e.extensions.size(), 3u);
  EXPECT_EQ(e.extensions[0].keyword, "mail.domain1.com");
  EXPECT_EQ(e.extensions[2].keyword, "SIZE");
  EXPECT_EQ(e.extensions[2].params, std::vector<std::string>{"30000000"});
  EXPECT_EQ(e.lines_sent, 4u);
  EXPECT_EQ(e.lines_read_strictly, 4u);
}

TEST(EhloReply, LinesAfterAnEarlyFinalLineAreNotSeenStrictly) {
  auto e = analyse_raw("250-mx.example.com\r\n250 PIPELINING\r\n250 STARTTLS\r\n");
  ASSERT_EQ(e.extensions.size(), 2u);
  EXPECT_TRUE(e.extensions[0].seen_by_strict_client);
  EXPECT_FALSE(e.extensions[1].seen_by_strict_client);
  EXPECT_FALSE(e.starttls_visible);
  EXPECT_EQ(e.lines_sent, 3u);
  EXPECT_EQ(e.lines_read_strictly, 2u);
}

TEST(EhloReply, GreetingTextAndParams) {
  auto e = analyse_raw("250-mx.example.com Hello client [192.0.2.9]\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n");
  ASSERT_TRUE(e.greeting);
  EXPECT_EQ(e.greeting->text, "Hello client [192.0.2.9]");
  EXPECT_TRUE(e.greeting->valid);
  EXPECT_EQ(e.extensions[0].params, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(e.findings.empty());
}

TEST(EhloReply, Domains) {
  EXPECT_TRUE(is_domain("mx.example.com"));
  EXPECT_TRUE(is_domain("localhost"));
  EXPECT_TRUE(is_domain("a-b.c1"));
  EXPECT_FALSE(is_domain(""));
  EXPECT_FALSE(is_domain("-a.example"));
  EXPECT_FALSE(is_domain("a-.example"));
  EXPECT_FALSE(is_domain("a..example"));
  EXPECT_FALSE(is_domain("a.example."));
  EXPECT_FALSE(is_domain("under_score.example"));
  EXPECT_FALSE(is_domain(std::string(64, 'a') + ".example"));
  EXPECT_TRUE(is_address_literal("[192.0.2.1]"));
  EXPECT_TRUE(is_address_literal("[IPv6:::1]"));
  EXPECT_TRUE(is_address_literal("[x-tag:abc]"));
  EXPECT_FALSE(is_address_literal("[192.0.2.256]"));
  EXPECT_FALSE(is_address_literal("[IPv6:zz]"));
  EXPECT_FALSE(is_address_literal("192.0.2.1"));
  EXPECT_FALSE(is_address_literal("[]"));
}

TEST(EhloReply, KnownKeywords) {
  EXPECT_TRUE(is_known_keyword("STARTTLS"));
  EXPECT_TRUE(is_known_keyword("starttls"));
  EXPECT_TRUE(is_known_keyword("AUTH=LOGIN"));
  EXPECT_FALSE(is_known_keyword("mail"));
}

TEST(EhloReply, EmptyTurn) {
  server_turn t;
  auto e = analyse_ehlo(t);
  EXPECT_EQ(e.lines_sent, 0u);
  EXPECT_TRUE(e.findings.empty());
}

}  // namespace
}  // namespace mxtls
