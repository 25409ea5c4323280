// The Sendmail reader on lines a real Sendmail 8.17.1.9 wrote (Debian 12's sendmail-bin
// delivering to mxtls serve scenarios through tests/integration/sendmail-instance, as the
// logs.sendmail test records them), and on the forms sendmail/deliver.c logdelivery() writes
// for a named MX host, an IPv6 address, a long recipient list and a local delivery.
#include <gtest/gtest.h>

#include <algorithm>

#include "mxtls/logs.hpp"

namespace mxtls::logs {
namespace {

log_summary read(const std::vector<std::string>& lines) {
  log_reader r;
  std::uint64_t n = 0;
  for (const auto& l : lines) r.add_line(l, 0, ++n);
  return r.finish();
}

const destination_summary* dest(const log_summary& s, const std::string& domain) {
  for (const auto& d : s.destinations)
    if (d.key.domain == domain) return &d;
  return nullptr;
}

// Recorded: one message per line group, each by its own sendmail process (-odi).
const std::vector<std::string> recorded = {
    "Dec  1 20:30:28 client sm-mta[21935]: 6B1KUS48021935: from=a@client.mxtls.test, size=27, class=0, nrcpts=1, "
    "msgid=<202612012030.6B1KUS48021935@client.mxtls.test>, relay=root@localhost",
    "Dec  1 20:30:28 client sm-mta[21935]: STARTTLS=client, relay=[127.0.0.1], version=TLSv1.3, verify=OK, "
    "cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
    "Dec  1 20:30:28 client sm-mta[21935]: 6B1KUS48021935: to=x@verified.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (2.0.0 "
    "Ok: queued as MXTLS1)",
    "Dec  1 20:29:36 client sm-mta[19942]: STARTTLS=client, relay=[127.0.0.1], version=TLSv1.3, verify=FAIL, "
    "cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
    "Dec  1 20:29:36 client sm-mta[19942]: 6B1KTanr019942: to=x@tls.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (2.0.0 "
    "Ok: queued as MXTLS1)",
    "Dec  1 20:29:41 client sm-mta[20148]: 6B1KTeQd020148: to=x@plain.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:01, xdelay=00:00:01, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (2.0.0 "
    "Ok: queued as MXTLS1)",
    "Dec  1 20:29:41 client sm-mta[20171]: ruleset=tls_server, arg1=NONE, relay=[127.0.0.1], reject=454 4.7.0 encryption "
    "too weak 0 less than 112",
    "Dec  1 20:29:41 client sm-mta[20171]: 6B1KTf04020171: to=x@nostarttls.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=4.7.0, stat=Deferred: "
    "454 4.7.0 encryption too weak 0 less than 112",
    "Dec  1 20:29:44 client sm-mta[20323]: ruleset=tls_server, arg1=TEMP, relay=[127.0.0.1], reject=454 4.7.0 encryption "
    "too weak 0 less than 112",
    "Dec  1 20:29:44 client sm-mta[20323]: 6B1KTiWQ020323: to=x@refused454.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=4.7.0, reply=454 4.7.0 "
    "TLS not available due to temporary reason, stat=Deferred: 454 4.7.0 encryption too weak 0 less than 112",
    "Dec  1 20:29:45 client sm-mta[20373]: STARTTLS=client, error: connect failed=-1, reason=sslv3 alert handshake "
    "failure, SSL_error=1, errno=0, retry=-1",
    "Dec  1 20:29:45 client sm-mta[20373]: ruleset=tls_server, arg1=SOFTWARE, relay=[127.0.0.1], reject=454 4.7.0 TLS "
    "handshake failed.",
    "Dec  1 20:29:45 client sm-mta[20373]: 6B1KTjxH020373: to=x@handshake.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=4.7.0, stat=Deferred: "
    "454 4.7.0 TLS handshake failed.",
    // TLSFallbacktoClear=True: the same refusal, then Sent over a connection in clear.
    "Dec  1 20:31:29 client sm-mta[22701]: STARTTLS=client, error: connect failed=-1, reason=sslv3 alert handshake "
    "failure, SSL_error=1, errno=0, retry=-1",
    "Dec  1 20:31:29 client sm-mta[22701]: ruleset=tls_server, arg1=SOFTWARE, relay=[127.0.0.1], reject=454 4.7.0 TLS "
    "handshake failed.",
    "Dec  1 20:31:29 client sm-mta[22701]: 6B1KVT7i022701: to=y@fallback.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (2.0.0 "
    "Ok: queued as MXTLS2)",
    "Dec  1 20:30:31 client sm-mta[22059]: STARTTLS=client, relay=[127.0.0.1], version=TLSv1.3, verify=FAIL, "
    "cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
    "Dec  1 20:30:31 client sm-mta[22059]: ruleset=tls_server, arg1=FAIL, relay=[127.0.0.1], reject=454 4.7.0 "
    "authentication failed",
    "Dec  1 20:30:31 client sm-mta[22059]: STARTTLS: read error=generic SSL error (-1), errno=9, "
    "get_error=error:0A000126:SSL routines::unexpected eof while reading, retry=99, ssl_err=1",
    "Dec  1 20:30:31 client sm-mta[22059]: 6B1KUVpI022059: to=x@expired.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=4.7.0, stat=Deferred: "
    "454 4.7.0 authentication failed",
    "Dec  1 20:29:47 client sm-mta[20503]: 6B1KTlJb020503: to=x@busy.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=4.5.0, reply=421 4.3.2 "
    "Service not available, closing transmission channel, stat=Deferred: 421 4.3.2 Service not available, closing "
    "transmission channel",
    "Dec  1 20:29:50 client sm-mta[20668]: 6B1KToaF020668: to=x@refused.test, ctladdr=a@client.mxtls.test (0/0), "
    "delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30027, relay=[127.0.0.1] [127.0.0.1], dsn=4.4.1, stat=Deferred: "
    "Connection refused by [127.0.0.1]",
};

TEST(SendmailReader, RealLinesJoinedByProcess) {
  log_summary s = read(recorded);
  EXPECT_EQ(s.format, log_format::sendmail);
  EXPECT_EQ(s.lines_not_understood, 0u);
  struct want {
    const char* domain;
    attempt_class cls;
    result_type reason;
    bool delivered;
  };
  for (const want& w : {want{"verified.test", attempt_class::tls, result_type::none, true},
                        want{"tls.test", attempt_class::tls, result_type::none, true},
                        want{"plain.test", attempt_class::plaintext, result_type::none, true},
                        want{"nostarttls.test", attempt_class::tls_failed, result_type::starttls_not_supported, false},
                        want{"refused454.test", attempt_class::tls_failed, result_type::starttls_refused, false},
                        want{"handshake.test", attempt_class::tls_failed, result_type::handshake_failure, false},
                        want{"fallback.test", attempt_class::plaintext_after_tls_failure, result_type::handshake_failure, true},
                        want{"expired.test", attempt_class::tls_failed, result_type::validation_failure, false},
                        want{"busy.test", attempt_class::other_failure, result_type::other, false},
                        want{"refused.test", attempt_class::other_failure, result_type::connection_failed, false}}) {
    SCOPED_TRACE(w.domain);
    const destination_summary* d = dest(s, w.domain);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->attempts, 1u);
    EXPECT_EQ(d->count(w.cls), 1u);
    EXPECT_EQ(d->delivered, w.delivered ? 1u : 0u);
    if (w.reason != result_type::none) EXPECT_EQ(d->reasons[static_cast<std::size_t>(w.reason)], 1u);
    EXPECT_EQ(d->key.mx_host, "127.0.0.1");
    EXPECT_EQ(d->key.address, "127.0.0.1");  // Sendmail logs no port
  }
  const destination_summary* v = dest(s, "verified.test");
  EXPECT_EQ(v->verified, 1u);
  EXPECT_EQ(v->tls_versions.at("TLSv1.3 TLS_AES_256_GCM_SHA384"), 1u);
  EXPECT_EQ(dest(s, "tls.test")->verified, 0u);
  // The evidence: the connection's lines before the to= line.
  const destination_summary* h = dest(s, "handshake.test");
  ASSERT_EQ(h->samples.size(), 3u);
  EXPECT_NE(h->samples[0].text.find("connect failed"), std::string::npos);
  EXPECT_NE(h->samples[2].text.find("to=x@handshake.test"), std::string::npos);
}

TEST(SendmailReader, NamedMxIpv6MoreAndLocalForms) {
  // logdelivery(): "relay=H. [A]" for a named host (a trailing dot), "[IPv6:…]" addresses,
  // "to=… [more]" for the first part of a long recipient list, relay=local for local mailers.
  log_summary s = read({
      "2026-12-01T20:30:28.123456+00:00 mta sm-mta[100]: STARTTLS=client, relay=mx.example.test., version=TLSv1.2, "
      "verify=OK, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
      "2026-12-01T20:30:28.200000+00:00 mta sm-mta[100]: 6B1KUS48000100: to=<a@example.test>,<b@example.test>, "
      "delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120, relay=mx.example.test. [192.0.2.1], dsn=2.0.0, stat=Sent "
      "(ok)",
      // The same process, the cached connection: no new STARTTLS line.
      "2026-12-01T20:30:29.000000+00:00 mta sm-mta[100]: 6B1KUS48000101: to=<c@example.test>, delay=00:00:01, "
      "xdelay=00:00:00, mailer=esmtp, pri=120, relay=mx.example.test. [192.0.2.1], dsn=2.0.0, stat=Sent (ok)",
      "2026-12-01T20:30:30.000000+00:00 mta sm-mta[101]: 6B1KUS48000102: to=<d@v6.test> [more], delay=00:00:01, "
      "xdelay=00:00:00, mailer=esmtp, pri=120, relay=mx.v6.test. [IPv6:2001:db8::1], dsn=2.0.0, stat=Sent (ok)",
      "2026-12-01T20:30:30.000000+00:00 mta sm-mta[101]: 6B1KUS48000102: to=<e@v6.test>, delay=00:00:01, xdelay=00:00:00, "
      "mailer=esmtp, pri=120, relay=mx.v6.test. [IPv6:2001:db8::1], dsn=2.0.0, stat=Sent (ok)",
      "2026-12-01T20:30:31.000000+00:00 mta sm-mta[102]: 6B1KUS48000103: to=<root@mta>, delay=00:00:00, xdelay=00:00:00, "
      "mailer=local, pri=30, relay=local, dsn=2.0.0, stat=Sent",
      "2026-12-01T20:30:31.000000+00:00 mta sm-msp-queue[103]: 6B1KUS48000104: to=root, delay=00:00:00, mailer=relay, "
      "pri=30, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (6B1KUS48000105 Message accepted for delivery)",
  });
  EXPECT_EQ(s.format, log_format::sendmail);
  EXPECT_EQ(s.lines_not_understood, 0u);
  ASSERT_EQ(s.destinations.size(), 2u);
  const destination_summary* d = dest(s, "example.test");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->key.mx_host, "mx.example.test");
  EXPECT_EQ(d->key.address, "192.0.2.1");
  EXPECT_EQ(d->attempts, 2u);
  EXPECT_EQ(d->count(attempt_class::tls), 2u);
  EXPECT_EQ(d->verified, 2u);
  EXPECT_TRUE(d->first->year_known);
  const destination_summary* v6 = dest(s, "v6.test");
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(v6->attempts, 1u);
  EXPECT_EQ(v6->key.address, "[2001:db8::1]");
  EXPECT_EQ(v6->count(attempt_class::plaintext), 1u);
}

TEST(SendmailReader, FormatDetectedAndNamed) {
  EXPECT_EQ(detect_format(recorded[0]), log_format::sendmail);
  EXPECT_EQ(detect_format("Dec  1 20:29:36 host sendmail[5]: STARTTLS=client, relay=mx., version=TLSv1.3, verify=OK, "
                          "cipher=X, bits=256/256"),
            log_format::sendmail);
  EXPECT_EQ(parse_log_format("sendmail"), log_format::sendmail);
  EXPECT_STREQ(to_string(log_format::sendmail), "sendmail");
}

TEST(SendmailReader, NoStarttlsLinesAtAllIsNotedAsUnknown) {
  // LogLevel 8 or lower: no STARTTLS=client line (tls.c logs it at LogLevel > 8).
  log_summary s = read({recorded[5]});
  EXPECT_EQ(s.destinations.at(0).count(attempt_class::unknown), 1u);
  EXPECT_NE(std::find(s.notes.begin(), s.notes.end(), note_id::no_tls_lines), s.notes.end());
}

}  // namespace
}  // namespace mxtls::logs
