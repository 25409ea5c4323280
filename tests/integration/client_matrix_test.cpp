// Differential validation of the client models against the real clients.
//
// For every reply variant (the raw conformance vectors) and every real client that is
// installed, a replay server on 127.0.0.1 sends the reply byte for byte and answers
// STARTTLS with 220 and a real handshake; the client runs once with its default or
// "TLS when offered" setting and once with TLS required. What happened (TLS, plaintext
// delivery, failure, or a client still waiting at the deadline) must equal the model's
// prediction. Each client's rows go to build/client-matrix/<id>.json; the report test
// turns them into docs/client-matrix.md.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../conformance/vector_input.hpp"
#include "../read_file.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "mxtls/client_model.hpp"
#include "mxtls/lint.hpp"
#include "jakarta_mail.hpp"
#include "process.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path source_dir = MXTLS_SOURCE_DIR;
const fs::path matrix_dir = fs::path(MXTLS_BINARY_DIR) / "client-matrix";
constexpr int client_deadline_ms = 2500;  // a client still running then is waiting: "hang"
// Fixed ports lie below Linux's ephemeral range (32768-60999), so no outgoing connection of
// a test running beside this one can hold them as its source port.
constexpr int postfix_port = 24725;       // the private Postfix instance relays here
// A short path: Postfix's UNIX-domain sockets live under it (108 octets at most).
const fs::path postfix_dir = fs::temp_directory_path() / ("mxtls-matrix-pf-" + std::to_string(getpid()));
// The private Exim (tests/integration/exim-instance): binary unpacked from its .deb in peer_debs.
const fs::path exim_dir = fs::temp_directory_path() / ("mxtls-matrix-exim-" + std::to_string(getpid()));
const fs::path peer_debs = source_dir / "tests" / "integration" / "peers" / "debs";
// The private Sendmail (tests/integration/sendmail-instance), from the same directory.
const fs::path sendmail_dir = fs::temp_directory_path() / ("mxtls-matrix-sendmail-" + std::to_string(getpid()));
// The private OpenSMTPD (tests/integration/opensmtpd-instance), from the same directory.
const fs::path opensmtpd_dir = fs::temp_directory_path() / ("mxtls-matrix-opensmtpd-" + std::to_string(getpid()));
// The private Haraka (tests/integration/haraka-instance, from npm): one haraka process for all
// runs, listening here; each run's message names the replay server's port in its recipient.
const fs::path haraka_dir = fs::temp_directory_path() / ("mxtls-matrix-haraka-" + std::to_string(getpid()));
constexpr int haraka_port = 24728;

std::string slurp(const std::filesystem::path& p) { return mxtls::test::read_file(p); }

struct variant {
  std::string name;
  std::string bytes;
};

// The raw conformance vectors that make sense as a server's reply to EHLO.
std::vector<variant> load_variants() {
  std::vector<variant> out;
  std::set<std::string> seen;
  for (const char* file : {"ehlo-raw.json", "clients-raw.json"}) {
    json j = json::parse(slurp(source_dir / "tests" / "conformance" / file));
    for (const auto& c : j["cases"]) {
      if (c.contains("limits") || c.value("no_reply", false)) continue;
      std::string bytes = mxtls::test::vector_input(c["input"]);
      if (bytes.rfind("220", 0) == 0 || bytes.size() > 16384) continue;  // banner vectors; huge lines
      if (!seen.insert(bytes).second) continue;
      out.push_back({c["name"].get<std::string>(), bytes});
    }
  }
  return out;
}

