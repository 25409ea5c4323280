// Child processes for the integration tests: spawn with redirected standard streams,
// wait with a deadline, kill the whole process group.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mxtls::test {

// Starts argv[0] (a full path) with stdin from `stdin_file` (or /dev/null) and stdout and
// stderr to the given descriptors (or /dev/null); the child leads its own process group.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& stdin_file = "", int out_fd = -1,
                   int err_fd = -1) {
  // Everything the child needs is built before fork: tests spawn from several threads, and
  // the child of a multi-threaded process should only make system calls until execv.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* in_path = stdin_file.empty() ? "/dev/null" : stdin_file.c_str();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);  // as a shell would start it, whatever the test runner ignores
    int in = open(in_path, O_RDONLY);
    int null = open("/dev/null", O_WRONLY);
    dup2(in, 0);
    dup2(out_fd >= 0 ? out_fd : null, 1);
    dup2(err_fd >= 0 ? err_fd : null, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

struct wait_result {
  int exit_code = -1;  // -1 when killed
  bool timed_out = false;
};

// Waits for `pid` until `deadline`; past it, kills its process group.
inline wait_result wait_for(pid_t pid, std::chrono::milliseconds deadline) {
  auto start = std::chrono::steady_clock::now();
  int status = 0;
  wait_result w;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() - start > deadline) {
      w.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  w.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return w;
}

// A private sender instance of the suites (tests/integration/*-instance scripts), for as long
// as this object lives: `SCRIPT SET_UP DIR ARGS` when made, which throws `why` when it fails,
// and `SCRIPT TEAR_DOWN DIR` when it goes. Off (`on` false): neither runs.
class script_instance {
 public:
  script_instance(bool on, std::string script, const char* set_up, const char* tear_down, std::string dir,
                  const std::string& args, const char* why)
      : on_(on), script_(std::move(script)), tear_down_(tear_down), dir_(std::move(dir)) {
    if (on_ && std::system((script_ + " " + set_up + " " + dir_ + (args.empty() ? "" : " " + args)).c_str()) != 0)
      throw std::runtime_error(why);
  }
  ~script_instance() {
    if (on_) std::system((script_ + " " + tear_down_ + " " + dir_).c_str());
  }
  script_instance(const script_instance&) = delete;
  script_instance& operator=(const script_instance&) = delete;

 private:
  bool on_;
  std::string script_, tear_down_, dir_;
};

}  // namespace mxtls::test
