// The mock server met by the live-session engine, in one process: every built-in
// finding scenario reproduces its finding over the wire, STARTTLS faults and injection
// are seen for what they are, and a thousand sessions with hostile ones among them are
// served side by side. Runs in the release and the ASan/UBSan builds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <openssl/ssl.h>

#include "mxtls/dns.hpp"
#include "mxtls/lint.hpp"
#include "mxtls/diagnosis.hpp"
#include "mxtls/live_session.hpp"
#include "mxtls/mock_server.hpp"

namespace mxtls {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

scenario load(const std::string& name_or_yaml) {
  scenario_error e;
  auto s = name_or_yaml.find('\n') == std::string::npos ? builtin(name_or_yaml, e)
                                                        : parse_scenario(name_or_yaml, "test.yaml", e);
  if (!s) throw std::runtime_error(e.what());
  return *s;
}

struct harness {
  asio::io_context io;
  std::unique_ptr<mock_server> server;
  std::vector<std::string> log;

  explicit harness(const std::string& sc, server_options opt = {}) {
    opt.log = [this](std::size_t n, const std::string& line) { log.push_back(std::to_string(n) + " " + line); };
    scenario s = load(sc);
    server = std::make_unique<mock_server>(io, s, make_identity(s), opt);
    server->listen(parse_listen_address("127.0.0.1:0"));
  }

  starttls_facts meet(session_options o = fast()) {
    starttls_facts out;
    bool done = false;
    asio::co_spawn(io, run_starttls_session(server->local_endpoint(), o), [&](std::exception_ptr e, starttls_facts r) {
      if (e) std::rethrow_exception(e);
      out = std::move(r);
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    EXPECT_TRUE(done) << "the session did not end";
    return out;
  }

  bool logged(const std::string& part) const {
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; });
  }

