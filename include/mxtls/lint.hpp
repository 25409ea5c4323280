// `mxtls lint`: from the bytes a user gives to the linted EHLO reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/client_model.hpp"
#include "mxtls/ehlo_reply.hpp"
#include "mxtls/model/dialogue.hpp"
#include "mxtls/paste_format.hpp"
#include "mxtls/paste_text.hpp"
#include "mxtls/reply_parser.hpp"

namespace mxtls {

struct lint_options {
  // The input is the exact octets the server sent: line endings and trailing white space
  // are judged. Otherwise it is pasted text, read by read_transcript().
  bool raw = false;
  parser_limits limits{};
  // When the reader stopped before the end of the input: the octets it kept (the input
  // limit). 0: the whole input was read.
  std::size_t truncated_at = 0;
  // Predict what each client model does with the reply (lint_result::clients). Off for
  // the EHLO reply inside TLS, where the STARTTLS decision has been taken already.
  bool predict_clients = true;
};

enum class verdict_status { ok, warnings, errors };

// Which of the EHLO replies in the input was linted, and why.
enum class linted_turn_reason : std::uint8_t {
  only,              // the input holds one EHLO reply (or a reply without an EHLO command)
  first_before_tls,  // several: the first one sent before TLS, on which senders decide STARTTLS
  inside_tls,        // the input holds no reply sent before TLS (openssl s_client hides it)
};
const char* to_string(linted_turn_reason r);

struct lint_result {
  bool reply_found = false;        // false: nothing in the input looks like an SMTP reply
  std::string no_reply_reason;     // why, for the user, when !reply_found
  ehlo_reply ehlo;
  std::vector<client_prediction> clients;  // one per client model, in catalogue order
  std::size_t input_octets = 0;
  std::size_t input_lines = 0;
  std::vector<std::size_t> ignored_lines;  // input lines that are neither server nor client
  std::size_t ehlo_replies_in_input = 0;   // EHLO replies found
  // Paste mode: what the input was and how it was read.
  paste_format format = paste_format::plain;
  line_prefix prefix = line_prefix::none;  // what every line carried in front, stripped
  bool quoted = false;                     // the paste was quoted mail ("> ")
  std::vector<paste_note> paste_notes;     // Unicode and line endings put back to ASCII
  std::size_t tool_lines = 0;              // ignored lines that are the tool's own output
  std::size_t tls_dump_lines = 0;          // of those: certificate, session and ticket dumps
  // The linted EHLO reply: 1-based among the EHLO replies in the input (0 when none), and why.
  std::size_t linted_turn = 0;
  linted_turn_reason linted_reason = linted_turn_reason::only;
  bool linted_inside_tls = false;          // the linted reply was sent inside TLS
  // The reply sent before TLS is not in the input (openssl s_client prints only its last
  // line, listed here, after the handshake output); client predictions are then not made.
  bool plaintext_reply_missing = false;
  std::vector<std::size_t> plaintext_leftover_lines;
  // Lines the tool printed as the reply to the client's next command that are the rest of the
  // EHLO reply, sent after an early final line (0: none); they are linted with it.
  std::size_t late_lines_from = 0, late_lines_to = 0;
  std::string late_after_command;          // that command, as pasted ("QUIT")
  // The conversation after the linted reply: the answer to STARTTLS and the handshake.
  dialogue_facts dialogue;
  std::size_t starttls_answer_line = 0;    // input line of the answer to STARTTLS (0: none)
  std::string starttls_answer_text;        // that line's text, as the server sent it
  std::size_t handshake_line = 0;          // input line where the tool reported the handshake
  std::size_t errors = 0, warnings = 0, infos = 0;
  verdict_status status = verdict_status::ok;
  std::string headline;            // one-line verdict
};

lint_result lint(std::string_view input, const lint_options& options = {});

// The server turn that answers EHLO, taken from a raw byte stream or a pasted
// transcript. Exposed for the client models and the probe.
server_turn ehlo_turn_from_raw(std::string_view bytes, const parser_limits& limits);
// The same, into `turn`, reusing its buffers (for callers that lint many replies).
void ehlo_turn_from_raw(std::string_view bytes, const parser_limits& limits, server_turn& turn);

}  // namespace mxtls
