// The TLS layer per sender, against the real senders: every restricted scenario is served by
// `mxtls serve` (the CLI) and probed by `mxtls probe --json`; then each real client delivers
// to it once with its default or "TLS when offered" setting and once with TLS required. What
// the client did, read from the server's log (a message delivered inside TLS, in plaintext, a
// handshake only, nothing), must equal the probe's prediction for that sender; any mismatch
// fails. gnutls-cli has no sender model: it is compared with the probe's replay of the GnuTLS
// profile. The rows go to build/tls-matrix/; the report test writes docs/tls-matrix.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mxtls/sender_tls.hpp"
#include "jakarta_mail.hpp"
#include "process.hpp"
#include "served.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
namespace t = mxtls::test;

const fs::path source_dir = MXTLS_SOURCE_DIR;
const fs::path matrix_dir = fs::path(MXTLS_BINARY_DIR) / "tls-matrix";
// Fixed ports lie below Linux's ephemeral range (32768-60999), so no outgoing connection of
// a test running beside this one can hold them as its source port.
constexpr int serve_port = 24727;  // fixed: the private Postfix instance relays to one port
const fs::path postfix_dir = fs::temp_directory_path() / ("mxtls-tls-pf-" + std::to_string(getpid()));
// The private Exim (tests/integration/exim-instance), unpacked from the .deb in peers/debs.
const fs::path exim_dir = fs::temp_directory_path() / ("mxtls-tls-exim-" + std::to_string(getpid()));
// The private Sendmail 8.17 (tests/integration/sendmail-instance), unpacked from the .debs in peers/debs.
const fs::path sendmail_dir = fs::temp_directory_path() / ("mxtls-tls-sendmail-" + std::to_string(getpid()));
// The private OpenSMTPD 6.8 (tests/integration/opensmtpd-instance), unpacked from the .deb in peers/debs.
const fs::path opensmtpd_dir = fs::temp_directory_path() / ("mxtls-tls-opensmtpd-" + std::to_string(getpid()));
// The private Haraka 3.3.4 (tests/integration/haraka-instance), from npm; it listens here.
const fs::path haraka_dir = fs::temp_directory_path() / ("mxtls-tls-haraka-" + std::to_string(getpid()));
constexpr int haraka_port = 24729;

// The restricted scenarios, and one that restricts nothing.
const std::vector<std::string> scenarios = {"compliant",    "tls10-only",       "tls11-only",          "tls13-only",
                                            "tls12-rsa-kx", "dh1024",           "rsa1024-cert",        "sha1-cert",
                                            "tls13-ffdhe-only", "tls12-brainpool-only"};

std::string src(const char* rel) { return (source_dir / rel).string(); }

struct real_client {
  std::string id;     // the sender id (client model), or the profile id for a client without one
  bool by_profile;    // compared with the probe's handshake of profile `id`, not a prediction
  std::string needs;  // a file that must exist
  std::vector<std::string> (*argv)(const std::string& mode, const std::string& port, const fs::path& dir);
  std::string stdin_file;
  bool opportunistic = true;  // has an opportunistic run (msmtp's TLS is off by default: plaintext, nothing to learn)
  // Has a run with TLS required. Not Haraka's: with force_tls_hosts it verifies the server's
  // certificate against Node's CA store and the name "localhost" (outbound/tls.js sets no
  // servername for an MX given as an address), which no scenario's certificate passes, so
  // every required run would fail for that reason and say nothing of the TLS layer
  // (TlsSendersUntrusted.HarakaRequiredChecksTheCertificate runs that check on its own).
  bool required = true;
  // Exit codes from this one up are the driver's own failures (haraka-instance: 2 the message
  // was not taken, 3 haraka died): the run fails the test. 0: none.
  int error_exit = 0;
};

