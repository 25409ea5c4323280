// Renderers of the probe result: text for people, JSON (docs/probe-json.md), and
// Cisco-ESA-style mail_logs lines.
#pragma once

#include <string>

#include "mxtls/json_writer.hpp"
#include "mxtls/probe.hpp"

namespace mxtls {

inline constexpr int probe_json_version = 1;

std::string render_probe_text(const probe_report& r, bool color);
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
// cisco-esa client model.
std::string render_esa_log(const probe_report& r);

}  // namespace mxtls
