#include "mxtls/reply_parser.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace mxtls {

const char* to_string(line_ending e) {
  switch (e) {
    case line_ending::crlf: return "crlf";
    case line_ending::lf: return "lf";
    case line_ending::cr: return "cr";
    case line_ending::none: return "none";
  }
  return "?";
}

const char* to_string(separator s) {
  switch (s) {
    case separator::space: return "space";
    case separator::hyphen: return "hyphen";
    case separator::end: return "end";
    case separator::other: return "other";
    case separator::no_code: return "no-code";
  }
  return "?";
}

namespace {

// Index of the first CR or LF at or after `i`, or bytes.size(): the first LF by memchr,
// then a CR before it (normally the one right in front of it, as CRLF).
std::size_t find_line_end(std::string_view bytes, std::size_t i) {
  const char* base = bytes.data();
  const char* lf = static_cast<const char*>(std::memchr(base + i, '\n', bytes.size() - i));
  std::size_t end = lf ? static_cast<std::size_t>(lf - base) : bytes.size();
  const char* cr = static_cast<const char*>(std::memchr(base + i, '\r', end - i));
  return cr ? static_cast<std::size_t>(cr - base) : end;
}

// RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39. Any three digits are read as a
// code here; the linter judges the range. `head`: the line's first octets (four of them
// when `length` > 3).
void read_code(const char* head, std::size_t length, reply_line& l) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (length < 3 || !digit(head[0]) || !digit(head[1]) || !digit(head[2])) return;
  l.code = (head[0] - '0') * 100 + (head[1] - '0') * 10 + (head[2] - '0');
  l.sep = length == 3        ? separator::end
          : head[3] == ' '   ? separator::space
          : head[3] == '-'   ? separator::hyphen
                             : separator::other;
}

}  // namespace

reply_parser::reply_parser(parser_limits limits) : limits_(limits) {
  // Four octets are always needed to read the code and its separator.
  limits_.max_line_octets = std::max<std::size_t>(limits_.max_line_octets, 4);
  limits_.max_lines = std::max<std::size_t>(limits_.max_lines, 1);
}

void reply_parser::append(std::string_view part) {
  if (!in_line_) {
    if (current_.lines.capacity() == 0) {
      // A new reply: room for a typical EHLO reply in two allocations.
      current_.data.reserve(256);
      current_.lines.reserve(16);
    }
    in_line_ = true;
    line_offset_ = offset_;
    line_length_ = 0;
    storing_ = current_.lines.size() < limits_.max_lines && !current_.octets_limit_hit;
    line_begin_ = static_cast<std::uint32_t>(current_.data.size());
  }
  for (std::size_t k = 0; line_length_ + k < 4 && k < part.size(); ++k) head_[line_length_ + k] = part[k];
  if (storing_) {
    std::size_t kept = current_.data.size() - line_begin_;
    std::size_t room_line = limits_.max_line_octets - kept;
    std::size_t room_reply = limits_.max_reply_octets > current_.data.size()
                                 ? limits_.max_reply_octets - current_.data.size()
                                 : 0;
    std::size_t n = std::min({part.size(), room_line, room_reply});
    if (n > 0) current_.data.append(part.data(), n);
    if (n < part.size()) {
      if (n == room_line) current_.line_limit_hit = true;
      else current_.octets_limit_hit = true;
    }
  }
  line_length_ += part.size();
}

void reply_parser::end_line(line_ending e) {
  if (!in_line_) {
    // An empty line: it starts where its ending does (offset_ is past the ending now).
    append({});
    line_offset_ = offset_ - (e == line_ending::crlf ? 2 : e == line_ending::none ? 0 : 1);
  }
  in_line_ = false;
  ++line_number_;

  reply_line l;
  l.number = line_number_;
  l.offset = line_offset_;
  l.length = line_length_;
  l.ending = e;
  l.begin = line_begin_;
  l.stored = static_cast<std::uint32_t>(current_.data.size() - line_begin_);
  read_code(head_, line_length_, l);

  current_.octets += line_length_ + l.ending_octets();
  if (current_.octets > limits_.max_reply_octets) current_.octets_limit_hit = true;
  if (storing_) {
    current_.lines.push_back(l);
  } else {
    ++current_.dropped_lines;
    if (current_.lines.size() >= limits_.max_lines) current_.lines_limit_hit = true;
  }
  if (l.is_final() && e != line_ending::none) {
    current_.complete = true;
    ready_ = true;
  }
}

