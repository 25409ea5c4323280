#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/lint.hpp"
#include "mxtls/mta_sts_report.hpp"
#include "mxtls/report.hpp"

namespace mxtls::cli {

namespace {

struct lint_args {
  std::string file = "-";
  std::string format = "text";
  std::string color = "auto";
  bool raw = false;
  bool json = false;   // --json: the same as --format json
  bool quiet = false;  // -q: no output, the exit code only
  bool mta_sts = false;  // --mta-sts: the input is an MTA-STS policy file (RFC 8461 §3.2)
  std::size_t max_input = 1024 * 1024;
  std::size_t max_line = parser_limits{}.max_line_octets;
  std::size_t max_lines = parser_limits{}.max_lines;
};

struct input_data {
  std::string bytes;
  bool truncated = false;
};

// Reads at most `limit` octets (plus one, to know whether there was more).
std::optional<input_data> read_input(const std::string& name, std::size_t limit, std::string& error) {
  FILE* f = name == "-" ? stdin : std::fopen(name.c_str(), "rb");
  if (!f) {
    error = fmt::format("cannot open '{}': {}", name, std::strerror(errno));
    return std::nullopt;
  }
  input_data in;
  in.bytes.resize(limit + 1);
  std::size_t got = 0;
  while (got < in.bytes.size()) {
    std::size_t n = std::fread(in.bytes.data() + got, 1, in.bytes.size() - got, f);
    if (n == 0) break;
    got += n;
  }
  bool failed = std::ferror(f);
  int err = errno;
  if (f != stdin) std::fclose(f);
  if (failed) {
    error = fmt::format("cannot read '{}': {}", name, std::strerror(err));
    return std::nullopt;
  }
  in.truncated = got > limit;
  in.bytes.resize(std::min(got, limit));
  return in;
}

// --mta-sts: the policy reader's findings; exit 1 when the policy is invalid (an error finding).
int run_lint_mta_sts(const lint_args& a, const input_data& in) {
  std::string name = a.file == "-" ? "<stdin>" : a.file;
  policy_parser parser;
  parser.feed(in.bytes);
  if (in.truncated) parser.feed("\n");  // past --max-input: the parser's own size limit reports it
  sts_policy p = parser.finish();
  if (a.quiet) return p.valid ? exit_ok : exit_findings;
  std::string s;
  if (a.format == "json" || a.json) {
    s = render_policy_lint_json(p, name) + "\n";
  } else {
    s = render_policy_lint_text(p, name, color_wanted(a.color, STDOUT_FILENO));
  }
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
  return p.valid ? exit_ok : exit_findings;
}

int run_lint(const lint_args& a) {
  std::string error;
  auto in = read_input(a.file, a.max_input, error);
  if (!in) {
    std::fprintf(stderr, "mxtls lint: %s\n", error.c_str());
    return exit_usage;
  }
  if (a.mta_sts) return run_lint_mta_sts(a, *in);
  lint_options opt;
  opt.raw = a.raw;
  opt.limits.max_line_octets = a.max_line;
  opt.limits.max_lines = a.max_lines;
  opt.truncated_at = in->truncated ? a.max_input : 0;
  lint_result r = lint(in->bytes, opt);
  std::string name = a.file == "-" ? "<stdin>" : a.file;
  if (!r.reply_found) {
    std::fprintf(stderr, "mxtls lint: %s: %s\n", name.c_str(), r.no_reply_reason.c_str());
    return exit_usage;
  }
  if (a.quiet) return r.errors > 0 ? exit_findings : exit_ok;
  if (a.format == "json" || a.json) {
    std::string s = render_lint_json(r, name, a.raw);
    std::fprintf(stdout, "%s\n", s.c_str());
  } else {
    std::string s = render_lint_text(r, {color_wanted(a.color, STDOUT_FILENO), name});
    std::fwrite(s.data(), 1, s.size(), stdout);
  }
  std::fflush(stdout);
  return r.errors > 0 ? exit_findings : exit_ok;
}

}  // namespace

command add_lint(CLI::App& parent) {
  auto args = std::make_shared<lint_args>();
  CLI::App* app = parent.add_subcommand("lint", "Check an EHLO reply or a pasted SMTP transcript against RFC 5321");
  app->description(
      "Check an EHLO reply, or a whole SMTP conversation as people paste it, against RFC 5321 /\n"
      "RFC 1869. Every deviation is reported with its input line and column, the RFC section,\n"
      "and the fix for the server's administrator.\n\n"
      "Pasted input is read as the tool that printed it wrote it: swaks, posttls-finger,\n"
      "openssl s_client, curl -v, msmtp --debug, Postfix and Exim logs, Exchange protocol logs,\n"
      "Outlook and Thunderbird logs, telnet, tshark, Cisco ESA telnet, mail quoted with '> ';\n"
      "per-line prefixes (syslog headers, timestamps, line numbers, CSV columns) are stripped,\n"
      "and pasting damage (UTF-16, no-break spaces, zero-width characters, CR-only lines) is\n"
      "repaired and noted, never blamed on the server. The first EHLO reply before TLS is\n"
      "linted (the output says which and why); the answer to STARTTLS and the handshake shape\n"
      "what each sender does. A paste without the plaintext reply (openssl s_client) says so.\n"
      "--raw judges the exact octets the server sent. docs/mxtls-lint.md.\n\n"
      "--mta-sts reads the input as an MTA-STS policy file (RFC 8461 §3.2, what\n"
      "https://mta-sts.<domain>/.well-known/mta-sts.txt serves) and reports each finding with its\n"
      "line and column: version, mode, mx patterns, max_age range, line endings, unknown or\n"
      "repeated keys. docs/mta-sts.md.");
  app->add_option("FILE", args->file, "File to read; '-' or nothing reads standard input")->capture_default_str();
  app->add_option("--format", args->format, "Output: text for people, json for scripts (docs/lint-json.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_flag("--json", args->json, "The same as --format json");
  app->add_flag("--raw", args->raw,
                "The input is the exact octets the server sent (line endings and trailing white "
                "space are judged); optionally starting with the 220 banner");
  add_color_option(app, args->color, "text output");
  app->add_flag("--mta-sts", args->mta_sts,
                "The input is an MTA-STS policy file (RFC 8461), not SMTP (docs/mta-sts.md)");
  app->add_flag("-q,--quiet", args->quiet, "Print nothing: the exit code tells whether there are error findings");
  app->add_option("--max-input", args->max_input, "Octets of input read at most; the rest is reported, not read")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  app->add_option("--max-line", args->max_line, "Octets of one reply line examined at most")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20))
      ->capture_default_str();
  app->add_option("--max-lines", args->max_lines, "Lines of the EHLO reply examined at most")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  app->footer(
      "Examples:\n"
      "  mxtls lint examples/seed-transcript.txt\n"
      "  printf '250-mail.example.com\\r\\n250 STARTTLS\\r\\n' | mxtls lint --raw -\n"
      "  mxtls lint --json transcript.txt | jq '.findings[].id'\n"
      "  mxtls lint -q transcript.txt && echo 'no error findings'\n"
      "  curl -s https://mta-sts.example.com/.well-known/mta-sts.txt | mxtls lint --mta-sts -\n\n"
      "Exit codes: 0 no error findings, 1 error findings, 2 usage error, unreadable input\n"
      "or no SMTP reply in the input. With --mta-sts: 0 the policy is valid, 1 it is not.");
  return {app, [args] { return run_lint(*args); }};
}

}  // namespace mxtls::cli
