// Renderers of the probe result: text for people, JSON (docs/probe-json.md), and
// Cisco-ESA-style mail_logs lines.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "mxtls/probe.hpp"

namespace mxtls {

inline constexpr int probe_json_version = 1;

std::string render_probe_text(const probe_report& r, bool color);
nlohmann::ordered_json probe_to_json(const probe_report& r);
std::string render_probe_json(const probe_report& r);
// As Cisco AsyncOS would log the delivery attempt, its TLS decision taken by the
// cisco-esa client model.
std::string render_esa_log(const probe_report& r);

}  // namespace mxtls
