// What the log-reader unit tests share: lines through a fresh reader, and a destination by
// its domain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mxtls/logs.hpp"

namespace mxtls::logs::test {

// `lines` read in order as one input (line numbers from 1), the summary at the end.
inline log_summary read(const std::vector<std::string>& lines) {
  log_reader r;
  std::uint64_t n = 0;
  for (const auto& l : lines) r.add_line(l, 0, ++n);
  return r.finish();
}

// The first destination of `s` for `domain`, or null.
inline const destination_summary* dest(const log_summary& s, const std::string& domain) {
  for (const auto& d : s.destinations)
    if (d.key.domain == domain) return &d;
  return nullptr;
}

}  // namespace mxtls::logs::test
