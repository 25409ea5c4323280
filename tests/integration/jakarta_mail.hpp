// The Jakarta Mail client of the suites (tests/integration/clients/JakartaMail.java) on
// Debian 12's libjakarta-mail-java, compiled with the JDK's javac once per test process.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxtls::test {

// java's argv for one run: MODE (opportunistic|required) and the server's PORT; the classes
// go to `classes_dir` on the first call.
inline std::vector<std::string> jakarta_mail_argv(const std::filesystem::path& source_dir,
                                                  const std::filesystem::path& classes_dir, const std::string& mode,
                                                  const std::string& port) {
  static const std::string jars = "/usr/share/java/jakarta-mail.jar:/usr/share/java/jakarta-activation.jar";
  static const std::string classes = [&] {
    std::filesystem::create_directories(classes_dir);
    std::string cmd = "/usr/bin/javac -cp " + jars + " -d '" + classes_dir.string() + "' '" +
                      (source_dir / "tests/integration/clients/JakartaMail.java").string() + "'";
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error("javac failed (scripts/install-deps installs default-jdk-headless): " + cmd);
    return classes_dir.string();
  }();
  return {"/usr/bin/java", "-cp", classes + ":" + jars, "JakartaMail", mode, port};
}

}  // namespace mxtls::test
