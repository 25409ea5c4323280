// The paste reader: normalisation of pasted text (paste_text.hpp), recognition of the
// tool that wrote it (paste_format.hpp) and the line reader (transcript.hpp).
#include "mxtls/transcript.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "mxtls/paste_text.hpp"

namespace mxtls {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool iequals_prefix(std::string_view text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
  return true;
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::size_t skip_spaces(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

bool is_fence(std::string_view s) { return s.starts_with("```") || s.starts_with("~~~"); }

// RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//                             Reply-code [ SP textstring ] CRLF
bool is_coded(std::string_view s) { return s.size() >= 3 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]); }
bool is_final_line(std::string_view s) { return is_coded(s) && (s.size() == 3 || s[3] == ' '); }

}  // namespace

// ---------------------------------------------------------------------------------------
// Normalisation

const char* to_string(paste_change c) {
  switch (c) {
    case paste_change::utf16_le: return "utf16-le";
    case paste_change::utf16_be: return "utf16-be";
    case paste_change::byte_order_mark: return "byte-order-mark";
    case paste_change::no_break_space: return "no-break-space";
    case paste_change::narrow_no_break_space: return "narrow-no-break-space";
    case paste_change::non_breaking_hyphen: return "non-breaking-hyphen";
    case paste_change::zero_width: return "zero-width";
    case paste_change::cr_line_endings: return "cr-line-endings";
  }
  return "?";
}

namespace {

constexpr std::size_t utf16_sniff_octets = 512;  // octets looked at to tell UTF-16 without a BOM

// 0: not UTF-16; 1: little-endian; 2: big-endian. Without a BOM, text that is mostly ASCII
// has a zero in every other octet.
int sniff_utf16(std::string_view in, bool& bom) {
  bom = false;
  if (in.size() >= 2) {
    auto a = static_cast<unsigned char>(in[0]), b = static_cast<unsigned char>(in[1]);
    if (a == 0xFF && b == 0xFE) return bom = true, 1;
    if (a == 0xFE && b == 0xFF) return bom = true, 2;
  }
  std::size_t n = std::min(in.size(), utf16_sniff_octets) & ~std::size_t{1};
  if (n < 4) return 0;
  std::size_t even_zero = 0, odd_zero = 0;
  for (std::size_t i = 0; i < n; i += 2) {
    if (in[i] == 0) ++even_zero;
    if (in[i + 1] == 0) ++odd_zero;
  }
  std::size_t units = n / 2;
  if (odd_zero * 10 >= units * 7 && even_zero * 10 <= units) return 1;
  if (even_zero * 10 >= units * 7 && odd_zero * 10 <= units) return 2;
  return 0;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// UTF-16 to UTF-8; an unpaired surrogate becomes U+FFFD and marks the text invalid.
std::string decode_utf16(std::string_view in, bool little, bool& invalid) {
  std::string out;
  out.reserve(in.size());
  auto unit = [&](std::size_t i) -> char32_t {
    auto a = static_cast<unsigned char>(in[i]), b = static_cast<unsigned char>(in[i + 1]);
    return little ? static_cast<char32_t>(a | (b << 8)) : static_cast<char32_t>((a << 8) | b);
  };
  std::size_t i = 0;
  for (; i + 1 < in.size(); i += 2) {
    char32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 3 < in.size()) {
      char32_t v = unit(i + 2);
      if (v >= 0xDC00 && v <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00));
        i += 2;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) {
      invalid = true;
      u = 0xFFFD;
    }
    append_utf8(out, u);
  }
  if (i < in.size()) invalid = true;  // an odd octet at the end
  return out;
}

struct stand_in {
  std::string_view utf8;
  std::string_view ascii;  // empty: removed
  paste_change change;
};

// Characters that web pages, word processors and mail clients put where the server sent
// ASCII. Looked up at each 0xC2 / 0xE2 / 0xEF lead octet.
constexpr std::array<stand_in, 15> stand_ins{{
    {"\xC2\xA0", " ", paste_change::no_break_space},
    {"\xE2\x80\xAF", " ", paste_change::narrow_no_break_space},
    {"\xE2\x80\x87", " ", paste_change::narrow_no_break_space},
    {"\xE2\x80\x89", " ", paste_change::narrow_no_break_space},
    {"\xE2\x80\x91", "-", paste_change::non_breaking_hyphen},
    {"\xE2\x80\x90", "-", paste_change::non_breaking_hyphen},
    {"\xE2\x80\x92", "-", paste_change::non_breaking_hyphen},
    {"\xE2\x80\x93", "-", paste_change::non_breaking_hyphen},
    {"\xE2\x88\x92", "-", paste_change::non_breaking_hyphen},
    {"\xE2\x80\x8B", "", paste_change::zero_width},
    {"\xE2\x80\x8C", "", paste_change::zero_width},
    {"\xE2\x80\x8D", "", paste_change::zero_width},
    {"\xE2\x81\xA0", "", paste_change::zero_width},
    {"\xEF\xBB\xBF", "", paste_change::byte_order_mark},
    {"\xEF\xBF\xBE", "", paste_change::byte_order_mark},  // U+FFFE: a BOM read the wrong way round
}};

}  // namespace

