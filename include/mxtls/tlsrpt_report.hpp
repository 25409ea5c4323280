// Renderers of the TLS-RPT summary (include/mxtls/tls_rpt.hpp): text for people, JSON for
// scripts (docs/tlsrpt-json.md).
#pragma once

#include <string>
#include <vector>

#include "mxtls/tls_rpt.hpp"

namespace mxtls {

// Version of the `mxtls tlsrpt --format json` document (docs/tlsrpt-json.md).
inline constexpr int tlsrpt_json_version = 1;

std::string render_tlsrpt_text(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs, bool color);
std::string render_tlsrpt_json(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs);
// Seconds since 1970 as "2024-01-01T00:00:00Z".
std::string format_utc(std::int64_t t);

}  // namespace mxtls
