// A one-connection SMTP server for the client-model suite. It sends a given EHLO reply
// byte for byte, answers STARTTLS with 220 and a real TLS handshake (a self-signed
// ECDSA P-256 certificate made in memory, or the certificate and key of CERT_PEM, for a
// client that verifies even with a private test CA), accepts and discards mail, and
// reports what the client did as one JSON line on standard output.
//
//   replay_server REPLY_FILE [TIMEOUT_MS [PORT [CERT_PEM]]]
//
// Prints "port N" first (it listens on 127.0.0.1, on PORT or one the kernel chooses; 0 for
// the latter).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using clock_type = std::chrono::steady_clock;

struct observation {
  int ehlo = 0;
  bool helo = false, starttls = false, tls = false, mail = false, mail_tls = false, data_done = false,
       data_tls = false, quit = false, timed_out = false, closed_by_client = false, plaintext_after_starttls = false;
  std::string tls_error, protocol;
};

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 32) continue;
    o += c;
  }
  return o;
}

class session {
 public:
  session(int fd, clock_type::time_point deadline) : fd_(fd), deadline_(deadline) {}
  ~session() {
    if (ssl_) SSL_free(ssl_);
  }

  // Reads one line (without its ending); false on close or timeout.
  bool read_line(std::string& line, observation& obs) {
    while (true) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        buf_.erase(0, nl + 1);
        return true;
      }
      if (buf_.size() > 65536) return false;
      char tmp[4096];
      int n = read_some(tmp, sizeof tmp, obs);
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  bool send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      int n = ssl_ ? SSL_write(ssl_, s.data() + off, static_cast<int>(s.size() - off))
                   : static_cast<int>(::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL));
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool start_tls(SSL_CTX* ctx, observation& obs) {
    if (!buf_.empty()) obs.plaintext_after_starttls = true;  // discarded, as RFC 3207 §5 wants
    buf_.clear();
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    while (true) {
      int r = SSL_accept(ssl_);
      if (r == 1) break;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ && wait_readable(obs)) continue;
      unsigned long code = ERR_get_error();
      obs.tls_error = code ? ERR_reason_error_string(code) ? ERR_reason_error_string(code) : "handshake failed"
                           : obs.timed_out ? "timeout" : "handshake failed";
      SSL_free(ssl_);
      ssl_ = nullptr;
      return false;
    }
    obs.protocol = SSL_get_version(ssl_);
    return true;
  }

  bool in_tls() const { return ssl_ != nullptr; }

 private:
  bool wait_readable(observation& obs) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_type::now()).count();
    if (left <= 0) {
      obs.timed_out = true;
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r == 0) obs.timed_out = true;
    return r > 0;
  }

  int read_some(char* out, int size, observation& obs) {
    if (ssl_) {
      while (true) {
        if (SSL_pending(ssl_) == 0 && !wait_readable(obs)) return -1;
        int n = SSL_read(ssl_, out, size);
        if (n > 0) return n;
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ) continue;
        if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) obs.closed_by_client = true;
        return -1;
      }
    }
    if (!wait_readable(obs)) return -1;
    ssize_t n = ::recv(fd_, out, static_cast<std::size_t>(size), 0);
    if (n == 0) obs.closed_by_client = true;
    return static_cast<int>(n);
  }

  int fd_;
  clock_type::time_point deadline_;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

