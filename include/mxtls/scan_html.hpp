// The HTML report of a scan: one self-contained file (inline CSS, SVG and script; nothing
// fetched), made from the scan's JSONL records.
#pragma once

#include <istream>
#include <ostream>
#include <string>

namespace mxtls {

struct scan_html_options {
  std::string title = "mxtls scan";
  std::string generated;  // when, as text ("2026-11-27 21:00 UTC"); empty: not shown
  std::string note;       // one line under the title (the list, shard, options); empty: none
};

// Reads one JSON record per line (mxtls scan's output; lines that are not records are
// counted and named in the report, never dropped silently) and writes the page to `out`.
// `jsonl` is read three times from its start (it must be seekable, e.g. a file): memory
// stays the same whatever the number of records.
void write_scan_html(std::istream& jsonl, std::ostream& out, const scan_html_options& options);
// The same, as a string.
std::string render_scan_html(std::istream& jsonl, const scan_html_options& options);

}  // namespace mxtls
