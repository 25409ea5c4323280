// systemd journal entries as mail-log lines (journal_input.hpp).
//
// The Journal Export Format (https://systemd.io/JOURNAL_EXPORT_FORMATS/, "Journal Export
// Format"): entries separated by an empty line; a field whose value is non-control UTF-8 is
// NAME=VALUE and a newline; any other field is NAME, a newline, its size as a 64-bit
// little-endian number, the data, and a newline; the entry's metadata (__CURSOR,
// __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP, __SEQNUM, …) is written like fields; the
// order of the fields is not defined; fields not known are skipped. The last entry of
// `journalctl -o export` has no empty line after it.
//
// The Journal JSON Format (the same page, "Journal JSON Format"; `journalctl -o json`, one
// object per line): each field a JSON string, a field with non-printable or non-UTF-8 octets
// an array of numbers 0…255, a field too large for the serializer null, a field with several
// values an array of those; __REALTIME_TIMESTAMP a string of decimal microseconds.
//
// Which fields make the line: SYSLOG_IDENTIFIER (the syslog tag before "[pid]:",
// "postfix/smtp"), SYSLOG_PID (its pid), _PID (the sender's pid, from the socket),
// _HOSTNAME, MESSAGE (systemd.journal-fields(7)).
#include "logs/journal_input.hpp"

#include <charconv>
#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mxtls::logs::journal {
namespace {

bool field_name(std::string_view n) {
  if (n.empty() || n.size() > 256) return false;
  for (char c : n)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::uint64_t number(std::string_view s, bool* ok = nullptr) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  bool good = ec == std::errc{} && p == s.data() + s.size() && !s.empty();
  if (ok) *ok = good;
  return good ? v : 0;
}

// A few octets of what was not understood, printable.
std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 60)) {
    if (c >= 32 && c < 127) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  if (s.size() > 60) out += "…";
  return out;
}

std::string first_line_of(std::string_view v, std::size_t max) {
  v = v.substr(0, v.find('\n'));
  return std::string(v.substr(0, max));
}

}  // namespace

local_time local_time_of(std::uint64_t realtime) {
  using namespace std::chrono;
  local_time out;
  out.micro = static_cast<std::uint32_t>(realtime % 1000000);
  auto secs = static_cast<std::time_t>(realtime / 1000000);
  std::tm tm{};
  if (localtime_r(&secs, &tm)) {
    out.year = tm.tm_year + 1900, out.month = tm.tm_mon + 1, out.day = tm.tm_mday;
    out.hour = tm.tm_hour, out.minute = tm.tm_min, out.second = tm.tm_sec;
    out.offset = tm.tm_gmtoff;
    return out;
  }
  // Past what the C library's calendar holds: UTC.
  sys_time<microseconds> t{microseconds{static_cast<std::int64_t>(realtime)}};
  sys_days day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<microseconds> hms{t - day};
  out.year = static_cast<int>(ymd.year()), out.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  out.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.hour = static_cast<int>(hms.hours().count()), out.minute = static_cast<int>(hms.minutes().count());
  out.second = static_cast<int>(hms.seconds().count());
  return out;
}

std::optional<std::uint64_t> realtime_of_line(std::string_view line) {
  static constexpr std::string_view name = "__REALTIME_TIMESTAMP";
  std::string_view rest;
  if (line.starts_with(name) && line.size() > name.size() && line[name.size()] == '=') {
    rest = line.substr(name.size() + 1);
  } else if (line.starts_with("{")) {
    // "__REALTIME_TIMESTAMP" : "N" (journalctl writes a space around the colon in some
    // versions, none in others)
    std::size_t at = line.find("\"__REALTIME_TIMESTAMP\"");
    if (at == std::string_view::npos) return std::nullopt;
    rest = line.substr(at + name.size() + 2);
    auto skip = [&] {
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    };
    skip();
    if (!rest.starts_with(":")) return std::nullopt;
    rest.remove_prefix(1);
    skip();
    if (!rest.starts_with("\"")) return std::nullopt;
    rest.remove_prefix(1);
    std::size_t q = rest.find('"');
    if (q == std::string_view::npos) return std::nullopt;
    rest = rest.substr(0, q);
  } else {
    return std::nullopt;
  }
  bool ok = false;
  std::uint64_t v = number(rest, &ok);
  if (!ok) return std::nullopt;
  return v;
}

