// The steps the tests of `mxtls logs` on real MTAs' logs share: every scenario entry of a
// scenarios JSON served by its own `mxtls serve` on its own loopback port, one message per entry
// and setting handed to a private MTA through its instance script, the MTA's log copied,
// `mxtls logs --json` run on it, and each destination compared with the entry's expect line.
//
// A scenarios JSON: {"scenarios": [{"name": N, "scenario": S (a built-in scenario, default N, or
// a YAML file of the source tree; "refused": nothing listens on the port), "ca": true (the
// served certificate goes into the CA file the MTA trusts), "expect": {SETTING: {"attempts": ..,
// "messages": .., "delivered": .., "tls": .., .., "reasons": {..}}}}]}; counts not given are 0
// (attempts and messages 1: each setting sends one message),
// reasons not given are absent.
#pragma once

#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "../served.hpp"

namespace mxtls::test::mta_logs {

using json = nlohmann::json;

inline fs::path source(const std::string& rel) { return fs::path(MXTLS_SOURCE_DIR) / rel; }

// A loopback port nothing listens on (bound, read, closed).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

inline json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

// The recipient domain of an entry and setting for the instances that route by it: the port
// first ("pPORT.NAME.SETTING.test").
inline std::string port_domain(int port, const std::string& name, const std::string& setting) {
  return "p" + std::to_string(port) + "." + name + "." + setting + ".test";
}

inline std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Waits until `file` (in `dir`) holds `n` occurrences of `needle`, woken by inotify; false
// past the deadline.
inline bool await_count(const fs::path& dir, const fs::path& file, const std::string& needle, std::size_t n,
                 std::chrono::seconds deadline) {
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  inotify_add_watch(in, dir.c_str(), IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE);
  auto end = std::chrono::steady_clock::now() + deadline;
  bool ok = false;
  while (true) {
    if (count_of(slurp(file), needle) >= n) {
      ok = true;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{in, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) > 0) {
      char buf[4096];
      while (read(in, buf, sizeof buf) > 0) {
      }
    }
  }
  close(in);
  return ok;
}

// The scenarios served, each on its own port; they stop when this goes.
struct scenario_servers {
  std::vector<std::unique_ptr<served>> servers;
  std::map<std::string, int> ports;  // entry name -> port
  std::string error;
};

inline void serve_scenarios(const fs::path& dir, const json& data, int refused_port, scenario_servers& out) {
  for (const auto& s : data["scenarios"]) {
    std::string name = s["name"], scenario = s.value("scenario", name);
    int port = refused_port;
    if (scenario != "refused") {
      fs::create_directories(dir / name);
      // A scenario ending in .yaml is a file of the source tree, else a built-in name.
      std::string what = scenario.ends_with(".yaml") ? source(scenario).string() : scenario;
      out.servers.push_back(std::make_unique<served>(what, dir / name, "127.0.0.1:0"));
      port = out.servers.back()->port();
      if (port == 0) {
        out.error += "mxtls serve --scenario " + scenario + " did not start; ";
        continue;
      }
    }
    out.ports[name] = port;
  }
}

// The certificate a scenario serves (PEM), read with openssl s_client; "" if none was read.
inline std::string served_certificate(const fs::path& dir, int port) {
  client_run c = run(dir, {"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-starttls", "smtp",
                           "-servername", "mx.mxtls.test"});
  std::smatch m;
  if (std::regex_search(c.output, m, std::regex("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----"))) return m[0];
  return "";
}

// Appends the certificate of every "ca": true entry to `ca` (self-signed: its own trust anchor).
inline void write_trusted(const fs::path& dir, const json& data, const std::map<std::string, int>& ports, std::ostream& ca,
                          std::string& error) {
  for (const auto& s : data["scenarios"]) {
    if (!s.value("ca", false) || !ports.count(s["name"])) continue;
    std::string pem = served_certificate(dir, ports.at(s["name"]));
    if (pem.empty()) error += "no certificate read from " + s["name"].get<std::string>() + "; ";
    else ca << pem << "\n";
  }
}

// `mxtls logs --json` on a copy of the MTA's log.
struct read_log {
  std::string path;  // the copy
  client_run logs{};
  json logs_json;
  std::string error;
};

inline read_log copy_and_read(const fs::path& dir, const fs::path& log, const std::string& name) {
  read_log r;
  r.path = (dir / name).string();
  std::error_code ec;
  fs::copy_file(log, r.path, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    r.error = "no log " + log.string() + ": " + ec.message() + "; ";
    return r;
  }
  r.logs = run(dir, {MXTLS_BINARY, "logs", "--json", r.path}, 60s);
  try {
    r.logs_json = json::parse(r.logs.output);
  } catch (const std::exception& e) {
    r.error = std::string("mxtls logs --json: ") + e.what() + ": " + r.logs.output;
  }
  return r;
}

inline const json* destination_for(const json& logs_json, const std::string& domain) {
  for (const auto& d : logs_json["destinations"])
    if (d["destination"]["domain"] == domain) return &d;
  return nullptr;
}

// One destination against its expect line.
inline void expect_destination(const json& d, const json& want, const std::string& domain) {
  for (const char* field : {"attempts", "messages", "delivered", "tls", "tls_verified", "plaintext", "plaintext_after_tls_failure",
                            "tls_failed", "other_failed", "unknown"}) {
    std::string_view f = field;
    EXPECT_EQ(d[field], want.value(field, f == "attempts" || f == "messages" ? 1 : 0)) << field << " in " << d.dump();
  }
  EXPECT_EQ(d["reasons"], want.value("reasons", json::object())) << d.dump();
  if (want.contains("tls_version")) {
    json versions = json::object();
    versions[want["tls_version"].get<std::string>()] = 1;
    EXPECT_EQ(d["tls_versions"], versions);
  }
  // The evidence is the log's own lines, with their line numbers.
  if (d["tls"] != d["attempts"]) {
    ASSERT_FALSE(d["samples"].empty());
    EXPECT_NE(d["samples"].back()["text"].get<std::string>().find(domain), std::string::npos);
  }
}

inline bool lost_tls(const json& want) {
  return want.value("plaintext", 0) + want.value("plaintext_after_tls_failure", 0) + want.value("tls_failed", 0) > 0;
}

inline std::vector<std::string> scenario_names(const std::string& scenarios) {
  json data = read_json(source(scenarios));  // kept: a range over a temporary's member would dangle
  std::vector<std::string> out;
  for (const auto& s : data["scenarios"]) out.push_back(s["name"]);
  return out;
}

// gtest parameter names: '-' is not allowed.
inline std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

// An MTA whose instance script delivers one message in the foreground:
//   INSTANCE start DIR ARGS..., INSTANCE send DIR RCPT (returns when the message is delivered or
//   deferred and its lines are in the log), INSTANCE stop DIR.
struct mta_setup {
  std::string name;                     // "exim": the work directory mxtls-logs-exim-PID, DIR = its "exim"
  std::string instance;                 // the script, from the source tree
  std::string scenarios;                // the scenarios JSON, from the source tree
  std::string log;                      // the log, relative to DIR
  std::vector<std::string> settings;    // the settings an entry's expect may name, sent in this order
  std::vector<std::string> start_args;  // after "start DIR"; "@CAFILE" is the CA file's path, "@/F" the work directory's F
  std::string start_hint;               // said when start fails
  // Called when the scenarios are served, before the first send (a routing file, say).
  std::function<void(const fs::path& dir, const json& data, const std::map<std::string, int>& ports)> prepare;
};

struct mta_run {
  fs::path dir, instance_dir;
  json data;
  std::map<std::string, int> ports;  // entry name -> port
  std::size_t messages = 0;
  std::string setup_error;
  read_log log;
};

inline void run_mta(const mta_setup& m, mta_run& r) {
  r.dir = fs::temp_directory_path() / ("mxtls-logs-" + m.name + "-" + std::to_string(getpid()));
  r.instance_dir = r.dir / m.name;
  fs::remove_all(r.dir);
  fs::create_directories(r.dir);
  r.data = read_json(source(m.scenarios));
  fs::path instance = source(m.instance), cafile = r.dir / "CAfile";
  std::ofstream(cafile).close();
  std::vector<std::string> start = {instance.string(), "start", r.instance_dir.string()};
  for (const auto& a : m.start_args)
    start.push_back(a == "@CAFILE" ? cafile.string() : a.starts_with("@/") ? (r.dir / a.substr(2)).string() : a);
  client_run started = run(r.dir, start, 60s);
  if (started.exit_code != 0) {
    r.setup_error = m.instance + " start failed (" + m.start_hint + "): " + started.output;
    return;
  }
  {
    scenario_servers s;
    serve_scenarios(r.dir, r.data, free_port(), s);
    r.ports = s.ports;
    r.setup_error += s.error;
    std::ofstream ca(cafile, std::ios::app);
    write_trusted(r.dir, r.data, r.ports, ca, r.setup_error);
    ca.close();
    if (m.prepare) m.prepare(r.dir, r.data, r.ports);
    for (const auto& e : r.data["scenarios"]) {
      std::string name = e["name"];
      if (!r.ports.count(name)) continue;
      for (const auto& setting : m.settings) {
        if (!e["expect"].contains(setting)) continue;
        std::string rcpt = "x@" + port_domain(r.ports[name], name, setting);
        client_run send = run(r.dir, {instance.string(), "send", r.instance_dir.string(), rcpt}, 60s);
        if (send.timed_out) r.setup_error += m.name + " send to " + rcpt + " did not return; ";
        ++r.messages;
      }
    }
  }  // the servers stop here
  r.log = copy_and_read(r.dir, r.instance_dir / m.log, fs::path(m.log).filename().string());
  r.setup_error += r.log.error;
  run(r.dir, {instance.string(), "stop", r.instance_dir.string()}, 60s);
}

// The run, once for the whole test program; its directory is kept when a test failed.
class mta_environment : public ::testing::Environment {
 public:
  mta_environment(mta_setup setup, mta_run*& state) : setup_(std::move(setup)), state_(state) {}
  void SetUp() override {
    state_ = new mta_run;
    run_mta(setup_, *state_);
  }
  void TearDown() override {
    if (!state_) return;
    if (!::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(state_->dir);
    else run(fs::temp_directory_path(), {source(setup_.instance).string(), "stop", state_->instance_dir.string()});
    delete state_;
    state_ = nullptr;
  }

 private:
  mta_setup setup_;
  mta_run*& state_;
};

inline void require_run(const mta_run* r) {
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->setup_error, "");
}

// Where an entry's destination for a setting is expected: its domain, address and MX host.
struct place {
  std::string domain, address, mx_host;
};
using place_of = std::function<place(const json& entry, const std::string& setting, int port)>;

// Every setting of entry `name` against its destination.
inline void expect_entry(const mta_run& r, const std::string& name, const place_of& where) {
  const json* entry = nullptr;
  for (const auto& s : r.data["scenarios"])
    if (s["name"] == name) entry = &s;
  ASSERT_NE(entry, nullptr);
  int port = r.ports.at(name);
  for (const auto& [setting, want] : (*entry)["expect"].items()) {
    place p = where(*entry, setting, port);
    SCOPED_TRACE(p.domain);
    const json* d = destination_for(r.log.logs_json, p.domain);
    ASSERT_NE(d, nullptr) << "no destination " << p.domain << " in\n" << r.log.logs.output << "\nlog:\n" << slurp(r.log.path);
    EXPECT_EQ((*d)["destination"]["address"], p.address);
    EXPECT_EQ((*d)["destination"]["mx_host"], p.mx_host);
    expect_destination(*d, want, p.domain);
  }
}

// The format named, every line read, one destination per message.
inline void expect_every_line_read(const mta_run& r, const std::string& format) {
  EXPECT_EQ(r.log.logs.exit_code, 1) << "some destination lost TLS";
  EXPECT_EQ(r.log.logs_json["format"], format);
  EXPECT_EQ(r.log.logs_json["lines"]["not_understood"], 0) << r.log.logs.output;
  EXPECT_EQ(r.log.logs_json["destinations"].size(), r.messages);
}

// --list: the servers that lost TLS, each once; `target` names an entry's server.
inline void expect_list(const mta_run& r, const std::function<std::string(int port)>& target) {
  client_run list = run(r.dir, {MXTLS_BINARY, "logs", "--list", r.log.path});
  EXPECT_EQ(list.exit_code, 1);
  std::set<std::string> want, got;
  for (const auto& s : r.data["scenarios"])
    for (const auto& [setting, e] : s["expect"].items())
      if (lost_tls(e)) want.insert(target(r.ports.at(s["name"])));
  std::istringstream lines(list.output);
  for (std::string l; std::getline(lines, l);) got.insert(l);
  EXPECT_EQ(got, want) << list.output;
}

}  // namespace mxtls::test::mta_logs
