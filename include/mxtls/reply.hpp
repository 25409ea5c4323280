// SMTP replies as received: RFC 5321 §4.2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls {

// How a line ended on the wire. RFC 5321 §2.3.8: lines end with CRLF; bare CR and
// bare LF are kept apart because clients disagree about them.
enum class line_ending : std::uint8_t { crlf, lf, cr, none };

// The octet after the three-digit code (RFC 5321 §4.2):
//   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//                Reply-code [ SP textstring ] CRLF
enum class separator : std::uint8_t {
  space,    // "250 text": a final line
  hyphen,   // "250-text": more lines follow
  end,      // "250" alone: a final line without text
  other,    // "250_text", "250\ttext": not allowed by the grammar
  no_code,  // the line does not start with three digits
};

const char* to_string(line_ending e);
const char* to_string(separator s);

// One line of a reply. Its content lives in reply::data (see reply::text).
struct reply_line {
  std::size_t number = 0;   // 1-based line number in the stream fed to the parser
  std::size_t offset = 0;   // stream offset of the line's first octet
  std::size_t length = 0;   // octets received before the line ending
  std::uint32_t begin = 0;  // where the stored content starts in reply::data
  std::uint32_t stored = 0; // octets stored; less than length when the line limit cut it
  int code = -1;            // 0..999, or -1 when the line does not start with three digits
  separator sep = separator::no_code;
  line_ending ending = line_ending::none;

  bool truncated() const { return stored < length; }
  bool is_final() const { return sep == separator::space || sep == separator::end; }
  std::size_t ending_octets() const {
    return ending == line_ending::crlf ? 2 : ending == line_ending::none ? 0 : 1;
  }
};

// One reply: the lines up to and including the first final line, or up to the end of
// the stream when no final line came (complete == false).
struct reply {
  std::string data;              // stored content of every stored line, back to back
  std::vector<reply_line> lines; // stored lines, in order
  bool complete = false;         // ended with a final line and its line ending
  std::size_t octets = 0;        // every octet received for this reply, endings included
  std::size_t dropped_lines = 0; // lines received but not stored (lines or octets limit)
  bool line_limit_hit = false;   // some line was longer than parser_limits::max_line_octets
  bool lines_limit_hit = false;  // more lines than parser_limits::max_lines
  bool octets_limit_hit = false; // more octets than parser_limits::max_reply_octets

  std::string_view text(const reply_line& l) const {
    return std::string_view(data).substr(l.begin, l.stored);
  }
  // Content after the code and separator ("250-STARTTLS" -> "STARTTLS").
  std::string_view body(const reply_line& l) const {
    auto t = text(l);
    return l.sep == separator::no_code ? t : t.substr(t.size() < 4 ? t.size() : 4);
  }
  int code() const { return lines.empty() ? -1 : lines.front().code; }
};

// The code of a reply's first line ("ddd" at its start), or -1: for replies read whole
// (a live session's octets), where the push parser's per-line code is not at hand.
int reply_code(std::string_view raw);

}  // namespace mxtls
