// TLS-RPT aggregate reports (RFC 8460 §4): what sending organisations report about their TLS
// sessions to a domain, read from JSON, gzip'd JSON or the mail that carries them (§5.3), checked
// against the report schema and summarised per policy, MX host and result type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/finding.hpp"  // severity

namespace mxtls {

// Limits of the report reader (docs/limits.md).
struct tlsrpt_limits {
  std::size_t max_input_octets = 64 * 1024 * 1024;   // one file as read
  std::size_t max_report_octets = 16 * 1024 * 1024;  // one report after gzip / base64 decoding
  std::size_t max_mime_parts = 64;                   // parts of one mail looked at
  std::size_t max_mime_depth = 8;                    // multipart nesting
  std::size_t max_problems = 100;                    // per report; more are counted
};

// What is wrong with one report (or with the input that should have held one): the JSON path
// ("policies[0].summary.total-failure-session-count") and a message.
struct tlsrpt_problem {
  severity level = severity::error;  // error: the report is not valid; warning: read anyway
  std::string path;
  std::string message;
};

// RFC 8460 §4.3.2 result types, with the ones not in the RFC kept as text.
enum class tlsrpt_result : std::uint8_t {
  starttls_not_supported,
  certificate_host_mismatch,
  certificate_expired,
  certificate_not_trusted,
  validation_failure,
  tlsa_invalid,
  dnssec_invalid,
  dane_required,
  sts_policy_fetch_error,
  sts_policy_invalid,
  sts_webpki_invalid,
  other,  // not in RFC 8460 (result_text says what)
};
const char* to_string(tlsrpt_result r);
std::optional<tlsrpt_result> parse_tlsrpt_result(std::string_view s);
// How bad a result type is for delivery, for "worst first": lower is worse.
int severity_rank(tlsrpt_result r);

struct tlsrpt_failure {
  tlsrpt_result result = tlsrpt_result::other;
  std::string result_text;  // as written
  std::string sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip;
  std::string additional_information, failure_reason_code;
  std::uint64_t failed_sessions = 0;
};

enum class tlsrpt_policy_type : std::uint8_t { sts, tlsa, no_policy_found, other };
const char* to_string(tlsrpt_policy_type t);

struct tlsrpt_policy {
  tlsrpt_policy_type type = tlsrpt_policy_type::other;
  std::string type_text;
  std::vector<std::string> policy_string = {};
  std::string policy_domain;
  std::vector<std::string> mx_host = {};  // "mx-host" or "mx-host-pattern", a list or one string
  std::uint64_t successful = 0, failed = 0;
  std::vector<tlsrpt_failure> failures = {};
};

struct tlsrpt_report {
  std::string source;      // file name, and the mail part when from a mail ("x.eml#2")
  std::string organization, contact, report_id;
  std::string start_text, end_text;  // date-range as written
  std::optional<std::int64_t> start, end;  // seconds since 1970 (UTC; a time without zone read as UTC)
  std::vector<tlsrpt_policy> policies = {};
  // From the mail (RFC 8460 §5.3), when the report came in one.
  std::string mail_report_domain, mail_submitter, mail_content_type;
  std::vector<tlsrpt_problem> problems = {};
  std::size_t problems_dropped = 0;
  bool valid = false;  // no problem of level error
};

// One input that held no readable report: not JSON, bad gzip, a mail without a report part.
struct tlsrpt_unreadable {
  std::string source;
  std::string message;
};

struct tlsrpt_input {
  std::vector<tlsrpt_report> reports = {};        // valid and invalid, in input order
  std::vector<tlsrpt_unreadable> unreadable = {};
};

// One file's octets (JSON, gzip'd JSON, or a mail message with application/tlsrpt+gzip or
// application/tlsrpt+json parts); `source` names it in problems.
tlsrpt_input read_tlsrpt(std::string_view bytes, std::string_view source, const tlsrpt_limits& limits = {});
// The JSON text of one report.
tlsrpt_report read_tlsrpt_json(std::string_view json_text, std::string_view source, const tlsrpt_limits& limits = {});

// "2016-04-01T00:00:00Z" (RFC 3339), also without zone ("2016-04-01T00:00:00", read as UTC,
// `zone_missing` set) and with fractional seconds or an offset.
std::optional<std::int64_t> parse_report_time(std::string_view s, bool* zone_missing = nullptr);

// ---- the summary over many reports ----

struct tlsrpt_count_by_result {
  tlsrpt_result result;
  std::string result_text;
  std::uint64_t failed = 0;
};

struct tlsrpt_org_count {
  std::string organization;
  std::uint64_t successful = 0, failed = 0;
  std::size_t reports = 0;
};

struct tlsrpt_mx_summary {
  std::string host;  // receiving-mx-hostname ("" when the reporter gave none)
  std::uint64_t failed = 0;
  std::vector<tlsrpt_count_by_result> results = {};  // worst first
  std::vector<std::string> organizations = {};
  std::vector<std::string> receiving_ips = {};
  std::vector<std::string> details = {};  // distinct additional-information / failure-reason-code texts (bounded)
};

struct tlsrpt_policy_summary {
  std::string policy_domain;
  tlsrpt_policy_type type = tlsrpt_policy_type::other;
  std::string type_text;
  std::vector<std::string> policy_strings = {};  // distinct, joined lines of each policy-string (bounded)
  std::uint64_t successful = 0, failed = 0;
  std::vector<tlsrpt_org_count> organizations = {};  // most failures first
  std::vector<tlsrpt_mx_summary> mx_hosts = {};      // most failures first
  std::vector<tlsrpt_count_by_result> results = {};  // most failures first
};

struct tlsrpt_summary {
  std::size_t inputs = 0, reports = 0, valid_reports = 0, invalid_reports = 0, unreadable = 0;
  std::optional<std::int64_t> period_start, period_end;
  std::uint64_t successful = 0, failed = 0;
  std::vector<tlsrpt_org_count> organizations = {};
  std::vector<tlsrpt_policy_summary> policies = {};  // most failures first
  std::vector<tlsrpt_mx_summary> mx_hosts = {};      // over all policies, most failures first
  std::vector<tlsrpt_count_by_result> results = {};  // over all policies
};

// Valid reports and invalid ones alike are summarised (an invalid report's counts may be
// partial; each is listed with its problems by the renderers).
tlsrpt_summary summarise(const std::vector<tlsrpt_input>& inputs);

}  // namespace mxtls
