// The Postfix and Exim readers on the lines a real Postfix 3.7 wrote at smtp_tls_security_level = dane
// (and Exim 4.96 at hosts_try_dane, below)
// (the Dane.PostfixDaneDeliveriesAreReadFromItsLog test records them: a signed zone served by
// NSD, a validating unbound, mxtls serve as the MX hosts), here also under ASan: the DANE
// mismatch, the failed TLSA lookup, the bogus MX and address answers, an unusable record.
#include <gtest/gtest.h>

#include "mxtls/logs.hpp"
#include "reader_test.hpp"

namespace mxtls::logs {
namespace {

using test::dest;
using test::read;

const std::vector<std::string> dane_lines = {
    // A stale 3 1 1 record: OpenSSL's X509_V_ERR_DANE_NO_MATCH (65), then the session, deferred.
    "Dec 02 08:09:04 client postfix/smtp[11477]: server certificate verification failed for mx.stale.dane.test[127.0.0.13]:55495: "
    "num=65:no matching DANE TLSA records",
    "Dec 02 08:09:04 client postfix/smtp[11477]: Untrusted TLS connection established to mx.stale.dane.test[127.0.0.13]:55495: "
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) "
    "server-digest SHA256",
    "Dec 02 08:09:04 client postfix/smtp[11477]: 4A2CCA720F3: to=<x@stale.dane.test>, relay=mx.stale.dane.test[127.0.0.13]:55495, "
    "delay=0.02, delays=0.01/0/0.01/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
    // Only a PKIX-EE (usage 1) record: unusable, so mandatory TLS without authentication.
    "Dec 02 08:09:04 client postfix/smtp[11477]: warning: _55495._tcp.mx.pkix.dane.test unsupported TLSA certificate usage: 1 1 1 "
    "793DBA749CFB0E76243DAC4B03F9D5D8895233DE805A588B6141952A1F8CD20B",
    "Dec 02 08:09:04 client postfix/smtp[11477]: Untrusted TLS connection established to mx.pkix.dane.test[127.0.0.15]:55495: "
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) "
    "server-digest SHA256",
    "Dec 02 08:09:04 client postfix/smtp[11477]: 555B1A720F9: to=<x@pkix.dane.test>, relay=mx.pkix.dane.test[127.0.0.15]:55495, "
    "delay=0.01, delays=0/0/0.01/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as MXTLS1)",
    // A tampered A record of the MX host: bogus, SERVFAIL.
    "Dec 02 08:09:04 client postfix/smtp[11477]: warning: no MX host for forged.dane.test has a valid address record",
    "Dec 02 08:09:04 client postfix/smtp[11477]: 6B309A720F9: to=<x@forged.dane.test>, relay=none, delay=0.01, delays=0/0/0/0, "
    "dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=mx.forged.dane.test type=A: Host not "
    "found, try again)",
    // A tampered TLSA record: bogus, SERVFAIL.
    "Dec 02 08:09:04 client postfix/smtp[11477]: warning: DANE TLSA lookup problem: Host or domain name not found. Name service "
    "error for name=_55495._tcp.mx.badtlsa.dane.test type=TLSA: Host not found, try again",
    "Dec 02 08:09:04 client postfix/smtp[11477]: warning: DANE TLSA lookup problem: Host or domain name not found. Name service "
    "error for name=_55495._tcp.mx.badtlsa.dane.test type=TLSA: Host not found, try again",
    "Dec 02 08:09:04 client postfix/smtp[11477]: warning: TLS policy lookup for badtlsa.dane.test:55495/mx.badtlsa.dane.test: TLSA "
    "lookup error for mx.badtlsa.dane.test:55495",
    "Dec 02 08:09:04 client postfix/smtp[11477]: 84333A72103: to=<x@badtlsa.dane.test>, relay=none, delay=0.01, delays=0/0/0/0, "
    "dsn=4.7.5, status=deferred (TLSA lookup error for mx.badtlsa.dane.test:55495)",
    // A tampered MX record.
    "Dec 02 08:09:04 client postfix/smtp[11477]: 9C060A72107: to=<x@badmx.dane.test>, relay=none, delay=0.01, delays=0/0/0/0, "
    "dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=badmx.dane.test type=MX: Host not "
    "found, try again)",
    // DANE-EE verified.
    "Dec 02 08:09:04 client postfix/smtp[11477]: Verified TLS connection established to mx.ee.dane.test[127.0.0.11]:55495: TLSv1.3 "
    "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
    "Dec 02 08:09:04 client postfix/smtp[11477]: 3E4B3A720F0: to=<x@ee.dane.test>, relay=mx.ee.dane.test[127.0.0.11]:55495, "
    "delay=0.06, delays=0.02/0.03/0.01/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as MXTLS1)",
};

