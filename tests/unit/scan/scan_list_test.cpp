// The scan's target list: comments, invalid lines with their numbers, --unique, and
// shards that split one list into disjoint parts covering it; the per-address gate's key.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "mxtls/scan.hpp"

namespace mxtls {
namespace {

scan_list read(const std::string& text, scan_list_options o = {}) {
  std::string copy = text;
  std::FILE* f = fmemopen(copy.data(), copy.size(), "rb");
  if (copy.empty()) f = std::fopen("/dev/null", "rb");
  scan_list l = read_scan_list(f, o);
  std::fclose(f);
  return l;
}

TEST(ScanList, CommentsBlankLinesAndInvalidLinesAreCountedWithLineNumbers) {
  auto l = read(
      "# partners\n"
      "example.com\n"
      "\n"
      "  [192.0.2.1]:2525   # lab\n"
      "mx.example.org:587\r\n"
      "not a host\n"
      "example.com#frag\n"
      "[2001:db8::1]\n"
      "bad..name\n"
      "host:99999\n"
      "last.example.net");
  EXPECT_EQ(l.lines, 11u);
  EXPECT_EQ(l.blank_or_comment, 2u);
  ASSERT_EQ(l.targets.size(), 5u);
  EXPECT_EQ(l.targets[0].line, 2u);
  EXPECT_EQ(l.targets[0].text, "example.com");
  EXPECT_EQ(l.targets[1].line, 4u);
  EXPECT_EQ(l.targets[1].text, "[192.0.2.1]:2525");
  EXPECT_EQ(l.targets[2].text, "mx.example.org:587");
  EXPECT_EQ(l.targets[3].text, "[2001:db8::1]");
  EXPECT_EQ(l.targets[4].line, 11u) << "a last line without a newline is read";
  EXPECT_TRUE(l.names) << "example.com needs DNS";
  EXPECT_FALSE(read("[192.0.2.1]:2525\n2001:db8::1\nlocalhost\n").names) << "addresses only: no DNS";
  ASSERT_EQ(l.invalid.size(), 4u);
  EXPECT_EQ(l.invalid[0].line, 6u);
  EXPECT_NE(l.invalid[0].error.find("'not a host' is not a target"), std::string::npos) << l.invalid[0].error;
  EXPECT_EQ(l.invalid[1].line, 7u) << "'#' inside a word is not a comment";
  EXPECT_EQ(l.invalid[2].line, 9u);
  EXPECT_EQ(l.invalid[3].line, 10u);
  EXPECT_NE(l.invalid[3].error.find("not a port number"), std::string::npos) << l.invalid[3].error;
}

TEST(ScanList, EmptyInputAndGarbageGiveNoTargetsAndNoCrash) {
  EXPECT_EQ(read("").lines, 0u);
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) % 256);
  auto l = read(garbage);
  EXPECT_EQ(l.targets.size() + l.invalid.size() + l.blank_or_comment, l.lines);
}

TEST(ScanList, AnOverlongLineIsInvalidAndNotHeldWhole) {
  std::string huge(10'000'000, 'a');
  auto l = read("ok.example\n" + huge + "\nnext.example\n");
  ASSERT_EQ(l.invalid.size(), 1u);
  EXPECT_EQ(l.invalid[0].line, 2u);
  EXPECT_LT(l.invalid[0].text.size(), 64u);
  EXPECT_NE(l.invalid[0].error.find("longer than 1024 octets"), std::string::npos);
  EXPECT_EQ(l.targets.size(), 2u);
}

TEST(ScanList, RepeatsAreProbedAgainUnlessUnique) {
  std::string text = "a.example\nb.example\na.example\n";
  EXPECT_EQ(read(text).targets.size(), 3u);
  scan_list_options o;
  o.unique = true;
  auto l = read(text, o);
  EXPECT_EQ(l.targets.size(), 2u);
  EXPECT_EQ(l.repeats, 1u);
}

TEST(ScanList, ShardsAreDisjointAndCoverTheList) {
  std::string text;
  for (int i = 0; i < 103; ++i) text += (i % 10 == 0 ? "# comment\n" : "") + std::to_string(i) + ".example\n";
  text += "bad target\n";
  std::set<std::size_t> seen;
  std::size_t invalid = 0;
  for (unsigned k = 1; k <= 4; ++k) {
    scan_list_options o;
    o.shard = k;
    o.shards = 4;
    auto l = read(text, o);
    EXPECT_GE(l.targets.size(), 25u);
    EXPECT_LE(l.targets.size(), 26u);
    for (const auto& t : l.targets) EXPECT_TRUE(seen.insert(t.line).second) << "line " << t.line << " in two shards";
    invalid += l.invalid.size();
    EXPECT_EQ(l.other_shards + l.targets.size() + l.invalid.size(), 104u);
    EXPECT_EQ(read(text, o).targets.front().line, l.targets.front().line) << "the same shard twice is the same part";
  }
  EXPECT_EQ(seen.size(), 103u);
  EXPECT_EQ(invalid, 1u) << "an invalid line is reported by one shard only";
}

