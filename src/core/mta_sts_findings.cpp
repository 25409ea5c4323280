// The catalogue of MTA-STS and TLS-RPT findings (include/mxtls/mta_sts.hpp), one row each.
#include <array>

#include "mxtls/mta_sts.hpp"

namespace mxtls {

namespace {

using enum sts_finding_id;
using enum severity;

constexpr std::array<sts_catalogue_entry, static_cast<std::size_t>(count_)> entries{{
    {txt_multiple, "txt-multiple", error, "RFC 8461 §3.1",
     "More than one TXT record at _mta-sts starts with v=STSv1; senders then take the domain as "
     "having no MTA-STS policy at all.",
     "Keep exactly one v=STSv1 record at _mta-sts.<domain>."},
    {txt_other_record, "txt-other-record", info, "RFC 8461 §3.1",
     "A TXT record at _mta-sts does not start with v=STSv1; senders discard it.",
     "Remove records that do not belong at _mta-sts (an SPF or verification record put there by mistake)."},
    {txt_syntax, "txt-syntax", error, "RFC 8461 §3.1 (sts-text-record)",
     "The v=STSv1 record does not follow the grammar (fields are key=value separated by ';'); "
     "senders take the domain as having no policy.",
     "Write the record as \"v=STSv1; id=20240101T000000;\"."},
    {txt_id_missing, "txt-id-missing", error, "RFC 8461 §3.1",
     "The v=STSv1 record has no id field; senders take the domain as having no policy.",
     "Add id=<1 to 32 letters and digits>, and change it whenever the policy changes."},
    {txt_id_syntax, "txt-id-syntax", error, "RFC 8461 §3.1 (sts-id)",
     "The id is not 1 to 32 letters and digits; senders take the record as invalid.",
     "Use an id of letters and digits only (a timestamp such as 20240101T0000 without punctuation)."},
    {txt_duplicate_field, "txt-duplicate-field", warning, "RFC 8461 §3.1, §3.2",
     "A field appears twice in the record; the first is used.",
     "Keep each field once."},
    {policy_version_missing, "policy-version-missing", error, "RFC 8461 §3.2",
     "The policy has no \"version: STSv1\" line; senders reject the policy.",
     "Start the policy with the line \"version: STSv1\"."},
    {policy_version_value, "policy-version-value", error, "RFC 8461 §3.2 (sts-policy-version)",
     "The version is not STSv1 (the value is case-sensitive); senders reject the policy.",
     "Write \"version: STSv1\"."},
    {policy_mode_missing, "policy-mode-missing", error, "RFC 8461 §3.2",
     "The policy has no valid mode line; senders reject the policy.",
     "Add \"mode: testing\" (reports only) or \"mode: enforce\"."},
    {policy_mode_value, "policy-mode-value", error, "RFC 8461 §3.2 (sts-policy-mode)",
     "The mode is not one of enforce, testing, none (lower case).",
     "Write \"mode: enforce\", \"mode: testing\" or \"mode: none\"."},
    {policy_max_age_missing, "policy-max-age-missing", error, "RFC 8461 §3.2",
     "The policy has no valid max_age line; senders reject the policy.",
     "Add \"max_age: 604800\" (one week) or longer."},
    {policy_max_age_syntax, "policy-max-age-syntax", error, "RFC 8461 §3.2 (sts-policy-max-age)",
     "max_age is not 1 to 10 decimal digits.",
     "Write max_age as a number of seconds, digits only."},
    {policy_max_age_range, "policy-max-age-range", error, "RFC 8461 §3.2",
     "max_age is above 31557600 seconds (one year), the largest value allowed.",
     "Use at most 31557600."},
    {policy_max_age_short, "policy-max-age-short", info, "RFC 8461 §3.2",
     "max_age is under one day; the RFC recommends weeks or more, and a short max_age lets a "
     "policy lapse between a sender's fetches.",
     "Once the policy works, raise max_age to 604800 (one week) or more."},
    {policy_mx_missing, "policy-mx-missing", error, "RFC 8461 §3.2",
     "The policy has no mx line although its mode is not none; senders reject the policy.",
     "List every MX host (or a \"*.\" pattern covering them) on its own \"mx:\" line."},
    {policy_mx_syntax, "policy-mx-syntax", error, "RFC 8461 §3.2 (sts-policy-mx-value)",
     "The mx value is not a domain name, optionally after \"*.\" (A-labels only, no trailing "
     "dot, no other wildcard).",
     "Write \"mx: mail.example.com\" or \"mx: *.example.com\"."},
    {policy_duplicate_key, "policy-duplicate-key", warning, "RFC 8461 §3.2",
     "A key other than mx appears twice; the RFC says the first is used, postfix-mta-sts-resolver "
     "uses the last, so senders disagree when the values differ.",
     "Keep version, mode and max_age once each."},
    {policy_unknown_key, "policy-unknown-key", info, "RFC 8461 §3.2",
     "A key the RFC does not define; senders ignore it.",
     "Remove it unless an extension needs it."},
    {policy_key_case, "policy-key-case", warning, "RFC 8461 §3.2",
     "A key written in another case than the RFC's (keys are case-sensitive); senders take it "
     "as an unknown key and ignore it.",
     "Write the keys in lower case: version, mode, mx, max_age."},
    {policy_line_syntax, "policy-line-syntax", error, "RFC 8461 §3.2 (sts-policy-field)",
     "The line is not \"key: value\" with a key of letters, digits, '_', '-', '.'; strict "
     "parsers reject the whole policy.",
     "Write each line as key, colon, value, without white space before the key."},
    {policy_empty_line, "policy-empty-line", warning, "RFC 8461 §3.2 (sts-policy-record)",
     "An empty line; the grammar has none, and strict parsers reject the whole policy while "
     "others skip it.",
     "Remove empty lines."},
    {policy_bare_cr, "policy-bare-cr", error, "RFC 8461 §3.2 (sts-policy-term)",
     "A line ends with a bare CR; lines end with LF or CRLF, and parsers disagree on where this "
     "line ends.",
     "Save the policy with LF (or CRLF) line endings."},
    {policy_mixed_line_endings, "policy-mixed-line-endings", info, "RFC 8461 §3.2 (sts-policy-term)",
     "Some lines end with CRLF and others with LF; both are allowed.",
     "Use one line ending throughout."},
    {policy_invalid_character, "policy-invalid-character", error, "RFC 8461 §3.2 (sts-policy-vchar)",
     "The line holds a control character or an octet sequence that is not UTF-8.",
     "Keep the policy to printable text."},
    {policy_bom, "policy-bom", error, "RFC 8461 §3.2",
     "The policy starts with a UTF-8 byte order mark; the first key is then not \"version\" to a "
     "sender, which finds no version.",
     "Save the file as UTF-8 without BOM (or plain ASCII)."},
    {policy_empty, "policy-empty", error, "RFC 8461 §3.2",
     "The policy body is empty.",
     "Serve the policy text at /.well-known/mta-sts.txt."},
    {rpt_multiple, "rpt-multiple", error, "RFC 8460 §3",
     "More than one TXT record at _smtp._tls starts with v=TLSRPTv1; senders then send no reports.",
     "Keep exactly one v=TLSRPTv1 record, with every address in its rua list."},
    {rpt_other_record, "rpt-other-record", info, "RFC 8460 §3",
     "A TXT record at _smtp._tls does not start with v=TLSRPTv1; senders discard it.",
     "Remove records that do not belong at _smtp._tls."},
    {rpt_syntax, "rpt-syntax", error, "RFC 8460 §3 (tlsrpt-record)",
     "The v=TLSRPTv1 record does not follow the grammar; senders send no reports.",
     "Write the record as \"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\"."},
    {rpt_rua_missing, "rpt-rua-missing", error, "RFC 8460 §3",
     "The record has no rua field; senders have nowhere to send reports.",
     "Add rua=mailto:address (or an https: URL)."},
    {rpt_rua_uri, "rpt-rua-uri", error, "RFC 8460 §3 (tlsrpt-uri)",
     "An rua entry is not a mailto: address or an https: URL.",
     "Use \"mailto:tlsrpt@example.com\" or \"https://reports.example.com/tlsrpt\"; separate "
     "several with commas."},
    {rpt_duplicate_field, "rpt-duplicate-field", warning, "RFC 8460 §3",
     "A field appears twice in the record.",
     "Keep one rua field listing every URI, separated by commas."},
    {limit_exceeded, "limit-exceeded", error, "mxtls limits (docs/limits.md)",
     "The input went past one of mxtls's safety limits; the part past the limit was counted but "
     "not examined.",
     "A real policy is a few hundred octets; check that the right file is served."},
}};

}  // namespace

std::span<const sts_catalogue_entry> sts_catalogue() { return entries; }

const sts_catalogue_entry& describe(sts_finding_id id) { return entries[static_cast<std::size_t>(id)]; }

const sts_catalogue_entry* find_sts_entry(std::string_view name) {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

sts_finding_counts count(std::span<const sts_finding> findings) {
  sts_finding_counts c;
  for (const auto& f : findings) switch (f.level()) {
      case severity::error: ++c.errors; break;
      case severity::warning: ++c.warnings; break;
      case severity::info: ++c.infos; break;
    }
  return c;
}

}  // namespace mxtls