struct real_client {
  std::string id;           // the model id
  std::string needs;        // a file that must exist for the client to run here
  bool probe;               // sends no mail: success without STARTTLS counts as plaintext
  std::vector<std::string> (*argv)(const std::string& mode, const std::string& port);
  std::string stdin_file;   // "" for /dev/null
  int fixed_port = 0;       // the replay server's port, for clients that cannot take one per run
  int deadline_ms = 0;      // instead of client_deadline_ms, for a client with a slow start (a JVM)
  // Runs at once (3; on two cores more starve the clients of the tests beside): each run
  // has its own replay server, port and reply file, so the waits of
  // the variants a client hangs on overlap. 1 for a client that shares state between runs
  // (Postfix: one relay port, and a deferred message clears the whole queue; Exim: one
  // spool, whose retry hints a failed delivery leaves for the run beside it).
  int parallel = 3;
  // The certificate and key the replay server presents (a PEM file), for a client that checks
  // the certificate when TLS is required; "" for the one it makes in memory.
  std::string server_cert = "";
  // Exit codes from this one up are the driver's own failures (the client never ran the
  // dialogue): the run is an "error", which no model predicts. 0: none.
  int error_exit = 0;
};

std::string src(const char* rel) { return (source_dir / rel).string(); }

std::vector<real_client> real_clients() {
  static const std::string msg = src("tests/integration/clients/message.eml");
  return {
      {"python-smtplib", "/usr/bin/env", false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/env", "python3", src("tests/integration/clients/python_smtplib.py"), m, p};
       }, ""},
      {"perl-net-smtp", "/usr/share/perl5/IO/Socket/SSL.pm", false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/perl", src("tests/integration/clients/perl_net_smtp.pl"), m, p};
       }, ""},
      {"nodemailer", src("tests/integration/peers/node_modules/nodemailer/package.json"), false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/env", "node", src("tests/integration/clients/nodemailer.js"), m, p};
       }, ""},
      {"go-net-smtp", MXTLS_GO_CLIENT, false,
       [](const std::string& m, const std::string& p) { return std::vector<std::string>{MXTLS_GO_CLIENT, m, p}; }, ""},
      {"ruby-net-smtp", "/usr/bin/ruby", false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/ruby", src("tests/integration/clients/ruby_net_smtp.rb"), m, p};
       }, ""},
      {"phpmailer", "/usr/share/php/libphp-phpmailer/autoload.php", false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/php", src("tests/integration/clients/phpmailer.php"), m, p};
       }, ""},
      {"curl", "/usr/bin/curl", false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/curl", "-sS", "--max-time", "10", "-k",
                                         m == "required" ? "--ssl-reqd" : "--ssl", "smtp://127.0.0.1:" + p,
                                         "--mail-from", "a@client.mxtls.test", "--mail-rcpt", "b@replay.mxtls.test",
                                         "-T", msg};
       }, ""},
      {"swaks", "/usr/bin/swaks", false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/swaks", "--server", "127.0.0.1:" + p, "--from", "a@client.mxtls.test",
                                         "--to", "b@replay.mxtls.test", "--helo", "client.mxtls.test", "--timeout", "10",
                                         m == "required" ? "--tls" : "--tls-optional"};
       }, ""},
      {"msmtp", "/usr/bin/msmtp", false,
       [](const std::string& m, const std::string& p) {
         std::vector<std::string> a{"/usr/bin/msmtp", "--host=127.0.0.1", "--port=" + p, "--from=a@client.mxtls.test",
                                    "--domain=client.mxtls.test", "--timeout=10"};
         if (m == "required") {
           a.insert(a.end(), {"--tls=on", "--tls-starttls=on", "--tls-certcheck=off"});
         } else {
           a.push_back("--tls=off");
         }
         a.push_back("b@replay.mxtls.test");
         return a;
       }, msg},
      {"postfix", "/usr/sbin/postfix", false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_POSTFIX_DIR=" + postfix_dir.string(),
                                         src("tests/integration/clients/postfix_relay.sh"), m, p};
       }, "", postfix_port, 0, 1},
      // Exim 4.96 from Debian's exim4-daemon-light .deb; the recipient's domain carries the
      // replay server's port, so no fixed port is needed.
      {"exim", peer_debs.string(), false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_EXIM_DIR=" + exim_dir.string(),
                                         src("tests/integration/clients/exim_relay.sh"), m, p};
       }, "", 0, 0, 1},  // one at a time: runs share the instance's retry hints (spool/db)
      // Sendmail 8.17 from Debian's sendmail-bin .deb: the recipient's domain carries the port.
      {"sendmail", peer_debs.string(), false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_SENDMAIL_DIR=" + sendmail_dir.string(),
                                         src("tests/integration/clients/sendmail_relay.sh"), m, p};
       }, "", 0, 10000, 3},  // one sendmail process per message (-odi), each recipient unique; 10 s:
                             // its start in a namespace, slow on a loaded machine (over 2.5 s seen)
      // OpenSMTPD 6.8.0p2 from Debian's opensmtpd .deb: a short-lived smtpd per message (an
      // smtpd keeps its outbound session for the next message), in namespaces of its own.
      {"opensmtpd", peer_debs.string(), false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/env", "MXTLS_OPENSMTPD_DIR=" + opensmtpd_dir.string(),
                                         src("tests/integration/clients/opensmtpd_relay.sh"), m, p};
       }, "", 0, 10000, 3},  // about 0.8 s a message (its scheduler waits a second), 10 s as Sendmail
      // Jakarta Mail 2.0.0 (Debian 12's libjakarta-mail-java), compiled here with the JDK's javac.
      {"jakarta-mail", "/usr/share/java/jakarta-mail.jar", false,
       [](const std::string& m, const std::string& p) {
         return mxtls::test::jakarta_mail_argv(source_dir, matrix_dir / "java", m, p);
       }, "", 0, 10000, 2},  // two JVMs at once: three starved the other tests' clients on two cores
      // Haraka 3.3.4 from npm: outbound delivery of the private instance. With TLS required
      // (force_tls_hosts) Haraka verifies the certificate, so the replay server presents the
      // instance's own, which the instance trusts (NODE_EXTRA_CA_CERTS).
      {"haraka", src("tests/integration/peers/node_modules/Haraka/package.json"), false,
       [](const std::string& m, const std::string& p) {
         return std::vector<std::string>{src("tests/integration/haraka-instance"), "send", haraka_dir.string(), m, p};
       }, "", 0, 10000, 3, (haraka_dir / "replay.pem").string(), 2},  // 10 s: a daemon's queue, as Sendmail's
      {"openssl-s-client", "/usr/bin/openssl", true,
       [](const std::string&, const std::string& p) {
         return std::vector<std::string>{"/usr/bin/openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + p,
                                         "-quiet", "-no_ign_eof"};
       }, ""},
      {"posttls-finger", "/usr/sbin/posttls-finger", true,
       [](const std::string& m, const std::string& p) {
         // posttls-finger reads main.cf; an empty configuration in the build tree will do.
         static const std::string config = [] {
           fs::path dir = matrix_dir / "postfix-config";
           fs::create_directories(dir);
           std::ofstream(dir / "main.cf") << "compatibility_level = 3.6\n";
           return dir.string();
         }();
         return std::vector<std::string>{"/usr/bin/env", "MAIL_CONFIG=" + config, "/usr/sbin/posttls-finger", "-c", "-l",
                                         m == "required" ? "encrypt" : "may", "[127.0.0.1]:" + p};
       }, ""},
  };
}

