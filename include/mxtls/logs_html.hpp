// The HTML report of mxtls logs (--html FILE): the same page as the scan's report
// (include/mxtls/html_page.hpp) made from the log summary: what to fix first (reasons as RFC
// 8460 result types and plaintext deliveries, ordered by the destinations and attempts they
// cost, with sample lines and their line numbers as evidence), an outcome legend, cards that
// filter, one row per destination, worst first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mxtls/logs.hpp"

namespace mxtls::logs {

struct logs_html_options {
  std::string title = "mxtls logs";
  std::string generated;  // when, as text; empty: not shown
};

std::string render_logs_html(const log_summary& s, const std::vector<std::string>& inputs, const logs_html_options& options);

// The words the text and JSON renderers use (src/logs/log_render.cpp), shared with the page.
std::string note_text(note_id n, const log_summary& s);
std::string log_time_text(const std::optional<log_time>& t);
// A destination's distinct messages: "12", "~4100" (an estimate: over distinct_count::exact_limit), "-" (no line named one).
std::string messages_text(const destination_summary& d);
// A sender's name: its syslog host, else "(esa: no host in the log)" and the like.
std::string sender_name(const log_sender& who);
// A destination's senders by name, ", ..." after them when more were cut.
std::string senders_text(const destination_summary& d);
// The distinct senders of every destination, first seen first (the names of sender_name).
std::vector<std::string> sender_names(const log_summary& s);
std::string destination_words(const destination_key& k);  // "example.com via mx.example.com [192.0.2.1:25]"
std::string format_words(const log_summary& s, const std::vector<std::string>& inputs);  // "postfix (detected)", …

}  // namespace mxtls::logs
