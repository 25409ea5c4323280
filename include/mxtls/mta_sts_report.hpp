// Renderers of the MTA-STS and TLS-RPT reader results (include/mxtls/mta_sts.hpp).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "mxtls/json_writer.hpp"
#include "mxtls/mta_sts.hpp"

namespace mxtls {

// Version of the `mxtls lint --mta-sts --format json` document (docs/mta-sts.md).
inline constexpr int mta_sts_lint_json_version = 1;

// `mxtls lint --mta-sts`: a verdict line, then each finding with its line, caret, RFC and fix.
std::string render_policy_lint_text(const sts_policy& p, std::string_view input_name, bool color);
std::string render_policy_lint_json(const sts_policy& p, std::string_view input_name);

// One finding per element: id, severity, line, column, width, message, excerpt, rfc.
void write_sts_findings(json_writer& w, std::span<const sts_finding> findings);
// {"mode", "max_age", "mx": [...]} of a policy (null members when not known).
void write_sts_policy_values(json_writer& w, const sts_policy& p);

}  // namespace mxtls
