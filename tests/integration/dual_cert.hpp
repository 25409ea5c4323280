// `mxtls serve --scenario dual-cert --write-certificates DIR` as a child process, and the
// certificates' fingerprints as openssl prints them, for the integration tests.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "served.hpp"

namespace mxtls::test {

// The server, stopped with SIGTERM; its certificates in `dir` (rsa-2048.pem, ecdsa-p256.pem, their keys).
struct dual_cert_server {
  fs::path dir;
  fs::path out;
  pid_t pid = -1;
  int port = 0;
  explicit dual_cert_server(const fs::path& d) : dir(d), out(d / "serve.out") {
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid = spawn({MXTLS_BINARY, "serve", "--scenario", "dual-cert", "--listen", "127.0.0.1:0", "--write-certificates",
                 dir.string()},
                "", fd, fd);
    close(fd);
    std::regex re("listening on 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 500 && port == 0; ++i) {
      std::smatch m;
      std::string text = slurp(out);
      if (std::regex_search(text, m, re)) port = std::stoi(m[1]);
      else std::this_thread::sleep_for(10ms);
    }
  }
  ~dual_cert_server() {
    kill(pid, SIGTERM);
    wait_for(pid, 5s);
  }
};

// The SHA-256 fingerprint openssl prints for a PEM file's first certificate ("AB:CD:...").
inline std::string fingerprint_of(const fs::path& dir, const fs::path& pem) {
  auto r = run(dir, {"/usr/bin/openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pem.string()});
  auto eq = r.output.find('=');
  return eq == std::string::npos ? "" : r.output.substr(eq + 1, r.output.find('\n') - eq - 1);
}

// What openssl s_client receives as the server's certificate, as a fingerprint.
inline std::string served_fingerprint(const fs::path& dir, int port, std::vector<std::string> extra) {
  std::vector<std::string> argv{"/usr/bin/openssl", "s_client", "-starttls", "smtp", "-connect",
                                "127.0.0.1:" + std::to_string(port), "-showcerts"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  fs::path in = dir / "quit.txt";
  std::ofstream(in) << "QUIT\r\n";
  auto r = run(dir, argv, 15s, in.string());
  auto begin = r.output.find("-----BEGIN CERTIFICATE-----");
  auto end = r.output.find("-----END CERTIFICATE-----");
  if (begin == std::string::npos || end == std::string::npos) return "no certificate: " + r.output.substr(0, 400);
  fs::path pem = dir / "served.pem";
  std::ofstream(pem) << r.output.substr(begin, end + 25 - begin) << "\n";
  return fingerprint_of(dir, pem);
}

}  // namespace mxtls::test
