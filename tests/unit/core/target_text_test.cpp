// Targets as people write them: smtp://, host:port, brackets, IDN to A-labels, address-like
// texts that are not addresses, and escaping of what is quoted back.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mxtls/target_text.hpp"

namespace mxtls {
namespace {

std::string ok(std::string_view written) {
  auto n = normalise_target(written);
  EXPECT_EQ(n.error, "") << written;
  return n.text;
}

std::string error(std::string_view written) {
  auto n = normalise_target(written);
  EXPECT_EQ(n.text, "") << written;
  EXPECT_NE(n.error, "") << written;
  return n.error;
}

TEST(TargetText, FormsPeopleWriteBecomeTheProbesForm) {
  EXPECT_EQ(ok("example.com"), "example.com");
  EXPECT_EQ(ok("mx.example.com:587"), "mx.example.com:587");
  EXPECT_EQ(ok("[192.0.2.1]:2525"), "[192.0.2.1]:2525");
  EXPECT_EQ(ok("[mx.example.com]"), "[mx.example.com]");
  EXPECT_EQ(ok("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(ok("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(ok("[IPv6:2001:db8::1]:25"), "[2001:db8::1]:25");
  EXPECT_EQ(ok("smtp://mx.example.com"), "mx.example.com");
  EXPECT_EQ(ok("smtp://mx.example.com:25"), "mx.example.com:25");
  EXPECT_EQ(ok("SMTP://mx.example.com:2525/"), "mx.example.com:2525");
  EXPECT_EQ(ok("smtp://[2001:db8::1]:25"), "[2001:db8::1]:25");
}

TEST(TargetText, InternationalNamesBecomeALabels) {
  auto n = normalise_target("bücher.example");
  EXPECT_EQ(n.text, "xn--bcher-kva.example");
  EXPECT_TRUE(n.idn);
  EXPECT_EQ(ok("smtp://bücher.example:25"), "xn--bcher-kva.example:25");
  EXPECT_EQ(ok("почта.рф"), "xn--80a1acny.xn--p1ai");
  // NFC: "u" + combining diaeresis is the same name as "ü".
  EXPECT_EQ(ok("bu\xcc\x88""cher.example"), "xn--bcher-kva.example");
  EXPECT_FALSE(normalise_target("example.com").idn);
  EXPECT_NE(error("\xcc\x88""a.example").find("not an international domain name"), std::string::npos)
      << "a label may not start with a combining mark (RFC 5891 §4.2.3.2)";
}

TEST(TargetText, AddressLikeTextsThatAreNoAddressesAreRejected) {
  for (const char* bad : {"192.0.2.300", "127.1", "10.0.0", "0x7f.0.0.1", "1.2.3.4.5", "256.1.1.1", "example.123"})
    EXPECT_NE(error(bad).find("is not an IPv4 address"), std::string::npos) << bad;
  EXPECT_EQ(ok("123.example"), "123.example") << "a leading digit label is a name (RFC 1123 §2.1)";
  EXPECT_EQ(ok("0x7f.example"), "0x7f.example");
}

TEST(TargetText, BadPortsAndFormsSayWhat) {
  EXPECT_NE(error("host:99999").find("not a port number"), std::string::npos);
  EXPECT_NE(error("host:").find("no port"), std::string::npos);
  EXPECT_NE(error("[192.0.2.1").find("'[' without ']'"), std::string::npos);
  EXPECT_NE(error("[192.0.2.1]x").find("expected ':PORT'"), std::string::npos);
  EXPECT_NE(error("smtp://user@host").find("no user, path or query"), std::string::npos);
  EXPECT_NE(error("smtp://host/path").find("no user, path or query"), std::string::npos);
  EXPECT_NE(error("https://host").find("only smtp://"), std::string::npos);
  EXPECT_NE(error("2001:db8::zz").find("not an IPv6 address"), std::string::npos);
  EXPECT_NE(error(":25").find("names no host"), std::string::npos);
  EXPECT_NE(error("").find("empty"), std::string::npos);
}

TEST(TargetText, ControlCharactersAreEscapedInMessages) {
  std::string e = error("evil\x1b[31m.example");
  EXPECT_EQ(e.find('\x1b'), std::string::npos) << e;
  EXPECT_NE(e.find("evil\\x1b[31m.example"), std::string::npos) << e;
  e = error(std::string("a\0b\r\n\x7f\xff", 7));
  EXPECT_NE(e.find("a\\x00b\\r\\n\\x7f\\xff"), std::string::npos) << e;
  EXPECT_EQ(escape_text("b\xc3\xbc\\"), "b\xc3\xbc\\\\") << "valid UTF-8 stays, backslashes doubled";
  EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf") << "an overlong form is not UTF-8";
}

TEST(TargetText, HexIsLowerCaseTwoDigitsAnOctet) {
  const unsigned char octets[] = {0x00, 0x0a, 0xff, 0x5c};
  EXPECT_EQ(hex_text(octets), "000aff5c");
  EXPECT_EQ(hex_text({}), "");
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  std::string h = hex_text(all);
  ASSERT_EQ(h.size(), 512u);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(std::stoi(h.substr(static_cast<std::size_t>(2 * i), 2), nullptr, 16), i);
}

}  // namespace
}  // namespace mxtls