std::string syslog_line(const entry& e) {
  local_time t = local_time_of(e.realtime);
  long off = t.offset < 0 ? -t.offset : t.offset;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}{:02}:{:02} {} {}", t.year, t.month, t.day, t.hour,
                                t.minute, t.second, t.micro, t.offset < 0 ? '-' : '+', off / 3600, off % 3600 / 60,
                                e.hostname.empty() ? "-" : e.hostname, e.identifier.empty() ? "-" : e.identifier);
  if (e.pid) out += fmt::format("[{}]", e.pid);
  out += ": ";
  out += e.message;
  return out;
}

bool looks_like_export(std::string_view line) {
  for (std::string_view k : {"__CURSOR=", "__REALTIME_TIMESTAMP=", "__MONOTONIC_TIMESTAMP=", "__SEQNUM=", "__SEQNUM_ID="})
    if (line.starts_with(k)) return true;
  return false;
}

bool looks_like_json(std::string_view line) {
  return line.starts_with("{") && (line.find("\"__REALTIME_TIMESTAMP\"") != std::string_view::npos ||
                                   line.find("\"__CURSOR\"") != std::string_view::npos);
}

void export_decoder::fail(std::string what) {
  if (!broken_) problem_ = std::move(what);
  broken_ = true;
  mode_ = mode::skip;
}

void export_decoder::field(std::string_view name, std::string_view value, std::uint64_t line_no) {
  if (name == "MESSAGE") {
    if (!e_.has_message) {
      e_.has_message = true;
      e_.message = first_line_of(value, max_value_);
      e_.line = line_no;
    }
  } else if (name == "__REALTIME_TIMESTAMP") {
    bool ok = false;
    e_.realtime = number(value, &ok);
    e_.has_time = ok;
    if (!ok) fail("__REALTIME_TIMESTAMP is not a number: " + shown(value));
  } else if (name == "_SOURCE_REALTIME_TIMESTAMP") {
    source_realtime_ = number(value);
  } else if (name == "SYSLOG_IDENTIFIER") {
    e_.identifier = first_line_of(value, 256);
  } else if (name == "_COMM") {
    comm_ = first_line_of(value, 256);
  } else if (name == "SYSLOG_PID") {
    e_.pid = number(value);
  } else if (name == "_PID") {
    comm_pid_ = number(value);
  } else if (name == "_HOSTNAME") {
    e_.hostname = first_line_of(value, 256);
  }
}

void export_decoder::end_entry() {
  if (!open_) return;
  if (broken_) {
    out_.broken(first_line_, "journal export entry: " + problem_);
  } else if (!e_.has_time && !source_realtime_) {
    out_.broken(first_line_, "journal export entry without __REALTIME_TIMESTAMP");
  } else {
    if (!e_.has_time) e_.realtime = source_realtime_;
    if (e_.identifier.empty()) e_.identifier = comm_;
    if (!e_.pid) e_.pid = comm_pid_;
    if (!e_.has_message) e_.line = first_line_;
    out_.entry(e_);
  }
  open_ = broken_ = false;
  problem_.clear();
  e_ = entry{};
  source_realtime_ = comm_pid_ = 0;
  comm_.clear();
  mode_ = mode::text;
}

// The octets of a binary field (and the '\n's that line_source took away, given back).
void export_decoder::bytes(std::string_view b, std::uint64_t line_no) {
  while (!b.empty() && mode_ != mode::text && mode_ != mode::skip) {
    if (mode_ == mode::size) {
      std::size_t take = std::min(b.size(), sizeof size_ - size_have_);
      for (std::size_t i = 0; i < take; ++i) size_[size_have_ + i] = static_cast<unsigned char>(b[i]);
      size_have_ += take;
      b.remove_prefix(take);
      if (size_have_ == sizeof size_) {
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | size_[i];  // little endian
        if (n > max_field_) {
          fail(fmt::format("binary field {} of {} octets (more than {})", name_, n, max_field_));
          return;
        }
        left_ = n;
        value_.clear();
        mode_ = n ? mode::data : mode::newline;
      }
    } else if (mode_ == mode::data) {
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(b.size(), left_));
      bool kept = name_ == "MESSAGE" || name_ == "SYSLOG_IDENTIFIER" || name_ == "_HOSTNAME" || name_ == "_COMM" ||
                  name_ == "SYSLOG_PID" || name_ == "_PID" || name_ == "__REALTIME_TIMESTAMP" ||
                  name_ == "_SOURCE_REALTIME_TIMESTAMP";
      if (kept && value_.size() < max_value_) value_.append(b.substr(0, std::min(take, max_value_ - value_.size())));
      left_ -= take;
      b.remove_prefix(take);
      if (left_ == 0) mode_ = mode::newline;
    } else if (mode_ == mode::newline) {
      if (b.front() != '\n') {
        fail(fmt::format("binary field {} not followed by a newline", name_));
        return;
      }
      b.remove_prefix(1);
      mode_ = mode::text;
      field(name_, value_, name_line_);
      value_.clear();
    }
  }
  (void)line_no;
  // The field's closing newline is always a line's end; anything after it on the line means
  // the size was wrong.
  if (!b.empty() && mode_ == mode::text) fail(fmt::format("binary field {} followed by more octets: {}", name_, shown(b)));
}

