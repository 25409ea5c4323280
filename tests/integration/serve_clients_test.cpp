// Real SMTP clients against `mxtls serve` (the CLI, as a user starts it), scenario by
// scenario: what each client observably does must match what the scenario stages.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "../read_file.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "process.hpp"
#include "served.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace t = mxtls::test;

const fs::path source_dir = MXTLS_SOURCE_DIR;

using t::served;
using t::temp_dir;
using t::slurp;
using t::run;

std::string port_of(const served& s) { return std::to_string(s.port()); }

std::vector<std::string> swaks(const served& s, const char* tls_flag) {
  return {"/usr/bin/swaks", "--server", "127.0.0.1:" + port_of(s), "--from", "a@client.mxtls.test", "--to",
          "b@mx.mxtls.test", "--helo", "client.mxtls.test", "--timeout", "5", tls_flag};
}

std::vector<std::string> python(const served& s, const char* mode) {
  return {"/usr/bin/env", "python3", (source_dir / "tests/integration/clients/python_smtplib.py").string(), mode, port_of(s)};
}

std::vector<std::string> s_client(const served& s, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"/usr/bin/openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + port_of(s), "-brief", "-no_ign_eof"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::vector<std::string> posttls_finger(const served& s, const fs::path& dir, const char* level) {
  fs::create_directories(dir / "postfix-config");
  std::ofstream(dir / "postfix-config" / "main.cf") << "compatibility_level = 3.6\n";
  return {"/usr/bin/env", "MAIL_CONFIG=" + (dir / "postfix-config").string(), "/usr/sbin/posttls-finger", "-c", "-l", level,
          "[127.0.0.1]:" + port_of(s)};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ServeClients : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"/usr/bin/swaks", "/usr/sbin/posttls-finger", "/usr/bin/openssl"})
      if (!fs::exists(p)) GTEST_FAIL() << p << " is not installed (scripts/install-deps installs it)";
    dir_ = temp_dir();
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

// The seed case, reproduced: the tools admins test with see STARTTLS, strict senders do not.
TEST_F(ServeClients, SeedSwaksAndOpensslNegotiateTlsPythonSendsInPlaintext) {
  served s("seed", dir_);
  ASSERT_NE(s.port(), 0) << s.output();
  EXPECT_NE(s.output().find("SHA-256"), std::string::npos) << "the certificate fingerprint is printed";

  auto sw = run(dir_, swaks(s, "--tls-optional"));
  EXPECT_EQ(sw.exit_code, 0) << sw.output;
  EXPECT_TRUE(has(sw.output, "TLS started with cipher")) << sw.output;

  auto ossl = run(dir_, s_client(s));
  EXPECT_TRUE(has(ossl.output, "Protocol version: TLSv1.3")) << ossl.output;

  auto pf = run(dir_, posttls_finger(s, dir_, "may"));
  EXPECT_TRUE(has(pf.output, "TLS connection established")) << pf.output;

  auto py = run(dir_, python(s, "opportunistic"));
  EXPECT_EQ(py.exit_code, 0) << py.output;
  auto py_required = run(dir_, python(s, "required"));
  EXPECT_EQ(py_required.exit_code, 3) << "Python does not see STARTTLS: " << py_required.output;

  std::string log = s.log();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n') > 0, true);
  EXPECT_TRUE(has(log, "C: <message of")) << "Python's message arrived";
  // swaks and openssl negotiated TLS, Python did not: 3 handshakes (swaks, openssl, posttls-finger).
  std::size_t handshakes = 0;
  for (std::size_t p = 0; (p = log.find("-- TLS established", p)) != std::string::npos; ++p) ++handshakes;
  EXPECT_EQ(handshakes, 3u) << log;
}

TEST_F(ServeClients, CompliantEveryoneGetsTls) {
  served s("compliant", dir_);
  auto py = run(dir_, python(s, "required"));
  EXPECT_EQ(py.exit_code, 0) << py.output;
  auto sw = run(dir_, swaks(s, "--tls"));
  EXPECT_EQ(sw.exit_code, 0) << sw.output;
  auto pf = run(dir_, posttls_finger(s, dir_, "encrypt"));
  EXPECT_TRUE(has(pf.output, "TLS connection established")) << pf.output;
  std::string log = s.log();
  std::size_t handshakes = 0;
  for (std::size_t p = 0; (p = log.find("-- TLS established", p)) != std::string::npos; ++p) ++handshakes;
  EXPECT_EQ(handshakes, 3u) << log;
}

