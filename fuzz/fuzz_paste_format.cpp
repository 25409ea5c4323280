// Fuzz target: the paste reader's front half: normalisation (UTF-16, Unicode stand-ins,
// CR-only endings) and format detection with its per-line stripping, then lint of the
// result. Aborts when a fact points outside the input or the two detections disagree.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mxtls/lint.hpp"
#include "mxtls/paste_text.hpp"
#include "mxtls/report.hpp"
#include "mxtls/transcript.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mxtls::normalised_paste n = mxtls::normalise_paste(in);
  // Stand-ins only shrink the text; UTF-16 decodes to at most 3 octets per 2.
  if (!n.utf16 && n.text.size() > in.size()) std::abort();
  if (n.utf16 && n.text.size() > in.size() * 3 / 2 + 3) std::abort();
  if (n.notes.empty() && !n.utf16 && n.text != in) std::abort();
  for (std::size_t i = 1; i < n.notes.size(); ++i)
    if (n.notes[i - 1].change >= n.notes[i].change || n.notes[i].count == 0) std::abort();

  std::string_view text = n.text;
  auto t = mxtls::read_transcript(text);
  if (mxtls::detect_paste_format(text) != t.format) std::abort();
  for (const auto& l : t.lines) {
    if (l.text.data() < l.source.data() || l.text.data() + l.text.size() > l.source.data() + l.source.size())
      std::abort();
    if (l.source.data() < text.data() || l.source.data() + l.source.size() > text.data() + text.size()) std::abort();
    if (l.source.data() + l.column_offset != l.text.data()) std::abort();
    if (l.line == 0 || l.line > t.input_lines) std::abort();
  }
  if (!std::is_sorted(t.ignored.begin(), t.ignored.end())) std::abort();
  if (!t.ignored.empty() && t.ignored.back() > t.input_lines) std::abort();
  if (t.tls_dump_lines > t.tool_lines || t.tool_lines > t.ignored.size()) std::abort();
  for (auto l : t.plaintext_leftover)
    if (l == 0 || l > t.input_lines) std::abort();
  for (const auto& e : t.events)
    if (e.position > t.lines.size() || e.line == 0 || e.line > t.input_lines) std::abort();

  mxtls::lint_options o;
  o.limits.max_lines = 16;
  auto r = mxtls::lint(in, o);
  if (r.reply_found) {
    if (r.linted_turn == 0 || r.linted_turn > r.ehlo_replies_in_input) std::abort();
    if (r.plaintext_reply_missing && !r.clients.empty()) std::abort();
    if (r.dialogue.starttls == mxtls::starttls_answer::refused &&
        r.dialogue.handshake == mxtls::handshake_state::established)
      std::abort();
    for (const auto& f : r.ehlo.findings)
      if (f.line == 0 || f.line > r.input_lines + 1 || f.column == 0) std::abort();
    (void)mxtls::render_lint_text(r, {false, "fuzz"});
    (void)mxtls::render_lint_json(r, "fuzz", false);
  } else if (r.no_reply_reason.empty()) {
    std::abort();
  }
  return 0;
}