std::vector<real_client> real_clients() {
  static const std::string msg = src("tests/integration/clients/message.eml");
  return {
      {"python-smtplib", false, "/usr/bin/python3",
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/python3", src("tests/integration/clients/python_smtplib.py"), m, p};
       }, ""},
      {"perl-net-smtp", false, "/usr/share/perl5/IO/Socket/SSL.pm",
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/perl", src("tests/integration/clients/perl_net_smtp.pl"), m, p};
       }, ""},
      {"ruby-net-smtp", false, "/usr/bin/ruby",
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/ruby", src("tests/integration/clients/ruby_net_smtp.rb"), m, p};
       }, ""},
      {"phpmailer", false, "/usr/share/php/libphp-phpmailer/autoload.php",
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/php", src("tests/integration/clients/phpmailer.php"), m, p};
       }, ""},
      {"nodemailer", false, src("tests/integration/peers/node_modules/nodemailer/package.json"),
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/env", "node", src("tests/integration/clients/nodemailer.js"), m, p};
       }, ""},
      {"go-net-smtp", false, MXTLS_GO_CLIENT,
       [](const std::string& m, const std::string& p, const fs::path&) { return std::vector<std::string>{MXTLS_GO_CLIENT, m, p}; },
       ""},
      {"curl", false, "/usr/bin/curl",
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/curl", "-sS", "--max-time", "10", "-k", m == "required" ? "--ssl-reqd" : "--ssl",
                                         "smtp://127.0.0.1:" + p, "--mail-from", "a@client.mxtls.test", "--mail-rcpt",
                                         "b@mx.mxtls.test", "-T", msg};
       }, ""},
      {"swaks", false, "/usr/bin/swaks",
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/swaks", "--server", "127.0.0.1:" + p, "--from", "a@client.mxtls.test", "--to",
                                         "b@mx.mxtls.test", "--helo", "client.mxtls.test", "--timeout", "10",
                                         m == "required" ? "--tls" : "--tls-optional"};
       }, ""},
      {"msmtp", false, "/usr/bin/msmtp",
       [](const std::string&, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/msmtp", "--host=127.0.0.1", "--port=" + p, "--from=a@client.mxtls.test",
                                         "--domain=client.mxtls.test", "--timeout=10", "--tls=on", "--tls-starttls=on",
                                         "--tls-certcheck=off", "b@mx.mxtls.test"};
       }, msg, false},
      {"openssl-s-client", false, "/usr/bin/openssl",
       [](const std::string&, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + p, "-brief"};
       }, "/dev/null"},
      {"posttls-finger", false, "/usr/sbin/posttls-finger",
       [](const std::string& m, const std::string& p, const fs::path& dir) {
         fs::create_directories(dir / "postfix-config");
         std::ofstream(dir / "postfix-config" / "main.cf") << "compatibility_level = 3.6\n";
         return std::vector<std::string>{"/usr/bin/env", "MAIL_CONFIG=" + (dir / "postfix-config").string(),
                                         "/usr/sbin/posttls-finger", "-c", "-l", m == "required" ? "encrypt" : "may",
                                         "[127.0.0.1]:" + p};
       }, ""},
      {"postfix", false, "/usr/sbin/postfix",
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_POSTFIX_DIR=" + postfix_dir.string(),
                                         src("tests/integration/clients/postfix_relay.sh"), m, p};
       }, ""},
      {"exim", false, src("tests/integration/peers/debs"),
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_EXIM_DIR=" + exim_dir.string(),
                                         src("tests/integration/clients/exim_relay.sh"), m, p};
       }, ""},
      // Sendmail's defaults (STARTTLS when offered) and TLS_Srv:127.0.0.1 ENCR:112 in its access
      // map; the recipient's domain carries the port and chooses the configuration.
      {"sendmail", false, src("tests/integration/peers/debs"),
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_SENDMAIL_DIR=" + sendmail_dir.string(),
                                         src("tests/integration/clients/sendmail_relay.sh"), m, p};
       }, ""},
      // OpenSMTPD's relay action, smtp:// (STARTTLS when offered) and smtp+tls:// tls no-verify
      // (required); one short-lived smtpd per message.
      {"opensmtpd", false, src("tests/integration/peers/debs"),
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_OPENSMTPD_DIR=" + opensmtpd_dir.string(),
                                         src("tests/integration/clients/opensmtpd_relay.sh"), m == "required" ? "required" : "may", p};
       }, ""},
      // Jakarta Mail 2.0.0 (Debian 12's libjakarta-mail-java), compiled here with the JDK's javac.
      {"jakarta-mail", false, "/usr/share/java/jakarta-mail.jar",
       [](const std::string& m, const std::string& p, const fs::path& dir) {
         // Its defaults, with the scenario's root in the JDK's trust store (trust_files below).
         return mxtls::test::jakarta_mail_argv(source_dir, matrix_dir / "java", m, p, (dir / "trust.p12").string());
       }, ""},
      // Haraka's outbound delivery with its defaults (TLS when offered); the recipient's local
      // part carries the port.
      {"haraka", false, src("tests/integration/peers/node_modules/Haraka/package.json"),
       [](const std::string& m, const std::string& p, const fs::path&) {
         return std::vector<std::string>{src("tests/integration/haraka-instance"), "send", haraka_dir.string(), m, p};
       }, "", true, false, 2},
      {"gnutls-normal", true, "/usr/bin/gnutls-cli",
       [](const std::string&, const std::string& p, const fs::path&) {
         return std::vector<std::string>{"/usr/bin/gnutls-cli", "--starttls-proto=smtp", "--insecure", "--port", p, "127.0.0.1"};
       }, "/dev/null", false},
  };
}

