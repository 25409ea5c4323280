// The dual-cert scenario (two certificates, RSA 2048 and ECDSA P-256, in one OpenSSL
// context): openssl s_client gets the certificate its ClientHello asks for, by signature
// algorithms (TLS 1.3 and 1.2) and by suite authentication (TLS 1.2); both leaves and keys
// are written by `mxtls serve --write-certificates DIR`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dual_cert.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(DualCert, OpenSslClientGetsTheCertificateItsHelloAsksFor) {
  ASSERT_TRUE(fs::exists("/usr/bin/openssl")) << "openssl is not installed (scripts/install-deps)";
  fs::path dir = test::temp_dir();
  test::dual_cert_server s(dir);
  ASSERT_NE(s.port, 0) << test::slurp(s.out);
  std::string rsa = test::fingerprint_of(dir, dir / "rsa-2048.pem"), ecdsa = test::fingerprint_of(dir, dir / "ecdsa-p256.pem");
  ASSERT_FALSE(rsa.empty());
  ASSERT_FALSE(ecdsa.empty());
  EXPECT_NE(rsa, ecdsa);
  EXPECT_TRUE(fs::exists(dir / "rsa-2048.key") && fs::exists(dir / "ecdsa-p256.key"));
  EXPECT_EQ(test::served_fingerprint(dir, s.port, {"-sigalgs", "RSA-PSS+SHA256"}), rsa);
  EXPECT_EQ(test::served_fingerprint(dir, s.port, {"-sigalgs", "ECDSA+SHA256"}), ecdsa);
  EXPECT_EQ(test::served_fingerprint(dir, s.port, {"-tls1_2", "-cipher", "aRSA"}), rsa);
  EXPECT_EQ(test::served_fingerprint(dir, s.port, {"-tls1_2", "-cipher", "aECDSA"}), ecdsa);
  // The start line names both.
  std::string start = test::slurp(s.out);
  EXPECT_NE(start.find("rsa-2048"), std::string::npos) << start;
  EXPECT_NE(start.find("ecdsa-p256"), std::string::npos) << start;
}

}  // namespace
}  // namespace mxtls
