// The HTML report of a log summary (include/mxtls/logs_html.hpp), on the shared page code.
#include "mxtls/logs_html.hpp"

#include <algorithm>
#include <array>
#include <sstream>

#include <fmt/format.h>

#include "mxtls/diagnosis.hpp"
#include "mxtls/finding.hpp"
#include "mxtls/html_page.hpp"
#include "mxtls/reason_advice.hpp"

namespace mxtls::logs {
namespace {

using html::escape;

// The classes of an attempt as the page shows them, worst first: the same order as the
// reader's own (log_reader.cpp rank_of), which sorts the destinations.
struct class_words {
  attempt_class c;
  int severity;
  const char* colour;
  const char* meaning;
};
constexpr std::array<class_words, attempt_class_count> classes{{
    {attempt_class::tls_failed, 5, "#c62828", "deferred or bounced for a TLS reason: the mail did not go"},
    {attempt_class::plaintext_after_tls_failure, 4, "#ad1457", "delivered without TLS after TLS failed on the same attempt"},
    {attempt_class::plaintext, 3, "#ef6c00", "delivered without TLS"},
    {attempt_class::unknown, 2, "#9e9e9e", "delivered; the log cannot say whether over TLS (it has no TLS lines at all)"},
    {attempt_class::other_failure, 1, "#546e7a", "deferred or bounced for a reason that is not TLS's"},
    {attempt_class::tls, 0, "#2e7d32", "delivered over TLS"},
}};

const class_words& words_of(attempt_class c) {
  for (const auto& w : classes)
    if (w.c == c) return w;
  return classes.back();
}

// A destination's outcome: its worst class seen.
attempt_class worst_of(const destination_summary& d) {
  for (const auto& w : classes)
    if (d.count(w.c)) return w.c;
  return attempt_class::tls;
}

// What each reason means and what to do (RFC 8460 §4.3 result types where one fits).
struct reason_words {
  const char* title;
  const char* fix;
  int severity;  // 2 the mail did not go over TLS or not at all, 1 otherwise
};
reason_words words_of(result_type r) {
  switch (r) {
    case result_type::none: return {"", "", 0};
    case result_type::starttls_not_supported:
      return {"The destination does not offer STARTTLS",
              "Probe it (mxtls logs --probe, or mxtls probe): the server offers no STARTTLS, or its EHLO reply hides it "
              "from this MTA; ask its administrator with the probe's diagnosis as evidence.",
              2};
    case result_type::certificate_host_mismatch:
      return {"The certificate does not match the host name",
              "The destination needs a certificate naming its MX host; until then, this MTA's policy for it decides "
              "(verify levels defer the mail).",
              2};
    case result_type::certificate_expired:
      return {"The certificate has expired", "The destination must renew its certificate; send it these lines.", 2};
    case result_type::certificate_not_trusted:
      return {"The certificate is not trusted",
              "Check this MTA's CA store; else the destination must install a certificate from a public CA with its chain.", 2};
    case result_type::validation_failure:
      return {"Certificate validation failed", "Read the sample lines for the verifier's reason; probe the destination.", 2};
    case result_type::tlsa_invalid:
      return {"No TLSA record matches the certificate (DANE)",
              "The destination renewed its certificate or key without updating its TLSA records, or publishes a "
              "DANE-TA record for a CA it does not send: mxtls probe shows the records that would match (mxtls tlsa "
              "prints them); publish the new record beside the old before the next key change.",
              2};
    case result_type::dnssec_invalid:
      return {"The TLSA lookup fails (DNSSEC)",
              "The resolver returned no valid TLSA answer: a bogus signature, or a name server that does not answer "
              "TLSA queries. DANE senders defer; mxtls probe says which (bogus or lookup-failed) and why.",
              2};
    case result_type::handshake_failure:
      return {"The TLS handshake fails",
              "Compare the protocol versions and ciphers of both ends (mxtls probe shows the server's); a very old or "
              "very strict side is the usual cause.",
              2};
    case result_type::starttls_refused:
      return {"STARTTLS is refused", "The destination offers STARTTLS but refuses it: its TLS is misconfigured.", 2};
    case result_type::connection_failed:
      return {"No connection", "Not a TLS problem: check the route and the destination's port 25.", 1};
    case result_type::greeting_refused:
      return {"The greeting refuses the connection", "Not a TLS problem: the destination is busy or blocks this MTA.", 1};
    case result_type::dns_failure:
      return {"The MX or address lookup fails",
              "Not a TLS failure, yet it can be DNSSEC's: a bogus answer fails only the senders that validate, "
              "while the others deliver. Probe the domain (mxtls probe) to see its DNSSEC status.",
              1};
    case result_type::other: return {"Another failure", "Read the sample lines.", 1};
  }
  return {"", "", 0};
}

std::string evidence_html(const std::vector<evidence_line>& lines, const std::vector<std::string>& inputs) {
  if (lines.empty()) return {};
  std::string out = "<pre class=\"evidence\">";
  for (const auto& l : lines)
    out += escape(fmt::format("{}:{}: {}", l.file < inputs.size() ? inputs[l.file] : "-", l.line, l.text)) + "\n";
  return out + "</pre>";
}

}  // namespace

std::string render_logs_html(const log_summary& s, const std::vector<std::string>& inputs, const logs_html_options& opt) {
  std::ostringstream out;
  html::page_info page{.title = opt.title, .note = {}, .warnings = {}};
  std::string files;
  for (const auto& i : inputs) files += (files.empty() ? "" : ", ") + i;
  page.note = fmt::format("{} destination{}; {} log {}; {} lines read, {} not understood", s.destinations.size(),
                          s.destinations.size() == 1 ? "" : "s", format_words(s, inputs), files, s.lines, s.lines_not_understood);
  if (!opt.generated.empty()) page.note += "; generated " + opt.generated;
  for (note_id n : s.notes) page.warnings.push_back(note_text(n, s));
  html::begin_page(out, page);

  // Cards and choices: destinations by their worst class.
  std::array<std::uint64_t, attempt_class_count> by_worst{};
  for (const auto& d : s.destinations) ++by_worst[static_cast<std::size_t>(worst_of(d))];
  std::vector<html::card> cards;
  std::vector<html::filter_choice> choices;
  std::vector<html::outcome_class> legend;
  for (const auto& w : classes) {
    std::string id = to_string(w.c);
    legend.push_back({.id = id, .label = id, .colour = w.colour, .meaning = w.meaning, .severity = w.severity});
    std::uint64_t n = by_worst[static_cast<std::size_t>(w.c)];
    if (!n) continue;
    cards.push_back({.tag = id, .label = id, .colour = w.colour, .count = n});
    choices.push_back({.tag = id, .label = id, .count = n});
  }
  html::write_cards(out, cards);
  html::write_legend(out, legend);
  out << "<p class=\"note\">A destination's outcome is the worst class of its attempts.</p>\n";

  // Problems: each reason (result type), and plaintext deliveries (which carry none), with
  // the destinations they cost and the messages sent to those destinations (each
  // destination's distinct messages, summed), and the first destinations' lines as evidence.
  constexpr std::size_t examples = 5, evidence_destinations = 2;
  // A log none of whose lines names a message (an ESA log of connections only, as mxtls probe
  // --log esa writes) counts the problems' attempts instead.
  const bool messages_named =
      std::any_of(s.destinations.begin(), s.destinations.end(), [](const destination_summary& d) { return d.messages_named(); });
  auto cost_of = [&](const destination_summary& d, std::uint64_t attempts) {
    return messages_named ? d.messages.count() : attempts;
  };
  auto add_senders = [&](std::vector<std::string>& to, const destination_summary& d) {
    for (const auto& who : d.senders) {
      std::string n = sender_name(who);
      if (std::find(to.begin(), to.end(), n) == to.end()) to.push_back(std::move(n));
    }
  };
  std::vector<html::problem> problems;
  auto problem_of = [&](std::string id, const char* title, const char* fix, int severity, auto count) {
    html::problem p{.id = std::move(id), .title = title, .fix = fix, .severity = severity,
                    .severity_word = severity >= 2 ? "error" : "warning"};
    std::string evidence;
    std::size_t cited = 0;
    for (const auto& d : s.destinations) {
      std::uint64_t n = count(d);
      if (!n) continue;
      ++p.destinations;
      p.messages += cost_of(d, n);
      add_senders(p.senders, d);
      if (p.examples.size() < examples) p.examples.push_back(destination_words(d.key));
      if (cited < evidence_destinations && !d.samples.empty()) {
        ++cited;
        evidence += fmt::format("<p>{}:</p>{}", escape(destination_words(d.key)), evidence_html(d.samples, inputs));
      }
    }
    p.details_html = evidence;
    if (p.destinations) problems.push_back(std::move(p));
  };
  for (std::size_t i = 1; i < result_type_count; ++i) {
    auto r = static_cast<result_type>(i);
    reason_words w = words_of(r);
    problem_of(to_string(r), w.title, w.fix, w.severity, [i](const destination_summary& d) { return d.reasons[i]; });
  }
  // What the probe found (--probe): each reason id it attached, once, over the destinations
  // it was attached to. Errors and warnings are problems of the list ("probe-ID", the
  // probe's own words as evidence); the others are listed below it, grouped the same way.
  struct probe_group {
    std::string id;
    std::uint64_t destinations = 0, messages = 0;
    std::vector<std::string> senders;
    std::vector<std::string> examples;
    std::string evidence;
  };
  std::vector<probe_group> probe_groups;
  for (const auto& d : s.destinations) {
    if (!d.probe || !d.probe->error.empty()) continue;
    std::vector<std::string> seen;
    for (const auto& r : d.probe->reasons) {
      if (std::find(seen.begin(), seen.end(), r.id) != seen.end()) continue;  // a reason of several hosts: once per destination
      seen.push_back(r.id);
      auto g = std::find_if(probe_groups.begin(), probe_groups.end(), [&](const probe_group& x) { return x.id == r.id; });
      if (g == probe_groups.end()) g = probe_groups.insert(probe_groups.end(), probe_group{.id = r.id});
      ++g->destinations;
      g->messages += cost_of(d, d.attempts);
      add_senders(g->senders, d);
      if (g->examples.size() < examples) {
        g->examples.push_back(destination_words(d.key));
        g->evidence += fmt::format("<p>{} (probe {}):</p><pre class=\"evidence\">{}</pre>", escape(destination_words(d.key)),
                                   escape(d.probe->target), escape(r.text));
      }
    }
  }
  std::vector<const probe_group*> probe_info;
  for (const auto& g : probe_groups) {
    auto id = parse_reason_id(g.id);
    mxtls::severity sev = id ? severity_of(*id) : mxtls::severity::warning;
    if (sev == mxtls::severity::info) {
      probe_info.push_back(&g);
      continue;
    }
    reason_advice a = id ? advice_for(*id) : reason_advice{.title = g.id, .fix = "Read the probe's words for it."};
    html::problem p{.id = "probe-" + g.id, .title = "Probe: " + std::string(a.title), .fix = std::string(a.fix),
                    .severity = sev == mxtls::severity::error ? 2 : 1, .severity_word = to_string(sev)};
    p.destinations = g.destinations;
    p.messages = g.messages;
    p.senders = g.senders;
    p.examples = g.examples;
    p.details_html = g.evidence;
    problems.push_back(std::move(p));
  }
  problem_of("plaintext", "Delivered without TLS",
             "Probe these destinations (mxtls logs --probe): a server without STARTTLS, or one whose EHLO reply this MTA "
             "does not read as offering it; or this MTA's own TLS is off for them (Postfix smtp_tls_security_level).",
             2, [](const destination_summary& d) { return d.count(attempt_class::plaintext); });
  html::write_fix_first(out, std::move(problems),
                        {.destinations = "destinations",
                         .messages = messages_named ? "messages to them" : "attempts",
                         .senders = "senders",
                         .order_note = "Each reason once (RFC 8460 result types where one fits), and plaintext deliveries, " +
                                       std::string("ordered by how many destinations they cost, then ") +
                                       (messages_named ? "how many messages went to those destinations (distinct queue ids, "
                                                         "message ids or MIDs), "
                                                       : "how many delivery attempts (no line names a message), ") +
                                       "then how many of the MTAs whose logs were read (the syslog host, else one per log format) "
                                       "attempted them. The "
                                       "lines are the log's own, with their line numbers; with --probe, each error or "
                                       "warning the probe found (\"Probe: ...\"), with its words."});
  if (!probe_info.empty()) {
    // The probe's other findings (severity info), grouped by reason: nothing to fix, still said.
    out << "<section id=\"probe-findings\"><h2>Also found by the probe</h2><ul>\n";
    for (const probe_group* g : probe_info) {
      auto id = parse_reason_id(g->id);
      std::string title = id ? std::string(advice_for(*id).title) : g->id;
      out << fmt::format("<li data-reason=\"{}\" data-count=\"{}\"><b>{}</b> <code>{}</code> <span class=\"cost\">{} destination{}</span>"
                         "<p class=\"examples\"><a href=\"#table\" data-filter=\"p:probe-{}\" aria-pressed=\"false\">show in the "
                         "table</a></p>{}</li>\n",
                         escape(g->id), g->destinations, escape(title), escape(g->id), g->destinations,
                         g->destinations == 1 ? "" : "s", escape(g->id), g->evidence);
    }
    out << "</ul></section>\n";
  }

  std::vector<html::bar> bars;
  for (const auto& w : classes) {
    std::uint64_t n = 0;
    for (const auto& d : s.destinations) n += d.count(w.c);
    if (n) bars.push_back({.label = to_string(w.c), .count = n, .colour = w.colour});
  }
  html::begin_charts(out);
  html::write_bar_chart(out, "chart-attempts", "Delivery attempts by class", bars);
  html::end_charts(out);

  const std::vector<html::column> columns{
      {.title = "Destination"}, {.title = "Outcome", .severity = true}, {.title = "Attempts", .numeric = true},
      {.title = "Messages", .numeric = true}, {.title = "Delivered", .numeric = true}, {.title = "TLS", .numeric = true}, {.title = "Plaintext", .numeric = true},
      {.title = "Failed", .numeric = true}, {.title = "Reasons"}, {.title = "Senders"}, {.title = "First"}, {.title = "Last"},
      {.title = "Probe"}, {.title = "Evidence"}};
  html::begin_table(out, columns, choices);
  for (const auto& d : s.destinations) {
    attempt_class worst = worst_of(d);
    const class_words& w = words_of(worst);
    std::string tags = to_string(worst), reasons;
    for (std::size_t i = 1; i < result_type_count; ++i)
      if (d.reasons[i]) {
        tags += std::string(" p:") + to_string(static_cast<result_type>(i));
        reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", to_string(static_cast<result_type>(i)), d.reasons[i]);
      }
    if (d.count(attempt_class::plaintext)) tags += " p:plaintext";
    if (d.probe)
      for (const auto& r : d.probe->reasons)
        if (tags.find(" p:probe-" + r.id) == std::string::npos) tags += " p:probe-" + r.id;
    std::uint64_t plain = d.count(attempt_class::plaintext) + d.count(attempt_class::plaintext_after_tls_failure);
    std::string probe;
    if (d.probe) {
      probe = d.probe->error.empty() ? d.probe->outcome + ": " + d.probe->verdict : "failed: " + d.probe->error;
      std::vector<std::string> ids;
      for (const auto& r : d.probe->reasons)
        if (std::find(ids.begin(), ids.end(), r.id) == ids.end()) ids.push_back(r.id);
      for (std::size_t i = 0; i < ids.size(); ++i) probe += (i == 0 ? " (" : ", ") + ids[i] + (i + 1 == ids.size() ? ")" : "");
    }
    // Worst first: the class, then the attempts that did not use TLS.
    std::uint64_t lost = d.attempts - d.count(attempt_class::tls);
    std::string key = std::to_string(static_cast<std::uint64_t>(w.severity) * 1'000'000'000'000ull + std::min<std::uint64_t>(lost, 999'999'999'999ull));
    const std::vector<html::cell> cells{
        {.html = escape(destination_words(d.key)), .key = {}},
        {.html = fmt::format("<span class=\"pill\" style=\"background:{}\">{}</span>", w.colour, to_string(worst)), .key = key},
        {.html = std::to_string(d.attempts), .key = {}},
        {.html = escape(messages_text(d)), .key = std::to_string(d.messages.count())},
        {.html = std::to_string(d.delivered), .key = {}},
        {.html = std::to_string(d.count(attempt_class::tls)), .key = {}},
        {.html = std::to_string(plain), .key = {}},
        {.html = std::to_string(d.failed()), .key = {}},
        {.html = escape(reasons), .key = {}},
        {.html = escape(senders_text(d)), .key = {}},
        {.html = escape(log_time_text(d.first)), .key = {}},
        {.html = escape(log_time_text(d.last)), .key = {}},
        {.html = escape(probe), .key = {}},
        {.html = worst == attempt_class::tls ? std::string() : evidence_html(d.samples, inputs), .key = {}}};
    html::write_row(out, columns, to_string(worst), tags, cells);
  }
  html::end_table(out);
  if (!s.not_understood_samples.empty())
    out << "<h2>Lines not understood</h2>\n" << evidence_html(s.not_understood_samples, inputs) << "\n";
  html::end_page(out);
  return out.str();
}

}  // namespace mxtls::logs
