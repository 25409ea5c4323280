#include "mxtls/lint.hpp"

#include "mxtls/diagnosis.hpp"

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

const char* to_string(linted_turn_reason r) {
  switch (r) {
    case linted_turn_reason::only: return "only";
    case linted_turn_reason::first_before_tls: return "first-before-tls";
    case linted_turn_reason::inside_tls: return "inside-tls";
  }
  return "?";
}

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

bool is_starttls_command(std::string_view text) {
  if (text.size() < 8) return false;
  for (std::size_t i = 0; i < 8; ++i)
    if (std::toupper(static_cast<unsigned char>(text[i])) != "STARTTLS"[i]) return false;
  return text.size() == 8 || text[8] == ' ' || text[8] == '\t';
}

bool is_final_text(std::string_view text) {
  return text.size() >= 3 && std::isdigit(static_cast<unsigned char>(text[0])) &&
         std::isdigit(static_cast<unsigned char>(text[1])) && std::isdigit(static_cast<unsigned char>(text[2])) &&
         (text.size() == 3 || text[3] == ' ');
}

int code_of(std::string_view text) {
  if (text.size() < 3 || !std::isdigit(static_cast<unsigned char>(text[0])) ||
      !std::isdigit(static_cast<unsigned char>(text[1])) || !std::isdigit(static_cast<unsigned char>(text[2])))
    return -1;
  return (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
}

// One EHLO reply in the transcript: lines [begin, end) of transcript::lines.
struct ehlo_span {
  std::size_t begin = 0, end = 0;
  bool inside_tls = false;
};

// Where TLS starts in the transcript, as an index into its lines (lines.size(): never).
// The STARTTLS boundary (RFC 3207 §4.2): after a 220 to STARTTLS, and after whatever the
// tool reports as an established handshake, the client forgets what it learned and sends EHLO
// again; the reply to that EHLO is the reply inside TLS.
std::size_t tls_start(const transcript& t) {
  std::size_t at = t.lines.size();
  for (std::size_t i = 0; i < t.lines.size(); ++i) {
    if (t.lines[i].inside_tls) {
      at = std::min(at, i);
      break;
    }
    if (t.lines[i].dir == direction::client && is_starttls_command(t.lines[i].text) && i + 1 < t.lines.size() &&
        t.lines[i + 1].dir == direction::server && code_of(t.lines[i + 1].text) == 220) {
      bool failed = false;
      for (const auto& e : t.events)
        if (e.kind == tool_event_kind::tls_failed && e.position > i + 1 && e.position <= i + 3) failed = true;
      if (!failed) at = std::min(at, i + 2);
      break;
    }
  }
  for (const auto& e : t.events)
    if (e.kind == tool_event_kind::tls_established) at = std::min(at, e.position);
  return at;
}

std::vector<ehlo_span> ehlo_spans(const transcript& t, std::size_t tls_from) {
  std::vector<ehlo_span> spans;
  for (std::size_t i = 0; i < t.lines.size(); ++i) {
    const auto& l = t.lines[i];
    if (l.dir != direction::client || !is_ehlo_command(l.text)) continue;
    if (i + 1 >= t.lines.size() || t.lines[i + 1].dir != direction::server) continue;
    ehlo_span s{.begin = i + 1, .end = i + 1, .inside_tls = i + 1 >= tls_from};
    while (s.end < t.lines.size() && t.lines[s.end].dir == direction::server) ++s.end;
    spans.push_back(s);
  }
  return spans;
}

// The conversation after the linted reply (RFC 3207 §4: "220 Ready to start TLS", or
// "454 TLS not available due to temporary reason", or 501 to a STARTTLS with parameters).
void read_dialogue(const transcript& t, std::size_t from, std::size_t tls_from, const std::vector<ehlo_span>& spans,
                   lint_result& result) {
  dialogue_facts& d = result.dialogue;
  auto event_after = [&](std::size_t pos, tool_event_kind k) -> const tool_event* {
    for (const auto& e : t.events)
      if (e.kind == k && e.position >= pos) return &e;
    return nullptr;
  };
  std::size_t cmd = t.lines.size();
  for (std::size_t i = from; i < t.lines.size(); ++i)
    if (t.lines[i].dir == direction::client && is_starttls_command(t.lines[i].text)) {
      cmd = i;
      break;
    }
  std::size_t after = cmd;  // where the handshake would start
  if (cmd < t.lines.size()) {
    d.starttls = starttls_answer::unknown;
    if (cmd + 1 < t.lines.size() && t.lines[cmd + 1].dir == direction::server) {
      const auto& a = t.lines[cmd + 1];
      d.starttls_code = code_of(a.text);
      result.starttls_answer_line = a.line;
      result.starttls_answer_text = std::string(a.text);
      d.starttls = d.starttls_code == 220                                    ? starttls_answer::accepted
                   : d.starttls_code >= 400 && d.starttls_code < 600         ? starttls_answer::refused
                                                                             : starttls_answer::other;
      after = cmd + 2;
    } else if (event_after(cmd + 1, tool_event_kind::connection_closed) &&
               !event_after(cmd + 1, tool_event_kind::tls_established)) {
      d.starttls = starttls_answer::no_answer;
    } else if (event_after(cmd + 1, tool_event_kind::tls_established)) {
      d.starttls = starttls_answer::accepted;  // the tool does not show the 220, but TLS started
      after = cmd + 1;
    }
  } else if (const tool_event* e = event_after(from, tool_event_kind::tls_established); e || tls_from < t.lines.size()) {
    // The tool sent STARTTLS without printing it (openssl s_client): TLS started, so it was accepted.
    d.starttls = starttls_answer::accepted;
    after = e ? e->position : tls_from;
  } else if (event_after(0, tool_event_kind::starttls_not_found)) {
    d.starttls = starttls_answer::not_sent;
  } else if (result.format == paste_format::openssl_s_client && event_after(0, tool_event_kind::tls_failed)) {
    d.starttls = starttls_answer::unknown;  // s_client sent it; its answer is not printed
    d.handshake = handshake_state::failed;
    after = t.lines.size();
  }
  bool later_tls_reply = std::any_of(spans.begin(), spans.end(), [](const ehlo_span& s) { return s.inside_tls; });
  d.ehlo_after_tls = later_tls_reply;
  if (d.starttls != starttls_answer::accepted) {
    if (d.handshake != handshake_state::failed) d.handshake = handshake_state::not_started;
    for (const auto& e : t.events)
      if (e.kind == tool_event_kind::tls_failed && d.handshake == handshake_state::failed) result.handshake_line = e.line;
    return;
  }
  d.handshake = handshake_state::unknown;
  for (const auto& e : t.events) {
    if (e.position < after && !(result.plaintext_reply_missing && e.position <= after)) continue;
    if (e.kind == tool_event_kind::tls_failed) {
      d.handshake = handshake_state::failed;
      result.handshake_line = e.line;
      break;
    }
    if (e.kind == tool_event_kind::tls_established) {
      d.handshake = handshake_state::established;
      result.handshake_line = e.line;
      break;
    }
  }
  if (d.handshake == handshake_state::unknown && later_tls_reply) d.handshake = handshake_state::established;
}

std::string describe_unreadable(const transcript& t, const normalised_paste& text) {
  const std::string none = "no SMTP reply found in the input";
  if (text.utf16_invalid) return none + ": it looks like UTF-16 text that does not decode (a broken surrogate pair or an odd length)";
  std::size_t controls = 0;
  for (char c : text.text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 32 && c != '\n' && c != '\r' && c != '\t') ++controls;
  }
  if (!text.text.empty() && controls * 10 > text.text.size()) return none + ": it looks like binary data, not text";
  std::string what;
  switch (t.format) {
    case paste_format::exchange_log:
      return none + ": it looks like an Exchange protocol log without server lines (rows whose event is \"<\" in a send log or \">\" in a receive log)";
    case paste_format::openssl_s_client: {
      bool failed = std::any_of(t.events.begin(), t.events.end(),
                                [](const tool_event& e) { return e.kind == tool_event_kind::tls_failed; });
      if (failed)
        return none + ": it looks like openssl s_client output in which the TLS handshake failed; s_client does not "
                      "print the plaintext EHLO reply or the answer to STARTTLS: run `mxtls probe HOST` or "
                      "`swaks --server HOST --tls` to see them";
      return none + ": it looks like openssl s_client output without a reply inside TLS (type EHLO after the "
                    "handshake); s_client does not print the plaintext EHLO reply: run `mxtls probe HOST` or swaks";
    }
    case paste_format::plain: break;
    default: what = std::string("it looks like ") + to_string(t.format) + " output without server lines";
  }
  if (text.utf16) what = what.empty() ? "it looks like UTF-16 text (decoded) without server lines" : what + " (UTF-16 text)";
  if (what.empty()) return none + " (expected lines such as \"250-mail.example.com\")";
  return none + ": " + what;
}

