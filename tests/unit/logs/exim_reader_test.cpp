// The Exim main-log reader on lines a real Exim 4.96 wrote (Debian 12's exim4-daemon-light
// delivering to mxtls serve scenarios, as the logs.exim test records them), and on the
// header forms its log options add: +millisec, log_timezone, +pid, syslog, 4.97's longer ids.
#include <gtest/gtest.h>

#include "mxtls/logs.hpp"
#include "reader_test.hpp"

namespace mxtls::logs {
namespace {

using test::read;
using test::dest;


TEST(EximReader, RealLinesJoinedByMessageId) {
  log_summary s = read({
      "2026-12-01 17:14:53 1xYRRN-0006nA-0N <= a@client.mxtls.test U=root P=local S=334",
      "2026-12-01 17:14:53 exim user lost privilege for using -C option",
      "2026-12-01 17:14:53 1xYRRN-0006nA-0N H=127.0.0.1 [127.0.0.1] TLS error on connection (recv): The TLS connection was "
      "non-properly terminated.",
      "2026-12-01 17:14:53 1xYRRN-0006nA-0N => x@tls.test R=scenario T=remote_may H=127.0.0.1 [127.0.0.1]:48800 "
      "X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=no C=\"250 2.0.0 Ok: queued as MXTLS1\"",
      "2026-12-01 17:14:53 1xYRRN-0006nA-0N Completed",
      "2026-12-01 17:14:54 1xYRRO-0006nW-09 => x@plain.test R=scenario T=remote_may H=127.0.0.1 [127.0.0.1]:48801 C=\"250 "
      "2.0.0 Ok: queued as MXTLS1\"",
      "2026-12-01 17:14:54 1xYRRO-0006nh-1C H=127.0.0.1 [127.0.0.1]:48801: a TLS session is required, but the server did not "
      "offer TLS support",
      "2026-12-01 17:14:54 1xYRRO-0006nh-1C == x@nostarttls.test R=scenario T=remote_required defer (-38) H=127.0.0.1 "
      "[127.0.0.1]:48801: a TLS session is required, but the server did not offer TLS support",
      "2026-12-01 17:14:55 1xYRRP-0006oP-2l == x@refused454.test R=scenario T=remote_required defer (-38) H=127.0.0.1 "
      "[127.0.0.1]:48803: a TLS session is required, but an attempt to start TLS failed",
      "2026-12-01 17:14:56 1xYRRQ-0006oj-0T TLS session: (gnutls_handshake): Handshake failed: delivering unencrypted to "
      "H=127.0.0.1 [127.0.0.1] (not in hosts_require_tls)",
      "2026-12-01 17:14:56 1xYRRQ-0006oj-0T => x@tryclear.test R=scenario T=remote_may H=127.0.0.1 [127.0.0.1]:48804 "
      "C=\"250 2.0.0 Ok: queued as MXTLS1\"",
      "2026-12-01 17:14:56 1xYRRQ-0006pC-1n == x@handshake.test R=scenario T=remote_required defer (-37) H=127.0.0.1 "
      "[127.0.0.1]:48804: TLS session: (gnutls_handshake): Handshake failed",
      "2026-12-01 17:14:57 1xYRRR-0006qE-2a == x@busy.test R=scenario T=remote_may defer (0) H=127.0.0.1 [127.0.0.1]:48806: "
      "SMTP error from remote mail server after initial connection: 421 4.3.2 Service not available, closing transmission "
      "channel",
      "2026-12-01 17:14:59 1xYRRT-0006qw-1C H=127.0.0.1 [127.0.0.1]:48808 Connection refused",
      "2026-12-01 17:14:59 1xYRRT-0006qw-1C == x@refused.test R=scenario T=remote_may defer (111): Connection refused",
  });
  EXPECT_EQ(s.format, log_format::exim);
  EXPECT_EQ(s.lines_not_understood, 0u);
  struct want {
    const char* domain;
    attempt_class cls;
    result_type reason;
  };
  for (const want& w : {want{"tls.test", attempt_class::tls, result_type::none},
                        want{"plain.test", attempt_class::plaintext, result_type::none},
                        want{"nostarttls.test", attempt_class::tls_failed, result_type::starttls_not_supported},
                        want{"refused454.test", attempt_class::tls_failed, result_type::starttls_refused},
                        want{"tryclear.test", attempt_class::plaintext_after_tls_failure, result_type::handshake_failure},
                        want{"handshake.test", attempt_class::tls_failed, result_type::handshake_failure},
                        want{"busy.test", attempt_class::other_failure, result_type::greeting_refused},
                        want{"refused.test", attempt_class::other_failure, result_type::connection_failed}}) {
    SCOPED_TRACE(w.domain);
    const destination_summary* d = dest(s, w.domain);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->attempts, 1u);
    EXPECT_EQ(d->count(w.cls), 1u);
    if (w.reason != result_type::none) {
      EXPECT_EQ(d->reasons[static_cast<std::size_t>(w.reason)], 1u);
    }
  }
  const destination_summary* t = dest(s, "tls.test");
  EXPECT_EQ(t->key.address, "127.0.0.1:48800");
  EXPECT_EQ(t->key.mx_host, "127.0.0.1");
  EXPECT_EQ(t->tls_versions.count("TLSv1.3 ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM"), 1u);
  EXPECT_EQ(dest(s, "refused.test")->key.address, "127.0.0.1:48808") << "from the H= line before the == line";
  EXPECT_EQ(dest(s, "tryclear.test")->samples.front().line, 10u) << "the TLS failure line is the evidence";
}

TEST(EximReader, HeaderFormsAndVerifiedCertificates) {
  // +millisec, log_timezone and +pid; 4.97's message id; CV=yes; a host without +outgoing_port.
  log_summary s = read({
      "2026-12-01 17:14:53.123 +0100 [4711] 1xYRRN-0006nA-0N => x@a.test R=dnslookup T=remote_smtp H=mx.a.test "
      "[192.0.2.1] X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 CV=yes DN=\"CN=mx.a.test\" C=\"250 OK\"",
      "2026-12-01 17:14:54 1xYRRN-0006nA0N00M-0000 => y@b.test R=dnslookup T=remote_smtp H=MX.B.TEST [2001:db8::1] C=\"250 OK\"",
      "2026-12-01 17:14:55 1xYRRN-0006nA-0N => z@local R=local_user T=local_delivery",
  });
  EXPECT_EQ(s.format, log_format::exim);
  const destination_summary* a = dest(s, "a.test");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->verified, 1u);
  EXPECT_EQ(a->key.address, "192.0.2.1");
  const destination_summary* b = dest(s, "b.test");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->key.mx_host, "mx.b.test");
  EXPECT_EQ(b->key.address, "[2001:db8::1]");
  EXPECT_EQ(dest(s, "local"), nullptr) << "a local delivery is not an SMTP attempt";
  EXPECT_EQ(s.lines_not_understood, 0u);
}