TEST(PostfixDaneReader, RealDaneLinesGiveRfc8460Reasons) {
  log_summary s = read(dane_lines);
  EXPECT_EQ(s.lines_not_understood, 0u);
  struct want {
    const char* domain;
    attempt_class cls;
    result_type reason;
    const char* mx_host;
    const char* address;
  };
  for (const want& w : {want{"stale.dane.test", attempt_class::tls_failed, result_type::tlsa_invalid, "mx.stale.dane.test", "127.0.0.13:55495"},
                        want{"pkix.dane.test", attempt_class::tls, result_type::none, "mx.pkix.dane.test", "127.0.0.15:55495"},
                        want{"forged.dane.test", attempt_class::other_failure, result_type::dns_failure, "mx.forged.dane.test", ""},
                        want{"badtlsa.dane.test", attempt_class::tls_failed, result_type::dnssec_invalid, "mx.badtlsa.dane.test", ""},
                        want{"badmx.dane.test", attempt_class::other_failure, result_type::dns_failure, "", ""},
                        want{"ee.dane.test", attempt_class::tls, result_type::none, "mx.ee.dane.test", "127.0.0.11:55495"}}) {
    SCOPED_TRACE(w.domain);
    const destination_summary* d = dest(s, w.domain);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->attempts, 1u);
    EXPECT_EQ(d->count(w.cls), 1u);
    std::uint64_t reasons = 0;
    for (auto n : d->reasons) reasons += n;
    EXPECT_EQ(reasons, w.reason == result_type::none ? 0u : 1u);
    if (w.reason != result_type::none) EXPECT_EQ(d->reasons[static_cast<std::size_t>(w.reason)], 1u);
    EXPECT_EQ(d->key.mx_host, w.mx_host);
    EXPECT_EQ(d->key.address, w.address);
  }
  EXPECT_EQ(dest(s, "ee.dane.test")->verified, 1u);
  EXPECT_EQ(dest(s, "pkix.dane.test")->verified, 0u);
  // The evidence: the lookup's warnings first, the status line always kept.
  const destination_summary* b = dest(s, "badtlsa.dane.test");
  ASSERT_EQ(b->samples.size(), 3u);
  EXPECT_EQ(b->samples.front().line, 9u);
  EXPECT_EQ(b->samples.back().line, 12u);
  const destination_summary* f = dest(s, "forged.dane.test");
  ASSERT_EQ(f->samples.size(), 2u);
  EXPECT_EQ(f->samples.front().line, 7u) << "the 'no MX host … valid address record' warning";
  EXPECT_EQ(std::string(to_string(result_type::tlsa_invalid)), "tlsa-invalid");
  EXPECT_EQ(std::string(to_string(result_type::dnssec_invalid)), "dnssec-invalid");
  EXPECT_EQ(std::string(to_string(result_type::dns_failure)), "dns-failure");
}

// A warning of the lookups before one delivery is not carried into the next process's
// connection, nor into an attempt after a status line consumed it.
TEST(PostfixDaneReader, LookupWarningsStayWithTheirAttempt) {
  log_summary s = read({
      "Dec 02 08:09:04 client postfix/smtp[1]: warning: _25._tcp.mx.a.test unsupported TLSA certificate usage: 0 1 1 00",
      "Dec 02 08:09:04 client postfix/smtp[2]: Verified TLS connection established to mx.b.test[192.0.2.2]:25: TLSv1.3 with cipher "
      "TLS_AES_256_GCM_SHA384 (256/256 bits)",
      "Dec 02 08:09:04 client postfix/smtp[2]: 1A: to=<x@b.test>, relay=mx.b.test[192.0.2.2]:25, delay=0.01, delays=0/0/0/0, "
      "dsn=2.0.0, status=sent (250 Ok)",
      "Dec 02 08:09:05 client postfix/smtp[1]: 2B: to=<x@a.test>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.7.5, "
      "status=deferred (TLSA lookup error for mx.a.test:25)",
      "Dec 02 08:09:06 client postfix/smtp[1]: Untrusted TLS connection established to mx.c.test[192.0.2.3]:25: TLSv1.3 with cipher "
      "TLS_AES_256_GCM_SHA384 (256/256 bits)",
      "Dec 02 08:09:06 client postfix/smtp[1]: 3C: to=<x@c.test>, relay=mx.c.test[192.0.2.3]:25, delay=0.01, delays=0/0/0/0, "
      "dsn=2.0.0, status=sent (250 Ok)",
  });
  ASSERT_NE(dest(s, "a.test"), nullptr);
  EXPECT_EQ(dest(s, "a.test")->samples.size(), 2u);
  EXPECT_EQ(dest(s, "a.test")->samples.front().line, 1u);
  ASSERT_NE(dest(s, "b.test"), nullptr);
  EXPECT_EQ(dest(s, "b.test")->count(attempt_class::tls), 1u);
  ASSERT_NE(dest(s, "c.test"), nullptr);
  EXPECT_EQ(dest(s, "c.test")->count(attempt_class::tls), 1u);
}

}  // namespace
}  // namespace mxtls::logs