normalised_paste normalise_paste(std::string_view input) {
  normalised_paste out;
  std::array<paste_note, 8> notes{};
  for (std::size_t i = 0; i < notes.size(); ++i) notes[i].change = static_cast<paste_change>(i);
  auto note = [&](paste_change c, std::size_t line) {
    auto& n = notes[static_cast<std::size_t>(c)];
    if (n.count++ == 0) n.first_line = line;
  };

  std::string decoded;
  std::string_view text = input;
  bool bom = false;
  if (int u = sniff_utf16(input, bom)) {
    decoded = decode_utf16(input, u == 1, out.utf16_invalid);
    text = decoded;
    out.utf16 = true;
    note(u == 1 ? paste_change::utf16_le : paste_change::utf16_be, 1);
  }

  bool any_lf = text.find('\n') != std::string_view::npos;
  out.text.reserve(text.size());
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    auto u = static_cast<unsigned char>(c);
    if (u == 0xC2 || u == 0xE2 || u == 0xEF) {
      const stand_in* hit = nullptr;
      for (const auto& s : stand_ins)
        if (text.substr(i).starts_with(s.utf8)) {
          hit = &s;
          break;
        }
      if (hit) {
        out.text.append(hit->ascii);
        note(hit->change, line);
        i += hit->utf8.size();
        continue;
      }
    }
    if (c == '\r' && !any_lf) {
      out.text.push_back('\n');
      note(paste_change::cr_line_endings, line);
      ++line;
      ++i;
      continue;
    }
    if (c == '\n') ++line;
    out.text.push_back(c);
    ++i;
  }
  // The UTF-16 BOM was decoded to U+FEFF and removed above; it is part of "UTF-16", not a note.
  if (out.utf16 && bom && notes[static_cast<std::size_t>(paste_change::byte_order_mark)].count > 0)
    --notes[static_cast<std::size_t>(paste_change::byte_order_mark)].count;
  for (const auto& n : notes)
    if (n.count > 0) out.notes.push_back(n);
  return out;
}

// ---------------------------------------------------------------------------------------
// Formats

const char* to_string(paste_format f) {
  switch (f) {
    case paste_format::plain: return "plain";
    case paste_format::swaks: return "swaks";
    case paste_format::posttls_finger: return "posttls-finger";
    case paste_format::openssl_s_client: return "openssl-s_client";
    case paste_format::curl: return "curl";
    case paste_format::msmtp: return "msmtp";
    case paste_format::postfix_log: return "postfix-log";
    case paste_format::exim_debug: return "exim-debug";
    case paste_format::exchange_log: return "exchange-log";
    case paste_format::outlook_log: return "outlook-log";
    case paste_format::thunderbird_log: return "thunderbird-log";
    case paste_format::telnet: return "telnet";
    case paste_format::wireshark: return "wireshark";
    case paste_format::cisco_esa_telnet: return "cisco-esa-telnet";
  }
  return "?";
}

const char* to_string(line_prefix p) {
  switch (p) {
    case line_prefix::none: return "none";
    case line_prefix::syslog: return "syslog";
    case line_prefix::timestamp: return "timestamp";
    case line_prefix::line_number: return "line-number";
    case line_prefix::csv_columns: return "csv-columns";
  }
  return "?";
}

namespace {

constexpr std::size_t format_probe_lines = 4000;  // lines looked at to recognise the format

// Input lines without their endings; the views point into the text.
std::vector<std::string_view> split_lines(std::string_view input) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t nl = input.find('\n', pos);
    std::string_view l = input.substr(pos, nl == std::string_view::npos ? input.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? input.size() : nl + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out.push_back(l);
  }
  return out;
}

// ---- per-line headers -----------------------------------------------------------------

std::size_t digits(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  return j - i;
}

// "hh:mm:ss" with optional ".frac" or ",frac"; returns the end, or 0.
std::size_t clock_at(std::string_view s, std::size_t i) {
  if (digits(s, i) != 2 || i + 8 > s.size() || s[i + 2] != ':' || digits(s, i + 3) != 2 || s[i + 5] != ':' ||
      digits(s, i + 6) != 2)
    return 0;
  std::size_t j = i + 8;
  if (j < s.size() && (s[j] == '.' || s[j] == ',') && digits(s, j + 1) > 0) j += 1 + digits(s, j + 1);
  return j;
}

// "yyyy-mm-dd" or "yyyy.mm.dd" or "yyyy/mm/dd"; returns the end, or 0.
std::size_t date_at(std::string_view s, std::size_t i) {
  if (digits(s, i) != 4 || i + 10 > s.size()) return 0;
  char sep = s[i + 4];
  if ((sep != '-' && sep != '.' && sep != '/') || digits(s, i + 5) != 2 || s[i + 7] != sep || digits(s, i + 8) != 2)
    return 0;
  return i + 10;
}

// A time zone after a clock: "Z", "+00:00", "+0000", " UTC".
std::size_t zone_at(std::string_view s, std::size_t j) {
  if (j < s.size() && s[j] == 'Z') return j + 1;
  if (j < s.size() && (s[j] == '+' || s[j] == '-')) {
    std::size_t d = digits(s, j + 1);
    if (d == 4) return j + 5;
    if (d == 2 && j + 3 < s.size() && s[j + 3] == ':' && digits(s, j + 4) == 2) return j + 6;
  }
  if (s.substr(j).starts_with(" UTC")) return j + 4;
  return j;
}