struct run_result {
  std::string outcome;  // tls, plaintext, fail, hang
  std::string detail;
};

using mxtls::test::spawn;
namespace test = mxtls::test;

run_result run_once(const real_client& c, const std::string& mode, const fs::path& reply_file, int deadline_override_ms = 0) {
  int pipefd[2];
  // Close-on-exec: a run's pipe must not leak into the processes other runs start at the
  // same time, or its reader would wait for them too (spawn's dup2 clears the flag on fd 1).
  if (pipe2(pipefd, O_CLOEXEC) != 0) return {"error", "pipe"};
  const int deadline_ms = deadline_override_ms > 0 ? deadline_override_ms : c.deadline_ms > 0 ? c.deadline_ms : client_deadline_ms;
  pid_t server = spawn({MXTLS_REPLAY_SERVER, reply_file.string(), std::to_string(deadline_ms + 3000),
                        std::to_string(c.fixed_port), c.server_cert},
                       "", pipefd[1]);
  close(pipefd[1]);
  FILE* from_server = fdopen(pipefd[0], "r");
  char line[4096];
  int port = 0;
  if (fgets(line, sizeof line, from_server) && std::sscanf(line, "port %d", &port) != 1) port = 0;
  if (port == 0) {
    fclose(from_server);
    kill(server, SIGKILL);
    waitpid(server, nullptr, 0);
    return {"error", "replay server did not start"};
  }

  pid_t client = spawn(c.argv(mode, std::to_string(port)), c.stdin_file, -1);
  test::wait_result w = test::wait_for(client, std::chrono::milliseconds(deadline_ms));
  bool hung = w.timed_out;
  std::string obs_line;
  if (fgets(line, sizeof line, from_server)) obs_line = line;
  fclose(from_server);
  waitpid(server, nullptr, 0);

  json obs = obs_line.empty() ? json::object() : json::parse(obs_line, nullptr, false);
  if (obs.is_discarded()) obs = json::object();
  int exit_code = w.exit_code;
  std::string detail = fmt::format("exit {}{}; server saw {}", exit_code, hung ? " (killed at deadline)" : "",
                                   obs_line.empty() ? "nothing" : obs_line.substr(0, obs_line.size() - 1));
  if (c.error_exit > 0 && !hung && exit_code >= c.error_exit) return {"error", detail};
  if (obs.value("tls", false)) return {"tls", detail};
  if (hung) return {"hang", detail};
  bool starttls = obs.value("starttls", false);
  // A probe that ends without TLS where TLS is required has failed, whatever its exit code.
  if (c.probe && mode == "required") return {"fail", detail};
  if (!starttls && exit_code == 0 && (obs.value("data_done", false) || c.probe)) return {"plaintext", detail};
  return {"fail", detail};
}

