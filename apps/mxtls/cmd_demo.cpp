#include <unistd.h>

#include <cstdio>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "mxtls/mock_server.hpp"
#include "mxtls/probe.hpp"
#include "mxtls/probe_report.hpp"

namespace mxtls::cli {

namespace {

struct demo_args {
  std::string scenario = "seed";
  std::string color = "auto";
  bool json = false;  // --json: the probe's JSON instead of the text
};

int run_demo(const demo_args& a) {
  auto sc = load_scenario(a.scenario, "demo");
  if (!sc) return exit_usage;
  // The mock server runs on its own thread; the probe meets it from this one.
  asio::io_context io;
  mock_server server(io, *sc, make_identity(*sc), {});
  server.listen(parse_listen_address("127.0.0.1:0"));
  auto at = server.local_endpoint();
  auto guard = asio::make_work_guard(io);
  std::thread server_thread([&] { io.run(); });
  // With --json standard output is the probe's JSON alone; the notes go to standard error.
  std::FILE* notes = a.json ? stderr : stdout;
  std::fprintf(notes, "mxtls demo: mock server with scenario '%s' (%s) on 127.0.0.1:%u\n", sc->name.c_str(),
               sc->description.c_str(), at.port());
  std::fprintf(notes, "mxtls demo: mxtls probe [127.0.0.1]:%u --name %s\n%s", at.port(), sc->host.c_str(), a.json ? "" : "\n");

  probe_options opt;
  opt.session.ehlo_name = "demo.mxtls.invalid";
  opt.session.verify_name = sc->host;
  opt.session.timeouts.banner = opt.session.timeouts.command = std::chrono::milliseconds(5000);
  probe_report r = run_probe(parse_probe_target(fmt::format("[127.0.0.1]:{}", at.port()), 25), opt);

  asio::post(io, [&] { server.stop(); });
  guard.reset();
  io.stop();
  server_thread.join();

  if (a.json) {
    std::string json = render_probe_json(r) + "\n";
    std::fwrite(json.data(), 1, json.size(), stdout);
    return exit_ok;
  }
  bool color = color_wanted(a.color, STDOUT_FILENO);
  std::string text = render_probe_text(r, {.color = color, .transcript = true});
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\nVerdict: %s%s%s\n", color ? std::string(outcome_color(r.diagnosis.outcome)).c_str() : "",
              render_verdict(r).c_str(), color ? "\033[0m" : "");
  return exit_ok;
}

}  // namespace

command add_demo(CLI::App& parent) {
  auto args = std::make_shared<demo_args>();
  CLI::App* app = parent.add_subcommand("demo", "Start a broken mock server on loopback and diagnose it live");
  app->description(
      "Starts `mxtls serve` with the seed scenario (STARTTLS listed before the greeting) on a\n"
      "free 127.0.0.1 port and runs `mxtls probe` against it: EHLO, STARTTLS, TLS handshake,\n"
      "certificate checks, EHLO again, the command-injection check, the EHLO reply linted\n"
      "from the live octets with the predictions for 22 real SMTP clients, and the verdict.\n"
      "Nothing leaves this machine.");
  app->add_option("--scenario,-s", args->scenario, "Scenario to diagnose (built-in name or YAML file)")
      ->capture_default_str();
  add_color_option(app, args->color, "text output");
  app->add_flag("--json", args->json, "Print the probe's JSON (docs/probe-json.md) instead of the text; the notes go to standard error");
  app->footer("Exit codes: 0 the demo ran (whatever it found); 2 usage error or invalid scenario.");
  return {app, [args] { return run_demo(*args); }};
}

}  // namespace mxtls::cli