namespace mxtls::logs {
namespace {

// Exim 4.96 (Debian 12, GnuTLS) at hosts_try_dane = *, as Dane.EximDaneDeliveriesAreReadFromItsLog
// records it through the same tree.
TEST(EximDaneReader, RealDaneLinesGiveRfc8460Reasons) {
  log_summary s = read({
      "2026-12-02 09:21:07 1xYfaT-0005OS-1X DANE attempt failed; TLS connection to mx.stale.dane.test [127.0.0.13]: (certificate "
      "verification failed): Verification failed. The certificate differs. ",
      "2026-12-02 09:21:07 1xYfaT-0005OS-1X == x@stale.dane.test R=dane_scenario T=remote_dane defer (-37) H=mx.stale.dane.test "
      "[127.0.0.13]:54763: TLS session: (certificate verification failed): Verification failed. The certificate differs. ",
      "2026-12-02 09:21:07 1xYfaT-0005Pu-2i == x@forged.dane.test R=dane_scenario defer (-1): host lookup did not complete",
      "2026-12-02 09:21:08 1xYfaU-0005Qr-0B H=mx.badtlsa.dane.test [127.0.0.23]:54763: DANE error: tlsa lookup DEFER",
      "2026-12-02 09:21:08 1xYfaU-0005Qr-0B == x@badtlsa.dane.test R=dane_scenario T=remote_dane defer (-36): DANE error: tlsa "
      "lookup DEFER",
      "2026-12-02 09:21:08 1xYfaT-0005Ny-1A => x@ee.dane.test R=dane_scenario T=remote_dane H=mx.ee.dane.test [127.0.0.11]:54763 "
      "X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=dane C=\"250 2.0.0 Ok: queued as MXTLS1\"",
  });
  EXPECT_EQ(s.format, log_format::exim);
  EXPECT_EQ(s.lines_not_understood, 0u);
  const destination_summary* stale = dest(s, "stale.dane.test");
  ASSERT_NE(stale, nullptr);
  EXPECT_EQ(stale->count(attempt_class::tls_failed), 1u);
  EXPECT_EQ(stale->reasons[static_cast<std::size_t>(result_type::tlsa_invalid)], 1u);
  EXPECT_EQ(stale->samples.front().line, 1u) << "the DANE line is the evidence";
  const destination_summary* forged = dest(s, "forged.dane.test");
  ASSERT_NE(forged, nullptr);
  EXPECT_EQ(forged->count(attempt_class::other_failure), 1u);
  EXPECT_EQ(forged->reasons[static_cast<std::size_t>(result_type::dns_failure)], 1u);
  EXPECT_EQ(forged->key.address, "");
  const destination_summary* bad = dest(s, "badtlsa.dane.test");
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->count(attempt_class::tls_failed), 1u);
  EXPECT_EQ(bad->reasons[static_cast<std::size_t>(result_type::dnssec_invalid)], 1u);
  EXPECT_EQ(bad->key.mx_host, "mx.badtlsa.dane.test");
  EXPECT_EQ(bad->key.address, "127.0.0.23:54763");
  const destination_summary* ee = dest(s, "ee.dane.test");
  ASSERT_NE(ee, nullptr);
  EXPECT_EQ(ee->verified, 1u);
}

}  // namespace
}  // namespace mxtls::logs