TEST_F(ServeClients, StarttlsRefusedSilentAndDisconnect) {
  {
    served s("starttls-454", dir_);
    auto sw = run(dir_, swaks(s, "--tls-optional"));
    EXPECT_EQ(sw.exit_code, 0) << "swaks goes on in plaintext: " << sw.output;
    EXPECT_TRUE(has(sw.output, "454 4.7.0")) << sw.output;
    auto required = run(dir_, swaks(s, "--tls"));
    EXPECT_NE(required.exit_code, 0) << required.output;
  }
  {
    served s("starttls-silent", dir_);
    auto start = std::chrono::steady_clock::now();
    auto sw = run(dir_, swaks(s, "--tls"), 20s);
    EXPECT_NE(sw.exit_code, 0);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 4s) << "swaks waited for its 5 s timeout";
    EXPECT_TRUE(has(s.log(), "no reply to STARTTLS"));
  }
  {
    served s("starttls-disconnect", dir_);
    auto sw = run(dir_, swaks(s, "--tls"));
    EXPECT_NE(sw.exit_code, 0);
    EXPECT_TRUE(has(s.log(), "disconnect at STARTTLS"));
  }
}

TEST_F(ServeClients, CertificateFaultsAsOpensslSeesThem) {
  struct row {
    const char* scenario;
    std::vector<std::string> extra;
    const char* expect;
  };
  const row rows[] = {
      {"cert-expired", {}, "verify error:num=10:certificate has expired"},
      {"cert-not-yet-valid", {}, "verify error:num=9:certificate is not yet valid"},
      {"cert-wrong-host", {"-verify_hostname", "mx.mxtls.test"}, "verify error:num=62:hostname mismatch"},
      {"cert-missing-intermediate", {}, "verify error:num=21:unable to verify the first certificate"},
      {"seed", {}, "verify error:num=18:self-signed certificate"},
  };
  for (const auto& r : rows) {
    served s(r.scenario, dir_);
    auto o = run(dir_, s_client(s, r.extra));
    EXPECT_TRUE(has(o.output, r.expect)) << r.scenario << ":\n" << o.output;
  }
  // The chain scenario sends leaf and intermediate; the missing-intermediate one only the leaf.
  for (auto [name, depth] : {std::pair{"cert-ca-chain", 2}, std::pair{"cert-missing-intermediate", 1}}) {
    served s(name, dir_);
    auto o = run(dir_, {"/usr/bin/openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + port_of(s), "-showcerts", "-no_ign_eof"});
    std::size_t certs = 0;
    for (std::size_t p = 0; (p = o.output.find("BEGIN CERTIFICATE", p)) != std::string::npos; ++p) ++certs;
    EXPECT_EQ(certs, static_cast<std::size_t>(depth)) << name << ":\n" << o.output;
  }
}

TEST_F(ServeClients, TlsVersionsOffered) {
  {
    served s("tls13-only", dir_);
    EXPECT_FALSE(has(run(dir_, s_client(s, {"-tls1_2"})).output, "Protocol version")) << "TLS 1.2 refused";
    EXPECT_TRUE(has(run(dir_, s_client(s, {"-tls1_3"})).output, "Protocol version: TLSv1.3"));
  }
  {
    served s("tls10-only", dir_);
    auto o = run(dir_, s_client(s, {"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"}));
    EXPECT_TRUE(has(o.output, "Protocol version: TLSv1\n")) << o.output;
    EXPECT_FALSE(has(run(dir_, s_client(s, {"-tls1_2"})).output, "Protocol version")) << "TLS 1.2 refused";
  }
}

TEST_F(ServeClients, FaultsAtEachStep) {
  {
    served s("busy-421", dir_);
    auto sw = run(dir_, swaks(s, "--tls-optional"));
    EXPECT_NE(sw.exit_code, 0);
    EXPECT_TRUE(has(sw.output, "421 4.3.2")) << sw.output;
  }
  {
    served s("greylist", dir_);
    auto sw = run(dir_, swaks(s, "--tls-optional"));
    EXPECT_NE(sw.exit_code, 0);
    EXPECT_TRUE(has(sw.output, "450 4.2.0")) << sw.output;
  }
  {
    served s("disconnect-at-data", dir_);
    auto sw = run(dir_, swaks(s, "--tls-optional"));
    EXPECT_NE(sw.exit_code, 0);
    EXPECT_TRUE(has(s.log(), "disconnect at DATA"));
  }
  {
    served s("ehlo-refused", dir_);
    auto sw = run(dir_, swaks(s, "--tls-optional"));
    EXPECT_EQ(sw.exit_code, 0) << "swaks falls back to HELO: " << sw.output;
    EXPECT_TRUE(has(s.log(), "C: HELO")) << s.log();
  }
}

// Postfix smtp(8) delivering through a relayhost: the seed server gets the mail in
// plaintext, the compliant one over TLS, and with TLS required Postfix defers.
TEST_F(ServeClients, PostfixRelaysToTheSeedInPlaintextAndToTheCompliantOverTls) {
  if (!fs::exists("/usr/sbin/postfix")) GTEST_FAIL() << "postfix is not installed (scripts/install-deps installs it)";
  constexpr int port = 24726;
  // A short path: Postfix's UNIX-domain sockets live under it (108 octets at most).
  fs::path instance = fs::temp_directory_path() / ("mxtls-pf-" + std::to_string(getpid()));
  std::string tool = (source_dir / "tests/integration/postfix-instance").string();
  ASSERT_EQ(std::system((tool + " start " + instance.string() + " " + std::to_string(port)).c_str()), 0);
  auto deliver = [&](const char* mode) {
    return run(dir_, {"/usr/bin/env", "MXTLS_POSTFIX_DIR=" + instance.string(),
                      (source_dir / "tests/integration/clients/postfix_relay.sh").string(), mode, std::to_string(port)},
               30s);
  };
  {
    served s("seed", dir_, "127.0.0.1:" + std::to_string(port));
    ASSERT_EQ(s.port(), port) << s.output();
    EXPECT_EQ(deliver("opportunistic").exit_code, 0);
    EXPECT_TRUE(has(s.log(), "C: <message of")) << s.log();
    EXPECT_FALSE(has(s.log(), "TLS established")) << "Postfix does not see STARTTLS on the greeting line";
    EXPECT_EQ(deliver("required").exit_code, 1);
    EXPECT_TRUE(has(slurp(instance / "maillog"), "TLS is required, but was not offered by host 127.0.0.1"));
  }
  {
    served s("compliant", dir_, "127.0.0.1:" + std::to_string(port));
    ASSERT_EQ(s.port(), port) << s.output();
    EXPECT_EQ(deliver("required").exit_code, 0);
    EXPECT_TRUE(has(s.log(), "TLS established")) << s.log();
    EXPECT_TRUE(has(slurp(instance / "maillog"), "TLS connection established to 127.0.0.1"));
  }
  std::system((tool + " stop " + instance.string()).c_str());
}

TEST_F(ServeClients, ProbeDiagnosesScenarios) {
  auto probe = [&](const served& s, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{MXTLS_BINARY, "probe", "[127.0.0.1]:" + port_of(s)};
    a.insert(a.end(), extra.begin(), extra.end());
    return run(dir_, a, 30s);
  };
  {
    served s("seed", dir_);
    auto o = probe(s);
    EXPECT_EQ(o.exit_code, 1) << o.output;
    EXPECT_EQ(o.output.rfind("STARTTLS works (TLSv1.3", 0), 0u) << o.output;
    EXPECT_TRUE(has(o.output, "it is listed before the greeting: Cisco ESA, Postfix, Exim, Sendmail, Python, Go")) << o.output;
    auto esa = probe(s, {"--log", "esa"});
    EXPECT_TRUE(has(esa.output, "Info: DCID 1 STARTTLS command not supported.")) << esa.output;
    auto json = probe(s, {"--format", "json"});
    EXPECT_TRUE(has(json.output, "\"schema\": \"mxtls-probe\"")) << json.output;
    EXPECT_TRUE(has(json.output, "\"keyword-as-greeting\"")) << json.output;
    EXPECT_TRUE(has(json.output, "\"outcome\": \"senders-lose-tls\"")) << json.output;
  }
  {
    served s("compliant", dir_);
    auto o = probe(s);
    EXPECT_EQ(o.exit_code, 0) << o.output;
    // Self-signed: every sender that does not check the chain gets TLS; Jakarta Mail does.
    EXPECT_TRUE(has(o.output, "for every sender that does not check the certificate; Jakarta Mail will refuse the certificate")) << o.output;
    auto esa = probe(s, {"--log", "esa"});
    EXPECT_TRUE(has(esa.output, "Info: DCID 1 TLS success protocol TLSv1.3 cipher TLS_AES_256_GCM_SHA384")) << esa.output;
    auto strict = probe(s, {"--policy", "required-verify", "--name", "mail-esa.com"});
    EXPECT_EQ(strict.exit_code, 1) << "a self-signed certificate fails Required (Verify): " << strict.output;
  }
  {
    served s("cert-wrong-host", dir_);
    auto o = probe(s, {"--name", "mx.mxtls.test"});
    EXPECT_TRUE(has(o.output, "certificate does not match mx.mxtls.test")) << o.output;
  }
  {
    served s("command-injection", dir_);
    auto o = probe(s);
    EXPECT_EQ(o.exit_code, 1) << o.output;
    EXPECT_TRUE(has(o.output, "CVE-2011-0411")) << o.output;
  }
  {
    served s("response-injection", dir_);
    auto o = probe(s);
    EXPECT_TRUE(has(o.output, "octets of plaintext followed the 220")) << o.output;
  }
  {
    served s("busy-421", dir_);
    EXPECT_EQ(probe(s).exit_code, 3);
  }
  {
    served s("greylist", dir_);
    auto o = probe(s, {"--rcpt", "b@mx.mxtls.test", "--format", "json"});
    EXPECT_TRUE(has(o.output, "RCPT answered 450: greylisting")) << o.output;
    EXPECT_TRUE(has(o.output, "\"rcpt_code\": 450")) << o.output;
    EXPECT_TRUE(has(s.log(), "C: RSET")) << "no mail is sent: " << s.log();
    EXPECT_FALSE(has(s.log(), "C: DATA"));
  }
  {
    served s("starttls-454", dir_);
    auto o = probe(s);
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_TRUE(has(o.output, "refused with 454")) << o.output;
  }
  auto closed = run(dir_, {MXTLS_BINARY, "probe", "[127.0.0.1]:1", "--timeout", "connect=2"});
  EXPECT_EQ(closed.exit_code, 3) << closed.output;
  auto bad = run(dir_, {MXTLS_BINARY, "probe", "[127.0.0.1"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(has(bad.output, "'[' without ']'")) << bad.output;
}

// mxtls probe against a real Postfix smtpd with STARTTLS.
// SIGINT while the probe waits for an answer to STARTTLS that never comes: it prints what it
// saw so far, says which phase it waited in, and exits 130 (well before the 30 s timeout).
TEST_F(ServeClients, ProbeInterruptedPrintsWhatItSawAndExits130) {
  served s("starttls-silent", dir_);
  ASSERT_GT(s.port(), 0);
  fs::path out = dir_ / "probe.out";
  int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = mxtls::test::spawn({MXTLS_BINARY, "probe", "[127.0.0.1]:" + std::to_string(s.port()), "--format", "json", "--skip", "injection"},
                    "", fd, fd);
  close(fd);
  // The server's log shows the STARTTLS it received (and will never answer): the probe now waits.
  for (int i = 0; i < 1000 && !has(s.log(), "C: STARTTLS"); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(has(s.log(), "C: STARTTLS")) << s.log();
  kill(pid, SIGINT);
  auto w = mxtls::test::wait_for(pid, 10s);
  ASSERT_FALSE(w.timed_out);
  EXPECT_EQ(w.exit_code, 130);
  std::string text = slurp(out);
  EXPECT_TRUE(has(text, "\"interrupted\": true")) << text;
  EXPECT_TRUE(has(text, "\"id\": \"interrupted\"")) << text;
  EXPECT_TRUE(has(text, "\"detail\": \"starttls\"")) << text;
  EXPECT_TRUE(has(text, "\"text\": \"STARTTLS\"")) << "the transcript so far: " << text;
  EXPECT_TRUE(has(text, "interrupted while waiting in phase starttls")) << text;
}

TEST_F(ServeClients, ProbeOfARealPostfixSmtpd) {
  if (!fs::exists("/usr/sbin/postfix")) GTEST_FAIL() << "postfix is not installed (scripts/install-deps installs it)";
  constexpr int port = 24732;
  fs::path instance = fs::temp_directory_path() / ("mxtls-pfs-" + std::to_string(getpid()));
  std::string tool = (source_dir / "tests/integration/postfix-instance").string();
  ASSERT_EQ(std::system((tool + " serve " + instance.string() + " " + std::to_string(port)).c_str()), 0);
  std::string target = "[127.0.0.1]:" + std::to_string(port);
  auto o = run(dir_, {MXTLS_BINARY, "probe", target, "--name", "mx.postfix.test", "--ca", (instance / "conf/cert.pem").string()}, 30s);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output.rfind("STARTTLS works for every sender (TLSv1.3", 0), 0u) << o.output;
  EXPECT_TRUE(has(o.output, "verified  yes")) << o.output;
  EXPECT_TRUE(has(o.output, "name      mx.postfix.test matches")) << o.output;
  EXPECT_TRUE(has(o.output, "a NOOP pipelined with STARTTLS was discarded")) << o.output;
  EXPECT_TRUE(has(o.output, "0 errors, 0 warnings")) << o.output;
  auto strict = run(dir_, {MXTLS_BINARY, "probe", target, "--name", "mx.postfix.test", "--policy", "required-verify"}, 30s);
  EXPECT_EQ(strict.exit_code, 1) << "not in the system store: " << strict.output;
  auto esa = run(dir_, {MXTLS_BINARY, "probe", target, "--log", "esa", "--no-injection-test"}, 30s);
  EXPECT_TRUE(has(esa.output, "Info: DCID 1 TLS success protocol TLSv1.3")) << esa.output;
  std::system((tool + " stop " + instance.string()).c_str());
}

// mxtls probe of mail domains, with a real DNS server (unbound on a loopback port) serving a
// test zone: MX in preference order, implicit MX, null MX, NXDOMAIN, a CNAME'd MX host, a
// host without address, and a name whose server never answers.
TEST_F(ServeClients, ProbeOfMailDomainsThroughARealDnsServer) {
  if (!fs::exists("/usr/sbin/unbound")) GTEST_FAIL() << "unbound is not installed (scripts/install-deps installs it)";
  // Fixed ports lie below Linux's ephemeral range (32768-60999), so no outgoing connection of
  // a test running beside this one can hold them as its source port.
  constexpr int dns_port = 24755, smtp_port = 24756, silent_port = 24757;
  // A UDP socket that never answers: the "slow" zone's server.
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(silent_port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  fs::path conf = dir_ / "unbound.conf";
  std::ofstream(conf) << "server:\n  interface: 127.0.0.1\n  port: " << dns_port
                      << "\n  do-daemonize: no\n  chroot: \"\"\n  username: \"\"\n  pidfile: \"\"\n  directory: \""
                      << dir_.string() << "\"\n  use-syslog: no\n  access-control: 127.0.0.0/8 allow\n"
                      << "  module-config: \"iterator\"\n  do-not-query-localhost: no\n"
                      << "  local-zone: \"mxtls-probe.net.\" static\n"
                      << "  local-data: \"seed.mxtls-probe.net. IN MX 10 mx.seed.mxtls-probe.net.\"\n"
                      << "  local-data: \"mx.seed.mxtls-probe.net. IN A 127.0.0.1\"\n"
                      << "  local-data: \"order.mxtls-probe.net. IN MX 20 up.mxtls-probe.net.\"\n"
                      << "  local-data: \"order.mxtls-probe.net. IN MX 10 down.mxtls-probe.net.\"\n"
                      << "  local-data: \"down.mxtls-probe.net. IN A 127.0.0.2\"\n"
                      << "  local-data: \"up.mxtls-probe.net. IN A 127.0.0.1\"\n"
                      << "  local-data: \"up.mxtls-probe.net. IN AAAA ::1\"\n"
                      << "  local-zone: \"refused.mxtls-probe.org.\" refuse\n"
                      << "  local-data: \"implicit.mxtls-probe.net. IN A 127.0.0.1\"\n"
                      << "  local-data: \"nullmx.mxtls-probe.net. IN MX 0 .\"\n"
                      << "  local-data: \"cnamed.mxtls-probe.net. IN MX 10 alias.mxtls-probe.net.\"\n"
                      << "  local-data: \"alias.mxtls-probe.net. IN CNAME mx.seed.mxtls-probe.net.\"\n"
                      << "  local-data: \"noaddr.mxtls-probe.net. IN MX 10 nothing.mxtls-probe.net.\"\n"
                      << "stub-zone:\n  name: \"slow-mxtls-probe.org.\"\n  stub-addr: 127.0.0.1@" << silent_port << "\n";
  fs::path log = dir_ / "unbound.log";
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t unbound = t::spawn({"/usr/sbin/unbound", "-c", conf.string()}, "", fd, fd);
  close(fd);
  for (int i = 0; i < 200 && !has(slurp(log), "start of service"); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(has(slurp(log), "start of service")) << slurp(log);

  served s("seed", dir_, "127.0.0.1:" + std::to_string(smtp_port));
  auto probe = [&](const std::string& domain, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{MXTLS_BINARY, "probe", domain, "--port", std::to_string(smtp_port), "--resolver",
                               "127.0.0.1:" + std::to_string(dns_port), "--no-injection-test", "--timeout", "connect=2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run(dir_, a, 30s);
  };
  auto seed = probe("seed.mxtls-probe.net");
  EXPECT_EQ(seed.exit_code, 1) << seed.output;
  EXPECT_TRUE(has(seed.output, "MX 10 mx.seed.mxtls-probe.net")) << seed.output;
  EXPECT_TRUE(has(seed.output, "it is listed before the greeting")) << seed.output;
  EXPECT_TRUE(has(seed.output, "certificate does not match mx.seed.mxtls-probe.net")) << "the MX host name is checked: " << seed.output;

  auto order = probe("order.mxtls-probe.net", {"--format", "json"});
  EXPECT_EQ(order.exit_code, 1) << order.output;
  auto down = order.output.find("\"address\": \"127.0.0.2\"");
  auto up = order.output.find("\"address\": \"127.0.0.1\"");
  EXPECT_TRUE(down != std::string::npos && up != std::string::npos && down < up) << "preference 10 first: " << order.output;

  auto all = probe("order.mxtls-probe.net", {"--all-hosts"});
  EXPECT_TRUE(has(all.output, "AAAA up.mxtls-probe.net ::1")) << all.output;
  EXPECT_TRUE(has(all.output, "Host up.mxtls-probe.net [::1]:")) << "every address with --all-hosts: " << all.output;

  auto refused = probe("refused.mxtls-probe.org");
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_TRUE(has(refused.output, "failed: SERVFAIL")) << "a refusing server ends as SERVFAIL: " << refused.output;

  auto implicit = probe("implicit.mxtls-probe.net");
  EXPECT_EQ(implicit.exit_code, 1) << implicit.output;
  EXPECT_TRUE(has(implicit.output, "implicit MX")) << implicit.output;

  auto nullmx = probe("nullmx.mxtls-probe.net");
  EXPECT_EQ(nullmx.exit_code, 3);
  EXPECT_TRUE(has(nullmx.output, "null MX (RFC 7505)")) << nullmx.output;

  auto nx = probe("nothing-here.mxtls-probe.net");
  EXPECT_EQ(nx.exit_code, 3);
  EXPECT_TRUE(has(nx.output, "does not exist (NXDOMAIN)")) << nx.output;

  auto cnamed = probe("cnamed.mxtls-probe.net");
  EXPECT_EQ(cnamed.exit_code, 1) << cnamed.output;
  EXPECT_TRUE(has(cnamed.output, "A alias.mxtls-probe.net 127.0.0.1")) << cnamed.output;

  auto noaddr = probe("noaddr.mxtls-probe.net");
  EXPECT_EQ(noaddr.exit_code, 3);
  EXPECT_TRUE(has(noaddr.output, "has no address")) << noaddr.output;

  auto start = std::chrono::steady_clock::now();
  auto slow = probe("x.slow-mxtls-probe.org", {"--timeout", "dns=2"});
  EXPECT_EQ(slow.exit_code, 3);
  EXPECT_TRUE(has(slow.output, "failed: timeout")) << slow.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);

  // The same domains through mxtls scan: all at once, the lookups side by side on the
  // scan's resolvers; each line gets the probe's outcome.
  std::ofstream(dir_ / "domains.txt") << "seed.mxtls-probe.net\norder.mxtls-probe.net\nrefused.mxtls-probe.org\n"
                                         "implicit.mxtls-probe.net\nnullmx.mxtls-probe.net\nnothing-here.mxtls-probe.net\n"
                                         "cnamed.mxtls-probe.net\nnoaddr.mxtls-probe.net\nx.slow-mxtls-probe.org\n";
  start = std::chrono::steady_clock::now();
  auto scan = run(dir_,
                  {MXTLS_BINARY, "scan", (dir_ / "domains.txt").string(), "--port", std::to_string(smtp_port), "--resolver",
                   "127.0.0.1:" + std::to_string(dns_port), "--no-injection-test", "--timeout", "connect=2", "--timeout",
                   "dns=2", "--out", (dir_ / "domains.jsonl").string()},
                  60s);
  EXPECT_EQ(scan.exit_code, 1) << scan.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s) << "the slow zone's timeouts overlap with the rest";
  std::map<int, std::string> outcome;
  std::ifstream jsonl(dir_ / "domains.jsonl");
  std::regex field("\"line\":([0-9]+),.*?\"outcome\":\"([a-z-]+)\"");
  for (std::string line; std::getline(jsonl, line);) {
    std::smatch m;
    if (std::regex_search(line, m, field)) outcome[std::stoi(m[1])] = m[2];
  }
  std::map<int, std::string> expected{{1, "senders-lose-tls"}, {2, "senders-lose-tls"}, {3, "dns-fails"},
                                      {4, "senders-lose-tls"}, {5, "dns-fails"},        {6, "dns-fails"},
                                      {7, "senders-lose-tls"}, {8, "dns-fails"},        {9, "dns-fails"}};
  EXPECT_EQ(outcome, expected) << scan.output;
  EXPECT_TRUE(has(scan.output, "9 lines: 9 probed")) << scan.output;

  kill(unbound, SIGTERM);
  t::wait_for(unbound, 5s);
  close(silent);
}

TEST_F(ServeClients, InvalidScenarioFileNamesFileLineAndField) {
  fs::path bad = dir_ / "bad.yaml";
  std::ofstream(bad) << "name: bad\ntls:\n  certificate: shiny\n";
  auto o = run(dir_, {MXTLS_BINARY, "serve", "--scenario", bad.string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(has(o.output, "bad.yaml:3: tls.certificate: must be self-signed")) << o.output;
  auto missing = run(dir_, {MXTLS_BINARY, "serve", "--scenario", "no-such-thing"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(has(missing.output, "neither a built-in scenario")) << missing.output;
  auto list = run(dir_, {MXTLS_BINARY, "serve", "--list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_TRUE(has(list.output, "seed ")) << list.output;
  EXPECT_TRUE(has(list.output, "keyword-as-greeting ")) << list.output;
}

TEST_F(ServeClients, DemoDiagnosesTheSeedAndExitsZero) {
  auto o = run(dir_, {MXTLS_BINARY, "demo"}, 30s);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_TRUE(has(o.output, "error[keyword-as-greeting]")) << o.output;
  EXPECT_TRUE(has(o.output, "TLS       TLSv1.3")) << o.output;
  EXPECT_TRUE(has(o.output, "Verdict: STARTTLS works (TLSv1.3")) << o.output;
  EXPECT_TRUE(has(o.output, "it is listed before the greeting: Cisco ESA, Postfix, Exim, Sendmail, Python, Go")) << o.output;
}

}  // namespace
