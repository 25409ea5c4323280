#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mxtls/probe_report.hpp"
#include "mxtls/scan.hpp"
#include "mxtls/scan_html.hpp"

namespace mxtls::cli {

namespace {

inline constexpr int exit_interrupted = 130;

struct scan_args {
  std::string list;
  probe_flags flags;
  std::size_t concurrency = 100;
  double rate = 0;
  std::size_t per_host_limit = 8;
  unsigned threads = 0;
  std::string out, html, shard;
  bool resume = false, unique = false;
  std::string progress = "auto";
};

// Cores this process may run on (taskset, a cgroup's cpuset), which can be fewer than the
// machine has.
unsigned usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Writes all of `s`, in one write() where the system allows: a reader of a growing file
// (tail -f, a resumed run) sees whole records, and a kill leaves at most the last one cut
// short. (Through stdio a record of more than its buffer went out in pieces.)
bool write_whole(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A record: the probe's JSON object, with the list's line number and the input right
// after "schema" and "version"; without a report (an invalid line, a probe that failed)
// the same head, the verdict and the outcome.
std::string record_of(const scan_line& l, const probe_report* r, const std::string& outcome, const std::string& verdict, int exit_code) {
  std::string out;
  json_writer w(out);
  if (r) {
    write_probe_json(w, *r, {l.line, l.text});
  } else {
    w.begin_object().member("schema", "mxtls-probe").member("version", probe_json_version);
    w.member("line", l.line).member("input", l.text).member("target", l.text).member("verdict", verdict);
    w.member("outcome", outcome).member("exit_code", exit_code).end_object();
  }
  out += '\n';
  return out;
}

// Lines of an earlier run's output that are complete records: (list line, input). A last
// line cut short by a kill is cut off the file, so the run appends after whole records.
bool read_done(const std::string& path, std::set<std::pair<std::size_t, std::string>>& done, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT) return true;
    error = fmt::format("cannot open '{}' to resume: {}", path, std::strerror(errno));
    return false;
  }
  char* buf = nullptr;
  std::size_t cap = 0;
  long good_end = 0;
  ssize_t n;
  while ((n = ::getline(&buf, &cap, f)) > 0) {
    std::string_view line(buf, static_cast<std::size_t>(n));
    if (line.back() != '\n') break;  // cut short: dropped below
    good_end += n;
    // Only "line" and "input" are needed, and they come first: parse that head alone,
    // not the whole diagnosis (records are kilobytes; lists have millions of lines).
    std::size_t head = line.find(",\"target\"");
    std::string prefix = head == std::string_view::npos ? std::string(line) : std::string(line.substr(0, head)) + "}";
    auto j = nlohmann::json::parse(prefix, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("line") && j["line"].is_number_unsigned() && j.contains("input") &&
        j["input"].is_string())
      done.emplace(j["line"].get<std::size_t>(), j["input"].get<std::string>());
  }
  std::free(buf);
  bool read_error = std::ferror(f);
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fclose(f);
  if (read_error) {
    error = fmt::format("cannot read '{}' to resume", path);
    return false;
  }
  if (size != good_end && ::truncate(path.c_str(), good_end) != 0) {
    error = fmt::format("cannot cut the incomplete last record off '{}': {}", path, std::strerror(errno));
    return false;
  }
  return true;
}

std::string duration_text(double secs) {
  if (!std::isfinite(secs) || secs < 0) return "?";
  auto s = static_cast<long long>(secs + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string outcome_counts(const scan_progress& p, std::size_t invalid) {
  std::string s;
  for (auto o : all_probe_outcomes) {
    auto it = p.outcomes.find(o);
    if (it != p.outcomes.end()) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", to_string(o), it->second);
  }
  if (invalid) s += fmt::format("{}invalid {}", s.empty() ? "" : ", ", invalid);
  if (p.errors) s += fmt::format("{}error {}", s.empty() ? "" : ", ", p.errors);
  return s;
}

long peak_rss_kib() {
  std::ifstream st("/proc/self/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// Sockets: raise the soft limit to the hard one; each open probe holds one socket.
std::size_t open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : static_cast<std::size_t>(rl.rlim_cur);
}

// The HTML report from the records file (all of it: with --resume, the earlier runs too).
bool write_html(const scan_args& a) {
  std::ifstream records(a.out);
  if (!records) {
    std::fprintf(stderr, "mxtls scan: cannot read '%s' for the report\n", a.out.c_str());
    return false;
  }
  scan_html_options ho;
  ho.title = "mxtls scan: " + (a.list == "-" ? std::string("standard input") : a.list);
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  ho.generated = when;
  if (!a.shard.empty()) ho.note = "shard " + a.shard;
  std::ofstream h(a.html, std::ios::binary | std::ios::trunc);
  if (h) write_scan_html(records, h, ho);
  h.close();
  if (!h) {
    std::fprintf(stderr, "mxtls scan: cannot write '%s': %s\n", a.html.c_str(), std::strerror(errno));
    return false;
  }
  std::fprintf(stderr, "mxtls scan: report written to %s\n", a.html.c_str());
  return true;
}

int run_scan_cmd(scan_args& a) {
  scan_options so;
  if (!make_probe_options(a.flags, so.probe, "scan")) return exit_usage;
  if (a.concurrency < 1 || a.concurrency > 1'000'000) {
    std::fprintf(stderr, "mxtls scan: --concurrency must be 1 to 1000000\n");
    return exit_usage;
  }
  if (a.rate < 0 || !std::isfinite(a.rate)) {
    std::fprintf(stderr, "mxtls scan: --rate must be a number of probes per second (0: no limit)\n");
    return exit_usage;
  }
  if (!a.html.empty() && a.out.empty()) {
    std::fprintf(stderr, "mxtls scan: --html needs --out FILE (the report is made from the records)\n");
    return exit_usage;
  }
  if (!a.html.empty()) {
    struct stat st{};
    if (stat(a.out.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      std::fprintf(stderr, "mxtls scan: --html reads the records back from --out, which must be a regular file ('%s' is not)\n",
                   a.out.c_str());
      return exit_usage;
    }
  }
  if (a.resume && a.out.empty()) {
    std::fprintf(stderr, "mxtls scan: --resume needs --out FILE (the records of the earlier run)\n");
    return exit_usage;
  }
  scan_list_options lo;
  lo.unique = a.unique;
  lo.default_port = a.flags.port;
  if (!a.shard.empty()) {
    try {
      std::tie(lo.shard, lo.shards) = parse_shard(a.shard);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "mxtls scan: %s\n", e.what());
      return exit_usage;
    }
  }
  so.concurrency = a.concurrency;
  so.rate = a.rate;
  so.default_port = a.flags.port;

  // The list.
  std::FILE* in = a.list == "-" ? stdin : std::fopen(a.list.c_str(), "rb");
  if (!in) {
    std::fprintf(stderr, "mxtls scan: cannot read '%s': %s\n", a.list.c_str(), std::strerror(errno));
    return exit_usage;
  }
  scan_list list = read_scan_list(in, lo);
  bool read_error = std::ferror(in);
  if (in != stdin) std::fclose(in);
  if (read_error) {
    std::fprintf(stderr, "mxtls scan: cannot read '%s'\n", a.list.c_str());
    return exit_usage;
  }

  // Resume: leave out what the output file already holds.
  std::size_t already = 0;
  if (a.resume) {
    std::set<std::pair<std::size_t, std::string>> done;
    std::string error;
    if (!read_done(a.out, done, error)) {
      std::fprintf(stderr, "mxtls scan: %s\n", error.c_str());
      return exit_usage;
    }
    auto drop = [&](std::vector<scan_line>& v) {
      std::erase_if(v, [&](const scan_line& l) {
        bool d = done.count({l.line, l.text}) > 0;
        already += d;
        return d;
      });
    };
    drop(list.targets);
    drop(list.invalid);
  }

  std::FILE* out = stdout;
  if (!a.out.empty()) {
    out = std::fopen(a.out.c_str(), a.resume ? "ab" : "wb");
    if (!out) {
      std::fprintf(stderr, "mxtls scan: cannot write '%s': %s\n", a.out.c_str(), std::strerror(errno));
      return exit_usage;
    }
  }
  // A record that cannot be written (disk full, a closed pipe) stops the scan: probing on
  // would only lose more results.
  std::atomic<bool> write_failed{false};
  std::function<void()> stop_all;
  auto write = [&](const std::string& rec) {
    if (write_failed) return;
    if (!write_whole(fileno(out), rec)) {
      write_failed = true;
      std::fprintf(stderr, "mxtls scan: cannot write the records to %s: %s; no new probes\n",
                   a.out.empty() ? "standard output" : a.out.c_str(), std::strerror(errno));
      if (stop_all) stop_all();
    }
  };
  for (const auto& l : list.invalid) {
    std::fprintf(stderr, "mxtls scan: line %zu: %s; skipped\n", l.line, l.error.c_str());
    write(record_of(l, nullptr, "invalid", l.error, exit_usage));
  }

  std::size_t limit = open_file_limit();
  if (a.concurrency + 64 > limit) {
    std::size_t lowered = limit > 128 ? limit - 64 : 1;
    std::fprintf(stderr, "mxtls scan: --concurrency %zu needs more open files than allowed (%zu); using %zu\n", a.concurrency,
                 limit, lowered);
    so.concurrency = lowered;
  }

  // One io_context, probe context and scanner per thread; the feed, the gate and the TLS
  // context are shared.
  unsigned threads = a.threads > 0 ? a.threads : usable_cores();
  threads = static_cast<unsigned>(std::min<std::size_t>({threads, so.concurrency, std::max<std::size_t>(1, list.targets.size())}));
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<probe_context>> ctxs;
  connection_gate gate(a.per_host_limit);
  try {
    auto tls = make_client_tls_context(so.probe.session, true);  // one CA store for every thread
    for (unsigned i = 0; i < threads; ++i) {
      ios.push_back(std::make_unique<asio::io_context>(1));
      ctxs.push_back(std::make_unique<probe_context>(so.probe, tls));
      ctxs.back()->gate = &gate;
      if (list.names) ctxs.back()->resolver();  // a bad --resolver is a usage error before anything starts
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mxtls scan: %s\n", e.what());
    if (out != stdout) std::fclose(out);
    return exit_usage;
  }
  std::mutex write_mutex;  // records are rendered on the scanners' threads at once, written one at a time
  scan_feed feed(list.targets, so.rate, [&](const scan_line& l, const probe_report& r, const std::string& error) {
    std::string rec = error.empty() ? record_of(l, &r, {}, {}, 0) : record_of(l, nullptr, "error", "the probe failed: " + error, 70);
    std::lock_guard lock(write_mutex);
    write(rec);
  });
  std::vector<std::unique_ptr<scanner>> scanners;
  for (unsigned i = 0; i < threads; ++i) {
    scan_options part = so;
    part.concurrency = so.concurrency / threads + (i < so.concurrency % threads ? 1 : 0);
    scanners.push_back(std::make_unique<scanner>(part, *ctxs[i], feed));
  }
  asio::io_context& main_io = *ios[0];
  stop_all = [&] {
    for (unsigned i = 0; i < threads; ++i) asio::post(*ios[i], [&, i] { scanners[i]->stop(); });
  };

  bool tty = a.progress == "always" || (a.progress == "auto" && isatty(STDERR_FILENO));
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  auto progress_line = [&] {
    scan_progress p = feed.progress();
    double secs = elapsed(), rate = secs > 0 ? p.done / secs : 0;
    std::string eta = rate > 0 ? duration_text((p.total - p.done) / rate) : "?";
    std::fprintf(stderr, "\r\033[K%zu/%zu done, %zu open, %.1f/s, ETA %s%s%s", p.done, p.total, p.active, rate, eta.c_str(),
                 p.done ? " | " : "", outcome_counts(p, 0).c_str());
    std::fflush(stderr);
  };

  int signals = 0;
  asio::signal_set sigs(main_io, SIGINT, SIGTERM);
  std::function<void()> wait_signal = [&] {
    sigs.async_wait([&](std::error_code ec, int sig) {
      if (ec) return;
      if (++signals == 1) {
        std::fprintf(stderr, "%smxtls scan: %s: no new probes; waiting for %zu open ones (again to abandon them)\n",
                     tty ? "\r\033[K" : "", sig == SIGINT ? "SIGINT" : "SIGTERM", feed.progress().active);
        stop_all();
        wait_signal();
      } else {
        for (auto& io : ios) io->stop();  // abandon open probes; every finished record is already written
      }
    });
  };
  wait_signal();
  asio::steady_timer ticker(main_io);
  std::function<void()> tick = [&] {
    ticker.expires_after(std::chrono::milliseconds(250));
    ticker.async_wait([&](std::error_code ec) {
      if (ec) return;
      progress_line();
      tick();
    });
  };
  if (tty) tick();

  std::atomic<unsigned> running{threads};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (unsigned i = 0; i < threads; ++i)
    asio::co_spawn(*ios[i], scanners[i]->run(), [&](std::exception_ptr e) {
      if (e) {
        std::lock_guard lock(failure_mutex);
        failure = e;
      }
      if (--running == 0)
        asio::post(main_io, [&] {
          sigs.cancel();
          ticker.cancel();
        });
    });
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&, i] { ios[i]->run(); });
  main_io.run();
  for (auto& t : pool) t.join();
  std::error_code ignored;
  sigs.clear(ignored);  // SIGINT and SIGTERM act as usual again (while the report is written)
  if (failure) std::rethrow_exception(failure);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (out != stdout) std::fclose(out);

  // The summary: every line of the list is accounted for.
  scan_progress p = feed.progress();
  std::size_t not_probed = p.total - p.done;
  double secs = elapsed();
  std::fprintf(stderr, "mxtls scan: %zu lines: %zu probed, %zu invalid, %zu blank or comments", list.lines, p.done,
               list.invalid.size(), list.blank_or_comment);
  if (list.repeats) std::fprintf(stderr, ", %zu repeats dropped (--unique)", list.repeats);
  if (list.other_shards) std::fprintf(stderr, ", %zu for other shards", list.other_shards);
  if (already) std::fprintf(stderr, ", %zu done in the earlier run (--resume)", already);
  if (not_probed) std::fprintf(stderr, ", %zu not probed (stopped)", not_probed);
  std::string counts = outcome_counts(p, list.invalid.size());
  std::fprintf(stderr, "\nmxtls scan: outcomes: %s\n", counts.empty() ? "none (nothing probed)" : counts.c_str());
  if (p.command_injection) std::fprintf(stderr, "mxtls scan: %zu open to STARTTLS command injection\n", p.command_injection);
  std::fprintf(stderr, "mxtls scan: %.1f s, %.1f probes/s, at most %zu at once, %u thread%s, peak memory %ld KiB\n", secs,
               secs > 0 ? p.done / secs : 0.0, p.peak_active, threads, threads == 1 ? "" : "s", peak_rss_kib());

  int code = write_failed ? exit_usage : exit_ok;
  if (!a.html.empty() && !write_html(a)) code = exit_usage;
  bool all_ok = list.invalid.empty() && p.errors == 0 && p.command_injection == 0;
  for (const auto& [o, n] : p.outcomes)
    if (o != probe_outcome::ok && n > 0) all_ok = false;
  if (code == exit_ok) code = signals > 0 ? exit_interrupted : all_ok ? exit_ok : exit_findings;
  if (signals > 1) {
    // Abandoned probes still hold coroutine frames that point into this function's
    // objects; leave without unwinding them. Every finished record is written and flushed.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

}  // namespace

command add_scan(CLI::App& parent) {
  auto args = std::make_shared<scan_args>();
  CLI::App* app = parent.add_subcommand("scan", "Probe many destinations at once; JSONL records and an HTML report");
  app->description(
      "Reads a list of destinations, one per line (a mail domain, [host], host:port,\n"
      "[host]:port or an address; '#' comments and blank lines allowed), and runs the\n"
      "probe on each, many at once in one process. Every line is probed, a repeated one\n"
      "again (--unique drops repeats); a line that is not a target is reported with its line\n"
      "number, written as an \"invalid\" record, and skipped. Each record is the probe's JSON\n"
      "(docs/probe-json.md) with the list's line number and the input added, written and\n"
      "flushed as soon as the probe ends, in the order they end. SIGINT or SIGTERM stops new\n"
      "probes and waits for the open ones; a second one abandons them.");
  app->add_option("LIST", args->list, "the list of destinations, or - for standard input")->required();
  app->add_option("--concurrency", args->concurrency, "Probes at once")->capture_default_str();
  app->add_option("--rate", args->rate, "Probes started per second at most (0: no limit)")->capture_default_str();
  app->add_option("--per-host-limit", args->per_host_limit,
                  "Connections at once to one address (0: no limit); be gentle with shared MX hosts")
      ->capture_default_str();
  app->add_option("--threads", args->threads, "Threads, each with its own event loop (0: one per CPU core this process may use)")
      ->capture_default_str();
  app->add_option("--out", args->out, "Write the records (JSONL) here instead of standard output");
  app->add_option("--html", args->html, "Also write the HTML report here (needs --out)");
  app->add_flag("--resume", args->resume,
                "Skip the lines --out already holds records for (same line number and text); append the rest");
  app->add_option("--shard", args->shard,
                  "K/N: probe only the K-th of N parts of the list (K from 1), e.g. one part per machine");
  app->add_flag("--unique", args->unique, "Probe a destination once even when it is listed again");
  app->add_option("--progress", args->progress, "auto (a progress line when standard error is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  add_probe_flags(app, args->flags);
  app->footer(
      "Examples:\n"
      "  mxtls scan partners.txt --out partners.jsonl --html partners.html\n"
      "  mxtls scan big.txt --concurrency 2000 --rate 500 --out big.jsonl --resume\n"
      "  mxtls scan big.txt --shard $((JOB_COMPLETION_INDEX + 1))/8 --out part.jsonl\n\n"
      "Exit codes: 0 every destination has TLS for every sender; 1 some destination does not\n"
      "(or a line was invalid); 2 usage error or unreadable list; 130 stopped by SIGINT or\n"
      "SIGTERM (every finished record is written; run again with --resume). See docs/mxtls-scan.md.");
  return {app, [args] { return run_scan_cmd(*args); }};
}

}  // namespace mxtls::cli
