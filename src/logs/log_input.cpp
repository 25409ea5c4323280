// Reading log input line by line: plain text or gzip (RFC 1952, inflated with zlib), from a
// file or standard input. A line is handed over without its line ending; memory is one
// buffer of a fixed size per input plus the longest line (cut at 1 MiB here, and at
// log_limits::max_line_octets by the reader). Several inputs are merged in time order, of
// whatever kind each is: a journal's entries by their __REALTIME_TIMESTAMP, in local time as
// the plain syslog files of the same host write it (journal_input.hpp, local_time_of).
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>

#include <zlib.h>

#include "logs/journal_input.hpp"
#include "mxtls/logs.hpp"

namespace mxtls::logs {
namespace {

constexpr std::size_t chunk = 1 << 16;
constexpr std::size_t longest_kept = 1 << 20;

// One input, pulled a line at a time.
class line_source {
 public:
  explicit line_source(std::istream& in) : in_(in), buf_(chunk, '\0') {}
  ~line_source() {
    if (gzip_) inflateEnd(&z_);
  }
  line_source(const line_source&) = delete;
  line_source& operator=(const line_source&) = delete;

  // The next line (valid until the next call); false at the end or after an error.
  bool next(std::string_view& line) {
    while (true) {
      if (const char* nl = pos_ < have_.size() ? static_cast<const char*>(std::memchr(have_.data() + pos_, '\n', have_.size() - pos_))
                                               : nullptr) {
        std::size_t len = static_cast<std::size_t>(nl - (have_.data() + pos_));
        ++line_no_;
        if (partial_.empty()) {
          line = std::string_view(have_.data() + pos_, len);
        } else {
          append_partial(have_.data() + pos_, len);
          held_.swap(partial_);
          partial_.clear();
          line = held_;
        }
        pos_ += len + 1;
        return true;
      }
      if (pos_ < have_.size()) append_partial(have_.data() + pos_, have_.size() - pos_);
      pos_ = 0;
      have_ = {};
      if (!fill()) {
        if (partial_.empty()) return false;
        ++line_no_;
        held_.swap(partial_);
        partial_.clear();
        line = held_;
        return true;
      }
    }
  }
  std::uint64_t line_no() const { return line_no_; }
  std::uint64_t octets_read() const { return octets_; }  // of the input as stored (compressed for gzip)
  const std::string& error() const { return error_; }

 private:
  void append_partial(const char* p, std::size_t n) {
    if (partial_.size() < longest_kept) partial_.append(p, std::min(n, longest_kept - partial_.size()));
  }
  std::size_t read_raw() {
    if (!in_) return 0;
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    auto got = static_cast<std::size_t>(in_.gcount());
    if (in_.bad() && error_.empty()) error_ = "read error";
    octets_ += got;
    return got;
  }
  // Makes `have_` the next octets of the text; false at the end.
  bool fill() {
    if (done_) return false;
    if (!started_) {
      started_ = true;
      raw_ = read_raw();
      gzip_ = raw_ >= 2 && static_cast<unsigned char>(buf_[0]) == 0x1f && static_cast<unsigned char>(buf_[1]) == 0x8b;
      if (gzip_) {
        // 16 + MAX_WBITS: a gzip wrapper (zlib.h, inflateInit2).
        if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) {
          error_ = "zlib: cannot initialise";
          gzip_ = false;
          done_ = true;
          return false;
        }
        out_.assign(chunk, '\0');
        z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
        z_.avail_in = static_cast<uInt>(raw_);
      } else if (raw_) {
        have_ = std::string_view(buf_.data(), raw_);
        return true;
      }
    }
    if (!gzip_) {
      raw_ = read_raw();
      if (!raw_) return done_ = true, false;
      have_ = std::string_view(buf_.data(), raw_);
      return true;
    }
    while (true) {
      if (z_.avail_in == 0) {
        if (stream_end_) return done_ = true, false;  // the last member ended with the input
        raw_ = read_raw();
        if (!raw_) {
          // The input ended inside the compressed stream: a truncated file; what was inflated counts.
          if (z_.total_in && error_.empty()) error_ = "gzip: unexpected end of file";
          return done_ = true, false;
        }
        z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
        z_.avail_in = static_cast<uInt>(raw_);
      }
      if (stream_end_) {
        // Concatenated members (gzip -c a b > c) continue.
        inflateReset(&z_);
        stream_end_ = false;
      }
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      int rc = inflate(&z_, Z_NO_FLUSH);
      std::size_t made = out_.size() - z_.avail_out;
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = std::string("gzip: ") + (z_.msg ? z_.msg : "data error");
        done_ = true;
        if (!made) return false;
      }
      if (made) {
        have_ = std::string_view(out_.data(), made);
        return true;
      }
    }
  }

