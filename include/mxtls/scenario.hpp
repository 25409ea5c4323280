// Scenarios for `mxtls serve`: how a mock SMTP server behaves, as data.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mxtls {

enum class certificate_kind {
  self_signed,           // for the scenario's host name
  expired,               // validity ended yesterday
  not_yet_valid,         // validity starts tomorrow
  wrong_host,            // issued for another name
  ca_chain,              // leaf + intermediate, signed by a generated test CA
  missing_intermediate,  // leaf signed by the intermediate, which is not sent
};
const char* to_string(certificate_kind k);

// What the server does when a command (or the banner) comes up.
struct scenario_fault {
  std::string at;      // "banner", "EHLO", "STARTTLS", "MAIL", "RCPT", "DATA", "QUIT", ...
  std::string action;  // a reply line such as "421 4.3.2 Service not available", or "disconnect"
};

struct scenario {
  std::string name;
  std::string description;
  std::string host = "mx.mxtls.test";
  std::string banner;            // the banner's octets, line ending included
  std::string ehlo;              // the EHLO reply's octets before TLS
  std::string ehlo_after_tls;    // after TLS
  // STARTTLS
  std::string starttls_reply;    // octets; empty with starttls_silent or starttls_disconnect
  bool starttls_silent = false;      // no reply at all
  bool starttls_disconnect = false;  // close the connection instead of replying
  std::string inject_after_220;      // plaintext sent right after the 220 (response injection)
  bool execute_pipelined = false;    // run commands pipelined with STARTTLS after the handshake
  // TLS
  std::string tls_min_version;   // "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"; empty: library default
  std::string tls_max_version;
  std::string tls_ciphers;       // OpenSSL cipher list for TLS 1.2 and below
  std::string tls_ciphersuites;  // OpenSSL TLS 1.3 suite list ("TLS_AES_128_GCM_SHA256:..."); empty: library default
  std::string tls_groups;        // OpenSSL key exchange group list ("X25519:P-256"); empty: library default
  bool tls_server_order = false; // choose the suite by the server's list order, not the client's
  certificate_kind certificate = certificate_kind::self_signed;
  // The certificates' key and signature hash, and the DHE parameters (weak servers).
  std::string certificate_key = "ecdsa-p256";  // ecdsa-p256, ecdsa-p384, rsa-1024, rsa-2048, rsa-3072, rsa-4096
  std::string certificate_digest = "sha256";    // the signatures' hash: sha256 or sha1
  // A second certificate with a key of the other type (an RSA key beside an ECDSA one): the
  // server holds both and OpenSSL chooses one per ClientHello (its signature algorithms, and
  // at TLS 1.2 and below the suite's authentication). Empty: one certificate.
  std::string second_certificate_key;
  int dh_bits = 0;                              // DHE parameters: 1024, 2048, 3072, 4096; 0: none (no DHE suite)
  // Timing
  std::map<std::string, std::chrono::milliseconds> delays;  // per command (or "banner")
  std::chrono::microseconds drip{0};                        // pause before each octet of a reply
  std::vector<scenario_fault> faults;
  std::string line_ending = "\r\n";
  std::string source;  // where it came from (file name or "built-in")
};

struct scenario_error {
  std::string file;
  std::size_t line = 0;  // 1-based; 0 when unknown
  std::string field;
  std::string message;
  std::string what() const;  // "file:line: field: message"
};

// Parses a scenario from YAML text; `file` names it in errors.
std::optional<scenario> parse_scenario(const std::string& yaml, const std::string& file, scenario_error& error);

struct builtin_scenario {
  const char* name;  // the file name without .yaml
  const char* yaml;  // the file's text (scenarios/ and scenarios/findings/, built in)
};
const std::vector<builtin_scenario>& builtin_scenarios();
std::optional<scenario> builtin(const std::string& name, scenario_error& error);

}  // namespace mxtls