  static session_options fast() {
    session_options o;
    o.timeouts.banner = o.timeouts.command = 2000ms;
    o.timeouts.tls = 5000ms;
    o.timeouts.trailing = 100ms;
    return o;
  }
};

TEST(ServeEngine, EveryFindingScenarioReproducesItsFindingOverTheWire) {
  for (const auto& f : catalogue()) {
    harness h(std::string(f.name));
    session_options o = harness::fast();
    o.timeouts.command = 500ms;  // for the reply that never ends
    auto r = h.meet(o);
    ASSERT_FALSE(r.ehlo.empty()) << f.name << ": " << to_string(r.error.phase) << " " << r.error.detail;
    lint_options lo;
    lo.raw = true;
    auto lr = lint(r.ehlo, lo);
    ASSERT_TRUE(lr.reply_found) << f.name;
    bool found = std::any_of(lr.ehlo.findings.begin(), lr.ehlo.findings.end(),
                             [&](const finding& x) { return x.id == f.id; });
    EXPECT_TRUE(found) << f.name << " not reproduced; live reply: " << r.ehlo;
  }
}

TEST(ServeEngine, SeedScenarioByteForByteWithWorkingTls) {
  harness h("seed");
  auto r = h.meet();
  EXPECT_FALSE(r.error) << to_string(r.error.phase) << ": " << r.error.detail;
  EXPECT_EQ(r.banner, "220 mail.domain1.com ESMTP Service ready\r\n");
  EXPECT_EQ(r.ehlo, load("seed").ehlo);
  EXPECT_TRUE(r.starttls_offered);
  EXPECT_EQ(r.dialogue.starttls_code, 220);
  EXPECT_TRUE(r.tls.established);
  EXPECT_EQ(r.ehlo_after_tls, load("seed").ehlo_after_tls);
  ASSERT_EQ(r.tls.chain.size(), 1u);
  EXPECT_NE(r.tls.chain[0].subject.find("CN=mail.domain1.com"), std::string::npos);
  EXPECT_EQ(r.tls.chain[0].sha256, h.server->identity().sha256);
  EXPECT_EQ(r.plaintext_after_220, 0u);
  EXPECT_EQ(h.server->stats().tls_handshakes, 1u);
}

TEST(ServeEngine, ResponseInjectionIsSeenAndDiscarded) {
  harness h("response-injection");
  auto r = h.meet();
  EXPECT_EQ(r.plaintext_after_220, std::string("250-injected.mxtls.test\r\n250 AUTH PLAIN\r\n").size());
  EXPECT_TRUE(r.tls.established) << r.error.detail;
  EXPECT_EQ(r.ehlo_after_tls.find("injected"), std::string::npos) << "injected lines must not be read inside TLS";
}

TEST(ServeEngine, StarttlsRefusedSilentOrDisconnected) {
  {
    harness h("starttls-454");
    auto r = h.meet();
    EXPECT_EQ(r.dialogue.starttls_code, 454);
    EXPECT_EQ(r.dialogue.starttls, starttls_answer::refused);
    EXPECT_FALSE(r.tls.established);
    EXPECT_FALSE(r.error) << r.error.detail;
  }
  {
    harness h("starttls-silent");
    session_options o = harness::fast();
    o.timeouts.command = 300ms;
    auto r = h.meet(o);
    EXPECT_EQ(r.error.phase, session_phase::starttls);
    EXPECT_EQ(r.error.code, session_error_code::read_timeout);
    EXPECT_EQ(r.error.detail, "300");
    EXPECT_EQ(r.dialogue.starttls, starttls_answer::no_answer);
    EXPECT_TRUE(h.logged("no reply to STARTTLS"));
  }
  {
    harness h("starttls-disconnect");
    auto r = h.meet();
    EXPECT_EQ(r.error.phase, session_phase::starttls);
    EXPECT_EQ(r.error.code, session_error_code::closed) << r.error.detail;
  }
}

TEST(ServeEngine, TarpitBusyAndDrip) {
  {
    harness h("tarpit");
    session_options o = harness::fast();
    o.timeouts.banner = 300ms;
    auto r = h.meet(o);
    EXPECT_EQ(r.error.phase, session_phase::banner);
  }
  {
    harness h("busy-421");
    auto r = h.meet();
    EXPECT_EQ(r.error.phase, session_phase::banner);
    EXPECT_EQ(r.error.detail, "421");
  }
  {
    harness h("name: drip-fast\nbanner: \"220 x\"\ndrip_us: 10000\n");
    auto r = h.meet();
    EXPECT_FALSE(r.error) << r.error.detail;
    ASSERT_GE(r.events.size(), 2u);
    EXPECT_EQ(r.events[1].kind, event_kind::line_received);
    EXPECT_GE(r.events[1].ms, 60) << "7 octets at 10 ms each";
  }
}

TEST(ServeEngine, CommandInjectionScenarioRunsPipelinedCommandsInsideTls) {
  for (bool vulnerable : {false, true}) {
    harness h(vulnerable ? "command-injection" : "compliant");
    tcp::socket s(h.io);
    s.connect(h.server->local_endpoint());
    asio::streambuf buf;
    auto read_reply = [&] {
      std::string all;
      while (true) {
        asio::read_until(s, buf, "\r\n");
        std::istream is(&buf);
        std::string line;
        std::getline(is, line);
        all += line + "\n";
        if (line.size() < 4 || line[3] == ' ') return all;
      }
    };
    std::thread runner([&] { h.io.run_for(1500ms); });
    read_reply();
    asio::write(s, asio::buffer(std::string("EHLO c.test\r\n")));
    read_reply();
    // STARTTLS and a harmless command in one segment.
    asio::write(s, asio::buffer(std::string("STARTTLS\r\nNOOP\r\n")));
    EXPECT_EQ(read_reply().substr(0, 3), "220");
    runner.join();
    h.io.restart();
    EXPECT_EQ(h.logged("kept, to run inside TLS"), vulnerable);
    EXPECT_EQ(h.logged("discarded"), !vulnerable);
  }
}

TEST(ServeEngine, InjectionCheckOfTheEngineFindsTheVulnerableScenario) {
  for (bool vulnerable : {false, true}) {
    harness h(vulnerable ? "command-injection" : "compliant");
    injection_facts result;
    bool done = false;
    asio::co_spawn(h.io, run_injection_check(h.server->local_endpoint(), harness::fast()),
                   [&](std::exception_ptr e, injection_facts r) {
                     if (e) std::rethrow_exception(e);
                     result = std::move(r);
                     done = true;
                   });
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done && std::chrono::steady_clock::now() < deadline) h.io.run_one_for(100ms);
    ASSERT_TRUE(done);
    EXPECT_EQ(result.status, vulnerable ? injection_status::vulnerable : injection_status::not_vulnerable)
        << to_string(result.error.phase) << " " << result.error.detail;
    EXPECT_GE(result.waited_ms, 0);  // the time to the first answer inside TLS (0 on a fast loopback)
    if (!vulnerable) EXPECT_TRUE(result.answer.empty()) << result.answer;
    if (vulnerable) EXPECT_EQ(result.answer.substr(0, 3), "250") << "the NOOP's answer came before QUIT's";
  }
}

