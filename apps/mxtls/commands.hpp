// Subcommands of the mxtls program: argument parsing and wiring only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <unistd.h>

#include <cstdlib>

#include <CLI/CLI.hpp>

#include "mxtls/probe.hpp"
#include "mxtls/scenario.hpp"

namespace mxtls::cli {

// Exit codes shared by every subcommand (docs/exit-codes.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_findings = 1;  // lint: error findings
inline constexpr int exit_usage = 2;     // bad usage, unreadable or unusable input

// --color auto|always|never, the same on every command that colours. Under auto, colour
// when `fd` is a terminal and NO_COLOR (no-color.org) is not set: any value, even empty,
// turns it off.
inline bool color_wanted(const std::string& mode, int fd) {
  return mode == "always" || (mode == "auto" && isatty(fd) && !std::getenv("NO_COLOR"));
}
inline CLI::Option* add_color_option(CLI::App* app, std::string& mode, const std::string& where) {
  return app->add_option("--color", mode, "Colour in " + where + ": auto (when it is a terminal and NO_COLOR is not set), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

struct command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// A built-in scenario by name, or a scenario file; prints the error as "mxtls COMMAND: ..."
// and returns nullopt (cmd_serve.cpp).
std::optional<scenario> load_scenario(const std::string& what, const char* command);

// The probe's options, shared by mxtls probe and mxtls scan (cmd_probe.cpp).
struct probe_flags {
  std::string ehlo = "mxtls.invalid";
  unsigned short port = 25;
  std::vector<std::string> timeouts;
  std::string policy = "preferred";
  std::string ca, sni, name, as_client;
  bool no_injection = false;  // the same as --skip injection
  std::vector<std::string> checks, skips;
  std::string resolver;
  std::string trust_anchor;   // --trust-anchor FILE
  bool no_dnssec = false;     // --no-dnssec
  bool all_hosts = false;
  std::string rcpt;
  bool full = false;  // --full (mxtls probe): the checks that are off by default too
};
void add_probe_flags(CLI::App* app, probe_flags& flags);
// False after printing "mxtls CMD: ..." for a bad value.
bool make_probe_options(const probe_flags& flags, probe_options& options, const char* cmd);
// The checks --check names whose scope is a mail domain (mta-sts) or an MX host (dane): they
// do not apply to an address target. One note on standard error for each, naming how many
// `addresses` (targets that are addresses) go without it; nothing when none.
void note_checks_not_for_addresses(const probe_flags& flags, const char* cmd, std::size_t addresses, std::size_t targets);

command add_lint(CLI::App& parent);
command add_serve(CLI::App& parent);
command add_demo(CLI::App& parent);
command add_probe(CLI::App& parent);
command add_scan(CLI::App& parent);
command add_tlsrpt(CLI::App& parent);
command add_logs(CLI::App& parent);
command add_tlsa(CLI::App& parent);

}  // namespace mxtls::cli
