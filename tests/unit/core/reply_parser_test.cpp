#include "mxtls/reply_parser.hpp"

#include <gtest/gtest.h>

#include "../guarded_buffer.hpp"
#include "../reply_compare.hpp"

namespace mxtls {
namespace {

using test::dump;
using test::parse_split;

TEST(ReplyParser, SingleLineReply) {
  auto replies = parse_replies("250 mail.example.com\r\n");
  ASSERT_EQ(replies.size(), 1u);
  const auto& r = replies[0];
  EXPECT_TRUE(r.complete);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].code, 250);
  EXPECT_EQ(r.lines[0].sep, separator::space);
  EXPECT_EQ(r.lines[0].ending, line_ending::crlf);
  EXPECT_EQ(r.text(r.lines[0]), "250 mail.example.com");
  EXPECT_EQ(r.body(r.lines[0]), "mail.example.com");
  EXPECT_EQ(r.octets, 22u);
}

TEST(ReplyParser, MultilineReplyKeepsOffsetsAndEndings) {
  std::string_view in = "250-a.example\r\n250-PIPELINING\n250 STARTTLS\r";
  auto replies = parse_replies(in);
  ASSERT_EQ(replies.size(), 1u);
  const auto& r = replies[0];
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0].offset, 0u);
  EXPECT_EQ(r.lines[1].offset, 15u);
  EXPECT_EQ(r.lines[2].offset, 30u);
  EXPECT_EQ(r.lines[0].ending, line_ending::crlf);
  EXPECT_EQ(r.lines[1].ending, line_ending::lf);
  EXPECT_EQ(r.lines[2].ending, line_ending::cr);  // CR at end of stream is a bare CR
  EXPECT_EQ(r.lines[0].sep, separator::hyphen);
  EXPECT_EQ(r.lines[2].sep, separator::space);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.lines[2].number, 3u);
}

TEST(ReplyParser, BareCrEndsALine) {
  auto replies = parse_replies("250-a\r250 b\r\n");
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].lines.size(), 2u);
  EXPECT_EQ(replies[0].lines[0].ending, line_ending::cr);
  EXPECT_EQ(replies[0].text(replies[0].lines[1]), "250 b");
}

TEST(ReplyParser, SeparatorKinds) {
  auto replies = parse_replies("250_x\r\n250\tx\r\nSTARTTLS\r\n250\r\n");
  ASSERT_EQ(replies.size(), 1u);
  const auto& l = replies[0].lines;
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0].sep, separator::other);
  EXPECT_EQ(l[1].sep, separator::other);
  EXPECT_EQ(l[2].sep, separator::no_code);
  EXPECT_EQ(l[2].code, -1);
  EXPECT_EQ(l[3].sep, separator::end);
  EXPECT_TRUE(replies[0].complete);
}

TEST(ReplyParser, EarlyFinalLineStartsANewReply) {
  auto replies = parse_replies("250-a\r\n250 b\r\n250-c\r\n250 d\r\n");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].lines.front().number, 3u);
  EXPECT_EQ(replies[1].lines.front().offset, 14u);
}

TEST(ReplyParser, FeedStopsAtTheEndOfAReply) {
  reply_parser p;
  std::string_view in = "250 a\r\n250 b\r\n";
  std::size_t used = p.feed(in);
  EXPECT_EQ(used, 7u);
  ASSERT_TRUE(p.has_reply());
  EXPECT_EQ(p.feed(in.substr(used)), 0u) << "must not consume before take_reply()";
  p.take_reply();
  EXPECT_EQ(p.feed(in.substr(used)), 7u);
  EXPECT_TRUE(p.has_reply());
}

TEST(ReplyParser, TruncatedReplyIsHandedOutAtFinish) {
  reply_parser p;
  p.feed("250-a\r\n250-b");
  EXPECT_FALSE(p.has_reply());
  ASSERT_TRUE(p.finish());
  reply r = p.take_reply();
  EXPECT_FALSE(r.complete);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1].ending, line_ending::none);
  EXPECT_FALSE(p.finish());
}

TEST(ReplyParser, FinalLineWithoutEndingIsNotComplete) {
  auto replies = parse_replies("250 a");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].complete);
}

TEST(ReplyParser, EmptyInputGivesNoReply) {
  EXPECT_TRUE(parse_replies("").empty());
}

