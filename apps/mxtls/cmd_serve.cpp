#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <iostream>
#include <list>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/json_writer.hpp"
#include "mxtls/mock_server.hpp"
#include "mxtls/scenario.hpp"

namespace mxtls::cli {

namespace {

struct serve_args {
  std::string scenario;
  std::string listen = "127.0.0.1:2525";
  std::string cert, key, log_file;
  std::string write_certificates;  // a directory: each certificate's chain and key as PEM files
  std::size_t max_sessions = 1000;
  unsigned threads = 1;  // threads the sessions run on
  bool list = false;
  bool allow_remote = false;  // listening on an address other machines reach is asked for
  std::string format = "text";
  bool json = false;   // --json: the same as --format json
  bool quiet = false;  // -q: nothing on standard output
  std::string color = "auto";
};

// "ADDRESS:PORT" with brackets around an IPv6 address.
std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  return ep.address().is_v6() ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                              : fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// Loopback: 127.0.0.0/8, ::1, and 127/8 written as an IPv4-mapped IPv6 address.
bool loopback(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  return a.is_loopback();
}

// Each certificate the server holds, as PEM files in `dir`: KEY.pem (the leaf, then the chain
// it sends), KEY.key (the private key), KEY-root.pem (the test CA, when there is one); KEY is
// the scenario's key name (ecdsa-p256, rsa-2048, ...), or "given" for --cert.
bool write_certificate_files(const tls_identity& id, const std::string& dir) {
  for (const tls_identity* one = &id; one; one = one->second.get()) {
    std::string base = dir + "/" + (one->key_name.empty() ? "given" : one->key_name);
    std::string chain = to_pem(one->leaf.get());
    for (const auto& c : one->chain) chain += to_pem(c.get());
    std::vector<std::pair<std::string, std::string>> files{{base + ".pem", chain}, {base + ".key", private_key_pem(one->key.get())}};
    if (one->root) files.emplace_back(base + "-root.pem", to_pem(one->root.get()));
    for (const auto& [name, text] : files) {
      std::ofstream out(name, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) {
        std::fprintf(stderr, "mxtls serve: --write-certificates: cannot write '%s'\n", name.c_str());
        return false;
      }
    }
  }
  return true;
}

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
  // The scenarios reproduce broken and insecure servers (STARTTLS command injection among
  // them): reachable from other machines only when asked for, and then said out loud.
  if (!loopback(at.address())) {
    if (!a.allow_remote) {
      std::fprintf(stderr,
                   "mxtls serve: --listen %s is not a loopback address: other machines could reach this mock "
                   "server, whose scenarios reproduce insecure servers\nadd --allow-remote if that is meant, or "
                   "listen on 127.0.0.1 or [::1]\n",
                   a.listen.c_str());
      return exit_usage;
    }
    bool color = color_wanted(a.color, STDERR_FILENO);
    std::fprintf(stderr, "mxtls serve: %swarning:%s listening on %s, reachable from other machines (--allow-remote)\n",
                 color ? "\033[1;33m" : "", color ? "\033[0m" : "", a.listen.c_str());
  }
  tls_identity id;
  try {
    id = a.cert.empty() ? make_identity(*sc) : load_identity(a.cert, a.key);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mxtls serve: %s\n", e.what());
    return exit_usage;
  }

  if (!a.write_certificates.empty() && !write_certificate_files(id, a.write_certificates)) return exit_usage;

  std::ofstream log;
  std::mutex log_lock;  // sessions on several threads write lines of their own
  server_options opt;
  opt.max_sessions = a.max_sessions;
  if (!a.log_file.empty()) {
    log.open(a.log_file, std::ios::app);
    if (!log) {
      std::fprintf(stderr, "mxtls serve: cannot write the log file '%s'\n", a.log_file.c_str());
      return exit_usage;
    }
    opt.log = [&log, &log_lock](std::size_t session, const std::string& line) {
      std::lock_guard hold(log_lock);
      log << "[" << session << "] " << line << "\n";
      log.flush();
    };
  }

