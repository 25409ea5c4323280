// The sessions a probe runs against one address, each a check of the registry
// (model/checks.hpp): "starttls" (banner, EHLO, STARTTLS when the word appears anywhere in
// the reply, the handshake, certificate, EHLO again, QUIT, with "envelope" riding on it) and
// "injection". Every read is bounded in time (per phase) and in memory. The engine records
// facts; it formats nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "mxtls/model/checks.hpp"

namespace asio::ssl {
class context;
}
struct ssl_st;

namespace mxtls {

struct session_timeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds banner{30'000};
  std::chrono::milliseconds command{30'000};
  std::chrono::milliseconds tls{15'000};
  // Only when a 250 reply comes where the answer to STARTTLS (or QUIT) was due, i.e. lines
  // a server sent after its EHLO reply's final line: how long to wait for the real answer
  // after them. Nothing is waited for after a well-formed EHLO reply.
  std::chrono::milliseconds trailing{1'000};
};

// Stops the sessions of one io_context early (mxtls probe on SIGINT): every wait in progress
// ends with session_error_code::interrupted, and no new one starts. Use on that io_context.
class session_stop {
 public:
  void request();
  bool requested() const { return requested_; }
  void enrol(asio::steady_timer* t) { waits_.push_back(t); }
  void leave(asio::steady_timer* t) { std::erase(waits_, t); }

 private:
  bool requested_ = false;
  std::vector<asio::steady_timer*> waits_;
};

struct session_options {
  std::string ehlo_name = "mxtls.invalid";
  std::string sni;          // empty: none
  std::string verify_name;  // the name the certificate must match (RFC 6125 rules); empty: not checked
  std::string ca_file, ca_dir;  // empty both: the system's default store
  bool try_starttls = true;     // send STARTTLS when the word appears in the EHLO reply
  std::string rcpt;             // check "envelope": MAIL FROM:<> and RCPT TO:<rcpt>, then RSET
  // When set, decides from the EHLO reply's octets whether to send STARTTLS (--as CLIENT).
  std::function<bool(const std::string& ehlo)> decide_starttls;
  session_timeouts timeouts;
  std::size_t max_reply_octets = 64 * 1024;
  // The client TLS context (CA store loaded once); null: each session makes its own.
  // Many sessions share one in mxtls scan (make_client_tls_context).
  std::shared_ptr<asio::ssl::context> tls_context;
  // Settings of this session's own TLS connection, made before its handshake (check tls-enum:
  // one shared context, a different ClientHello per session); null: the context's.
  std::function<void(ssl_st*)> tls_setup;
  // Not empty: the handshake after the 220 is this function's, on the connection itself, by
  // another TLS library (GnuTLS for the senders built on it: src/net/gnutls_replay.hpp). It
  // fills tls (established, protocol, cipher, group), or returns false with `error` set.
  // The session ends after it: nothing more is sent on a connection that carries another
  // library's records.
  std::function<asio::awaitable<bool>(asio::ip::tcp::socket&, tls_facts& tls, session_error& error)> external_handshake;
  // Each event as it happens (mxtls probe on a terminal); called on the session's thread.
  std::function<void(const session_event&)> on_event;
  session_stop* stop = nullptr;
  // DANE (RFC 7672): TLSA records to verify the handshake with, the base domain as SNI.
  dane_request dane;
};

// A client TLS context that verifies to report, not to refuse: the CA store of `options`
// (ca_file / ca_dir, else the system's), idle buffers released. Throws std::invalid_argument.
// With the system's store, `preload` reads its whole CA bundle at once (≈ 30 ms, worth it
// for many sessions); otherwise issuers are looked up in the hashed certificate directory
// when needed (one probe).
std::shared_ptr<asio::ssl::context> make_client_tls_context(const session_options& options, bool preload = false);

// Check "starttls", with "envelope" on the same session when options.rcpt is set.
asio::awaitable<starttls_facts> run_starttls_session(asio::ip::tcp::endpoint server, session_options options,
                                                     envelope_facts* envelope = nullptr);

// Check "injection" (CVE-2011-0411 class): STARTTLS and NOOP leave in one TCP segment;
// after the handshake, a vulnerable server answers the NOOP inside TLS unasked.
asio::awaitable<injection_facts> run_injection_check(asio::ip::tcp::endpoint server, session_options options);

}  // namespace mxtls