class RealClient : public ::testing::TestWithParam<real_client> {};

TEST_P(RealClient, MatchesModel) {
  const real_client& c = GetParam();
  if (!fs::exists(c.needs)) GTEST_FAIL() << c.id << " is not installed here (" << c.needs << "); scripts/install-deps installs it";
  const mxtls::client_model* model = mxtls::find_client_model(c.id);
  ASSERT_NE(model, nullptr) << c.id;

  fs::create_directories(matrix_dir);
  // Postfix runs as a private instance that relays to the replay server's port.
  struct postfix_instance {
    bool on;
    explicit postfix_instance(bool start) : on(start) {
      if (on)
        std::system((src("tests/integration/postfix-instance") + " start " + postfix_dir.string() +
                     " " + std::to_string(postfix_port))
                        .c_str());
    }
    ~postfix_instance() {
      if (on) std::system((src("tests/integration/postfix-instance") + " stop " + postfix_dir.string()).c_str());
    }
  } instance(c.id == "postfix");
  // Exim: no daemon; the instance directory holds binary, configuration, spool and log.
  test::script_instance exim(c.id == "exim", src("tests/integration/exim-instance"), "start", "stop", exim_dir.string(), "25",
                             "exim-instance start failed (scripts/install-deps downloads Exim's .deb)");
  // Sendmail: no daemon either; binaries, configurations, queue and log under sendmail_dir.
  test::script_instance sendmail(c.id == "sendmail", src("tests/integration/sendmail-instance"), "start", "stop",
                                 sendmail_dir.string(), "25",
                                 "sendmail-instance start failed (scripts/install-deps downloads Sendmail's .debs)");
  // OpenSMTPD: the binaries unpacked once; every message gets an smtpd of its own.
  test::script_instance opensmtpd(c.id == "opensmtpd", src("tests/integration/opensmtpd-instance"), "unpack", "remove",
                                  opensmtpd_dir.string(), "",
                                  "opensmtpd-instance unpack failed (scripts/install-deps downloads OpenSMTPD's .deb)");
  // Haraka: one daemon for the whole client, stopped (and its directory removed) at the end.
  test::script_instance haraka(c.id == "haraka", src("tests/integration/haraka-instance"), "start", "stop",
                               haraka_dir.string(), std::to_string(haraka_port),
                               "haraka-instance start failed (scripts/install-deps installs Haraka from npm)");
  // Every (variant, mode) run, c.parallel at a time; the results are judged in order below.
  const std::vector<variant> variants = load_variants();
  std::vector<fs::path> reply_files;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    reply_files.push_back(matrix_dir / fmt::format("{}.{}.reply", c.id, i));
    std::ofstream(reply_files.back(), std::ios::binary) << variants[i].bytes;
  }
  const char* modes[] = {"opportunistic", "required"};
  // One run first whose result is not judged, with a long deadline: a client's first start
  // after the builds can be slow (files not yet in the page cache, a JVM's classes), and a
  // variant's run must not count that as waiting. Seen: posttls-finger's first three runs
  // killed at 2.5 s ("server saw nothing") during a clean-clone test run, its later ones 14 ms.
  if (!variants.empty()) (void)run_once(c, modes[0], reply_files[0], 15000);
  std::vector<run_result> results(variants.size() * 2);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t j; (j = next++) < results.size();) results[j] = run_once(c, modes[j % 2], reply_files[j / 2]);
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, c.parallel); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  for (const auto& f : reply_files) fs::remove(f);

  json rows = json::array();
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const variant& v = variants[i];
    auto turn = mxtls::ehlo_turn_from_raw(v.bytes, {});
    auto lines = mxtls::sent_lines(turn);
    auto predicted = mxtls::predict(*model, lines);
    const run_result& opp = results[2 * i];
    const run_result& req = results[2 * i + 1];
    // A client whose model says its out-of-step dialogue races the server (Haraka): a
    // plaintext delivery is the race's other side, and counts as the prediction.
    const bool race = model->leftover_races && predicted.reason == mxtls::prediction_reason::leftover_desync &&
                      predicted.outcome == mxtls::tls_outcome::fail;
    const std::string opp_judged = race && opp.outcome == "plaintext" ? "fail" : opp.outcome;
    bool ok = opp_judged == mxtls::to_string(predicted.outcome) && req.outcome == mxtls::to_string(predicted.outcome_required);
    if (!ok) ++mismatches;
    EXPECT_EQ(opp_judged, mxtls::to_string(predicted.outcome))
        << c.id << " / " << v.name << " (default): model says: " << predicted.why << "\n  observed: " << opp.detail;
    EXPECT_EQ(req.outcome, mxtls::to_string(predicted.outcome_required))
        << c.id << " / " << v.name << " (TLS required): model says: " << predicted.why << "\n  observed: " << req.detail;
    rows.push_back({{"variant", v.name},
                    {"observed", opp.outcome},
                    {"race", race},
                    {"observed_required", req.outcome},
                    {"predicted", mxtls::to_string(predicted.outcome)},
                    {"predicted_required", mxtls::to_string(predicted.outcome_required)}});
  }
  std::ofstream(matrix_dir / (c.id + ".json")) << json{{"client", c.id}, {"name", model->name}, {"rows", rows}}.dump(1);
  RecordProperty("mismatches", static_cast<int>(mismatches));
}

