// `mxtls tlsa`: the TLSA records to publish for a live server's chain or a certificate file,
// and a record set (and the next key) checked against it. Wiring only: the digests come
// from the engine (dane_chain.hpp, the starttls session), the judgement from core (dane.hpp).
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "mxtls/dane.hpp"
#include "mxtls/dane_chain.hpp"
#include "mxtls/live_session.hpp"
#include "mxtls/probe.hpp"

namespace mxtls::cli {

namespace {

struct tlsa_args {
  std::string target;
  unsigned short port = 25;
  std::string owner;
  std::vector<std::string> records;  // --record "U S M HEX"
  std::string records_file;          // --records FILE: zone lines or "U S M HEX" lines
  std::string next_key;
  std::string sni;
  double timeout = 15;
};

bool is_file(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

struct served_chain {
  std::vector<chain_digest> digests;
  std::vector<std::string> subjects;
  std::string default_owner;
  std::optional<dane_tls_facts> dane;  // a live server, records given: OpenSSL's own verdict
  std::string error;
  bool unreachable = false;
};

served_chain live_chain(const tlsa_args& a, const std::vector<tlsa_record>& records) {
  served_chain out;
  probe_target t = parse_probe_target(a.target, a.port);
  asio::io_context io;
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto found = resolver.resolve(t.host, std::to_string(t.port), ec);
  if (ec || found.empty()) {
    out.error = fmt::format("cannot resolve {}: {}", t.host, ec ? ec.message() : "no address");
    out.unreachable = true;
    return out;
  }
  session_options so;
  auto ms = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  so.timeouts.connect = so.timeouts.banner = so.timeouts.command = so.timeouts.tls = ms;
  so.sni = !a.sni.empty() ? a.sni : t.literal ? std::string() : t.host;
  so.dane.digests = true;
  so.dane.base_domain = !a.sni.empty() ? a.sni : t.host;
  for (const auto& r : records)
    if (usability_of(r) == tlsa_usability::usable) so.dane.records.push_back(r);
  starttls_facts f;
  asio::co_spawn(io, run_starttls_session(*found.begin(), so), [&](std::exception_ptr e, starttls_facts r) {
    if (!e) f = std::move(r);
  });
  io.run();
  if (!f.tls.established) {
    out.error = fmt::format("no TLS session with {}:{} ({} at {}{})", t.host, t.port, to_string(f.error.code), to_string(f.error.phase),
                            f.error.detail.empty() ? "" : ": " + f.error.detail);
    out.unreachable = true;
    return out;
  }
  out.digests = f.tls.dane.chain_digests;
  for (const auto& c : f.tls.chain) out.subjects.push_back(c.subject);
  out.default_owner = fmt::format("_{}._tcp.{}.", t.port, t.host);
  if (f.tls.dane.enabled) out.dane = f.tls.dane;
  return out;
}

int run_tlsa(const tlsa_args& a) {
  std::vector<tlsa_record> records;
  auto add_record = [&](const std::string& text, const std::string& where) {
    std::string err;
    auto r = parse_tlsa_text(text, err);
    if (!r) {
      std::fprintf(stderr, "mxtls tlsa: %s'%s': %s\n", where.c_str(), text.c_str(), err.c_str());
      return false;
    }
    records.push_back(*r);
    return true;
  };
  for (const auto& r : a.records)
    if (!add_record(r, "--record ")) return exit_usage;
  if (!a.records_file.empty()) {
    std::ifstream in(a.records_file);
    if (!in) {
      std::fprintf(stderr, "mxtls tlsa: --records: cannot open '%s'\n", a.records_file.c_str());
      return exit_usage;
    }
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      auto first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == ';' || line[first] == '#' || line[first] == '$') continue;
      if (!add_record(line, fmt::format("{} line {}: ", a.records_file, n))) return exit_usage;
    }
  }
  std::string next_key;
  if (!a.next_key.empty()) {
    std::string err;
    next_key = spki_sha256_of_pem(a.next_key, err);
    if (next_key.empty()) {
      std::fprintf(stderr, "mxtls tlsa: --next-key: %s\n", err.c_str());
      return exit_usage;
    }
  }

  served_chain chain;
  if (is_file(a.target)) {
    pem_chain p = read_pem_chain(a.target);
    if (!p.error.empty()) {
      std::fprintf(stderr, "mxtls tlsa: %s\n", p.error.c_str());
      return exit_usage;
    }
    chain.digests = p.digests;
    chain.subjects = p.subjects;
    chain.default_owner = p.leaf_names.empty() ? "_25._tcp.HOST." : "_25._tcp." + p.leaf_names.front() + ".";
  } else {
    try {
      chain = live_chain(a, records);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "mxtls tlsa: %s (TARGET is a certificate file or [host]:port)\n", e.what());
      return exit_usage;
    }
    if (chain.unreachable) {
      std::fprintf(stderr, "mxtls tlsa: %s\n", chain.error.c_str());
      return 3;
    }
  }
  std::string owner = !a.owner.empty() ? a.owner : chain.default_owner;
  if (!owner.empty() && owner.back() != '.') owner += '.';