SSL_CTX* make_tls_context(const char* cert_pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (cert_pem != nullptr) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_pem) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cert_pem, SSL_FILETYPE_PEM) != 1) {
      std::fprintf(stderr, "replay_server: cannot load a certificate and key from %s\n", cert_pem);
      std::exit(2);
    }
    return ctx;
  }
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("replay.mxtls.test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

std::string upper_verb(const std::string& line) {
  std::string v;
  for (char c : line) {
    if (c == ' ' || c == ':') break;
    v += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: replay_server REPLY_FILE [TIMEOUT_MS [PORT [CERT_PEM]]]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay_server: cannot read %s\n", argv[1]);
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string reply = ss.str();
  int timeout_ms = argc > 2 ? std::atoi(argv[2]) : 8000;
  int fixed_port = argc > 3 ? std::atoi(argv[3]) : 0;
  const char* cert_pem = argc > 4 && argv[4][0] != '\0' ? argv[4] : nullptr;

  SSL_CTX* ctx = make_tls_context(cert_pem);  // before listening: a bad CERT_PEM ends it with no port
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(fixed_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A fixed port may still be held for a moment by the previous run.
  int bound = -1;
  for (int attempt = 0; attempt < 100 && (bound = bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr)) != 0; ++attempt)
    usleep(20000);
  if (bound != 0 || listen(lfd, 1) != 0) {
    std::perror("replay_server: bind");
    return 2;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("port %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  observation obs;
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  pollfd p{lfd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) {
    std::printf("{\"connected\":false}\n");
    return 0;
  }
  int fd = accept(lfd, nullptr, nullptr);
  close(lfd);
  {
    session s(fd, deadline);
    s.send("220 replay.mxtls.test ESMTP mxtls replay server\r\n");
    std::string line;
    while (s.read_line(line, obs)) {
      std::string verb = upper_verb(line);
      if (verb == "EHLO" || verb == "LHLO") {
        ++obs.ehlo;
        s.send(s.in_tls() ? std::string("250-replay.mxtls.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n") : reply);
      } else if (verb == "HELO") {
        obs.helo = true;
        s.send("250 replay.mxtls.test\r\n");
      } else if (verb == "STARTTLS") {
        if (s.in_tls()) {
          s.send("503 5.5.1 Error: TLS already active\r\n");
          continue;
        }
        obs.starttls = true;
        s.send("220 2.0.0 Ready to start TLS\r\n");
        if (!s.start_tls(ctx, obs)) break;
        obs.tls = true;
      } else if (verb == "MAIL") {
        obs.mail = true;
        obs.mail_tls = s.in_tls();
        s.send("250 2.1.0 Ok\r\n");
      } else if (verb == "RCPT") {
        s.send("250 2.1.5 Ok\r\n");
      } else if (verb == "DATA") {
        s.send("354 End data with <CR><LF>.<CR><LF>\r\n");
        bool ended = false;
        while (s.read_line(line, obs))
          if (line == ".") {
            ended = true;
            break;
          }
        if (!ended) break;
        obs.data_done = true;
        obs.data_tls = s.in_tls();
        s.send("250 2.0.0 Ok: queued\r\n");
      } else if (verb == "RSET" || verb == "NOOP") {
        s.send("250 2.0.0 Ok\r\n");
      } else if (verb == "QUIT") {
        obs.quit = true;
        s.send("221 2.0.0 Bye\r\n");
        break;
      } else {
        s.send("502 5.5.2 Error: command not recognized\r\n");
      }
    }
  }
  close(fd);
  SSL_CTX_free(ctx);
  std::printf(
      "{\"connected\":true,\"ehlo\":%d,\"helo\":%s,\"starttls\":%s,\"tls\":%s,\"tls_error\":\"%s\",\"protocol\":\"%s\","
      "\"mail\":%s,\"mail_tls\":%s,\"data_done\":%s,\"data_tls\":%s,\"quit\":%s,\"timed_out\":%s,\"closed_by_client\":%s,"
      "\"plaintext_after_starttls\":%s}\n",
      obs.ehlo, obs.helo ? "true" : "false", obs.starttls ? "true" : "false", obs.tls ? "true" : "false",
      json_escape(obs.tls_error).c_str(), obs.protocol.c_str(), obs.mail ? "true" : "false",
      obs.mail_tls ? "true" : "false", obs.data_done ? "true" : "false", obs.data_tls ? "true" : "false",
      obs.quit ? "true" : "false", obs.timed_out ? "true" : "false", obs.closed_by_client ? "true" : "false",
      obs.plaintext_after_starttls ? "true" : "false");
  return 0;
}
