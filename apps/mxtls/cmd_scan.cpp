// `mxtls scan`: flags into scan_runner_options, records to a file or standard output, the
// progress line and the summary on standard error. The engine is src/scan/ (scan_runner).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/mta_sts_check.hpp"
#include "mxtls/probe_report.hpp"
#include "mxtls/scan.hpp"
#include "mxtls/scan_html.hpp"
#include "mxtls/scan_records.hpp"
#include "mxtls/scan_runner.hpp"

namespace mxtls::cli {

namespace {

struct scan_args {
  std::string list;
  probe_flags flags;
  std::size_t concurrency = 100;
  double rate = 0;
  std::size_t per_host_limit = 8;
  unsigned threads = 0;
  std::string out, html, shard;
  bool resume = false, unique = false, force = false;
  std::string progress = "auto";
  std::string color = "auto";
  bool quiet = false;  // -q: no progress line, no summary, no notes on skipped lines; errors still shown
};

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

std::string duration_text(double secs) {
  if (!std::isfinite(secs) || secs < 0) return "?";
  auto s = static_cast<long long>(secs + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string outcome_counts(const std::map<probe_outcome, std::size_t>& outcomes, std::size_t invalid, std::size_t errors,
                           bool color = false) {
  std::string s;
  auto add = [&](std::string_view word, std::size_t n, std::string_view sgr) {
    s += fmt::format("{}{}{} {}{}", s.empty() ? "" : ", ", color ? sgr : "", word, n, color ? "\033[0m" : "");
  };
  for (auto o : all_probe_outcomes) {
    auto it = outcomes.find(o);
    if (it != outcomes.end()) add(record_outcome_text(record_kind::probed, o), it->second, outcome_color(o));
  }
  if (invalid) add(record_outcome_text(record_kind::invalid, {}), invalid, "\033[1;31m");
  if (errors) add(record_outcome_text(record_kind::error, {}), errors, "\033[1;31m");
  return s;
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
  if (!a.quiet) std::fprintf(stderr, "mxtls scan: report written to %s\n", a.html.c_str());
  return true;
}

void print_summary(const scan_summary& s, bool color) {
  std::fprintf(stderr, "mxtls scan: %zu lines: %zu probed, %zu invalid, %zu blank or comments", s.lines, s.probed, s.invalid,
               s.blank_or_comment);
  if (s.repeats) std::fprintf(stderr, ", %zu repeats dropped (--unique)", s.repeats);
  if (s.other_shards) std::fprintf(stderr, ", %zu for other shards", s.other_shards);
  if (s.already) std::fprintf(stderr, ", %zu done in the earlier run (--resume)", s.already);
  if (s.not_probed) std::fprintf(stderr, ", %zu not probed (stopped)", s.not_probed);
  std::string counts = outcome_counts(s.outcomes, s.invalid, s.errors, color);
  std::fprintf(stderr, "\nmxtls scan: outcomes: %s\n", counts.empty() ? "none (nothing probed)" : counts.c_str());
  if (s.command_injection) std::fprintf(stderr, "mxtls scan: %zu open to STARTTLS command injection\n", s.command_injection);
  std::fprintf(stderr, "mxtls scan: %.1f s, %.1f probes/s, at most %zu at once, %u thread%s, peak memory %ld KiB\n", s.seconds,
               s.seconds > 0 ? s.probed / s.seconds : 0.0, s.peak_active, s.threads, s.threads == 1 ? "" : "s",
               s.peak_rss_kib);
}

int run_scan_cmd(scan_args& a) {
  scan_runner_options ro;
  if (!make_probe_options(a.flags, ro.scan.probe, "scan")) return exit_usage;
  // Check "mta-sts": one policy cache for the whole run, all threads (by domain and TXT id, as a
  // sender caches a policy, RFC 8461 §5.1), so a domain listed again is not fetched again.
  ro.scan.probe.sts_cache = std::make_shared<mta_sts_cache>();
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
  if (a.resume && a.force) {
    std::fprintf(stderr, "mxtls scan: --resume appends to --out and --force overwrites it: give one of them\n");
    return exit_usage;
  }
  if (!a.out.empty() && !a.resume && !a.force) {
    // An earlier scan's records are not overwritten by a forgotten --resume.
    struct stat st{};
    if (stat(a.out.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      std::fprintf(stderr,
                   "mxtls scan: --out '%s' already holds %lld octets (an earlier scan?)\n"
                   "add --resume to probe only the lines it has no record for, or --force to overwrite it\n",
                   a.out.c_str(), static_cast<long long>(st.st_size));
      return exit_usage;
    }
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
  ro.scan.concurrency = a.concurrency;
  ro.scan.rate = a.rate;
  ro.scan.default_port = a.flags.port;
  ro.per_host_limit = a.per_host_limit;
  ro.threads = a.threads;
  ro.stop_on_signals = true;
  bool tty = !a.quiet && (a.progress == "always" || (a.progress == "auto" && isatty(STDERR_FILENO)));
  if (tty) ro.progress_interval = std::chrono::milliseconds(250);

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

  // A check asked for that does not apply to the list's address targets is said once.
  if (!a.quiet) {
    std::size_t addresses = 0;
    for (const auto& t : list.targets)
      if (parse_probe_target(t.text, a.flags.port).literal) ++addresses;
    note_checks_not_for_addresses(a.flags, "scan", addresses, list.targets.size());
  }

  // Resume: leave out what the output file already holds.
  std::size_t already = 0;
  if (a.resume) {
    resume_result r = resume_scan(a.out, list);
    if (!r.ok) {
      std::fprintf(stderr, "mxtls scan: %s\n", r.error.c_str());
      return exit_usage;
    }
    already = r.already;
  }

  int out_fd = STDOUT_FILENO;
  if (!a.out.empty()) {
    out_fd = ::open(a.out.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (a.resume ? O_APPEND : O_TRUNC), 0666);
    if (out_fd < 0) {
      std::fprintf(stderr, "mxtls scan: cannot write '%s': %s\n", a.out.c_str(), std::strerror(errno));
      return exit_usage;
    }
  }
  struct fd_closer {
    int fd;
    ~fd_closer() {
      if (fd != STDOUT_FILENO) ::close(fd);
    }
  } closer{out_fd};

  // A record that cannot be written (disk full, a closed pipe) stops the scan: probing on
  // would only lose more results.
  std::atomic<bool> write_failed{false};
  std::mutex write_mutex;  // records are rendered on the scanners' threads at once, written one at a time
  scan_runner* runner_ptr = nullptr;
  auto sink = [&](const scan_result& r) {
    if (r.kind == record_kind::invalid && !a.quiet)
      std::fprintf(stderr, "mxtls scan: line %zu: %.*s; skipped\n", r.line->line, static_cast<int>(r.error.size()),
                   r.error.data());
    std::string rec = scan_record(r);
    std::lock_guard lock(write_mutex);
    if (write_failed) return;
    if (!write_whole(out_fd, rec)) {
      write_failed = true;
      std::fprintf(stderr, "mxtls scan: cannot write the records to %s: %s; no new probes\n",
                   a.out.empty() ? "standard output" : a.out.c_str(), std::strerror(errno));
      if (runner_ptr) runner_ptr->request_stop();
    }
  };
  std::optional<scan_runner> runner;
  std::size_t asked = a.concurrency;
  try {
    runner.emplace(std::move(list), ro, sink);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mxtls scan: %s\n", e.what());
    return exit_usage;
  }
  runner_ptr = &*runner;
  if (write_failed) runner->request_stop();
  if (runner->concurrency() < asked && !a.quiet)
    std::fprintf(stderr, "mxtls scan: --concurrency %zu needs more open files than allowed (%zu); using %zu\n", asked,
                 runner->open_file_limit(), runner->concurrency());
  runner->on_signal([&](int sig, bool abandoning, std::size_t open) {
    if (abandoning || a.quiet) return;  // every finished record is already written
    std::fprintf(stderr, "%smxtls scan: %s: no new probes; waiting for %zu open ones (again to abandon them)\n",
                 tty ? "\r\033[K" : "", sig == SIGINT ? "SIGINT" : "SIGTERM", open);
  });
  runner->on_progress([](const scan_progress& p, std::chrono::steady_clock::duration elapsed) {
    double secs = std::chrono::duration<double>(elapsed).count(), rate = secs > 0 ? p.done / secs : 0;
    std::string eta = rate > 0 ? duration_text((p.total - p.done) / rate) : "?";
    std::fprintf(stderr, "\r\033[K%zu/%zu done, %zu open, %.1f/s, ETA %s%s%s", p.done, p.total, p.active, rate, eta.c_str(),
                 p.done ? " | " : "", outcome_counts(p.outcomes, 0, p.errors).c_str());
    std::fflush(stderr);
  });

  scan_summary summary = runner->run();
  summary.already = already;
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!a.quiet) print_summary(summary, color_wanted(a.color, STDERR_FILENO));

  bool output_failed = write_failed;
  if (!a.html.empty() && !write_html(a)) output_failed = true;
  return scan_exit_code(summary, output_failed);
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
  app->add_flag("--force", args->force, "Overwrite --out when it already holds records (without it, or --resume, a non-empty --out is refused)");
  app->add_flag("--unique", args->unique, "Probe a destination once even when it is listed again");
  app->add_option("--progress", args->progress, "auto (a progress line when standard error is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  add_color_option(app, args->color, "the summary on standard error");
  app->add_flag("-q,--quiet", args->quiet,
                "No progress line, no summary, no notes on skipped lines (errors still go to standard error); the records and the exit code tell the rest");
  add_probe_flags(app, args->flags);
  app->footer(
      "Examples:\n"
      "  mxtls scan partners.txt --out partners.jsonl --html partners.html\n"
      "  mxtls scan big.txt --concurrency 2000 --rate 500 --out big.jsonl --resume\n"
      "  mxtls scan big.txt --shard $((JOB_COMPLETION_INDEX + 1))/8 --out part.jsonl\n\n"
      "Exit codes: 0 every record's exit_code is 0 (as mxtls probe's for that destination); 1 some\n"
      "record's is not (or a line was invalid); 2 usage error or unreadable list; 130 stopped by SIGINT or\n"
      "SIGTERM (every finished record is written; run again with --resume). See docs/mxtls-scan.md.");
  return {app, [args] { return run_scan_cmd(*args); }};
}

}  // namespace mxtls::cli