// What one client run did, from the server's log lines added during the run: a message
// delivered inside TLS or in plaintext, a handshake without a message (a client that only
// looks), or nothing.
std::string observed(const std::string& log_delta, bool timed_out) {
  std::map<std::string, std::pair<bool, bool>> sessions;  // number -> (tls, message)
  std::istringstream in(log_delta);
  std::string line;
  std::regex numbered(R"(^\[(\d+)\] (.*)$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, numbered)) continue;
    auto& s = sessions[m[1]];
    std::string text = m[2];
    if (text.rfind("-- TLS established", 0) == 0) s.first = true;
    if (text.rfind("C: <message of", 0) == 0) s.second = true;
  }
  bool tls_message = false, plain_message = false, handshake = false;
  for (const auto& [n, s] : sessions) {
    if (s.first && s.second) tls_message = true;
    if (!s.first && s.second) plain_message = true;
    if (s.first) handshake = true;
  }
  if (tls_message) return "tls";
  if (plain_message) return "plaintext";
  if (handshake) return "tls";
  return timed_out ? "hang" : "fail";
}

// What one client run did to the served scenario: observed() of the log lines added since
// `before` (the log as it was when the run began).
std::string observed_since(const t::served& s, const std::string& before, bool timed_out) {
  std::string after = s.log();
  return observed(after.substr(std::min(before.size(), after.size())), timed_out);
}

// The probe JSON's prediction for sender `id` on its first host; null when there is none.
json prediction_of(const json& doc, std::string_view id) {
  for (const auto& p : doc["hosts"][0]["predictions"])
    if (p["id"] == id) return p;
  return nullptr;
}

struct postfix_instance {
  postfix_instance() {
    std::system((src("tests/integration/postfix-instance") + " start " + postfix_dir.string() + " " + std::to_string(serve_port))
                    .c_str());
  }
  ~postfix_instance() { std::system((src("tests/integration/postfix-instance") + " stop " + postfix_dir.string()).c_str()); }
};

