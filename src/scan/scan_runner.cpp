#include "mxtls/scan_runner.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

namespace mxtls {

namespace {

// Cores this process may run on (taskset, a cgroup's cpuset), which can be fewer than the
// machine has.
unsigned usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Raises the soft limit of open files to the hard one; returns the limit then in force.
std::size_t raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : static_cast<std::size_t>(rl.rlim_cur);
}

long peak_rss_kib() {
  std::ifstream st("/proc/self/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// An io_context whose pending handlers can be destroyed on request, with the coroutine
// frames they own, while its services (and so the sockets and timers in those frames and
// elsewhere) stay usable until the io_context itself goes. This is what lets abandoned
// probes be destroyed before the objects they refer to (asio documents the same two steps,
// shutdown then destroy, for an io_context's destructor).
struct abandonable_io : asio::io_context {
  explicit abandonable_io(int hint) : asio::io_context(hint) {}
  void destroy_pending() { shutdown(); }
};

}  // namespace

// Member order is destruction order, reversed: the io_contexts are declared first and go
// last, after everything that holds their sockets and timers or that a pending coroutine
// frame refers to (scanners, feed, probe contexts, gate).
struct scan_runner::engine {
  std::vector<std::unique_ptr<abandonable_io>> ios;
  connection_gate gate;
  std::vector<std::unique_ptr<probe_context>> ctxs;
  std::unique_ptr<scan_feed> feed;
  std::vector<std::unique_ptr<scanner>> scanners;
  // On ios[0]:
  std::optional<asio::posix::stream_descriptor> wake;  // the self-pipe's reading end
  std::optional<asio::signal_set> signals;
  std::optional<asio::steady_timer> ticker;
  bool stopped = false;   // scanners told to stop
  bool ran = false;

  explicit engine(std::size_t per_host_limit) : gate(per_host_limit) {}
  ~engine() {
    // Whatever is still pending (probes abandoned, a run that ended by an exception) is
    // destroyed here, while every object it may refer to still exists.
    for (auto& io : ios) io->destroy_pending();
  }
};

int scan_exit_code(const scan_summary& s, bool output_failed) {
  if (output_failed) return scan_exit_usage;
  if (s.stop_requested) return scan_exit_interrupted;
  // One exit policy: a destination counts against the scan exactly when its record's
  // exit_code (the probe's) is not 0, so scan, record and probe agree.
  bool all_ok = s.invalid == 0 && s.errors == 0 && s.failing == 0;
  return all_ok ? scan_exit_ok : scan_exit_findings;
}

scan_runner::scan_runner(scan_list list, scan_runner_options options, sink_fn sink)
    : list_(std::move(list)), opt_(std::move(options)), sink_(std::move(sink)) {
  concurrency_ = std::max<std::size_t>(1, opt_.scan.concurrency);
  if (opt_.fit_open_files) {
    open_files_ = raise_open_file_limit();
    if (concurrency_ + 64 > open_files_) concurrency_ = open_files_ > 128 ? open_files_ - 64 : 1;
  }
  unsigned threads = opt_.threads > 0 ? opt_.threads : usable_cores();
  threads_ = static_cast<unsigned>(
      std::min<std::size_t>({threads, concurrency_, std::max<std::size_t>(1, list_.targets.size())}));

  e_ = std::make_unique<engine>(opt_.per_host_limit);
  auto tls = make_client_tls_context(opt_.scan.probe.session, true);  // one CA store for every thread
  for (unsigned i = 0; i < threads_; ++i) {
    e_->ios.push_back(std::make_unique<abandonable_io>(1));
    e_->ctxs.push_back(std::make_unique<probe_context>(opt_.scan.probe, tls));
    e_->ctxs.back()->gate = &e_->gate;
    if (list_.names) e_->ctxs.back()->resolver();  // a bad resolver is refused before anything starts
  }
  e_->feed = std::make_unique<scan_feed>(list_.targets, opt_.scan.rate,
                                         [this](const scan_line& l, const probe_report& r, const std::string& error) {
                                           if (!sink_) return;
                                           if (error.empty())
                                             sink_({.line = &l, .kind = record_kind::probed, .report = &r, .error = {}});
                                           else
                                             sink_({.line = &l, .kind = record_kind::error, .error = error});
                                         });
  for (unsigned i = 0; i < threads_; ++i) {
    scan_options part = opt_.scan;
    part.concurrency = concurrency_ / threads_ + (i < concurrency_ % threads_ ? 1 : 0);
    e_->scanners.push_back(std::make_unique<scanner>(part, *e_->ctxs[i], *e_->feed));
  }
  if (::pipe2(wake_fd_, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "pipe");
  e_->wake.emplace(*e_->ios[0], wake_fd_[0]);  // owns the reading end from here
}

scan_runner::~scan_runner() {
  e_.reset();
  if (wake_fd_[1] >= 0) ::close(wake_fd_[1]);
}

void scan_runner::wake() noexcept {
  char b = 1;
  ssize_t n = ::write(wake_fd_[1], &b, 1);  // a full pipe is already a wake-up
  (void)n;
}

void scan_runner::request_stop() noexcept {
  stop_.store(true);
  wake();
}

void scan_runner::abandon() noexcept {
  stop_.store(true);
  abandon_.store(true);
  wake();
}

scan_progress scan_runner::progress() const { return e_->feed->progress(); }

scan_summary scan_runner::run() {
  engine& e = *e_;
  if (e.ran) throw std::logic_error("scan_runner::run() runs once");
  e.ran = true;
  auto start = std::chrono::steady_clock::now();
  abandonable_io& main_io = *e.ios[0];

  for (const auto& l : list_.invalid)
    if (sink_) sink_({.line = &l, .kind = record_kind::invalid, .error = l.error});

  // Stop and abandon, on the main io_context, whoever asked.
  auto react = [&] {
    if (abandon_) {
      for (auto& io : e.ios) io->stop();
      return;
    }
    if (stop_ && !e.stopped) {
      e.stopped = true;
      for (unsigned i = 0; i < threads_; ++i) asio::post(*e.ios[i], [&e, i] { e.scanners[i]->stop(); });
    }
  };
  if (stop_) e.feed->stop();  // asked before the start: nothing is taken
  std::function<void()> watch = [&] {
    e.wake->async_wait(asio::posix::stream_descriptor::wait_read, [&](std::error_code ec) {
      if (ec) return;
      char buf[64];
      while (::read(wake_fd_[0], buf, sizeof buf) > 0) {
      }
      react();
      watch();
    });
  };
  watch();

  int signals = 0;
  std::function<void()> wait_signal;
  if (opt_.stop_on_signals) {
    e.signals.emplace(main_io, SIGINT, SIGTERM);
    wait_signal = [&] {
      e.signals->async_wait([&](std::error_code ec, int sig) {
        if (ec) return;
        bool abandoning = ++signals > 1;
        if (on_signal_) on_signal_(sig, abandoning, e.feed->progress().active);
        stop_ = true;
        if (abandoning) abandon_ = true;
        react();
        if (!abandoning) wait_signal();
      });
    };
    wait_signal();
  }
  std::function<void()> tick;
  if (on_progress_ && opt_.progress_interval.count() > 0) {
    e.ticker.emplace(main_io);
    tick = [&] {
      e.ticker->expires_after(opt_.progress_interval);
      e.ticker->async_wait([&](std::error_code ec) {
        if (ec) return;
        on_progress_(e.feed->progress(), std::chrono::steady_clock::now() - start);
        tick();
      });
    };
    // The line is there from the start (0/N done), not only after the first interval: a
    // scan shorter than one interval still shows it.
    asio::post(main_io, [&] { on_progress_(e.feed->progress(), std::chrono::steady_clock::now() - start); });
    tick();
  }

  std::atomic<unsigned> running{threads_};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (unsigned i = 0; i < threads_; ++i)
    asio::co_spawn(*e.ios[i], e.scanners[i]->run(), [&](std::exception_ptr ex) {
      if (ex) {
        std::lock_guard lock(failure_mutex);
        failure = ex;
      }
      if (--running == 0)
        asio::post(main_io, [&] {
          std::error_code ignored;
          e.wake->cancel(ignored);
          if (e.signals) e.signals->cancel(ignored);
          if (e.ticker) e.ticker->cancel();
        });
    });
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads_; ++i) pool.emplace_back([&e, i] { e.ios[i]->run(); });
  main_io.run();
  for (auto& t : pool) t.join();
  if (e.signals) {
    std::error_code ignored;
    e.signals->clear(ignored);  // SIGINT and SIGTERM act as usual again
  }
  if (abandon_) {
    // The open probes are given up: their frames go now, while what they refer to exists,
    // and their sockets close.
    for (auto& io : e.ios) io->destroy_pending();
  }
  if (failure) std::rethrow_exception(failure);

  scan_progress p = e.feed->progress();
  scan_summary s{
      .lines = list_.lines,
      .blank_or_comment = list_.blank_or_comment,
      .repeats = list_.repeats,
      .other_shards = list_.other_shards,
      .invalid = list_.invalid.size(),
      .probed = p.done,
      .errors = p.errors,
      .not_probed = p.total - p.done,
      .outcomes = p.outcomes,
      .command_injection = p.command_injection,
      .failing = p.failing,
      .peak_active = p.peak_active,
      .threads = threads_,
      .seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
      .peak_rss_kib = peak_rss_kib(),
      .stop_requested = stop_.load(),
      .abandoned = abandon_.load(),
  };
  return s;
}

}  // namespace mxtls