// An ISO-8601 or log date-time at the start: "2026-12-01T10:00:00.123Z", "2026-12-01 10:00:00",
// "2016.06.10 09:58:42"; returns the end, or 0.
std::size_t datetime_at(std::string_view s) {
  std::size_t d = date_at(s, 0);
  if (d == 0 || d >= s.size() || (s[d] != 'T' && s[d] != ' ')) return 0;
  std::size_t c = clock_at(s, d + 1);
  return c == 0 ? 0 : zone_at(s, c);
}

constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A program tag: "postfix/smtp[123]:", "posttls-finger:", "exim[9]:"; the end after ": ", or 0.
// `name` receives the tag without its [pid].
std::size_t tag_at(std::string_view s, std::size_t i, std::string_view* name = nullptr, bool* pid = nullptr) {
  std::size_t j = i;
  if (j >= s.size() || !std::isalpha(static_cast<unsigned char>(s[j]))) return 0;
  while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.' || s[j] == '/' ||
                          s[j] == '-'))
    ++j;
  std::size_t name_end = j;
  bool has_pid = false;
  if (j < s.size() && s[j] == '[') {
    std::size_t d = digits(s, j + 1);
    if (d == 0 || j + 1 + d >= s.size() || s[j + 1 + d] != ']') return 0;
    j += d + 2;
    has_pid = true;
  }
  if (j + 1 >= s.size() || s[j] != ':' || s[j + 1] != ' ') return 0;
  if (name_end - i < 3) return 0;  // "S:", "C:" are direction markers, not programs
  if (name) *name = s.substr(i, name_end - i);
  if (pid) *pid = has_pid;
  return j + 2;
}

// A syslog or journald header up to and including the program tag:
//   "Dec  1 11:02:16 host postfix/smtp[13339]: "      (RFC 3164, journalctl short)
//   "2026-12-01T11:02:16.123+00:00 host prog[1]: "     (RFC 5424 timestamps, short-iso)
std::size_t syslog_header(std::string_view s) {
  std::size_t j = 0;
  bool month = s.size() > 4 && s[3] == ' ' &&
               std::find(months.begin(), months.end(), s.substr(0, 3)) != months.end();
  if (month) {
    j = skip_spaces(s, 4);
    std::size_t d = digits(s, j);
    if (d < 1 || d > 2 || j + d >= s.size() || s[j + d] != ' ') return 0;
    j = clock_at(s, j + d + 1);
    if (j == 0) return 0;
  } else {
    j = datetime_at(s);
    if (j == 0) return 0;
  }
  if (j >= s.size() || s[j] != ' ') return 0;
  std::size_t host = j + 1;
  std::size_t host_end = s.find(' ', host);
  if (host_end == std::string_view::npos || host_end == host) return 0;
  bool pid = false;
  std::size_t t = tag_at(s, host_end + 1, nullptr, &pid);
  return t;
}

// A timestamp and the white space after it: "[09:00:01] ", "09:00:01 ", "2026-12-01 09:00:01.123 ",
// "2016.06.10 09:58:42 ".
std::size_t timestamp_header(std::string_view s) {
  std::size_t j = 0;
  if (!s.empty() && s[0] == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close > 40) return 0;
    std::string_view inner = s.substr(1, close - 1);
    if (!contains(inner, ":") || std::none_of(inner.begin(), inner.end(), is_digit)) return 0;
    j = close + 1;
  } else if (std::size_t d = datetime_at(s)) {
    j = d;
  } else if (std::size_t c = clock_at(s, 0)) {
    j = c;
  } else {
    return 0;
  }
  if (j >= s.size() || !is_space(s[j])) return 0;
  return skip_spaces(s, j);
}

// ---- direction markers ------------------------------------------------------------------

struct marker {
  std::string_view mark;
  direction dir;
  bool needs_space;  // the mark must be followed by white space
  bool inside_tls;   // swaks marks lines sent inside TLS with "~"
};

// Longest marks first so that "<<<" wins over "<" and "<--" over "<-".
constexpr std::array<marker, 22> markers{{
    {"SMTP<<", direction::server, false, false},  // exim -d
    {"SMTP>>", direction::client, false, false},
    {"<rx>", direction::server, false, false},    // Outlook
    {"[tx]", direction::client, false, false},
    {"<<<", direction::server, false, false},
    {">>>", direction::client, false, false},
    {"<--", direction::server, true, false},      // msmtp --debug
    {"-->", direction::client, true, false},
    {"<**", direction::server, false, false},     // swaks: an error reply
    {"<~*", direction::server, false, true},      // swaks: an error reply inside TLS
    {"<-", direction::server, false, false},
    {"->", direction::client, false, false},
    {"<~", direction::server, false, true},
    {"~>", direction::client, false, true},
    {"**>", direction::client, false, false},
    {"S:", direction::server, false, false},
    {"C:", direction::client, false, false},
    {"s:", direction::server, false, false},
    {"c:", direction::client, false, false},
    {"<", direction::server, true, false},
    {">", direction::client, true, false},
    {"~", direction::server, true, false},        // never matched before "~>" and "<~"
}};

