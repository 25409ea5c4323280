// The EHLO reply model (RFC 5321 §4.1.1.1, RFC 1869 §4.3):
//
//   ehlo-ok-rsp = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
//               / ( "250-" Domain [ SP ehlo-greet ] CRLF
//                   *( "250-" ehlo-line CRLF )
//                   "250" SP ehlo-line CRLF )
//   ehlo-line   = ehlo-keyword *( SP ehlo-param )
//   ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//
// The model keeps both what a strict client reads (the first line as greeting, the
// keyword lines up to the first final line) and everything the server actually sent, so
// that a finding can point at either.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/finding.hpp"
#include "mxtls/reply.hpp"

namespace mxtls {

// Where a line of the server's turn stands in the user's input.
struct line_origin {
  std::size_t line = 0;           // 1-based input line
  std::size_t column_offset = 0;  // octets before the reply code in that input line
  std::string_view source;        // the input line as given (empty: use the reply text)
};

// Everything the server sent in answer to EHLO, up to the client's next command: one
// reply, or several when a final line came too early.
struct server_turn {
  std::vector<reply> replies;
  std::vector<line_origin> origins;  // one per line, in order over all replies
  bool raw = false;                  // line endings and trailing white space are judged
  std::size_t dropped_lines = 0;     // lines past the turn's line limit, not examined
  std::size_t examine_limit = 0;     // that limit, for the finding's message
};

struct greeting {
  std::string domain;       // first word of the first line
  std::string text;         // the rest of the line
  std::size_t line = 0;     // input line
  bool address_literal = false;
  bool valid = false;       // domain or address literal per RFC 5321 §4.1.2
};

struct ehlo_extension {
  std::string keyword;              // as sent (case kept)
  std::vector<std::string> params;
  std::size_t line = 0;             // input line
  bool seen_by_strict_client = false;  // stands after the greeting, before any early final line
};

struct ehlo_reply {
  int code = -1;
  std::optional<mxtls::greeting> greeting;  // what a strict client takes as the greeting
  std::vector<ehlo_extension> extensions;   // every ehlo-line the server sent
  std::size_t lines_sent = 0;               // lines in the turn
  std::size_t lines_read_strictly = 0;      // lines up to the first final line
  bool starttls_visible = false;   // a strict client finds the STARTTLS keyword
  bool starttls_anywhere = false;  // the word STARTTLS appears somewhere in the turn
  std::vector<finding> findings;   // in input order
};

ehlo_reply analyse_ehlo(const server_turn& turn);
// The same, into `out`, reusing its buffers (for callers that lint many replies).
void analyse_ehlo(const server_turn& turn, ehlo_reply& out);

// RFC 5321 §4.1.2 Domain, and address literals ("[192.0.2.1]", "[IPv6:2001:db8::1]").
bool is_domain(std::string_view s);
bool is_address_literal(std::string_view s);
// Keywords of the IANA SMTP Service Extensions registry and common private ones.
bool is_known_keyword(std::string_view s);
// The word STARTTLS anywhere in `text`, in any case.
bool mentions_starttls(std::string_view text);

}  // namespace mxtls
