// The MTA-STS policy file (RFC 8461 §3.2) read line by line, incrementally and bounded,
// and the MX pattern match (RFC 8461 §4.1).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "mxtls/mta_sts.hpp"

namespace mxtls {

const char* to_string(sts_mode m) {
  switch (m) {
    case sts_mode::enforce: return "enforce";
    case sts_mode::testing: return "testing";
    case sts_mode::none: return "none";
  }
  return "?";
}

// sts-policy-mode-value = %s"testing" / %s"enforce" / %s"none"  (case-sensitive)
std::optional<sts_mode> parse_sts_mode(std::string_view s) {
  if (s == "enforce") return sts_mode::enforce;
  if (s == "testing") return sts_mode::testing;
  if (s == "none") return sts_mode::none;
  return std::nullopt;
}

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower(c);
  return r;
}
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// The first octet (0-based) of `s` that is a control character or breaks UTF-8, or npos.
// sts-policy-vchar = %x21-7E / UTF8-2 / UTF8-3 / UTF8-4, with spaces (and WSP around the
// delimiter) between them.
std::size_t first_invalid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u == '\t' || (u >= 0x20 && u < 0x7f)) {
      ++i;
      continue;
    }
    std::size_t n = (u >= 0xc2 && u <= 0xdf) ? 2 : (u >= 0xe0 && u <= 0xef) ? 3 : (u >= 0xf0 && u <= 0xf4) ? 4 : 0;
    if (n == 0 || i + n > s.size()) return i;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return i;
    i += n;
  }
  return std::string_view::npos;
}

// Domain (RFC 5321 §4.1.2): sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str];
// a label ends with a letter or digit; labels of 1 to 63 octets, 253 in all. U-labels are not
// allowed in the policy (RFC 8461 §3.2: A-labels). Returns what is wrong, or "".
std::string domain_problem(std::string_view d) {
  if (d.empty()) return "empty domain";
  if (d.size() > 253) return fmt::format("domain of {} octets; at most 253", d.size());
  if (d.back() == '.') return "trailing dot; write the name without it";
  std::size_t start = 0;
  while (true) {
    std::size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return "empty label";
    if (label.size() > 63) return fmt::format("label '{}' longer than 63 octets", label.substr(0, 20));
    for (char c : label) {
      if (static_cast<unsigned char>(c) >= 0x80) return "non-ASCII label; write it as an A-label (xn--...)";
      if (c == '*') return "a '*' other than a leading \"*.\"";
      if (!is_alnum(c) && c != '-') return fmt::format("'{}' in label '{}'", c, label);
    }
    if (label.front() == '-' || label.back() == '-') return fmt::format("label '{}' starts or ends with '-'", label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return "";
}

constexpr std::string_view known_keys[] = {"version", "mode", "max_age", "mx"};

}  // namespace

policy_parser::policy_parser(policy_limits limits) : limits_(limits) {
  limits_.max_line_octets = std::max<std::size_t>(limits_.max_line_octets, 16);
}

void policy_parser::add(sts_finding f) {
  // The one finding that the body was cut is always kept.
  bool body_cut = f.id == sts_finding_id::limit_exceeded && over_limit_ && !cut_reported_;
  if (body_cut) cut_reported_ = true;
  if (p_.findings.size() >= limits_.max_findings && !body_cut) {
    ++p_.findings_dropped;
    return;
  }
  if (f.excerpt.size() > 512) f.excerpt.resize(512);
  p_.findings.push_back(std::move(f));
}

void policy_parser::feed(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    if (octets_ >= limits_.max_policy_octets) {
      if (!over_limit_) {
        over_limit_ = true;
        add({.id = sts_finding_id::limit_exceeded, .line = p_.lines + 1, .column = line_octets_ + 1,
             .message = fmt::format("policy longer than {} octets (max_policy_octets); the rest is not read",
                                    limits_.max_policy_octets)});
      }
      octets_ += bytes.size() - i;
      return;
    }
    char c = bytes[i];
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        ++octets_;
        ++i;
        end_line('c');
        continue;
      }
      end_line('\r');
      continue;  // c starts the next line
    }
    ++octets_;
    ++i;
    if (c == '\r') {
      pending_cr_ = true;
    } else if (c == '\n') {
      end_line('\n');
    } else {
      if (line_.size() < limits_.max_line_octets) line_ += c;
      ++line_octets_;
    }
  }
}

