// ClientHellos written octet by octet, and the server's first flight read back, for the hellos
// of the TLS enumeration that need only the server's choice (check tls-enum, tls_enum.cpp).
//
// OpenSSL 3.0 cannot make two hellos the enumeration needs: a TLS 1.3 hello whose key_share
// is empty (RFC 8446 §4.2.8: the server then names the group it would use in a
// HelloRetryRequest, without computing a key; OpenSSL always sends a share for its first
// group, and a share of ffdhe8192 costs the server and the client most of a second), and a
// hello it gives up on once the server's answer is in (a full handshake for each suite of an
// elimination run costs both sides key exchange and signatures nobody reads). So these hellos
// are written here and the answer is parsed only as far as the choice: versions, suite, group,
// DH prime size, or the alert. Everything that needs a finished handshake (certificates,
// tickets, renegotiation, OCSP) stays with OpenSSL.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls::tls_hello {

// TLS registry numbers (IANA "TLS Parameters"): versions 0x0301-0x0304, cipher suites,
// supported groups, signature schemes.
struct offer {
  int version = 0x0303;               // the one version offered (0x0304: through supported_versions)
  std::vector<std::uint16_t> suites;  // in preference order
  std::vector<std::uint16_t> groups;
  std::vector<std::uint16_t> sigalgs;  // sent from TLS 1.2 on
  std::string sni;                     // a DNS name, or empty (an address is never sent, RFC 6066 §3)
};

// The hello as one TLS record (random octets from OpenSSL's generator). Empty when the offer
// cannot be written (no suites, or more than one record holds).
std::string client_hello(const offer& o);

enum class answer_kind {
  incomplete,   // more octets needed
  server_hello, // the server chose (TLS 1.2 and below: its whole first flight has been read)
  retry,        // a HelloRetryRequest: TLS 1.3, the suite and the group chosen
  alert,        // the server refused with an alert
  malformed,    // not a TLS answer to this hello
};

struct answer {
  answer_kind kind = answer_kind::incomplete;
  int version = 0;              // chosen: supported_versions, else the ServerHello's version
  std::uint16_t suite = 0;
  std::uint16_t group = 0;      // TLS 1.3: key_share's or the retry's group; below: the ECDHE curve
  int dh_prime_bits = 0;        // TLS 1.2 and below, a DHE suite: the prime's size
  std::uint16_t key_signature = 0;  // TLS 1.2: the ServerKeyExchange's signature scheme (0: none)
  std::string leaf;             // TLS 1.2 and below: the first certificate sent (DER)
  int alert = -1;               // the alert's description
  std::string why;              // malformed: what was wrong
};

// Reads the octets the server sent after the hello (all of them so far, from the first).
// `tls13`: the hello offered TLS 1.3, so the answer ends with the (retry) ServerHello;
// otherwise it ends with ServerHelloDone. `dhe_suite` tells the ServerKeyExchange's form
// apart: asked with the chosen suite, true for a finite-field DHE suite.
answer read_answer(std::string_view octets, bool tls13, const std::function<bool(std::uint16_t)>& dhe_suite = {});

// The most octets a first flight may have before it is called malformed.
constexpr std::size_t max_answer_octets = 64 * 1024;

// The TLS group number of an OpenSSL group name ("X25519", "P-256", "ffdhe2048", "sect163k1",
// ...); 0 when it has none.
std::uint16_t group_id(std::string_view name);

}  // namespace mxtls::tls_hello
