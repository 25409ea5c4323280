// The Sendmail reader on lines a real Sendmail 8.17.1.9 wrote (Debian 12's sendmail-bin
// delivering to mxtls serve scenarios through tests/integration/sendmail-instance, as the
// logs.sendmail test records them), and on the forms sendmail/deliver.c logdelivery() writes
// for a named MX host, an IPv6 address, a long recipient list and a local delivery. The same
// real lines as journald keeps them (export and JSON entries built from systemd's documented
// formats, https://systemd.io/JOURNAL_EXPORT_FORMATS/, around the recorded messages) are read
// by the same rules, chosen by the entries' SYSLOG_IDENTIFIER.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <sstream>

#include "mxtls/logs.hpp"
#include "reader_test.hpp"

namespace mxtls::logs {
namespace {

using test::read;
using test::dest;


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

// A recorded syslog line as a journal entry: its time (the year 2026, UTC), host, tag and
// message become __REALTIME_TIMESTAMP, _HOSTNAME, SYSLOG_IDENTIFIER / SYSLOG_PID and MESSAGE;
// `_COMM` as systemd sets it from the process (the executable's name).
struct syslog_parts {
  std::uint64_t usec = 0;
  std::string host, identifier, pid, message;
};
syslog_parts parts_of(const std::string& l) {
  static const std::string months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = static_cast<int>(months.find(l.substr(0, 3)) / 3);
  tm.tm_mday = std::stoi(l.substr(4, 2));
  tm.tm_hour = std::stoi(l.substr(7, 2)), tm.tm_min = std::stoi(l.substr(10, 2)), tm.tm_sec = std::stoi(l.substr(13, 2));
  syslog_parts p;
  p.usec = static_cast<std::uint64_t>(timegm(&tm)) * 1000000;
  std::size_t host_end = l.find(' ', 16), open = l.find('[', host_end), close = l.find("]: ", open);
  p.host = l.substr(16, host_end - 16);
  p.identifier = l.substr(host_end + 1, open - host_end - 1);
  p.pid = l.substr(open + 1, close - open - 1);
  p.message = l.substr(close + 3);
  return p;
}
std::string export_of(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    syslog_parts p = parts_of(l);
    out += "__CURSOR=s=1;i=" + p.pid + "\n__REALTIME_TIMESTAMP=" + std::to_string(p.usec) + "\n_TRANSPORT=syslog\nSYSLOG_IDENTIFIER=" +
           p.identifier + "\nSYSLOG_PID=" + p.pid + "\nMESSAGE=" + p.message + "\n_PID=" + p.pid + "\n_COMM=sendmail\n_HOSTNAME=" + p.host +
           "\n\n";
  }
  return out;
}
std::string json_of(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    syslog_parts p = parts_of(l);
    out += R"({"__CURSOR":"s=1;i=)" + p.pid + R"(","__REALTIME_TIMESTAMP":")" + std::to_string(p.usec) + R"(","_HOSTNAME":")" + p.host +
           R"(","SYSLOG_IDENTIFIER":")" + p.identifier + R"(","SYSLOG_PID":")" + p.pid + R"(","_COMM":"sendmail","MESSAGE":")" +
           p.message + "\"}\n";
  }
  return out;
}
log_summary read_journal(const std::string& text) {
  log_reader r;
  std::istringstream in(text);
  EXPECT_EQ(read_stream(in, r, 0), "");
  return r.finish();
}

// The recorded lines give the same destinations as a plain log and as either journal form.
TEST(SendmailReader, JournalEntriesOfSmMtaAreReadByTheSendmailRules) {
  log_summary plain = read(recorded);
  for (bool json : {false, true}) {
    SCOPED_TRACE(json ? "journal-json" : "journal-export");
    log_summary s = read_journal(json ? json_of(recorded) : export_of(recorded));
    EXPECT_EQ(s.format, json ? log_format::journal_json : log_format::journal_export);
    ASSERT_EQ(s.input_formats.size(), 1u);
    EXPECT_EQ(s.input_formats[0].mtas, std::vector<log_format>{log_format::sendmail});
    EXPECT_EQ(s.lines_not_understood, 0u);
    EXPECT_EQ(s.tls_lines, plain.tls_lines);
    ASSERT_EQ(s.destinations.size(), plain.destinations.size());
    for (const auto& p : plain.destinations) {
      SCOPED_TRACE(p.key.domain);
      const destination_summary* d = dest(s, p.key.domain);
      ASSERT_NE(d, nullptr);
      EXPECT_EQ(d->key, p.key);
      EXPECT_EQ(d->attempts, p.attempts);
      EXPECT_EQ(d->delivered, p.delivered);
      EXPECT_EQ(d->classes, p.classes);
      EXPECT_EQ(d->reasons, p.reasons);
      EXPECT_EQ(d->tls_versions, p.tls_versions);
      EXPECT_EQ(d->verified, p.verified);
      ASSERT_EQ(d->samples.size(), p.samples.size());
      for (std::size_t i = 0; i < d->samples.size(); ++i)  // the same message after the journal's time
        EXPECT_EQ(d->samples[i].text.substr(d->samples[i].text.find(" client ")), p.samples[i].text.substr(15));
    }
    EXPECT_NE(render_logs_text(s, {"mail.journal"}).find(std::string("format    ") + (json ? "journal-json" : "journal-export") +
                                                           " (detected), entries of sendmail\n"),
              std::string::npos);
  }
}

// One journal holds every program of a host: Postfix's and Sendmail's entries each go to
// their MTA's rules, the others are read and not used; the format line names both.
TEST(SendmailReader, AJournalWithPostfixAndSendmailEntries) {
  std::string postfix_tls =
      "Dec  1 20:29:40 client postfix/smtp[7]: Trusted TLS connection established to mx.a.test[192.0.2.1]:25: TLSv1.3 "
      "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
  std::string postfix_sent =
      "Dec  1 20:29:40 client postfix/smtp[7]: 64D52A88523: to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=0.1, "
      "delays=0.06/0.02/0.03/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)";
  std::string other = "Dec  1 20:29:40 client sshd[12]: Accepted publickey for root from 192.0.2.9 port 4 ssh2";
  log_summary s = read_journal(export_of({postfix_tls, recorded[3], other, recorded[4], postfix_sent}));
  EXPECT_EQ(s.lines_not_understood, 0u);
  ASSERT_EQ(s.input_formats.size(), 1u);
  EXPECT_EQ(s.input_formats[0].mtas, (std::vector<log_format>{log_format::postfix, log_format::sendmail}));
  ASSERT_EQ(s.destinations.size(), 2u);
  EXPECT_EQ(dest(s, "a.test")->count(attempt_class::tls), 1u);
  EXPECT_EQ(dest(s, "tls.test")->count(attempt_class::tls), 1u);
  EXPECT_NE(render_logs_text(s, {"j"}).find("format    journal-export (detected), entries of postfix and sendmail\n"), std::string::npos);
}

}  // namespace
}  // namespace mxtls::logs
