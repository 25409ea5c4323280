#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <csignal>

#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/probe.hpp"
#include "mxtls/probe_report.hpp"
#include "mxtls/target_text.hpp"

namespace mxtls::cli {

namespace {

void split_names(const std::string& list, std::vector<std::string>& out) {
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (comma > pos) out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
}

}  // namespace

bool make_probe_options(const probe_flags& a, probe_options& opt, const char* cmd) {
  auto policy = parse_policy(a.policy);
  if (!policy) {
    std::fprintf(stderr, "mxtls %s: --policy must be none, preferred, required, preferred-verify, required-verify, "
                 "dane-opportunistic or dane-mandatory\n", cmd);
    return false;
  }
  opt.policy = *policy;
  try {
    std::vector<std::string> checks, skips = a.skips;
    for (const auto& list : a.checks) split_names(list, checks);
    std::vector<std::string> split_skips;
    for (const auto& list : skips) split_names(list, split_skips);
    if (a.no_injection) split_skips.push_back("injection");
    opt.checks = select_checks(checks, split_skips, a.full);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mxtls %s: %s\n", cmd, e.what());
    return false;
  }
  if (!a.rcpt.empty()) opt.checks.set(check_id::envelope, true);
  if (opt.checks.has(check_id::envelope) && a.rcpt.empty()) {
    std::fprintf(stderr, "mxtls %s: --check envelope needs --rcpt ADDRESS\n", cmd);
    return false;
  }
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
  opt.trust_anchor = a.trust_anchor;
  opt.dnssec = !a.no_dnssec;
  if (!a.trust_anchor.empty() && access(a.trust_anchor.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "mxtls %s: --trust-anchor: cannot read '%s'\n", cmd, a.trust_anchor.c_str());
    return false;
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
    if (eq == std::string::npos) {
      // SECONDS alone: every phase.
      char* end = nullptr;
      double secs = std::strtod(t.c_str(), &end);
      if (t.empty() || *end || secs <= 0 || secs > 3600) {
        std::fprintf(stderr, "mxtls %s: --timeout '%s': use SECONDS (every phase) or PHASE=SECONDS\n", cmd, t.c_str());
        return false;
      }
      auto ms = std::chrono::milliseconds(static_cast<long long>(secs * 1000));
      auto& to = opt.session.timeouts;
      to.connect = to.banner = to.command = to.tls = opt.dns_timeout = ms;
      continue;
    }
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
      std::fprintf(stderr, "mxtls %s: --timeout '%s': use SECONDS or PHASE=SECONDS with PHASE dns, connect, banner, command, tls or trailing\n", cmd, t.c_str());
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

void note_checks_not_for_addresses(const probe_flags& a, const char* cmd, std::size_t addresses, std::size_t targets) {
  if (addresses == 0) return;
  std::vector<std::string> asked;
  for (const auto& list : a.checks) split_names(list, asked);
  std::vector<check_id> said;
  for (const auto& name : asked) {
    auto id = find_check(name);
    if (!id || info(*id).scope == check_scope::address || std::find(said.begin(), said.end(), *id) != said.end()) continue;
    said.push_back(*id);
    // The words say why, per scope: MTA-STS and TLS-RPT are published for a mail domain
    // (RFC 8461 §3, RFC 8460 §3); TLSA records are named after an MX host (RFC 7672 §2.2.1).
    std::string why = info(*id).scope == check_scope::domain
                          ? "MTA-STS and TLS-RPT are a mail domain's policy (its _mta-sts and _smtp._tls TXT records, "
                            "RFC 8461 §3, RFC 8460 §3)"
                          : "TLSA records are named after an MX host (_25._tcp.<MX host>, RFC 7672 §2.2.1)";
    std::string which = targets == 1 ? std::string(": the target is an address")
                                     : fmt::format(" for {} of the {} targets: they are addresses", addresses, targets);
    std::fprintf(stderr, "mxtls %s: --check %s is not run%s, and %s; give the mail domain to check it\n", cmd,
                 std::string(info(*id).name).c_str(), which.c_str(), why.c_str());
  }
}

void add_probe_flags(CLI::App* app, probe_flags& f) {
  app->add_option("-p,--port", f.port, "Port when a target has none")->capture_default_str();
  app->add_option("--ehlo", f.ehlo, "Name sent with EHLO")->capture_default_str();
  app->add_option("--timeout", f.timeouts,
                  "SECONDS for every phase, or PHASE=SECONDS for dns (10, each lookup), connect (10), banner (30), "
                  "command (30), tls (15), trailing (1: only after lines that follow the EHLO reply's final line, the wait "
                  "for the answer they came before)");
  app->add_option("--policy", f.policy,
                  "TLS setting as on Cisco ESA: none, preferred, required, preferred-verify, required-verify, "
                  "dane-opportunistic, dane-mandatory")
      ->capture_default_str();
  app->add_option("--ca", f.ca, "CA file or directory for verification (default: the system store)");
  app->add_option("--sni", f.sni, "Server name sent in the TLS handshake");
  app->add_option("--name", f.name, "Name the certificate must match (default: --sni, or the target's MX host name)");
  app->add_option("--as", f.as_client, "Decide whether to send STARTTLS as this client model would (e.g. cisco-esa)");
  std::string names;
  for (const auto& c : all_checks()) names += fmt::format("\n  {:<10} {}{}", c.name, c.summary, c.by_default ? "" : " (off by default)");
  app->add_option("--check", f.checks, "Also run these checks (NAME[,NAME...]); the checks:" + names);
  app->add_option("--skip", f.skips, "Do not run these checks (NAME[,NAME...])");
  app->add_flag("--no-injection-test", f.no_injection, "The same as --skip injection");
  app->add_option("--resolver", f.resolver, "DNS server ADDR[:PORT] to ask (default: /etc/resolv.conf)");
  app->add_option("--trust-anchor", f.trust_anchor,
                  "DNSSEC trust anchor FILE (DS or DNSKEY lines, unbound's trust-anchor-file format); its zones are "
                  "asked of --resolver directly, even under test. (default: /usr/share/dns/root.key, only without --resolver)");
  app->add_flag("--no-dnssec", f.no_dnssec, "Do not validate DNSSEC: every answer is indeterminate and DANE does not apply");
  app->add_option("--rcpt", f.rcpt,
                  "Also send MAIL FROM:<> and RCPT TO:<ADDRESS>, then RSET (no mail is sent): shows greylisting");
  app->add_flag("--all-hosts", f.all_hosts, "Probe every MX host and address, not only up to the first that answers");
}

namespace {

struct probe_args {
  std::string target;
  probe_flags flags;
  std::string format = "text";
  bool json = false;  // --json: the same as --format json
  std::string log;
  std::string color = "auto";
  bool quiet = false;  // -q: nothing on standard output, the exit code only
};

int run_probe_cmd(const probe_args& args) {
  const probe_flags& a = args.flags;
  probe_options opt;
  if (!make_probe_options(a, opt, "probe")) return exit_usage;
  bool json = args.json || args.format == "json";
  bool text = args.log.empty() && !json;
  // On a terminal the transcript is printed as it happens (like swaks and posttls-finger);
  // the report after it leaves it out.
  bool live = text && !args.quiet && isatty(STDOUT_FILENO);
  if (live)
    opt.session.on_event = [](const session_event& e) {
      std::string line = render_event(e);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
    };
  probe_report r;
  try {
    // The one reader of destinations as people write them (the scan list's): IDN to
    // A-labels, smtp://host[:port], and no DNS for what only looks like an address.
    normalised_target n = normalise_target(args.target);
    if (!n.error.empty()) {
      std::fprintf(stderr, "mxtls probe: %s\nrun 'mxtls probe --help' for the forms a target takes\n", n.error.c_str());
      return exit_usage;
    }
    if (n.idn && !args.quiet) std::fprintf(stderr, "mxtls probe: probing %s (the A-label form of %s)\n", n.text.c_str(), escape_text(args.target).c_str());
    probe_target target = parse_probe_target(n.text, a.port);
    if (target.literal && !args.quiet) note_checks_not_for_addresses(a, "probe", 1, 1);
    opt.process_ends_after = true;  // one probe, then the report and exit
    r = run_probe(target, opt, true);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mxtls probe: %s\n", e.what());
    return exit_usage;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "mxtls probe: %s\n", e.what());
    return 3;
  }
  if (!args.quiet) {
    std::string out = args.log == "esa" ? render_esa_log(r)
                      : json            ? render_probe_json(r) + "\n"
                               : render_probe_text(r, {.color = color_wanted(args.color, STDOUT_FILENO), .transcript = !live});
    if (live) out = "\n" + out;
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  if (r.facts.interrupted) {
    // Where it waited: the phase of the last session that was cut short.
    for (const auto& h : r.facts.hosts)
      if (const starttls_facts* s = h.get<starttls_facts>(); s && s->error.code == session_error_code::interrupted)
        std::fprintf(stderr, "mxtls probe: interrupted while waiting in phase %s of %s\n", to_string(s->error.phase), h.address.c_str());
    return 130;
  }
  return r.diagnosis.exit_code;
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
  app->add_flag("--full", args->flags.full,
                "Run the checks that are off by default too (tls-enum: every version, suite, group and certificate; envelope still needs --rcpt)");
  add_probe_flags(app, args->flags);
  app->add_option("--format", args->format, "text or json (docs/probe-json.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_flag("--json", args->json, "The same as --format json");
  add_color_option(app, args->color, "text output");
  app->add_flag("-q,--quiet", args->quiet, "Print nothing on standard output: the exit code tells the outcome");
  app->add_option("--log", args->log, "esa: print Cisco-ESA-style mail_logs lines instead")->check(CLI::IsMember({"esa"}));
  app->footer(
      "Examples:\n"
      "  mxtls probe example.com\n"
      "  mxtls probe [127.0.0.1]:2525\n"
      "  mxtls probe 192.0.2.25 --name mx.example.com --policy required-verify\n"
      "  mxtls probe [127.0.0.1]:2525 --log esa\n\n"
      "Exit codes: 0 TLS works for every sender (a certificate problem under a setting that\n"
      "does not verify is reported, not failed); 1 some senders lose TLS, STARTTLS or the\n"
      "handshake fails, command or response injection, or the certificate fails a verify\n"
      "policy; 2 usage error; 3 nothing reachable (DNS, refused, timed out, 421, no banner);\n"
      "130 interrupted (SIGINT/SIGTERM: what was seen so far is printed). docs/exit-codes.md.");
  return {app, [args] { return run_probe_cmd(*args); }};
}

}  // namespace mxtls::cli
