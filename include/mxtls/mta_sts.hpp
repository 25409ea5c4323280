// MTA-STS (RFC 8461) and the TLS-RPT DNS record (RFC 8460 §3): the `_mta-sts` TXT record,
// the policy file, the MX pattern match. Bytes in, facts and findings out: no sockets, no
// clocks. The fetch lives in src/net/, the decisions for each sender in core's evaluation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mxtls/finding.hpp"  // severity

namespace mxtls {

// Stable ids of what the MTA-STS and TLS-RPT readers report. The string form
// (sts_catalogue_entry::name) is what JSON, docs (docs/mta-sts.md) and tests use; never
// rename one, add new ones at the end.
enum class sts_finding_id : std::uint8_t {
  // `_mta-sts` TXT record (RFC 8461 §3.1)
  txt_multiple,          // more than one v=STSv1 record
  txt_other_record,      // a record at _mta-sts that is not v=STSv1 (discarded)
  txt_syntax,            // the record does not follow sts-text-record
  txt_id_missing,
  txt_id_syntax,
  txt_duplicate_field,
  // policy file (RFC 8461 §3.2)
  policy_version_missing,
  policy_version_value,
  policy_mode_missing,
  policy_mode_value,
  policy_max_age_missing,
  policy_max_age_syntax,
  policy_max_age_range,
  policy_max_age_short,
  policy_mx_missing,
  policy_mx_syntax,
  policy_duplicate_key,
  policy_unknown_key,
  policy_key_case,
  policy_line_syntax,
  policy_empty_line,
  policy_bare_cr,
  policy_mixed_line_endings,
  policy_invalid_character,
  policy_bom,
  policy_empty,
  // `_smtp._tls` TXT record (RFC 8460 §3)
  rpt_multiple,
  rpt_other_record,
  rpt_syntax,
  rpt_rua_missing,
  rpt_rua_uri,
  rpt_duplicate_field,
  // any
  limit_exceeded,
  count_  // not an id
};

struct sts_catalogue_entry {
  sts_finding_id id;
  std::string_view name;     // stable id, e.g. "policy-mx-missing"
  severity level;
  std::string_view rfc;      // e.g. "RFC 8461 §3.2"
  std::string_view summary;  // what is wrong and what senders do with it
  std::string_view fix;      // what the domain's admin should change
};

std::span<const sts_catalogue_entry> sts_catalogue();
const sts_catalogue_entry& describe(sts_finding_id id);
const sts_catalogue_entry* find_sts_entry(std::string_view name);

struct sts_finding {
  sts_finding_id id;
  std::size_t line = 0;    // 1-based: policy line, or TXT record number (1 = first record given)
  std::size_t column = 0;  // 1-based octet column in that line or record
  std::size_t width = 1;
  std::string message = {};  // specific to this occurrence
  std::string excerpt = {};  // the line or record, as given (bounded)

