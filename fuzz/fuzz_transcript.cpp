// Fuzz target: the transcript reader and lint of pasted text, with both renderers.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mxtls/lint.hpp"
#include "mxtls/report.hpp"
#include "mxtls/transcript.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto t = mxtls::read_transcript(in);
  for (const auto& l : t.lines) {
    // Every line's text lies inside the input and inside its own source line.
    if (l.text.data() < in.data() || l.text.data() + l.text.size() > in.data() + in.size()) std::abort();
    if (l.text.data() < l.source.data() || l.text.data() + l.text.size() > l.source.data() + l.source.size())
      std::abort();
    if (l.line == 0 || l.line > t.input_lines) std::abort();
  }
  mxtls::lint_options o;
  o.limits.max_lines = 16;
  auto r = mxtls::lint(in, o);
  if (r.reply_found) {
    for (const auto& f : r.ehlo.findings)
      if (f.line == 0 || f.line > r.input_lines + 1 || f.column == 0) std::abort();
    (void)mxtls::render_lint_text(r, {true, "fuzz"});
    (void)mxtls::render_lint_json(r, "fuzz", false);
  }
  return 0;
}
