#include "mxtls/target_text.hpp"

#include <arpa/inet.h>
#include <idn2.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

namespace mxtls {

namespace {

bool ascii_lower_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Length of the UTF-8 sequence starting at s[i] (RFC 3629 §4), 0 when it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  std::size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xc0) != 0x80) return 0;
  if (n == 3 && ((c == 0xe0 && at(i + 1) < 0xa0) || (c == 0xed && at(i + 1) > 0x9f))) return 0;  // overlong, surrogate
  if (n == 4 && ((c == 0xf0 && at(i + 1) < 0x90) || (c == 0xf4 && at(i + 1) > 0x8f))) return 0;  // overlong, > U+10FFFF
  return n;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_address(const std::string& host, int family) {
  unsigned char buf[16];
  return inet_pton(family, host.c_str(), buf) == 1;
}

// True when `host` can only have been meant as an IPv4 address: its last label is all
// digits, or every label is a number (hexadecimal 0x.. included, as inet_aton reads it).
bool looks_like_ipv4(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  auto dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (all_digits(last)) return true;
  std::size_t start = 0;
  bool numbers = true;
  while (start <= host.size()) {
    auto end = std::min(host.find('.', start), host.size());
    std::string_view label = host.substr(start, end - start);
    bool hex = label.size() > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') &&
               std::all_of(label.begin() + 2, label.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    numbers = numbers && (all_digits(label) || hex);
    start = end + 1;
  }
  return numbers;
}

}  // namespace

std::string hex_text(std::span<const unsigned char> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8_length(text, i);
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c < 0x20 || c == 0x7f || n == 0) out += fmt::format("\\x{:02x}", c);
    else {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

normalised_target normalise_target(std::string_view written) {
  normalised_target r;
  auto fail = [&](std::string message) {
    r.text.clear();
    r.error = std::move(message);
    return r;
  };
  const std::string quoted = "'" + escape_text(written) + "'";
  std::string_view t = written;
  bool non_ascii = false;
  for (std::size_t i = 0; i < t.size();) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    std::size_t n = utf8_length(t, i);
    if (n == 0) return fail(quoted + " is not a target (octets that are not UTF-8 inside)");
    if (c <= 0x20 || c == 0x7f) return fail(quoted + " is not a target (white space or control characters inside)");
    non_ascii = non_ascii || n > 1;
    i += n;
  }
  if (t.empty()) return fail("an empty target");

  // smtp://host[:port][/] (RFC 5092 style URL): only the authority part means anything here.
  if (ascii_lower_prefix(t, "smtp://")) {
    t.remove_prefix(7);
    if (!t.empty() && t.back() == '/') t.remove_suffix(1);
    if (t.find_first_of("/?#@") != std::string_view::npos)
      return fail(quoted + ": an smtp:// target is smtp://host or smtp://host:port (no user, path or query)");
    if (t.empty()) return fail(quoted + " names no host");
  } else if (t.find("://") != std::string_view::npos) {
    return fail(quoted + ": only smtp:// URLs are targets");
  }

  std::string host, port;
  bool bracketed = false;
  if (t.front() == '[') {
    auto close = t.find(']');
    if (close == std::string_view::npos) return fail(quoted + ": '[' without ']'");
    host = std::string(t.substr(1, close - 1));
    std::string_view rest = t.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(quoted + ": expected ':PORT' after ']'");
      port = std::string(rest.substr(1));
      if (port.empty()) return fail(quoted + ": no port after ':'");
    }
    if (ascii_lower_prefix(host, "ipv6:")) {
      host = host.substr(5);
      if (!is_address(host, AF_INET6)) return fail(quoted + ": '" + escape_text(host) + "' is not an IPv6 address");
    }
    bracketed = true;
  } else {
    auto colons = std::count(t.begin(), t.end(), ':');
    if (colons == 1) {
      host = std::string(t.substr(0, t.find(':')));
      port = std::string(t.substr(t.find(':') + 1));
      if (port.empty()) return fail(quoted + ": no port after ':'");
    } else {
      host = std::string(t);
      if (colons > 1 && !is_address(host, AF_INET6))
        return fail(quoted + " is not an IPv6 address (write [host]:port for a port)");
    }
  }
  if (host.empty()) return fail(quoted + " names no host");
  if (!port.empty()) {
    if (!all_digits(port) || port.size() > 5 || std::atol(port.c_str()) < 1 || std::atol(port.c_str()) > 65535)
      return fail(quoted + ": '" + escape_text(port) + "' is not a port number (1-65535)");
  }

  // "'192.0.2.300:25': '192.0.2.300' is ...", or once when the host is all that was written.
  auto about = [&](const std::string& part) { return part == written ? quoted : quoted + ": '" + escape_text(part) + "'"; };
  bool v4 = is_address(host, AF_INET), v6 = is_address(host, AF_INET6);
  if (!v4 && !v6) {
    if (!non_ascii && looks_like_ipv4(host))
      return fail(about(host) + " is not an IPv4 address (four numbers 0-255 with dots) and, ending in a number, not a domain name");
    if (non_ascii) {
      // IDNA 2008 (RFC 5891 §5) with Unicode normalisation of the input, as mail software
      // does for EAI domains (RFC 6531 §3.2): the A-label form is what DNS and the
      // certificate hold.
      char* a_label = nullptr;
      int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(host.c_str()), reinterpret_cast<uint8_t**>(&a_label),
                              IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
      std::unique_ptr<char, decltype(&idn2_free)> hold(a_label, &idn2_free);
      if (rc != IDN2_OK)
        return fail(about(host) + " is not an international domain name (" + idn2_strerror(rc) + ")");
      host = a_label;
      r.idn = true;
    }
  }
  // An IPv6 address takes brackets before a port; brackets as written stay (an "IPv6:" tag
  // inside them is dropped: the address is the same).
  std::string h = bracketed || (v6 && !port.empty()) ? "[" + host + "]" : host;
  r.text = port.empty() ? h : h + ":" + port;
  return r;
}

}  // namespace mxtls