  const sts_catalogue_entry& entry() const { return describe(id); }
  severity level() const { return entry().level; }
};

struct sts_finding_counts {
  std::size_t errors = 0, warnings = 0, infos = 0;
};
sts_finding_counts count(std::span<const sts_finding> findings);

// ---- `_mta-sts` TXT record (RFC 8461 §3.1) ----

enum class txt_status : std::uint8_t {
  none,     // no v=STSv1 (or v=TLSRPTv1) record: the domain has no policy (no reporting)
  valid,
  invalid,  // senders take the domain as having none (§3.1: "MUST assume ... not available")
};
const char* to_string(txt_status s);

struct sts_txt {
  txt_status status = txt_status::none;
  std::string id;  // of the one valid record
  std::vector<std::pair<std::string, std::string>> extensions;
  std::size_t records = 0;     // TXT records given
  std::size_t candidates = 0;  // of those, starting with v=STSv1
  std::vector<sts_finding> findings;
};

// `records`: each TXT record's strings already concatenated (RFC 7208-style; §3.1 says the
// strings of one record are joined without anything between them).
sts_txt parse_sts_txt(std::span<const std::string> records);

// ---- policy file (RFC 8461 §3.2) ----

enum class sts_mode : std::uint8_t { enforce, testing, none };
const char* to_string(sts_mode m);
std::optional<sts_mode> parse_sts_mode(std::string_view s);

struct mx_pattern {
  std::string text;    // as written
  bool wildcard = false;
  std::string domain;  // lower case, without "*."
  std::size_t line = 0;
};

// Limits of the policy reader (docs/limits.md).
struct policy_limits {
  // Octets of the policy read (RFC 8461 §3.3: senders SHOULD limit the body to 64 KiB).
  std::size_t max_policy_octets = 64 * 1024;
  // Octets of one line kept; the rest of a longer line is counted, not examined.
  std::size_t max_line_octets = 1024;
  // mx lines kept.
  std::size_t max_mx_patterns = 256;
  // Findings kept; more are counted (sts_policy::findings_dropped).
  std::size_t max_findings = 200;
};

// The policy's largest allowed max_age (RFC 8461 §3.2: "maximum value of 31557600").
inline constexpr std::uint64_t sts_max_age_limit = 31557600;
// Below this mxtls notes a short max_age (RFC 8461 §3.2 recommends weeks or more).
inline constexpr std::uint64_t sts_max_age_short = 86400;

struct sts_policy {
  std::optional<std::string> version;  // first "version" value, when it is STSv1
  std::optional<sts_mode> mode;        // first valid "mode"
  std::optional<std::uint64_t> max_age;
  std::vector<mx_pattern> mx;
  std::vector<std::pair<std::string, std::string>> extensions;  // unknown keys, in order
  // As postfix-mta-sts-resolver reads the same text (utils.py parse_mta_sts_policy: the last
  // of a repeated key wins), when that differs from the first: the differential's answer.
  std::optional<std::string> last_mode_text, last_max_age_text;
  std::size_t octets = 0, lines = 0;
  std::size_t crlf_lines = 0, lf_lines = 0, cr_lines = 0;
  bool valid = false;  // no error finding: an RFC 8461 sender applies this policy
  std::vector<sts_finding> findings;
  std::size_t findings_dropped = 0;
};

// Incremental push parser of a policy body: feed any chunks, then finish(). The result does
// not depend on how the body was split. Memory is bounded by policy_limits.
class policy_parser {
 public:
  explicit policy_parser(policy_limits limits = {});
  // Consumes all of `bytes` (octets past max_policy_octets are counted, not examined).
  void feed(std::string_view bytes);
  // End of the body: the last line is closed and the required keys are checked.
  sts_policy finish();
  std::size_t octets() const { return octets_; }

 private:
  void end_line(char ending);  // '\n' LF, 'c' CRLF, '\r' bare CR, 0 end of input
  void line(std::string_view text, std::size_t number);
  void add(sts_finding f);

  policy_limits limits_;
  sts_policy p_;
  std::string line_;
  std::size_t line_octets_ = 0;  // of the line in progress, kept or not
  std::size_t octets_ = 0;
  bool pending_cr_ = false;
  bool over_limit_ = false;
  bool cut_reported_ = false;
  bool seen_version_ = false, seen_mode_ = false, seen_max_age_ = false;
  bool any_mode_line_ = false, any_version_line_ = false, any_max_age_line_ = false;
};

sts_policy parse_sts_policy(std::string_view body, policy_limits limits = {});

// ---- MX host matching (RFC 8461 §4.1) ----

// How a wildcard pattern "*.example.com" is matched.
enum class wildcard_rule : std::uint8_t {
  one_label,  // RFC 8461 §4.1: exactly one more label on the left
  any_depth,  // any sub-domain (Postfix's ".example.com" form, as postfix-mta-sts-resolver passes it)
};

// Does MX host `host` (trailing dot allowed, any case) match `pattern`?
bool mx_matches(const mx_pattern& pattern, std::string_view host, wildcard_rule rule = wildcard_rule::one_label);
// The index in `policy.mx` of the first pattern `host` matches.
std::optional<std::size_t> match_mx(const sts_policy& policy, std::string_view host,
                                    wildcard_rule rule = wildcard_rule::one_label);

// ---- `_smtp._tls` TXT record (RFC 8460 §3) ----

struct tls_rpt_record {
  txt_status status = txt_status::none;
  std::vector<std::string> rua;  // of the one valid record, in order
  std::vector<std::pair<std::string, std::string>> extensions;
  std::size_t records = 0, candidates = 0;
  std::vector<sts_finding> findings;
};

tls_rpt_record parse_tls_rpt_txt(std::span<const std::string> records);

}  // namespace mxtls
