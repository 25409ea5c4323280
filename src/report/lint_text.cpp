#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "mxtls/diagnosis.hpp"
#include "mxtls/report.hpp"
#include "mxtls/sender_tls.hpp"

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

std::string_view format_words(paste_format f) {
  switch (f) {
    case paste_format::plain: return "a pasted conversation";
    case paste_format::swaks: return "swaks output";
    case paste_format::posttls_finger: return "posttls-finger output";
    case paste_format::openssl_s_client: return "openssl s_client output";
    case paste_format::curl: return "curl -v output";
    case paste_format::msmtp: return "msmtp --debug output";
    case paste_format::postfix_log: return "Postfix log lines (debug_peer_list)";
    case paste_format::exim_debug: return "Exim debug output";
    case paste_format::exchange_log: return "an Exchange protocol log";
    case paste_format::outlook_log: return "an Outlook log";
    case paste_format::thunderbird_log: return "a Thunderbird log";
    case paste_format::telnet: return "a telnet session";
    case paste_format::wireshark: return "a Wireshark \"Follow TCP stream\"";
    case paste_format::cisco_esa_telnet: return "a Cisco ESA telnet session";
  }
  return "a paste";
}

std::string_view prefix_words(line_prefix p) {
  switch (p) {
    case line_prefix::syslog: return "the syslog header";
    case line_prefix::timestamp: return "the timestamp";
    case line_prefix::line_number: return "the line number";
    case line_prefix::csv_columns: return "the CSV columns";
    case line_prefix::none: break;
  }
  return "nothing";
}

std::string change_words(const paste_note& n) {
  auto times = [&](std::string_view what, std::string_view into) {
    return fmt::format("{}: {}, read as {}", what, n.count, into);
  };
  switch (n.change) {
    case paste_change::utf16_le: return "the input is UTF-16 (little-endian), decoded";
    case paste_change::utf16_be: return "the input is UTF-16 (big-endian), decoded";
    case paste_change::byte_order_mark: return times("byte order mark", "nothing");
    case paste_change::no_break_space: return times("no-break space (U+00A0)", "a space");
    case paste_change::narrow_no_break_space: return times("narrow or thin space (U+202F, U+2007, U+2009)", "a space");
    case paste_change::non_breaking_hyphen: return times("non-breaking hyphen or dash (U+2010-U+2013, U+2212)", "\"-\"");
    case paste_change::zero_width: return times("zero-width character (U+200B-U+200D, U+2060)", "nothing");
    case paste_change::cr_line_endings: return times("line ending of CR alone", "a line ending");
  }
  return {};
}

