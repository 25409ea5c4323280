// A real nginx (Debian's nginx-light) serving MTA-STS policy hosts over HTTPS on a loopback
// address at port 443, with a test CA made at test time (openssl). Started by the
// constructor (nginx binds its sockets before it daemonises, so its return means it listens),
// stopped by the destructor. Each policy host is a server block chosen by SNI.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../read_file.hpp"

namespace mxtls::test {

struct policy_host {
  std::string domain;          // the policy domain: served as mta-sts.<domain>
  std::string body;            // the policy file
  std::string content_type = "text/plain";
  int status = 200;            // other than 200: `return status` (3xx with location)
  std::string location = {};   // for a 3xx
  enum class cert { good, wrong_name, self_signed } certificate = cert::good;
};

class nginx_fixture {
 public:
  explicit nginx_fixture(const std::vector<policy_host>& hosts) {
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/mxtls-nginx-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    std::random_device rd;
    address_ = "127.83." + std::to_string(rd() % 250 + 1) + "." + std::to_string(rd() % 250 + 1);
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=mxtls test CA' -keyout ca.key -out ca.pem"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=self' -keyout self.key -out self.pem");
    std::string conf = "worker_processes 1;\nuser root;\nerror_log " + dir_ + "/error.log;\npid " + dir_ +
                       "/nginx.pid;\nevents { worker_connections 512; }\nhttp {\n log_format fetches '$host $request_uri $status';\n"
                       " access_log " + dir_ + "/access.log fetches;\n"
                       " client_body_temp_path " + dir_ + "/t1; proxy_temp_path " + dir_ + "/t2; fastcgi_temp_path " + dir_ +
                       "/t3; uwsgi_temp_path " + dir_ + "/t4; scgi_temp_path " + dir_ + "/t5;\n";
    int n = 0;
    for (const auto& h : hosts) {
      std::string name = "mta-sts." + h.domain;
      std::string id = "h" + std::to_string(n++);
      fs::create_directories(dir_ + "/" + id + "/.well-known");
      std::ofstream(dir_ + "/" + id + "/.well-known/mta-sts.txt", std::ios::binary) << h.body;
      std::string cert = id + ".pem", key = id + ".key";
      using c = policy_host::cert;
      if (h.certificate == c::self_signed) {
        cert = "self.pem", key = "self.key";
      } else {
        std::string san = h.certificate == c::wrong_name ? "www." + h.domain : name;
        run("openssl req -newkey rsa:2048 -nodes -subj '/CN=" + san + "' -keyout " + key + " -out " + id + ".csr");
        std::ofstream(dir_ + "/" + id + ".ext") << "subjectAltName=DNS:" << san << "\nextendedKeyUsage=serverAuth\n";
        run("openssl x509 -req -in " + id + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + cert + " -extfile " + id +
            ".ext -days 2");
      }
      conf += " server {\n  listen " + address_ + ":443 ssl" + (n == 1 ? " default_server" : "") + ";\n  server_name " + name +
              ";\n  ssl_certificate " + dir_ + "/" + cert + ";\n  ssl_certificate_key " + dir_ + "/" + key + ";\n  root " +
              dir_ + "/" + id + ";\n";
      if (h.status != 200)
        conf += "  location / { return " + std::to_string(h.status) + (h.location.empty() ? "" : " " + h.location) + "; }\n";
      else
        conf += "  location / { types { } default_type \"" + h.content_type + "\"; }\n";
      conf += " }\n";
    }
    conf += "}\n";
    std::ofstream(dir_ + "/nginx.conf") << conf;
    run("/usr/sbin/nginx -p " + dir_ + " -c " + dir_ + "/nginx.conf", "nginx did not start");
  }
  ~nginx_fixture() {
    std::string pidtext = read_file(dir_ + "/nginx.pid");
    int pid = std::atoi(pidtext.c_str());
    if (pid > 0) {
      // Wait for the master's exit as an event (a pidfd polls readable when the process ends), bounded.
      int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
      ::kill(pid, SIGTERM);
      if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        ::poll(&p, 1, 10000);
        ::close(pidfd);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& address() const { return address_; }
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  const std::string& dir() const { return dir_; }
  // One line per request served: "HOST URI STATUS" (written unbuffered, as each request ends).
  std::string access_log() const { return read_file(dir_ + "/access.log"); }

 private:
  void run(const std::string& cmd, const char* what = nullptr) {
    std::string full = "cd " + dir_ + " && " + cmd + " >>" + dir_ + "/setup.log 2>&1";
    if (std::system(full.c_str()) != 0)
      throw std::runtime_error(std::string(what ? what : "setup failed") + ": " + cmd + "\n" + read_file(dir_ + "/setup.log") +
                               read_file(dir_ + "/error.log"));
  }
  std::string dir_, address_;
};

}  // namespace mxtls::test
