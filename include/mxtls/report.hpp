// Renderers of the lint result model. They never re-parse input.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mxtls/lint.hpp"

namespace mxtls {

// Version of the `mxtls lint --format json` schema (docs/lint-json.md).
inline constexpr int lint_json_version = 1;

struct text_options {
  bool color = false;
  std::string_view input_name = "-";
};

std::string render_lint_text(const lint_result& result, const text_options& options);
nlohmann::ordered_json lint_to_json(const lint_result& result, std::string_view input_name, bool raw);
// The same, serialised; octets that are not UTF-8 (garbage input) become U+FFFD.
std::string render_lint_json(const lint_result& result, std::string_view input_name, bool raw);

}  // namespace mxtls
