#include "mxtls/scenario.hpp"

#include <openssl/ssl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <memory>
#include <set>

#include <fmt/format.h>

namespace mxtls {

const char* to_string(certificate_kind k) {
  switch (k) {
    case certificate_kind::self_signed: return "self-signed";
    case certificate_kind::expired: return "expired";
    case certificate_kind::not_yet_valid: return "not-yet-valid";
    case certificate_kind::wrong_host: return "wrong-host";
    case certificate_kind::ca_chain: return "ca-chain";
    case certificate_kind::missing_intermediate: return "missing-intermediate";
  }
  return "?";
}

std::string scenario_error::what() const {
  std::string s = file;
  if (line) s += fmt::format(":{}", line);
  s += ": ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

namespace {

struct reader {
  const std::string& file;
  scenario_error& error;
  bool failed = false;

  bool fail(const YAML::Node& n, const std::string& field, const std::string& message) {
    if (failed) return false;
    failed = true;
    error.file = file;
    error.line = n.Mark().line >= 0 ? static_cast<std::size_t>(n.Mark().line) + 1 : 0;
    error.field = field;
    error.message = message;
    return false;
  }

  bool text(const YAML::Node& n, const std::string& field, std::string& out) {
    if (!n.IsScalar()) return fail(n, field, "must be a string");
    out = n.as<std::string>();
    return true;
  }

  // One line of text that goes on the wire inside a reply or a name: CR or LF in it would
  // end the line early and smuggle in another.
  bool line_text(const YAML::Node& n, const std::string& field, std::string& out) {
    if (!text(n, field, out)) return false;
    if (out.find_first_of("\r\n") != std::string::npos)
      return fail(n, field, "must not contain CR or LF (one line); use 'raw' for exact octets");
    return true;
  }

  bool millis(const YAML::Node& n, const std::string& field, std::chrono::milliseconds& out) {
    long long v = 0;
    try {
      v = n.as<long long>();
    } catch (const YAML::Exception&) {
      return fail(n, field, "must be a whole number of milliseconds");
    }
    if (v < 0 || v > 3'600'000) return fail(n, field, "must be between 0 and 3600000 milliseconds");
    out = std::chrono::milliseconds(v);
    return true;
  }

  // A reply: a list of lines (joined with the scenario's line ending) or "raw" octets.
  // `lines`: a scalar may hold several lines (injected plaintext is octets, not one line).
  bool reply(const YAML::Node& n, const std::string& field, const std::string& eol, std::string& out, bool lines = false) {
    out.clear();
    if (n.IsSequence()) {
      if (n.size() == 0) return fail(n, field, "must list at least one line");
      for (const auto& line : n) {
        std::string s;
        if (!text(line, field, s)) return false;
        if (s.find_first_of("\r\n") != std::string::npos)
          return fail(line, field, "a line must not contain CR or LF; use 'raw' for exact octets");
        out += s + eol;
      }
      return true;
    }
    if (n.IsMap() && n["raw"]) return text(n["raw"], field + ".raw", out);
    if (n.IsScalar()) {
      std::string s;
      if (!(lines ? text(n, field, s) : line_text(n, field, s))) return false;
      out = s + eol;
      return true;
    }
    return fail(n, field, "must be a list of lines, one line, or {raw: \"octets\"}");
  }

  bool known_fields(const YAML::Node& n, const std::string& where, std::initializer_list<const char*> names) {
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      if (std::none_of(names.begin(), names.end(), [&](const char* k) { return key == k; })) {
        std::string list;
        for (const char* k : names) list += (list.empty() ? "" : ", ") + std::string(k);
        return fail(kv.first, where.empty() ? key : where + "." + key, "unknown field (known: " + list + ")");
      }
    }
    return true;
  }
};

int version_rank(const std::string& v) {
  static const char* order[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
  for (int i = 0; i < 4; ++i)
    if (v == order[i]) return i;
  return -1;
}

// The first element of an OpenSSL list ("A:B", also "A,B" or "A B") that `accepts` refuses
// alone; operators (!X, -X, +X) and @STRENGTH-style keywords are left to OpenSSL.
template <class Accepts>
std::string first_unknown(const std::string& list, Accepts accepts) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()), &SSL_CTX_free);
  if (!ctx) return "";
  std::size_t start = 0;
  while (start < list.size()) {
    std::size_t end = list.find_first_of(":, ", start);
    if (end == std::string::npos) end = list.size();
    std::string one = list.substr(start, end - start);
    start = end + 1;
    if (one.empty() || one[0] == '!' || one[0] == '-' || one[0] == '+' || one[0] == '@') continue;
    if (!accepts(ctx.get(), one)) return one;
  }
  return "";
}

