// `mxtls serve`: a scenario-driven mock SMTP server on the asynchronous engine
// (standalone Asio with C++20 coroutines, OpenSSL for STARTTLS).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "mxtls/scenario.hpp"
#include "mxtls/tls_identity.hpp"

namespace mxtls {

struct server_options {
  std::size_t max_sessions = 1000;             // sessions at once; more get 421
  std::chrono::milliseconds idle_timeout{60'000};  // per command
  std::chrono::milliseconds handshake_timeout{10'000};
  std::size_t max_line = 4096;                 // octets of one command line
  // Called with each transcript line ("S: ..." / "C: ..." / "-- ..."), tagged by session number;
  // from the session's own thread when session_contexts are given.
  std::function<void(std::size_t session, const std::string& line)> log;
  // The contexts sessions run on, one after the other (each may be run by a thread of its
  // own: `mxtls serve --threads`); empty: the server's own context. They must outlive the
  // sessions, and the caller runs and stops them.
  std::vector<asio::io_context*> session_contexts;
};

struct server_stats {
  std::size_t sessions = 0;       // accepted so far
  std::size_t active = 0;         // open now
  std::size_t peak_active = 0;    // most open at once
  std::size_t refused = 0;        // turned away at the session limit
  std::size_t tls_handshakes = 0; // completed
  std::size_t messages = 0;       // accepted (and discarded)
};

class mock_server {
 public:
  mock_server(asio::io_context& io, scenario sc, tls_identity identity, server_options options);
  ~mock_server();
  mock_server(const mock_server&) = delete;
  mock_server& operator=(const mock_server&) = delete;

  // Binds and starts accepting; throws std::system_error when the address is unusable.
  void listen(const asio::ip::tcp::endpoint& at);
  asio::ip::tcp::endpoint local_endpoint() const;
  void stop();
  server_stats stats() const;  // a snapshot
  const scenario& current_scenario() const;
  const tls_identity& identity() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// "127.0.0.1:2525", "[::1]:25", "localhost:0" (port 0: the kernel chooses). Throws
// std::invalid_argument with a message for the user.
asio::ip::tcp::endpoint parse_listen_address(const std::string& text);

}  // namespace mxtls
