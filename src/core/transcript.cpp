#include "mxtls/transcript.hpp"

#include <array>
#include <cctype>

namespace mxtls {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals_prefix(std::string_view text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
  return true;
}

struct prefix_rule {
  std::string_view mark;
  direction dir;
  bool needs_space;  // the mark must be followed by white space
};

// Longest marks first so that "<<<" wins over "<".
constexpr std::array<prefix_rule, 12> prefixes{{
    {"<<<", direction::server, false},
    {">>>", direction::client, false},
    {"<-", direction::server, false},
    {"->", direction::client, false},
    {"<~", direction::server, false},
    {"~>", direction::client, false},
    {"S:", direction::server, false},
    {"C:", direction::client, false},
    {"s:", direction::server, false},
    {"c:", direction::client, false},
    {"<", direction::server, true},
    {">", direction::client, true},
}};

// Annotations people add after a line: "<--- this is the greeting", "<== here".
std::size_t annotation_start(std::string_view text) {
  for (std::size_t i = 1; i + 2 < text.size(); ++i) {
    if (!is_space(text[i - 1]) || text[i] != '<') continue;
    if ((text[i + 1] == '-' && text[i + 2] == '-') || (text[i + 1] == '=' && text[i + 2] == '='))
      return i;
  }
  return std::string_view::npos;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_fence(std::string_view s) { return s.starts_with("```") || s.starts_with("~~~"); }

}  // namespace

bool starts_with_command(std::string_view text) {
  static constexpr std::array<std::string_view, 20> verbs{
      "EHLO", "HELO", "LHLO", "STARTTLS", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "NOOP",
      "AUTH", "VRFY", "EXPN", "HELP", "BDAT", "ETRN", "TURN", "ATRN", "XCLIENT", "XFORWARD"};
  for (auto v : verbs) {
    if (!iequals_prefix(text, v)) continue;
    if (text.size() == v.size() || is_space(text[v.size()]) || text[v.size()] == ':') return true;
  }
  return false;
}

transcript read_transcript(std::string_view input) {
  transcript t;
  bool reply_open = false;  // the last server line announced more lines ("250-")
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t nl = input.find('\n', pos);
    std::string_view source = input.substr(pos, nl == std::string_view::npos ? input.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? input.size() : nl + 1;
    ++t.input_lines;
    if (!source.empty() && source.back() == '\r') source.remove_suffix(1);

    std::size_t col = 0;
    while (col < source.size() && is_space(source[col])) ++col;
    std::string_view rest = source.substr(col);
    if (trim_right(rest).empty() || is_fence(rest)) continue;
    if (rest.starts_with("<--") || rest.starts_with("<==")) {  // an annotation on its own line
      t.ignored.push_back(t.input_lines);
      continue;
    }

    transcript_line l;
    l.line = t.input_lines;
    l.source = source;
    for (const auto& p : prefixes) {
      if (!rest.starts_with(p.mark)) continue;
      std::size_t after = p.mark.size();
      if (p.needs_space && (after >= rest.size() || !is_space(rest[after]))) continue;
      l.dir = p.dir;
      l.prefixed = true;
      while (after < rest.size() && is_space(rest[after])) ++after;
      col += after;
      rest = rest.substr(after);
      break;
    }
    if (auto a = annotation_start(rest); a != std::string_view::npos) rest = rest.substr(0, a);
    rest = trim_right(rest);
    if (rest.empty()) {
      t.ignored.push_back(l.line);
      continue;
    }
    l.text = rest;
    l.column_offset = col;

    bool coded = rest.size() >= 3 && is_digit(rest[0]) && is_digit(rest[1]) && is_digit(rest[2]);
    if (!l.prefixed) {
      if (coded || reply_open) l.dir = direction::server;
      else if (starts_with_command(rest)) l.dir = direction::client;
      else {
        t.ignored.push_back(l.line);
        continue;
      }
    }
    if (l.dir == direction::server) {
      // RFC 5321 §4.2: only "ddd SP" or "ddd" alone ends a reply.
      if (coded) reply_open = !(rest.size() == 3 || rest[3] == ' ');
    } else {
      reply_open = false;
    }
    t.lines.push_back(l);
  }
  return t;
}

}  // namespace mxtls
