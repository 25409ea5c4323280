#include "mxtls/lint.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "mxtls/transcript.hpp"

namespace mxtls {

namespace {

bool is_ehlo_command(std::string_view text) {
  if (text.size() < 4) return false;
  std::string verb;
  for (char c : text.substr(0, 4)) verb.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return (verb == "EHLO" || verb == "LHLO") && (text.size() == 4 || text[4] == ' ' || text[4] == '\t');
}

// A 220 banner in front of the EHLO reply is not part of it.
void drop_banner(std::vector<reply>& replies, std::vector<line_origin>& origins) {
  if (replies.size() > 1 && replies.front().code() == 220 && replies.front().complete) {
    origins.erase(origins.begin(), origins.begin() + static_cast<std::ptrdiff_t>(replies.front().lines.size()));
    replies.erase(replies.begin());
  }
}

// Keeps at most `max_lines` lines in the turn (whole replies; the parser already keeps
// each reply within that limit) and counts the rest.
void cap_turn(server_turn& turn, std::size_t max_lines) {
  turn.examine_limit = max_lines;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < turn.replies.size(); ++i) {
    std::size_t n = turn.replies[i].lines.size();
    if (kept + n > max_lines && i > 0) {
      for (std::size_t j = i; j < turn.replies.size(); ++j) turn.dropped_lines += turn.replies[j].lines.size();
      turn.replies.resize(i);
      break;
    }
    kept += n;
  }
  turn.origins.resize(std::min(turn.origins.size(), kept));
}

}  // namespace

server_turn ehlo_turn_from_raw(std::string_view bytes, const parser_limits& limits) {
  server_turn turn;
  ehlo_turn_from_raw(bytes, limits, turn);
  return turn;
}

void ehlo_turn_from_raw(std::string_view bytes, const parser_limits& limits, server_turn& turn) {
  turn.raw = true;
  turn.dropped_lines = 0;
  turn.origins.clear();
  parse_replies(bytes, limits, turn.replies);
  std::size_t total = 0;
  for (const auto& r : turn.replies) total += r.lines.size();
  turn.origins.reserve(total);
  for (const auto& r : turn.replies)
    for (const auto& l : r.lines) turn.origins.push_back({l.number, 0, {}});
  drop_banner(turn.replies, turn.origins);
  cap_turn(turn, limits.max_lines);
}

namespace {

// Pasted text: find the reply to EHLO in the transcript and parse it, remembering where
// every line stands in the input. Line endings of pasted text are not judged, so each
// line is given to the parser with CRLF.
bool ehlo_turn_from_transcript(std::string_view input, const parser_limits& limits, lint_result& result,
                               server_turn& turn) {
  transcript t = read_transcript(input);
  result.input_lines = t.input_lines;
  result.ignored_lines = t.ignored;

  std::size_t begin = t.lines.size();
  for (std::size_t i = 0; i < t.lines.size(); ++i) {
    const auto& l = t.lines[i];
    if (l.dir != direction::client || !is_ehlo_command(l.text)) continue;
    bool answered = i + 1 < t.lines.size() && t.lines[i + 1].dir == direction::server;
    if (answered) {
      ++result.ehlo_replies_in_input;
      if (begin == t.lines.size()) begin = i + 1;
    } else if (begin == t.lines.size() && result.ehlo_replies_in_input == 0) {
      result.no_reply_reason = fmt::format("EHLO on line {} has no server reply after it", l.line);
    }
  }
  if (begin == t.lines.size() && !result.no_reply_reason.empty()) return false;
  if (begin == t.lines.size()) {
    // No EHLO command in the input: the first run of server lines is the reply.
    auto first = std::find_if(t.lines.begin(), t.lines.end(),
                              [](const transcript_line& l) { return l.dir == direction::server; });
    if (first == t.lines.end()) {
      if (result.no_reply_reason.empty())
        result.no_reply_reason = "no SMTP reply found in the input (expected lines such as \"250-mail.example.com\")";
      return false;
    }
    begin = static_cast<std::size_t>(first - t.lines.begin());
    result.ehlo_replies_in_input = 1;
  }
  std::size_t end = begin;
  while (end < t.lines.size() && t.lines[end].dir == direction::server) ++end;

  std::string stream;
  std::vector<std::size_t> starts;  // stream offset of each transcript line
  for (std::size_t i = begin; i < end; ++i) {
    starts.push_back(stream.size());
    stream.append(t.lines[i].text);
    stream.append("\r\n");
  }
  turn.raw = false;
  turn.replies = parse_replies(stream, limits);
  for (const auto& r : turn.replies) {
    for (const auto& l : r.lines) {
      // A CR inside a pasted line splits it; map each parsed line back by its offset.
      std::size_t k = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), l.offset) - starts.begin()) - 1;
      const auto& src = t.lines[begin + k];
      turn.origins.push_back({src.line, src.column_offset + (l.offset - starts[k]), src.source});
    }
  }
  drop_banner(turn.replies, turn.origins);
  cap_turn(turn, limits.max_lines);
  return true;
}