void policy_parser::end_line(char ending) {
  std::size_t number = ++p_.lines;
  if (ending == 'c') ++p_.crlf_lines;
  if (ending == '\n') ++p_.lf_lines;
  if (ending == '\r') {
    ++p_.cr_lines;
    add({.id = sts_finding_id::policy_bare_cr, .line = number, .column = line_octets_ + 1,
         .message = "line ends with CR alone", .excerpt = line_});
  }
  if (line_octets_ > line_.size())
    add({.id = sts_finding_id::limit_exceeded, .line = number, .column = line_.size() + 1,
         .message = fmt::format("line of {} octets; {} examined (max_line_octets)", line_octets_, line_.size()),
         .excerpt = line_});
  line(line_, number);
  line_.clear();
  line_octets_ = 0;
}

// sts-policy-record  = sts-policy-field *WSP *(sts-policy-term sts-policy-field *WSP) [sts-policy-term]
// sts-policy-field   = key ":" *WSP value   (sts-policy-field-delim = ":" *WSP)
// sts-policy-term    = CRLF / LF
// "If a field is present more than once, the first instance is used" (except mx, which
// may repeat) and unknown fields are ignored (RFC 8461 §3.2, paraphrased).
void policy_parser::line(std::string_view text, std::size_t number) {
  std::string excerpt(text);
  std::size_t offset = 0;  // octets of `text` not part of the field (a BOM)
  if (number == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") {
    add({.id = sts_finding_id::policy_bom, .line = 1, .column = 1, .width = 3,
         .message = "UTF-8 byte order mark before the first key", .excerpt = excerpt});
    text.remove_prefix(3);
    offset = 3;
  }
  if (text.empty()) {
    add({.id = sts_finding_id::policy_empty_line, .line = number, .column = 1, .message = "empty line",
         .excerpt = excerpt});
    return;
  }
  if (std::size_t bad = first_invalid(text); bad != std::string_view::npos) {
    add({.id = sts_finding_id::policy_invalid_character, .line = number, .column = offset + bad + 1,
         .message = fmt::format("octet 0x{:02X}", static_cast<unsigned char>(text[bad])), .excerpt = excerpt});
    return;
  }
  std::size_t colon = text.find(':');
  std::string_view key = text.substr(0, colon);
  auto key_ok = [](std::string_view k) {
    // sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    return !k.empty() && k.size() <= 32 && is_alnum(k[0]) &&
           std::all_of(k.begin(), k.end(), [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
  };
  if (colon == std::string_view::npos) {
    bool only_wsp = std::all_of(text.begin(), text.end(), is_wsp);
    add({.id = only_wsp ? sts_finding_id::policy_empty_line : sts_finding_id::policy_line_syntax, .line = number,
         .column = offset + 1, .width = text.size(),
         .message = only_wsp ? "line of white space only" : "no ':' between key and value", .excerpt = excerpt});
    return;
  }
  if (!key_ok(key)) {
    std::size_t at = 0;
    while (at < key.size() && (is_alnum(key[at]) || (at > 0 && (key[at] == '_' || key[at] == '-' || key[at] == '.')))) ++at;
    add({.id = sts_finding_id::policy_line_syntax, .line = number, .column = offset + at + 1,
         .message = key.empty() ? std::string("empty key")
                    : is_wsp(key[at]) ? fmt::format("white space in or around key '{}'", key)
                                      : fmt::format("key '{}' is not letters, digits, '_', '-', '.'", key),
         .excerpt = excerpt});
    return;
  }
  std::size_t vstart = colon + 1;
  while (vstart < text.size() && is_wsp(text[vstart])) ++vstart;
  std::size_t vend = text.size();
  while (vend > vstart && is_wsp(text[vend - 1])) --vend;
  std::string_view value = text.substr(vstart, vend - vstart);
  std::size_t vcol = offset + vstart + 1;

  auto duplicate = [&](bool& seen_valid, bool& any_line, std::optional<std::string>* last) {
    bool dup = any_line;
    any_line = true;
    if (dup)
      add({.id = sts_finding_id::policy_duplicate_key, .line = number, .column = offset + 1, .width = key.size(),
           .message = fmt::format("'{}' again{}", key, seen_valid ? "; the first valid one is used" : ""),
           .excerpt = excerpt});
    if (last && dup) *last = std::string(value);
    return dup && seen_valid;
  };

  if (key == "version") {
    // sts-policy-version-value = %s"STSv1"
    bool ignore = duplicate(seen_version_, any_version_line_, nullptr);
    if (value != "STSv1") {
      add({.id = sts_finding_id::policy_version_value, .line = number, .column = vcol,
           .width = std::max<std::size_t>(value.size(), 1), .message = fmt::format("version '{}'", value),
           .excerpt = excerpt});
    } else if (!ignore) {
      p_.version = std::string(value);
      seen_version_ = true;
    }
    return;
  }
  if (key == "mode") {
    bool ignore = duplicate(seen_mode_, any_mode_line_, &p_.last_mode_text);
    auto m = parse_sts_mode(value);
    if (!m) {
      auto ci = parse_sts_mode(lower(value));
      add({.id = sts_finding_id::policy_mode_value, .line = number, .column = vcol,
           .width = std::max<std::size_t>(value.size(), 1),
           .message = ci ? fmt::format("mode '{}': the value is case-sensitive, write '{}'", value, to_string(*ci))
                         : fmt::format("mode '{}'", value),
           .excerpt = excerpt});
    } else if (!ignore) {
      p_.mode = m;
      seen_mode_ = true;
    }
    return;
  }
  if (key == "max_age") {
    // sts-policy-max-age-value = 1*10(DIGIT)
    bool ignore = duplicate(seen_max_age_, any_max_age_line_, &p_.last_max_age_text);
    bool digits = !value.empty() && value.size() <= 10 &&
                  std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      add({.id = sts_finding_id::policy_max_age_syntax, .line = number, .column = vcol,
           .width = std::max<std::size_t>(value.size(), 1),
           .message = value.size() > 10 ? fmt::format("max_age of {} digits; at most 10", value.size())
                                        : fmt::format("max_age '{}' is not digits only", value),
           .excerpt = excerpt});
      return;
    }
    std::uint64_t v = 0;
    for (char c : value) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > sts_max_age_limit) {
      add({.id = sts_finding_id::policy_max_age_range, .line = number, .column = vcol, .width = value.size(),
           .message = fmt::format("max_age {} is above {}", v, sts_max_age_limit), .excerpt = excerpt});
      return;
    }
    if (!ignore) {
      p_.max_age = v;
      seen_max_age_ = true;
      if (v < sts_max_age_short)
        add({.id = sts_finding_id::policy_max_age_short, .line = number, .column = vcol, .width = value.size(),
             .message = fmt::format("max_age {} s is under one day", v), .excerpt = excerpt});
    }
    return;
  }
  if (key == "mx") {
    // sts-policy-mx-value = ["*."] Domain
    std::string_view d = value;
    bool wildcard = d.substr(0, 2) == "*.";
    if (wildcard) d.remove_prefix(2);
    std::string problem = domain_problem(d);
    if (!problem.empty()) {
      add({.id = sts_finding_id::policy_mx_syntax, .line = number, .column = vcol,
           .width = std::max<std::size_t>(value.size(), 1), .message = fmt::format("mx '{}': {}", value, problem),
           .excerpt = excerpt});
      return;
    }
    if (p_.mx.size() >= limits_.max_mx_patterns) {
      add({.id = sts_finding_id::limit_exceeded, .line = number, .column = vcol, .width = value.size(),
           .message = fmt::format("more than {} mx lines (max_mx_patterns); this one is not kept",
                                  limits_.max_mx_patterns),
           .excerpt = excerpt});
      return;
    }
    p_.mx.push_back({.text = std::string(value), .wildcard = wildcard, .domain = lower(d), .line = number});
    return;
  }
  // sts-policy-extension: an unknown key; sts-policy-ext-value = sts-policy-vchar
  // [*(%x20 / sts-policy-vchar) sts-policy-vchar]
  for (std::string_view k : known_keys)
    if (iequals(k, key)) {
      add({.id = sts_finding_id::policy_key_case, .line = number, .column = offset + 1, .width = key.size(),
           .message = fmt::format("key '{}' is not '{}'; senders ignore this line", key, k), .excerpt = excerpt});
      return;
    }
  if (value.empty() || value.find('\t') != std::string_view::npos) {
    add({.id = sts_finding_id::policy_line_syntax, .line = number, .column = vcol,
         .message = value.empty() ? fmt::format("key '{}' has no value", key)
                                  : fmt::format("tab inside the value of '{}'", key),
         .excerpt = excerpt});
    return;
  }
  add({.id = sts_finding_id::policy_unknown_key, .line = number, .column = offset + 1, .width = key.size(),
       .message = fmt::format("unknown key '{}' ignored", key), .excerpt = excerpt});
  if (p_.extensions.size() < 64) p_.extensions.emplace_back(std::string(key), std::string(value));
}

