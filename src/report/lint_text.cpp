#include <algorithm>

#include <fmt/format.h>

#include "mxtls/report.hpp"

namespace mxtls {

namespace {

struct palette {
  bool on;
  std::string_view wrap(std::string_view code) const { return on ? code : std::string_view{}; }
  std::string_view reset() const { return wrap("\033[0m"); }
  std::string_view bold() const { return wrap("\033[1m"); }
  std::string_view dim() const { return wrap("\033[2m"); }
  std::string_view level(severity s) const {
    switch (s) {
      case severity::error: return wrap("\033[1;31m");
      case severity::warning: return wrap("\033[1;33m");
      case severity::info: return wrap("\033[1;36m");
    }
    return {};
  }
  std::string_view status(verdict_status s) const {
    return s == verdict_status::errors ? level(severity::error)
           : s == verdict_status::warnings ? level(severity::warning)
                                           : wrap("\033[1;32m");
  }
};

// One display column per input octet, so that the caret lines up: control octets and
// octets outside ASCII are shown as '?', tabs as a space.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\t') c = ' ';
    else if (u < 32 || u > 126) c = '?';
  }
  return out;
}

constexpr std::size_t excerpt_window = 100;

void render_finding(std::string& out, const finding& f, const text_options& opt, const palette& p) {
  const auto& e = f.entry();
  fmt::format_to(std::back_inserter(out), "{}{}[{}]{}{}: {}{}\n", p.level(e.level), to_string(e.level), e.name,
                 p.reset(), p.bold(), f.message, p.reset());
  fmt::format_to(std::back_inserter(out), "  {}-->{} {}:{}:{}\n", p.dim(), p.reset(), opt.input_name, f.line, f.column);
  if (!f.excerpt.empty() || f.column > 1) {
    // Show a window of the line around the column when the line is long.
    std::size_t start = f.column > excerpt_window ? f.column - excerpt_window / 2 : 1;
    std::string_view line = f.excerpt;
    std::string shown = printable(line.substr(std::min(line.size(), start - 1), excerpt_window + excerpt_window / 2));
    std::string lead = start > 1 ? "..." : "";
    std::string num = std::to_string(f.line);
    std::string pad(num.size(), ' ');
    fmt::format_to(std::back_inserter(out), "  {} {}|{}\n", pad, p.dim(), p.reset());
    fmt::format_to(std::back_inserter(out), "  {} {}|{} {}{}\n", num, p.dim(), p.reset(), lead, shown);
    std::size_t caret_at = lead.size() + (f.column - start);
    std::size_t width = std::min<std::size_t>(f.width, 80);
    fmt::format_to(std::back_inserter(out), "  {} {}|{} {}{}{}{}\n", pad, p.dim(), p.reset(), std::string(caret_at, ' '),
                   p.level(e.level), std::string(width, '^'), p.reset());
  }
  fmt::format_to(std::back_inserter(out), "  = {}\n", e.rfc);
  fmt::format_to(std::back_inserter(out), "  = why: {}\n", e.summary);
  fmt::format_to(std::back_inserter(out), "  = fix: {}\n\n", e.fix);
}

std::string list_lines(const std::vector<std::size_t>& lines) {
  std::string s;
  for (std::size_t i = 0; i < lines.size() && i < 10; ++i) s += (i ? ", " : "") + std::to_string(lines[i]);
  if (lines.size() > 10) s += fmt::format(" and {} more", lines.size() - 10);
  return s;
}

}  // namespace

std::string render_lint_text(const lint_result& r, const text_options& opt) {
  palette p{opt.color};
  std::string out;
  fmt::format_to(std::back_inserter(out), "{}{}{}\n\n", p.status(r.status), r.headline, p.reset());
  const ehlo_reply& e = r.ehlo;

  if (e.greeting) {
    std::string seen;
    for (const auto& x : e.extensions)
      if (x.seen_by_strict_client) seen += (seen.empty() ? "" : ", ") + x.keyword;
    fmt::format_to(std::back_inserter(out), "A strict client (RFC 5321 §4.1.1.1) reads:\n");
    fmt::format_to(std::back_inserter(out), "  greeting   {} (line {})\n", e.greeting->domain.empty() ? "(empty)" : e.greeting->domain,
                   e.greeting->line);
    fmt::format_to(std::back_inserter(out), "  extensions {}\n", seen.empty() ? "(none)" : seen);
    fmt::format_to(std::back_inserter(out), "  STARTTLS   {}\n\n",
                   e.starttls_visible    ? "offered"
                   : e.starttls_anywhere ? "not seen (the word is in the reply, but not where a strict client looks)"
                                         : "not offered");
  }

  for (const auto& f : e.findings) render_finding(out, f, opt, p);

  if (!r.clients.empty()) {
    auto group = [&](std::string_view label, auto pick) {
      std::string names;
      for (const auto& c : r.clients)
        if (pick(c)) names += (names.empty() ? "" : ", ") + std::string(c.short_name);
      if (!names.empty()) fmt::format_to(std::back_inserter(out), "    {:<10} {}\n", label, names);
    };
    fmt::format_to(std::back_inserter(out), "{}What real SMTP clients do with this reply{} (STARTTLS answered with 220):\n",
                   p.bold(), p.reset());
    out += "  with their default or \"TLS when offered\" setting:\n";
    for (tls_outcome o : {tls_outcome::tls, tls_outcome::plaintext, tls_outcome::fail, tls_outcome::hang})
      group(to_string(o), [o](const client_prediction& c) { return c.outcome == o; });
    out += "  with TLS required:\n";
    for (tls_outcome o : {tls_outcome::tls, tls_outcome::fail, tls_outcome::hang})
      group(to_string(o), [o](const client_prediction& c) { return c.outcome_required == o; });
    bool any = false;
    for (const auto& c : r.clients) {
      if (c.outcome == tls_outcome::tls && c.outcome_required == tls_outcome::tls) continue;
      if (!any) fmt::format_to(std::back_inserter(out), "  why:\n");
      any = true;
      fmt::format_to(std::back_inserter(out), "    {:<18} {}\n", c.id, c.why);
    }
    out += "\n";
  }

  fmt::format_to(std::back_inserter(out), "{} error{}, {} warning{}, {} note{} in {} line{} of EHLO reply\n", r.errors,
                 r.errors == 1 ? "" : "s", r.warnings, r.warnings == 1 ? "" : "s", r.infos, r.infos == 1 ? "" : "s",
                 e.lines_sent, e.lines_sent == 1 ? "" : "s");
  if (r.ehlo_replies_in_input > 1)
    fmt::format_to(std::back_inserter(out),
                   "note: the input holds {} EHLO replies; only the first was linted (lint the others "
                   "separately)\n",
                   r.ehlo_replies_in_input);
  if (!r.ignored_lines.empty())
    fmt::format_to(std::back_inserter(out), "note: {} input line{} neither server nor client, ignored: {}\n",
                   r.ignored_lines.size(), r.ignored_lines.size() == 1 ? " is" : "s are", list_lines(r.ignored_lines));
  return out;
}

}  // namespace mxtls