// Annotations people add after a line: "<--- this is the greeting", "<== here".
std::size_t annotation_start(std::string_view text) {
  for (std::size_t i = 1; i + 2 < text.size(); ++i) {
    if (!is_space(text[i - 1]) || text[i] != '<') continue;
    if ((text[i + 1] == '-' && text[i + 2] == '-') || (text[i + 1] == '=' && text[i + 2] == '='))
      return i;
  }
  return std::string_view::npos;
}

// Postfix debug_peer lines name the peer after the marker: "< mx.example[192.0.2.1]:25: 250-...".
std::size_t postfix_endpoint(std::string_view s) {
  std::size_t open = s.find('[');
  if (open == std::string_view::npos || open == 0 || s.substr(0, open).find(' ') != std::string_view::npos) return 0;
  std::size_t close = s.find(']', open);
  if (close == std::string_view::npos) return 0;
  std::size_t j = close + 1;
  if (j < s.size() && s[j] == ':' && digits(s, j + 1) > 0) j += 1 + digits(s, j + 1);
  if (j + 1 >= s.size() || s[j] != ':' || s[j + 1] != ' ') return 0;
  return j + 2;
}

// openssl's hex dumps of session tickets: "    0000 - 52 d1 4f 64 ...-68 ef ...   R.Od....h".
bool is_hex_dump(std::string_view s) {
  if (s.size() < 10) return false;
  for (std::size_t i = 0; i < 4; ++i)
    if (!is_hex(s[i])) return false;
  return s.substr(4, 3) == " - " && is_hex(s[7]) && is_hex(s[8]);
}

// ---- format signatures ------------------------------------------------------------------

struct signature_counts {
  std::size_t lines = 0;
  std::size_t swaks = 0, swaks_markers = 0, ptf = 0, s_client = 0, curl_info = 0, curl_markers = 0, msmtp = 0;
  std::size_t postfix = 0, exim = 0, exchange = 0, outlook = 0, thunderbird = 0, telnet = 0, wireshark = 0, esa = 0;
};

paste_format decide(const signature_counts& c) {
  if (c.exchange > 0) return paste_format::exchange_log;
  if (c.wireshark > 0) return paste_format::wireshark;
  if (c.esa > 0) return paste_format::cisco_esa_telnet;
  if (c.s_client > 0) return paste_format::openssl_s_client;
  if (c.outlook > 0) return paste_format::outlook_log;
  if (c.thunderbird > 0) return paste_format::thunderbird_log;
  if (c.exim > 0) return paste_format::exim_debug;
  if (c.postfix > 0) return paste_format::postfix_log;
  if (c.ptf > 0) return paste_format::posttls_finger;
  if (c.msmtp > 0) return paste_format::msmtp;
  if (c.swaks > 0 && c.swaks_markers > 0) return paste_format::swaks;
  if (c.curl_info > 0 && c.curl_markers > 0) return paste_format::curl;
  if (c.telnet > 0) return paste_format::telnet;
  return paste_format::plain;
}

void count_signature(std::string_view raw, signature_counts& c) {
  ++c.lines;
  std::string_view s = raw.substr(skip_spaces(raw, 0));
  if (s.starts_with("#Software: Microsoft Exchange") || s.starts_with("#Log-type: SMTP Send Protocol Log") ||
      s.starts_with("#Log-type: SMTP Receive Protocol Log") || s.starts_with("#Fields: date-time,connector-id"))
    ++c.exchange;
  if (s.starts_with("Follow: tcp,")) ++c.wireshark;
  if (s.starts_with("Enter the remote hostname or IP address") || s.starts_with("Please select which interface you want to use"))
    ++c.esa;
  if (s.starts_with("CONNECTED(") || s.starts_with("CONNECTION ESTABLISHED") || s.starts_with("SSL handshake has read") ||
      s.starts_with("SSL-Session:") || s.starts_with("didn't find starttls") ||
      (contains(s, ":error:") && contains(s, "SSL routines")))
    ++c.s_client;
  if (contains(s, "<rx> ") || contains(s, "[tx] ")) ++c.outlook;
  if (contains(s, "SMTP Response: ") || contains(s, "SMTP Send: ")) ++c.thunderbird;
  if (contains(s, "SMTP<< ") || contains(s, "SMTP>> ")) ++c.exim;
  if (contains(s, "postfix/smtp[") || contains(s, "postfix/smtpd[") || contains(s, "postfix/lmtp[")) {
    std::string_view after = s.substr(s.find("postfix/"));
    std::size_t colon = after.find("]: ");
    if (colon != std::string_view::npos) {
      std::string_view rest = after.substr(colon + 3);
      if ((rest.starts_with("< ") || rest.starts_with("> ")) && postfix_endpoint(rest.substr(2)) > 0) ++c.postfix;
    }
  }
  if (contains(s, "posttls-finger: ")) ++c.ptf;
  if (s.starts_with("<-- ") || s.starts_with("--> ")) ++c.msmtp;
  if (s.starts_with("=== Trying ") || s.starts_with("=== Connected to ") || s.starts_with("=== TLS started") ||
      s.starts_with("*** TLS startup failed") || s.starts_with("*** STARTTLS attempted but failed"))
    ++c.swaks;
  if (raw.starts_with("<-  ") || raw.starts_with(" -> ") || raw.starts_with("<~  ") || raw.starts_with(" ~> ") ||
      raw.starts_with("<** "))
    ++c.swaks_markers;
  if (s.starts_with("* Connected to ") || s.starts_with("*   Trying ") || contains(s, "*   Trying ") ||
      s.starts_with("* SSL connection using") || s.starts_with("* Connection #"))
    ++c.curl_info;
  if (s.starts_with("< ") || s.starts_with("> ")) ++c.curl_markers;
  if (s.starts_with("Escape character is '^]'.") || s.starts_with("Connection closed by foreign host")) ++c.telnet;
}

