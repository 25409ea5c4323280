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
// go to `classes_dir` on the first call. `trust_store` (a PKCS#12 or JKS file, "" none): Jakarta
// Mail's defaults with the JDK checking the chain against it; none: the client trusts any
// server (the client matrix's in-memory certificates).
inline std::vector<std::string> jakarta_mail_argv(const std::filesystem::path& source_dir,
                                                  const std::filesystem::path& classes_dir, const std::string& mode,
                                                  const std::string& port, const std::string& trust_store = {}) {
  static const std::string jars = "/usr/share/java/jakarta-mail.jar:/usr/share/java/jakarta-activation.jar";
  static const std::string classes = [&] {
    std::filesystem::create_directories(classes_dir);
    std::string cmd = "/usr/bin/javac -cp " + jars + " -d '" + classes_dir.string() + "' '" +
                      (source_dir / "tests/integration/clients/JakartaMail.java").string() + "'";
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error("javac failed (scripts/install-deps installs default-jdk-headless): " + cmd);
    return classes_dir.string();
  }();
  if (trust_store.empty()) return {"/usr/bin/java", "-cp", classes + ":" + jars, "JakartaMail", mode, port};
  return {"/usr/bin/java", "-Djavax.net.ssl.trustStore=" + trust_store, "-Djavax.net.ssl.trustStorePassword=changeit",
          "-cp", classes + ":" + jars, "JakartaMail", mode, port};
}

}  // namespace mxtls::test
