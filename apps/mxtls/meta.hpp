// The commands about mxtls itself: version, help, and the hidden listing the shell
// completions read (cmd_meta.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace mxtls::cli {

// Version, git commit, build type and the versions of the libraries, built against and
// running (what a TLS bug report needs first).
std::string version_text();

// The subcommand nearest to `word` by edit distance, or "" when none is near enough.
std::string nearest_command(const CLI::App& app, std::string_view word);

// Subcommands users see (not the hidden ones), in the order they were added.
std::vector<const CLI::App*> visible_commands(const CLI::App& app);

// `mxtls __complete commands|options COMMAND|values COMMAND OPTION|scenarios`: one word a
// line, read by the bash and zsh completions. Returns the exit code.
int complete_listing(const CLI::App& app, const std::vector<std::string>& words);

}  // namespace mxtls::cli
