#include "mxtls/finding.hpp"

#include <array>

namespace mxtls {

const char* to_string(severity s) {
  switch (s) {
    case severity::error: return "error";
    case severity::warning: return "warning";
    case severity::info: return "info";
  }
  return "?";
}

namespace {

using enum finding_id;
using enum severity;

constexpr std::array<catalogue_entry, static_cast<std::size_t>(count_)> entries{{
    {keyword_as_greeting, "keyword-as-greeting", error, "RFC 5321 §4.1.1.1; RFC 1869 §4.3",
     "The first line of the EHLO reply holds an extension keyword where the greeting "
     "(the server's domain) belongs; strict clients take that line as the greeting and "
     "never see the keyword.",
     "Make the server's host name the first line of the EHLO reply and list every "
     "extension keyword on the lines after it.",
     false},
    {greeting_not_domain, "greeting-not-domain", warning, "RFC 5321 §4.1.1.1, §4.1.2",
     "The greeting line does not start with a domain name or an address literal.",
     "Start the first line of the EHLO reply with the server's fully qualified host "
     "name (or an address literal such as [192.0.2.1]).",
     false},
    {final_line_not_last, "final-line-not-last", error, "RFC 5321 §4.2.1",
     "A final line (code followed by a space) is followed by more lines; clients stop "
     "reading at the final line and take the rest as the reply to their next command.",
     "Use \"250-\" on every line except the last one, and \"250 \" only on the last.",
     false},
    {code_mismatch, "code-mismatch", error, "RFC 5321 §4.2.1",
     "Lines of one multiline reply carry different reply codes.",
     "Give every line of the reply the same three-digit code.",
     false},
    {bare_lf, "bare-lf", warning, "RFC 5321 §2.3.8, §4.1.1",
     "The line ends with a bare LF instead of CRLF; most clients accept it, some wait "
     "for CRLF until they time out.",
     "End every reply line with CR LF.",
     true},
    {bare_cr, "bare-cr", error, "RFC 5321 §2.3.8",
     "The line ends with a bare CR; most clients do not see a line ending there and "
     "read two lines as one.",
     "End every reply line with CR LF and never send a CR on its own.",
     true},
    {line_too_long, "line-too-long", warning, "RFC 5321 §4.5.3.1.5",
     "The reply line is longer than 512 octets including CRLF; clients may cut it or "
     "reject the reply.",
     "Keep every reply line within 510 octets of text plus CRLF.",
     false},
    {keyword_syntax, "keyword-syntax", error, "RFC 5321 §4.1.1.1 (ehlo-keyword)",
     "The extension keyword does not match ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / "
     "DIGIT / \"-\"); clients ignore it or read it differently.",
     "Use a registered keyword spelled with letters, digits and hyphens only.",
     false},
    {duplicate_keyword, "duplicate-keyword", warning, "RFC 5321 §4.1.1.1",
     "The same extension keyword is listed twice; clients keep one of them, and not "
     "all the same one.",
     "List each extension once, with all its parameters on that line.",
     false},
    {keyword_not_uppercase, "keyword-not-uppercase", info, "RFC 5321 §2.4, §4.1.1.1",
     "The keyword is not in upper case; that is legal (keywords are case-insensitive), "
     "but clients that compare case-sensitively miss it.",
     "Send extension keywords in upper case.",
     false},
    {keyword_leading_space, "keyword-leading-space", error, "RFC 5321 §4.1.1.1 (ehlo-line)",
     "White space stands between the code's separator and the keyword; most clients "
     "then see an empty keyword and miss the extension.",
     "Put the keyword directly after \"250-\" or \"250 \".",
     false},
    {extra_whitespace, "extra-whitespace", warning, "RFC 5321 §4.1.1.1 (ehlo-line)",
     "The keyword or its parameters are surrounded by white space other than single "
     "spaces (trailing space, doubled space or a tab); clients that match the whole "
     "line miss the keyword.",
     "Separate keyword and parameters by exactly one space and end the line right "
     "after the last parameter.",
     false},
    {size_not_number, "size-not-number", error, "RFC 1870 §4",
     "The SIZE parameter is not a decimal number; clients ignore the limit or the "
     "whole extension.",
     "Advertise SIZE with the maximum message size in octets, e.g. \"250-SIZE 52428800\", "
     "or SIZE alone.",
     false},
    {auth_legacy_form, "auth-legacy-form", warning, "RFC 4954 §3; RFC 5321 §4.1.1.1",
     "\"AUTH=\" is a pre-standard form kept for old clients; its keyword does not match "
     "ehlo-keyword.",
     "Advertise \"AUTH mech1 mech2\"; keep \"AUTH=\" only if very old clients must log in.",
     false},
    {starttls_with_params, "starttls-with-params", error, "RFC 3207 §4",
     "STARTTLS takes no parameters; clients that match the whole line do not see "
     "STARTTLS.",
     "Send the line as \"250-STARTTLS\" (or \"250 STARTTLS\" when last), nothing after it.",
     false},
    {bad_separator, "bad-separator", error, "RFC 5321 §4.2",
     "The octet after the reply code is neither a space nor a hyphen; clients disagree "
     "on whether the reply goes on.",
     "Follow the code with \"-\" on every line but the last and with a space on the last.",
     false},
    {no_code, "no-code", error, "RFC 5321 §4.2",
     "The line does not start with a three-digit reply code.",
     "Start every reply line with the reply code (\"250-\" or \"250 \").",
     false},
    {truncated_reply, "truncated-reply", error, "RFC 5321 §4.2.1",
     "The reply has no final line (a code followed by a space, ended by CRLF); clients "
     "wait for it until they time out.",
     "End the reply with a line \"250 keyword\" terminated by CR LF.",
     false},
    {starttls_not_offered, "starttls-not-offered", warning, "RFC 3207 §4",
     "STARTTLS is not offered anywhere in the EHLO reply; every sender delivers in "
     "plaintext or not at all.",
     "Enable STARTTLS with a certificate for the server's host name.",
     false},
    {ehlo_not_accepted, "ehlo-not-accepted", error, "RFC 5321 §4.1.1.1, §4.3.2",
     "The reply to EHLO is not 250; senders fall back to HELO, without extensions and so "
     "without STARTTLS, or give up.",
     "Accept EHLO with a 250 reply.",
     false},
    {invalid_character, "invalid-character", warning, "RFC 5321 §4.2 (textstring)",
     "The line holds a control character or an octet outside US-ASCII.",
     "Send only printable US-ASCII (and tabs) in reply lines.",
     false},
    {code_out_of_range, "code-out-of-range", error, "RFC 5321 §4.2",
     "The reply code is outside the grammar (first digit 2 to 5, second 0 to 5).",
     "Use a reply code from RFC 5321 §4.2.2; for EHLO that is 250.",
     false},
    {limit_exceeded, "limit-exceeded", error, "mxtls limits (see docs/limits.md)",
     "The input went past one of mxtls's safety limits; the part past the limit was "
     "counted but not examined.",
     "A real EHLO reply stays far below these limits; check that the capture is a reply.",
     false},
}};

}  // namespace

std::span<const catalogue_entry> catalogue() { return entries; }

const catalogue_entry& describe(finding_id id) { return entries[static_cast<std::size_t>(id)]; }

const catalogue_entry* find_entry(std::string_view name) {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace mxtls
