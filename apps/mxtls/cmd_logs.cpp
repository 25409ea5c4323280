// `mxtls logs`: files into the log reader (src/logs/), the summary as text or JSON, or the
// destinations that lost TLS as a scan list; with --probe, those destinations probed through
// the scan engine (src/scan/scan_runner.cpp) and each diagnosis attached. Wiring only.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/logs.hpp"
#include "mxtls/logs_html.hpp"
#include "mxtls/probe_report.hpp"
#include "mxtls/scan_runner.hpp"

namespace mxtls::cli {

namespace {

struct logs_args {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string output = "text";
  std::string html;
  bool json = false;
  bool list = false;
  bool probe = false;
  bool in_order = false;
  std::string progress = "auto";
  std::string targets = "address";
  probe_flags flags;
  std::size_t concurrency = 20;
  std::size_t samples = 3;
  std::size_t max_destinations = 100000;
};

// Every destination that lost TLS probed once per scan target, on the scan engine with the
// probe's options; each diagnosis attached to every destination of that target.
int attach_probes(const logs_args& a, logs::log_summary& s, logs::target_form form) {
  scan_runner_options ro;
  if (!make_probe_options(a.flags, ro.scan.probe, "logs")) return exit_usage;
  std::vector<std::string> targets = logs::lost_tls_targets(s, form);
  if (targets.empty()) return exit_ok;
  std::string text;
  for (const auto& t : targets) text += t + "\n";
  std::FILE* mem = fmemopen(text.data(), text.size(), "r");
  if (!mem) return exit_usage;
  scan_list_options lo;
  lo.default_port = a.flags.port;
  scan_list list = read_scan_list(mem, lo);
  std::fclose(mem);
  ro.scan.concurrency = a.concurrency;
  ro.scan.default_port = a.flags.port;
  ro.stop_on_signals = true;
  std::mutex m;
  std::map<std::string, logs::probe_attachment> found;  // by scan target as written
  auto sink = [&](const scan_result& r) {
    logs::probe_attachment p;
    p.target = r.line->written;
    if (r.kind == record_kind::probed && r.report) {
      const probe_report& rep = *r.report;
      p.outcome = to_string(rep.diagnosis.outcome);
      p.verdict = render_verdict(rep);
      p.exit_code = rep.diagnosis.exit_code;
      if (rep.diagnosis.verdict_host < rep.diagnosis.hosts.size() && rep.diagnosis.hosts[rep.diagnosis.verdict_host].answered)
        p.esa = to_string(rep.diagnosis.hosts[rep.diagnosis.verdict_host].esa.result);
      for (const auto& why : rep.diagnosis.reasons) p.reasons.push_back({to_string(why.id), render_reason(why)});
    } else {
      p.error = r.error.empty() ? std::string("not probed") : std::string(r.error);
    }
    std::lock_guard lock(m);
    found[p.target] = std::move(p);
  };
  try {
    scan_runner runner(std::move(list), ro, sink);
    runner.run();
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "mxtls logs: --probe: {}\n", e.what());
    return exit_usage;
  }
  for (auto& d : s.destinations) {
    if (!logs::lost_tls(d)) continue;
    auto it = found.find(logs::scan_target(d.key, form));
    if (it != found.end()) d.probe = it->second;
  }
  return exit_ok;
}

int run_logs(const logs_args& a) {
  std::optional<logs::log_format> forced;
  if (a.format != "auto") forced = logs::parse_log_format(a.format);
  logs::log_limits limits;
  limits.samples_per_destination = a.samples;
  limits.max_destinations = a.max_destinations;
  logs::log_reader reader(limits, forced);
  logs::read_options ro;
  ro.merge = !a.in_order;
  // The progress line: on a terminal, for inputs of 64 MB or more (or standard input).
  bool tty = a.progress == "always" || (a.progress == "auto" && isatty(STDERR_FILENO));
  bool shown = false;
  if (tty)
    ro.progress = [&](std::uint64_t octets, std::uint64_t total, std::uint64_t lines) {
      if (a.progress == "auto" && total != 0 && total < 64'000'000) return;
      if (total)
        fmt::print(stderr, "\r\033[Kmxtls logs: {} of {} MB read ({}%), {} lines", octets / 1'000'000, total / 1'000'000,
                   octets * 100 / total, lines);
      else
        fmt::print(stderr, "\r\033[Kmxtls logs: {} MB read, {} lines", octets / 1'000'000, lines);
      std::fflush(stderr);
      shown = true;
    };
  logs::read_result rr = logs::read_inputs(a.files, reader, ro);
  if (shown) fmt::print(stderr, "\r\033[K");
  if (!rr.error.empty()) {
    fmt::print(stderr, "mxtls logs: {}: {}\n", a.files[rr.failed_input], rr.error);
    return exit_usage;
  }
  logs::log_summary s = reader.finish();
  logs::target_form form = a.targets == "domain" ? logs::target_form::domain : logs::target_form::address;
  if (a.probe && !a.list) {
    int e = attach_probes(a, s, form);
    if (e != exit_ok) return e;
  }
  if (!a.html.empty()) {
    logs::logs_html_options ho;
    std::string files;
    for (const auto& f : a.files) files += (files.empty() ? "" : ", ") + (f == "-" ? std::string("standard input") : f);
    ho.title = "mxtls logs: " + files;
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    ho.generated = when;
    std::ofstream h(a.html, std::ios::binary | std::ios::trunc);
    if (h) h << logs::render_logs_html(s, a.files, ho);
    h.close();
    if (!h) {
      fmt::print(stderr, "mxtls logs: cannot write '{}': {}\n", a.html, std::strerror(errno));
      return exit_usage;
    }
  }
  if (a.list) {
    for (const auto& t : logs::lost_tls_targets(s, form)) fmt::print("{}\n", t);
  } else if (a.json || a.output == "json") {
    fmt::print("{}", logs::render_logs_json(s, a.files));
  } else {
    fmt::print("{}", logs::render_logs_text(s, a.files));
  }
  std::fflush(stdout);
  if (std::ferror(stdout)) {
    fmt::print(stderr, "mxtls logs: cannot write standard output\n");
    return exit_usage;
  }
  if (s.format == logs::log_format::unknown && s.lines > 0) {
    fmt::print(stderr, "mxtls logs: no line is in a format mxtls reads (postfix, esa, exim, sendmail, journal-export, journal-json, exchange); --format forces one\n");
    return exit_usage;
  }
  return logs::logs_exit_code(s);
}

}  // namespace

