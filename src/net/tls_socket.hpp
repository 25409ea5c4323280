// TLS straight on a TCP socket's descriptor, shared by the probe's session engine (client)
// and the mock server (server). OpenSSL reads and writes the non-blocking socket itself;
// the coroutine waits for readiness only when OpenSSL asks to. Unlike asio::ssl::stream
// (two 17 KiB buffers of its own plus a 2 x 17 KiB BIO pair) this holds no buffers beyond
// OpenSSL's, which SSL_MODE_RELEASE_BUFFERS frees while a session is idle: what lets mxtls
// scan hold ten thousand sessions inside TLS.
//
// Writes go out with send(MSG_NOSIGNAL): OpenSSL's own socket BIO uses write(), which
// raises SIGPIPE when the peer has gone away and would end the whole process (a scan of
// thousands, or a mock server) for one peer that hung up.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <system_error>
#include <tuple>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

namespace mxtls {

class tls_socket {
 public:
  enum class role { client, server };

  // The socket must outlive this object; it is not closed by it.
  tls_socket(asio::ip::tcp::socket& sock, SSL_CTX* ctx, role r);
  ~tls_socket();
  tls_socket(const tls_socket&) = delete;
  tls_socket& operator=(const tls_socket&) = delete;

  SSL* native_handle() const { return ssl_; }

  asio::awaitable<std::error_code> handshake();
  // Some octets, at most the buffer's size; eof when the peer closed (with or without
  // close_notify).
  asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer b);
  // The whole buffer (OpenSSL does not write partially unless asked to).
  asio::awaitable<std::tuple<std::error_code, std::size_t>> write(asio::const_buffer b);

 private:
  template <class Call>
  asio::awaitable<std::tuple<std::error_code, std::size_t>> drive(Call call);

  asio::ip::tcp::socket& sock_;
  SSL* ssl_;
};

// An SMTP session's octets before and after STARTTLS: through `tls` once it is up (not
// null), else straight on the socket. Used alike by the probe engine and the mock server.
asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some(asio::ip::tcp::socket& sock, tls_socket* tls,
                                                                     asio::mutable_buffer b);
// The whole buffer.
asio::awaitable<std::tuple<std::error_code, std::size_t>> write_all(asio::ip::tcp::socket& sock, tls_socket* tls,
                                                                     asio::const_buffer b);

}  // namespace mxtls
