// Renderers of the TLS-RPT summary (include/mxtls/tls_rpt.hpp): text for people, JSON for
// scripts (docs/tlsrpt-json.md), HTML.
#pragma once

#include <string>
#include <vector>

#include "mxtls/tls_rpt.hpp"

namespace mxtls {

// Version of the `mxtls tlsrpt --format json` document (docs/tlsrpt-json.md).
inline constexpr int tlsrpt_json_version = 1;

std::string render_tlsrpt_text(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs, bool color);
std::string render_tlsrpt_json(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs);
// The HTML page (include/mxtls/html_page.hpp): what to fix first per result type, one row per
// policy and MX host, worst first, the inputs that were not valid reports.
struct tlsrpt_html_options {
  std::string title = "mxtls tlsrpt";
  std::string generated;  // when, as text; empty: not shown
};
std::string render_tlsrpt_html(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs, const tlsrpt_html_options& options);
// Seconds since 1970 as "2024-01-01T00:00:00Z".
std::string format_utc(std::int64_t t);

}  // namespace mxtls