void export_decoder::add_line(std::string_view line, std::uint64_t line_no) {
  if (mode_ == mode::size || mode_ == mode::data || mode_ == mode::newline) {
    bytes(line, line_no);
    if (mode_ != mode::skip) bytes("\n", line_no);
    return;
  }
  if (line.empty()) {
    end_entry();
    return;
  }
  if (!open_) {
    open_ = true;
    first_line_ = line_no;
  }
  if (mode_ == mode::skip) return;  // a broken entry, up to its empty line
  std::size_t eq = line.find('=');
  if (eq != std::string_view::npos && field_name(line.substr(0, eq))) {
    field(line.substr(0, eq), line.substr(eq + 1), line_no);
    return;
  }
  if (field_name(line)) {
    name_ = std::string(line);
    name_line_ = line_no;
    size_have_ = 0;
    mode_ = mode::size;
    return;
  }
  fail("not a field: " + shown(line));
}

void export_decoder::finish() {
  if (mode_ == mode::size || mode_ == mode::data || mode_ == mode::newline) {
    // The last line was given a '\n' it may not have had: a field cut by the end of the input.
    fail(mode_ == mode::size ? fmt::format("binary field {} cut inside its size", name_)
                             : fmt::format("binary field {} cut short: {} of its octets missing", name_, left_));
  }
  end_entry();
}

bool parse_json(std::string_view line, entry& e, std::string& what) {
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    what = "journal JSON entry: not a JSON object";
    return false;
  }
  // A field's (first) value as octets; nullopt when null or of another type.
  auto value = [](const nlohmann::json& v) -> std::optional<std::string> {
    const nlohmann::json* x = &v;
    if (x->is_array() && !x->empty() && !(*x)[0].is_number()) x = &(*x)[0];  // several values: the first
    if (x->is_string()) return x->get<std::string>();
    if (x->is_array()) {
      std::string out;
      for (const auto& b : *x) {
        if (!b.is_number_unsigned() || b.get<std::uint64_t>() > 255) return std::nullopt;
        out += static_cast<char>(b.get<std::uint64_t>());
      }
      return out;
    }
    return std::nullopt;
  };
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto it = j.find(name);
    if (it == j.end()) return std::nullopt;
    return value(*it);
  };
  e = entry{};
  bool ok = false;
  if (auto t = get("__REALTIME_TIMESTAMP")) e.realtime = number(*t, &ok);
  if (!ok)
    if (auto t = get("_SOURCE_REALTIME_TIMESTAMP")) e.realtime = number(*t, &ok);
  if (!ok) {
    what = "journal JSON entry without a __REALTIME_TIMESTAMP number";
    return false;
  }
  e.has_time = true;
  if (auto m = get("MESSAGE")) e.has_message = true, e.message = first_line_of(*m, 64 * 1024);
  if (auto v = get("SYSLOG_IDENTIFIER")) e.identifier = first_line_of(*v, 256);
  else if (auto c = get("_COMM")) e.identifier = first_line_of(*c, 256);
  if (auto p = get("SYSLOG_PID")) e.pid = number(*p);
  if (!e.pid)
    if (auto p = get("_PID")) e.pid = number(*p);
  if (auto h = get("_HOSTNAME")) e.hostname = first_line_of(*h, 256);
  return true;
}

}  // namespace mxtls::logs::journal
