// Fuzz target: the push parser and the EHLO analysis on raw octets.
// Checks, beyond "no crash": splitting the input anywhere gives the same replies, the
// parser's limits hold, and the JSON writer escapes the octets as nlohmann does.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mxtls/json_writer.hpp"
#include "mxtls/lint.hpp"
#include "mxtls/reply_parser.hpp"
#include "mxtls/report.hpp"

namespace {

std::size_t total_lines(const std::vector<mxtls::reply>& rs) {
  std::size_t n = 0;
  for (const auto& r : rs) n += r.lines.size() + r.dropped_lines;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mxtls::parser_limits limits;
  limits.max_line_octets = 64;
  limits.max_lines = 8;
  limits.max_reply_octets = 256;

  auto whole = mxtls::parse_replies(in, limits);
  for (const auto& r : whole) {
    if (r.lines.size() > limits.max_lines || r.data.size() > limits.max_reply_octets) std::abort();
    for (const auto& l : r.lines)
      if (l.stored > limits.max_line_octets || l.begin + l.stored > r.data.size()) std::abort();
  }

  // Split at one point chosen by the input itself, feeding the tail in small pieces.
  std::size_t at = size ? data[0] % (size + 1) : 0;
  mxtls::reply_parser p(limits);
  std::vector<mxtls::reply> split;
  auto push = [&](std::string_view chunk) {
    while (!chunk.empty()) {
      chunk.remove_prefix(p.feed(chunk));
      if (p.has_reply()) split.push_back(p.take_reply());
    }
  };
  push(in.substr(0, at));
  for (std::size_t i = at; i < size; i += 3) push(in.substr(i, 3));
  while (p.finish()) split.push_back(p.take_reply());
  if (split.size() != whole.size() || total_lines(split) != total_lines(whole)) std::abort();
  for (std::size_t i = 0; i < whole.size(); ++i)
    if (split[i].data != whole[i].data || split[i].complete != whole[i].complete) std::abort();

  std::string escaped;
  mxtls::append_json_string(escaped, in);
  if (escaped != nlohmann::json(std::string(in)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) std::abort();

  mxtls::lint_options o;
  o.raw = true;
  o.limits = limits;
  auto r = mxtls::lint(in, o);
  if (r.reply_found) {
    (void)mxtls::render_lint_text(r, {});
    (void)mxtls::render_lint_json(r, "fuzz", true);
  }
  return 0;
}