// The senders that lose TLS although the server offers it: short names, in catalogue order.
std::string losers(const lint_result& r) {
  if (!r.ehlo.starttls_anywhere) return {};
  std::vector<std::string_view> names;
  for (const auto& c : r.clients)
    if (c.outcome != tls_outcome::tls && (c.opportunistic || c.outcome != tls_outcome::plaintext))
      names.push_back(c.short_name);
  if (names.empty()) return {};
  std::string s;
  std::size_t shown = std::min<std::size_t>(names.size(), 10);
  for (std::size_t i = 0; i < shown; ++i) s += fmt::format("{}{}", i == 0 ? "" : i + 1 == shown && shown == names.size() ? " and " : ", ", names[i]);
  if (names.size() > shown) s += fmt::format(" and {} more", names.size() - shown);
  return s;
}

std::string make_headline(const lint_result& r) {
  const ehlo_reply& e = r.ehlo;
  std::string lose = losers(r);
  std::string lose_clause = lose.empty() ? "" : fmt::format("; {} will not use TLS", lose);
  auto first_of = [&](severity s) -> const finding* {
    for (const auto& f : e.findings)
      if (f.level() == s) return &f;
    return nullptr;
  };
  auto counts = [&] {
    return fmt::format("{} error{}, {} warning{}", r.errors, r.errors == 1 ? "" : "s", r.warnings,
                       r.warnings == 1 ? "" : "s");
  };
  if (r.errors > 0) {
    for (const auto& f : e.findings)
      if (f.id == finding_id::keyword_as_greeting && e.starttls_anywhere && !e.starttls_visible)
        return fmt::format("FAIL ({}): STARTTLS is listed on the greeting line (line {}), where strict senders "
                           "expect the server's name{}",
                           counts(), f.line, lose_clause);
    const finding* f = first_of(severity::error);
    if (e.starttls_anywhere && !e.starttls_visible)
      return fmt::format("FAIL ({}): STARTTLS is sent but strict senders will not see it; line {}: {}{}", counts(),
                         f->line, f->message, lose_clause);
    return fmt::format("FAIL ({}): line {}: {}{}", counts(), f->line, f->message, lose_clause);
  }
  if (r.warnings > 0) {
    const finding* f = first_of(severity::warning);
    return fmt::format("WARN ({}): line {}: {}{}", counts(), f->line, f->message, lose_clause);
  }
  if (!lose.empty()) return fmt::format("OK by RFC 5321, but {} will not use TLS", lose);
  return "OK: the EHLO reply follows RFC 5321 and offers STARTTLS after the greeting";
}

}  // namespace

lint_result lint(std::string_view input, const lint_options& options) {
  lint_result result;
  result.input_octets = input.size();
  server_turn turn;
  if (options.raw) {
    turn = ehlo_turn_from_raw(input, options.limits);
    std::size_t newlines = static_cast<std::size_t>(std::count(input.begin(), input.end(), '\n'));
    result.input_lines = newlines + (input.empty() || input.back() == '\n' ? 0 : 1);
    result.ehlo_replies_in_input = turn.replies.empty() ? 0 : 1;
    bool coded = std::any_of(turn.replies.begin(), turn.replies.end(), [](const reply& r) {
      return std::any_of(r.lines.begin(), r.lines.end(), [](const reply_line& l) { return l.code >= 0; });
    });
    if (!coded) {
      result.no_reply_reason = input.empty() ? "the input is empty"
                                             : "no SMTP reply found in the input (no line starts with a reply code)";
      return result;
    }
  } else if (!ehlo_turn_from_transcript(input, options.limits, result, turn)) {
    if (input.empty()) result.no_reply_reason = "the input is empty";
    return result;
  }
  result.reply_found = true;
  result.ehlo = analyse_ehlo(turn);
  if (options.predict_clients) result.clients = predict_all(turn);

  if (options.truncated_at > 0) {
    finding f;
    f.id = finding_id::limit_exceeded;
    f.line = result.input_lines;
    f.column = 1;
    f.message = fmt::format("the input is larger than the {}-octet input limit; only that much was read",
                            options.truncated_at);
    result.ehlo.findings.push_back(std::move(f));
  }

  for (const auto& f : result.ehlo.findings) {
    switch (f.level()) {
      case severity::error: ++result.errors; break;
      case severity::warning: ++result.warnings; break;
      case severity::info: ++result.infos; break;
    }
  }
  result.status = result.errors ? verdict_status::errors
                  : result.warnings ? verdict_status::warnings
                                    : verdict_status::ok;
  result.headline = make_headline(result);
  return result;
}

}  // namespace mxtls