// The trust anchors of the certificates `mxtls serve --write-certificates DIR/certs` wrote:
// KEY-root.pem where the scenario's chain has a root, else the self-signed leaf of KEY.pem;
// DIR/ca.pem for the probe's --ca, DIR/trust.p12 for the JDK's trust store.
void trust_files(const fs::path& dir) {
  std::ofstream ca(dir / "ca.pem");
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir / "certs")) {
    std::string stem = e.path().stem().string();
    if (e.path().extension() != ".pem" || stem.ends_with("-root")) continue;
    fs::path root = dir / "certs" / (stem + "-root.pem");
    std::string pem = t::slurp(fs::exists(root) ? root : e.path());
    const std::string end = "-----END CERTIFICATE-----";
    std::string anchor = pem.substr(0, pem.find(end) + end.size()) + "\n";
    ca << anchor;
    fs::path one = dir / ("anchor-" + std::to_string(++n) + ".pem");
    std::ofstream(one) << anchor;
    std::string cmd = "/usr/bin/keytool -importcert -noprompt -alias a" + std::to_string(n) + " -file '" + one.string() +
                      "' -keystore '" + (dir / "trust.p12").string() + "' -storepass changeit -storetype PKCS12 >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("keytool failed: " + cmd);
  }
  if (n == 0) throw std::runtime_error("mxtls serve wrote no certificate into " + (dir / "certs").string());
}

class TlsSenders : public ::testing::TestWithParam<std::string> {};