TEST(ServeEngine, CertificateFactsFromTheLiveSession) {
  {
    harness h("cert-wrong-host");
    session_options o = harness::fast();
    o.verify_name = "mx.mxtls.test";
    auto r = h.meet(o);
    ASSERT_TRUE(r.tls.established) << r.error.detail;
    EXPECT_FALSE(r.tls.hostname_match);
    EXPECT_FALSE(r.tls.chain_verified);
    EXPECT_EQ(r.tls.verify_error, "self-signed certificate");
  }
  {
    harness h("cert-expired");
    auto r = h.meet();
    EXPECT_TRUE(r.tls.expired);
  }
  {
    harness h("cert-ca-chain");
    session_options o = harness::fast();
    o.verify_name = "mx.mxtls.test";
    auto r = h.meet(o);
    EXPECT_EQ(r.tls.chain.size(), 2u);
    EXPECT_TRUE(r.tls.hostname_match);
    EXPECT_EQ(r.tls.verify_error, "unable to get local issuer certificate");
  }
}

// A hostile server: after EHLO, an endless multi-line reply (bounded here at 1 MiB). The
// engine stops at its reply limit and says so; memory stays at the limit.
TEST(ServeEngine, EndlessMultilineReplyIsCutAtTheLimit) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto server = [&]() -> asio::awaitable<void> {
    auto [ec, s] = co_await acceptor.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    std::string banner = "220 endless.mxtls.test ESMTP\r\n";
    co_await asio::async_write(s, asio::buffer(banner), asio::experimental::as_tuple(asio::use_awaitable));
    char buf[512];
    co_await s.async_read_some(asio::buffer(buf), asio::experimental::as_tuple(asio::use_awaitable));
    std::string chunk;
    for (int i = 0; i < 1000; ++i) chunk += "250-ENDLESS\r\n";
    for (int i = 0; i < 80; ++i) {
      auto [wec, n] = co_await asio::async_write(s, asio::buffer(chunk), asio::experimental::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
  };
  asio::co_spawn(io, server(), asio::detached);
  starttls_facts r;
  bool done = false;
  session_options o = harness::fast();
  asio::co_spawn(io, run_starttls_session(acceptor.local_endpoint(), o), [&](std::exception_ptr e, starttls_facts x) {
    if (e) std::rethrow_exception(e);
    r = std::move(x);
    done = true;
  });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  ASSERT_TRUE(done);
  EXPECT_EQ(r.error.phase, session_phase::ehlo);
  EXPECT_EQ(r.error.code, session_error_code::reply_too_long) << r.error.detail;
  EXPECT_LE(r.ehlo.size(), 65536u + 4096u);
}

// The DNS path under the sanitizers: a forwarder that never answers ends in a timeout.
TEST(ServeEngine, DnsLookupWithASilentServerTimesOut) {
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(silent, reinterpret_cast<sockaddr*>(&sa), &len);
  asio::io_context io;
  dns_resolver res("127.0.0.1@" + std::to_string(ntohs(sa.sin_port)));
  dns_answer answer;
  bool done = false;
  auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io, res.lookup("example.com", rr_mx, 400ms), [&](std::exception_ptr e, dns_answer a) {
    if (e) std::rethrow_exception(e);
    answer = std::move(a);
    done = true;
  });
  io.run_for(10s);
  ASSERT_TRUE(done);
  EXPECT_FALSE(answer.ok);
  EXPECT_EQ(answer.error, "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  close(silent);
}

TEST(ServeEngine, AThousandSessionsWithHostileOnesAmongThem) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 4096 && lim.rlim_max >= 4096) {
    lim.rlim_cur = 4096;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < 2200) GTEST_SKIP() << "open-file limit too low: " << lim.rlim_cur;

  // The EHLO reply waits three seconds, so that every session is open at the same time
  // even on a loaded machine under the sanitizers (1000 connections take a while there).
  server_options opt;
  opt.max_sessions = 2000;
  harness h("name: busy\nehlo: [\"250-mx.mxtls.test\", \"250 PIPELINING\"]\ndelays: {EHLO: 3000}\n", opt);
  constexpr int good = 1000;
  std::vector<starttls_facts> results(good);
  int done = 0;
  session_options o = harness::fast();
  o.timeouts.command = 20000ms;
  o.timeouts.connect = 20000ms;
  o.timeouts.banner = 20000ms;
  for (int i = 0; i < good; ++i)
    asio::co_spawn(h.io, run_starttls_session(h.server->local_endpoint(), o), [&, i](std::exception_ptr, starttls_facts r) {
      results[i] = std::move(r);
      ++done;
    });

  // Hostile clients at the same time.
  auto ep = h.server->local_endpoint();
  std::string garbage(3000, '\x01');
  std::string endless(1 << 20, 'A');  // a megabyte without a line ending
  std::vector<std::unique_ptr<tcp::socket>> hostile;
  std::vector<std::string> hostile_replies(3);
  for (int k = 0; k < 3; ++k) {
    auto s = std::make_unique<tcp::socket>(h.io);
    s->connect(ep);
    hostile.push_back(std::move(s));
  }
  // Sends `payload`, then `after_220` once the server has said 220 to STARTTLS; keeps
  // everything the server answers.
  auto hostile_client = [&](int k, std::string payload, std::string after_220) -> asio::awaitable<void> {
    auto& s = *hostile[k];
    co_await asio::async_write(s, asio::buffer(payload), asio::experimental::as_tuple(asio::use_awaitable));
    char b[512];
    bool sent_after = after_220.empty();
    while (true) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(b), asio::experimental::as_tuple(asio::use_awaitable));
      if (ec) break;
      hostile_replies[k].append(b, n);
      if (!sent_after && hostile_replies[k].find("220 2.0.0") != std::string::npos) {
        sent_after = true;
        co_await asio::async_write(s, asio::buffer(after_220), asio::experimental::as_tuple(asio::use_awaitable));
      }
    }
  };
  std::string tls_garbage(2000, '\x16');
  asio::co_spawn(h.io, hostile_client(0, garbage + "\r\n", ""), asio::detached);
  asio::co_spawn(h.io, hostile_client(1, endless, ""), asio::detached);
  asio::co_spawn(h.io, hostile_client(2, "STARTTLS\r\n", tls_garbage), asio::detached);
  // And one that leaves at once.
  {
    tcp::socket s(h.io);
    s.connect(ep);
    s.close();
  }

  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (done < good && std::chrono::steady_clock::now() < deadline) h.io.run_one_for(100ms);
  ASSERT_EQ(done, good);
  int ok = 0;
  for (const auto& r : results)
    if (!r.error && r.ehlo == "250-mx.mxtls.test\r\n250 PIPELINING\r\n") ++ok;
  EXPECT_EQ(ok, good);
  EXPECT_GE(h.server->stats().peak_active, static_cast<std::size_t>(good)) << "sessions should overlap";
  for (int i = 0; i < 50 && (hostile_replies[1].find("500 5.5.0 Line too long") == std::string::npos ||
                             !h.logged("TLS handshake failed"));
       ++i)
    h.io.run_one_for(100ms);
  EXPECT_NE(hostile_replies[0].find("502 5.5.2"), std::string::npos) << "garbage gets an error reply";
  EXPECT_NE(hostile_replies[1].find("500 5.5.0 Line too long"), std::string::npos) << "an endless line is cut off";
  EXPECT_TRUE(h.logged("TLS handshake failed")) << "TLS garbage ends only its own session";
}

