// One SMTP session with a live server, the way a sending MTA meets it: banner, EHLO,
// STARTTLS when the word appears anywhere in the reply, the TLS handshake, EHLO again,
// QUIT. Every read is bounded in time (per phase) and in memory. The engine records
// facts; it formats nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

namespace asio::ssl {
class context;
}

namespace mxtls {

struct session_timeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds banner{30'000};
  std::chrono::milliseconds command{30'000};
  std::chrono::milliseconds tls{15'000};
  // After the EHLO reply's final line, wait this long for more lines (a server that sends a
  // final line too early and more lines after it, written separately).
  std::chrono::milliseconds trailing{20};
};

struct transcript_entry {
  char dir;            // 'S' server, 'C' client, '-' note
  std::string text;    // one line, without its ending
  std::int64_t ms;     // since the session began
};

struct peer_certificate {
  std::string subject, issuer, sha256, not_before, not_after, key;
  std::vector<std::string> dns_names;
};

struct live_session_result {
  std::vector<transcript_entry> transcript;
  std::string banner;          // octets as received
  std::string ehlo;            // octets of the EHLO reply as received (leftover lines included)
  std::string ehlo_after_tls;
  bool starttls_offered = false;  // the word STARTTLS appears in the EHLO reply
  bool starttls_attempted = false;
  int starttls_code = -1;
  std::size_t plaintext_after_220 = 0;  // octets the server sent after its 220 (discarded)
  bool tls_established = false;
  std::string tls_protocol, tls_cipher, tls_group;
  std::vector<peer_certificate> chain;
  bool chain_verified = false;       // the chain verifies against the CA store
  std::string verify_error;          // OpenSSL's reason when it does not
  bool hostname_match = false;       // the leaf matches session_options::verify_name
  bool expired = false, not_yet_valid = false;
  int mail_code = -1, rcpt_code = -1;  // with session_options::rcpt
  std::string rcpt_reply;
  std::string error_phase;  // empty, or connect / banner / ehlo / starttls / tls / ehlo-after-tls
  std::string error;
};

struct session_options {
  std::string ehlo_name = "mxtls.invalid";
  std::string sni;          // empty: none
  std::string verify_name;  // the name the certificate must match (RFC 6125 rules)
  std::string ca_file, ca_dir;  // empty both: the system's default store
  bool try_starttls = true;     // send STARTTLS when the word appears in the EHLO reply
  std::string rcpt;             // when set: MAIL FROM:<> and RCPT TO:<rcpt>, then RSET (sends no mail)
  // When set, decides from the EHLO reply's octets whether to send STARTTLS (--as CLIENT).
  std::function<bool(const std::string& ehlo)> decide_starttls;
  session_timeouts timeouts;
  std::size_t max_reply_octets = 64 * 1024;
  // The client TLS context (CA store loaded once); null: each session makes its own.
  // Many sessions share one in mxtls scan (make_client_tls_context).
  std::shared_ptr<asio::ssl::context> tls_context;
};

// A client TLS context that verifies to report, not to refuse: the CA store of `options`
// (ca_file / ca_dir, else the system's), idle buffers released. Throws std::invalid_argument.
// With the system's store, `preload` reads its whole CA bundle at once (≈ 30 ms, worth it
// for many sessions); otherwise certificates are looked up when needed (one probe).
std::shared_ptr<asio::ssl::context> make_client_tls_context(const session_options& options, bool preload = false);

asio::awaitable<live_session_result> run_live_session(asio::ip::tcp::endpoint server, session_options options);

// The command-injection check (CVE-2011-0411 class): STARTTLS and NOOP leave in one TCP
// segment; after the handshake, a vulnerable server answers the NOOP inside TLS. True
// when it does; false when it does not, or when the check could not run (`error` says why).
asio::awaitable<bool> check_command_injection(asio::ip::tcp::endpoint server, session_options options, std::string& error);

}  // namespace mxtls