// Formats whose every SMTP line carries a direction marker: unmarked lines are the tool's own.
bool marked_format(paste_format f) {
  switch (f) {
    case paste_format::swaks:
    case paste_format::posttls_finger:
    case paste_format::curl:
    case paste_format::msmtp:
    case paste_format::postfix_log:
    case paste_format::exim_debug:
    case paste_format::exchange_log:
    case paste_format::outlook_log:
    case paste_format::thunderbird_log: return true;
    default: return false;
  }
}

// What a tool line says about the session (only lines that are not SMTP lines are asked).
bool tool_event_of(std::string_view s, tool_event_kind& kind) {
  if (contains(s, "TLS started with cipher") || contains(s, "TLS connection established") ||
      s.starts_with("CONNECTION ESTABLISHED") || (s.starts_with("New, TLSv") && contains(s, "Cipher is")) ||
      (s.starts_with("New, SSLv") && contains(s, "Cipher is")) || contains(s, "SSL connection using") ||
      s.starts_with("TLS session parameters:")) {
    kind = tool_event_kind::tls_established;
    return true;
  }
  if (contains(s, "TLS startup failed") || contains(s, "handshake failure") || contains(s, "TLS handshake failed") ||
      contains(s, "SSL_connect error") || contains(s, "SSL_connect:") || contains(s, "wrong version number") ||
      s.starts_with("New, (NONE), Cipher is (NONE)") || contains(s, "Cannot start TLS") ||
      contains(s, "SSL routines") || s.starts_with("curl: (35)")) {
    kind = tool_event_kind::tls_failed;
    return true;
  }
  if (s.starts_with("didn't find starttls")) {
    kind = tool_event_kind::starttls_not_found;
    return true;
  }
  if (contains(s, "Connection closed by foreign host") || contains(s, "closed connection unexpectedly") ||
      contains(s, "Remote host closed connection") || contains(s, "Connection reset")) {
    kind = tool_event_kind::connection_closed;
    return true;
  }
  return false;
}

// Reads one CSV field at `i` (RFC 4180 quoting); returns the field's contents as a view of the
// line (quotes removed; a field with doubled quotes keeps them) and moves `i` past the comma.
std::string_view csv_field(std::string_view s, std::size_t& i, std::size_t& start) {
  if (i < s.size() && s[i] == '"') {
    std::size_t j = i + 1;
    while (j < s.size()) {
      if (s[j] == '"' && j + 1 < s.size() && s[j + 1] == '"') j += 2;
      else if (s[j] == '"') break;
      else ++j;
    }
    start = i + 1;
    std::string_view f = s.substr(i + 1, j - i - 1);
    i = std::min(s.size(), j + 1);
    if (i < s.size() && s[i] == ',') ++i;
    return f;
  }
  std::size_t comma = s.find(',', i);
  std::size_t end = comma == std::string_view::npos ? s.size() : comma;
  start = i;
  std::string_view f = s.substr(i, end - i);
  i = comma == std::string_view::npos ? s.size() : comma + 1;
  return f;
}

}  // namespace

bool starts_with_command(std::string_view text) {
  static constexpr std::array<std::string_view, 20> verbs{
      "EHLO", "HELO", "LHLO", "STARTTLS", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "NOOP",
      "AUTH", "VRFY", "EXPN", "HELP", "BDAT", "ETRN", "TURN", "ATRN", "XCLIENT", "XFORWARD"};
  for (auto v : verbs) {
    if (!iequals_prefix(text, v)) continue;
    if (text.size() == v.size() || is_space(text[v.size()]) || text[v.size()] == ':') return true;
  }
  return false;
}