// tls_verify_hosts = * with tls_verify_certificates: the lines a real Exim 4.96 (GnuTLS) wrote
// verifying compliant (its certificate trusted), cert-wrong-host, cert-expired and
// cert-not-yet-valid (trusted, checked against mx.mxtls.test). Only the name check is told apart:
// a failed chain is "certificate invalid" whatever failed.
TEST(EximReader, VerifyFailuresAsEximWordsThem) {
  log_summary s = read({
      "2026-12-01 23:35:04 1xYXNI-0000mB-35 <= a@client.mxtls.test U=root P=local S=335",
      "2026-12-01 23:35:05 1xYXNI-0000mB-35 H=mail-esa.com [127.0.0.1] TLS error on connection (recv): The TLS connection was "
      "non-properly terminated.",
      "2026-12-01 23:35:05 1xYXNI-0000mB-35 => x@p46241.compliant.verify.test R=verify_scenario T=remote_verify H=mail-esa.com "
      "[127.0.0.1]:46241 X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=yes C=\"250 2.0.0 Ok: queued as "
      "MXTLS1\"",
      "2026-12-01 23:35:05 1xYXNI-0000mB-35 Completed",
      "2026-12-01 23:35:05 1xYXNJ-0000ma-0S == x@p44851.cert-wrong-host.verify.test R=verify_scenario T=remote_verify defer (-37) "
      "H=mx.mxtls.test [127.0.0.1]:44851: TLS session: (certificate verification failed)",
      "2026-12-01 23:35:05 1xYXNJ-0000mx-1R == x@p45069.cert-expired.verify.test R=verify_scenario T=remote_verify defer (-37) "
      "H=mx.mxtls.test [127.0.0.1]:45069: TLS session: (certificate verification failed): certificate invalid",
      "2026-12-01 23:35:05 1xYXNJ-0000nO-2D == x@p39479.cert-not-yet-valid.verify.test R=verify_scenario T=remote_verify defer "
      "(-37) H=mx.mxtls.test [127.0.0.1]:39479: TLS session: (certificate verification failed): certificate invalid",
  });
  EXPECT_EQ(s.lines_not_understood, 0u);
  const destination_summary* ok = dest(s, "p46241.compliant.verify.test");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->verified, 1u);
  EXPECT_EQ(ok->key.mx_host, "mail-esa.com");
  for (const auto& [domain, reason] : {std::pair{"p44851.cert-wrong-host.verify.test", result_type::certificate_host_mismatch},
                                       std::pair{"p45069.cert-expired.verify.test", result_type::validation_failure},
                                       std::pair{"p39479.cert-not-yet-valid.verify.test", result_type::validation_failure}}) {
    SCOPED_TRACE(domain);
    const destination_summary* d = dest(s, domain);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->count(attempt_class::tls_failed), 1u);
    EXPECT_EQ(d->reasons[static_cast<std::size_t>(reason)], 1u);
    EXPECT_EQ(d->reasons[static_cast<std::size_t>(result_type::validation_failure)] +
                  d->reasons[static_cast<std::size_t>(result_type::certificate_host_mismatch)],
              1u);
  }
}

TEST(EximReader, SyslogFormAndDetection) {
  std::string line =
      "Dec  1 17:14:54 client exim[5]: 2026-12-01 17:14:54 1xYRRO-0006nW-09 => x@plain.test R=scenario T=remote_smtp "
      "H=mx.plain.test [192.0.2.9] C=\"250 OK\"";
  EXPECT_EQ(detect_format(line), log_format::exim);
  EXPECT_EQ(detect_format("2026-12-01 17:14:54 1xYRRO-0006nW-09 <= a@b U=root P=local S=1"), log_format::exim);
  EXPECT_EQ(detect_format("2026-12-01T17:14:54 host postfix/smtp[1]: x"), log_format::postfix);
  log_summary s = read({line});
  ASSERT_NE(dest(s, "plain.test"), nullptr);
  // A log without a single TLS line cannot tell plaintext from TLS (log_selector -tls_cipher).
  EXPECT_EQ(dest(s, "plain.test")->count(attempt_class::unknown), 1u);
  ASSERT_FALSE(s.notes.empty());
  EXPECT_EQ(s.notes.front(), note_id::no_tls_lines);
  EXPECT_EQ(parse_log_format("exim"), log_format::exim);
}

}  // namespace
}  // namespace mxtls::logs
