// `mxtls logs`: files into the log reader (src/logs/), the summary as text or JSON, or the
// destinations that lost TLS as a scan list. Wiring only.
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/logs.hpp"

namespace mxtls::cli {

namespace {

struct logs_args {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string output = "text";
  bool json = false;
  bool list = false;
  std::size_t samples = 3;
  std::size_t max_destinations = 100000;
};

int run_logs(const logs_args& a) {
  std::optional<logs::log_format> forced;
  if (a.format != "auto") forced = logs::parse_log_format(a.format);
  logs::log_limits limits;
  limits.samples_per_destination = a.samples;
  limits.max_destinations = a.max_destinations;
  logs::log_reader reader(limits, forced);
  for (std::size_t i = 0; i < a.files.size(); ++i) {
    std::string err = logs::read_file(a.files[i], reader, i);
    if (!err.empty()) {
      fmt::print(stderr, "mxtls logs: {}: {}\n", a.files[i], err);
      return exit_usage;
    }
  }
  logs::log_summary s = reader.finish();
  if (a.list) {
    for (const auto& t : logs::lost_tls_targets(s)) fmt::print("{}\n", t);
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
    fmt::print(stderr, "mxtls logs: no line is in a format mxtls reads (postfix, esa); --format forces one\n");
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
      "are read in the order given), detects its format (or takes --format), joins its lines\n"
      "into delivery attempts and classifies each: tls, plaintext, plaintext after a TLS\n"
      "failure, failed for a TLS reason, failed for another reason. Reasons are RFC 8460 result\n"
      "types where one fits. Per destination (recipient domain, MX host, address): counts,\n"
      "first and last time, and the worst attempt's lines with their line numbers; worst\n"
      "first. Says when the log cannot show TLS at all (Postfix smtp_tls_loglevel = 0).\n"
      "Formats: postfix (syslog and maillog_file lines of smtp(8)), esa (Cisco AsyncOS\n"
      "mail_logs delivery lines, file and syslog forms).");
  app->add_option("FILE", args->files, "log files (.gz read as gzip), or - for standard input")->required();
  app->add_option("--format", args->format, "auto, postfix or esa")
      ->check(CLI::IsMember({"auto", "postfix", "esa"}))
      ->capture_default_str();
  app->add_option("--output", args->output, "text or json (docs/mxtls-logs.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_flag("--json", args->json, "The same as --output json");
  app->add_flag("--list", args->list,
                "Print only the destinations that lost TLS, one a line, as a scan list (mxtls logs ... --list | mxtls scan -)");
  app->add_option("--samples", args->samples, "Log lines kept as evidence per destination")->capture_default_str();
  app->add_option("--max-destinations", args->max_destinations, "Destinations counted at most (memory bound)")
      ->capture_default_str();
  app->footer(
      "Examples:\n"
      "  mxtls logs /var/log/mail.log\n"
      "  mxtls logs /var/log/mail.log.2.gz /var/log/mail.log.1 /var/log/mail.log --json\n"
      "  journalctl -u postfix -o short | mxtls logs -\n"
      "  mxtls logs mail_logs.current --format esa\n"
      "  mxtls logs /var/log/mail.log --list | mxtls scan -\n\n"
      "Exit codes: 0 every delivery attempt used TLS (or failed for a reason that is not TLS's);\n"
      "1 some destination lost TLS (plaintext, plaintext after a TLS failure, or a TLS failure);\n"
      "2 usage error, unreadable input or no line in a known format; 3 no delivery attempt in\n"
      "the input.");
  return {app, [args] { return run_logs(*args); }};
}

}  // namespace mxtls::cli