namespace {

struct reader_setup {
  paste_format format = paste_format::plain;
  line_prefix prefix = line_prefix::none;
  bool quoted = false;
  std::string_view common_tag;     // a program tag that most lines carry ("posttls-finger")
  std::size_t number_base = 0;     // line_number: the number on input line 1 minus 1
  // Exchange protocol log: columns of "event" and "data", and whether "<" is the server.
  std::size_t csv_event = 6, csv_data = 7;
  bool csv_receive = false;
};

// Quote marks of mail ("> ", ">> ", "> > ") in front of a line; returns their length.
std::size_t quote_length(std::string_view s) {
  std::size_t j = 0;
  while (j < s.size() && s[j] == '>') {
    ++j;
    if (j < s.size() && s[j] == ' ') ++j;
  }
  return j;
}

bool is_blank(std::string_view s) { return trim_right(s.substr(skip_spaces(s, 0))).empty(); }

reader_setup setup_for(const std::vector<std::string_view>& lines) {
  reader_setup r;
  std::size_t probe = std::min(lines.size(), format_probe_lines);

  // Mail quoting: every non-blank line starts with ">", and some line is a quoted reply.
  std::size_t nonblank = 0, quoted = 0, quoted_reply = 0;
  for (std::size_t i = 0; i < probe; ++i) {
    if (is_blank(lines[i])) continue;
    ++nonblank;
    if (lines[i].starts_with(">")) {
      ++quoted;
      std::string_view in = lines[i].substr(quote_length(lines[i]));
      in = in.substr(skip_spaces(in, 0));
      for (const auto& m : markers)  // a quoted "<-  250-..." is a quoted reply too
        if (in.starts_with(m.mark)) {
          in = in.substr(skip_spaces(in, m.mark.size()));
          break;
        }
      if (is_coded(in)) ++quoted_reply;
    }
  }
  // An attribution line ("On ..., ... wrote:") or a signature may stand outside the quote:
  // three quarters of the lines, or all but two, carry it.
  r.quoted = nonblank > 0 && (quoted * 4 >= nonblank * 3 || nonblank - quoted <= 2) && quoted >= 2 && quoted_reply > 0;
  auto body = [&](std::string_view l) { return r.quoted ? l.substr(quote_length(l)) : l; };

  signature_counts sig;
  std::size_t syslog = 0, stamped = 0, numbered = 0;
  std::size_t number_base = 0;
  bool numbers_agree = true;
  for (std::size_t i = 0; i < probe; ++i) {
    std::string_view l = body(lines[i]);
    if (is_blank(l)) continue;
    count_signature(l, sig);
    if (syslog_header(l) > 0) ++syslog;
    else if (timestamp_header(l) > 0) ++stamped;
    // "12: ", "12 | ", "12\t", "  12  " where 12 counts up with the input lines.
    std::size_t j = skip_spaces(l, 0);
    std::size_t d = digits(l, j);
    if (d > 0 && d < 7 && j + d < l.size() && (l[j + d] == ':' || l[j + d] == '|' || is_space(l[j + d]))) {
      std::size_t n = std::stoul(std::string(l.substr(j, d)));
      if (n < i + 1) {
        numbers_agree = false;
      } else if (numbered == 0) {
        number_base = n - (i + 1);
        ++numbered;
      } else if (n - (i + 1) == number_base) {
        ++numbered;
      } else {
        numbers_agree = false;
      }
    } else {
      numbers_agree = false;
    }
  }
  r.format = decide(sig);
  if (nonblank > 0 && syslog * 2 >= nonblank) r.prefix = line_prefix::syslog;
  else if (nonblank > 0 && stamped * 2 >= nonblank) r.prefix = line_prefix::timestamp;
  else if (numbers_agree && numbered >= 3 && numbered == nonblank) {
    r.prefix = line_prefix::line_number;
    r.number_base = number_base;
  }
  if (r.format == paste_format::exchange_log) r.prefix = line_prefix::csv_columns;

  // A program tag that at least half of the lines carry after their header ("posttls-finger: ").
  std::vector<std::pair<std::string_view, std::size_t>> tags;
  for (std::size_t i = 0; i < probe && r.prefix != line_prefix::csv_columns; ++i) {
    std::string_view l = body(lines[i]);
    std::size_t h = r.prefix == line_prefix::syslog ? syslog_header(l)
                    : r.prefix == line_prefix::timestamp ? timestamp_header(l)
                                                         : 0;
    if (r.prefix == line_prefix::syslog) continue;  // the syslog header holds the tag already
    std::string_view name;
    if (tag_at(l, h, &name) == 0) continue;
    auto it = std::find_if(tags.begin(), tags.end(), [&](const auto& t) { return t.first == name; });
    if (it == tags.end()) tags.emplace_back(name, 1);
    else ++it->second;
  }
  for (const auto& t : tags)
    if (t.second * 2 >= nonblank && t.second >= 2) r.common_tag = t.first;

  if (r.format == paste_format::exchange_log) {
    // "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context"
    for (std::size_t i = 0; i < probe; ++i) {
      std::string_view l = body(lines[i]);
      if (l.starts_with("#Log-type: SMTP Receive")) r.csv_receive = true;
      if (!l.starts_with("#Fields: ")) continue;
      std::string_view f = l.substr(9);
      std::size_t idx = 0, pos = 0, start = 0;
      while (pos < f.size()) {
        std::string_view name = trim_right(csv_field(f, pos, start));
        if (name == "event") r.csv_event = idx;
        if (name == "data") r.csv_data = idx;
        ++idx;
      }
    }
  }
  return r;
}

}  // namespace

paste_format detect_paste_format(std::string_view input) { return setup_for(split_lines(input)).format; }

