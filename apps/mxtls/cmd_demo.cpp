#include <cstdio>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/lint.hpp"
#include "mxtls/live_session.hpp"
#include "mxtls/mock_server.hpp"
#include "mxtls/report.hpp"

namespace mxtls::cli {

std::optional<scenario> load_scenario(const std::string& what, const char* command);

namespace {

struct demo_args {
  std::string scenario = "seed";
};

int run_demo(const demo_args& a) {
  auto sc = load_scenario(a.scenario, "demo");
  if (!sc) return exit_usage;
  asio::io_context io;
  mock_server server(io, *sc, make_identity(sc->host, sc->certificate), {});
  server.listen(parse_listen_address("127.0.0.1:0"));
  auto at = server.local_endpoint();
  std::printf("mxtls demo: mock server with scenario '%s' (%s) on 127.0.0.1:%u\n", sc->name.c_str(),
              sc->description.c_str(), at.port());
  std::printf("mxtls demo: meeting it as a sending MTA would: EHLO, STARTTLS, TLS, EHLO again\n\n");

  live_session_result r;
  session_options opt;
  opt.ehlo_name = "demo.mxtls.invalid";
  opt.timeouts.banner = opt.timeouts.command = std::chrono::milliseconds(5000);
  asio::co_spawn(io, run_live_session(at, opt), [&](std::exception_ptr e, live_session_result res) {
    if (!e) r = std::move(res);
    server.stop();
  });
  io.run();

  std::printf("Live session:\n");
  for (const auto& t : r.transcript) std::printf("  %5lld ms  %c  %s\n", static_cast<long long>(t.ms), t.dir, t.text.c_str());
  std::printf("\n");
  if (!r.error.empty()) std::printf("session ended early at %s: %s\n\n", r.error_phase.c_str(), r.error.c_str());
  if (r.ehlo.empty()) return exit_ok;

  // The EHLO reply as received: line endings count.
  lint_options lo;
  lo.raw = true;
  lint_result lr = lint(r.ehlo, lo);
  if (lr.reply_found) {
    std::string text = render_lint_text(lr, {false, "live EHLO reply"});
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::printf("\nTLS: ");
  if (r.tls_established) {
    std::printf("STARTTLS works: %s, %s%s%s\n", r.tls_protocol.c_str(), r.tls_cipher.c_str(),
                r.tls_group.empty() ? "" : ", key exchange ", r.tls_group.c_str());
    if (!r.chain.empty())
      std::printf("     certificate %s, issued by %s, SHA-256 %s\n", r.chain.front().subject.c_str(),
                  r.chain.front().issuer.c_str(), r.chain.front().sha256.c_str());
  } else if (r.starttls_attempted) {
    std::printf("STARTTLS answered %d; %s\n", r.starttls_code, r.error.empty() ? "no TLS" : r.error.c_str());
  } else {
    std::printf("not attempted (STARTTLS does not appear in the EHLO reply)\n");
  }
  if (lr.reply_found && r.tls_established) {
    std::string plain, failing;
    for (const auto& c : lr.clients) {
      if (c.outcome == tls_outcome::plaintext && c.opportunistic) plain += (plain.empty() ? "" : ", ") + std::string(c.short_name);
      if (c.outcome == tls_outcome::fail || c.outcome == tls_outcome::hang)
        failing += (failing.empty() ? "" : ", ") + std::string(c.short_name);
    }
    std::printf("\nVerdict: %s", lr.ehlo.starttls_visible ? "STARTTLS works and strict senders see it" : "STARTTLS works, but strict senders do not see it");
    if (!plain.empty()) std::printf("; %s will send in plaintext", plain.c_str());
    if (!failing.empty()) std::printf("; %s will fail", failing.c_str());
    std::printf(".\n");
  }
  return exit_ok;
}

}  // namespace

command add_demo(CLI::App& parent) {
  auto args = std::make_shared<demo_args>();
  CLI::App* app = parent.add_subcommand("demo", "Start a broken mock server on loopback and diagnose it live");
  app->description(
      "Starts `mxtls serve` with the seed scenario (STARTTLS listed before the greeting) on a\n"
      "free 127.0.0.1 port, meets it as a sending MTA would (EHLO, STARTTLS, TLS handshake,\n"
      "EHLO again, QUIT), lints the EHLO reply from the live octets, predicts what each real\n"
      "SMTP client does with it, and prints the diagnosis. Nothing leaves this machine.");
  app->add_option("--scenario,-s", args->scenario, "Scenario to diagnose (built-in name or YAML file)")
      ->capture_default_str();
  app->footer("Exit codes: 0 the demo ran (whatever it found); 2 usage error or invalid scenario.");
  return {app, [args] { return run_demo(*args); }};
}

}  // namespace mxtls::cli
