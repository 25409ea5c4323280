#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "commands.hpp"
#include "meta.hpp"

namespace {

// The first line of each command in `mxtls --help` and `mxtls help` (the commands'
// own descriptions are paragraphs, shown by `mxtls COMMAND --help`).
struct summary {
  const char* name;
  const char* line;
};
constexpr summary summaries[] = {
    {"lint", "Check an EHLO reply or a pasted SMTP transcript against RFC 5321"},
    {"serve", "Run a mock SMTP server that behaves like a broken (or correct) one"},
    {"probe", "Diagnose one destination's STARTTLS as sending MTAs meet it"},
    {"scan", "Probe a list of destinations, many at once, into JSONL and an HTML report"},
    {"tlsrpt", "Summarise TLS-RPT reports: who failed to deliver over TLS, to which MX, why"},
    {"logs", "Read an MTA's mail log: the destinations that lose TLS, how often, and why"},
    {"demo", "Serve the seed scenario on loopback and probe it, in one command"},
    {"help", "Show the help of mxtls or of one command"},
    {"version", "Show the version, commit and library versions"},
};

std::string top_help(const CLI::App& app) {
  std::string s =
      "mxtls: tells why TLS between two mail servers fails, and proves it.\n"
      "Usage: mxtls COMMAND [OPTIONS]\n       mxtls help [COMMAND]\n       mxtls --version\n\nCommands:\n";
  for (const CLI::App* c : mxtls::cli::visible_commands(app)) {
    const char* line = "";
    for (const auto& sm : summaries)
      if (c->get_name() == sm.name) line = sm.line;
    s += fmt::format("  {:<10}{}\n", c->get_name(), line);
  }
  s += "\nOptions:\n  -h,--help   Print this help message and exit\n  --version   Print the version, commit and library "
       "versions and exit\n\n";
  s += app.get_footer() + "\n";
  return s;
}

// "mxtls COMMAND: what went wrong" and the hint, for every usage error (docs/exit-codes.md).
int usage_error(const std::string& command, const std::string& message) {
  std::string where = command.empty() ? "mxtls" : "mxtls " + command;
  std::string hint = command.empty() ? "run 'mxtls --help' for the list of commands"
                                     : "run 'mxtls " + command + " --help' for its options";
  std::fprintf(stderr, "%s: %s\n%s\n", where.c_str(), message.c_str(), hint.c_str());
  return mxtls::cli::exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  // A reader that went away (`mxtls scan ... | head`) is a write error the command reports
  // and acts on (scan stops probing, says so and exits 2), not a signal that ends the
  // process without its summary. Sockets are written with MSG_NOSIGNAL regardless.
  std::signal(SIGPIPE, SIG_IGN);
  // OpenSSL's atexit handler frees every table it built (providers, algorithm caches,
  // error strings) one by one as the process ends, which the kernel does at once: a
  // measurable share of a one-domain probe. OPENSSL_INIT_NO_ATEXIT is OpenSSL's switch for it.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  CLI::App app{"mxtls: tells why TLS between two mail servers fails, and proves it.", "mxtls"};
  app.footer(
      "Run 'mxtls COMMAND --help' or 'mxtls help COMMAND' for a command's options and examples;\n"
      "man mxtls, man mxtls-COMMAND for the manual pages.\n"
      "Exit codes: 0 fine, 1 a problem found, 2 usage error or unusable input; probe adds 3\n"
      "(unreachable), scan adds 130 (stopped by a signal) — docs/exit-codes.md.");
  app.set_version_flag("--version", [] { return mxtls::cli::version_text(); }, "Print the version and exit");
  app.require_subcommand(1);

  // A command named first gets only its own options built: every command's options, their
  // help texts and checks are a millisecond of CLI11 work, paid at every start otherwise.
  // The top help, `mxtls help`, the completions and an unknown word need them all.
  const std::pair<std::string_view, mxtls::cli::command (*)(CLI::App&)> adders[] = {
      {"lint", mxtls::cli::add_lint},     {"serve", mxtls::cli::add_serve}, {"probe", mxtls::cli::add_probe},
      {"scan", mxtls::cli::add_scan},     {"tlsrpt", mxtls::cli::add_tlsrpt}, {"logs", mxtls::cli::add_logs},
      {"tlsa", mxtls::cli::add_tlsa},     {"demo", mxtls::cli::add_demo}};
  const std::string_view first = argc > 1 ? argv[1] : "";
  bool one = false;
  for (const auto& a : adders) one = one || a.first == first;
  std::vector<mxtls::cli::command> commands;
  for (const auto& [name, add] : adders)
    if (!one || name == first) commands.push_back(add(app));

  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "Show the help of mxtls or of one command");
  help->add_option("COMMAND", help_topic, "The command to show the help of");
  CLI::App* version = app.add_subcommand("version", "Show the version, commit and library versions");
  CLI::App* complete = app.add_subcommand("__complete", "Word lists for the shell completions");
  complete->group("");  // hidden
  complete->prefix_command();  // every word after it is its own, options included
  app.formatter_fn([](const CLI::App* a, std::string, CLI::AppFormatMode) { return top_help(*a); });

  // The command word comes first: an unknown one is answered before the parser sees it, with
  // the nearest command, instead of CLI11's "A subcommand is required".
  std::string word = argc > 1 ? argv[1] : "";
  if (!word.empty() && word[0] != '-') {
    bool known = false;
    for (const CLI::App* c : app.get_subcommands([](const CLI::App*) { return true; }))
      known = known || c->get_name() == word;
    if (!known) {
      std::string near = mxtls::cli::nearest_command(app, word);
      return usage_error("", fmt::format("'{}' is not a command{}", word,
                                         near.empty() ? "" : fmt::format("; did you mean '{}'?", near)));
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string command = word.empty() || word[0] == '-' ? "" : word;
    if (e.get_exit_code() == 0) return app.exit(e);
    return usage_error(command, e.what());
  }

  if (version->parsed()) {
    std::printf("%s\n", mxtls::cli::version_text().c_str());
    return mxtls::cli::exit_ok;
  }
  if (complete->parsed()) return mxtls::cli::complete_listing(app, complete->remaining());
  if (help->parsed()) {
    if (help_topic.empty() || help_topic == "help") {
      std::fputs(top_help(app).c_str(), stdout);
      return mxtls::cli::exit_ok;
    }
    for (const CLI::App* c : mxtls::cli::visible_commands(app))
      if (c->get_name() == help_topic) {
        std::fputs(c->help("mxtls").c_str(), stdout);
        return mxtls::cli::exit_ok;
      }
    std::string near = mxtls::cli::nearest_command(app, help_topic);
    return usage_error("help", fmt::format("'{}' is not a command{}", help_topic,
                                           near.empty() ? "" : fmt::format("; did you mean '{}'?", near)));
  }
  try {
    for (auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mxtls: internal error: %s\n", e.what());
    return 70;
  }
  return mxtls::cli::exit_usage;
}
