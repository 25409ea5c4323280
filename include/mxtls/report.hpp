// Renderers of the lint result model. They never re-parse input.
#pragma once

#include <string>
#include <string_view>

#include "mxtls/json_writer.hpp"
#include "mxtls/diagnosis.hpp"
#include "mxtls/lint.hpp"

namespace mxtls {

// Version of the `mxtls lint --format json` schema (docs/lint-json.md).
inline constexpr int lint_json_version = 1;

struct text_options {
  bool color = false;
  std::string_view input_name = "-";
};

std::string render_lint_text(const lint_result& result, const text_options& options);
// The lint JSON document (docs/lint-json.md) as the writer's next value; octets that are
// not UTF-8 (garbage input) become U+FFFD.
void write_lint_json(json_writer& w, const lint_result& result, std::string_view input_name, bool raw);
// The same document on its own, indented by two.
std::string render_lint_json(const lint_result& result, std::string_view input_name, bool raw);

// The sender groups as the JSON "senders" object (the probe and the lint documents).
void write_sender_groups(json_writer& w, const sender_groups& g);
// One entry per sender (JSON "predictions").
void write_predictions(json_writer& w, std::span<const sender_prediction> senders);

}  // namespace mxtls
