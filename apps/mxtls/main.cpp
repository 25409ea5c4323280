#include <csignal>
#include <cstdio>
#include <exception>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
  // A reader that went away (`mxtls scan ... | head`) is a write error the command reports
  // and acts on (scan stops probing, says so and exits 2), not a signal that ends the
  // process without its summary. Sockets are written with MSG_NOSIGNAL regardless.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"mxtls: tells why TLS between two mail servers fails, and proves it.", "mxtls"};
  app.footer(
      "Run 'mxtls COMMAND --help' for a command's options and examples.\n"
      "Exit codes: 0 fine, 1 a problem found, 2 usage error or unusable input; probe adds 3\n"
      "(unreachable), scan adds 130 (stopped by a signal) — docs/exit-codes.md.\n"
      "Documentation: docs/ in the source tree (mxtls-lint.md, mxtls-serve.md, mxtls-probe.md,\n"
      "mxtls-scan.md, findings.md, lint-json.md, probe-json.md, exit-codes.md).");
  app.set_version_flag("--version", "mxtls 0.1.0");
  app.require_subcommand(1);

  std::vector<mxtls::cli::command> commands;
  commands.push_back(mxtls::cli::add_lint(app));
  commands.push_back(mxtls::cli::add_serve(app));
  commands.push_back(mxtls::cli::add_probe(app));
  commands.push_back(mxtls::cli::add_scan(app));
  commands.push_back(mxtls::cli::add_demo(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : mxtls::cli::exit_usage;
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
