// Reads an SMTP conversation the way people paste it.
//
// Accepted: a bare reply; server and client lines interleaved; lines prefixed with
// "S:"/"C:", "<-"/"->", "<~"/"~>" (swaks), "<<<"/">>>", "<"/">"; indentation; trailing
// white space; annotations after a line ("250-STARTTLS <--- before the greeting");
// Markdown code fences. Lines that are neither server nor client lines are listed as
// ignored, never dropped silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace mxtls {

enum class direction : std::uint8_t { server, client };

struct transcript_line {
  std::size_t line = 0;           // 1-based line number in the input
  std::size_t column_offset = 0;  // octets before `text` in the input line
  direction dir = direction::server;
  bool prefixed = false;          // the direction came from an explicit prefix
  std::string_view text;          // the SMTP line: no prefix, annotation or trailing space
  std::string_view source;        // the whole input line as given (without its line ending)
};

struct transcript {
  std::vector<transcript_line> lines;  // server and client lines, in input order
  std::vector<std::size_t> ignored;    // lines that are neither (notes, prose)
  std::size_t input_lines = 0;
};

transcript read_transcript(std::string_view input);

// True when `text` starts with an SMTP command verb (EHLO, STARTTLS, MAIL, ...).
bool starts_with_command(std::string_view text);

}  // namespace mxtls