INSTANTIATE_TEST_SUITE_P(Clients, RealClient, ::testing::ValuesIn(real_clients()),
                         [](const ::testing::TestParamInfo<real_client>& i) {
                           std::string n = i.param.id;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// Writes docs/client-matrix.md from the rows the client tests left in the build tree.
TEST(ClientMatrixReport, WritesDocsFromObservedRuns) {
  std::vector<json> clients;
  for (const auto& c : real_clients()) {
    fs::path f = matrix_dir / (c.id + ".json");
    if (fs::exists(f)) clients.push_back(json::parse(slurp(f)));
  }
  if (clients.empty()) GTEST_FAIL() << "no client has run";
  std::ostringstream md;
  md << "# Client matrix: what real SMTP clients did with each EHLO reply\n\n"
     << "Generated by the client-model suite (`tests/integration/client_matrix_test.cpp`) from real\n"
     << "runs: a replay server on 127.0.0.1 sends each reply byte for byte and answers STARTTLS with\n"
     << "220 and a real TLS handshake. Each cell is *observed default / observed with TLS required*;\n"
     << "a cell marked **≠** disagreed with the model (the model's prediction follows it).\n"
     << "Outcomes: `tls` handshake done; `plaintext` message delivered without TLS; `fail` no\n"
     << "delivery (error, bounce, failed handshake); `hang` the client was still waiting after "
     << client_deadline_ms << " ms (Jakarta Mail, Sendmail, OpenSMTPD and Haraka: 10000 ms, for the JVM's start and the\n"
     << "private instances'). † marks a cell where the model predicts `fail` for a dialogue that falls out of step and the\n"
     << "client's race with the server went the other way: it sent the message one reply behind and it was delivered\n"
     << "(Haraka; the model's `leftover_races`).\n\n";
  md << "| variant |";
  for (const auto& c : clients) md << " " << c["client"].get<std::string>() << " |";
  md << "\n|---|";
  for (std::size_t i = 0; i < clients.size(); ++i) md << "---|";
  md << "\n";
  const auto& first_rows = clients.front()["rows"];
  for (std::size_t r = 0; r < first_rows.size(); ++r) {
    md << "| " << first_rows[r]["variant"].get<std::string>() << " |";
    for (const auto& c : clients) {
      const auto& row = c["rows"][r];
      std::string observed = row["observed"].get<std::string>();
      // The race's plaintext side (see MatchesModel): shown as observed, marked, not a mismatch.
      bool race_won = row.value("race", false) && observed == "plaintext";
      std::string obs = observed + " / " + row["observed_required"].get<std::string>();
      std::string judged = (race_won ? "fail" : observed) + " / " + row["observed_required"].get<std::string>();
      std::string pred = row["predicted"].get<std::string>() + " / " + row["predicted_required"].get<std::string>();
      md << " " << (judged != pred ? "**≠** " + obs + " (model: " + pred + ")" : race_won ? obs + " †" : obs) << " |";
    }
    md << "\n";
  }
  md << "\n## The models\n\n"
     << "| id | client | version | follows | setting behind default / required | keyword rule | checked here |\n"
     << "|---|---|---|---|---|---|---|\n";
  std::set<std::string> ran_ids;
  for (const auto& c : clients) ran_ids.insert(c["client"].get<std::string>());
  for (const auto& m : mxtls::client_models()) {
    std::string rule(m.match_rule);
    for (char& ch : rule)
      if (ch == '|') ch = '/';
    md << "| `" << m.id << "` | " << m.name << " | " << m.version << " | " << m.source << " | " << m.tls_setting
       << " | " << rule << " | " << (ran_ids.count(std::string(m.id)) ? "run against the real client" : "from source only")
       << " |\n";
  }
  // Why a model's client does not run here. Every model the suite did not run needs one.
  static const std::map<std::string, std::string> not_run = {
      {"cisco-esa", "an appliance (AsyncOS, closed source): there is no software of it to run here"},
      {"mailkit", "a .NET library from NuGet: neither .NET nor NuGet is among the package sources this project uses "
                  "(Debian 12 and, for test peers, npm)"},
      {"dotnet-smtpclient", "the model follows .NET 8's System.Net.Mail; .NET is not a Debian 12 package (Debian's "
                            "mono has a System.Net.Mail of its own, not the one modelled)"},
      {"curl-8.17", "Debian 12 has curl 7.88.1, which the suite runs as `curl`; 8.17's STARTTLS match is modelled "
                    "from its lib/smtp.c"},
      {"lettre", "a Rust crate from crates.io: not a Debian 12 package, and crates.io is not a source this "
                 "project uses"},
  };
  md << "\nClients whose models rest on their source only, and why they are not run here:\n\n";
  std::set<std::string> ran;
  for (const auto& c : clients) ran.insert(c["client"].get<std::string>());
  for (const auto& m : mxtls::client_models())
    if (!ran.count(std::string(m.id))) {
      auto why = not_run.find(std::string(m.id));
      EXPECT_NE(why, not_run.end()) << m.id << " was not run, and no reason is given for it";
      md << "- `" << m.id << "`: " << (why == not_run.end() ? "no reason given" : why->second) << ".\n";
    }
  std::ofstream(source_dir / "docs" / "client-matrix.md") << md.str();
}

}  // namespace
