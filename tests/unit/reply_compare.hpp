// Helpers to feed the push parser in pieces and compare what it produced.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "mxtls/reply_parser.hpp"

namespace mxtls::test {

// Feeds `bytes` as two chunks split at `at` (or whole when at >= size) and returns every reply.
inline std::vector<reply> parse_split(std::string_view bytes, std::size_t at, parser_limits limits = {}) {
  std::vector<reply> out;
  reply_parser p(limits);
  auto push = [&](std::string_view chunk) {
    while (!chunk.empty()) {
      std::size_t used = p.feed(chunk);
      chunk.remove_prefix(used);
      if (p.has_reply()) out.push_back(p.take_reply());
      else if (used == 0) break;
    }
  };
  push(bytes.substr(0, std::min(at, bytes.size())));
  if (at < bytes.size()) push(bytes.substr(at));
  while (p.finish()) out.push_back(p.take_reply());
  return out;
}

// A textual dump of replies that holds every fact the parser reports.
inline std::string dump(const std::vector<reply>& replies) {
  std::string s;
  for (const auto& r : replies) {
    s += fmt::format("reply complete={} octets={} dropped={} limits={}{}{}\n", r.complete, r.octets, r.dropped_lines,
                     r.line_limit_hit, r.lines_limit_hit, r.octets_limit_hit);
    for (const auto& l : r.lines)
      s += fmt::format("  #{} @{} len={} stored={} code={} sep={} end={} [{}]\n", l.number, l.offset, l.length,
                       l.stored, l.code, to_string(l.sep), to_string(l.ending), r.text(l));
  }
  return s;
}

}  // namespace mxtls::test