transcript read_transcript(std::string_view input) {
  transcript t;
  std::vector<std::string_view> lines = split_lines(input);
  reader_setup setup = setup_for(lines);
  t.format = setup.format;
  t.prefix = setup.prefix;
  t.quoted = setup.quoted;
  t.input_lines = lines.size();

  const bool marked = marked_format(t.format);
  bool reply_open = false;     // the last server line announced more lines ("250-")
  bool in_pem = false;         // inside "-----BEGIN ...-----" .. "-----END ...-----"
  bool in_session = false;     // inside an openssl "SSL-Session:" block
  bool leftover_open = false;  // s_client: the next final line is the plaintext reply's last
  std::size_t leftover_at = 0;
  bool wireshark_data = false;  // tshark: past the "Node 1:" header

  auto ignore = [&](std::size_t line, bool tool, bool dump) {
    t.ignored.push_back(line);
    if (tool) ++t.tool_lines;
    if (dump) ++t.tls_dump_lines;
  };

  for (std::size_t index = 0; index < lines.size(); ++index) {
    std::string_view source = lines[index];
    std::size_t number = index + 1;

    std::size_t col = setup.quoted ? quote_length(source) : 0;
    auto rest_at = [&](std::size_t c) { return source.substr(std::min(c, source.size())); };

    // The header every line of the format carries.
    if (setup.prefix == line_prefix::syslog) {
      col += syslog_header(rest_at(col));
    } else if (setup.prefix == line_prefix::timestamp) {
      col += timestamp_header(rest_at(col));
    } else if (setup.prefix == line_prefix::line_number) {
      std::size_t j = skip_spaces(source, col);
      j += digits(source, j);
      if (j < source.size() && (source[j] == ':' || source[j] == '|')) ++j;
      if (j < source.size() && is_space(source[j])) ++j;  // one separator: indentation after it is the paste's
      col = j;
    }
    if (!setup.common_tag.empty()) {
      std::string_view name;
      std::size_t tag = tag_at(rest_at(col), 0, &name);
      if (tag > 0 && name == setup.common_tag) col += tag;
    } else if (setup.prefix != line_prefix::syslog) {
      bool pid = false;
      std::size_t tag = tag_at(rest_at(col), 0, nullptr, &pid);
      if (tag > 0 && pid) col += tag;
    }

    std::string_view rest;
    transcript_line l;
    l.line = number;
    l.source = source;

    // Exchange: the "data" column of rows whose "event" is "<" or ">".
    if (t.format == paste_format::exchange_log) {
      std::string_view row = rest_at(col);
      if (row.empty() || row.starts_with("#")) {
        if (!is_blank(row)) ignore(number, true, false);
        continue;
      }
      ++t.exchange_rows;
      std::size_t pos = 0, start = 0, data_start = 0;
      std::string_view event, data;
      for (std::size_t idx = 0; pos < row.size(); ++idx) {
        std::string_view f = csv_field(row, pos, start);
        if (idx == setup.csv_event) event = f;
        if (idx == setup.csv_data) data = f, data_start = start;
      }
      if (event != "<" && event != ">") {
        ignore(number, true, false);
        continue;
      }
      bool received = event == "<";
      l.dir = (received != setup.csv_receive) ? direction::server : direction::client;
      l.prefixed = true;
      col += data_start;
      rest = trim_right(data);
      if (rest.empty()) {
        ignore(number, true, false);
        continue;
      }
      l.text = rest;
      l.column_offset = col;
      t.lines.push_back(l);
      continue;
    }

    col = skip_spaces(source, col);
    rest = rest_at(col);
    if (trim_right(rest).empty() || is_fence(rest)) continue;

    // TLS output of openssl and the other tools: certificate blocks, session blocks, hex dumps.
    if (in_pem) {
      if (rest.starts_with("-----END ")) in_pem = false;
      ignore(number, true, true);
      continue;
    }
    if (rest.starts_with("-----BEGIN ")) {
      in_pem = true;
      ignore(number, true, true);
      continue;
    }
    if (in_session && col > 0) {
      ignore(number, true, true);
      continue;
    }
    in_session = false;
    if (rest.starts_with("SSL-Session:")) {
      in_session = true;
      ignore(number, true, true);
      continue;
    }
    if (is_hex_dump(rest)) {
      ignore(number, true, true);
      continue;
    }
    if (contains(rest, ":error:") && contains(rest, "routines")) {  // OpenSSL's error queue
      t.events.push_back({tool_event_kind::tls_failed, number, t.lines.size()});
      ignore(number, true, false);
      continue;
    }
    if (trim_right(rest) == "---") {
      ignore(number, true, false);
      reply_open = false;
      continue;
    }

    // Tool-specific leading text in front of the marker.
    if (t.format == paste_format::outlook_log || t.format == paste_format::thunderbird_log) {
      for (std::string_view m : {"<rx> ", "[tx] ", "SMTP Response: ", "SMTP Send: "}) {
        std::size_t at = rest.find(m);
        if (at == std::string_view::npos) continue;
        l.dir = (m == "<rx> " || m == "SMTP Response: ") ? direction::server : direction::client;
        l.prefixed = true;
        col = skip_spaces(source, col + at + m.size());
        rest = rest_at(col);
        break;
      }
      if (!l.prefixed) {  // "Begin execution", "Finding host", "SMTP entering state"
        tool_event_kind kind;
        if (tool_event_of(rest, kind)) t.events.push_back({kind, number, t.lines.size()});
        ignore(number, true, false);
        continue;
      }
    }
    if (t.format == paste_format::exim_debug) {
      // exim -d+pid and mainlog debug lines carry a process id before the marker: "12345 SMTP<< ".
      std::size_t d = digits(rest, 0);
      if (d > 0 && d < rest.size() && rest[d] == ' ') {
        std::size_t after = skip_spaces(rest, d);
        std::string_view next = rest.substr(after);
        if (next.starts_with("SMTP") || is_coded(next)) col = skip_spaces(source, col + d), rest = rest_at(col);
      }
    }
    if (t.format == paste_format::wireshark) {
      // tshark -z follow,tcp,ascii: a header, then each segment's length on a line of its own
      // before its data; the second node's data is indented with a tab.
      if (rest.starts_with("Node 1:")) {
        wireshark_data = true;
        ignore(number, true, false);
        continue;
      }
      if (!wireshark_data || rest.starts_with("====") || rest.starts_with("Follow:") || rest.starts_with("Filter:") ||
          rest.starts_with("Node 0:") || digits(rest, 0) == trim_right(rest).size()) {
        ignore(number, true, false);
        continue;
      }
    }

    if (rest.starts_with("<--") || rest.starts_with("<==")) {
      // msmtp's "<-- 250-..." is a server line; "<--- greeting" on its own line is an annotation.
      std::string_view after = rest.substr(rest.find_first_not_of("<-=") == std::string_view::npos
                                               ? rest.size()
                                               : rest.find_first_not_of("<-="));
      bool msmtp = rest.starts_with("<-- ") && is_coded(after.substr(skip_spaces(after, 0)));
      if (!msmtp) {
        ignore(number, false, false);
        continue;
      }
    }

    if (!l.prefixed) {
      for (const auto& m : markers) {
        if (!rest.starts_with(m.mark)) continue;
        std::size_t after = m.mark.size();
        if (m.needs_space && (after >= rest.size() || !is_space(rest[after]))) continue;
        if (m.mark == "~") break;
        l.dir = m.dir;
        l.prefixed = true;
        l.inside_tls = m.inside_tls;
        after = skip_spaces(rest, after);
        col += after;
        rest = rest.substr(after);
        break;
      }
    }
    // Postfix debug_peer: "< host[addr]:port: text"; smtpd logs the other way round.
    if (l.prefixed && t.format == paste_format::postfix_log) {
      if (std::size_t e = postfix_endpoint(rest)) {
        col += e;
        rest = rest.substr(e);
        if (contains(source.substr(0, col), "/smtpd["))
          l.dir = l.dir == direction::server ? direction::client : direction::server;
      }
    }
    if (auto a = annotation_start(rest); a != std::string_view::npos) rest = rest.substr(0, a);
    rest = trim_right(rest);
    if (rest.empty()) {
      ignore(number, l.prefixed, false);
      continue;
    }
    l.text = rest;
    l.column_offset = col;

    bool coded = is_coded(rest);
    if (!l.prefixed) {
      bool continuation = reply_open && (coded || !marked);
      if (t.format == paste_format::wireshark) {
        l.dir = col > 0 && source[0] == '\t' ? direction::client : direction::server;
        if (!coded && !starts_with_command(rest) && !reply_open) {
          ignore(number, false, false);
          continue;
        }
      } else if (marked && !continuation) {
        // A line of the tool's own: what it says about TLS is kept.
        tool_event_kind kind;
        if (tool_event_of(rest, kind)) {
          t.events.push_back({kind, number, t.lines.size()});
        }
        ignore(number, true, false);
        reply_open = false;
        continue;
      } else if (coded || continuation) {
        l.dir = direction::server;
      } else if (starts_with_command(rest)) {
        l.dir = direction::client;
      } else {
        tool_event_kind kind;
        bool tool = tool_event_of(rest, kind);
        if (tool) {
          t.events.push_back({kind, number, t.lines.size()});
          if (kind == tool_event_kind::tls_established) {
            if (t.format == paste_format::openssl_s_client) leftover_open = true, leftover_at = t.lines.size();
          }
        }
        ignore(number, tool || t.format != paste_format::plain, false);
        continue;
      }
    }
    if (l.dir == direction::server) {
      if (coded) reply_open = !is_final_line(rest);
    } else {
      reply_open = false;
    }
    // s_client: the first final line after the handshake output, when more SMTP lines follow,
    // is the last line of the plaintext EHLO reply (decided when the next SMTP line comes).
    if (leftover_open && !t.plaintext_leftover.empty() && t.lines.size() == leftover_at + 1) {
      t.lines.pop_back();
      t.ignored.push_back(t.plaintext_leftover.back());
      ++t.tool_lines;
      leftover_open = false;
    } else if (leftover_open && l.dir == direction::server && t.lines.size() == leftover_at) {
      if (is_final_line(rest)) {
        t.plaintext_leftover.push_back(number);
        t.lines.push_back(l);
        continue;
      }
      leftover_open = false;
    } else if (l.dir == direction::client) {
      leftover_open = false;
    }
    t.lines.push_back(l);
  }
  if (leftover_open && !t.plaintext_leftover.empty()) t.plaintext_leftover.clear();  // nothing followed it
  std::sort(t.ignored.begin(), t.ignored.end());
  return t;
}

}  // namespace mxtls