std::string ordinal(std::size_t n) {
  static constexpr std::array<std::string_view, 6> words{"", "first", "second", "third", "fourth", "fifth"};
  if (n < words.size()) return std::string(words[n]);
  return fmt::format("{}th", n);
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
    const dialogue_facts& d = r.dialogue;
    if (d.starttls == starttls_answer::refused || d.starttls == starttls_answer::other)
      fmt::format_to(std::back_inserter(out),
                     "{}What real SMTP clients do with this reply{} (in this conversation STARTTLS was answered with "
                     "{}: the senders listed under tls send STARTTLS and are refused; none of them gets TLS):\n",
                     p.bold(), p.reset(), d.starttls_code);
    else if (d.handshake == handshake_state::failed || d.starttls == starttls_answer::no_answer)
      fmt::format_to(std::back_inserter(out),
                     "{}What real SMTP clients do with this reply{} (in this conversation the TLS handshake did not "
                     "complete: the senders listed under tls try it and do not get TLS):\n",
                     p.bold(), p.reset());
    else
      fmt::format_to(std::back_inserter(out), "{}What real SMTP clients do with this reply{} (STARTTLS answered with 220):\n",
                     p.bold(), p.reset());
    out += "  with their default or \"TLS when offered\" setting:\n";
    for (tls_outcome o : {tls_outcome::tls, tls_outcome::plaintext, tls_outcome::fail, tls_outcome::hang})
      group(to_string(o), [o](const client_prediction& c) { return c.outcome == o; });
    out += "  with TLS required:\n";
    for (tls_outcome o : {tls_outcome::tls, tls_outcome::fail, tls_outcome::hang})
      group(to_string(o), [o](const client_prediction& c) { return c.outcome_required == o; });
    // The sending services: no model of their reading; what every client above agrees on.
    std::string svc_tls, svc_plain, svc_unknown;
    for (const auto& p : diagnose_lint(r, r.dialogue).senders) {
      if (!find_sending_service(p.id)) continue;
      std::string& to = p.ehlo_reason == prediction_reason::sees_starttls ? svc_tls
                        : p.ehlo_reason == prediction_reason::not_offered  ? svc_plain
                                                                           : svc_unknown;
      to += (to.empty() ? "" : ", ") + std::string(p.short_name);
    }
    out += "  services (how they read a reply is not documented; what every client above agrees on):\n";
    if (!svc_tls.empty()) fmt::format_to(std::back_inserter(out), "    {:<10} {}\n", "tls", svc_tls);
    if (!svc_plain.empty())
      fmt::format_to(std::back_inserter(out), "    {:<10} {} (with TLS required: fail)\n", "plaintext", svc_plain);
    if (!svc_unknown.empty())
      fmt::format_to(std::back_inserter(out),
                     "    {:<10} {} (the clients above do not all find STARTTLS, nor all find it absent)\n", "unknown",
                     svc_unknown);
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
  if (r.format != paste_format::plain || r.prefix != line_prefix::none || r.quoted) {
    std::string how;
    if (r.prefix != line_prefix::none) how += fmt::format("; {} in front of each line stripped", prefix_words(r.prefix));
    if (r.quoted) how += "; mail quoting (\"> \") stripped";
    fmt::format_to(std::back_inserter(out), "note: read as {}{}\n", format_words(r.format), how);
  }
  for (const auto& n : r.paste_notes)
    fmt::format_to(std::back_inserter(out), "note: {} (first on line {}); this is the paste, not the server\n",
                   change_words(n), n.first_line);
  if (r.plaintext_reply_missing) {
    out += "note: the EHLO reply sent before TLS is not in the paste";
    if (!r.plaintext_leftover_lines.empty())
      fmt::format_to(std::back_inserter(out), " (openssl s_client prints only its last line, line {}, after the "
                     "handshake output; that line was not linted)", r.plaintext_leftover_lines.front());
    out += ";\n      the reply linted is the one inside TLS, where STARTTLS is not offered again (RFC 3207 §4.2).\n"
           "      Senders decide to use TLS on the reply before TLS: see it with `mxtls probe HOST` or\n"
           "      `swaks --server HOST --tls`; client predictions need it and are not made from this paste\n";
  }
  if (r.late_lines_from > 0)
    fmt::format_to(std::back_inserter(out),
                   "note: lines {}-{}, printed as the reply to \"{}\", are the rest of the EHLO reply, sent after "
                   "its final line; they were linted with it\n",
                   r.late_lines_from, r.late_lines_to, r.late_after_command);
  if (r.ehlo_replies_in_input > 1)
    fmt::format_to(std::back_inserter(out), "note: the input holds {} EHLO replies; the {} was linted ({})\n",
                   r.ehlo_replies_in_input, ordinal(r.linted_turn),
                   r.linted_reason == linted_turn_reason::inside_tls
                       ? "the first inside TLS, since none before TLS is shown"
                       : "the first one sent before TLS: senders decide to use STARTTLS on it; the reply inside TLS "
                         "is linted with `mxtls probe`");
  if (r.reply_found && !r.headline.empty()) {
    const dialogue_facts& d = r.dialogue;
    if (d.starttls != starttls_answer::not_sent || d.handshake != handshake_state::not_started) {
      std::string answer = d.starttls_code >= 0 ? fmt::format("{} ({}, line {})", to_string(d.starttls), d.starttls_code,
                                                              r.starttls_answer_line)
                                                : std::string(to_string(d.starttls));
      std::string hs = r.handshake_line ? fmt::format("{} (line {})", to_string(d.handshake), r.handshake_line)
                                        : std::string(to_string(d.handshake));
      fmt::format_to(std::back_inserter(out), "note: conversation: STARTTLS {}, TLS handshake {}{}\n", answer, hs,
                     d.ehlo_after_tls ? ", EHLO again inside TLS" : "");
    }
  }
  if (!r.ignored_lines.empty())
    fmt::format_to(std::back_inserter(out), "note: {} input line{} neither server nor client, ignored: {}{}\n",
                   r.ignored_lines.size(), r.ignored_lines.size() == 1 ? " is" : "s are", list_lines(r.ignored_lines),
                   r.tool_lines == 0     ? std::string()
                   : r.tls_dump_lines == 0 ? fmt::format(" ({} of them the tool's own output)", r.tool_lines)
                                           : fmt::format(" ({} of them the tool's own output, {} of those TLS "
                                                         "certificate, session or ticket dumps)",
                                                         r.tool_lines, r.tls_dump_lines));
  return out;
}

}  // namespace mxtls
