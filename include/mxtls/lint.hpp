// `mxtls lint`: from the bytes a user gives to the linted EHLO reply.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/client_model.hpp"
#include "mxtls/ehlo_reply.hpp"
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

struct lint_result {
  bool reply_found = false;        // false: nothing in the input looks like an SMTP reply
  std::string no_reply_reason;     // why, for the user, when !reply_found
  ehlo_reply ehlo;
  std::vector<client_prediction> clients;  // one per client model, in catalogue order
  std::size_t input_octets = 0;
  std::size_t input_lines = 0;
  std::vector<std::size_t> ignored_lines;  // input lines that are neither server nor client
  std::size_t ehlo_replies_in_input = 0;   // EHLO replies found; the first one is linted
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
