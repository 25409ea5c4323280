#include "meta.hpp"

#include <algorithm>
#include <cstdio>

#include <CLI/Version.hpp>
#include <asio/version.hpp>
#include <fmt/format.h>
#include <idn2.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <zlib.h>

#include "mxtls/build_info.hpp"
#include "mxtls/dns.hpp"
#include "mxtls/mta_sts_fetch.hpp"
#include "mxtls/scenario.hpp"

namespace mxtls::cli {

std::string version_text() {
  std::string s = fmt::format("mxtls {}\n", build_info::version);
  auto row = [&](std::string_view what, std::string_view value) { s += fmt::format("  {:<15}{}\n", what, value); };
  row("commit", build_info::git_commit);
  row("build type", build_info::build_type);
  row("compiler", build_info::compiler);
  // OpenSSL is a shared library: the one loaded now may be newer than the headers mxtls was
  // built with (a security update), and a TLS report needs the one that ran.
  std::string runtime = OpenSSL_version(OPENSSL_VERSION);
  std::string built = OPENSSL_VERSION_TEXT;
  if (runtime == built) row("OpenSSL", runtime);
  else row("OpenSSL", fmt::format("{} (running; built with {}: they differ)", runtime, built));
  row("libunbound", mxtls::libunbound_version_text());
  // libcurl fetches MTA-STS policies; its TLS library is named, as it verifies the policy host.
  row("libcurl", libcurl_version_text());
  row("zlib", zlibVersion());
  row("libidn2", idn2_check_version(nullptr) ? idn2_check_version(nullptr) : IDN2_VERSION);
  row("yaml-cpp", build_info::yaml_cpp_version);
  row("fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100));
  row("Asio", fmt::format("{}.{}.{}", ASIO_VERSION / 100000, ASIO_VERSION / 100 % 1000, ASIO_VERSION % 100));
  row("nlohmann-json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                   NLOHMANN_JSON_VERSION_PATCH));
  row("CLI11", CLI11_VERSION);
  s.pop_back();
  return s;
}

std::vector<const CLI::App*> visible_commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); });
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "TEXT:{text,json}=text" -> {"text", "json"}: the values an IsMember check allows, as
// CLI11 shows them in --help.
std::vector<std::string> allowed_values(const CLI::Option& opt) {
  std::string type = opt.get_type_name();
  auto open = type.find('{'), close = type.find('}');
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  std::string list = type.substr(open + 1, close - open - 1);
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = std::min(list.find(',', start), list.size());
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string nearest_command(const CLI::App& app, std::string_view word) {
  std::string best;
  std::size_t best_distance = 3;  // at most two edits, and fewer than half the word
  for (const CLI::App* c : visible_commands(app)) {
    const std::string& name = c->get_name();
    std::size_t d = edit_distance(word, name);
    if (name.rfind(word, 0) == 0 && !word.empty()) d = std::min<std::size_t>(d, 1);  // a prefix
    if (d < best_distance && d * 2 < std::max(word.size(), name.size())) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

int complete_listing(const CLI::App& app, const std::vector<std::string>& words) {
  auto find_command = [&](const std::string& name) -> const CLI::App* {
    for (const CLI::App* c : visible_commands(app))
      if (c->get_name() == name) return c;
    return nullptr;
  };
  std::string what = words.empty() ? "" : words[0];
  if (what == "commands") {
    for (const CLI::App* c : visible_commands(app)) std::printf("%s\n", c->get_name().c_str());
    return 0;
  }
  if (what == "scenarios") {
    for (const auto& b : builtin_scenarios()) std::printf("%s\n", b.name);
    return 0;
  }
  if ((what == "options" && words.size() == 2) || (what == "values" && words.size() == 3)) {
    const CLI::App* c = find_command(words[1]);
    if (!c) return 2;
    for (const CLI::Option* o : c->get_options()) {
      if (o->get_lnames().empty() && o->get_snames().empty()) continue;  // a positional
      bool takes_value = o->get_items_expected_max() > 0;
      if (what == "options") {
        for (const auto& n : o->get_lnames()) std::printf("--%s\t%s\n", n.c_str(), takes_value ? "value" : "flag");
        for (const auto& n : o->get_snames()) std::printf("-%s\t%s\n", n.c_str(), takes_value ? "value" : "flag");
        continue;
      }
      if (!o->check_name(words[2])) continue;
      if (o->check_lname("scenario")) {
        for (const auto& b : builtin_scenarios()) std::printf("%s\n", b.name);
        std::printf("FILE\n");  // scenario files too: the completions add file names for this word
      }
      for (const auto& v : allowed_values(*o)) std::printf("%s\n", v.c_str());
    }
    return 0;
  }
  std::fprintf(stderr, "usage: mxtls __complete commands | options COMMAND | values COMMAND OPTION | scenarios\n");
  return 2;
}

}  // namespace mxtls::cli
