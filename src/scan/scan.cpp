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

bool printable(std::string_view s) {
  for (unsigned char ch : s)
    if (ch < 0x21 || ch > 0x7e) return false;
  return true;
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
    scan_line entry;
    entry.line = out.lines;
    if (too_long) {
      entry.text = line.substr(0, 40) + "...";
      entry.error = fmt::format("longer than {} octets", opt.max_line);
    } else {
      std::string_view t = trim(without_comment(line));
      if (t.empty()) {
        ++out.blank_or_comment;
        return;
      }
      entry.text = std::string(t);
    }
    if (opt.unique && entry.error.empty() && !seen.insert(entry.text).second) {
      ++out.repeats;
      return;
    }
    if (dealt++ % opt.shards != opt.shard - 1) {
      ++out.other_shards;
      return;
    }
    if (entry.error.empty()) {
      if (!printable(entry.text)) {
        entry.error = "'" + entry.text + "' is not a target (white space, control characters or non-ASCII octets inside)";
      } else {
        try {
          parse_probe_target(entry.text, opt.default_port);
        } catch (const std::invalid_argument& e) {
          entry.error = e.what();
        }
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

asio::awaitable<void> scanner::run(const std::vector<scan_line>& work, record_fn on_record) {
  work_ = &work;
  on_record_ = std::move(on_record);
  next_ = 0;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
  all_done_ = &all_done;
  workers_ = std::min(opt_.concurrency, work.size());
  for (std::size_t i = 0; i < workers_; ++i) asio::co_spawn(ex, worker(), asio::detached);
  if (workers_ > 0) co_await all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  all_done_ = nullptr;
}

void scanner::stop() {
  stopping_ = true;
  for (auto* t : sleeping_) t->cancel();
}

asio::awaitable<bool> scanner::wait_for_rate_slot() {
  if (opt_.rate <= 0) co_return !stopping_;
  auto now = std::chrono::steady_clock::now();
  auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(1.0 / opt_.rate));
  auto slot = std::max(now, next_slot_);
  next_slot_ = slot + interval;
  if (slot > now) {
    asio::steady_timer t(co_await asio::this_coro::executor, slot);
    sleeping_.push_back(&t);
    co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    std::erase(sleeping_, &t);
  }
  co_return !stopping_;
}

asio::awaitable<void> scanner::worker() {
  while (!stopping_ && next_ < work_->size()) {
    const scan_line& item = (*work_)[next_++];
    if (!co_await wait_for_rate_slot()) break;
    ++progress_.started;
    progress_.peak_active = std::max(progress_.peak_active, ++progress_.active);
    probe_report report;
    std::string error;
    try {
      auto one = probe(parse_probe_target(item.text, opt_.default_port), opt_.probe, ctx_);
      report = co_await std::move(one);
    } catch (const std::exception& e) {
      error = e.what();
    }
    --progress_.active;
    ++progress_.done;
    if (error.empty()) {
      ++progress_.outcomes[report.outcome];
      for (const auto& h : report.hosts)
        if (h.command_injection) {
          ++progress_.command_injection;
          break;
        }
    } else {
      ++progress_.errors;
    }
    on_record_(item, report, error);
  }
  if (--workers_ == 0 && all_done_) all_done_->cancel();
}

}  // namespace mxtls