TEST(ServeEngine, SessionLimitAnswers421) {
  server_options opt;
  opt.max_sessions = 2;
  harness h("name: slow\ndelays: {EHLO: 500}\n", opt);
  std::vector<starttls_facts> r(3);
  int done = 0;
  session_options o = harness::fast();
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(h.io, run_starttls_session(h.server->local_endpoint(), o), [&, i](std::exception_ptr, starttls_facts x) {
      r[i] = std::move(x);
      ++done;
    });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (done < 3 && std::chrono::steady_clock::now() < deadline) h.io.run_one_for(100ms);
  int refused = 0;
  for (const auto& x : r)
    if (x.error.phase == session_phase::banner && x.error.detail == "421") ++refused;
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(h.server->stats().refused, 1u);
}

// A plain blocking socket connected to 127.0.0.1:port, or -1.
int connect_blocking(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Out of descriptors, the server cannot accept the waiting connection: it must keep
// the listener and try again later without spinning on it, and serve the connection once
// descriptors are free again.
TEST(ServeEngine, OutOfDescriptorsTheServerWaitsInsteadOfSpinningAndRecovers) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizers' runtime opens descriptors of its own (UBSan's vptr check probes memory
  // through a pipe) and reports a false error when it cannot; the release build runs this.
  GTEST_SKIP() << "needs a process whose only descriptors are its own";
#endif
  harness h("compliant");
  int fd = connect_blocking(h.server->local_endpoint().port());  // completes in the backlog
  ASSERT_GE(fd, 0);

  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);  // every descriptor below is taken
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  auto before = cpu();
  h.io.run_for(1s);
  auto used = std::chrono::duration_cast<std::chrono::milliseconds>(cpu() - before);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_LT(used, 500ms) << "the accept loop spins while out of descriptors";
  EXPECT_EQ(h.server->stats().sessions, 0u);

  std::string got;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    h.io.run_one_for(50ms);
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(got.rfind("220 ", 0), 0u) << "the waiting connection is served once descriptors are free: " << got;
}