command add_logs(CLI::App& parent) {
  auto args = std::make_shared<logs_args>();
  CLI::App* app = parent.add_subcommand("logs", "Read an MTA's mail log: the destinations that lose TLS, how often, and why");
  app->description(
      "Reads a sending MTA's mail log (plain, gzip, or - for standard input; several files\n"
      "are merged in time order, a journal beside plain files too), detects each input's\n"
      "format (or takes --format), joins its lines\n"
      "into delivery attempts and classifies each: tls, plaintext, plaintext after a TLS\n"
      "failure, failed for a TLS reason, failed for another reason. Reasons are RFC 8460 result\n"
      "types where one fits. Per destination (recipient domain, MX host, address): counts,\n"
      "first and last time, and the worst attempt's lines with their line numbers; worst\n"
      "first. Says when the log cannot show TLS at all (Postfix smtp_tls_loglevel = 0).\n"
      "Formats: postfix (syslog and maillog_file lines of smtp(8)), esa (Cisco AsyncOS\n"
      "mail_logs delivery lines, file and syslog forms), exim (Exim's main log, file and\n"
      "syslog forms), sendmail (Sendmail's syslog lines: sm-mta,\n"
      "sendmail), journal-export and journal-json (Postfix's and Sendmail's lines as journald\n"
      "keeps them: journalctl -o export, journalctl -o json; times in the local time of TZ),\n"
      "exchange (Microsoft Exchange's SMTP\n"
      "send protocol log and message tracking log, each file by its #Log-Type header).");
  app->add_option("FILE", args->files, "log files (.gz read as gzip), or - for standard input")->required();
  app->add_option("--format", args->format, "auto, postfix, esa, exim, sendmail, journal-export, journal-json or exchange")
      ->check(CLI::IsMember({"auto", "postfix", "esa", "exim", "sendmail", "journal-export", "journal-json", "exchange"}))
      ->capture_default_str();
  app->add_option("--output", args->output, "text or json (docs/mxtls-logs.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_flag("--json", args->json, "The same as --output json");
  app->add_option("--html", args->html,
                  "Also write the HTML report to this file: what to fix first, per destination, with the log's lines");
  app->add_flag("--list", args->list,
                "Print only the destinations that lost TLS, one a line, as a scan list (mxtls logs ... --list | mxtls scan -)");
  app->add_flag("--probe", args->probe,
                "Probe every destination that lost TLS (the scan engine, the probe's options below) and show its diagnosis "
                "beside it");
  app->add_option("--targets", args->targets,
                  "What --list and --probe name for a destination: address (the server the MTA connected to, "
                  "[ADDRESS]:PORT) or domain (the recipient domain, its MX as DNS gives it now)")
      ->check(CLI::IsMember({"address", "domain"}))
      ->capture_default_str();
  app->add_option("--concurrency", args->concurrency, "Probes at once with --probe")->capture_default_str();
  // The probe's own options, as mxtls probe takes them (mxtls-probe(1)); kept out of this
  // help so that it lists what mxtls logs itself does (the footer names them).
  std::size_t own = app->get_options().size();
  add_probe_flags(app, args->flags);
  std::vector<CLI::Option*> all = app->get_options();
  for (std::size_t i = own; i < all.size(); ++i) all[i]->group("");
  app->add_flag("--in-order", args->in_order,
                "Read the files one after the other in the order given, instead of merged in time order");
  app->add_option("--progress", args->progress,
                  "A progress line on standard error: auto (on a terminal, for 64 MB of input or more), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  app->add_option("--samples", args->samples, "Log lines kept as evidence per destination")->capture_default_str();
  app->add_option("--max-destinations", args->max_destinations, "Destinations counted at most (memory bound)")
      ->capture_default_str();
  app->footer(
      "Examples:\n"
      "  mxtls logs /var/log/mail.log\n"
      "  mxtls logs /var/log/mail.log.2.gz /var/log/mail.log.1 /var/log/mail.log --json\n"
      "  journalctl -u postfix -o short | mxtls logs -\n"
      "  journalctl -u postfix -o export | mxtls logs -\n"
      "  mxtls logs /var/log/mail.log.1 <(journalctl -u postfix -o export)\n"
      "  mxtls logs SEND20261201-1.LOG MSGTRK20261201-1.LOG\n"
      "  mxtls logs mail_logs.current --format esa\n"
      "  mxtls logs /var/log/exim4/mainlog\n"
      "  mxtls logs /var/log/mail.log --format sendmail\n"
      "  mxtls logs /var/log/mail.log --html mail-tls.html\n"
      "  mxtls logs /var/log/mail.log --list | mxtls scan -\n"
      "  mxtls logs /var/log/mail.log --probe --policy required\n\n"
      "With --probe, the probe's options apply as in mxtls probe (mxtls-probe(1)): -p/--port,\n"
      "--ehlo, --timeout, --policy, --ca, --sni, --name, --as, --check, --skip,\n"
      "--no-injection-test, --resolver, --rcpt, --all-hosts and the DNSSEC options.\n\n"
      "Exit codes: 0 every delivery attempt used TLS (or failed for a reason that is not TLS's);\n"
      "1 some destination lost TLS (plaintext, plaintext after a TLS failure, or a TLS failure);\n"
      "2 usage error, unreadable input or no line in a known format; 3 no delivery attempt in\n"
      "the input.");
  return {app, [args] { return run_logs(*args); }};
}

}  // namespace mxtls::cli
