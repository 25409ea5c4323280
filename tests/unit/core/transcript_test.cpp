#include "mxtls/transcript.hpp"

#include <string>

#include "mxtls/lint.hpp"
#include "mxtls/paste_text.hpp"

#include <gtest/gtest.h>

namespace mxtls {
namespace {

TEST(Transcript, ClassifiesUnprefixedLines) {
  auto t = read_transcript("220 mx.example.com\nEHLO me\n250-mx.example.com\n250 STARTTLS\nSTARTTLS\n220 go\n");
  ASSERT_EQ(t.lines.size(), 6u);
  EXPECT_EQ(t.lines[0].dir, direction::server);
  EXPECT_EQ(t.lines[1].dir, direction::client);
  EXPECT_EQ(t.lines[2].dir, direction::server);
  EXPECT_EQ(t.lines[3].dir, direction::server);
  EXPECT_EQ(t.lines[4].dir, direction::client) << "STARTTLS after a final line is the client's command";
  EXPECT_EQ(t.lines[5].dir, direction::server);
  EXPECT_TRUE(t.ignored.empty());
}

TEST(Transcript, CodelessLineInsideAReplyIsTheServers) {
  auto t = read_transcript("250-mx.example.com\nSTARTTLS\n250 SIZE 1\n");
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(t.lines[1].dir, direction::server);
}

TEST(Transcript, PrefixesSetDirectionAndColumn) {
  struct row {
    const char* in;
    direction dir;
    std::size_t col;
    const char* text;
  };
  const row rows[] = {
      {"S: 250 x", direction::server, 3, "250 x"},     {"C: EHLO a", direction::client, 3, "EHLO a"},
      {"<- 250 x", direction::server, 3, "250 x"},     {" -> EHLO a", direction::client, 4, "EHLO a"},
      {"<<< 250 x", direction::server, 4, "250 x"},    {">>> EHLO a", direction::client, 4, "EHLO a"},
      {"<~  250 x", direction::server, 4, "250 x"},    {"~> EHLO a", direction::client, 3, "EHLO a"},
      {"< 250 x", direction::server, 2, "250 x"},      {"> EHLO a", direction::client, 2, "EHLO a"},
      {"\t250 x   ", direction::server, 1, "250 x"},   {"250 x <--- note", direction::server, 0, "250 x"},
      {"250 x <== note", direction::server, 0, "250 x"}, {"S:250 x\r", direction::server, 2, "250 x"},
  };
  for (const auto& r : rows) {
    auto t = read_transcript(r.in);
    ASSERT_EQ(t.lines.size(), 1u) << r.in;
    EXPECT_EQ(t.lines[0].dir, r.dir) << r.in;
    EXPECT_EQ(t.lines[0].column_offset, r.col) << r.in;
    EXPECT_EQ(t.lines[0].text, r.text) << r.in;
  }
}

TEST(Transcript, NotesAreListedNotDropped) {
  auto t = read_transcript("my server:\n```\n\n250 mx.example.com\n<--- the greeting\n*** done\n```\n");
  ASSERT_EQ(t.lines.size(), 1u);
  EXPECT_EQ(t.lines[0].line, 4u);
  EXPECT_EQ(t.ignored, (std::vector<std::size_t>{1, 5, 6}));
  EXPECT_EQ(t.input_lines, 7u);
}

TEST(Transcript, AnnotationNeedsWhiteSpaceBeforeIt) {
  auto t = read_transcript("250 a<--b\n");
  ASSERT_EQ(t.lines.size(), 1u);
  EXPECT_EQ(t.lines[0].text, "250 a<--b");
}

TEST(Transcript, CommandsAreRecognised) {
  EXPECT_TRUE(starts_with_command("EHLO x"));
  EXPECT_TRUE(starts_with_command("ehlo x"));
  EXPECT_TRUE(starts_with_command("MAIL FROM:<a@b>"));
  EXPECT_TRUE(starts_with_command("STARTTLS"));
  EXPECT_FALSE(starts_with_command("EHLOX"));
  EXPECT_FALSE(starts_with_command("thanks"));
}

TEST(Transcript, EmptyAndGarbage) {
  EXPECT_TRUE(read_transcript("").lines.empty());
  std::string garbage("\x00\xff\x01\n\x80\x81", 6);
  auto t = read_transcript(garbage);
  EXPECT_TRUE(t.lines.empty());
  EXPECT_EQ(t.ignored.size(), 2u);
}


// ---- normalisation (paste_text.hpp) ----

TEST(PasteText, AsciiIsLeftAlone) {
  auto n = normalise_paste("250-mx.example.com\r\n250 STARTTLS\r\n");
  EXPECT_EQ(n.text, "250-mx.example.com\r\n250 STARTTLS\r\n");
  EXPECT_TRUE(n.notes.empty());
  EXPECT_FALSE(n.utf16);
}

TEST(PasteText, StandInsBecomeAsciiAndAreCounted) {
  // NBSP, non-breaking hyphen, narrow NBSP, zero-width space, BOM.
  auto n = normalise_paste("\xEF\xBB\xBF" "250\xE2\x80\x91mx\n250\xC2\xA0" "A\xE2\x80\xAF" "B\xE2\x80\x8B\n");
  EXPECT_EQ(n.text, "250-mx\n250 A B\n");
  ASSERT_EQ(n.notes.size(), 5u);
  EXPECT_EQ(n.notes[0].change, paste_change::byte_order_mark);
  EXPECT_EQ(n.notes[1].change, paste_change::no_break_space);
  EXPECT_EQ(n.notes[1].first_line, 2u);
  EXPECT_EQ(n.notes[2].change, paste_change::narrow_no_break_space);
  EXPECT_EQ(n.notes[3].change, paste_change::non_breaking_hyphen);
  EXPECT_EQ(n.notes[3].first_line, 1u);
  EXPECT_EQ(n.notes[4].change, paste_change::zero_width);
}

TEST(PasteText, CrOnlyEndingsOnlyWithoutAnyLf) {
  auto n = normalise_paste("250-a\r250 b\r");
  EXPECT_EQ(n.text, "250-a\n250 b\n");
  ASSERT_EQ(n.notes.size(), 1u);
  EXPECT_EQ(n.notes[0].change, paste_change::cr_line_endings);
  EXPECT_EQ(n.notes[0].count, 2u);
  // With LF endings a lone CR is the server's (the parser judges it), not the paste's.
  EXPECT_EQ(normalise_paste("250-a\r\n250 b\rc\n").text, "250-a\r\n250 b\rc\n");
}

std::string utf16(std::string_view ascii, bool little, bool bom) {
  std::string out;
  if (bom) out += little ? "\xFF\xFE" : "\xFE\xFF";
  for (char c : ascii) {
    if (little) out += c, out += '\0';
    else out += '\0', out += c;
  }
  return out;
}

TEST(PasteText, Utf16WithAndWithoutBom) {
  for (bool little : {true, false})
    for (bool bom : {true, false}) {
      auto n = normalise_paste(utf16("250-mx.example.com\r\n250 STARTTLS\r\n", little, bom));
      EXPECT_TRUE(n.utf16) << little << bom;
      EXPECT_FALSE(n.utf16_invalid);
      EXPECT_EQ(n.text, "250-mx.example.com\r\n250 STARTTLS\r\n") << little << bom;
      ASSERT_EQ(n.notes.size(), 1u) << "the BOM is part of the UTF-16 note";
      EXPECT_EQ(n.notes[0].change, little ? paste_change::utf16_le : paste_change::utf16_be);
    }
}

TEST(PasteText, Utf16SurrogatesAndBrokenUnits) {
  // U+1F600 as a surrogate pair, then an unpaired high surrogate, then an odd octet.
  std::string in("\xFF\xFE" "2\0" "5\0" "0\0" " \0" "\x3D\xD8\x00\xDE" "\x3D\xD8" "x\0" "!", 19);
  auto n = normalise_paste(in);
  EXPECT_TRUE(n.utf16);
  EXPECT_TRUE(n.utf16_invalid);
  EXPECT_EQ(n.text, "250 \xF0\x9F\x98\x80\xEF\xBF\xBDx");
}

TEST(PasteText, Utf16SniffNeedsMostlyZeroOctets) {
  // Three octets are below the sniff's minimum; text with a few NULs is not UTF-16.
  EXPECT_FALSE(normalise_paste(std::string("2\0" "5", 3)).utf16);
  EXPECT_FALSE(normalise_paste(std::string("250 a\0b\n250 c\n", 14)).utf16);
}

// ---- formats and prefixes (paste_format.hpp) ----

TEST(PasteFormat, Signatures) {
  struct row {
    const char* in;
    paste_format f;
  };
  const row rows[] = {
      {"250-a\n250 b\n", paste_format::plain},
      {"=== Trying 1.2.3.4:25...\n<-  220 a\n -> EHLO b\n", paste_format::swaks},
      {"posttls-finger: < 220 a\nposttls-finger: > EHLO b\n", paste_format::posttls_finger},
      {"CONNECTED(00000003)\n---\n250 a\n", paste_format::openssl_s_client},
      {"*   Trying 1.2.3.4:25...\n< 220 a\n> EHLO b\n", paste_format::curl},
      {"<-- 220 a\n--> EHLO b\n", paste_format::msmtp},
      {"Dec  1 11:02:16 h postfix/smtp[1]: < a[1.2.3.4]:25: 220 a\n", paste_format::postfix_log},
      {"  SMTP<< 220 a\n  SMTP>> EHLO b\n", paste_format::exim_debug},
      {"#Software: Microsoft Exchange Server\n", paste_format::exchange_log},
      {"2026.12.01 10:10:00 SMTP (h): <rx> 220 a\n", paste_format::outlook_log},
      {"x I/SMTP SMTP Response: 220 a\n", paste_format::thunderbird_log},
      {"Trying 1.2.3.4...\nEscape character is '^]'.\n220 a\n", paste_format::telnet},
      {"Follow: tcp,ascii\n", paste_format::wireshark},
      {"Enter the remote hostname or IP address.\n[]> 1.2.3.4\n", paste_format::cisco_esa_telnet},
  };
  for (const auto& r : rows) EXPECT_EQ(detect_paste_format(r.in), r.f) << r.in;
}

TEST(PasteFormat, SyslogHeadersAndTagsAreStripped) {
  auto t = read_transcript(
      "Dec  1 11:02:16 client postfix/smtp[13339]: < 127.0.0.1[127.0.0.1]:2601: 250-mx.example.com\n"
      "Dec  1 11:02:16 client postfix/smtp[13339]: < 127.0.0.1[127.0.0.1]:2601: 250 STARTTLS\n"
      "2026-12-01T11:02:16.123+00:00 client postfix/smtp[13339]: > 127.0.0.1[127.0.0.1]:2601: QUIT\n");
  EXPECT_EQ(t.format, paste_format::postfix_log);
  EXPECT_EQ(t.prefix, line_prefix::syslog);
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(t.lines[0].text, "250-mx.example.com");
  EXPECT_EQ(t.lines[0].dir, direction::server);
  EXPECT_EQ(t.lines[2].text, "QUIT");
  EXPECT_EQ(t.lines[2].dir, direction::client);
  EXPECT_EQ(t.lines[0].source.substr(t.lines[0].column_offset), "250-mx.example.com");
}

TEST(PasteFormat, SmtpdLogsTheOtherWayRound) {
  auto t = read_transcript(
      "Dec  1 11:02:16 mx postfix/smtpd[7]: < unknown[192.0.2.1]: EHLO client\n"
      "Dec  1 11:02:16 mx postfix/smtpd[7]: > unknown[192.0.2.1]: 250-mx.example.com\n"
      "Dec  1 11:02:16 mx postfix/smtpd[7]: > unknown[192.0.2.1]: 250 STARTTLS\n");
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(t.lines[0].dir, direction::client);
  EXPECT_EQ(t.lines[1].dir, direction::server);
}

TEST(PasteFormat, TimestampsAndLineNumbers) {
  auto a = read_transcript("[09:00:01] 250-mx.example.com\n[09:00:01] 250 STARTTLS\n");
  EXPECT_EQ(a.prefix, line_prefix::timestamp);
  ASSERT_EQ(a.lines.size(), 2u);
  EXPECT_EQ(a.lines[0].text, "250-mx.example.com");
  auto b = read_transcript("09:00:01.250 S: 250-mx.example.com\n09:00:01.251 S: 250 STARTTLS\n");
  EXPECT_EQ(b.prefix, line_prefix::timestamp);
  ASSERT_EQ(b.lines.size(), 2u);
  EXPECT_EQ(b.lines[1].text, "250 STARTTLS");
  auto c = read_transcript("1: 220 mx\n2: EHLO a\n3: 250-mx\n4: 250 STARTTLS\n");
  EXPECT_EQ(c.prefix, line_prefix::line_number);
  ASSERT_EQ(c.lines.size(), 4u);
  EXPECT_EQ(c.lines[1].dir, direction::client);
  // Reply codes are not line numbers: they do not count up with the lines.
  auto d = read_transcript("250-mx\n250-SIZE 1\n250 STARTTLS\n");
  EXPECT_EQ(d.prefix, line_prefix::none);
  EXPECT_EQ(d.lines[0].text, "250-mx");
}

TEST(PasteFormat, ExchangeCsvQuotedData) {
  auto t = read_transcript(
      "#Software: Microsoft Exchange Server\n#Log-type: SMTP Send Protocol Log\n"
      "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context\n"
      "2026-12-01T10:00:00.000Z,Out,08D1,0,10.0.0.1:1,192.0.2.1:25,<,\"250-SIZE 1,2\",\n"
      "2026-12-01T10:00:00.000Z,Out,08D1,1,10.0.0.1:1,192.0.2.1:25,>,EHLO a,\n"
      "2026-12-01T10:00:00.000Z,Out,08D1,2,10.0.0.1:1,192.0.2.1:25,*,,attempting\n");
  EXPECT_EQ(t.format, paste_format::exchange_log);
  EXPECT_EQ(t.prefix, line_prefix::csv_columns);
  ASSERT_EQ(t.lines.size(), 2u);
  EXPECT_EQ(t.lines[0].text, "250-SIZE 1,2");
  EXPECT_EQ(t.lines[0].dir, direction::server);
  EXPECT_EQ(t.lines[1].dir, direction::client);
  EXPECT_EQ(t.exchange_rows, 3u);
}

TEST(PasteFormat, OpensslDumpsAreIgnoredAndTheLeftoverLineIsNotLinted) {
  const char* in =
      "CONNECTED(00000003)\n---\n-----BEGIN CERTIFICATE-----\n250AAAA\n-----END CERTIFICATE-----\n"
      "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384\nSSL-Session:\n    Protocol  : TLSv1.3\n"
      "    0000 - 52 d1 4f 64 9f ca 03 09-68 ef 22 10 86 00 f9 1d   R.Od....h.\".....\n"
      "---\n250 CHUNKING\n250-mx.example.com\n250 CHUNKING\n221 2.0.0 Bye\n";
  auto t = read_transcript(in);
  EXPECT_EQ(t.format, paste_format::openssl_s_client);
  EXPECT_EQ(t.plaintext_leftover, (std::vector<std::size_t>{11}));
  EXPECT_GE(t.tls_dump_lines, 5u);
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(t.lines[0].line, 12u);
  auto r = lint(in);
  EXPECT_TRUE(r.plaintext_reply_missing);
  EXPECT_TRUE(r.linted_inside_tls);
  EXPECT_EQ(r.ehlo.findings.size(), 0u) << r.headline;
  EXPECT_TRUE(r.clients.empty()) << "predictions need the reply before TLS";
  EXPECT_EQ(r.dialogue.starttls, starttls_answer::accepted);
  EXPECT_EQ(r.dialogue.handshake, handshake_state::established);
}

TEST(PasteFormat, MailQuotingIsStripped) {
  auto t = read_transcript("Someone wrote:\n> 250-mx.example.com\n> 250 STARTTLS\n");
  EXPECT_TRUE(t.quoted);
  ASSERT_EQ(t.lines.size(), 2u);
  EXPECT_EQ(t.lines[0].text, "250-mx.example.com");
  EXPECT_EQ(t.lines[0].column_offset, 2u);
}

TEST(PasteFormat, MsmtpMarkerIsNotAnAnnotation) {
  auto t = read_transcript("<-- 250-mx.example.com\n<-- 250 STARTTLS\n<--- the greeting\n");
  ASSERT_EQ(t.lines.size(), 2u);
  EXPECT_EQ(t.ignored, (std::vector<std::size_t>{3}));
}

// ---- the conversation (dialogue_facts) ----

TEST(Dialogue, StarttlsAnswers) {
  struct row {
    const char* tail;
    starttls_answer a;
    int code;
    handshake_state h;
  };
  const row rows[] = {
      {"", starttls_answer::not_sent, -1, handshake_state::not_started},
      {"C: STARTTLS\n", starttls_answer::unknown, -1, handshake_state::not_started},
      {"C: STARTTLS\nS: 454 4.7.0 TLS not available\n", starttls_answer::refused, 454, handshake_state::not_started},
      {"C: STARTTLS\nS: 501 5.5.4 Syntax\n", starttls_answer::refused, 501, handshake_state::not_started},
      {"C: STARTTLS\nS: 220 go ahead\n", starttls_answer::accepted, 220, handshake_state::unknown},
      {"C: STARTTLS\nS: 220 go ahead\nC: EHLO a\nS: 250 mx\n", starttls_answer::accepted, 220,
       handshake_state::established},
      {"C: STARTTLS\nS: 220 go ahead\n*** TLS startup failed (connect(): error:0A000410:SSL routines::sslv3 alert "
       "handshake failure)\n",
       starttls_answer::accepted, 220, handshake_state::failed},
  };
  for (const auto& r : rows) {
    std::string in = std::string("S: 220 mx\nC: EHLO a\nS: 250-mx.example.com\nS: 250 STARTTLS\n") + r.tail;
    auto l = lint(in);
    EXPECT_EQ(l.dialogue.starttls, r.a) << r.tail;
    EXPECT_EQ(l.dialogue.starttls_code, r.code) << r.tail;
    EXPECT_EQ(l.dialogue.handshake, r.h) << r.tail;
  }
}

TEST(Dialogue, RefusedStarttlsIsNeverReportedAsTls) {
  auto l = lint("S: 220 mx\nC: EHLO a\nS: 250-mx.example.com\nS: 250 STARTTLS\nC: STARTTLS\nS: 454 4.7.0 TLS not available\n");
  EXPECT_EQ(l.headline.find("OK: "), std::string::npos) << l.headline;
  EXPECT_NE(l.headline.find("454"), std::string::npos) << l.headline;
  EXPECT_NE(l.headline.find("no sender gets TLS"), std::string::npos) << l.headline;
}

TEST(Dialogue, SeveralEhloTurnsLintTheOneBeforeTls) {
  auto l = lint(
      "S: 220 mx\nC: EHLO a\nS: 250-mx.example.com\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go\n"
      "C: EHLO a\nS: 250-STARTTLS\nS: 250 mx.example.com\n");
  EXPECT_EQ(l.ehlo_replies_in_input, 2u);
  EXPECT_EQ(l.linted_turn, 1u);
  EXPECT_EQ(l.linted_reason, linted_turn_reason::first_before_tls);
  EXPECT_TRUE(l.dialogue.ehlo_after_tls);
  EXPECT_EQ(l.errors, 0u);
}

TEST(Dialogue, EarlyFinalLineRestPrintedAsTheNextReplyIsLinted) {
  auto l = lint("<-  220 mx\n -> EHLO a\n<-  250-mx.example.com\n<-  250 PIPELINING\n -> QUIT\n<** 250-SIZE 1000\n<** 250 STARTTLS\n");
  EXPECT_EQ(l.late_lines_from, 6u);
  EXPECT_EQ(l.late_lines_to, 7u);
  ASSERT_FALSE(l.ehlo.findings.empty());
  EXPECT_EQ(l.ehlo.findings[0].id, finding_id::final_line_not_last);
}

}  // namespace
}  // namespace mxtls
