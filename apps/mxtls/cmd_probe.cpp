#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "commands.hpp"
#include "mxtls/probe.hpp"
#include "mxtls/probe_report.hpp"

namespace mxtls::cli {

bool make_probe_options(const probe_flags& a, probe_options& opt, const char* cmd) {
  auto policy = parse_policy(a.policy);
  if (!policy) {
    std::fprintf(stderr, "mxtls %s: --policy must be none, preferred, required, preferred-verify or required-verify\n", cmd);
    return false;
  }
  opt.policy = *policy;
  opt.injection_test = !a.no_injection;
  opt.as_client = a.as_client;
  opt.all_hosts = a.all_hosts;
  opt.session.rcpt = a.rcpt;
  if (!a.resolver.empty()) {
    // ADDR, ADDR:PORT, [IPv6]:PORT -> libunbound's ADDR@PORT
    std::string r = a.resolver, port;
    if (r.front() == '[') {
      auto close = r.find(']');
      if (close != std::string::npos && close + 1 < r.size() && r[close + 1] == ':') port = r.substr(close + 2);
      r = r.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (std::count(r.begin(), r.end(), ':') == 1) {
      port = r.substr(r.find(':') + 1);
      r = r.substr(0, r.find(':'));
    }
    opt.resolver = port.empty() ? r : r + "@" + port;
  }
  opt.session.ehlo_name = a.ehlo;
  opt.session.sni = a.sni;
  opt.session.verify_name = !a.name.empty() ? a.name : a.sni;
  if (!a.ca.empty()) {
    struct stat st{};
    if (stat(a.ca.c_str(), &st) != 0) {
      std::fprintf(stderr, "mxtls %s: --ca: '%s' does not exist\n", cmd, a.ca.c_str());
      return false;
    }
    (S_ISDIR(st.st_mode) ? opt.session.ca_dir : opt.session.ca_file) = a.ca;
  }
  for (const auto& t : a.timeouts) {
    auto eq = t.find('=');
    char* end = nullptr;
    double secs = eq == std::string::npos ? -1 : std::strtod(t.c_str() + eq + 1, &end);
    std::string phase = t.substr(0, eq);
    std::chrono::milliseconds* slot = phase == "connect" ? &opt.session.timeouts.connect
                                      : phase == "banner"  ? &opt.session.timeouts.banner
                                      : phase == "command" ? &opt.session.timeouts.command
                                      : phase == "tls"     ? &opt.session.timeouts.tls
                                      : phase == "trailing" ? &opt.session.timeouts.trailing
                                      : phase == "dns"      ? &opt.dns_timeout
                                                           : nullptr;
    if (!slot || secs < 0 || secs > 3600 || (end && *end)) {
      std::fprintf(stderr, "mxtls %s: --timeout '%s': use PHASE=SECONDS with PHASE dns, connect, banner, command, tls or trailing\n", cmd, t.c_str());
      return false;
    }
    *slot = std::chrono::milliseconds(static_cast<long long>(secs * 1000));
  }
  if (!a.as_client.empty() && !find_client_model(a.as_client)) {
    std::fprintf(stderr, "mxtls %s: --as: no client model '%s' (the ids are listed by mxtls lint --format json)\n", cmd,
                 a.as_client.c_str());
    return false;
  }
  return true;
}

void add_probe_flags(CLI::App* app, probe_flags& f) {
  app->add_option("--port", f.port, "Port when a target has none")->capture_default_str();
  app->add_option("--ehlo", f.ehlo, "Name sent with EHLO")->capture_default_str();
  app->add_option("--timeout", f.timeouts, "PHASE=SECONDS for dns (10, each lookup), connect (10), banner (30), command (30), tls (15), and trailing (0.02: the wait for lines after the EHLO reply's final line)");
  app->add_option("--policy", f.policy,
                  "TLS setting as on Cisco ESA: none, preferred, required, preferred-verify, required-verify")
      ->capture_default_str();
  app->add_option("--ca", f.ca, "CA file or directory for verification (default: the system store)");
  app->add_option("--sni", f.sni, "Server name sent in the TLS handshake");
  app->add_option("--name", f.name, "Name the certificate must match (default: --sni, or the target's MX host name)");
  app->add_option("--as", f.as_client, "Decide whether to send STARTTLS as this client model would (e.g. cisco-esa)");
  app->add_flag("--no-injection-test", f.no_injection, "Skip the STARTTLS command-injection check (a second connection)");
  app->add_option("--resolver", f.resolver, "DNS server ADDR[:PORT] to ask (default: /etc/resolv.conf)");
  app->add_option("--rcpt", f.rcpt,
                  "Also send MAIL FROM:<> and RCPT TO:<ADDRESS>, then RSET (no mail is sent): shows greylisting");
  app->add_flag("--all-hosts", f.all_hosts, "Probe every MX host and address, not only up to the first that answers");
}

namespace {

struct probe_args {
  std::string target;
  probe_flags flags;
  std::string format = "text";
  std::string log;
};

int run_probe_cmd(const probe_args& args) {
  const probe_flags& a = args.flags;
  probe_options opt;
  if (!make_probe_options(a, opt, "probe")) return exit_usage;
  probe_report r;
  try {
    probe_target target = parse_probe_target(args.target, a.port);
    r = run_probe(target, opt);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mxtls probe: %s\n", e.what());
    return exit_usage;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "mxtls probe: %s\n", e.what());
    return 3;
  }
  std::string out = args.log == "esa"        ? render_esa_log(r)
                    : args.format == "json" ? render_probe_json(r) + "\n"
                                         : render_probe_text(r, isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  std::fwrite(out.data(), 1, out.size(), stdout);
  return r.exit_code;
}

}  // namespace

command add_probe(CLI::App& parent) {
  auto args = std::make_shared<probe_args>();
  CLI::App* app = parent.add_subcommand("probe", "Meet a live SMTP server the way a sending MTA does and diagnose TLS");
  app->description(
      "Connects to an SMTP server, reads its banner, sends EHLO, sends STARTTLS whenever the\n"
      "word appears anywhere in the reply (so it can tell both \"the server can do TLS\" and\n"
      "\"strict senders will not try\"), negotiates TLS, checks the certificate chain and host\n"
      "name, sends EHLO again, and checks for STARTTLS command injection on a second\n"
      "connection. The EHLO reply is linted from the live octets, with the predictions for\n"
      "22 real SMTP clients. A domain is looked up (MX in preference order, then A and AAAA\n"
      "of each; implicit MX without MX records; null MX reported) through libunbound.");
  app->add_option("TARGET", args->target, "a mail domain, [host]:port, host:port, [IPv6:addr]:port or an IP address")->required();
  add_probe_flags(app, args->flags);
  app->add_option("--format", args->format, "text or json (docs/probe-json.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_option("--log", args->log, "esa: print Cisco-ESA-style mail_logs lines instead")->check(CLI::IsMember({"esa"}));
  app->footer(
      "Examples:\n"
      "  mxtls probe example.com\n"
      "  mxtls probe [127.0.0.1]:2525\n"
      "  mxtls probe 192.0.2.25 --name mx.example.com --policy required-verify\n"
      "  mxtls probe [127.0.0.1]:2525 --log esa\n\n"
      "Exit codes: 0 TLS works for every sender; 1 some senders lose TLS, the certificate fails\n"
      "a verify policy, or the server is open to command injection; 2 usage error; 3 no host\n"
      "reachable (refused, timed out, 421 or no banner).");
  return {app, [args] { return run_probe_cmd(*args); }};
}

}  // namespace mxtls::cli
