// A destination as people write it (in a scan list, on the command line), turned into the
// form the probe reads: "host", "host:port", "[address]", "[address]:port", with an
// international domain name as its A-labels. No DNS, no sockets.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace mxtls {

struct normalised_target {
  std::string text;   // the probe's form, printable ASCII; empty when `error` is set
  std::string error;  // why the text is not a destination (the text in it escaped); empty for one
  bool idn = false;   // a U-label was converted (text differs from what was written)
};

// Accepts "example.com", "bücher.example" (IDNA 2008, to "xn--bcher-kva.example"),
// "host:port", "[host]", "[host]:port", "[IPv6:2001:db8::1]:25", "2001:db8::1",
// "smtp://host[:port][/]". Rejects what looks like an IPv4 address but is not one
// ("192.0.2.300", "127.1", "0x7f.0.0.1": a domain name never ends in an all-digit
// label, RFC 1123 §2.1, RFC 3696 §2) rather than leaving it to DNS.
normalised_target normalise_target(std::string_view written);

// The text with control characters, DEL and octets that are not UTF-8 written as \xNN
// (\t, \r, \n as such) and backslashes doubled, for messages that quote input.
std::string escape_text(std::string_view text);

// The octets as lower-case hex, two digits each ("0a1b..."): digests, TLSA association data.
std::string hex_text(std::span<const unsigned char> bytes);

}  // namespace mxtls
