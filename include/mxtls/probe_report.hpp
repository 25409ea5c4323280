// Renderers of the probe result: text for people, JSON (docs/probe-json.md), and
// Cisco-ESA-style mail_logs lines. They render the facts and the diagnosis; they decide
// nothing (every outcome, reason and sender group comes from core/diagnosis).
#pragma once

#include <string>

#include "mxtls/json_writer.hpp"
#include "mxtls/probe.hpp"

namespace mxtls {

inline constexpr int probe_json_version = 2;

struct probe_text_options {
  bool color = false;
  bool transcript = true;  // false: the lines were already shown as they happened
};

std::string render_probe_text(const probe_report& r, const probe_text_options& options);
// The terminal colour (an SGR sequence) an outcome is shown in: green when TLS works for
// every sender with a good certificate; yellow when it works but the certificate is the
// problem, or nothing could be judged (no DNS answer, no server); red when senders lose
// TLS or the server is open to injection.
std::string_view outcome_color(probe_outcome outcome);
// One line of the transcript as the live output prints it ("  12 ms  S  250-STARTTLS").
std::string render_event(const session_event& e);
// The verdict, one line: what the diagnosis says, in words.
std::string render_verdict(const probe_report& r);
// A reason in words (with its code and detail), for text and the JSON "text" member.
std::string render_reason(const reason& r);

// Members a caller adds to the probe document right after "version" (a scan record's
// list line and input).
struct probe_json_head {
  std::size_t line = 0;  // 0: no "line" and "input" members
  std::string_view input;
};
// The probe JSON document (docs/probe-json.md) as the writer's next value.
void write_probe_json(json_writer& w, const probe_report& r, const probe_json_head& head = {});
// The same document on its own, indented by two.
std::string render_probe_json(const probe_report& r);
// As Cisco AsyncOS would log the delivery attempt, its TLS decision taken by the
// diagnosis' ESA decision for the probe's --policy.
std::string render_esa_log(const probe_report& r);

}  // namespace mxtls