  // The listener (and the signals) on this thread's context; with --threads N, the sessions
  // on N contexts of their own, a thread each, given out in turn. Declared after `io`, so
  // they and their sessions go before the listener's context does.
  asio::io_context io;
  std::list<asio::io_context> session_io;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::vector<std::jthread> session_threads;
  if (a.threads > 1) {
    for (unsigned i = 0; i < a.threads; ++i) {
      opt.session_contexts.push_back(&session_io.emplace_back(1));
      keep_running.push_back(asio::make_work_guard(session_io.back()));
    }
  }
  std::optional<mock_server> made;
  try {
    made.emplace(io, *sc, std::move(id), opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mxtls serve: %s\n", e.what());
    return exit_usage;
  }
  mock_server& server = *made;
  try {
    server.listen(at);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "mxtls serve: cannot listen on %s: %s\n", a.listen.c_str(), e.code().message().c_str());
    return exit_usage;
  }
  std::string where = endpoint_text(server.local_endpoint());
  const bool json = a.json || a.format == "json";
  std::string certificate = a.cert.empty() ? to_string(sc->certificate) : "from " + a.cert;
  if (a.quiet) {
  } else if (json) {
    std::string line;
    json_writer w(line);
    w.begin_object().member("event", "listening").member("scenario", sc->name).member("address", where);
    w.member("certificate", certificate).member("host", sc->host).member("sha256", server.identity().sha256);
    w.key("certificates").begin_array();
    for (const tls_identity* one = &server.identity(); one; one = one->second.get())
      w.begin_object().member("key", one->key_name.empty() ? "given" : one->key_name).member("sha256", one->sha256).end_object();
    w.end_array().end_object();
    std::printf("%s\n", line.c_str());
  } else {
    std::printf("mxtls serve: scenario %s (%s) listening on %s\n", sc->name.c_str(), sc->description.c_str(), where.c_str());
    const tls_identity& first = server.identity();
    if (!first.second) {
      std::printf("certificate: %s for %s, SHA-256 %s\n", certificate.c_str(), sc->host.c_str(), first.sha256.c_str());
    } else {
      for (const tls_identity* one = &first; one; one = one->second.get())
        std::printf("certificate: %s %s for %s, SHA-256 %s\n", certificate.c_str(), one->key_name.c_str(), sc->host.c_str(),
                    one->sha256.c_str());
    }
    std::printf("stop with Ctrl-C\n");
  }
  std::fflush(stdout);

  for (auto& c : session_io) session_threads.emplace_back([&c] { c.run(); });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int) {
    server.stop();
    io.stop();
  });
  io.run();
  for (auto& c : session_io) c.stop();
  session_threads.clear();  // joined
  const auto& st = server.stats();
  if (a.quiet) {
  } else if (json) {
    std::string line;
    json_writer w(line);
    w.begin_object().member("event", "stopped").member("sessions", st.sessions).member("tls_handshakes", st.tls_handshakes);
    w.member("messages", st.messages).member("refused", st.refused).end_object();
    std::printf("%s\n", line.c_str());
  } else {
    std::printf("mxtls serve: stopped after %zu sessions (%zu TLS handshakes, %zu messages, %zu turned away)\n",
                st.sessions, st.tls_handshakes, st.messages, st.refused);
  }
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
  app->add_flag("--allow-remote", args->allow_remote,
                "Allow a --listen address that is not loopback (other machines can then reach the server)");
  app->add_option("--cert", args->cert, "PEM certificate chain (leaf first); default: generated for the scenario")
      ->check(CLI::ExistingFile);
  app->add_option("--key", args->key, "PEM private key for --cert")->check(CLI::ExistingFile);
  app->add_option("--write-certificates", args->write_certificates,
                  "Write each certificate the server holds into this directory: KEY.pem (leaf and chain), KEY.key, "
                  "KEY-root.pem (its test CA)")
      ->check(CLI::ExistingDirectory);
  app->add_option("--max-sessions", args->max_sessions, "Sessions at once; more are answered with 421")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->capture_default_str();
  app->add_option("--threads", args->threads,
                  "Threads the sessions run on, as a real MTA serves connections in parallel (each session stays "
                  "on one); 1: one thread for everything")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app->add_option("--log", args->log_file, "Append every session's transcript to this file");
  app->add_option("--format", args->format, "Start and stop lines on stdout: text, or json (one object a line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_flag("--json", args->json, "The same as --format json");
  app->add_flag("-q,--quiet", args->quiet, "Print nothing on standard output (errors and warnings still go to stderr)");
  add_color_option(app, args->color, "messages on stderr");
  app->footer(
      "Examples:\n"
      "  mxtls serve --list\n"
      "  mxtls serve --scenario seed --listen 127.0.0.1:2525\n"
      "  mxtls serve --scenario my-server.yaml --log sessions.log\n"
      "  mxtls serve --scenario compliant --listen 0.0.0.0:2525 --allow-remote\n"
      "  mxtls serve --scenario seed --listen 127.0.0.1:0 --json\n"
      "  swaks --server 127.0.0.1:2525 --to a@example.test --tls-optional\n\n"
      "Exit codes: 0 stopped by SIGINT or SIGTERM; 2 usage error, invalid scenario, unusable\n"
      "certificate or address.");
  return {app, [args] { return run_serve(*args); }};
}

}  // namespace mxtls::cli