// Pasted text: find the reply to EHLO in the transcript and parse it, remembering where
// every line stands in the input. Line endings of pasted text are not judged, so each
// line is given to the parser with CRLF.
bool ehlo_turn_from_transcript(const normalised_paste& text, const parser_limits& limits, lint_result& result,
                               server_turn& turn) {
  std::string_view input = text.text;
  transcript t = read_transcript(input);
  result.input_lines = t.input_lines;
  result.ignored_lines = t.ignored;
  result.format = t.format;
  result.prefix = t.prefix;
  result.quoted = t.quoted;
  result.tool_lines = t.tool_lines;
  result.tls_dump_lines = t.tls_dump_lines;
  result.plaintext_leftover_lines = t.plaintext_leftover;

  std::size_t tls_from = tls_start(t);
  std::vector<ehlo_span> spans = ehlo_spans(t, tls_from);
  result.ehlo_replies_in_input = spans.size();

  std::size_t begin = t.lines.size(), end = begin;
  if (!spans.empty()) {
    auto plain = std::find_if(spans.begin(), spans.end(), [](const ehlo_span& s) { return !s.inside_tls; });
    auto chosen = plain != spans.end() ? plain : spans.begin();
    begin = chosen->begin;
    end = chosen->end;
    result.linted_turn = static_cast<std::size_t>(chosen - spans.begin()) + 1;
    result.linted_inside_tls = chosen->inside_tls;
    result.linted_reason = chosen->inside_tls ? linted_turn_reason::inside_tls
                           : spans.size() > 1 ? linted_turn_reason::first_before_tls
                                              : linted_turn_reason::only;
  } else {
    for (std::size_t i = 0; i < t.lines.size(); ++i) {
      const auto& l = t.lines[i];
      if (l.dir == direction::client && is_ehlo_command(l.text)) {
        result.no_reply_reason = fmt::format("EHLO on line {} has no server reply after it", l.line);
        return false;
      }
    }
    // No EHLO command in the input: the first run of server lines is the reply.
    auto first = std::find_if(t.lines.begin(), t.lines.end(),
                              [](const transcript_line& l) { return l.dir == direction::server; });
    if (first == t.lines.end()) {
      result.no_reply_reason = describe_unreadable(t, text);
      return false;
    }
    begin = static_cast<std::size_t>(first - t.lines.begin());
    end = begin;
    while (end < t.lines.size() && t.lines[end].dir == direction::server) ++end;
    if (t.format == paste_format::openssl_s_client) {
      // s_client does not print what the user sends, so the replies to EHLO and to the commands
      // after it run together: the reply ends at its first final line (an early final line
      // cannot be told from the next reply in such a paste).
      std::size_t cut = begin;
      while (cut < end && !is_final_text(t.lines[cut].text)) ++cut;
      if (cut < end) end = cut + 1;
    }
    result.ehlo_replies_in_input = 1;
    result.linted_turn = 1;
    result.linted_inside_tls = begin >= tls_from;
    result.linted_reason = result.linted_inside_tls ? linted_turn_reason::inside_tls : linted_turn_reason::only;
  }
  // A server whose final line came too early (RFC 5321 §4.2.1) sends the rest of its EHLO
  // reply after it; the tool then prints those lines as the reply to its next command. A
  // multiline 250 reply made of EHLO keywords, right after the client's next command (not
  // STARTTLS, whose answer the dialogue reads), is that rest: it joins the turn.
  if (end + 1 < t.lines.size() && t.lines[end].dir == direction::client && !is_ehlo_command(t.lines[end].text) &&
      !is_starttls_command(t.lines[end].text) && t.lines[end + 1].dir == direction::server) {
    std::size_t r = end + 1, r_end = r;
    bool keywords = true;
    while (r_end < t.lines.size() && t.lines[r_end].dir == direction::server) {
      std::string_view x = t.lines[r_end].text;
      std::string_view kw = x.size() > 4 ? x.substr(4, x.find(' ', 4) == std::string_view::npos ? std::string_view::npos
                                                                                                : x.find(' ', 4) - 4)
                                         : std::string_view{};
      if (code_of(x) != 250 || !is_known_keyword(kw)) keywords = false;
      ++r_end;
    }
    if (keywords && r_end - r >= 1 && t.lines[r].text.size() > 3 && t.lines[r].text[3] == '-') {
      result.late_lines_from = t.lines[r].line;
      result.late_lines_to = t.lines[r_end - 1].line;
      result.late_after_command = std::string(t.lines[end].text);
      // The client's command stands between them in the paste, not in what the server sent.
      std::vector<transcript_line> joined(t.lines.begin() + static_cast<std::ptrdiff_t>(begin),
                                          t.lines.begin() + static_cast<std::ptrdiff_t>(end));
      joined.insert(joined.end(), t.lines.begin() + static_cast<std::ptrdiff_t>(r),
                    t.lines.begin() + static_cast<std::ptrdiff_t>(r_end));
      t.lines.erase(t.lines.begin() + static_cast<std::ptrdiff_t>(begin),
                    t.lines.begin() + static_cast<std::ptrdiff_t>(r_end));
      t.lines.insert(t.lines.begin() + static_cast<std::ptrdiff_t>(begin), joined.begin(), joined.end());
      for (auto& e : t.events)  // one line, the command, left the list
        if (e.position > end) --e.position;
      end = begin + joined.size();
    }
  }

  // The reply before TLS is missing when the linted one was sent inside TLS.
  result.plaintext_reply_missing = result.linted_inside_tls;
  read_dialogue(t, result.linted_inside_tls ? 0 : end, tls_from, spans, result);

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
  if (r.dialogue.starttls == starttls_answer::refused || r.dialogue.handshake == handshake_state::failed) return {};
  // The one rule for senders that lose TLS (core/diagnosis), as for a probe.
  lint_diagnosis d = diagnose_lint(r, r.dialogue);
  std::vector<std::string_view> names = short_names(d.senders, d.groups.lose());
  if (names.empty()) return {};
  std::string s;
  std::size_t shown = std::min<std::size_t>(names.size(), 10);
  for (std::size_t i = 0; i < shown; ++i) s += fmt::format("{}{}", i == 0 ? "" : i + 1 == shown && shown == names.size() ? " and " : ", ", names[i]);
  if (names.size() > shown) s += fmt::format(" and {} more", names.size() - shown);
  return s;
}

