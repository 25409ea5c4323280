// One SMTP session primitive that every check composes: open a connection, read a reply,
// send a command, STARTTLS with RFC 3207 §4.2 done once. Each step is bounded in time (its
// phase's timeout, and the probe's stop signal) and in octets (session_options::
// max_reply_octets). It records typed events and errors; it words nothing.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "mxtls/live_session.hpp"
#include "mxtls/model/session.hpp"
#include "mxtls/reply.hpp"  // reply_code
#include "net/tls_socket.hpp"

namespace mxtls {

// What the facts say of one certificate (subject, issuer, validity, key, names).
certificate_facts describe_certificate(X509* c);

class smtp_session {
 public:
  smtp_session(const asio::any_io_executor& ex, const session_options& opt, std::vector<session_event>& events);
  smtp_session(const smtp_session&) = delete;
  smtp_session& operator=(const smtp_session&) = delete;

  // Connects within the connect timeout.
  asio::awaitable<bool> open(asio::ip::tcp::endpoint server);
  // One complete reply, appended to `raw`; false on timeout, close, error or a reply over
  // the octet limit (error() says which).
  asio::awaitable<bool> read_reply(std::string& raw, session_phase phase);
  // A command line; CRLF is added; one write.
  asio::awaitable<bool> send(std::string_view line, session_phase phase);
  // Octets as they are, in one write (several commands in one segment).
  asio::awaitable<bool> send_raw(std::string_view octets, event_kind kind);
  // Waits up to `limit` for octets; true when some arrived (they stay buffered).
  asio::awaitable<bool> wait_for_data(std::chrono::milliseconds limit, session_phase phase);

  // RFC 3207 §4.2: after the 220, anything the server sent before the handshake is not
  // trusted and is discarded (the count goes to `discarded`); then the handshake, within
  // the tls timeout, with SNI from session_options. What is learnt before TLS is the
  // caller's to forget (it sends EHLO again). Fills `tls`; false with error() set.
  asio::awaitable<bool> start_tls(tls_facts& tls, std::size_t& discarded, session_phase phase);

  // Received octets not yet consumed by a reply.
  std::string_view buffered() const { return in_; }
  std::string take_buffered(std::size_t max);
  // The lines of `octets`, as received events (after_final: lines after a final line).
  void note_received(std::string_view octets, bool after_final);
  // An event without octets (starttls_skipped).
  void note(event_kind kind) { emit({.kind = kind, .ms = now_ms()}); }

  const session_error& error() const { return error_; }
  void clear_error() { error_ = {}; }
  std::int64_t now_ms() const;
  // This end of the connection (the address only); empty when not connected.
  std::string local_address() const;
  bool in_tls() const { return tls_ != nullptr; }
  // Ends the connection at once with a TCP reset (SO_LINGER 0) instead of a FIN: for a
  // connection given up on in the middle of a handshake, which neither side will read again.
  // Each side saves the closing exchange, and this side keeps no TIME_WAIT entry, whose
  // number slows the kernel's choice of a source port for the next connection.
  void reset();
  // The TLS connection after start_tls (null before): for facts OpenSSL keeps (check tls-enum).
  SSL* native_tls() const { return tls_ ? tls_->native_handle() : nullptr; }

 private:
  asio::awaitable<bool> read_more(std::chrono::steady_clock::time_point deadline, session_phase phase);
  void fail(session_phase phase, session_error_code code, std::string detail = {});
  void emit(session_event e);
  std::chrono::milliseconds timeout_of(session_phase p) const;

  asio::ip::tcp::socket sock_;
  std::unique_ptr<tls_socket> tls_;
  std::string in_;
  const session_options& opt_;
  std::vector<session_event>& events_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  session_error error_;
};


}  // namespace mxtls