TEST(ReplyParser, EveryByteSplitGivesTheSameResult) {
  const std::string_view inputs[] = {
      "250-a.example\r\n250-PIPELINING\n250 STARTTLS\r",
      "220 banner\r\n250-x\r250-y\n\r\n250 z\r\n",
      "\r\r\n\n\r",
      "25",
      "250-",
  };
  for (auto in : inputs) {
    std::string whole = dump(parse_replies(in));
    for (std::size_t at = 0; at <= in.size(); ++at) EXPECT_EQ(dump(parse_split(in, at)), whole) << "split at " << at;
    // One octet at a time.
    reply_parser p;
    std::vector<reply> out;
    for (char c : in) {
      std::string_view one(&c, 1);
      while (!one.empty()) {
        one.remove_prefix(p.feed(one));
        if (p.has_reply()) out.push_back(p.take_reply());
      }
    }
    while (p.finish()) out.push_back(p.take_reply());
    EXPECT_EQ(dump(out), whole);
  }
}

// --- Limits: at the boundary and one past it ------------------------------------------

TEST(ReplyParserLimits, LineAtTheLimitIsKeptWhole) {
  parser_limits lim;
  lim.max_line_octets = 16;
  std::string line = "250 " + std::string(12, 'x');  // exactly 16
  auto r = parse_replies(line + "\r\n", lim);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].lines[0].truncated());
  EXPECT_FALSE(r[0].line_limit_hit);
}

TEST(ReplyParserLimits, LinePastTheLimitIsCutAndCounted) {
  parser_limits lim;
  lim.max_line_octets = 16;
  std::string line = "250 " + std::string(13, 'x');  // 17
  auto r = parse_replies(line + "\r\n", lim);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].lines[0].truncated());
  EXPECT_EQ(r[0].lines[0].stored, 16u);
  EXPECT_EQ(r[0].lines[0].length, 17u);
  EXPECT_TRUE(r[0].line_limit_hit);
  EXPECT_TRUE(r[0].complete);
}

TEST(ReplyParserLimits, LinesLimitBoundary) {
  parser_limits lim;
  lim.max_lines = 3;
  auto at = parse_replies("250-a\r\n250-b\r\n250 c\r\n", lim);
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0].lines.size(), 3u);
  EXPECT_EQ(at[0].dropped_lines, 0u);
  auto past = parse_replies("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", lim);
  ASSERT_EQ(past.size(), 1u);
  EXPECT_EQ(past[0].lines.size(), 3u);
  EXPECT_EQ(past[0].dropped_lines, 1u);
  EXPECT_TRUE(past[0].lines_limit_hit);
  EXPECT_TRUE(past[0].complete) << "a dropped final line still ends the reply";
}

TEST(ReplyParserLimits, OctetsLimitBoundary) {
  parser_limits lim;
  lim.max_reply_octets = 14;  // "250-a\r\n250 b\r\n" is 14 octets
  auto at = parse_replies("250-a\r\n250 b\r\n", lim);
  EXPECT_FALSE(at[0].octets_limit_hit);
  auto past = parse_replies("250-a\r\n250 bc\r\n", lim);
  EXPECT_TRUE(past[0].octets_limit_hit);
}

TEST(ReplyParserLimits, HundredMegabytesWithoutNewlineStayBounded) {
  parser_limits lim;
  reply_parser p(lim);
  std::string chunk(1 << 20, 'A');
  for (int i = 0; i < 100; ++i) {
    std::string_view c = chunk;
    while (!c.empty()) {
      c.remove_prefix(p.feed(c));
      ASSERT_FALSE(p.has_reply());
    }
  }
  ASSERT_TRUE(p.finish());
  reply r = p.take_reply();
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].length, 100u << 20);
  EXPECT_EQ(r.lines[0].stored, lim.max_line_octets);
  EXPECT_LE(r.data.capacity(), 2 * lim.max_line_octets);
  EXPECT_FALSE(r.complete);
}

TEST(ReplyParserLimits, MillionsOfLinesStayBounded) {
  parser_limits lim;
  reply_parser p(lim);
  std::string chunk;
  for (int i = 0; i < 10000; ++i) chunk += "250-STARTTLS\r\n";
  for (int i = 0; i < 300; ++i) {  // 3 million lines
    std::string_view c = chunk;
    while (!c.empty()) c.remove_prefix(p.feed(c));
  }
  ASSERT_TRUE(p.finish());
  reply r = p.take_reply();
  EXPECT_EQ(r.lines.size(), lim.max_lines);
  EXPECT_EQ(r.dropped_lines, 3000000u - lim.max_lines);
  EXPECT_TRUE(r.lines_limit_hit);
  EXPECT_LE(r.data.size(), lim.max_reply_octets);
}

TEST(ReplyParser, NeverReadsPastTheInput) {
  const std::string_view inputs[] = {"250-a\r\n250 b\r", "2", "250", "250-", "\r", "250 x\r\n"};
  for (auto in : inputs) {
    test::guarded_buffer buf(in);
    for (std::size_t at = 0; at <= in.size(); ++at) {
      auto v = buf.view();
      EXPECT_EQ(dump(parse_split(v, at)), dump(parse_replies(in)));
    }
  }
}

}  // namespace
}  // namespace mxtls
