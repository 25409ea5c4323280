#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/tlsrpt_report.hpp"

namespace mxtls::cli {

namespace {

// Exit codes of mxtls tlsrpt (docs/exit-codes.md).
constexpr int exit_tlsrpt_input = 4;  // some input unreadable or an invalid report

struct tlsrpt_args {
  std::vector<std::string> files;
  std::string format = "text";
  std::string html;
  bool json = false;
  bool quiet = false;
  std::string color = "auto";
  std::size_t max_input = tlsrpt_limits{}.max_input_octets;
};

// Reads a file whole, at most `limit` + 1 octets (to know that it was longer).
bool read_all(const std::string& name, std::size_t limit, std::string& out, std::string& error) {
  FILE* f = name == "-" ? stdin : std::fopen(name.c_str(), "rb");
  if (!f) {
    error = fmt::format("cannot open '{}': {}", name, std::strerror(errno));
    return false;
  }
  char buf[65536];
  bool failed = false;
  while (out.size() <= limit) {
    std::size_t n = std::fread(buf, 1, sizeof buf, f);
    if (n == 0) {
      failed = std::ferror(f);
      break;
    }
    out.append(buf, n);
  }
  int err = errno;
  if (f != stdin) std::fclose(f);
  if (failed) {
    error = fmt::format("cannot read '{}': {}", name, std::strerror(err));
    return false;
  }
  return true;
}

int run_tlsrpt(const tlsrpt_args& a) {
  tlsrpt_limits limits;
  limits.max_input_octets = a.max_input;
  std::vector<tlsrpt_input> inputs;
  std::vector<std::string> files = a.files.empty() ? std::vector<std::string>{"-"} : a.files;
  std::vector<std::string> files_named;
  for (const auto& f : files) files_named.push_back(f == "-" ? std::string("standard input") : f);
  for (const auto& name : files) {
    std::string bytes, error;
    if (!read_all(name, a.max_input, bytes, error)) {
      std::fprintf(stderr, "mxtls tlsrpt: %s\n", error.c_str());
      return exit_usage;
    }
    inputs.push_back(read_tlsrpt(bytes, name == "-" ? "<stdin>" : name, limits));
  }
  tlsrpt_summary s = summarise(inputs);
  int code = (s.unreadable + s.invalid_reports) > 0 ? exit_tlsrpt_input : s.failed > 0 ? exit_findings : exit_ok;
  tlsrpt_html_options ho;
  if (a.format == "html" || !a.html.empty()) {
    std::string files;
    for (const auto& f : files_named) files += (files.empty() ? "" : ", ") + f;
    ho.title = "mxtls tlsrpt: " + files;
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    ho.generated = when;
  }
  if (!a.html.empty()) {
    std::ofstream h(a.html, std::ios::binary | std::ios::trunc);
    if (h) h << render_tlsrpt_html(s, inputs, ho);
    h.close();
    if (!h) {
      std::fprintf(stderr, "mxtls tlsrpt: cannot write '%s': %s\n", a.html.c_str(), std::strerror(errno));
      return exit_usage;
    }
  }
  if (a.quiet) return code;
  std::string out = a.json || a.format == "json" ? render_tlsrpt_json(s, inputs) + "\n"
                    : a.format == "html"         ? render_tlsrpt_html(s, inputs, ho)
                                                 : render_tlsrpt_text(s, inputs, color_wanted(a.color, STDOUT_FILENO));
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return code;
}

}  // namespace

command add_tlsrpt(CLI::App& parent) {
  auto args = std::make_shared<tlsrpt_args>();
  CLI::App* app = parent.add_subcommand("tlsrpt", "Summarise TLS-RPT reports: who failed to deliver over TLS, to which MX, why");
  app->description(
      "Read TLS-RPT aggregate reports (RFC 8460), as the JSON file, the .json.gz file, or the mail\n"
      "that carried them (.eml with application/tlsrpt+gzip or application/tlsrpt+json parts),\n"
      "check each against the report schema of RFC 8460 §4, and summarise them per policy, MX host\n"
      "and result type, worst first: which organisations failed to deliver over TLS, how often,\n"
      "why, over which period. Spellings real reporters use are accepted and noted (mx-host and\n"
      "mx-host-pattern, date-times without a zone, counts as strings). A malformed report or an\n"
      "input that holds none is counted and listed, never dropped. docs/tlsrpt-json.md.");
  app->add_option("FILE", args->files, "Report files (JSON, .json.gz, .eml); '-' or nothing reads standard input");
  app->add_option("--format", args->format,
                  "Output: text for people, json for scripts (docs/tlsrpt-json.md), html for a browser (one self-contained page)")
      ->check(CLI::IsMember({"text", "json", "html"}))
      ->capture_default_str();
  app->add_flag("--json", args->json, "The same as --format json");
  app->add_option("--html", args->html, "Also write the HTML report to this file (whatever --format prints)");
  add_color_option(app, args->color, "text output");
  app->add_flag("-q,--quiet", args->quiet, "Print nothing: the exit code tells whether sessions failed");
  app->add_option("--max-input", args->max_input, "Octets of one file read at most; a longer file is unreadable")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))
      ->capture_default_str();
  app->footer(
      "Examples:\n"
      "  mxtls tlsrpt reports/*.json.gz\n"
      "  mxtls tlsrpt --json 'Report Domain example.com.eml' | jq '.policies[0].mx_hosts'\n"
      "  mxtls tlsrpt reports/*.json.gz --format html > tlsrpt.html\n"
      "  cat report.json | mxtls tlsrpt -\n\n"
      "Exit codes: 0 every input read and no session failed, 1 some sessions failed, 2 usage\n"
      "error or a file cannot be read, 4 an input holds no readable report or a report is\n"
      "invalid (the summary lists it; its failures are counted all the same).");
  return {app, [args] { return run_tlsrpt(*args); }};
}

}  // namespace mxtls::cli