sts_policy policy_parser::finish() {
  if (pending_cr_) {
    pending_cr_ = false;
    end_line('\r');
  }
  if (!line_.empty() || line_octets_ > 0) end_line(0);
  p_.octets = octets_;
  if (octets_ == 0) {
    add({.id = sts_finding_id::policy_empty, .line = 1, .column = 1, .message = "no octets"});
  } else {
    std::size_t at = p_.lines + 1;
    if (!any_version_line_) add({.id = sts_finding_id::policy_version_missing, .line = at, .column = 1, .message = "no version line"});
    if (!seen_mode_ && !any_mode_line_) add({.id = sts_finding_id::policy_mode_missing, .line = at, .column = 1, .message = "no mode line"});
    else if (!seen_mode_) add({.id = sts_finding_id::policy_mode_missing, .line = at, .column = 1, .message = "no valid mode line"});
    if (!seen_max_age_)
      add({.id = sts_finding_id::policy_max_age_missing, .line = at, .column = 1,
           .message = any_max_age_line_ ? "no valid max_age line" : "no max_age line"});
    // "mx: ... required at least once, except when mode is none" (sts-policy-field comment)
    if (p_.mx.empty() && p_.mode && *p_.mode != sts_mode::none)
      add({.id = sts_finding_id::policy_mx_missing, .line = at, .column = 1,
           .message = fmt::format("mode {} without a valid mx line", to_string(*p_.mode))});
  }
  if (p_.crlf_lines > 0 && p_.lf_lines > 0) {
    add({.id = sts_finding_id::policy_mixed_line_endings, .line = 1, .column = 1,
         .message = fmt::format("{} lines end with CRLF, {} with LF", p_.crlf_lines, p_.lf_lines)});
  }
  // The policy is applied when no error finding stands; findings past max_findings are
  // counted only, so a dropped one may have been an error: then not valid either.
  p_.valid = count(p_.findings).errors == 0 && p_.findings_dropped == 0;
  sts_policy out = std::move(p_);
  p_ = {};
  return out;
}

