// The two TXT records of MTA-STS and TLS-RPT: `_mta-sts` (RFC 8461 §3.1) and `_smtp._tls`
// (RFC 8460 §3). Both are a version field and then key=value fields separated by ';'.
#include <fmt/format.h>

#include <algorithm>

#include "mxtls/mta_sts.hpp"

namespace mxtls {

const char* to_string(txt_status s) {
  switch (s) {
    case txt_status::none: return "none";
    case txt_status::valid: return "valid";
    case txt_status::invalid: return "invalid";
  }
  return "?";
}

namespace {

constexpr std::size_t max_excerpt = 512;

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
// (tlsrpt-ext-name is the same rule.)
bool ext_name(std::string_view s) {
  if (s.empty() || s.size() > 32 || !(is_alpha(s[0]) || is_digit(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.'; });
}

// sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)  ; VCHAR without "=" and ";"
bool ext_value(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e && c != '=' && c != ';';
  });
}

struct field {
  std::string_view key, value;
  std::size_t column;  // 1-based, of the key
};

// What follows the version: field-delim = *WSP ";" *WSP, then fields, an optional final
// delimiter. On a syntax error: the column and a message.
struct split_result {
  std::vector<field> fields;
  std::size_t error_column = 0;
  std::string error;
};

split_result split_fields(std::string_view rec, std::size_t from) {
  split_result r;
  std::size_t i = from;
  auto fail = [&](std::size_t col, std::string msg) {
    r.error_column = col + 1;
    r.error = std::move(msg);
    return r;
  };
  while (true) {
    // field-delim
    std::size_t d = i;
    while (d < rec.size() && is_wsp(rec[d])) ++d;
    if (d == rec.size()) {
      if (r.fields.empty()) return fail(d, "no field after the version; ';' and the fields are required");
      if (d != i) return fail(i, "white space at the end of the record");
      return r;
    }
    if (rec[d] != ';')
      return fail(d, fmt::format("'{}' where ';' separates fields", rec[d]));
    ++d;
    while (d < rec.size() && is_wsp(rec[d])) ++d;
    if (d == rec.size()) {
      if (r.fields.empty()) return fail(d, "no field after the version");
      return r;  // [field-delim] at the end
    }
    // key "=" value
    std::size_t k = d;
    while (k < rec.size() && rec[k] != '=' && rec[k] != ';' && !is_wsp(rec[k])) ++k;
    if (k == rec.size() || rec[k] != '=')
      return fail(d, fmt::format("field '{}' has no '='", rec.substr(d, k - d)));
    std::size_t v = k + 1;
    std::size_t e = v;
    while (e < rec.size() && rec[e] != ';' && !is_wsp(rec[e])) ++e;
    r.fields.push_back({rec.substr(d, k - d), rec.substr(v, e - v), d + 1});
    i = e;
  }
}

std::string excerpt_of(std::string_view rec) { return std::string(rec.substr(0, max_excerpt)); }

// The records at a name that start with `version` (and then end, a ';' or white space):
// RFC 8461 §3.1 and RFC 8460 §3 discard the others.
bool starts_with_version(std::string_view rec, std::string_view version) {
  if (rec.substr(0, version.size()) != version) return false;
  return rec.size() == version.size() || rec[version.size()] == ';' || is_wsp(rec[version.size()]);
}

}  // namespace

// RFC 8461 §3.1:
//   sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
//   sts-field       = sts-id / sts-extension
//   sts-version     = %s"v=STSv1"
//   sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
// "If multiple TXT records for _mta-sts are returned by the resolver, records that do not
// begin with v=STSv1; are discarded. If the number of resulting records is not one, or if
// the resulting record is syntactically invalid, senders MUST assume the recipient domain
// does not have an available MTA-STS policy" (paraphrased).
sts_txt parse_sts_txt(std::span<const std::string> records) {
  sts_txt t;
  t.records = records.size();
  constexpr std::string_view version = "v=STSv1";
  std::vector<std::size_t> candidates;
  for (std::size_t n = 0; n < records.size(); ++n) {
    if (starts_with_version(records[n], version)) {
      candidates.push_back(n);
    } else {
      t.findings.push_back({.id = sts_finding_id::txt_other_record, .line = n + 1, .column = 1,
                            .width = std::max<std::size_t>(1, std::min<std::size_t>(records[n].size(), 16)),
                            .message = "record discarded: it does not start with v=STSv1",
                            .excerpt = excerpt_of(records[n])});
    }
  }
  t.candidates = candidates.size();
  if (candidates.empty()) return t;
  if (candidates.size() > 1) {
    for (std::size_t n : candidates)
      t.findings.push_back({.id = sts_finding_id::txt_multiple, .line = n + 1, .column = 1, .width = version.size(),
                            .message = fmt::format("{} v=STSv1 records; senders apply no policy", candidates.size()),
                            .excerpt = excerpt_of(records[n])});
    t.status = txt_status::invalid;
    return t;
  }
  std::size_t n = candidates.front();
  std::string_view rec = records[n];
  auto add = [&](sts_finding_id id, std::size_t col, std::size_t width, std::string msg) {
    t.findings.push_back({.id = id, .line = n + 1, .column = col, .width = std::max<std::size_t>(width, 1),
                          .message = std::move(msg), .excerpt = excerpt_of(rec)});
  };
  split_result s = split_fields(rec, version.size());
  if (!s.error.empty()) {
    add(sts_finding_id::txt_syntax, s.error_column, 1, s.error);
    t.status = txt_status::invalid;
    return t;
  }
  bool have_id = false, bad = false;
  std::vector<std::string_view> seen;
  for (const field& f : s.fields) {
    bool dup = std::find(seen.begin(), seen.end(), f.key) != seen.end();
    seen.push_back(f.key);
    if (dup) add(sts_finding_id::txt_duplicate_field, f.column, f.key.size(),
                 fmt::format("'{}' again; the first is used", f.key));
    if (f.key == "id") {
      bool ok = !f.value.empty() && f.value.size() <= 32 &&
                std::all_of(f.value.begin(), f.value.end(), [](char c) { return is_alpha(c) || is_digit(c); });
      if (!ok) {
        add(sts_finding_id::txt_id_syntax, f.column + 3, f.value.size(),
            f.value.size() > 32 ? fmt::format("id of {} characters; at most 32", f.value.size())
                                : fmt::format("id '{}' holds a character other than letters and digits", f.value));
        bad = true;
      } else if (!dup) {
        t.id = std::string(f.value);
        have_id = true;
      }
      continue;
    }
    if (!ext_name(f.key) || !ext_value(f.value)) {
      add(sts_finding_id::txt_syntax, f.column, f.key.size() + 1 + f.value.size(),
          fmt::format("field '{}={}' is not name=value", f.key, f.value));
      bad = true;
      continue;
    }
    if (f.key == "v") {
      add(sts_finding_id::txt_syntax, f.column, f.key.size() + 1 + f.value.size(), "a second version field");
      bad = true;
      continue;
    }
    if (!dup) t.extensions.emplace_back(f.key, f.value);
  }
  if (!have_id && !bad) add(sts_finding_id::txt_id_missing, 1, rec.size(), "no id field");
  t.status = (have_id && !bad) ? txt_status::valid : txt_status::invalid;
  return t;
}

namespace {

// tlsrpt-uri = URI, with the schemes "mailto" and "https" (RFC 8460 §3). A light check: a
// mailto: address with one '@' and text either side; an https: URL with a host.
std::string rua_problem(std::string_view uri) {
  auto lower_prefix = [&](std::string_view p) {
    if (uri.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
      if (static_cast<char>(std::tolower(static_cast<unsigned char>(uri[i]))) != p[i]) return false;
    return true;
  };
  if (lower_prefix("mailto:")) {
    std::string_view addr = uri.substr(7);
    auto q = addr.find('?');
    if (q != std::string_view::npos) addr = addr.substr(0, q);
    auto at = addr.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == addr.size() || addr.find('@', at + 1) != std::string_view::npos)
      return fmt::format("'{}' is not a mailto: address (local@domain)", uri);
    return "";
  }
  if (lower_prefix("https://")) {
    std::string_view rest = uri.substr(8);
    auto slash = rest.find('/');
    if ((slash == std::string_view::npos ? rest.size() : slash) == 0) return fmt::format("'{}' has no host", uri);
    return "";
  }
  auto colon = uri.find(':');
  if (colon == std::string_view::npos) return fmt::format("'{}' has no scheme; mailto: or https: is needed", uri);
  return fmt::format("scheme '{}' in '{}'; reports go only to mailto: or https:", uri.substr(0, colon), uri);
}

}  // namespace

// RFC 8460 §3:
//   tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
//   field-delim   = *WSP ";" *WSP
//   tlsrpt-field  = tlsrpt-rua / tlsrpt-extension   ; tlsrpt-rua is required
//   tlsrpt-version = %s"v=TLSRPTv1"
//   tlsrpt-rua    = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
// Records not beginning with v=TLSRPTv1 are discarded; a number of them other than one means
// the domain does not take reports.
tls_rpt_record parse_tls_rpt_txt(std::span<const std::string> records) {
  tls_rpt_record t;
  t.records = records.size();
  constexpr std::string_view version = "v=TLSRPTv1";
  std::vector<std::size_t> candidates;
  for (std::size_t n = 0; n < records.size(); ++n) {
    if (starts_with_version(records[n], version)) {
      candidates.push_back(n);
    } else {
      t.findings.push_back({.id = sts_finding_id::rpt_other_record, .line = n + 1, .column = 1,
                            .width = std::max<std::size_t>(1, std::min<std::size_t>(records[n].size(), 16)),
                            .message = "record discarded: it does not start with v=TLSRPTv1",
                            .excerpt = excerpt_of(records[n])});
    }
  }
  t.candidates = candidates.size();
  if (candidates.empty()) return t;
  if (candidates.size() > 1) {
    for (std::size_t n : candidates)
      t.findings.push_back({.id = sts_finding_id::rpt_multiple, .line = n + 1, .column = 1, .width = version.size(),
                            .message = fmt::format("{} v=TLSRPTv1 records; senders send no reports", candidates.size()),
                            .excerpt = excerpt_of(records[n])});
    t.status = txt_status::invalid;
    return t;
  }
  std::size_t n = candidates.front();
  std::string_view rec = records[n];
  auto add = [&](sts_finding_id id, std::size_t col, std::size_t width, std::string msg) {
    t.findings.push_back({.id = id, .line = n + 1, .column = col, .width = std::max<std::size_t>(width, 1),
                          .message = std::move(msg), .excerpt = excerpt_of(rec)});
  };
  // The rua list may hold white space around its commas, which split_fields would take as
  // the end of the value: join "a , b" first, remembering columns.
  std::string joined;
  std::vector<std::size_t> column_of;  // joined index -> 1-based column in rec
  for (std::size_t i = 0; i < rec.size(); ++i) {
    if (is_wsp(rec[i])) {
      std::size_t j = i;
      while (j < rec.size() && is_wsp(rec[j])) ++j;
      bool next_comma = j < rec.size() && rec[j] == ',';
      bool prev_comma = !joined.empty() && joined.back() == ',';
      if (next_comma || prev_comma) {
        i = j - 1;
        continue;
      }
    }
    joined += rec[i];
    column_of.push_back(i + 1);
  }
  auto col = [&](std::size_t joined_col) {
    return joined_col == 0 ? 1 : joined_col - 1 < column_of.size() ? column_of[joined_col - 1] : rec.size() + 1;
  };
  split_result s = split_fields(joined, version.size());
  if (!s.error.empty()) {
    add(sts_finding_id::rpt_syntax, col(s.error_column), 1, s.error);
    t.status = txt_status::invalid;
    return t;
  }
  bool have_rua = false, bad = false;
  std::vector<std::string_view> seen;
  for (const field& f : s.fields) {
    bool dup = std::find(seen.begin(), seen.end(), f.key) != seen.end();
    seen.push_back(f.key);
    if (dup) add(sts_finding_id::rpt_duplicate_field, col(f.column), f.key.size(),
                 fmt::format("'{}' again; the first is used", f.key));
    if (f.key == "rua") {
      if (dup) continue;
      have_rua = true;
      std::size_t start = 0;
      std::string_view v = f.value;
      while (start <= v.size()) {
        std::size_t comma = v.find(',', start);
        std::string_view uri = v.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        std::string problem = uri.empty() ? std::string("an empty entry in the rua list") : rua_problem(uri);
        if (!problem.empty()) {
          add(sts_finding_id::rpt_rua_uri, col(f.column + 4 + start), std::max<std::size_t>(uri.size(), 1), problem);
          bad = true;
        } else {
          t.rua.emplace_back(uri);
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      continue;
    }
    if (!ext_name(f.key) || !ext_value(f.value) || f.key == "v") {
      add(sts_finding_id::rpt_syntax, col(f.column), f.key.size() + 1 + f.value.size(),
          fmt::format("field '{}={}' is not name=value", f.key, f.value));
      bad = true;
      continue;
    }
    if (!dup) t.extensions.emplace_back(f.key, f.value);
  }
  if (!have_rua) add(sts_finding_id::rpt_rua_missing, 1, rec.size(), "no rua field");
  t.status = (have_rua && !bad) ? txt_status::valid : txt_status::invalid;
  return t;
}

}  // namespace mxtls
