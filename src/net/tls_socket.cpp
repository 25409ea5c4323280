#include "net/tls_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <cerrno>
#include <stdexcept>

#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace mxtls {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using asio::ip::tcp;

namespace {

// OpenSSL's socket BIO with its write replaced by send(MSG_NOSIGNAL); reading, control
// (the descriptor, flush, kernel TLS queries) and the rest stay OpenSSL's own.
int send_without_sigpipe(BIO* b, const char* data, int size) {
  int fd = -1;
  BIO_get_fd(b, &fd);
  auto n = static_cast<int>(::send(fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL));
  BIO_clear_retry_flags(b);
  if (n <= 0 && BIO_sock_should_retry(n)) BIO_set_retry_write(b);
  return n;
}

const BIO_METHOD* socket_method() {
  static const BIO_METHOD* method = [] {
    const BIO_METHOD* base = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "mxtls socket");
    if (!m || !BIO_meth_set_write(m, send_without_sigpipe) || !BIO_meth_set_read(m, BIO_meth_get_read(base)) ||
        !BIO_meth_set_puts(m, BIO_meth_get_puts(base)) || !BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base)) ||
        !BIO_meth_set_create(m, BIO_meth_get_create(base)) || !BIO_meth_set_destroy(m, BIO_meth_get_destroy(base)))
      throw std::runtime_error("cannot set up the TLS socket BIO");
    return m;
  }();
  return method;
}

}  // namespace

tls_socket::tls_socket(tcp::socket& sock, SSL_CTX* ctx, role r) : sock_(sock), ssl_(SSL_new(ctx)) {
  if (!ssl_) throw std::runtime_error("SSL_new failed");
  BIO* bio = BIO_new(socket_method());
  if (!bio) {
    SSL_free(ssl_);
    throw std::runtime_error("BIO_new failed");
  }
  sock_.native_non_blocking(true);
  BIO_set_fd(bio, sock_.native_handle(), BIO_NOCLOSE);
  SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL object
  if (r == role::client)
    SSL_set_connect_state(ssl_);
  else
    SSL_set_accept_state(ssl_);
}

tls_socket::~tls_socket() { SSL_free(ssl_); }

awaitable<std::error_code> tls_socket::handshake() {
  auto [ec, n] = co_await drive([this] { return SSL_do_handshake(ssl_); });
  co_return ec;
}

awaitable<std::tuple<std::error_code, std::size_t>> tls_socket::read_some(asio::mutable_buffer b) {
  co_return co_await drive([this, b] { return SSL_read(ssl_, b.data(), static_cast<int>(b.size())); });
}

awaitable<std::tuple<std::error_code, std::size_t>> tls_socket::write(asio::const_buffer b) {
  co_return co_await drive([this, b] { return SSL_write(ssl_, b.data(), static_cast<int>(b.size())); });
}

awaitable<std::tuple<std::error_code, std::size_t>> read_some(tcp::socket& sock, tls_socket* tls, asio::mutable_buffer b) {
  if (tls) co_return co_await tls->read_some(b);
  co_return co_await sock.async_read_some(b, as_tuple(use_awaitable));
}

awaitable<std::tuple<std::error_code, std::size_t>> write_all(tcp::socket& sock, tls_socket* tls, asio::const_buffer b) {
  if (tls) co_return co_await tls->write(b);
  co_return co_await asio::async_write(sock, b, as_tuple(use_awaitable));
}

// Runs one OpenSSL call until it completes, waiting on the socket whenever it wants to read
// or write. OpenSSL is always asked first, so records it has read ahead are never left
// waiting for the socket; a wait cancelled from outside (a timer won) ends the call with
// that error.
template <class Call>
awaitable<std::tuple<std::error_code, std::size_t>> tls_socket::drive(Call call) {
  using result = std::tuple<std::error_code, std::size_t>;
  while (true) {
    ERR_clear_error();
    int n = call();
    if (n > 0) co_return result{std::error_code(), static_cast<std::size_t>(n)};
    int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      if (e == SSL_ERROR_WANT_READ) {
        // Acknowledge what arrives at once. A TLS 1.3 server sends its session tickets
        // right after the handshake; one that writes with Nagle on (Postfix) holds its EHLO
        // reply until they are acknowledged, and a delayed acknowledgement made that 40 ms
        // (10 probes of 12 against Postfix smtpd; none with this). Linux forgets the
        // setting, so it is made before every wait.
        int on = 1;
        ::setsockopt(sock_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
      }
      auto [ec] = co_await sock_.async_wait(e == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
                                            as_tuple(use_awaitable));
      if (ec) co_return result{ec, 0};
      continue;
    }
    std::error_code ec;
    if (e == SSL_ERROR_ZERO_RETURN)
      ec = asio::error::eof;
    else if (unsigned long err = ERR_get_error())
      ec = std::error_code(static_cast<int>(err), asio::error::get_ssl_category());
    else if (e == SSL_ERROR_SYSCALL && errno != 0)
      ec = std::error_code(errno, asio::error::get_system_category());
    else
      ec = asio::error::eof;  // the peer closed without close_notify
    co_return result{ec, 0};
  }
}

}  // namespace mxtls
