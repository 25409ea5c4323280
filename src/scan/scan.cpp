#include <algorithm>
#include "mxtls/scan.hpp"

#include <cctype>
#include <stdexcept>
#include <unordered_set>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "mxtls/target_text.hpp"

namespace mxtls {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The text of a line without its comment: '#' at the start or after white space.
std::string_view without_comment(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(s[i - 1])))) return s.substr(0, i);
  return s;
}


}  // namespace

std::pair<unsigned, unsigned> parse_shard(const std::string& text) {
  auto slash = text.find('/');
  auto number = [&](const std::string& s) -> long {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stol(s);
  };
  long k = slash == std::string::npos ? -1 : number(text.substr(0, slash));
  long n = slash == std::string::npos ? -1 : number(text.substr(slash + 1));
  if (k < 0 || n < 1)
    throw std::invalid_argument("--shard '" + text + "': use K/N, e.g. 1/4 for the first of four parts");
  if (k < 1 || k > n)
    throw std::invalid_argument(fmt::format(
        "--shard '{}': K counts from 1 to N (a 0-based index such as JOB_COMPLETION_INDEX needs +1)", text));
  return {static_cast<unsigned>(k), static_cast<unsigned>(n)};
}

scan_list read_scan_list(std::FILE* in, const scan_list_options& opt) {
  scan_list out;
  std::unordered_set<std::string> seen;
  std::size_t dealt = 0;  // lines that are not blank or comments, after `unique`
  std::string line;
  bool too_long = false;
  auto finish_line = [&] {
    ++out.lines;
    // A byte order mark, as editors on Windows write one, is not part of the first target.
    if (out.lines == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    scan_line entry;
    entry.line = out.lines;
    if (too_long) {
      entry.written = line.substr(0, 40) + "...";
      entry.text = escape_text(entry.written);
      entry.error = fmt::format("longer than {} octets", opt.max_line);
    } else {
      std::string_view t = trim(without_comment(line));
      if (t.empty()) {
        ++out.blank_or_comment;
        return;
      }
      entry.written = std::string(t);
      normalised_target n = normalise_target(t);
      entry.text = n.error.empty() ? n.text : escape_text(t);
      entry.error = n.error;
    }
    // Repeats are the same destination, however it was written (smtp://, U-labels).
    if (opt.unique && entry.error.empty() && !seen.insert(entry.text).second) {
      ++out.repeats;
      return;
    }
    if (dealt++ % opt.shards != opt.shard - 1) {
      ++out.other_shards;
      return;
    }
    if (entry.error.empty()) {
      try {
        if (!parse_probe_target(entry.text, opt.default_port).literal) out.names = true;
      } catch (const std::invalid_argument& e) {
        entry.error = escape_text(e.what());
      }
    }
    (entry.error.empty() ? out.targets : out.invalid).push_back(std::move(entry));
  };
  char buf[65536];
  bool pending = false;
  while (std::size_t n = std::fread(buf, 1, sizeof buf, in)) {
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        finish_line();
        line.clear();
        too_long = false;
        pending = false;
        continue;
      }
      pending = true;
      if (line.size() < opt.max_line + 1) line += buf[i];
      else too_long = true;
    }
  }
  if (pending) finish_line();
  return out;
}

scan_feed::scan_feed(const std::vector<scan_line>& work, double rate, record_fn on_record)
    : work_(work), rate_(rate), on_record_(std::move(on_record)) {
  progress_.total = work.size();
}

const scan_line* scan_feed::take(std::chrono::steady_clock::time_point& start_at) {
  std::lock_guard lock(m_);
  if (stopping_ || next_ >= work_.size()) return nullptr;
  start_at = std::chrono::steady_clock::now();
  if (rate_ > 0) {
    auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(1.0 / rate_));
    start_at = std::max(start_at, next_slot_);
    next_slot_ = start_at + interval;
  }
  return &work_[next_++];
}

void scan_feed::started() {
  std::lock_guard lock(m_);
  ++progress_.started;
  progress_.peak_active = std::max(progress_.peak_active, ++progress_.active);
}

void scan_feed::finished(const scan_line& line, const probe_report& report, const std::string& error) {
  // The record is passed on first, outside the lock (rendering it is the costly part and
  // runs on every thread at once); it is counted as done once it has been passed on.
  if (on_record_) on_record_(line, report, error);
  std::lock_guard lock(m_);
  --progress_.active;
  ++progress_.done;
  if (error.empty()) {
    ++progress_.outcomes[report.diagnosis.outcome];
    if (report.diagnosis.exit_code != 0) ++progress_.failing;
    for (const auto& h : report.diagnosis.hosts)
      if (std::any_of(h.reasons.begin(), h.reasons.end(), [](const reason& r) { return r.id == reason_id::command_injection; })) {
        ++progress_.command_injection;
        break;
      }
  } else {
    ++progress_.errors;
  }
}

scan_progress scan_feed::progress() const {
  std::lock_guard lock(m_);
  return progress_;
}

asio::awaitable<void> scanner::run() {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
  all_done_ = &all_done;
  workers_ = opt_.concurrency;
  for (std::size_t i = 0; i < opt_.concurrency; ++i) asio::co_spawn(ex, worker(), asio::detached);
  if (workers_ > 0) co_await all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  all_done_ = nullptr;
}

void scanner::stop() {
  feed_.stop();
  for (auto* t : sleeping_) t->cancel();
}

asio::awaitable<void> scanner::worker() {
  std::chrono::steady_clock::time_point start_at;
  while (const scan_line* item = feed_.take(start_at)) {
    if (start_at > std::chrono::steady_clock::now()) {
      asio::steady_timer t(co_await asio::this_coro::executor, start_at);
      sleeping_.push_back(&t);
      co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      std::erase(sleeping_, &t);
      if (feed_.stopping()) break;  // taken, never started: counted as not probed
    }
    feed_.started();
    probe_report report;
    std::string error;
    try {
      auto one = probe(parse_probe_target(item->text, opt_.default_port), opt_.probe, ctx_);
      report = co_await std::move(one);
    } catch (const std::exception& e) {
      error = e.what();
    }
    feed_.finished(*item, report, error);
  }
  if (--workers_ == 0 && all_done_) all_done_->cancel();
}

}  // namespace mxtls
