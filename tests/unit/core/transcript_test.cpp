#include "mxtls/transcript.hpp"

#include <gtest/gtest.h>

namespace mxtls {
namespace {

TEST(Transcript, ClassifiesUnprefixedLines) {
  auto t = read_transcript("220 mx.example.com\nEHLO me\n250-mx.example.com\n250 STARTTLS\nSTARTTLS\n220 go\n");
  ASSERT_EQ(t.lines.size(), 6u);
  EXPECT_EQ(t.lines[0].dir, direction::server);
  EXPECT_EQ(t.lines[1].dir, direction::client);
  EXPECT_EQ(t.lines[2].dir, direction::server);
  EXPECT_EQ(t.lines[3].dir, direction::server);
  EXPECT_EQ(t.lines[4].dir, direction::client) << "STARTTLS after a final line is the client's command";
  EXPECT_EQ(t.lines[5].dir, direction::server);
  EXPECT_TRUE(t.ignored.empty());
}

TEST(Transcript, CodelessLineInsideAReplyIsTheServers) {
  auto t = read_transcript("250-mx.example.com\nSTARTTLS\n250 SIZE 1\n");
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(t.lines[1].dir, direction::server);
}

TEST(Transcript, PrefixesSetDirectionAndColumn) {
  struct row {
    const char* in;
    direction dir;
    std::size_t col;
    const char* text;
  };
  const row rows[] = {
      {"S: 250 x", direction::server, 3, "250 x"},     {"C: EHLO a", direction::client, 3, "EHLO a"},
      {"<- 250 x", direction::server, 3, "250 x"},     {" -> EHLO a", direction::client, 4, "EHLO a"},
      {"<<< 250 x", direction::server, 4, "250 x"},    {">>> EHLO a", direction::client, 4, "EHLO a"},
      {"<~  250 x", direction::server, 4, "250 x"},    {"~> EHLO a", direction::client, 3, "EHLO a"},
      {"< 250 x", direction::server, 2, "250 x"},      {"> EHLO a", direction::client, 2, "EHLO a"},
      {"\t250 x   ", direction::server, 1, "250 x"},   {"250 x <--- note", direction::server, 0, "250 x"},
      {"250 x <== note", direction::server, 0, "250 x"}, {"S:250 x\r", direction::server, 2, "250 x"},
  };
  for (const auto& r : rows) {
    auto t = read_transcript(r.in);
    ASSERT_EQ(t.lines.size(), 1u) << r.in;
    EXPECT_EQ(t.lines[0].dir, r.dir) << r.in;
    EXPECT_EQ(t.lines[0].column_offset, r.col) << r.in;
    EXPECT_EQ(t.lines[0].text, r.text) << r.in;
  }
}

TEST(Transcript, NotesAreListedNotDropped) {
  auto t = read_transcript("my server:\n```\n\n250 mx.example.com\n<--- the greeting\n*** done\n```\n");
  ASSERT_EQ(t.lines.size(), 1u);
  EXPECT_EQ(t.lines[0].line, 4u);
  EXPECT_EQ(t.ignored, (std::vector<std::size_t>{1, 5, 6}));
  EXPECT_EQ(t.input_lines, 7u);
}

TEST(Transcript, AnnotationNeedsWhiteSpaceBeforeIt) {
  auto t = read_transcript("250 a<--b\n");
  ASSERT_EQ(t.lines.size(), 1u);
  EXPECT_EQ(t.lines[0].text, "250 a<--b");
}

TEST(Transcript, CommandsAreRecognised) {
  EXPECT_TRUE(starts_with_command("EHLO x"));
  EXPECT_TRUE(starts_with_command("ehlo x"));
  EXPECT_TRUE(starts_with_command("MAIL FROM:<a@b>"));
  EXPECT_TRUE(starts_with_command("STARTTLS"));
  EXPECT_FALSE(starts_with_command("EHLOX"));
  EXPECT_FALSE(starts_with_command("thanks"));
}

TEST(Transcript, EmptyAndGarbage) {
  EXPECT_TRUE(read_transcript("").lines.empty());
  std::string garbage("\x00\xff\x01\n\x80\x81", 6);
  auto t = read_transcript(garbage);
  EXPECT_TRUE(t.lines.empty());
  EXPECT_EQ(t.ignored.size(), 2u);
}

}  // namespace
}  // namespace mxtls