sts_policy parse_sts_policy(std::string_view body, policy_limits limits) {
  policy_parser p(limits);
  p.feed(body);
  return p.finish();
}

// RFC 8461 §4.1: "MX hosts ... matched against the mx patterns; a pattern "*.example.com"
// matches mail.example.com but not example.com or foo.mail.example.com" (paraphrased):
// the wildcard stands for exactly one left-most label. Names are compared case-insensitively,
// the MX name's trailing dot removed.
bool mx_matches(const mx_pattern& pattern, std::string_view host, wildcard_rule rule) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (!pattern.wildcard) return iequals(host, pattern.domain);
  if (host.size() < pattern.domain.size() + 2) return false;
  std::string_view tail = host.substr(host.size() - pattern.domain.size());
  if (!iequals(tail, pattern.domain) || host[host.size() - pattern.domain.size() - 1] != '.') return false;
  std::string_view left = host.substr(0, host.size() - pattern.domain.size() - 1);
  if (left.empty()) return false;
  if (rule == wildcard_rule::any_depth) return true;
  return left.find('.') == std::string_view::npos;
}

std::optional<std::size_t> match_mx(const sts_policy& policy, std::string_view host, wildcard_rule rule) {
  for (std::size_t i = 0; i < policy.mx.size(); ++i)
    if (mx_matches(policy.mx[i], host, rule)) return i;
  return std::nullopt;
}

}  // namespace mxtls
