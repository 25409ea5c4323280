// Fuzz target: mxtls logs on journald's export and JSON forms (src/logs/journal_input.cpp),
// the input forced to each form and detected. Aborts when a count does not add up: more
// lines not understood than lines, more samples than the limit, an attempt without a
// destination's count.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "mxtls/logs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxtls::logs;
  std::string in(reinterpret_cast<const char*>(data), size);
  for (std::optional<log_format> f : {std::optional<log_format>(log_format::journal_export),
                                      std::optional<log_format>(log_format::journal_json), std::optional<log_format>()}) {
    log_limits limits;
    log_reader r(limits, f);
    std::istringstream s(in);
    read_stream(s, r, 0);
    log_summary sum = r.finish();
    if (sum.lines_not_understood > sum.lines) std::abort();
    if (sum.not_understood_samples.size() > limits.unknown_samples) std::abort();
    for (const auto& d : sum.destinations) {
      std::uint64_t n = 0;
      for (auto c : d.classes) n += c;
      if (n != d.attempts || d.delivered > d.attempts || d.samples.size() > limits.samples_per_destination) std::abort();
    }
  }
  return 0;
}
