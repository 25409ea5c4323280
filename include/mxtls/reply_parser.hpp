// Incremental push parser for SMTP replies (RFC 5321 §4.2).
//
// Feed any chunk of octets; the parser consumes until a reply completes or the chunk
// runs out, and says how much it consumed. Memory is bounded by parser_limits whatever
// the input: octets beyond a limit are counted, not stored, and the reply records which
// limit was hit so that the linter can report it.
#pragma once

#include <cstddef>
#include <string_view>

#include "mxtls/reply.hpp"

namespace mxtls {

struct parser_limits {
  // Octets of one line kept (RFC 5321 §4.5.3.1.5 allows 512 with CRLF; longer lines
  // are kept up to this limit so that they can be shown and judged).
  std::size_t max_line_octets = 4096;
  // Lines of one reply kept. A real EHLO reply has a few dozen.
  std::size_t max_lines = 1000;
  // Octets of one reply kept, line endings included.
  std::size_t max_reply_octets = 64 * 1024;
};

class reply_parser {
 public:
  explicit reply_parser(parser_limits limits = {});

  // Consumes octets from `bytes` until a reply is complete (has_reply() becomes true)
  // or every octet is consumed. Returns the number consumed. Once has_reply() is true,
  // take_reply() must be called before feeding more.
  std::size_t feed(std::string_view bytes);

  // End of stream: a pending line is closed (line_ending::none, or cr for a trailing
  // CR) and a reply in progress is handed out as incomplete. Returns has_reply().
  bool finish();

  bool has_reply() const { return ready_; }
  reply take_reply();
  // The same, into `into`, whose buffers the parser keeps for the next reply: no
  // allocation in steady state.
  void take_reply(reply& into);

  // Octets consumed so far and lines completed so far, over the whole stream.
  std::size_t offset() const { return offset_; }
  std::size_t lines_seen() const { return line_number_; }
  const parser_limits& limits() const { return limits_; }

 private:
  bool whole_line(std::string_view line, line_ending e);
  void append(std::string_view part);
  void end_line(line_ending e);

  parser_limits limits_;
  reply current_;
  bool ready_ = false;
  bool pending_cr_ = false;

  // The line in progress.
  bool in_line_ = false;
  bool storing_ = true;      // false once the reply's lines/octets limit is reached
  std::size_t line_offset_ = 0;
  std::size_t line_length_ = 0;
  std::uint32_t line_begin_ = 0;
  char head_[4] = {};        // the first four octets, kept even when the line is not stored

  std::size_t offset_ = 0;
  std::size_t line_number_ = 0;
};

// Convenience: all replies of a complete byte stream, in order.
std::vector<reply> parse_replies(std::string_view bytes, parser_limits limits = {});
// The same, into `out`, reusing its elements' buffers.
void parse_replies(std::string_view bytes, const parser_limits& limits, std::vector<reply>& out);

}  // namespace mxtls
