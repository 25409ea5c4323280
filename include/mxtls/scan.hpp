// `mxtls scan`: many destinations at once on one io_context, each diagnosed by the probe
// engine. The target list is read and split here (unique, shards), and one thread's part
// of the scan runs here (scan_feed, scanner); scan_runner.hpp runs them on several threads,
// scan_records.hpp writes and reads the records.
#pragma once

#include <chrono>
#include <cstdio>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "mxtls/probe.hpp"

namespace mxtls {

struct scan_line {
  std::size_t line = 0;  // 1-based line number in the list
  std::string text;      // the target as probed: host in A-labels, smtp:// dropped (normalise_target); for
                         // an invalid line, the line as written with control characters escaped
  std::string written;   // the target as written, without comment and surrounding white space
  std::string error;     // why the line is not a target; empty for a target
};

// A record's "input": the line as written (U-labels, smtp:// and all), with control
// characters escaped; `text` when the line was made without it. Resume matches records on
// the line number and this.
std::string record_input(const scan_line& line);

struct scan_list_options {
  bool unique = false;        // drop a target that appeared on an earlier line
  unsigned shard = 1;         // this machine's part, 1..shards
  unsigned shards = 1;
  std::size_t max_line = 1024;  // longer lines are invalid (read without holding more)
  unsigned short default_port = 25;
};

struct scan_list {
  std::vector<scan_line> targets;  // to probe, in list order
  std::vector<scan_line> invalid;  // not a target: reported with the reason
  std::size_t lines = 0;           // lines read
  std::size_t blank_or_comment = 0;
  std::size_t repeats = 0;         // dropped by `unique`
  std::size_t other_shards = 0;    // left to the other shards
  bool names = false;              // some target is a domain name (DNS is needed)
};

// One target per line: a domain (an IDN is probed as its A-labels), [host], host:port,
// [host]:port, smtp://host[:port] or an address; a UTF-8 byte order mark is skipped; an
// address-like text that is no address (192.0.2.300, 127.1) is an invalid line. '#' starts
// a comment (at the start of a line, or after white space). The lines that are not blank
// or comments are dealt round-robin to the shards (after `unique`), so every shard of one
// list gets a fixed, disjoint part whatever machine reads it.
scan_list read_scan_list(std::FILE* in, const scan_list_options& options);

// "K/N" with 1 <= K <= N; throws std::invalid_argument with a message for the user.
std::pair<unsigned, unsigned> parse_shard(const std::string& text);

struct scan_options {
  probe_options probe;
  std::size_t concurrency = 100;  // probes at once, in this scanner
  double rate = 0;                // probes started per second, over all scanners of a feed; 0: no limit
  unsigned short default_port = 25;
};

struct scan_progress {
  std::size_t total = 0, started = 0, done = 0, active = 0, peak_active = 0, errors = 0;
  std::map<probe_outcome, std::size_t> outcomes;
  std::size_t command_injection = 0;
  std::size_t failing = 0;  // probes whose exit code (the probe's exit policy) is not 0
};

// The lines to probe, shared by the scanners of one or more threads (each thread has its
// own io_context, probe_context and scanner): hands out lines, spaces their starts to
// the rate, counts what has finished, and passes each record on, one at a time.
class scan_feed {
 public:
  // A finished probe; `error` is set (and the report empty) when the probe itself failed.
  // Called from the scanners' threads, possibly at once: the callee serialises its output.
  using record_fn = std::function<void(const scan_line&, const probe_report&, const std::string& error)>;

  scan_feed(const std::vector<scan_line>& work, double rate, record_fn on_record);
  // The next line and the time it may start; nullptr when all are taken or after stop().
  const scan_line* take(std::chrono::steady_clock::time_point& start_at);
  void started();
  void finished(const scan_line& line, const probe_report& report, const std::string& error);
  // No line is handed out any more. Thread-safe.
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }
  scan_progress progress() const;  // a copy, thread-safe

 private:
  const std::vector<scan_line>& work_;
  double rate_;
  record_fn on_record_;
  mutable std::mutex m_;
  std::size_t next_ = 0;
  std::chrono::steady_clock::time_point next_slot_{};
  std::atomic<bool> stopping_{false};
  scan_progress progress_;
};

class scanner {
 public:
  scanner(scan_options options, probe_context& context, scan_feed& feed) : opt_(std::move(options)), ctx_(context), feed_(feed) {}

  // Probes lines from the feed, `concurrency` at a time, on the caller's io_context;
  // returns when the feed is empty (or stopped) and the open probes have finished.
  asio::awaitable<void> run();
  // Stops the feed and wakes the workers waiting for a rate slot. Call it on this
  // scanner's io_context (asio::post from another thread).
  void stop();

 private:
  asio::awaitable<void> worker();

  scan_options opt_;
  probe_context& ctx_;
  scan_feed& feed_;
  std::size_t workers_ = 0;
  asio::steady_timer* all_done_ = nullptr;
  std::vector<asio::steady_timer*> sleeping_;  // waiting for a rate slot; woken by stop()
};

}  // namespace mxtls
