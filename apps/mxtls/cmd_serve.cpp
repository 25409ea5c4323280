#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/mock_server.hpp"
#include "mxtls/scenario.hpp"

namespace mxtls::cli {

namespace {

struct serve_args {
  std::string scenario;
  std::string listen = "127.0.0.1:2525";
  std::string cert, key, log_file;
  std::size_t max_sessions = 1000;
  bool list = false;
};

int list_scenarios() {
  for (const auto& b : builtin_scenarios()) {
    scenario_error err;
    auto s = parse_scenario(b.yaml, b.name, err);
    std::printf("%-26s %s\n", b.name, s ? s->description.c_str() : ("(invalid: " + err.what() + ")").c_str());
  }
  return exit_ok;
}

}  // namespace

std::optional<scenario> load_scenario(const std::string& what, const char* command) {
  scenario_error err;
  for (const auto& b : builtin_scenarios())
    if (what == b.name) {
      auto s = builtin(what, err);
      if (!s) std::fprintf(stderr, "mxtls %s: %s\n", command, err.what().c_str());
      return s;
    }
  std::ifstream in(what, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "mxtls %s: '%s' is neither a built-in scenario (see mxtls serve --list) nor a readable file\n",
                 command, what.c_str());
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto s = parse_scenario(text.str(), what, err);
  if (!s) std::fprintf(stderr, "mxtls %s: %s\n", command, err.what().c_str());
  return s;
}

namespace {

int run_serve(const serve_args& a) {
  if (a.list) return list_scenarios();
  if (a.scenario.empty()) {
    std::fprintf(stderr, "mxtls serve: --scenario NAME|FILE is required (mxtls serve --list shows the built-in ones)\n");
    return exit_usage;
  }
  if (a.cert.empty() != a.key.empty()) {
    std::fprintf(stderr, "mxtls serve: --cert and --key go together\n");
    return exit_usage;
  }
  auto sc = load_scenario(a.scenario, "serve");
  if (!sc) return exit_usage;

  asio::ip::tcp::endpoint at;
  try {
    at = parse_listen_address(a.listen);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mxtls serve: --listen: %s\n", e.what());
    return exit_usage;
  }
  tls_identity id;
  try {
    id = a.cert.empty() ? make_identity(sc->host, sc->certificate) : load_identity(a.cert, a.key);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mxtls serve: %s\n", e.what());
    return exit_usage;
  }

  std::ofstream log;
  server_options opt;
  opt.max_sessions = a.max_sessions;
  if (!a.log_file.empty()) {
    log.open(a.log_file, std::ios::app);
    if (!log) {
      std::fprintf(stderr, "mxtls serve: cannot write the log file '%s'\n", a.log_file.c_str());
      return exit_usage;
    }
    opt.log = [&log](std::size_t session, const std::string& line) {
      log << "[" << session << "] " << line << "\n";
      log.flush();
    };
  }

  asio::io_context io;
  mock_server server(io, *sc, std::move(id), opt);
  try {
    server.listen(at);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "mxtls serve: cannot listen on %s: %s\n", a.listen.c_str(), e.code().message().c_str());
    return exit_usage;
  }
  auto ep = server.local_endpoint();
  std::string where = ep.address().is_v6() ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                                           : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  std::printf("mxtls serve: scenario %s (%s) listening on %s\n", sc->name.c_str(), sc->description.c_str(), where.c_str());
  std::printf("certificate: %s for %s, SHA-256 %s\n",
              a.cert.empty() ? to_string(sc->certificate) : ("from " + a.cert).c_str(), sc->host.c_str(),
              server.identity().sha256.c_str());
  std::printf("stop with Ctrl-C\n");
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int) {
    server.stop();
    io.stop();
  });
  io.run();
  const auto& st = server.stats();
  std::printf("mxtls serve: stopped after %zu sessions (%zu TLS handshakes, %zu messages, %zu turned away)\n", st.sessions,
              st.tls_handshakes, st.messages, st.refused);
  return exit_ok;
}

}  // namespace

command add_serve(CLI::App& parent) {
  auto args = std::make_shared<serve_args>();
  CLI::App* app = parent.add_subcommand("serve", "Run a mock SMTP server that behaves like a broken (or correct) one");
  app->description(
      "Run a mock SMTP server on a loopback address that reproduces a server's behaviour from a\n"
      "scenario: its banner, its EHLO reply before and after TLS, its answer to STARTTLS, its TLS\n"
      "versions, ciphers and certificate, delays, dripped replies, 421s and disconnects, and the\n"
      "STARTTLS injection faults. It accepts and discards mail, so real MTAs can deliver to it.\n"
      "Scenario files are YAML (docs/scenarios.md, examples in scenarios/).");
  app->add_option("--scenario,-s", args->scenario, "Built-in scenario name or a YAML scenario file");
  app->add_flag("--list", args->list, "List the built-in scenarios and exit");
  app->add_option("--listen,-l", args->listen, "ADDRESS:PORT to listen on (port 0: any free port)")->capture_default_str();
  app->add_option("--cert", args->cert, "PEM certificate chain (leaf first); default: generated for the scenario")
      ->check(CLI::ExistingFile);
  app->add_option("--key", args->key, "PEM private key for --cert")->check(CLI::ExistingFile);
  app->add_option("--max-sessions", args->max_sessions, "Sessions at once; more are answered with 421")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->capture_default_str();
  app->add_option("--log", args->log_file, "Append every session's transcript to this file");
  app->footer(
      "Examples:\n"
      "  mxtls serve --list\n"
      "  mxtls serve --scenario seed --listen 127.0.0.1:2525\n"
      "  mxtls serve --scenario my-server.yaml --log sessions.log\n"
      "  swaks --server 127.0.0.1:2525 --to a@example.test --tls-optional\n\n"
      "Exit codes: 0 stopped by SIGINT or SIGTERM; 2 usage error, invalid scenario, unusable\n"
      "certificate or address.");
  return {app, [args] { return run_serve(*args); }};
}

}  // namespace mxtls::cli