  std::string out;
  for (std::size_t i = 0; i < chain.subjects.size(); ++i)
    out += fmt::format("; depth {}: {}\n", i, chain.subjects[i]);
  // What to publish: the leaf's key (DANE-EE) and each issuer's key sent (DANE-TA).
  for (const auto& r : records_to_publish(chain.digests))
    out += fmt::format("{} IN TLSA {}  ; {}\n", owner, tlsa_text(r), r.usage == 3 ? "the leaf's key (DANE-EE)" : "an issuer's key (DANE-TA)");
  int status = exit_ok;
  if (!records.empty()) {
    out += "\n; the records given, against this chain (RFC 7672 §3.1, RFC 7671 §9):\n";
    bool any = false;
    for (const auto& c : check_records(records, chain.digests)) {
      std::string what = c.match == tlsa_match::matches       ? fmt::format("matches at depth {}", c.depth)
                         : c.match == tlsa_match::unusable    ? fmt::format("unusable ({})", to_string(c.usability))
                         : c.match == tlsa_match::weaker_digest ? "not used: a SHA2-512 record of the same usage and selector exists"
                                                                : "does not match";
      any = any || c.match == tlsa_match::matches;
      out += fmt::format("{}  ; {}\n", tlsa_text(c.record), what);
    }
    if (chain.dane) {
      out += chain.dane->verified ? fmt::format("; OpenSSL's DANE verification of the live handshake: verified (depth {})\n", chain.dane->matched_depth)
                                  : fmt::format("; OpenSSL's DANE verification of the live handshake: failed ({})\n", chain.dane->verify_error);
      any = chain.dane->verified;
    }
    if (!any) status = exit_findings;
  }
  if (!next_key.empty()) {
    std::string line = "3 1 1 " + next_key;
    bool published = false;
    for (const auto& r : records) published = published || tlsa_text(r) == line;
    if (records.empty()) {
      out += fmt::format("\n; the next key: publish before switching to it\n{} IN TLSA {}\n", owner, line);
    } else if (published) {
      out += fmt::format("\n; the next key's record is published: {}\n", line);
    } else {
      out += fmt::format("\n; the next key's record is NOT published (RFC 7671 §8.1): add before switching keys\n{} IN TLSA {}\n", owner, line);
      status = exit_findings;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return status;
}

}  // namespace

command add_tlsa(CLI::App& parent) {
  auto args = std::make_shared<tlsa_args>();
  CLI::App* app = parent.add_subcommand("tlsa", "TLSA records to publish for a server or a certificate, and a record set checked");
  app->description(
      "Prints the TLSA records (RFC 6698, RFC 7672) to publish for the certificate chain a\n"
      "server presents after STARTTLS, or for a PEM chain file: 3 1 1 for the leaf's key and\n"
      "2 1 1 for each issuer sent, as zone-file lines. With records given, checks each against\n"
      "the chain (and, for a live server, has OpenSSL verify the handshake with them); with\n"
      "--next-key, checks that the next key's 3 1 1 record is already published.");
  app->add_option("TARGET", args->target, "a PEM certificate (chain) file, or [host]:port / host (STARTTLS on port 25)")->required();
  app->add_option("-p,--port", args->port, "Port when the target has none")->capture_default_str();
  app->add_option("--owner", args->owner, "Owner name of the zone lines (default: _PORT._tcp.HOST. of the target or the leaf's first name)");
  app->add_option("--record", args->records, "A published record to check, \"USAGE SELECTOR MTYPE HEX\" (repeatable)");
  app->add_option("--records", args->records_file, "A file of records to check: zone-file TLSA lines or \"USAGE SELECTOR MTYPE HEX\" lines")
      ->check(CLI::ExistingFile);
  app->add_option("--next-key", args->next_key, "The next key (PEM certificate, public or private key): is its 3 1 1 record published?")
      ->check(CLI::ExistingFile);
  app->add_option("--sni", args->sni, "Server name sent, and the TLSA base domain (default: the target's host name)");
  app->add_option("--timeout", args->timeout, "SECONDS for each step of the live session")->capture_default_str();
  app->footer(
      "Examples:\n"
      "  mxtls tlsa mx.example.com\n"
      "  mxtls tlsa /etc/ssl/mail/chain.pem --owner _25._tcp.mx.example.com\n"
      "  mxtls tlsa [192.0.2.25]:25 --sni mx.example.com --record \"3 1 1 3f6c...\" --next-key next.pem\n\n"
      "Exit codes: 0 done (and, with records, one matches; with --next-key, it is published);\n"
      "1 no record given matches, or the next key is not published; 2 usage error or\n"
      "unreadable file; 3 no TLS session with the server.");
  return {app, [args] { return run_tlsa(*args); }};
}

}  // namespace mxtls::cli
