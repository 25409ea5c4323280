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
  unknown,    // a service whose behaviour here its vendor does not document (Microsoft 365, Gmail)
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
  ehlo_not_modelled,      // a service without a model of its EHLO reading, and the modelled clients disagree
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
  same_code_space,     // Go textproto: a well-formed line with the first line's code and SP
  short_or_space,      // a line shorter than four octets or whose fourth octet is a space
};

// The form a line must have for a rule that looks at it.
enum class line_form : std::uint8_t {
  any,                           // every line
  has_code,                      // three digits first
  code_space_hyphen_or_end,      // "ddd" then SP, '-' or the line's end
  code_space_hyphen_tab_or_end,  // "ddd" then SP, '-', TAB or the line's end (Postfix)
  code_space_or_hyphen,          // "ddd" then SP or '-'
  code_2345_space_or_hyphen,     // ^[2345]dd[ -] (Haraka)
  code_250_space_or_hyphen,      // "250" then SP or '-' (Exim's keyword regex)
  space_or_hyphen_fourth,        // the fourth octet is SP or '-', whatever comes before it (curl)
};
bool has_form(line_form f, std::string_view line);
std::string_view describe(line_form f);  // as a pattern, d a digit: "^ddd[ -]"

// --- How a client finds the STARTTLS keyword in its reply ------------------------------

// Which lines it searches.
enum class keyword_lines : std::uint8_t {
  every_line,       // the first line too
  after_greeting,   // all but the first line, which it takes as the greeting
  after_host_name,  // lines after the first non-empty one, which is the server's name (Postfix)
};

// Which part of a line it reads the keyword from.
enum class keyword_text : std::uint8_t {
  after_code,              // the octets after "ddd" and the separator
  after_code_trimmed,      // the same, without white space around it
  whole_line,              // the line, code included
  after_code_or_raw_line,  // after the code on a line "ddd SP/-" with the first line's code, else the whole line (Go)
};

// How it cuts the word it compares from that text.
enum class keyword_cut : std::uint8_t {
  word,                  // the text up to the first octet of `stops`
  whole,                 // the whole text
  prefix,                // the text's first eight octets
  keyword_chars,         // the leading run of letters, digits and '-'
  first_word_chars,      // the first run of letters, digits, '_' and '-' anywhere in the text
  anywhere,              // STARTTLS anywhere in the text
  after_space_or_hyphen, // anywhere after SP or '-' and before a non-word octet: /[ -]STARTTLS\b/
};

// A client's keyword rule: what predict() applies and what the "why" text says.
struct keyword_match {
  keyword_lines lines = keyword_lines::after_greeting;
  line_form form = line_form::any;  // lines of another form are skipped
  keyword_text text = keyword_text::after_code;
  keyword_cut cut = keyword_cut::word;
  std::string_view stops = " ";  // for `word`: the octets that end it
  // For `after_code_trimmed`: the octets trimmed from both ends (PHP's trim() also takes
  // NUL and VT).
  std::string_view trims = " \t\r\n";
  // For `after_code_trimmed`: octets skipped before the text only, before `trims` applies
  // (posttls-finger skips every C white-space octet, VT and FF too, after the code; "" none).
  std::string_view skips_leading = "";
  bool case_sensitive = false;
  bool only_if_first_line_continues = false;  // nothing unless the first line is "ddd-" (Ruby)
  // Octets outside printable ASCII, TAB included, are read as '?' (Postfix's printable()).
  bool unprintable_as_question_mark = false;
  // It searches the reply as one C string: nothing after the reply's first octet 0 is seen
  // (Exim's regex over its response buffer).
  bool nul_ends_search = false;

  // In words, e.g. "first word of the text after the code, cut at space, case-insensitive, on
  // every line but the first".
  explicit operator std::string() const;
};
std::string describe(const keyword_match& k);
// The line (0-based, within the reply) where the rule finds STARTTLS, or -1.
int find_keyword(const keyword_match& k, std::span<const std::string> lines);