// What the conversation after the reply showed, as a clause of the headline ("" when
// STARTTLS was accepted or not shown).
std::string dialogue_clause(const lint_result& r) {
  const dialogue_facts& d = r.dialogue;
  if (d.starttls == starttls_answer::refused || d.starttls == starttls_answer::other)
    return fmt::format("; the server answered STARTTLS with {} (line {}: \"{}\"), so no sender gets TLS in this "
                       "conversation",
                       d.starttls_code, r.starttls_answer_line, r.starttls_answer_text);
  if (d.starttls == starttls_answer::no_answer)
    return "; the server closed the connection after STARTTLS, so no sender gets TLS in this conversation";
  if (d.handshake == handshake_state::failed)
    return r.handshake_line ? fmt::format("; the TLS handshake failed (line {}), so no sender gets TLS in this "
                                          "conversation",
                                          r.handshake_line)
                            : std::string("; the TLS handshake failed, so no sender gets TLS in this conversation");
  return {};
}

std::string make_headline(const lint_result& r) {
  const ehlo_reply& e = r.ehlo;
  std::string lose = losers(r);
  std::string lose_clause = lose.empty() ? "" : fmt::format("; {} will not use TLS", lose);
  std::string talk = dialogue_clause(r);
  // openssl s_client: the reply linted is the one inside TLS; the one senders decide on is missing.
  std::string where = r.plaintext_reply_missing ? "in the EHLO reply inside TLS, " : "";
  std::string missing = r.plaintext_reply_missing
                            ? "; the EHLO reply sent before TLS, on which senders decide to use STARTTLS, is not in "
                              "the paste (run `mxtls probe HOST` or `swaks --server HOST --tls` to see it)"
                            : "";
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
      if (f.id == finding_id::keyword_as_greeting && e.starttls_anywhere && !e.starttls_visible && !r.plaintext_reply_missing)
        return fmt::format("FAIL ({}): STARTTLS is listed on the greeting line (line {}), where strict senders "
                           "expect the server's name{}{}",
                           counts(), f.line, lose_clause, talk);
    const finding* f = first_of(severity::error);
    if (e.starttls_anywhere && !e.starttls_visible && !r.plaintext_reply_missing)
      return fmt::format("FAIL ({}): STARTTLS is sent but strict senders will not see it; line {}: {}{}{}", counts(),
                         f->line, f->message, lose_clause, talk);
    return fmt::format("FAIL ({}): {}line {}: {}{}{}{}", counts(), where, f->line, f->message, lose_clause, talk, missing);
  }
  if (r.warnings > 0) {
    const finding* f = first_of(severity::warning);
    return fmt::format("WARN ({}): {}line {}: {}{}{}{}", counts(), where, f->line, f->message, lose_clause, talk, missing);
  }
  if (r.plaintext_reply_missing)
    return fmt::format("OK: the EHLO reply inside TLS follows RFC 5321{}{}", talk, missing);
  if (!lose.empty()) return fmt::format("OK by RFC 5321, but {} will not use TLS{}", lose, talk);
  if (!talk.empty()) {
    if (!e.starttls_anywhere) return fmt::format("OK by RFC 5321, but STARTTLS is not offered{}", talk);
    return fmt::format("OK by RFC 5321 and STARTTLS is offered after the greeting{}", talk);
  }
  return "OK: the EHLO reply follows RFC 5321 and offers STARTTLS after the greeting";
}

}  // namespace

lint_result lint(std::string_view input, const lint_options& options) {
  lint_result result;
  result.input_octets = input.size();
  normalised_paste pasted;
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
  } else {
    // The normalised text must outlive `turn`, whose origins point into it.
    pasted = normalise_paste(input);
    result.paste_notes = pasted.notes;
    if (!ehlo_turn_from_transcript(pasted, options.limits, result, turn)) {
      if (input.empty()) result.no_reply_reason = "the input is empty";
      return result;
    }
  }
  result.reply_found = true;
  result.ehlo = analyse_ehlo(turn);
  // RFC 3207 §4.2: after the handshake the server MUST NOT offer STARTTLS again; its absence
  // from the reply inside TLS is no fault.
  if (result.linted_inside_tls)
    std::erase_if(result.ehlo.findings, [](const finding& f) { return f.id == finding_id::starttls_not_offered; });
  // Senders decide on STARTTLS from the reply sent before TLS; the reply inside TLS cannot
  // tell what they do.
  if (options.predict_clients && !result.plaintext_reply_missing) result.clients = predict_all(turn);

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
