// Client models: what each real SMTP client does with an EHLO reply.
//
// Each model reads the lines the server sent the way that client's source code does
// (which line ends its reply, which line is skipped as the greeting, how a keyword is
// matched, which malformations make it give up) and predicts the outcome, assuming the
// server answers STARTTLS with 220 and a working handshake.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/ehlo_reply.hpp"

namespace mxtls {

enum class tls_outcome : std::uint8_t {
  tls,        // TLS is negotiated
  plaintext,  // the message goes without TLS
  fail,       // protocol error, bounce, deferral, or a handshake that fails
  hang,       // the client waits for more of the reply until its timeout
};
const char* to_string(tls_outcome o);

// The rule that decided a prediction: a stable id (docs/client-matrix.md, JSON "reason").
enum class prediction_reason : std::uint8_t {
  sees_starttls,          // finds the STARTTLS keyword where it looks
  starttls_on_greeting,   // STARTTLS stands on the first line, which it takes as the greeting
  keyword_not_matched,    // the word is there, but not in the form its match rule accepts
  starttls_after_end,     // STARTTLS stands after the line that ends the reply for it
  not_offered,            // STARTTLS is not in the reply
  tls_off_by_default,     // uses no TLS unless configured
  rejects_reply_helo,     // rejects the EHLO reply, falls back to HELO: no extensions
  rejects_reply,          // rejects the EHLO reply and gives up
  ehlo_not_250,           // the reply to EHLO is not 250
  leftover_desync,        // lines after its reply's end answer its next command
  leftover_fatal,         // data after the reply's last line ends the session
  waits_for_crlf,         // the reply ends its lines with bare LF; it waits for CRLF
  waits_for_end,          // waits for the line that ends the reply by its rule
  no_reply,               // no reply to EHLO
};
const char* to_string(prediction_reason r);

// One line as the server sent it.
struct sent_line {
  std::string_view text;  // without the line ending
  line_ending ending = line_ending::crlf;
};

struct client_prediction {
  std::string_view id;
  std::string_view name;
  std::string_view short_name;
  std::string_view version;
  bool opportunistic = true;  // has a "TLS when offered" setting (else TLS is off unless required)
  bool sees_starttls = false;
  tls_outcome outcome = tls_outcome::plaintext;           // default or opportunistic TLS setting
  tls_outcome outcome_required = tls_outcome::fail;       // TLS required
  prediction_reason reason = prediction_reason::sees_starttls;  // the rule that decided (default setting)
  std::string why;                                        // the same rule, with the lines it met
};

// How a client behaves when it has seen (or not seen) STARTTLS; facts of its TLS settings.
enum class tls_mode : std::uint8_t {
  opportunistic,  // STARTTLS when offered, plaintext otherwise
  off_by_default, // no TLS unless configured; "required" is its only TLS setting
  always_try,     // sends STARTTLS whether offered or not
};

// Which line ends a reply for this client.
enum class reply_end : std::uint8_t {
  space_or_bare_code,  // "ddd SP" or "ddd" alone (RFC 5321)
  space_tab_or_bare_code,  // also "ddd TAB" (Postfix)
  not_hyphen,          // any line whose fourth octet is not '-'
  space_only,          // only "ddd SP"
  coded_not_hyphen,    // a line with a code whose fourth octet is not '-'; code-less lines skipped
  same_code_space,     // Go textproto: a well-formed line with the first line's code and SP
  short_or_space,      // a line shorter than four octets or whose fourth octet is a space
};

struct client_model {
  std::string_view id;
  std::string_view short_name;  // for verdicts: "Postfix", "Go"
  std::string_view name;
  std::string_view version;      // the version the model follows
  std::string_view source;       // the source file (or document) it follows
  std::string_view tls_setting;  // the client setting behind `outcome`
  reply_end end;
  bool needs_crlf;      // a reply in bare LFs never ends for it
  bool cr_ends_line;    // a bare CR ends a line
  bool leftover_fatal;  // data after its reply ends the session
  tls_mode mode;
  bool any_2xx_starts_tls;      // takes any 2xx to STARTTLS as the go-ahead
  bool required_sends_anyway;   // with TLS required it sends STARTTLS even when not offered
  bool skips_greeting;          // the first line is never searched for keywords
  std::string_view match_rule;  // how it matches the keyword, in words
  // Why it rejects the whole EHLO reply (then it falls back to HELO or fails), or nullptr.
  const char* (*rejects)(std::span<const std::string> lines);
  bool helo_fallback;  // after rejecting a malformed EHLO reply it tries HELO and goes on without TLS
  // The line (0-based, within its reply) where it finds STARTTLS, or -1.
  int (*find_starttls)(std::span<const std::string> lines);
  // It reads lines in pieces of at most this many octets (line ending included), and
  // applies its end rule to every piece; 0: whole lines.
  std::size_t read_chunk = 0;
  // After an EHLO reply that is not 250 it tries HELO and goes on without TLS (else it fails).
  bool helo_on_refusal = true;
  // With TLS required it sends STARTTLS even after falling back to HELO.
  bool required_sends_after_helo = false;
  // A probe that sends no mail: lines left over after a reply without STARTTLS do no harm.
  bool probe = false;
  // It drops what it buffered with the EHLO reply before reading the reply to STARTTLS, so
  // lines left over after an early final line do not desynchronise it.
  bool discards_leftover = false;
};

std::span<const client_model> client_models();
const client_model* find_client_model(std::string_view id);

// The turn's lines as sent, in order (lines past a parser limit are not included).
std::vector<sent_line> sent_lines(const server_turn& turn);

client_prediction predict(const client_model& model, std::span<const sent_line> lines);
std::vector<client_prediction> predict_all(const server_turn& turn);

}  // namespace mxtls
