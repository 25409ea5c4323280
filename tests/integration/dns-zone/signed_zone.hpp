// A DNS tree for the integration tests: zones signed at test time with ldns-keygen and
// ldns-signzone (ldnsutils), served by a real NSD on 127.0.0.1 at a free port, started by
// the constructor and stopped by the destructor. Resolve through it with libunbound as
//   resolver_options{.forwarder = z.forwarder(), .trust_anchor_file = z.trust_anchor()}
// or the CLI as `--resolver 127.0.0.1:PORT --trust-anchor FILE`.
//
//   zone_server z(dir, {{.name = "dane.test.",
//                        .records = {"@ IN MX 10 mx", "mx IN A 127.0.0.1",
//                                    "_mta-sts IN TXT \"v=STSv1; id=1\""}},
//                       {.name = "plain.dane.test.", .sign = false, .records = {"mx IN A 127.0.0.1"}}});
//
// A zone whose name lies under another one is delegated from it (NS, and DS when signed),
// so that the child is secure or, unsigned, provably insecure. The first signed zone that
// has no signed parent is the trust anchor (its KSK's DS record in trust_anchor()).
// Owner names in `records` are relative to the zone unless they end in a dot; the SOA, the
// apex NS and ns.<zone> (127.0.0.1) are added.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mxtls::test {

struct zone_spec {
  std::string name;  // with the final dot, e.g. "dane.test."
  bool sign = true;
  std::vector<std::string> records;
  // Added after signing, so they carry no signature: a validator finds them bogus, unless
  // an NSEC record it has already seen covers the name (RFC 8198 aggressive use of NSEC, on
  // by default in unbound) and it answers NODATA from that. `tampered` is the robust form.
  std::vector<std::string> unsigned_records;
  // Text replaced in the signed zone file (FROM, TO): e.g. an A record's address changed after
  // signing, so its RRSIG no longer verifies (bogus), while the NSEC chain still lists it.
  std::vector<std::pair<std::string, std::string>> tampered;
  // Signed but not delegated with a DS from its parent (an island of trust: insecure).
  bool no_ds = false;
  // ldns-signzone -e: signatures that expire at this time (YYYYMMDDhhmmss); empty: 4 weeks on.
  std::string expiration;
  std::string inception;  // ldns-signzone -i
};