// Why no suite of the scenario's cipher list can be negotiated at TLS 1.2 or below with its
// certificate key, versions and DH parameters ("" when one can).
std::string unusable_cipher_list(const scenario& s) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) return "";
  SSL_CTX_set_security_level(ctx.get(), 0);
  if (SSL_CTX_set_cipher_list(ctx.get(), s.tls_ciphers.c_str()) != 1) return "OpenSSL accepts no suite of this list";
  bool rsa = s.certificate_key.rfind("rsa-", 0) == 0 || s.second_certificate_key.rfind("rsa-", 0) == 0;
  bool ecdsa = s.certificate_key.rfind("ecdsa-", 0) == 0 || s.second_certificate_key.rfind("ecdsa-", 0) == 0;
  int highest = s.tls_max_version.empty() ? 3 : version_rank(s.tls_max_version);
  STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
    int auth = SSL_CIPHER_get_auth_nid(c), kx = SSL_CIPHER_get_kx_nid(c);
    bool key_fits = auth == NID_auth_null || (rsa && auth == NID_auth_rsa) || (ecdsa && auth == NID_auth_ecdsa);
    bool kx_fits = (kx != NID_kx_dhe && kx != NID_kx_dhe_psk) || s.dh_bits > 0;
    bool psk = kx == NID_kx_psk || kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe_psk || kx == NID_kx_rsa_psk || kx == NID_kx_srp;
    int since = std::max(0, version_rank(SSL_CIPHER_get_version(c)));  // "SSLv3": from the lowest
    if (key_fits && kx_fits && !psk && since <= highest) return "";
  }
  return fmt::format("no suite of the list can be used with a {} certificate{} at {} to {} (the key, the versions or DHE "
                     "without tls.dh_bits rule each out)",
                     s.certificate_key + (s.second_certificate_key.empty() ? "" : " or " + s.second_certificate_key), s.dh_bits ? fmt::format(" and {}-bit DH", s.dh_bits) : "",
                     s.tls_min_version.empty() ? "TLSv1" : s.tls_min_version, s.tls_max_version);
}

const std::set<std::string> commands{"banner", "EHLO", "HELO", "STARTTLS", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "DOT"};

}  // namespace

