// The facts each check records, and the registry of checks: what a probe can run against
// a destination, at which scope, after what, with how many connections of its own.
//
// A check's result is one alternative of check_result; a renderer that forgets one does not
// compile (std::visit with an overload set).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mxtls/model/dialogue.hpp"
#include "mxtls/model/session.hpp"

namespace mxtls {

enum class check_id : std::uint8_t { starttls, injection, envelope, dane, mta_sts, tls_senders, tls_enum };
inline constexpr std::size_t check_count = 7;

enum class check_scope : std::uint8_t { domain, mx_host, address };
const char* to_string(check_scope s);

// What the session waited for before it took the EHLO reply as complete.
enum class ehlo_wait : std::uint8_t {
  final_line,       // the reply's final line, nothing more was buffered
  buffered_lines,   // lines already received after the final line were kept with it
  next_answer,      // lines after the final line arrived before the answer to the next command
};
const char* to_string(ehlo_wait w);

// check "starttls": the session a sending MTA has: banner, EHLO, STARTTLS, handshake,
// certificate, EHLO again, QUIT.
struct starttls_facts {
  std::vector<session_event> events;
  std::string banner;          // octets as received
  std::string ehlo;            // octets of the EHLO reply, lines after its final line included
  std::size_t ehlo_after_final = 0;  // of those, octets after the final line
  ehlo_wait ehlo_waited = ehlo_wait::final_line;
  std::string ehlo_after_tls;
  bool starttls_offered = false;    // the word STARTTLS appears in the EHLO reply
  bool starttls_sent = false;
  dialogue_facts dialogue;
  std::size_t plaintext_after_220 = 0;  // octets after the 220, discarded (RFC 3207 §4.2)
  tls_facts tls;
  session_error error;  // what ended the session early
  // This end of the connection and when the session began (wall clock), as a sending MTA's
  // own log records them (mxtls probe --log esa: the "interface" address, the timestamps).
  std::string local_address;         // empty: no connection was made
  std::int64_t started_unix_ms = 0;  // 0: not recorded (a session not run live)
};

// check "injection": STARTTLS and NOOP in one segment; after the handshake a vulnerable
// server answers the NOOP inside TLS (CVE-2011-0411 class). QUIT is sent inside TLS: the
// first answer is QUIT's (221) when the NOOP was discarded, the NOOP's when it was kept.
enum class injection_status : std::uint8_t {
  not_vulnerable,  // the first answer inside TLS was QUIT's
  vulnerable,      // the first answer inside TLS was the plaintext NOOP's
  not_applicable,  // STARTTLS not offered, or not answered with 220
  incomplete,      // the check could not finish (error says why)
};
const char* to_string(injection_status s);

struct injection_facts {
  injection_status status = injection_status::incomplete;
  std::int64_t waited_ms = 0;   // from the handshake to the first answer inside TLS
  std::size_t answered_octets = 0;
  std::string answer;           // the first line of the unasked answer
  session_error error;
};

// check "envelope" (--rcpt): MAIL FROM:<> and RCPT TO:<…> on the starttls session, then
// RSET; sends no mail. Greylisting and recipient checks answer here.
struct envelope_facts {
  std::string rcpt;
  int mail_code = -1, rcpt_code = -1;
  std::string mail_reply, rcpt_reply;  // first line of each reply
  session_error error;
};

// check "tls-senders": each sender TLS profile's own ClientHello (sender_tls.hpp), one
// STARTTLS session per profile, when the probe's own handshake was established. A profile
// whose acceptance the probe's handshake already shows is not replayed (`replayed` false:
// the facts are the probe's).
struct profile_handshake {
  std::string profile;         // tls_profile id
  bool replayed = false;
  bool established = false;
  std::string protocol, cipher, group;
  // What the replayed hello was served (established replays): the leaf, and each certificate's
  // TLSA digests (selectors 0 and 1, matching types 1 and 2), which a DANE check of this
  // sender's is given; empty when not replayed (the probe's handshake stands for it).
  std::optional<certificate_facts> leaf;
  std::vector<chain_digest> chain_digests;
  session_error error;         // why the session ended early (handshake-failed: OpenSSL's reason)
};
struct tls_senders_facts {
  std::vector<profile_handshake> handshakes;  // in tls_profiles() order
  const profile_handshake* find(std::string_view profile) const {
    for (const auto& h : handshakes)
      if (h.profile == profile) return &h;
    return nullptr;
  }
};

// check "tls-enum": what the server accepts, found with ClientHellos of the probe's own, one
// STARTTLS session each (src/net/tls_enum.cpp). Suites are described by what OpenSSL says of
// them, so that core can judge them without OpenSSL.
struct tls_enum_suite {
  std::string name;   // OpenSSL's name (ECDHE-RSA-AES128-GCM-SHA256, TLS_AES_128_GCM_SHA256)
  std::string kx;     // key exchange: ECDHE, DHE, RSA, PSK, ..., "any" (TLS 1.3)
  std::string auth;   // authentication: RSA, ECDSA, DSS, NULL (anonymous), ..., "any" (TLS 1.3)
  std::string enc;    // bulk cipher: AES-128-GCM, DES-EDE3-CBC, RC4, ..., NULL (none)
  int bits = 0;       // the cipher's strength in bits (0: NULL)
};
struct tls_enum_version {
  std::string version;  // TLSv1, TLSv1.1, TLSv1.2, TLSv1.3
  bool accepted = false;
  // Suites accepted at this version, in the order the server chose them from offers that
  // shrank by one each time. `server_order`: a reversed offer got the same first choice (the
  // server's preference decides); false: the client's order decides, and the list is in
  // OpenSSL's default order; unset: fewer than two suites.
  std::vector<tls_enum_suite> suites;
  std::optional<bool> server_order;
  // From the handshake of everything at this version:
  std::optional<bool> secure_renegotiation;  // RFC 5746 renegotiation_info (TLS 1.2 and below)
  bool ocsp_stapled = false;                 // a status_request answered with an OCSP response
  bool session_ticket = false;               // a session ticket was issued (TLS 1.3: after an EHLO inside TLS)
  std::string compression;                   // the method negotiated; empty: none (or none could be offered)
  std::string signature_digest;              // the hash of the server's handshake signature
  session_error error;                       // why the version was not accepted
};
struct tls_enum_certificate {
  certificate_facts leaf;
  std::string signature_algorithm;  // the certificate's own signature (sha256WithRSAEncryption, ecdsa-with-SHA1, ...)
  std::string spki_sha256;          // SHA-256 of the SubjectPublicKeyInfo, hex (a DANE 3 1 1 record's data)
  std::vector<std::string> chosen_for;  // the ClientHellos it was sent for (a signature algorithm, "aRSA", "aECDSA")
};
// The enumeration's own bounds (docs/limits.md): handshakes at once to one address (inside
// the per-address gate of mxtls scan, which also applies) and in all; past the second the
// facts say complete = false.
struct tls_enum_limits {
  std::size_t concurrency = 8;
  std::size_t max_handshakes = 300;
};
struct tls_enum_facts {
  std::vector<tls_enum_version> versions;        // TLSv1.3 first, down to TLSv1
  std::vector<std::string> groups;               // key exchange groups accepted, each offered alone
  std::string groups_version;                    // the version they were tried at; empty: not tried
  std::vector<std::string> signature_algorithms; // signature algorithms accepted, each offered alone
  std::string signature_algorithms_version;
  std::vector<tls_enum_certificate> certificates;  // each distinct leaf the server sent
  int dh_bits = 0;               // the smallest DHE group of an accepted DHE suite (0: none)
  bool compression_offered = false;  // this OpenSSL can offer compression (built with zlib)
  std::size_t handshakes = 0;    // sessions opened
  bool complete = true;          // false: stopped, or the handshake limit was reached
  const tls_enum_version* find(std::string_view version) const {
    for (const auto& v : versions)
      if (v.version == version) return &v;
    return nullptr;
  }
};

using check_result = std::variant<starttls_facts, injection_facts, envelope_facts, tls_senders_facts, tls_enum_facts>;

struct check_info {
  check_id id;
  std::string_view name;  // for --check / --skip and the JSON
  check_scope scope;
  std::span<const check_id> needs;  // checks whose results it needs first (or shares)
  unsigned connections;   // connections it opens per address (0: rides on another's)
  bool by_default;
  bool in_full = false;   // --full turns it on
  std::string_view summary;  // for --help
};

std::span<const check_info> all_checks();
const check_info& info(check_id id);
std::optional<check_id> find_check(std::string_view name);

// Which checks run: a bit per check_id.
struct check_set {
  std::array<bool, check_count> on{};
  bool has(check_id id) const { return on[static_cast<std::size_t>(id)]; }
  void set(check_id id, bool v) { on[static_cast<std::size_t>(id)] = v; }
  static check_set defaults();
};

// --check / --skip NAME,...: starts from the defaults; --check adds, --skip removes; a check
// named with --check brings what it needs. Throws std::invalid_argument for an unknown name
// or a skipped check that another requested one needs.
// `full` (--full): every check marked in_full too.
check_set select_checks(std::span<const std::string> check, std::span<const std::string> skip, bool full = false);

}  // namespace mxtls
