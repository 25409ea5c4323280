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
};

int run_demo(const demo_args& a) {
  auto sc = load_scenario(a.scenario, "demo");
  if (!sc) return exit_usage;
  // The mock server runs on its own thread; the probe meets it from this one.
  asio::io_context io;
  mock_server server(io, *sc, make_identity(sc->host, sc->certificate), {});
  server.listen(parse_listen_address("127.0.0.1:0"));
  auto at = server.local_endpoint();
  auto guard = asio::make_work_guard(io);
  std::thread server_thread([&] { io.run(); });
  std::printf("mxtls demo: mock server with scenario '%s' (%s) on 127.0.0.1:%u\n", sc->name.c_str(),
              sc->description.c_str(), at.port());
  std::printf("mxtls demo: mxtls probe [127.0.0.1]:%u --name %s\n\n", at.port(), sc->host.c_str());

  probe_options opt;
  opt.session.ehlo_name = "demo.mxtls.invalid";
  opt.session.verify_name = sc->host;
  opt.session.timeouts.banner = opt.session.timeouts.command = std::chrono::milliseconds(5000);
  probe_report r = run_probe(parse_probe_target(fmt::format("[127.0.0.1]:{}", at.port()), 25), opt);

  asio::post(io, [&] { server.stop(); });
  guard.reset();
  io.stop();
  server_thread.join();

  std::string text = render_probe_text(r, {.color = false, .transcript = true});
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\nVerdict: %s\n", render_verdict(r).c_str());
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
  app->footer("Exit codes: 0 the demo ran (whatever it found); 2 usage error or invalid scenario.");
  return {app, [args] { return run_demo(*args); }};
}

}  // namespace mxtls::cli
