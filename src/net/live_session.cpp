// Checks "starttls" (+ "envelope") and "injection", each composed of the smtp_session
// primitive.
#include "mxtls/live_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <asio/ssl/context.hpp>
#include <asio/this_coro.hpp>

#include "mxtls/ehlo_reply.hpp"
#include "net/smtp_session.hpp"

namespace mxtls {

using asio::awaitable;
using asio::ip::tcp;

namespace {

bool same_file(const char* a, const char* b) {
  struct stat sa{}, sb{};
  return ::stat(a, &sa) == 0 && ::stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// The probe's ClientHello offers everything OpenSSL 3.0 can, so that its own settings never
// cause a failure it reports as the server's (senders' narrower offers are replayed by the
// "tls-senders" check). Set after SSL_CTX_new has applied the system's openssl.cnf
// (MinProtocol, CipherString, Options), so none of that narrows it.
//  - TLS 1.0 to 1.3. SSLv3 is not built into Debian's OpenSSL 3.0.
//  - Security level 0: at level 1 and above OpenSSL 3.0 refuses SHA-1 and MD5+SHA-1
//    signatures, which TLS 1.0 and 1.1 use in every ServerKeyExchange ("legacy sigalg
//    disallowed"), and keys, DH groups and certificates below 80 bits.
//  - Every cipher suite of ALL, anonymous (aNULL) ones moved last: a server that honours
//    the client's order then still shows its certificate. eNULL (no encryption) is left
//    out: no modelled sender offers it (OpenSSL's DEFAULT and ALL and GnuTLS's NORMAL all
//    exclude it), and a server choosing it for the probe would describe a session no
//    sender gets, while a server that has only NULL suites is one no sender can use.
//  - Every TLS 1.3 suite, including the CCM ones OpenSSL leaves out by default.
//  - Every group OpenSSL 3.0 knows, X25519 first (the key share sent at once; a server
//    wanting another asks with HelloRetryRequest), the finite-field and legacy curves last.
//  - Signature algorithms: OpenSSL's built-in list already holds every algorithm it
//    implements, SHA-1 and SHA-224 ones included; level 0 keeps them in the hello.
//  - SSL_OP_LEGACY_SERVER_CONNECT: servers without RFC 5746 secure renegotiation are met
//    (OpenSSL 3.0 refuses them by default; many old MTAs lack it).
// One ClientHello suffices for the probe: it offers a superset of every modelled sender's
// offer, so a server that accepts any sender accepts it. The exceptions are servers that
// choke on the hello itself (its size, an extension): they are not the probe's
// configuration but real, and a sender with a smaller hello may pass them; the per-sender
// handshakes replay each sender's own hello, so no second probe hello is made here.
void offer_everything(SSL_CTX* c) {
  SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_clear_options(c, SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3);
  SSL_CTX_set_options(c, SSL_OP_LEGACY_SERVER_CONNECT);
  SSL_CTX_set_security_level(c, 0);
  if (SSL_CTX_set_cipher_list(c, "ALL:+aNULL:@SECLEVEL=0") != 1 ||
      SSL_CTX_set_ciphersuites(c, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
                                  "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256") != 1 ||
      SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384:P-521:X448:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192:"
                                  "brainpoolP256r1:brainpoolP384r1:brainpoolP512r1:secp256k1:secp224r1:secp224k1:"
                                  "secp192r1:secp192k1:secp160r1:secp160r2:secp160k1:sect571r1:sect571k1:sect409r1:"
                                  "sect409k1:sect283r1:sect283k1:sect239k1:sect233r1:sect233k1:sect193r1:sect193r2:"
                                  "sect163r1:sect163r2:sect163k1") != 1)
    throw std::runtime_error("OpenSSL refuses the probe's TLS offer");
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_client_tls_context(const session_options& opt, bool preload) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  ctx->set_verify_mode(asio::ssl::verify_none);  // verified after the handshake, to report, not to refuse
  SSL_CTX_dane_enable(ctx->native_handle());  // once here (a shared context); used only where TLSA records are given
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  offer_everything(c);
  // Read what the socket holds in one call instead of a record header and then its body
  // (a handshake flight is six records); tls_socket asks OpenSSL before it waits on
  // the socket, so records read ahead are never left waiting.
  SSL_CTX_set_read_ahead(c, 1);
  if (!opt.ca_file.empty() || !opt.ca_dir.empty()) {
    if (SSL_CTX_load_verify_locations(c, opt.ca_file.empty() ? nullptr : opt.ca_file.c_str(),
                                      opt.ca_dir.empty() ? nullptr : opt.ca_dir.c_str()) != 1)
      throw std::invalid_argument("cannot load the CA store '" + (opt.ca_file.empty() ? opt.ca_dir : opt.ca_file) + "'");
    return ctx;
  }
  const char* file_env = std::getenv(X509_get_default_cert_file_env());
  const char* file = file_env && *file_env ? file_env : X509_get_default_cert_file();
  if (preload) {
    // The system's CA bundle, read into memory once. SSL_CTX_set_default_verify_paths()
    // would also add OpenSSL 3's directory store, which lists the whole certificate
    // directory on every lookup of an issuer it does not hold (every self-signed or
    // privately issued certificate): the main cost of a probe in mxtls scan.
    if (SSL_CTX_load_verify_locations(c, file, nullptr) == 1) return ctx;
    ERR_clear_error();
  } else {
    // One probe: issuers are looked up by subject hash in the certificate directory when
    // the chain needs them, instead of decoding the whole bundle before connecting (that
    // was 89 % of a single probe's instructions). SSL_CERT_FILE, when set, is honoured.
    const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
    const char* dir = dir_env && *dir_env ? dir_env : X509_get_default_cert_dir();
    // SSL_CERT_FILE naming the system's own bundle (many containers set it so) is the same
    // store as the directory: look issuers up there rather than decoding the bundle.
    bool own_file = file_env && *file_env && !same_file(file_env, X509_get_default_cert_file());
    bool ok = own_file ? SSL_CTX_load_verify_locations(c, file, nullptr) == 1 : SSL_CTX_load_verify_dir(c, dir) == 1;
    if (ok) return ctx;
    ERR_clear_error();
  }
  SSL_CTX_set_default_verify_paths(c);
  return ctx;
}

namespace {

// The answer to the command sent right after the EHLO reply (STARTTLS or QUIT). A server
// that sent lines after its reply's final line has them arrive before this answer: a 250
// reply where a 2xx other than 250 or an error is due belongs to the EHLO reply. After such
// lines, the real answer is awaited at most timeouts.trailing; if none comes, the 250 was it.
awaitable<bool> read_answer_after_ehlo(smtp_session& s, const session_options& opt, starttls_facts& f, std::string& answer,
                                       session_phase phase) {
  std::string first;
  if (!co_await s.read_reply(first, phase)) {
    answer = std::move(first);
    co_return false;
  }
  if (reply_code(first) != 250) {
    answer = std::move(first);
    co_return true;
  }
  // Lines after the final line: they belong to the EHLO reply.
  f.ehlo += first;
  f.ehlo_after_final += first.size();
  f.ehlo_waited = ehlo_wait::next_answer;
  for (auto it = f.events.rbegin(); it != f.events.rend() && it->kind == event_kind::line_received; ++it) it->after_final = true;
  while (true) {
    if (s.buffered().empty()) {
      bool more = co_await s.wait_for_data(opt.timeouts.trailing, phase);
      if (!more) {
        if (s.error().code == session_error_code::read_timeout) {
          // Nothing else came: the 250 answered the command after all.
          s.clear_error();
          f.ehlo.resize(f.ehlo.size() - first.size());
          f.ehlo_after_final -= first.size();
          answer = std::move(first);
          co_return true;
        }
        co_return false;
      }
    }
    std::string next;
    if (!co_await s.read_reply(next, phase)) {
      answer = std::move(next);
      co_return false;
    }
    if (reply_code(next) != 250) {
      answer = std::move(next);
      co_return true;
    }
    f.ehlo += next;
    f.ehlo_after_final += next.size();
    for (auto it = f.events.rbegin(); it != f.events.rend() && it->kind == event_kind::line_received; ++it) it->after_final = true;
    first = std::move(next);
  }
}

}  // namespace

awaitable<starttls_facts> run_starttls_session(tcp::endpoint server, session_options opt, envelope_facts* envelope) {
  starttls_facts f;
  auto ex = co_await asio::this_coro::executor;
  f.started_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  smtp_session s(ex, opt, f.events);
  auto finish = [&] { f.error = s.error(); };

  if (!co_await s.open(server)) {
    finish();
    co_return f;
  }
  f.local_address = s.local_address();
  if (!co_await s.read_reply(f.banner, session_phase::banner)) {
    finish();
    co_return f;
  }
  if (reply_code(f.banner) != 220) {
    f.error = {session_phase::banner, session_error_code::bad_banner, f.banner.substr(0, 3)};
    co_return f;
  }
  std::string cmd = "EHLO " + opt.ehlo_name;
  if (!co_await s.send(cmd, session_phase::ehlo) || !co_await s.read_reply(f.ehlo, session_phase::ehlo)) {
    finish();
    co_return f;
  }
  // Lines already received after the final line go with the reply; nothing is waited for.
  if (!s.buffered().empty()) {
    std::string rest = s.take_buffered(opt.max_reply_octets);
    f.ehlo_after_final = rest.size();
    f.ehlo_waited = ehlo_wait::buffered_lines;
    s.note_received(rest, true);
    f.ehlo += rest;
  }
  f.starttls_offered = mentions_starttls(f.ehlo);

  bool send_starttls = opt.decide_starttls ? opt.decide_starttls(f.ehlo) : f.starttls_offered && opt.try_starttls;
  if (!send_starttls && f.starttls_offered)
    s.note(event_kind::starttls_skipped);
  if (send_starttls) {
    f.starttls_sent = true;
    cmd = "STARTTLS";
    std::string reply;
    if (!co_await s.send(cmd, session_phase::starttls)) {
      finish();
      co_return f;
    }
    bool answered = co_await read_answer_after_ehlo(s, opt, f, reply, session_phase::starttls);
    f.starttls_offered = mentions_starttls(f.ehlo);
    if (!answered) {
      // Stopped while waiting: whether an answer would have come is not known.
      f.dialogue.starttls = s.error().code == session_error_code::interrupted ? starttls_answer::unknown : starttls_answer::no_answer;
      finish();
      co_return f;
    }
    f.dialogue.starttls_code = reply_code(reply);
    int code = f.dialogue.starttls_code;
    f.dialogue.starttls = code == 220 ? starttls_answer::accepted
                          : code >= 400 && code < 600 ? starttls_answer::refused
                                                      : starttls_answer::other;
    if (code == 220) {
      if (!co_await s.start_tls(f.tls, f.plaintext_after_220, session_phase::tls)) {
        f.dialogue.handshake = handshake_state::failed;
        finish();
        co_return f;
      }
      f.dialogue.handshake = handshake_state::established;
      if (opt.external_handshake) co_return f;  // the connection is another library's now
      // RFC 3207 §4.2: what was learnt before TLS is forgotten; EHLO again.
      cmd = "EHLO " + opt.ehlo_name;
      if (!co_await s.send(cmd, session_phase::ehlo_after_tls) ||
          !co_await s.read_reply(f.ehlo_after_tls, session_phase::ehlo_after_tls)) {
        finish();
        co_return f;
      }
      f.dialogue.ehlo_after_tls = true;
    }
  }
  if (envelope && !opt.rcpt.empty()) {
    // The envelope only: greylisting and recipient checks answer RCPT. No mail is sent.
    envelope->rcpt = opt.rcpt;
    std::string reply;
    auto first_line = [](const std::string& r) { return r.substr(0, r.find_first_of("\r\n")); };
    cmd = "MAIL FROM:<>";
    if (co_await s.send(cmd, session_phase::mail) && co_await s.read_reply(reply, session_phase::mail)) {
      envelope->mail_code = reply_code(reply);
      envelope->mail_reply = first_line(reply);
      reply.clear();
      cmd = "RCPT TO:<" + opt.rcpt + ">";
      if (envelope->mail_code / 100 == 2 && co_await s.send(cmd, session_phase::rcpt) &&
          co_await s.read_reply(reply, session_phase::rcpt)) {
        envelope->rcpt_code = reply_code(reply);
        envelope->rcpt_reply = first_line(reply);
      }
      reply.clear();
      cmd = "RSET";
      if (co_await s.send(cmd, session_phase::rset)) co_await s.read_reply(reply, session_phase::rset);
    }
    envelope->error = s.error();
    s.clear_error();
  }
  cmd = "QUIT";
  if (co_await s.send(cmd, session_phase::quit)) {
    std::string bye;
    if (!f.starttls_sent && f.ehlo_waited != ehlo_wait::buffered_lines) {
      // Lines after the EHLO reply's final line may come before the answer to QUIT.
      co_await read_answer_after_ehlo(s, opt, f, bye, session_phase::quit);
      f.starttls_offered = mentions_starttls(f.ehlo);
    } else {
      co_await s.read_reply(bye, session_phase::quit);
    }
  }
  // What QUIT met does not end the session early: it was over.
  co_return f;
}

awaitable<injection_facts> run_injection_check(tcp::endpoint server, session_options opt) {
  injection_facts r;
  std::vector<session_event> events;
  auto ex = co_await asio::this_coro::executor;
  opt.on_event = nullptr;  // its lines are not the transcript's
  smtp_session s(ex, opt, events);
  std::string banner, ehlo, reply;
  if (!co_await s.open(server) || !co_await s.read_reply(banner, session_phase::banner)) {
    r.error = s.error();
    co_return r;
  }
  std::string cmd = "EHLO " + opt.ehlo_name;
  if (!co_await s.send(cmd, session_phase::ehlo) || !co_await s.read_reply(ehlo, session_phase::ehlo)) {
    r.error = s.error();
    co_return r;
  }
  ehlo += s.take_buffered(opt.max_reply_octets);
  if (!mentions_starttls(ehlo)) {
    r.status = injection_status::not_applicable;
    co_return r;
  }
  // Both commands in one write, so in one segment.
  std::string both = "STARTTLS\r\nNOOP\r\n";
  if (!co_await s.send_raw(both, event_kind::injection_sent) || !co_await s.read_reply(reply, session_phase::starttls)) {
    r.error = s.error();
    co_return r;
  }
  if (reply_code(reply) != 220) {
    r.status = injection_status::not_applicable;
    co_return r;
  }
  tls_facts tls;
  std::size_t discarded = 0;
  if (!co_await s.start_tls(tls, discarded, session_phase::tls)) {
    r.error = s.error();
    co_return r;
  }
  // Was the NOOP sent in plaintext kept, to run inside TLS? The server reads its input in
  // order: one that kept it answers it before anything sent now. So QUIT goes inside TLS
  // and the first answer tells: 221 (QUIT's) means the NOOP was discarded, another 2xx
  // means the NOOP ran inside TLS. No timing decides; waited_ms is how long the first
  // answer took. (An answer already there after the handshake came unasked.)
  auto w0 = s.now_ms();
  if (s.buffered().empty()) {
    cmd = "QUIT";
    if (!co_await s.send(cmd, session_phase::injection)) {
      r.error = s.error();
      co_return r;
    }
  }
  std::string first;
  if (!co_await s.read_reply(first, session_phase::injection)) {
    r.error = s.error();
    co_return r;
  }
  r.waited_ms = s.now_ms() - w0;
  int code = reply_code(first);
  if (code == 221) {
    r.status = injection_status::not_vulnerable;
  } else if (code / 100 == 2) {
    r.status = injection_status::vulnerable;
    r.answered_octets = first.size();
    r.answer = first.substr(0, first.find_first_of("\r\n"));
  } else {
    r.error = {session_phase::injection, session_error_code::unexpected_reply, first.substr(0, 3)};
  }
  co_return r;
}

}  // namespace mxtls
