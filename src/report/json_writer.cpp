#include "mxtls/json_writer.hpp"

#include <charconv>

namespace mxtls {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// Octets a string can copy as they are: printable ASCII and DEL, but not '"' or '\'.
constexpr bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void escape_ascii(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    default: {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
}

// Length of the UTF-8 sequence a lead octet starts (0: not a lead) and the range its
// second octet must fall in (Unicode table 3-7: no overlong forms, no surrogates,
// nothing above U+10FFFF).
struct lead_info {
  int length;
  unsigned char low, high;
};

constexpr lead_info lead(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    std::size_t run = i;
    while (i < n && plain(p[i])) ++i;
    out.append(s.data() + run, i - run);
    if (i == n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      escape_ascii(out, c);
      ++i;
      continue;
    }
    lead_info l = lead(c);
    if (l.length == 0) {  // a stray continuation octet or an impossible lead: replaced alone
      out += replacement;
      ++i;
      continue;
    }
    // A sequence broken off by an octet that cannot continue it is replaced as a whole,
    // and that octet starts over; one cut off by the end of the string is replaced too.
    int good = 1;
    while (good < l.length && i + good < n) {
      unsigned char next = p[i + good];
      bool fits = good == 1 ? next >= l.low && next <= l.high : next >= 0x80 && next <= 0xBF;
      if (!fits) break;
      ++good;
    }
    if (good == l.length) {
      out.append(s.data() + i, static_cast<std::size_t>(good));
    } else {
      out += replacement;
    }
    i += static_cast<std::size_t>(good);
  }
  out += '"';
}

void json_writer::newline(std::size_t depth) {
  out_ += '\n';
  out_.append(depth * static_cast<std::size_t>(indent_), ' ');
}

void json_writer::element() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;  // the document itself
  if (!first_.back()) out_ += ',';
  first_.back() = false;
  if (indent_ > 0) newline(first_.size());
}

json_writer& json_writer::open(char c) {
  element();
  out_ += c;
  first_.push_back(true);
  return *this;
}

json_writer& json_writer::close(char c) {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty && indent_ > 0) newline(first_.size());
  out_ += c;
  return *this;
}

json_writer& json_writer::key(std::string_view name) {
  element();
  append_json_string(out_, name);
  out_ += indent_ > 0 ? ": " : ":";
  after_key_ = true;
  return *this;
}

json_writer& json_writer::value(std::string_view s) {
  element();
  append_json_string(out_, s);
  return *this;
}

json_writer& json_writer::value(bool b) {
  element();
  out_ += b ? "true" : "false";
  return *this;
}

json_writer& json_writer::null() {
  element();
  out_ += "null";
  return *this;
}

namespace {

template <class N>
void append_decimal(std::string& out, N n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

}  // namespace

json_writer& json_writer::number(std::int64_t n) {
  element();
  append_decimal(out_, n);
  return *this;
}

json_writer& json_writer::number(std::uint64_t n) {
  element();
  append_decimal(out_, n);
  return *this;
}

json_writer& json_writer::strings(const std::vector<std::string>& list) {
  begin_array();
  for (const auto& s : list) value(s);
  return end_array();
}

}  // namespace mxtls
