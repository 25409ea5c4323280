// Findings: every deviation the linter reports, as data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mxtls {

enum class severity : std::uint8_t { error, warning, info };
const char* to_string(severity s);

// Stable ids. The string form (catalogue_entry::name) is what JSON, docs and tests use;
// never rename one, add new ones at the end.
enum class finding_id : std::uint8_t {
  keyword_as_greeting,
  greeting_not_domain,
  final_line_not_last,
  code_mismatch,
  bare_lf,
  bare_cr,
  line_too_long,
  keyword_syntax,
  duplicate_keyword,
  keyword_not_uppercase,
  keyword_leading_space,
  extra_whitespace,
  size_not_number,
  auth_legacy_form,
  starttls_with_params,
  bad_separator,
  no_code,
  truncated_reply,
  starttls_not_offered,
  ehlo_not_accepted,
  invalid_character,
  code_out_of_range,
  limit_exceeded,
  count_  // not an id
};

struct catalogue_entry {
  finding_id id;
  std::string_view name;     // stable id, e.g. "keyword-as-greeting"
  severity level;
  std::string_view rfc;      // e.g. "RFC 5321 §4.1.1.1"
  std::string_view summary;  // one sentence: what is wrong and why it matters
  std::string_view fix;      // what the server's admin should change
  bool raw_only;             // judged only on raw input (line endings, trailing space)
};

std::span<const catalogue_entry> catalogue();
const catalogue_entry& describe(finding_id id);
// Looks an id up by its stable name; nullptr when unknown.
const catalogue_entry* find_entry(std::string_view name);

struct finding {
  finding_id id;
  std::size_t line = 0;     // 1-based line in the input as given
  std::size_t column = 0;   // 1-based column in that line
  std::size_t width = 1;    // how many columns the caret underlines
  std::string message;      // specific to this occurrence
  std::string excerpt;      // the input line the finding points at, as given

  const catalogue_entry& entry() const { return describe(id); }
  severity level() const { return entry().level; }
};

}  // namespace mxtls
