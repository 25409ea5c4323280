// The scan engine as a library: a list of destinations probed on several threads (one
// io_context, probe context and scanner each; the list, the rate, the per-address gate and
// the TLS context shared), each finished line handed to a sink, stop and abandon from any
// thread or a signal, progress snapshots, a summary, and the scan's exit policy.
// `mxtls scan` parses its flags into scan_runner_options and prints what the runner reports.
#pragma once

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "mxtls/scan.hpp"
#include "mxtls/scan_records.hpp"

namespace mxtls {

struct scan_runner_options {
  scan_options scan;              // concurrency: over all threads
  std::size_t per_host_limit = 8;  // connections at once to one address; 0: no limit
  unsigned threads = 0;           // 0: one per core the process may use
  // Raise the soft limit of open files to the hard one, and lower the concurrency if it
  // still needs more (one socket per open probe, and some to spare).
  bool fit_open_files = true;
  // SIGINT and SIGTERM while run() runs: the first stops new probes, the second abandons
  // the open ones. (Off: the caller's own handling; request_stop() and abandon() are
  // async-signal-safe.)
  bool stop_on_signals = false;
  std::chrono::milliseconds progress_interval{0};  // 0: no progress callbacks
};

// Everything a line of the list came to, by kind (the summary's and the exit policy's view).
struct scan_summary {
  std::size_t lines = 0, blank_or_comment = 0, repeats = 0, other_shards = 0;  // from the list
  std::size_t already = 0;    // done in an earlier run (set by the caller after resume_scan)
  std::size_t invalid = 0;
  std::size_t probed = 0;     // finished probes (errors included)
  std::size_t errors = 0;     // probes that failed (record_kind::error)
  std::size_t not_probed = 0; // left when stopped
  std::map<probe_outcome, std::size_t> outcomes;
  std::size_t command_injection = 0;
  std::size_t failing = 0;   // probed destinations whose record has a non-zero exit_code
  std::size_t peak_active = 0;
  unsigned threads = 0;
  double seconds = 0;
  long peak_rss_kib = -1;     // the process's, at the end
  bool stop_requested = false;
  bool abandoned = false;     // open probes were given up (their lines count as not probed)
};

// Exit codes of the scan (docs/exit-codes.md).
inline constexpr int scan_exit_ok = 0;           // every destination fine for every sender
inline constexpr int scan_exit_findings = 1;     // some record has a non-zero exit_code, or a line is invalid
inline constexpr int scan_exit_usage = 2;        // usage, or records/report not readable or writable
inline constexpr int scan_exit_interrupted = 130;
// The scan's exit policy: `output_failed` when a record or the report could not be written.
int scan_exit_code(const scan_summary& s, bool output_failed);

class scan_runner {
 public:
  // Called once per line of the list that the scan is done with (invalid lines first, then
  // each probe as it ends), from the scanners' threads, possibly at once: the sink
  // serialises its own output. Rendering the record there keeps that work on every thread.
  using sink_fn = std::function<void(const scan_result&)>;
  // A signal arrived (stop_on_signals): `abandoning` for the second; `open` probes at that time.
  using signal_fn = std::function<void(int signal, bool abandoning, std::size_t open)>;
  using progress_fn = std::function<void(const scan_progress&, std::chrono::steady_clock::duration elapsed)>;

  // Takes the list (after resume_scan, if any). Throws std::invalid_argument for options
  // the probe engine refuses (a CA file, a resolver), before anything starts.
  scan_runner(scan_list list, scan_runner_options options, sink_fn sink);
  ~scan_runner();
  scan_runner(const scan_runner&) = delete;
  scan_runner& operator=(const scan_runner&) = delete;

  void on_signal(signal_fn fn) { on_signal_ = std::move(fn); }
  void on_progress(progress_fn fn) { on_progress_ = std::move(fn); }

  // What the runner settled on before starting.
  unsigned threads() const { return threads_; }
  std::size_t concurrency() const { return concurrency_; }
  std::size_t open_file_limit() const { return open_files_; }  // 0: not looked at
  const scan_list& list() const { return list_; }

  // Runs the scan on the calling thread and threads() - 1 more; returns when every line is
  // done, or after a stop when the open probes have ended, or at once after abandon().
  // Once only. Rethrows an exception a scanner ended with.
  scan_summary run();
  // No new probes; the open ones run to their end. Thread-safe and async-signal-safe.
  void request_stop() noexcept;
  // Gives up the open probes: run() returns without waiting for them, and their state is
  // destroyed before the objects it refers to. Thread-safe and async-signal-safe.
  void abandon() noexcept;
  scan_progress progress() const;  // thread-safe

 private:
  struct engine;
  void wake() noexcept;

  scan_list list_;
  scan_runner_options opt_;
  sink_fn sink_;
  signal_fn on_signal_;
  progress_fn on_progress_;
  std::size_t concurrency_ = 0, open_files_ = 0;
  unsigned threads_ = 0;
  std::atomic<bool> stop_{false}, abandon_{false};
  int wake_fd_[2] = {-1, -1};  // self-pipe: request_stop() and abandon() write a byte
  std::unique_ptr<engine> e_;  // the io_contexts and what runs on them (scan_runner.cpp)
};

}  // namespace mxtls