std::optional<scenario> parse_scenario(const std::string& yaml, const std::string& file, scenario_error& error) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    error = {file, static_cast<std::size_t>(e.mark.line + 1), "", e.msg};
    return std::nullopt;
  }
  reader rd{file, error};
  if (!root.IsMap()) {
    rd.fail(root, "", "a scenario is a mapping of fields (name, banner, ehlo, ...)");
    return std::nullopt;
  }
  if (!rd.known_fields(root, "", {"name", "description", "expect", "host", "line_ending", "banner", "ehlo", "ehlo_after_tls",
                                  "starttls", "tls", "delays", "drip_us", "faults"}))
    return std::nullopt;

  scenario s;
  s.source = file;
  if (!root["name"]) {
    rd.fail(root, "name", "is required");
    return std::nullopt;
  }
  if (!rd.text(root["name"], "name", s.name)) return std::nullopt;
  if (root["description"] && !rd.text(root["description"], "description", s.description)) return std::nullopt;
  if (root["host"] && !rd.line_text(root["host"], "host", s.host)) return std::nullopt;
  if (root["line_ending"]) {
    std::string e;
    if (!rd.text(root["line_ending"], "line_ending", e)) return std::nullopt;
    if (e == "crlf") s.line_ending = "\r\n";
    else if (e == "lf") s.line_ending = "\n";
    else if (e == "cr") s.line_ending = "\r";
    else {
      rd.fail(root["line_ending"], "line_ending", "must be crlf, lf or cr");
      return std::nullopt;
    }
  }
  const std::string& eol = s.line_ending;
  if (root["banner"]) {
    if (!rd.reply(root["banner"], "banner", eol, s.banner)) return std::nullopt;
  } else {
    s.banner = "220 " + s.host + " ESMTP mxtls serve" + eol;
  }
  if (root["ehlo"]) {
    if (!rd.reply(root["ehlo"], "ehlo", eol, s.ehlo)) return std::nullopt;
  } else {
    s.ehlo = "250-" + s.host + eol + "250-PIPELINING" + eol + "250-8BITMIME" + eol + "250 STARTTLS" + eol;
  }
  if (root["ehlo_after_tls"]) {
    if (!rd.reply(root["ehlo_after_tls"], "ehlo_after_tls", eol, s.ehlo_after_tls)) return std::nullopt;
  } else {
    s.ehlo_after_tls = "250-" + s.host + eol + "250-PIPELINING" + eol + "250 8BITMIME" + eol;
  }

  s.starttls_reply = "220 2.0.0 Ready to start TLS" + eol;
  if (const YAML::Node st = root["starttls"]) {
    if (!st.IsMap()) {
      rd.fail(st, "starttls", "must be a mapping (reply, inject_after_220, execute_pipelined)");
      return std::nullopt;
    }
    if (!rd.known_fields(st, "starttls", {"reply", "inject_after_220", "execute_pipelined"})) return std::nullopt;
    if (st["reply"]) {
      std::string r;
      if (st["reply"].IsScalar() && (st["reply"].as<std::string>() == "none")) {
        s.starttls_silent = true;
        s.starttls_reply.clear();
      } else if (st["reply"].IsScalar() && st["reply"].as<std::string>() == "disconnect") {
        s.starttls_disconnect = true;
        s.starttls_reply.clear();
      } else if (!rd.reply(st["reply"], "starttls.reply", eol, s.starttls_reply)) {
        return std::nullopt;
      }
    }
    if (st["inject_after_220"] && !rd.reply(st["inject_after_220"], "starttls.inject_after_220", eol, s.inject_after_220, true))
      return std::nullopt;
    if (st["execute_pipelined"]) {
      try {
        s.execute_pipelined = st["execute_pipelined"].as<bool>();
      } catch (const YAML::Exception&) {
        rd.fail(st["execute_pipelined"], "starttls.execute_pipelined", "must be true or false");
        return std::nullopt;
      }
    }
  }

  if (const YAML::Node tls = root["tls"]) {
    if (!tls.IsMap()) {
      rd.fail(tls, "tls", "must be a mapping (min_version, max_version, ciphers, certificate)");
      return std::nullopt;
    }
    if (!rd.known_fields(tls, "tls", {"min_version", "max_version", "ciphers", "ciphersuites", "groups", "server_order", "certificate",
                                      "key", "second_key", "signature", "dh_bits"}))
      return std::nullopt;
    for (auto [key, out] : {std::pair{"min_version", &s.tls_min_version}, std::pair{"max_version", &s.tls_max_version}}) {
      if (!tls[key]) continue;
      if (!rd.text(tls[key], std::string("tls.") + key, *out)) return std::nullopt;
      static const std::set<std::string> versions{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
      if (!versions.count(*out)) {
        rd.fail(tls[key], std::string("tls.") + key, "must be TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3");
        return std::nullopt;
      }
    }
    if (!s.tls_min_version.empty() && !s.tls_max_version.empty() &&
        version_rank(s.tls_min_version) > version_rank(s.tls_max_version)) {
      rd.fail(tls["min_version"], "tls.min_version",
              fmt::format("{} is above max_version {}: no version is left", s.tls_min_version, s.tls_max_version));
      return std::nullopt;
    }
    if (tls["ciphers"]) {
      if (!rd.text(tls["ciphers"], "tls.ciphers", s.tls_ciphers)) return std::nullopt;
      std::string unknown = first_unknown(s.tls_ciphers, [](SSL_CTX* ctx, const std::string& one) {
        return SSL_CTX_set_cipher_list(ctx, one.c_str()) == 1;
      });
      if (!unknown.empty()) {
        rd.fail(tls["ciphers"], "tls.ciphers",
                fmt::format("OpenSSL knows no cipher or cipher class '{}' (openssl ciphers -v ALL lists them)", unknown));
        return std::nullopt;
      }
    }
    // TLS 1.3 suites (SSL_CTX_set_ciphersuites(3)): names only, no cipher classes.
    if (tls["ciphersuites"]) {
      if (!rd.text(tls["ciphersuites"], "tls.ciphersuites", s.tls_ciphersuites)) return std::nullopt;
      std::string unknown = first_unknown(s.tls_ciphersuites, [](SSL_CTX* ctx, const std::string& one) {
        return SSL_CTX_set_ciphersuites(ctx, one.c_str()) == 1 && sk_SSL_CIPHER_num(SSL_CTX_get_ciphers(ctx)) > 0;
      });
      if (s.tls_ciphersuites.empty() || !unknown.empty()) {
        rd.fail(tls["ciphersuites"], "tls.ciphersuites",
                fmt::format("OpenSSL knows no TLS 1.3 suite '{}' (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
                            "TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256)",
                            unknown));
        return std::nullopt;
      }
      if (!s.tls_max_version.empty() && version_rank(s.tls_max_version) < 3) {
        rd.fail(tls["ciphersuites"], "tls.ciphersuites",
                fmt::format("sets the TLS 1.3 suites and max_version is {} (tls.ciphers sets those of TLS 1.2 and below)",
                            s.tls_max_version));
        return std::nullopt;
      }
    }
    if (tls["groups"]) {
      if (!rd.text(tls["groups"], "tls.groups", s.tls_groups)) return std::nullopt;
      std::string unknown = first_unknown(s.tls_groups, [](SSL_CTX* ctx, const std::string& one) {
        return SSL_CTX_set1_groups_list(ctx, one.c_str()) == 1;
      });
      if (s.tls_groups.empty() || !unknown.empty()) {
        rd.fail(tls["groups"], "tls.groups",
                fmt::format("OpenSSL knows no key exchange group '{}' (e.g. X25519, P-256, P-384, ffdhe2048)", unknown));
        return std::nullopt;
      }
    }
    if (tls["server_order"]) {
      try {
        s.tls_server_order = tls["server_order"].as<bool>();
      } catch (const YAML::Exception&) {
        rd.fail(tls["server_order"], "tls.server_order", "must be true or false");
        return std::nullopt;
      }
    }
    if (tls["certificate"]) {
      std::string c;
      if (!rd.text(tls["certificate"], "tls.certificate", c)) return std::nullopt;
      bool found = false;
      for (auto k : {certificate_kind::self_signed, certificate_kind::expired, certificate_kind::not_yet_valid,
                     certificate_kind::wrong_host, certificate_kind::ca_chain, certificate_kind::missing_intermediate})
        if (c == to_string(k)) {
          s.certificate = k;
          found = true;
        }
      if (!found) {
        rd.fail(tls["certificate"], "tls.certificate",
                "must be self-signed, expired, not-yet-valid, wrong-host, ca-chain or missing-intermediate");
        return std::nullopt;
      }
    }
    if (tls["key"]) {
      static const std::set<std::string> keys{"ecdsa-p256", "ecdsa-p384", "rsa-1024", "rsa-2048", "rsa-3072", "rsa-4096"};
      if (!rd.text(tls["key"], "tls.key", s.certificate_key)) return std::nullopt;
      if (!keys.count(s.certificate_key)) {
        rd.fail(tls["key"], "tls.key", "must be ecdsa-p256, ecdsa-p384, rsa-1024, rsa-2048, rsa-3072 or rsa-4096");
        return std::nullopt;
      }
    }
    if (tls["second_key"]) {
      static const std::set<std::string> keys{"ecdsa-p256", "ecdsa-p384", "rsa-1024", "rsa-2048", "rsa-3072", "rsa-4096"};
      if (!rd.text(tls["second_key"], "tls.second_key", s.second_certificate_key)) return std::nullopt;
      if (!keys.count(s.second_certificate_key)) {
        rd.fail(tls["second_key"], "tls.second_key", "must be ecdsa-p256, ecdsa-p384, rsa-1024, rsa-2048, rsa-3072 or rsa-4096");
        return std::nullopt;
      }
      // OpenSSL holds one certificate per key type: a second one of the same type replaces the first.
      auto type = [](const std::string& k) { return k.substr(0, k.find('-')); };
      if (type(s.second_certificate_key) == type(s.certificate_key)) {
        rd.fail(tls["second_key"], "tls.second_key",
                fmt::format("{} is of the same key type as tls.key {}: the server holds one certificate per key type, "
                            "so the second key must be RSA beside ECDSA or ECDSA beside RSA",
                            s.second_certificate_key, s.certificate_key));
        return std::nullopt;
      }
    }
    if (tls["signature"]) {
      if (!rd.text(tls["signature"], "tls.signature", s.certificate_digest)) return std::nullopt;
      if (s.certificate_digest != "sha256" && s.certificate_digest != "sha1") {
        rd.fail(tls["signature"], "tls.signature", "must be sha256 or sha1 (the hash the certificates are signed with)");
        return std::nullopt;
      }
    }
    if (tls["dh_bits"]) {
      try {
        s.dh_bits = tls["dh_bits"].as<int>();
      } catch (const YAML::Exception&) {
        s.dh_bits = -1;
      }
      if (s.dh_bits != 1024 && s.dh_bits != 2048 && s.dh_bits != 3072 && s.dh_bits != 4096) {
        rd.fail(tls["dh_bits"], "tls.dh_bits", "must be 1024, 2048, 3072 or 4096");
        return std::nullopt;
      }
      if (s.tls_min_version == "TLSv1.3") {
        rd.fail(tls["dh_bits"], "tls.dh_bits",
                "sets the DHE parameters of TLS 1.2 and below, and min_version is TLSv1.3 (TLS 1.3 takes ffdhe groups in tls.groups)");
        return std::nullopt;
      }
    }
    // A cipher list none of whose suites this server could use (the certificate's key, the
    // versions, DHE without parameters) leaves TLS 1.2 and below with nothing: refused.
    if (tls["ciphers"] && version_rank(s.tls_max_version.empty() ? "TLSv1.3" : s.tls_max_version) < 3) {
      std::string why = unusable_cipher_list(s);
      if (!why.empty()) {
        rd.fail(tls["ciphers"], "tls.ciphers", why);
        return std::nullopt;
      }
    }
  }

  if (const YAML::Node d = root["delays"]) {
    if (!d.IsMap()) {
      rd.fail(d, "delays", "must map a command (or banner) to milliseconds");
      return std::nullopt;
    }
    for (const auto& kv : d) {
      std::string cmd = kv.first.as<std::string>();
      if (!commands.count(cmd)) {
        rd.fail(kv.first, "delays." + cmd, "unknown command (known: banner, EHLO, HELO, STARTTLS, MAIL, RCPT, DATA, DOT, RSET, NOOP, QUIT)");
        return std::nullopt;
      }
      std::chrono::milliseconds ms{};
      if (!rd.millis(kv.second, "delays." + cmd, ms)) return std::nullopt;
      s.delays[cmd] = ms;
    }
  }
  if (root["drip_us"]) {
    long long v = -1;
    try {
      v = root["drip_us"].as<long long>();
    } catch (const YAML::Exception&) {
    }
    if (v < 0 || v > 10'000'000) {
      rd.fail(root["drip_us"], "drip_us", "must be microseconds between 0 and 10000000");
      return std::nullopt;
    }
    s.drip = std::chrono::microseconds(v);
  }
  if (const YAML::Node f = root["faults"]) {
    if (!f.IsSequence()) {
      rd.fail(f, "faults", "must be a list of {at: COMMAND, action: \"421 ...\" or disconnect}");
      return std::nullopt;
    }
    for (const auto& item : f) {
      if (!item.IsMap() || !item["at"] || !item["action"]) {
        rd.fail(item, "faults", "each fault needs 'at' and 'action'");
        return std::nullopt;
      }
      if (!rd.known_fields(item, "faults", {"at", "action"})) return std::nullopt;
      scenario_fault fault;
      if (!rd.text(item["at"], "faults.at", fault.at) || !rd.line_text(item["action"], "faults.action", fault.action))
        return std::nullopt;
      if (!commands.count(fault.at)) {
        rd.fail(item["at"], "faults.at", "unknown step (known: banner, EHLO, HELO, STARTTLS, MAIL, RCPT, DATA, DOT, RSET, NOOP, QUIT)");
        return std::nullopt;
      }
      if (fault.action != "disconnect") {
        if (fault.action.size() < 3 || !std::isdigit(static_cast<unsigned char>(fault.action[0])) ||
            !std::isdigit(static_cast<unsigned char>(fault.action[1])) || !std::isdigit(static_cast<unsigned char>(fault.action[2]))) {
          rd.fail(item["action"], "faults.action", "must be a reply line starting with a code, or disconnect");
          return std::nullopt;
        }
        fault.action += eol;
      }
      s.faults.push_back(std::move(fault));
    }
  }
  return s;
}

std::optional<scenario> builtin(const std::string& name, scenario_error& error) {
  for (const auto& b : builtin_scenarios())
    if (name == b.name) return parse_scenario(b.yaml, std::string("built-in scenario ") + b.name, error);
  error = {"", 0, "", fmt::format("no built-in scenario '{}' (see mxtls serve --list)", name)};
  return std::nullopt;
}

}  // namespace mxtls
