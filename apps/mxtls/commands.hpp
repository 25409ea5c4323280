// Subcommands of the mxtls program: argument parsing and wiring only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "mxtls/scenario.hpp"

namespace mxtls::cli {

// Exit codes shared by every subcommand (docs/exit-codes.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_findings = 1;  // lint: error findings
inline constexpr int exit_usage = 2;     // bad usage, unreadable or unusable input

struct command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// A built-in scenario by name, or a scenario file; prints the error as "mxtls COMMAND: ..."
// and returns nullopt (cmd_serve.cpp).
std::optional<scenario> load_scenario(const std::string& what, const char* command);

command add_lint(CLI::App& parent);
command add_serve(CLI::App& parent);
command add_demo(CLI::App& parent);
command add_probe(CLI::App& parent);

}  // namespace mxtls::cli
