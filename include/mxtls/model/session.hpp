// Facts of one SMTP session with a live server: typed events in the order they happened,
// TLS facts, and the error that ended the session, if any. No prose: the renderers word
// every event and error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mxtls/model/dane.hpp"
#include "mxtls/model/dialogue.hpp"

namespace mxtls {

// Where a session stands: each phase has its own timeout.
enum class session_phase : std::uint8_t {
  none,
  connect,
  banner,
  ehlo,
  starttls,
  tls,             // the handshake
  ehlo_after_tls,
  mail,
  rcpt,
  rset,
  quit,
  injection,       // the command-injection check's wait inside TLS
};
const char* to_string(session_phase p);

enum class session_error_code : std::uint8_t {
  none,
  connect_refused,   // or another connect error (detail says)
  connect_timeout,
  closed,            // the server closed the connection
  read_timeout,      // no complete reply within the phase's time
  reply_too_long,    // the reply passed session_options::max_reply_octets
  io_error,          // a socket error (detail: the system's message)
  bad_banner,        // a greeting that is not 220 (detail: the code)
  handshake_failed,  // detail: OpenSSL's reason
  handshake_timeout,
  interrupted,       // the probe was stopped (SIGINT) while waiting in this phase
  unexpected_reply,  // a reply code the step does not allow (detail: the code)
};
const char* to_string(session_error_code c);

struct session_error {
  session_phase phase = session_phase::none;
  session_error_code code = session_error_code::none;
  std::string detail;  // the system's or OpenSSL's own words, or a number; never ours
  explicit operator bool() const { return code != session_error_code::none; }
};

enum class event_kind : std::uint8_t {
  connected,           // text: address:port
  line_received,       // text: the line without its ending; octets: with it
  line_sent,
  starttls_skipped,    // STARTTLS offered, not sent: the client model would not (--as)
  plaintext_discarded, // octets the server sent after its 220 to STARTTLS (RFC 3207 §4.2)
  tls_established,     // text: protocol and cipher
  injection_sent,      // STARTTLS and NOOP left in one segment
  injection_answered,  // octets: what the server said inside TLS unasked
};
const char* to_string(event_kind k);

struct session_event {
  event_kind kind = event_kind::line_received;
  std::int64_t ms = 0;     // since the session began
  std::size_t octets = 0;
  std::string text;
  // For a received line: it followed the reply's final line (attributed to that reply).
  bool after_final = false;
};

struct certificate_facts {
  std::string subject, issuer, sha256, not_before, not_after;
  std::string key_type;  // OpenSSL's short name: rsaEncryption, id-ecPublicKey, ED25519
  int key_bits = 0;
  std::string signature_algorithm;  // OpenSSL's long name of its signature: sha256WithRSAEncryption, ecdsa-with-SHA1
  std::vector<std::string> dns_names;
};

struct tls_facts {
  bool established = false;
  std::string protocol, cipher, group;
  std::string signature_digest;  // the hash of the server's handshake signature ("SHA256", "SHA1", "MD5-SHA1"); empty: none
  int temp_key_bits = 0;         // the server's ephemeral key exchange key (ECDHE curve or DH group), in bits
  std::vector<certificate_facts> chain;
  bool chain_verified = false;
  int verify_code = 0;         // X509_V_ERR_* (0: verified)
  std::string verify_error;    // OpenSSL's text for verify_code
  bool name_checked = false;   // a name was given to check
  bool hostname_match = false;
  bool expired = false, not_yet_valid = false;
  dane_tls_facts dane;  // DANE verification of this handshake (RFC 7672), when records were given
};

}  // namespace mxtls
