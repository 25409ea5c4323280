// Pasted text as people bring it: from web pages, mail clients, Windows consoles. Unicode
// that stands in for ASCII is put back to ASCII, UTF-16 is decoded, CR-only line endings
// become LF. Every change is counted as a note about the paste, never as a fault of the
// server. Used by `mxtls lint` in paste mode only; --raw judges the octets as given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls {

enum class paste_change : std::uint8_t {
  utf16_le,               // the input was UTF-16 little-endian (PowerShell 5.1 "Out-File")
  utf16_be,               // UTF-16 big-endian
  byte_order_mark,        // U+FEFF at the start (or inside) removed
  no_break_space,         // U+00A0 -> SP
  narrow_no_break_space,  // U+202F, U+2007 figure space, U+2009 thin space -> SP
  non_breaking_hyphen,    // U+2011, U+2010, U+2012, U+2013, U+2212 -> "-"
  zero_width,             // U+200B, U+200C, U+200D, U+2060 removed
  cr_line_endings,        // lines ended by CR alone (classic Mac, some terminals) -> LF
};
const char* to_string(paste_change c);  // stable id: "utf16-le", "no-break-space", ...

struct paste_note {
  paste_change change;
  std::size_t count = 0;       // how many characters (or line endings) were changed
  std::size_t first_line = 0;  // 1-based line of the first one, in the normalised text
};

struct normalised_paste {
  std::string text;               // the text to read; equal to the input when notes is empty
  std::vector<paste_note> notes;  // in the order of paste_change
  bool utf16 = false;             // decoded from UTF-16
  bool utf16_invalid = false;     // looked like UTF-16 but did not decode (unpaired surrogate)
};

// Limit: the decoded text is at most 4 octets per UTF-16 unit, so at most twice the input.
normalised_paste normalise_paste(std::string_view input);

}  // namespace mxtls