class zone_server {
 public:
  zone_server(std::filesystem::path dir, std::vector<zone_spec> zones) : dir_(std::move(dir)), zones_(std::move(zones)) {
    namespace fs = std::filesystem;
    fs::create_directories(dir_);
    // Deepest zones first: a parent needs its children's DS records before it is signed.
    std::vector<std::size_t> order(zones_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return labels(zones_[a].name) > labels(zones_[b].name); });
    std::vector<std::string> ds(zones_.size());
    for (std::size_t i : order) {
      const zone_spec& z = zones_[i];
      std::ostringstream text;
      text << "$ORIGIN " << z.name << "\n$TTL 300\n"
           << "@ IN SOA ns." << z.name << " hostmaster." << z.name << " 1 3600 600 86400 300\n"
           << "@ IN NS ns." << z.name << "\nns." << z.name << " IN A 127.0.0.1\n";
      for (const auto& r : z.records) text << r << "\n";
      for (std::size_t c = 0; c < zones_.size(); ++c) {
        if (c == i || parent_of(c) != i) continue;
        text << zones_[c].name << " IN NS ns." << z.name << "\n";
        if (!ds[c].empty() && !zones_[c].no_ds) text << ds[c];
      }
      fs::path file = dir_ / (z.name + "zone");
      std::ofstream(file) << text.str();
      std::string served = file.filename().string();
      if (z.sign) {
        std::string ksk = trim(run({"/usr/bin/ldns-keygen", "-a", "ECDSAP256SHA256", "-k", z.name}));
        std::string zsk = trim(run({"/usr/bin/ldns-keygen", "-a", "ECDSAP256SHA256", z.name}));
        std::vector<std::string> sign{"/usr/bin/ldns-signzone"};
        if (!z.expiration.empty()) sign.insert(sign.end(), {"-e", z.expiration});
        if (!z.inception.empty()) sign.insert(sign.end(), {"-i", z.inception});
        sign.insert(sign.end(), {file.filename().string(), ksk, zsk});
        run(sign);
        ds[i] = read(dir_ / (ksk + ".ds"));
        served += ".signed";
        if (!z.tampered.empty()) {
          std::string text = read(dir_ / served);
          for (const auto& [from, to] : z.tampered) {
            auto at = text.find(from);
            if (at == std::string::npos) throw std::runtime_error("tampered: '" + from + "' not in " + served);
            text.replace(at, from.size(), to);
          }
          std::ofstream(dir_ / served) << text;
        }
        if (!z.unsigned_records.empty()) {
          std::ofstream out(dir_ / served, std::ios::app);
          out << "\n$ORIGIN " << z.name << "\n";
          for (const auto& r : z.unsigned_records) out << r << "\n";
        }
      }
      served_files_.push_back({z.name, served});
    }
    // The trust anchor: the DS of each signed zone with no signed, DS-publishing chain above it.
    for (std::size_t i = 0; i < zones_.size(); ++i) {
      if (!zones_[i].sign || ds[i].empty()) continue;
      std::size_t p = parent_of(i);
      bool chained = p != npos && zones_[p].sign && !zones_[i].no_ds;
      if (!chained && anchor_.empty()) anchor_ = ds[i];
    }
    std::ofstream(dir_ / "trust-anchor.ds") << anchor_;
    start();
  }

  ~zone_server() { stop(); }
  zone_server(const zone_server&) = delete;
  zone_server& operator=(const zone_server&) = delete;

  unsigned short port() const { return port_; }
  std::string resolver() const { return "127.0.0.1:" + std::to_string(port_); }    // for --resolver
  std::string forwarder() const { return "127.0.0.1@" + std::to_string(port_); }   // for libunbound
  std::string trust_anchor() const { return (dir_ / "trust-anchor.ds").string(); }  // for --trust-anchor
  std::string log() const {
    std::lock_guard lock(m_);
    return log_;
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (reader_.joinable()) reader_.join();
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  static std::size_t labels(const std::string& name) { return std::count(name.begin(), name.end(), '.'); }

  static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }

  // The closest zone above zones_[i], or npos.
  std::size_t parent_of(std::size_t i) const {
    std::size_t best = npos;
    for (std::size_t j = 0; j < zones_.size(); ++j) {
      if (j == i || labels(zones_[j].name) >= labels(zones_[i].name)) continue;
      if (!ends_with(zones_[i].name, "." + zones_[j].name)) continue;
      if (best == npos || labels(zones_[j].name) > labels(zones_[best].name)) best = j;
    }
    return best;
  }

  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Runs a program in dir_ and returns its standard output; throws when it fails.
  std::string run(const std::vector<std::string>& argv) {
    std::filesystem::path out = dir_ / "tool.out";
    pid_t pid = fork();
    if (pid == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(126);
      int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    std::string text = read(out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error(argv[0] + " failed (" + std::to_string(WEXITSTATUS(status)) + "): " + text);
    return text;
  }

  // A port free for both UDP and TCP on 127.0.0.1 at the time of asking.
  static unsigned short free_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
      int u = socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof sa;
      if (bind(u, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
          getsockname(u, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
        close(u);
        continue;
      }
      int t = socket(AF_INET, SOCK_STREAM, 0);
      bool tcp_free = bind(t, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
      close(t);
      close(u);
      if (tcp_free) return ntohs(sa.sin_port);
    }
    throw std::runtime_error("no free port on 127.0.0.1");
  }

  void start() {
    port_ = free_port();
    std::ostringstream conf;
    conf << "server:\n  ip-address: 127.0.0.1@" << port_ << "\n  do-ip6: no\n  username: \"\"\n  chroot: \"\"\n"
         << "  zonesdir: \"" << dir_.string() << "\"\n  pidfile: \"\"\n  database: \"\"\n"
         << "  zonelistfile: \"" << (dir_ / "zone.list").string() << "\"\n"
         << "  xfrdfile: \"" << (dir_ / "xfrd.state").string() << "\"\n  xfrdir: \"" << dir_.string() << "\"\n"
         << "  server-count: 1\n  verbosity: 1\n  reuseport: no\n  hide-version: yes\n"
         << "remote-control:\n  control-enable: no\n";
    for (const auto& [name, file] : served_files_) conf << "zone:\n  name: \"" << name << "\"\n  zonefile: \"" << file << "\"\n";
    std::filesystem::path conf_file = dir_ / "nsd.conf";
    std::ofstream(conf_file) << conf.str();
    // NSD in the foreground logs to standard error: read there until "nsd started".
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(fds[1], 2);
      close(fds[0]);
      execl("/usr/sbin/nsd", "nsd", "-d", "-c", conf_file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
        std::lock_guard lock(m_);
        log_.append(buf, static_cast<std::size_t>(n));
        if (log_.find("nsd started") != std::string::npos) started_ = true;
        changed_.notify_all();
      }
      close(fd);
      std::lock_guard lock(m_);
      ended_ = true;
      changed_.notify_all();
    });
    std::unique_lock lock(m_);
    bool ok = changed_.wait_for(lock, std::chrono::seconds(20), [&] { return started_ || ended_; });
    if (!ok || !started_) {
      std::string why = log_;
      lock.unlock();
      stop();
      throw std::runtime_error("nsd did not start: " + why);
    }
  }

  std::filesystem::path dir_;
  std::vector<zone_spec> zones_;
  std::vector<std::pair<std::string, std::string>> served_files_;
  std::string anchor_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
  std::thread reader_;
  mutable std::mutex m_;
  std::condition_variable changed_;
  std::string log_;
  bool started_ = false, ended_ = false;
};

}  // namespace mxtls::test