TEST(ScanList, ShardSyntax) {
  EXPECT_EQ(parse_shard("1/4"), (std::pair<unsigned, unsigned>{1, 4}));
  EXPECT_EQ(parse_shard("4/4"), (std::pair<unsigned, unsigned>{4, 4}));
  for (const char* bad : {"0/4", "5/4", "1/0", "1", "/4", "a/b", "1/4/2", "-1/4", ""})
    EXPECT_THROW(parse_shard(bad), std::invalid_argument) << bad;
  try {
    parse_shard("0/8");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("JOB_COMPLETION_INDEX needs +1"), std::string::npos) << e.what();
  }
}

TEST(ConnectionGate, OneKeyPerMachineWhateverTheSpelling) {
  auto key = [](const char* text) { return gate_key(asio::ip::make_address(text)); };
  EXPECT_EQ(key("2001:DB8::1"), key("2001:db8:0:0::1"));
  EXPECT_EQ(key("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(key("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(key("192.0.2.1"), "192.0.2.1");
  EXPECT_NE(key("192.0.2.1"), key("192.0.2.2"));
}

}  // namespace
}  // namespace mxtls

namespace mxtls {
namespace {

scan_list read_list(const std::string& text) {
  std::string copy = text;
  std::FILE* f = fmemopen(copy.data(), copy.size(), "rb");
  scan_list l = read_scan_list(f, {});
  std::fclose(f);
  return l;
}

TEST(ScanListForms, ByteOrderMarkIdnSmtpUrlsAndHostPort) {
  auto l = read_list(
      "\xEF\xBB\xBF"
      "example.com\n"
      "bücher.example\n"
      "smtp://mx.example.org:2525\n"
      "smtp://mx.example.net\n"
      "mx.example.com:587\n");
  ASSERT_EQ(l.invalid.size(), 0u) << l.invalid[0].error;
  ASSERT_EQ(l.targets.size(), 5u);
  EXPECT_EQ(l.targets[0].text, "example.com") << "the byte order mark is not part of line 1";
  EXPECT_EQ(l.targets[1].text, "xn--bcher-kva.example");
  EXPECT_EQ(l.targets[1].written, "bücher.example");
  EXPECT_EQ(l.targets[2].text, "mx.example.org:2525");
  EXPECT_EQ(l.targets[2].written, "smtp://mx.example.org:2525");
  EXPECT_EQ(l.targets[3].text, "mx.example.net");
  EXPECT_EQ(l.targets[4].text, "mx.example.com:587");
  EXPECT_EQ(parse_probe_target(l.targets[2].text, 25).port, 2525);
}

TEST(ScanListForms, AddressLikeTextsAreInvalidLinesNotNames) {
  auto l = read_list("192.0.2.300\n127.1\n[192.0.2.300]:25\n192.0.2.1\n");
  ASSERT_EQ(l.targets.size(), 1u);
  EXPECT_FALSE(l.names) << "nothing is sent to DNS";
  ASSERT_EQ(l.invalid.size(), 3u);
  EXPECT_NE(l.invalid[0].error.find("'192.0.2.300' is not an IPv4 address"), std::string::npos) << l.invalid[0].error;
  EXPECT_EQ(l.invalid[1].line, 2u);
  EXPECT_NE(l.invalid[1].error.find("'127.1' is not an IPv4 address"), std::string::npos) << l.invalid[1].error;
}

TEST(ScanListForms, UniqueCountsOneDestinationHoweverWritten) {
  std::string text = "bücher.example\nxn--bcher-kva.example\nsmtp://xn--bcher-kva.example\n";
  std::FILE* f = fmemopen(text.data(), text.size(), "rb");
  scan_list_options o;
  o.unique = true;
  scan_list l = read_scan_list(f, o);
  std::fclose(f);
  EXPECT_EQ(l.targets.size(), 1u);
  EXPECT_EQ(l.repeats, 2u);
}

TEST(ScanListForms, ControlCharactersAreEscapedInEverythingReported) {
  std::string long_line = "\x1b[2J" + std::string(2000, 'a');
  auto l = read_list("evil\x1b]0;title\x07.example\nbad\x01host:25\n" + long_line + "\nhost:9\x1b\n");
  ASSERT_EQ(l.invalid.size(), 4u);
  for (const auto& i : l.invalid) {
    for (char c : i.error + i.text) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << i.line << ": " << i.error;
  }
  EXPECT_NE(l.invalid[0].error.find("evil\\x1b]0;title\\x07.example"), std::string::npos) << l.invalid[0].error;
  EXPECT_NE(l.invalid[2].error.find("longer than"), std::string::npos);
  EXPECT_EQ(l.invalid[2].text.substr(0, 8), "\\x1b[2Ja");
}

}  // namespace
}  // namespace mxtls
