// `mxtls serve` as a child process for the integration tests, and a one-shot run of a
// command with its output collected.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "../read_file.hpp"
#include "process.hpp"

namespace mxtls::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string slurp(const fs::path& p) { return read_file(p); }

inline fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() /
               ("mxtls-serve-" + std::to_string(getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(d);
  return d;
}

// `mxtls serve --scenario NAME --listen 127.0.0.1:0 --log FILE`, stopped with SIGTERM.
class served {
 public:
  explicit served(const std::string& scenario, const fs::path& dir, const std::string& listen = "127.0.0.1:0",
                  const std::vector<std::string>& extra = {})
      : dir_(dir) {
    std::string stem = fs::path(scenario).stem().string();  // a built-in name, or a YAML file's
    out_ = dir / ("serve-" + stem + ".out");
    log_ = dir / ("serve-" + stem + ".log");
    int fd = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> argv{MXTLS_BINARY, "serve", "--scenario", scenario, "--listen", listen, "--log", log_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = spawn(argv, "", fd, fd);
    close(fd);
    std::regex re("listening on 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::smatch m;
      std::string text = slurp(out_);
      if (std::regex_search(text, m, re)) port_ = std::stoi(m[1]);
      else std::this_thread::sleep_for(10ms);
    }
  }
  ~served() { stop(); }
  // SIGTERM, and the exit awaited: its last line is then in output().
  void stop() {
    if (pid_ < 0) return;
    kill(pid_, SIGTERM);
    wait_for(pid_, 5s);
    pid_ = -1;
  }
  int port() const { return port_; }
  std::string log() const { return slurp(log_); }
  std::string output() const { return slurp(out_); }

 private:
  fs::path dir_, out_, log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

struct client_run {
  int exit_code;
  bool timed_out;
  std::string output;
};

inline client_run run(const fs::path& dir, std::vector<std::string> argv, std::chrono::milliseconds deadline = 15s,
               const std::string& stdin_file = "") {
  fs::path out = dir / "client.out";
  int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = spawn(argv, stdin_file, fd, fd);
  close(fd);
  auto w = wait_for(pid, deadline);
  return {w.exit_code, w.timed_out, slurp(out)};
}


}  // namespace mxtls::test