TEST_P(TlsSenders, RealClientsDoWhatTheProbePredicts) {
  const std::string& name = GetParam();
  fs::path dir = t::temp_dir();
  for (const auto& c : real_clients())
    if (!fs::exists(c.needs)) GTEST_FAIL() << c.id << " is not installed here (" << c.needs << "); scripts/install-deps installs it";
  postfix_instance pf;
  const std::string port_arg = std::to_string(serve_port);
  // Exim, no daemon: the directory holds its binary, configuration, spool and main log.
  t::script_instance exim(true, src("tests/integration/exim-instance"), "start", "stop", exim_dir.string(), port_arg,
                          "exim-instance start failed (scripts/install-deps downloads Exim's .deb)");
  // Sendmail, no daemon either: each send delivers in the foreground and exits.
  t::script_instance sendmail(true, src("tests/integration/sendmail-instance"), "start", "stop", sendmail_dir.string(),
                              port_arg, "sendmail-instance start failed (scripts/install-deps downloads Sendmail's .debs; it needs root)");
  // OpenSMTPD's binaries, unpacked; each message starts an smtpd of its own.
  t::script_instance opensmtpd(true, src("tests/integration/opensmtpd-instance"), "unpack", "remove", opensmtpd_dir.string(),
                               "", "opensmtpd-instance unpack failed (scripts/install-deps downloads OpenSMTPD's .deb)");
  // One haraka process for the scenario's runs.
  t::script_instance haraka(true, src("tests/integration/haraka-instance"), "start", "stop", haraka_dir.string(),
                            std::to_string(haraka_port), "haraka-instance start failed (scripts/install-deps installs Haraka from npm)");
  fs::create_directories(dir / "certs");
  t::served s(name, dir, "127.0.0.1:" + std::to_string(serve_port), {"--write-certificates", (dir / "certs").string()});
  ASSERT_EQ(s.port(), serve_port) << s.output();
  std::string port = std::to_string(serve_port);
  // The scenario's chain trusted, by the probe (--ca) and by Jakarta Mail's JDK alike: the
  // TLS layer decides. TlsSendersUntrusted checks the chain that is not.
  trust_files(dir);

  auto probe = t::run(dir, {MXTLS_BINARY, "probe", "--json", "--ca", (dir / "ca.pem").string(), "[127.0.0.1]:" + port}, 60s);
  json doc = json::parse(probe.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << probe.output;
  const json& host = doc["hosts"][0];
  std::map<std::string, json> predictions;
  for (const auto& p : host["predictions"]) predictions[p["id"].get<std::string>()] = p;
  std::map<std::string, bool> profile_ok;
  if (host["checks"].contains("tls_senders"))
    for (const auto& h : host["checks"]["tls_senders"]["handshakes"]) profile_ok[h["profile"]] = h["established"].get<bool>();

  json rows = json::array();
  for (const auto& c : real_clients()) {
    json row{{"client", c.id}};
    for (const std::string mode : {"opportunistic", "required"}) {
      if ((mode == "opportunistic" && !c.opportunistic) || (mode == "required" && !c.required)) continue;
      std::string before = s.log();
      auto r = t::run(dir, c.argv(mode, port, dir), 25s, c.stdin_file);
      std::string got = observed_since(s, before, r.timed_out);
      if (c.error_exit > 0 && !r.timed_out && r.exit_code >= c.error_exit)
        ADD_FAILURE() << name << " / " << c.id << " (" << mode << "): the driver failed, exit " << r.exit_code << ": "
                      << r.output.substr(0, 600);
      std::string want;
      if (c.by_profile) {
        // No prediction for this client: the probe's handshake of its profile (tls if
        // the probe's own was established and decided it, else the replay's).
        want = profile_ok.count(c.id) ? (profile_ok[c.id] ? "tls" : "fail") : "tls";
      } else {
        ASSERT_TRUE(predictions.count(c.id)) << c.id;
        want = predictions[c.id][mode == "required" ? "outcome_required" : "outcome"].get<std::string>();
      }
      EXPECT_EQ(got, want) << name << " / " << c.id << " (" << mode << "): the probe predicts " << want << ", the client did "
                           << got << "\n  exit " << r.exit_code << (r.timed_out ? " (timed out)" : "") << ": "
                           << r.output.substr(0, 600);
      row[mode] = {{"observed", got}, {"predicted", want}};
    }
    rows.push_back(row);
  }
  fs::create_directories(matrix_dir);
  std::ofstream(matrix_dir / (name + ".json")) << json{{"scenario", name}, {"rows", rows}}.dump(1);
  fs::remove_all(dir);
}

// Jakarta Mail with its defaults and a chain its JDK does not trust (Debian's cacerts, which
// the scenario's self-signed certificate is not in): STARTTLS fails in both settings, as the
// probe, whose CA store lacks the chain too, predicts (certificate-untrusted). Its own port,
// so that it can run beside the scenarios.
TEST(TlsSendersUntrusted, JakartaMailRefusesAChainItsTrustStoreLacks) {
  if (!fs::exists("/usr/share/java/jakarta-mail.jar") || !fs::exists("/etc/ssl/certs/java/cacerts"))
    GTEST_FAIL() << "Jakarta Mail or the JDK's cacerts is not installed here; scripts/install-deps installs them";
  constexpr int untrusted_port = 24731;
  fs::path dir = t::temp_dir();
  t::served s("compliant", dir, "127.0.0.1:" + std::to_string(untrusted_port));
  ASSERT_EQ(s.port(), untrusted_port) << s.output();
  const std::string port = std::to_string(untrusted_port);
  auto probe = t::run(dir, {MXTLS_BINARY, "probe", "--json", "[127.0.0.1]:" + port}, 60s);
  json doc = json::parse(probe.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << probe.output;
  json jakarta = prediction_of(doc, "jakarta-mail");
  ASSERT_TRUE(jakarta.is_object()) << probe.output;
  EXPECT_EQ(jakarta["outcome"], "fail");
  EXPECT_EQ(jakarta["outcome_required"], "fail");
  EXPECT_EQ(jakarta["reason"], "certificate-untrusted");
  for (const std::string mode : {"opportunistic", "required"}) {
    std::string before = s.log();
    auto r = t::run(dir, mxtls::test::jakarta_mail_argv(source_dir, matrix_dir / "java-untrusted", mode, port,
                                                            "/etc/ssl/certs/java/cacerts"),
                    25s);
    EXPECT_EQ(observed_since(s, before, r.timed_out), "fail") << mode << ": " << r.output;
    EXPECT_NE(r.output.find("PKIX path building failed"), std::string::npos) << mode << ": " << r.output.substr(0, 600);
  }
  fs::remove_all(dir);
}

// Haraka with TLS required (force_tls_hosts) checks the certificate: the chain against Node's
// CA store and the name "localhost" (an MX given as an address). Served with the instance's
// own certificate (IP 127.0.0.1 and DNS localhost, which it trusts), it delivers; served with
// the scenario's self-signed one, it defers. The probe, given the same trust (--ca) and name
// (--name localhost), predicts both. Ports of its own, so that it can run beside the scenarios.
TEST(TlsSendersUntrusted, HarakaRequiredChecksTheCertificate) {
  if (!fs::exists(src("tests/integration/peers/node_modules/Haraka/package.json")))
    GTEST_FAIL() << "Haraka is not installed here; scripts/install-deps installs it from npm";
  constexpr int h_port = 24732, s_port = 24733;
  const fs::path h_dir = fs::temp_directory_path() / ("mxtls-tls-haraka-req-" + std::to_string(getpid()));
  t::script_instance haraka(true, src("tests/integration/haraka-instance"), "start", "stop", h_dir.string(),
                            std::to_string(h_port), "haraka-instance start failed (scripts/install-deps installs Haraka from npm)");
  const std::string port = std::to_string(s_port);
  struct run_case {
    std::vector<std::string> serve_extra;
    std::string want;  // tls: delivered over TLS (send exits 0); fail: deferred (send exits 1)
  };
  const std::string crt = (h_dir / "replay.crt").string(), key = (h_dir / "replay.key").string();
  for (const run_case& c : {run_case{{"--cert", crt, "--key", key}, "tls"}, run_case{{}, "fail"}}) {
    fs::path dir = t::temp_dir();
    t::served s("compliant", dir, "127.0.0.1:" + port, c.serve_extra);
    ASSERT_EQ(s.port(), s_port) << s.output();
    auto probe = t::run(dir, {MXTLS_BINARY, "probe", "--json", "--ca", crt, "--name", "localhost", "[127.0.0.1]:" + port}, 60s);
    json doc = json::parse(probe.output, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << probe.output;
    json p = prediction_of(doc, "haraka");
    ASSERT_TRUE(p.is_object()) << probe.output;
    EXPECT_EQ(p["outcome_required"], c.want) << probe.output.substr(0, 2000);
    EXPECT_EQ(p["reason"], "sees-starttls");
    if (c.want == "fail") EXPECT_EQ(doc["hosts"][0]["checks"]["starttls"]["tls"]["verified"], false);
    std::string before = s.log();
    auto r = t::run(dir, {src("tests/integration/haraka-instance"), "send", h_dir.string(), "required", port}, 25s);
    // Haraka's own verdict: delivered (0) or deferred (1); 2 and up are the driver's failures.
    EXPECT_EQ(r.exit_code, c.want == "tls" ? 0 : 1) << r.output;
    EXPECT_EQ(observed_since(s, before, r.timed_out), c.want) << r.output.substr(0, 600);
    fs::remove_all(dir);
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, TlsSenders, ::testing::ValuesIn(scenarios),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// docs/tls-matrix.md from the rows the scenario tests left in the build tree.
TEST(TlsMatrixReport, WritesDocsFromObservedRuns) {
  std::vector<json> runs;
  for (const auto& n : scenarios) {
    fs::path f = matrix_dir / (n + ".json");
    if (fs::exists(f)) runs.push_back(json::parse(t::slurp(f)));
  }
  if (runs.size() != scenarios.size()) GTEST_FAIL() << "not every scenario has run (" << runs.size() << " of " << scenarios.size() << ")";
  std::ostringstream md;
  md << "# TLS matrix: what real senders did with each restricted TLS server\n\n"
     << "Generated by `tests/integration/tls_senders_test.cpp` from real runs: `mxtls serve` serves each\n"
     << "scenario (scenarios/*.yaml, the `tls:` block), `mxtls probe --json` predicts each sender, then\n"
     << "each real client delivers to it with its default or \"TLS when offered\" setting and with TLS\n"
     << "required. Each cell is *observed default / observed required*; a cell marked **≠** disagreed\n"
     << "with the prediction (which follows it). `tls` message delivered inside TLS (for clients that\n"
     << "only look, a handshake); `plaintext` delivered without TLS; `fail` nothing delivered this\n"
     << "attempt (Postfix, Exim and Sendmail with TLS required defer, and Sendmail with its defaults\n"
     << "after a failed handshake); for Exim, `plaintext` after a failed handshake is its\n"
     << "`tls_tempfail_tryclear` retry in clear; `-` not run (msmtp's TLS is off unless configured;\n"
     << "gnutls-cli has one setting; Haraka with TLS required verifies the certificate against Node's CA\n"
     << "store and the name \"localhost\", which no scenario's certificate passes; `tls_senders.untrusted` runs it\n"
     << "against a certificate that passes and one that does not, each as predicted).\n"
     << "`gnutls-normal` is gnutls-cli, compared with the probe's replay of that profile.\n"
     << "The probe is given the scenario's root (`--ca`), and Jakarta Mail runs with its defaults and that root in\n"
     << "the JDK's trust store: it checks the chain in both settings (not the name), and `tls_senders.untrusted`\n"
     << "shows it failing on a chain its trust store lacks, as predicted (`certificate-untrusted`).\n"
     << "Microsoft 365 and Gmail are services: nothing of theirs runs here, so they have no row in the table;\n"
     << "their profiles and rows below come from their vendors' documents, and where those stop the\n"
     << "prediction is `unknown` (docs/probe-json.md).\n\n";
  md << "| client |";
  for (const auto& r : runs) md << " " << r["scenario"].get<std::string>() << " |";
  md << "\n|---|";
  for (std::size_t i = 0; i < runs.size(); ++i) md << "---|";
  md << "\n";
  const auto& first = runs.front()["rows"];
  for (std::size_t i = 0; i < first.size(); ++i) {
    md << "| " << first[i]["client"].get<std::string>() << " |";
    for (const auto& r : runs) {
      const json& row = r["rows"][i];
      auto cell = [&](const char* mode, const char* what) {
        return row.contains(mode) ? row[mode][what].get<std::string>() : std::string("-");
      };
      std::string obs = cell("opportunistic", "observed") + " / " + cell("required", "observed");
      std::string pred = cell("opportunistic", "predicted") + " / " + cell("required", "predicted");
      md << " " << (obs == pred ? obs : "**≠** " + obs + " (predicted " + pred + ")") << " |";
    }
    md << "\n";
  }
  md << "\n## The profiles\n\nOpenSSL profiles are replayed by an OpenSSL context with the versions and security level "
        "shown; GnuTLS profiles by GnuTLS itself with their priority string, which decides both.\n\n"
        "| profile | library | versions | security level | source |\n|---|---|---|---|---|\n";
  for (const auto& p : mxtls::tls_profiles()) {
    std::string versions = std::string(p.min_version.empty() ? "TLSv1" : p.min_version) + " to " +
                           std::string(p.max_version.empty() ? "TLSv1.3" : p.max_version);
    std::string level = std::to_string(p.security_level);
    if (!p.gnutls_priority.empty()) versions = level = "GnuTLS priority " + std::string(p.gnutls_priority);
    md << "| `" << p.id << "` | " << p.library << " | " << versions << " | " << level << " | " << p.source << " |\n";
  }
  md << "\n## The senders\n\n| sender | profile | after a failed handshake (default / required) | source |\n|---|---|---|---|\n";
  for (const auto& r : mxtls::sender_tls_rules())
    md << "| `" << r.sender << "` | " << (r.profile.empty() ? std::string("not modelled") : "`" + std::string(r.profile) + "`")
       << " | "
       << (r.profile.empty() ? std::string("-")
                             : std::string(mxtls::to_string(r.on_failure)) + " / " + mxtls::to_string(r.on_failure_required))
       << " | " << r.source << " |\n";
  std::ofstream(source_dir / "docs" / "tls-matrix.md") << md.str();
}

}  // namespace