  std::istream& in_;
  std::string buf_, out_, partial_, held_;
  std::string_view have_;
  std::size_t pos_ = 0, raw_ = 0;
  std::uint64_t line_no_ = 0, octets_ = 0;
  bool started_ = false, gzip_ = false, done_ = false, stream_end_ = false;
  z_stream z_{};
  std::string error_;
};

constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int two(std::string_view s, std::size_t at) {
  char a = s[at] == ' ' ? '0' : s[at], b = s[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}

// A line's time as a number that orders (yyyymmddhhmmss); year 0 for syslog lines, which
// carry none; nullopt for a line without a time at its start.
struct line_time {
  std::int64_t key = 0;
  bool has_year = false;
  int month = 0;
};
std::optional<line_time> time_of(std::string_view l) {
  auto pack = [](int y, int mo, int d, int h, int mi, int s) {
    return ((((static_cast<std::int64_t>(y) * 100 + mo) * 100 + d) * 100 + h) * 100 + mi) * 100 + s;
  };
  auto month_at = [&](std::size_t at) {
    for (int i = 0; i < 12; ++i)
      if (l.substr(at, 3) == month_names[i]) return i + 1;
    return 0;
  };
  // journald: "__REALTIME_TIMESTAMP=N" (export; the entry is handed over at its empty line,
  // which keeps this time), a JSON entry's member.
  if (!l.empty() && (l[0] == '_' || l[0] == '{'))
    if (auto us = journal::realtime_of_line(l)) {
      journal::local_time t = journal::local_time_of(*us);
      return line_time{pack(t.year, t.month, t.day, t.hour, t.minute, t.second), true, t.month};
    }
  // ESA file form: ctime, "Www Mmm dd hh:mm:ss yyyy".
  if (l.size() >= 24 && l[3] == ' ' && l[7] == ' ' && l[13] == ':' && l[16] == ':' && l[19] == ' ') {
    int mo = month_at(4), d = two(l, 8), h = two(l, 11), mi = two(l, 14), s = two(l, 17), y1 = two(l, 20), y2 = two(l, 22);
    if (mo && d > 0 && h >= 0 && mi >= 0 && s >= 0 && y1 >= 0 && y2 >= 0) return line_time{pack(y1 * 100 + y2, mo, d, h, mi, s), true, mo};
  }
  // Syslog (RFC 3164): "Mmm dd hh:mm:ss".
  if (l.size() >= 15 && l[3] == ' ' && l[6] == ' ' && l[9] == ':' && l[12] == ':') {
    int mo = month_at(0), d = two(l, 4), h = two(l, 7), mi = two(l, 10), s = two(l, 13);
    if (mo && d > 0 && h >= 0 && mi >= 0 && s >= 0) return line_time{pack(0, mo, d, h, mi, s), false, mo};
  }
  // RFC 3339: "yyyy-mm-ddThh:mm:ss" (the zone is not applied: one MTA's files share one);
  // Exim's main log: "yyyy-mm-dd hh:mm:ss".
  if (l.size() >= 19 && l[4] == '-' && l[7] == '-' && (l[10] == 'T' || l[10] == ' ') && l[13] == ':' && l[16] == ':') {
    int y1 = two(l, 0), y2 = two(l, 2), mo = two(l, 5), d = two(l, 8), h = two(l, 11), mi = two(l, 14), s = two(l, 17);
    if (y1 >= 0 && y2 >= 0 && mo > 0 && d > 0 && h >= 0 && mi >= 0 && s >= 0) return line_time{pack(y1 * 100 + y2, mo, d, h, mi, s), true, mo};
  }
  return std::nullopt;
}

struct opened {
  std::unique_ptr<std::ifstream> file;  // null for standard input
  std::unique_ptr<line_source> source;
  std::size_t index = 0;
  std::string_view line;
  std::uint64_t line_no = 0;
  bool has_line = false;
  std::int64_t key = 0;     // of the current line (a line without a time keeps the last one's)
  int year = 0, last_month = 0;  // syslog: years counted from the input's first line
  bool year_absolute = false;    // `year` is the calendar year (give_years found one)
  // Merging: the first lines, read ahead up to the first that has a time (a journal export's
  // first line, __CURSOR, has none), handed over afterwards as if read now.
  std::deque<std::pair<std::string, std::uint64_t>> ahead;
  std::string held;
  std::optional<line_time> first_time;
};

constexpr int look_ahead = 16;

void read_ahead(opened& o) {
  std::string_view l;
  for (int i = 0; i < look_ahead && o.source->next(l); ++i) {
    o.ahead.emplace_back(std::string(l), o.source->line_no());
    if (auto t = time_of(l)) {
      o.first_time = t;
      return;
    }
  }
}

// A syslog input merged with inputs whose lines carry a year (a journal, RFC 3339 or Exim
// lines, an ESA file): its years are counted from the year, of those around the earliest
// such input's first time, that puts its own first line nearest to that time.
void give_years(std::vector<opened>& in) {
  const line_time* ref = nullptr;
  for (const auto& o : in)
    if (o.first_time && o.first_time->has_year && (!ref || o.first_time->key < ref->key)) ref = &*o.first_time;
  if (!ref) return;
  std::int64_t ref_year = ref->key / 10'000'000'000, ref_months = ref_year * 12 + ref->month;
  for (auto& o : in) {
    if (!o.first_time || o.first_time->has_year) continue;
    std::int64_t best = ref_year;
    for (std::int64_t y : {ref_year - 1, ref_year, ref_year + 1})
      if (std::llabs(y * 12 + o.first_time->month - ref_months) < std::llabs(best * 12 + o.first_time->month - ref_months)) best = y;
    o.year = static_cast<int>(best);
    o.year_absolute = true;
  }
}

// Moves `o` to its next line and its time.
void advance(opened& o) {
  if (!o.ahead.empty()) {
    o.held = std::move(o.ahead.front().first);
    o.line_no = o.ahead.front().second;
    o.ahead.pop_front();
    o.line = o.held;
    o.has_line = true;
  } else {
    o.has_line = o.source->next(o.line);
    o.line_no = o.source->line_no();
  }
  if (!o.has_line) return;
  if (auto t = time_of(o.line)) {
    if (t->has_year) {
      o.key = t->key;
    } else {
      if (o.last_month && t->month < o.last_month) ++o.year;  // December to January
      o.last_month = t->month;
      o.key = t->key + static_cast<std::int64_t>(o.year) * 10'000'000'000;  // the year's place in time_of's key
    }
  }
}

class progress_meter {
 public:
  progress_meter(const read_options& options, std::uint64_t total) : opt_(options), total_(total) {}
  void tick(std::uint64_t octets, std::uint64_t lines) {
    if (!opt_.progress || (lines & 0xfff) != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < opt_.progress_interval) return;
    last_ = now;
    opt_.progress(octets, total_, lines);
  }

 private:
  const read_options& opt_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

std::string read_stream(std::istream& in, log_reader& reader, std::size_t file) {
  line_source src(in);
  std::string_view line;
  while (src.next(line)) reader.add_line(line, file, src.line_no());
  reader.end_input(file);
  return src.error();
}

std::string read_file(const std::string& path, log_reader& reader, std::size_t file) {
  if (path == "-") return read_stream(std::cin, reader, file);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot open: ") + std::strerror(errno);
  return read_stream(in, reader, file);
}

read_result read_inputs(const std::vector<std::string>& paths, log_reader& reader, const read_options& options) {
  read_result r;
  std::vector<opened> in;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    opened o;
    o.index = i;
    if (paths[i] != "-") {
      o.file = std::make_unique<std::ifstream>(paths[i], std::ios::binary);
      if (!*o.file) {
        r.failed_input = i;
        r.error = std::string("cannot open: ") + std::strerror(errno);
        return r;
      }
      struct stat st{};
      if (stat(paths[i].c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += static_cast<std::uint64_t>(st.st_size);
    }
    o.source = std::make_unique<line_source>(o.file ? static_cast<std::istream&>(*o.file) : std::cin);
    in.push_back(std::move(o));
  }
  progress_meter meter(options, total);
  auto octets = [&] {
    std::uint64_t n = 0;
    for (const auto& o : in) n += o.source->octets_read();
    return n;
  };
  std::uint64_t lines = 0;
  auto check = [&](const opened& o) {
    if (!o.has_line && !o.source->error().empty() && r.error.empty()) {
      r.failed_input = o.index;
      r.error = o.source->error();
    }
  };
  if (!options.merge || in.size() == 1) {
    for (auto& o : in) {
      for (advance(o); o.has_line; advance(o)) {
        reader.add_line(o.line, o.index, o.line_no);
        meter.tick(octets(), ++lines);
      }
      reader.end_input(o.index);
      check(o);
      if (!r.error.empty()) return r;
    }
    return r;
  }
  // Merged: always the input whose current line is the earliest (the first given on a tie).
  // A line without a time stays after the line before it in its own input.
  for (auto& o : in) read_ahead(o);
  give_years(in);
  for (auto& o : in) advance(o), check(o);
  while (r.error.empty()) {
    opened* best = nullptr;
    for (auto& o : in)
      if (o.has_line && (!best || o.key < best->key)) best = &o;
    if (!best) break;
    if (best->year_absolute) reader.set_year(best->index, best->year);  // the line's own year (a turn of the year counted)
    reader.add_line(best->line, best->index, best->line_no);
    meter.tick(octets(), ++lines);
    advance(*best);
    if (!best->has_line) reader.end_input(best->index);
    check(*best);
  }
  return r;
}

}  // namespace mxtls::logs