// What makes a client give up the whole EHLO reply (then it tries HELO or fails). Every
// check that is set applies; 0 and `line_form::any` check nothing.
struct reply_checks {
  std::size_t max_lines = 0;
  std::size_t max_line_octets = 0;
  // The whole reply as the client stores it: every line without its line ending, plus one
  // octet each (Exim keeps the lines in one buffer, joined by a newline).
  std::size_t max_reply_octets = 0;
  line_form every_line = line_form::any;
  line_form first_line = line_form::any;
  bool same_code = false;       // every line has the first line's code
  bool first_code_250 = false;  // the first line's code is 250
  bool last_code_250 = false;   // the last line's code is 250 (the reply's code for it)
};
// Why the checks reject these lines ("a line is longer than 2048 octets"); empty: accepted.
std::string rejection(const reply_checks& c, std::span<const std::string> lines);

// One client. Every field but the descriptive ones (id to tls_setting) is read by predict():
// the "why" text is made from the same fields that decide the outcome.
struct client_model {
  std::string_view id;
  std::string_view short_name;  // for verdicts: "Postfix", "Go"
  std::string_view name;
  std::string_view version;      // the version the model follows
  std::string_view source;       // the source file (or document) it follows
  std::string_view tls_setting;  // the client setting behind `outcome`
  reply_end end = reply_end::space_or_bare_code;
  bool needs_crlf = false;      // a reply in bare LFs never ends for it
  bool cr_ends_line = false;    // a bare CR ends a line
  bool nul_ends_line = false;   // it reads a line as a C string: an octet 0 ends it
  // Lines not of this form are skipped as if they had not been sent (before its end rule
  // and its keyword rule see them); `line_form::any` skips nothing.
  line_form skips_unless = line_form::any;
  bool leftover_fatal = false;  // data after its reply ends the session
  tls_mode mode = tls_mode::opportunistic;
  bool required_sends_anyway = false;  // with TLS required it sends STARTTLS even when not offered
  keyword_match match_rule;            // where and how it finds STARTTLS
  reply_checks rejects;                // what makes it give up the EHLO reply
  bool helo_fallback = true;  // after rejecting a malformed EHLO reply it tries HELO and goes on without TLS
  // It reads lines in pieces of at most this many octets (line ending included), and
  // applies its end rule to every piece; 0: whole lines.
  std::size_t read_chunk = 0;
  // After an EHLO reply that is not 250 it tries HELO and goes on without TLS (else it fails).
  bool helo_on_refusal = true;
  // With TLS required it sends STARTTLS even after falling back to HELO.
  bool required_sends_after_helo = false;
  // With TLS required, after an EHLO reply that is not 250 it neither sends HELO nor gives
  // up: the message is left without a verdict until something times it out (Haraka blocks a
  // HELO in clear on a connection that must be encrypted and drops the session).
  bool required_refusal_stalls = false;
  // A probe that sends no mail: lines left over after a reply without STARTTLS do no harm.
  bool probe = false;
  // It drops what it buffered with the EHLO reply before reading the reply to STARTTLS, so
  // lines left over after an early final line do not desynchronise it.
  bool discards_leftover = false;
  // When lines left over answer its next command and that is not STARTTLS (whose reply it
  // checks), it goes on one reply behind and waits for a reply the server has already sent:
  // it hangs until its timeout.
  bool leftover_waits = false;
  // When lines left over answer its next command and that is not STARTTLS, it takes any
  // positive reply as the one it waits for and goes on one reply behind; whether the message
  // is then delivered or deferred depends on timing (a race with the server's reply to DATA).
  // The prediction stays `fail`; the client matrix accepts a plaintext delivery for it.
  bool leftover_races = false;
};

std::span<const client_model> client_models();
const client_model* find_client_model(std::string_view id);

// The turn's lines as sent, in order (lines past a parser limit are not included).
std::vector<sent_line> sent_lines(const server_turn& turn);

client_prediction predict(const client_model& model, std::span<const sent_line> lines);
std::vector<client_prediction> predict_all(const server_turn& turn);

}  // namespace mxtls
