// Reads an SMTP conversation the way people paste it.
//
// Accepted: a bare reply; server and client lines interleaved; lines prefixed with
// "S:"/"C:", "<-"/"->", "<~"/"~>" (swaks), "<<<"/">>>", "<"/">"; indentation; trailing
// white space; annotations after a line ("250-STARTTLS <--- before the greeting");
// Markdown code fences. Lines that are neither server nor client lines are listed as
// ignored, never dropped silently.
//
// The output of the tools and logs postmasters paste is recognised (paste_format.hpp):
// what every line of the format carries in front (syslog headers, timestamps, line
// numbers, program names, CSV columns) is stripped, its direction markers are mapped,
// and its own chatter (TLS session dumps, certificate blocks, "---" separators, progress
// lines) is listed as ignored. What the tool says about the TLS handshake is kept as an
// event, for the dialogue facts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "mxtls/paste_format.hpp"

namespace mxtls {

enum class direction : std::uint8_t { server, client };

struct transcript_line {
  std::size_t line = 0;           // 1-based line number in the input
  std::size_t column_offset = 0;  // octets before `text` in the input line
  direction dir = direction::server;
  bool prefixed = false;          // the direction came from an explicit prefix
  bool inside_tls = false;        // the tool's marker says the line went inside TLS (swaks "<~")
  std::string_view text;          // the SMTP line: no prefix, annotation or trailing space
  std::string_view source;        // the whole input line as given (without its line ending)
};

// What the tool printed about the session, other than SMTP lines.
enum class tool_event_kind : std::uint8_t {
  tls_established,     // "TLS started with cipher", "TLS connection established", "New, TLSv1.3, Cipher is"
  tls_failed,          // "TLS startup failed", "handshake failure", "wrong version number", ...
  starttls_not_found,  // openssl s_client: "didn't find starttls in server response"
  connection_closed,   // "Connection closed by foreign host", swaks "Remote host closed connection"
};

struct tool_event {
  tool_event_kind kind;
  std::size_t line = 0;      // input line
  std::size_t position = 0;  // index into transcript::lines of the next SMTP line
};

struct transcript {
  std::vector<transcript_line> lines;  // server and client lines, in input order
  std::vector<std::size_t> ignored;    // lines that are neither (notes, prose, tool output)
  std::size_t input_lines = 0;
  paste_format format = paste_format::plain;
  line_prefix prefix = line_prefix::none;
  bool quoted = false;                        // every line was quoted with "> " (mail)
  std::vector<tool_event> events;             // in input order
  std::size_t tool_lines = 0;                 // ignored lines that are the tool's own output
  std::size_t tls_dump_lines = 0;             // of those: certificate, session and ticket dumps
  // openssl s_client prints the last line of the EHLO reply sent before TLS after its
  // handshake output; that line is not part of the reply that follows it.
  std::vector<std::size_t> plaintext_leftover;
  std::size_t exchange_rows = 0;              // CSV rows of an Exchange protocol log
};

transcript read_transcript(std::string_view input);

// The format only, from the same signatures read_transcript() uses.
paste_format detect_paste_format(std::string_view input);

// True when `text` starts with an SMTP command verb (EHLO, STARTTLS, MAIL, ...).
bool starts_with_command(std::string_view text);

}  // namespace mxtls
