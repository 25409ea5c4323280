// The parts every HTML report of mxtls shares (mxtls scan --html, mxtls logs --html, mxtls
// tlsrpt --format html): one self-contained page (inline CSS, SVG and script; nothing
// fetched) with a legend of the outcomes, summary cards that filter the table, a "fix
// first" list of problems ordered by what each costs, and a table sorted worst first that
// filters, sorts on a header click and reflows into stacked cells on a narrow screen. Each
// report supplies its own outcomes, problems and rows; nothing here knows SMTP or TLS.
//
// Everything given as text is escaped here; `cell::html` and `problem::details_html` are
// markup the caller has escaped itself (html::escape).
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxtls::html {

std::string escape(std::string_view s);

// One outcome a row can have: the legend's entry, the cards' colour, the severity the table
// is sorted by (higher is worse).
struct outcome_class {
  std::string id = {};       // the row's tag and card's filter ("no-starttls")
  std::string label = {};    // shown on the card and in the legend
  std::string colour = {};   // a CSS colour, white text on it
  std::string meaning = {};  // the legend's sentence
  int severity = 0;
};

struct page_info {
  std::string title = {};
  std::string note = {};                   // one line under the title
  std::vector<std::string> warnings = {};  // lines shown in bold under the note (inputs not read, ...)
};

// <!DOCTYPE html> to the page's title and note.
void begin_page(std::ostream& out, const page_info& info);

// A summary card: a button that shows only the rows carrying `tag` (a second click shows
// all again).
struct card {
  std::string tag = {}, label = {}, colour = {};
  std::uint64_t count = 0;
};
void write_cards(std::ostream& out, std::span<const card> cards);
// The legend: every outcome's colour, label and meaning, worst first.
void write_legend(std::ostream& out, std::vector<outcome_class> classes);

// A horizontal bar chart (inline SVG), one bar per entry, largest first; it scales down to
// the page's width.
struct bar {
  std::string label = {};
  std::uint64_t count = 0;
  std::string colour = "#1565c0";
};
void write_bar_chart(std::ostream& out, std::string_view id, std::string_view title, std::vector<bar> bars);
void begin_charts(std::ostream& out);
void end_charts(std::ostream& out);

// One problem of the "fix first" list: what is wrong, what to do, what it costs.
struct problem {
  std::string id = {};        // stable id (a reason id, a result type); rows carrying tag "p:<id>" are its destinations
  std::string title = {};     // what is wrong
  std::string fix = {};       // what to do about it
  int severity = 0;      // higher is worse (the last key of the order)
  std::string severity_word = {};  // "error", "warning", ...
  std::uint64_t destinations = 0;
  std::uint64_t messages = 0;           // the count of the second key (messages, attempts, sessions)
  std::vector<std::string> senders = {};     // the senders it costs (distinct)
  std::vector<std::string> examples = {};    // a few destinations, as text
  std::string details_html = {};             // evidence, already escaped markup (may be empty)
};
struct fix_first_words {
  std::string destinations = "destinations";  // the first column's noun
  std::string messages = {};                       // the second's; empty: not shown
  std::string senders = "senders";            // empty: not shown
  std::string order_note = {};                     // how the list is ordered, in words
};
// Orders `problems` (by destinations, then messages, then senders, then severity, then id;
// every key largest first) and writes the list; nothing when there is none.
void write_fix_first(std::ostream& out, std::vector<problem> problems, const fix_first_words& words);
// The same order, for the renderers' tests and callers that need it.
void order_problems(std::vector<problem>& problems);

// The table. `severity` marks the column the page sorts by on load (worst first): its cells'
// keys are severities. `numeric` columns sort by number.
struct column {
  std::string title = {};
  bool numeric = false;
  bool severity = false;
};
struct cell {
  std::string html = {};  // escaped markup
  std::string key = {};   // the sort key when it is not the cell's text
};
struct filter_choice {
  std::string tag = {}, label = {};
  std::uint64_t count = 0;
};
// The filter box, a choice of tags (the outcomes) and the table head.
void begin_table(std::ostream& out, std::span<const column> columns, std::span<const filter_choice> choices);
// One row: `tags` are its outcome and the "p:<id>" of its problems, space-separated words.
void write_row(std::ostream& out, std::span<const column> columns, std::string_view outcome, std::string_view tags,
               std::span<const cell> cells);
void end_table(std::ostream& out);

// The page's script and the end of the document.
void end_page(std::ostream& out);

}  // namespace mxtls::html
