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

struct probe_report;  // probe.hpp
struct reason;        // diagnosis.hpp

// The probe's check "mta-sts" (src/report/mta_sts_probe_report.cpp): top-level "mta_sts" and
// "tls_rpt" members; host i's "mta_sts_match" and "mta_sts" members; the text section; the
// words of the mta-sts-* and tls-rpt-* reasons.
void write_probe_mta_sts(json_writer& w, const probe_report& r);
void write_host_mta_sts(json_writer& w, const probe_report& r, std::size_t i);
std::string render_probe_mta_sts_text(const probe_report& r);
std::string render_mta_sts_reason(const reason& r);

}  // namespace mxtls