// A client that goes away inside TLS while the server is still writing to it: the
// server's next writes fail (EPIPE), which must end that session, not raise SIGPIPE and end
// the process with every other session in it.
TEST(ServeEngine, AClientGoneInsideTlsEndsItsSessionNotTheServer) {
  harness h("name: drip-tls\nbanner: \"220 x\"\ndrip_us: 3000\n");
  auto guard = asio::make_work_guard(h.io);
  std::thread server([&] { h.io.run(); });

  int fd = connect_blocking(h.server->local_endpoint().port());
  ASSERT_GE(fd, 0);
  timeval limit{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  // The reply to the last command, up to its final line.
  auto reply = [&] {
    std::string all, line;
    char c;
    while (::recv(fd, &c, 1, 0) == 1) {
      line += c;
      if (c != '\n') continue;
      all += line;
      bool final = line.size() < 4 || line[3] != '-';
      line.clear();
      if (final) break;
    }
    return all;
  };
  auto say = [&](const std::string& cmd) { ::send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL); };
  EXPECT_EQ(reply().rfind("220", 0), 0u);
  say("EHLO client.example\r\n");
  EXPECT_NE(reply().find("STARTTLS"), std::string::npos);
  say("STARTTLS\r\n");
  ASSERT_EQ(reply().rfind("220", 0), 0u);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  ASSERT_GT(SSL_write(ssl, "EHLO client.example\r\n", 21), 0);
  ::close(fd);  // gone while the server drips its reply, an octet every 3 ms
  SSL_free(ssl);
  SSL_CTX_free(ctx);

  std::this_thread::sleep_for(1s);
  h.io.stop();
  server.join();
  EXPECT_EQ(h.server->stats().tls_handshakes, 1u);
  EXPECT_EQ(h.server->stats().active, 0u) << "the session ended on the failed write";
  EXPECT_TRUE(h.logged("-- session closed"));
}