// A whole line (ending included) found inside one chunk, with nothing pending and every
// limit far enough: stored in one step. False when it is not that simple (a limit is
// near); the caller then takes the general path, which gives the same result.
bool reply_parser::whole_line(std::string_view line, line_ending e) {
  std::size_t end_octets = e == line_ending::crlf ? 2 : 1;
  if (line.size() > limits_.max_line_octets || current_.lines.size() >= limits_.max_lines ||
      current_.octets_limit_hit || current_.data.size() + line.size() > limits_.max_reply_octets ||
      current_.octets + line.size() + end_octets > limits_.max_reply_octets)
    return false;
  if (current_.lines.capacity() == 0) {
    current_.data.reserve(256);
    current_.lines.reserve(16);
  }
  reply_line l;
  l.number = ++line_number_;
  l.offset = offset_;
  l.length = line.size();
  l.ending = e;
  l.begin = static_cast<std::uint32_t>(current_.data.size());
  l.stored = static_cast<std::uint32_t>(line.size());
  read_code(line.data(), line.size(), l);
  current_.data.append(line.data(), line.size());
  current_.octets += line.size() + end_octets;
  current_.lines.push_back(l);
  if (l.is_final()) {
    current_.complete = true;
    ready_ = true;
  }
  return true;
}

std::size_t reply_parser::feed(std::string_view bytes) {
  if (ready_) return 0;
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  while (i < n) {
    if (!pending_cr_ && !in_line_) {
      // The common case: a whole line ending in LF or CRLF inside this chunk.
      std::size_t j = find_line_end(bytes, i);
      std::size_t next = j < n && bytes[j] == '\n' ? j + 1 : j + 1 < n && bytes[j + 1] == '\n' ? j + 2 : 0;
      if (next != 0 && whole_line(bytes.substr(i, j - i), next == j + 1 ? line_ending::lf : line_ending::crlf)) {
        offset_ += next - i;
        i = next;
        if (ready_) return i;
        continue;
      }
    }
    if (pending_cr_) {
      pending_cr_ = false;
      if (bytes[i] == '\n') {
        ++i;
        ++offset_;
        end_line(line_ending::crlf);
      } else {
        end_line(line_ending::cr);
      }
      if (ready_) return i;
      continue;
    }
    std::size_t j = find_line_end(bytes, i);
    if (j > i) {
      append(bytes.substr(i, j - i));
      offset_ += j - i;
    }
    if (j == n) return n;
    ++offset_;
    i = j + 1;
    if (bytes[j] == '\n') {
      end_line(line_ending::lf);
      if (ready_) return i;
    } else {
      pending_cr_ = true;  // CRLF or bare CR: the next octet decides
    }
  }
  return i;
}

bool reply_parser::finish() {
  if (ready_) return true;
  if (pending_cr_) {
    pending_cr_ = false;
    end_line(line_ending::cr);
    if (ready_) return true;
  }
  if (in_line_) end_line(line_ending::none);
  if (!ready_ && (!current_.lines.empty() || current_.dropped_lines > 0)) ready_ = true;
  return ready_;
}

reply reply_parser::take_reply() {
  reply r;
  take_reply(r);
  return r;
}

void reply_parser::take_reply(reply& into) {
  std::swap(into, current_);
  // Start the next reply on the buffers `into` had.
  current_.data.clear();
  current_.lines.clear();
  current_.complete = false;
  current_.octets = 0;
  current_.dropped_lines = 0;
  current_.line_limit_hit = current_.lines_limit_hit = current_.octets_limit_hit = false;
  ready_ = false;
}

void parse_replies(std::string_view bytes, const parser_limits& limits, std::vector<reply>& out) {
  std::size_t n = 0;
  auto take = [&](reply_parser& p) {
    if (n == out.size()) out.emplace_back();
    p.take_reply(out[n++]);
  };
  reply_parser p(limits);
  // The parser starts on the buffers of `out`'s last reply, so that a caller that parses
  // again and again into the same vector allocates nothing.
  if (!out.empty()) {
    p.take_reply(out.back());
    n = 0;
  }
  while (!bytes.empty()) {
    std::size_t used = p.feed(bytes);
    bytes.remove_prefix(used);
    if (p.has_reply()) take(p);
  }
  while (p.finish()) take(p);
  out.resize(n);
}

std::vector<reply> parse_replies(std::string_view bytes, parser_limits limits) {
  std::vector<reply> out;
  parse_replies(bytes, limits, out);
  return out;
}

int reply_code(std::string_view raw) {
  if (raw.size() < 3) return -1;
  for (int i = 0; i < 3; ++i)
    if (raw[i] < '0' || raw[i] > '9') return -1;
  return (raw[0] - '0') * 100 + (raw[1] - '0') * 10 + (raw[2] - '0');
}

}  // namespace mxtls