// `mxtls serve --threads`: sessions on contexts of their own, a thread each, given out in
// turn; every one completes its STARTTLS session, the counts add up across the threads, and
// the log lines of every session come from the thread it ran on (never the listener's).
TEST(ServeEngine, SessionsRunOnTheSessionContextsGiven) {
  constexpr int sessions = 24;
  std::list<asio::io_context> workers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep;
  std::mutex lock;
  std::map<std::size_t, std::set<std::thread::id>> threads_of;  // session -> threads its lines came from
  server_options opt;
  for (int i = 0; i < 3; ++i) {
    opt.session_contexts.push_back(&workers.emplace_back(1));
    keep.push_back(asio::make_work_guard(workers.back()));
  }
  opt.log = [&](std::size_t n, const std::string&) {
    std::lock_guard hold(lock);
    threads_of[n].insert(std::this_thread::get_id());
  };
  asio::io_context io;  // the listener's, and the clients'
  scenario s = load("compliant");
  auto server = std::make_unique<mock_server>(io, s, make_identity(s), opt);
  server->listen(parse_listen_address("127.0.0.1:0"));
  std::vector<std::jthread> running;
  for (auto& w : workers) running.emplace_back([&w] { w.run(); });

  std::vector<starttls_facts> results(sessions);
  int done = 0;
  for (int i = 0; i < sessions; ++i)
    asio::co_spawn(io, run_starttls_session(server->local_endpoint(), harness::fast()), [&, i](std::exception_ptr e, starttls_facts r) {
      if (!e) results[i] = std::move(r);
      ++done;
    });
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (done < sessions && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  ASSERT_EQ(done, sessions);
  for (const auto& r : results) {
    EXPECT_FALSE(r.error) << to_string(r.error.phase) << ": " << r.error.detail;
    EXPECT_TRUE(r.tls.established);
  }
  // The server's side of the last sessions may still be closing on its threads.
  while (server->stats().active > 0 && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  server_stats st = server->stats();
  EXPECT_EQ(st.sessions, static_cast<std::size_t>(sessions));
  EXPECT_EQ(st.tls_handshakes, static_cast<std::size_t>(sessions));
  EXPECT_EQ(st.active, 0u);
  server->stop();
  keep.clear();
  for (auto& w : workers) w.stop();
  running.clear();  // joined

  std::set<std::thread::id> used;
  std::lock_guard hold(lock);
  ASSERT_EQ(threads_of.size(), static_cast<std::size_t>(sessions));
  for (const auto& [n, ids] : threads_of) {
    EXPECT_EQ(ids.size(), 1u) << "session " << n << " ran on more than one thread";
    EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u) << "session " << n << " ran on the listener's thread";
    used.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(used.size(), workers.size()) << "sessions are given out to every context in turn";
}

}  // namespace
}  // namespace mxtls
