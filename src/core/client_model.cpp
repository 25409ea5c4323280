#include "mxtls/client_model.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace mxtls {

const char* to_string(prediction_reason r) {
  switch (r) {
    case prediction_reason::sees_starttls: return "sees-starttls";
    case prediction_reason::starttls_on_greeting: return "starttls-on-greeting";
    case prediction_reason::keyword_not_matched: return "keyword-not-matched";
    case prediction_reason::starttls_after_end: return "starttls-after-end";
    case prediction_reason::not_offered: return "not-offered";
    case prediction_reason::tls_off_by_default: return "tls-off-by-default";
    case prediction_reason::rejects_reply_helo: return "rejects-reply-helo";
    case prediction_reason::rejects_reply: return "rejects-reply";
    case prediction_reason::ehlo_not_250: return "ehlo-not-250";
    case prediction_reason::leftover_desync: return "leftover-desync";
    case prediction_reason::leftover_fatal: return "leftover-fatal";
    case prediction_reason::waits_for_crlf: return "waits-for-crlf";
    case prediction_reason::waits_for_end: return "waits-for-end";
    case prediction_reason::no_reply: return "no-reply";
  }
  return "?";
}

const char* to_string(tls_outcome o) {
  switch (o) {
    case tls_outcome::tls: return "tls";
    case tls_outcome::plaintext: return "plaintext";
    case tls_outcome::fail: return "fail";
    case tls_outcome::hang: return "hang";
  }
  return "?";
}

namespace {

using lines_t = std::span<const std::string>;

// --- Small pieces the models share -----------------------------------------------------

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool coded(std::string_view l) { return l.size() >= 3 && digit(l[0]) && digit(l[1]) && digit(l[2]); }
int code_of(std::string_view l) { return coded(l) ? (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0') : -1; }
std::string_view after_code(std::string_view l) { return l.size() > 4 ? l.substr(4) : std::string_view{}; }

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return upper(x) == upper(y); });
}
bool iprefix(std::string_view s, std::string_view p) { return s.size() >= p.size() && ieq(s.substr(0, p.size()), p); }

// Text up to the first octet of `stops`.
std::string_view token(std::string_view s, std::string_view stops) { return s.substr(0, std::min(s.find_first_of(stops), s.size())); }

std::string_view trim(std::string_view s, std::string_view ws = " \t\r\n") {
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// First line index >= `from` for which `match` holds, or -1.
template <class F>
int first_line(lines_t lines, std::size_t from, F match) {
  for (std::size_t i = from; i < lines.size(); ++i)
    if (match(std::string_view(lines[i]))) return static_cast<int>(i);
  return -1;
}

const char* reject_if_line(lines_t lines, bool (*bad)(std::string_view), const char* why) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return bad(l); }) ? why : nullptr;
}

bool not_code_then_sp_hyphen_or_end(std::string_view l) {
  return !coded(l) || (l.size() > 3 && l[3] != ' ' && l[3] != '-');
}

// --- The models: one entry per client ---------------------------------------------------
//
// Each entry names the version and source file it follows. "Seen" rules are the
// client's keyword match; "rejects" lists what makes it give up the EHLO reply.

constexpr std::array<client_model, 22> models{{
    // Cisco AsyncOS mail_logs: "Info: DCID n STARTTLS command not supported." (the seed
    // tech note). Closed source: the greeting rule is documented by Cisco; keyword
    // matching is assumed to follow Postfix's (first word, case-insensitive).
    {"cisco-esa", "Cisco ESA", "Cisco ESA (AsyncOS)", "AsyncOS 14-15", "Cisco tech note (docs/seed), closed source",
     "Destination Controls TLS: Preferred / Required", reply_end::space_or_bare_code, false, false, false,
     tls_mode::opportunistic, false, false, true, "first word, case-insensitive (assumed)", nullptr, true,
     [](lines_t l) { return first_line(l, 1, [](std::string_view x) { return ieq(token(after_code(x), " \t="), "STARTTLS"); }); }},

    // Postfix 3.7 src/smtp/smtp_proto.c smtp_helo(): the first non-empty line is the server
    // name; each later line's first word (leading white space skipped, split at space, tab
    // or '=') is compared with strcasecmp. smtp_chat.c: a reply ends at "ddd" followed by
    // white space or nothing; malformed lines are skipped and reading goes on; a line cut
    // at 2048 octets spoils the extensions. Any 2xx to STARTTLS starts the handshake.
    // (Checked against Postfix 3.7 delivering through a relayhost.)
    {"postfix", "Postfix", "Postfix smtp(8)", "3.7", "src/smtp/smtp_proto.c, src/smtp/smtp_chat.c",
     "smtp_tls_security_level = may / encrypt", reply_end::space_tab_or_bare_code, false, false, false,
     tls_mode::opportunistic, true, false, true, "first word (split at space, tab or '='), case-insensitive",
     [](lines_t l) -> const char* {
       for (const auto& x : l)
         if (x.size() > 2048) return "a line is longer than 2048 octets";
       return nullptr;
     },
     true,
     [](lines_t l) {
       int words = 0;
       for (std::size_t i = 0; i < l.size(); ++i) {
         std::string_view x = l[i];
         if (!coded(x) || (x.size() > 3 && x[3] != ' ' && x[3] != '-' && x[3] != '\t')) continue;  // malformed: skipped
         std::string_view body = trim(after_code(x));
         if (body.empty()) continue;     // empty lines do not count
         if (words++ == 0) continue;     // the first non-empty line is the server's name
         if (ieq(token(body, " \t="), "STARTTLS")) return static_cast<int>(i);
       }
       return -1;
     }},

    // posttls-finger (Postfix 3.7) src/posttls-finger/posttls-finger.c: unlike smtp(8) it
    // examines line 0 too, and a malformed line or one over 2048 octets makes it ignore the
    // extensions. A probe: it sends no mail.
    {"posttls-finger", "posttls-finger", "posttls-finger", "3.7", "src/posttls-finger/posttls-finger.c",
     "-l may / -l encrypt", reply_end::space_or_bare_code, false, false, false, tls_mode::opportunistic, true, false,
     false, "first word (split at space, tab or '='), case-insensitive, on every line",
     [](lines_t l) -> const char* {
       for (const auto& x : l) {
         if (x.size() > 2048) return "a line is longer than 2048 octets";
         if (!coded(x) || (x.size() > 3 && x[3] != ' ' && x[3] != '-')) return "a line is not ddd followed by space, '-' or its end";
       }
       return nullptr;
     }, true,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return ieq(token(trim(after_code(x)), " \t="), "STARTTLS"); }); },
     0, true, false, true},

    // Exim 4.96 src/src/transports/smtp.c: regex "\n250[\s\-]STARTTLS(\s|\n|$)" over the
    // reply, so the first line never matches; case-sensitive. smtp_read_response(): each
    // line must be ddd followed by '-', SP or its end, else EHLO fails and Exim sends HELO.
    {"exim", "Exim", "Exim", "4.96", "src/src/transports/smtp.c, src/src/smtp_out.c", "hosts_try_tls / hosts_require_tls",
     reply_end::space_or_bare_code, false, false, false, tls_mode::opportunistic, true, false, true,
     "\"250\" then '-' or space, then STARTTLS and white space or the line's end, case-sensitive",
     [](lines_t l) { return reject_if_line(l, not_code_then_sp_hyphen_or_end, "a line is not ddd followed by '-', space or its end"); },
     true,
     [](lines_t l) {
       return first_line(l, 1, [](std::string_view x) {
         if (x.size() < 12 || x.substr(0, 3) != "250" || (x[3] != '-' && x[3] != ' ')) return false;
         return x.substr(4, 8) == "STARTTLS" && (x.size() == 12 || x[12] == ' ' || x[12] == '\t');
       });
     }},

    // Sendmail 8.17 sendmail/usersmtp.c helo_options(): "if (firstline) return"; the text
    // after the code is cut at the first space or '=' and compared case-insensitively.
    // reply(): lines that are not replies are skipped.
    {"sendmail", "Sendmail", "Sendmail", "8.17", "sendmail/usersmtp.c", "STARTTLS with default access rules / TLS_Srv: ENCR",
     reply_end::coded_not_hyphen, false, false, false, tls_mode::opportunistic, false, false, true,
     "text after the code cut at space or '=', case-insensitive", nullptr, true,
     [](lines_t l) { return first_line(l, 1, [](std::string_view x) { return ieq(token(after_code(x), " ="), "STARTTLS"); }); }},

    // OpenSMTPD 7.x usr.sbin/smtpd/mta_session.c: strcmp(line + 4, "STARTTLS") on every
    // line; only '-' continues a reply; data left after the reply drops the session.
    {"opensmtpd", "OpenSMTPD", "OpenSMTPD", "7.3", "usr.sbin/smtpd/mta_session.c", "relay (tls when offered) / relay tls",
     reply_end::not_hyphen, false, false, true, tls_mode::opportunistic, false, false, false,
     "the whole text after the code equals STARTTLS, case-sensitive",
     [](lines_t l) { return reject_if_line(l, [](std::string_view x) { return !coded(x); }, "a line has no reply code"); },
     false,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return x.size() >= 4 && x.substr(4) == "STARTTLS"; }); }},

    // CPython 3.11 Lib/smtplib.py: getreply() ends at any fourth octet other than '-' and
    // strips each line; ehlo() drops line 0 ("del resp[0]") and takes the leading
    // [A-Za-z0-9-] run of each line, lower-cased. Features count only when the reply's
    // last code is 250. Lines over 8192 octets raise.
    {"python-smtplib", "Python", "Python smtplib", "3.11", "Lib/smtplib.py", "starttls() when has_extn('starttls')",
     reply_end::not_hyphen, false, false, false, tls_mode::opportunistic, false, false, true,
     "leading letters, digits and '-' of the stripped line, case-insensitive",
     [](lines_t l) -> const char* {
       if (std::any_of(l.begin(), l.end(), [](const std::string& x) { return x.size() > 8192; })) return "a line is longer than 8192 octets";
       return code_of(l.back()) == 250 ? nullptr : "the reply's last code is not 250, so no extension counts";
     },
     true,
     [](lines_t l) {
       return first_line(l, 1, [](std::string_view x) {
         std::string_view t = trim(after_code(x));
         std::size_t n = 0;
         while (n < t.size() && (std::isalnum(static_cast<unsigned char>(t[n])) || t[n] == '-')) ++n;
         return n > 0 && ieq(t.substr(0, n), "STARTTLS");
       });
     }},

    // Go 1.19 src/net/smtp/smtp.go ehlo(): extList[1:]; each line split at the first
    // space; Extension() upper-cases the name asked for, the stored names keep their case.
    // net/textproto ReadResponse keeps malformed or other-code lines raw and reads on.
    {"go-net-smtp", "Go", "Go net/smtp", "1.19", "src/net/smtp/smtp.go, src/net/textproto/reader.go",
     "SendMail: StartTLS when Extension(\"STARTTLS\")", reply_end::same_code_space, false, false, false,
     tls_mode::opportunistic, false, false, true, "first word (split at a space) equals STARTTLS, case-sensitive",
     [](lines_t l) -> const char* {
       const std::string& f = l.front();
       if (f.size() < 4 || !coded(f) || (f[3] != ' ' && f[3] != '-')) return "the first line is not ddd followed by space or '-'";
       return code_of(f) == 250 ? nullptr : "the first line's code is not 250";
     },
     true,
     [](lines_t l) {
       int code = code_of(l.front());
       return first_line(l, 1, [code](std::string_view x) {
         bool wellformed = x.size() >= 4 && code_of(x) == code && (x[3] == ' ' || x[3] == '-');
         std::string_view text = wellformed ? x.substr(4) : x;  // odd lines are kept raw
         return token(text, " ") == "STARTTLS";
       });
     }},

    // Angus Mail 2.0 (Jakarta Mail) com/sun/mail/smtp/SMTPTransport.java: readServerResponse
    // reads while the fourth octet is '-'; ehlo() skips the first line; the name is the text
    // up to the first space, upper-cased. Its line reader also ends a line at a bare CR.
    {"jakarta-mail", "Jakarta Mail", "Jakarta Mail (Angus)", "2.0", "com/sun/mail/smtp/SMTPTransport.java",
     "mail.smtp.starttls.enable / mail.smtp.starttls.required", reply_end::not_hyphen, false, true, false,
     tls_mode::opportunistic, false, false, true, "text up to the first space, case-insensitive", nullptr, true,
     [](lines_t l) { return first_line(l, 1, [](std::string_view x) { return ieq(token(after_code(x), " "), "STARTTLS"); }); }},

    // MailKit 4.x MailKit/Net/Smtp/SmtpStream.cs + SmtpClient.cs: strict reply reader
    // (non-digit code, bad separator or changing code raise); capabilities from every line,
    // case-insensitive, trailing white space trimmed.
    {"mailkit", "MailKit", "MailKit (.NET)", "4.3", "MailKit/Net/Smtp/SmtpStream.cs, SmtpClient.cs",
     "SecureSocketOptions.StartTlsWhenAvailable / StartTls", reply_end::not_hyphen, false, false, false,
     tls_mode::opportunistic, false, false, false, "first word, case-insensitive, on every line",
     [](lines_t l) -> const char* {
       int code = code_of(l.front());
       for (const auto& x : l) {
         if (!coded(x)) return "a line has no numeric code";
         if (x.size() > 3 && x[3] != ' ' && x[3] != '-') return "a separator is neither space nor '-'";
         if (code_of(x) != code) return "the code changes between lines";
       }
       return nullptr;
     },
     false,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return ieq(token(trim(after_code(x)), " "), "STARTTLS"); }); }},

    // .NET System.Net.Mail (runtime 8) SmtpReplyReaderFactory.cs + EHelloCommand: line 0
    // skipped; extension names compared case-insensitively by prefix; the separator must be
    // space or '-'; the reader waits for CRLF. EnableSsl is its only TLS setting (required).
    {"dotnet-smtpclient", ".NET SmtpClient", ".NET System.Net.Mail.SmtpClient", "8.0",
     "src/libraries/System.Net.Mail/src/System/Net/Mail/SmtpReplyReaderFactory.cs, SmtpConnection.cs",
     "EnableSsl = false (default) / true", reply_end::not_hyphen, true, false, false, tls_mode::off_by_default,
     false, false, true, "text after the code starts with STARTTLS, case-insensitive",
     [](lines_t l) {
       return reject_if_line(l, [](std::string_view x) { return !coded(x) || (x.size() > 3 && x[3] != ' ' && x[3] != '-'); },
                             "a line is not ddd followed by space or '-'");
     },
     false,
     [](lines_t l) { return first_line(l, 1, [](std::string_view x) { return iprefix(after_code(x), "STARTTLS"); }); }},

    // curl 7.88 (Debian 12) to 8.16 lib/smtp.c smtp_state_ehlo_resp(): every line whose
    // fourth octet is space or '-' is compared with memcmp(line + 4, "STARTTLS", 8):
    // a case-sensitive prefix. A reply ends at "ddd SP" or "ddd" alone.
    {"curl", "curl", "curl", "7.88-8.16", "lib/smtp.c", "--ssl / --ssl-reqd", reply_end::space_or_bare_code, false, false, false,
     tls_mode::opportunistic, false, false, false, "text after the code starts with STARTTLS, case-sensitive",
     nullptr, false,
     [](lines_t l) {
       return first_line(l, 0, [](std::string_view x) {
         return x.size() >= 12 && (x[3] == ' ' || x[3] == '-') && x.substr(4, 8) == "STARTTLS";
       });
     }},

    // curl 8.17 and later: the same prefix, compared case-insensitively.
    {"curl-8.17", "curl 8.17+", "curl 8.17+", "8.17", "lib/smtp.c", "--ssl / --ssl-reqd", reply_end::space_or_bare_code, false, false, false,
     tls_mode::opportunistic, false, false, false, "text after the code starts with STARTTLS, case-insensitive",
     nullptr, false,
     [](lines_t l) {
       return first_line(l, 0, [](std::string_view x) {
         return x.size() >= 12 && (x[3] == ' ' || x[3] == '-') && iprefix(x.substr(4), "STARTTLS");
       });
     }},

    // msmtp 1.8 src/smtp.c smtp_get_msg() / smtp_init(): strict reader (digits then space or
    // '-', at most 1024 octets a line and 50 lines); upper-cases each line and compares the
    // 8 octets after the code. Without "tls on" it never sends STARTTLS.
    {"msmtp", "msmtp", "msmtp", "1.8.23", "src/smtp.c", "tls off (default) / tls on (required)", reply_end::not_hyphen,
     false, false, false, tls_mode::off_by_default, false, false, false,
     "text after the code starts with STARTTLS, case-insensitive",
     [](lines_t l) -> const char* {
       if (l.size() > 50) return "more than 50 lines";
       for (const auto& x : l) {
         if (x.size() > 1024) return "a line is longer than 1024 octets";
         if (!coded(x) || x.size() < 4 || (x[3] != ' ' && x[3] != '-')) return "a line is not ddd followed by space or '-'";
       }
       return nullptr;
     },
     false,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return iprefix(after_code(x), "STARTTLS"); }); }},

    // swaks 20201014: reads until a line matching ^\d\d\d<space>; the reply's code is the
    // last line's, and anything but 250 makes it try HELO; strips four octets and looks
    // for /^STARTTLS$/: exact, case-sensitive, no trailing space.
    {"swaks", "swaks", "swaks", "20201014", "swaks (Perl script)", "--tls-optional / --tls", reply_end::space_only, false,
     false, false, tls_mode::opportunistic, false, false, false, "the whole text after the code equals STARTTLS, case-sensitive",
     [](lines_t l) -> const char* { return code_of(l.back()) == 250 ? nullptr : "the reply's last code is not 250"; }, true,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return x.size() >= 4 && x.substr(4) == "STARTTLS"; }); }},

    // OpenSSL 3.0 apps/s_client.c (-starttls smtp): strstr(line, "STARTTLS") on every line
    // while the fourth octet is '-' through a line buffer it then drops; sends STARTTLS
    // even when it was not found and reads the reply from the socket without looking at
    // its code, so lines left over in the buffer do not matter.
    {"openssl-s-client", "openssl s_client", "openssl s_client -starttls smtp", "3.0", "apps/s_client.c", "(always sends STARTTLS)",
     reply_end::not_hyphen, false, false, false, tls_mode::always_try, true, true, false,
     "STARTTLS anywhere in a line, case-sensitive", nullptr, false,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return x.find("STARTTLS") != std::string_view::npos; }); },
     0, true, false, true, true},

    // Haraka 3.0 outbound/hmail.js: a line not matching ^[2345]\d\d[ -] bounces the
    // message; extensions upper-cased and matched whole.
    {"haraka", "Haraka", "Haraka outbound", "3.0", "outbound/hmail.js", "outbound tls (default on) / enable_tls + force",
     reply_end::not_hyphen, false, false, false, tls_mode::opportunistic, true, false, false,
     "first word, case-insensitive, on every line",
     [](lines_t l) {
       return reject_if_line(l, [](std::string_view x) { return !(x.size() >= 4 && coded(x) && x[0] >= '2' && x[0] <= '5' && (x[3] == ' ' || x[3] == '-')); },
                             "a line does not match ^[2345]dd[ -]");
     },
     false,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return ieq(token(after_code(x), " "), "STARTTLS"); }); }},

    // nodemailer 6.9 lib/smtp-connection/index.js: /[ -]STARTTLS\b/mi over the whole reply
    // (the greeting line and names such as X-STARTTLS match too). requireTLS sends
    // STARTTLS even when it is not offered.
    {"nodemailer", "Nodemailer", "Nodemailer", "6.9", "lib/smtp-connection/index.js", "default (opportunistic) / requireTLS",
     reply_end::not_hyphen, false, false, false, tls_mode::opportunistic, true, true, false,
     "/[ -]STARTTLS\\b/i anywhere in the reply",
     nullptr, true,
     [](lines_t l) {
       return first_line(l, 0, [](std::string_view x) {
         for (std::size_t i = 0; i + 9 <= x.size(); ++i) {
           if ((x[i] != ' ' && x[i] != '-') || !ieq(x.substr(i + 1, 8), "STARTTLS")) continue;
           if (i + 9 == x.size()) return true;
           unsigned char n = static_cast<unsigned char>(x[i + 9]);
           if (!(std::isalnum(n) || n == '_')) return true;
         }
         return false;
       });
     }},

    // lettre 0.11 src/transport/smtp/response.rs + extension.rs: the nom parser wants CRLF
    // and one code for all lines; each line's first word matched case-sensitively.
    {"lettre", "lettre", "lettre (Rust)", "0.11", "src/transport/smtp/response.rs, extension.rs",
     "Tls::Opportunistic / Tls::Required", reply_end::not_hyphen, true, false, false, tls_mode::opportunistic,
     true, false, false, "first word equals STARTTLS, case-sensitive",
     [](lines_t l) -> const char* {
       int code = code_of(l.front());
       for (const auto& x : l) {
         if (!coded(x) || (x.size() > 3 && x[3] != ' ' && x[3] != '-')) return "a line does not parse as ddd followed by space or '-'";
         if (code_of(x) != code) return "the code changes between lines";
       }
       return nullptr;
     },
     false,
     [](lines_t l) { return first_line(l, 0, [](std::string_view x) { return token(after_code(x), " ") == "STARTTLS"; }); }},

    // PHPMailer 6.6 src/SMTP.php: get_lines() reads with fgets() in pieces of 511 octets
    // and stops at a piece shorter than four octets or whose fourth octet is a space, CR or
    // LF; parseHelloFields() skips the first line, trims each other line and takes its
    // first word as an array key (case-sensitive). SMTPSecure = 'tls' sends STARTTLS
    // whether it was offered or not.
    {"phpmailer", "PHPMailer", "PHPMailer", "6.6", "src/SMTP.php", "SMTPAutoTLS = true (default) / SMTPSecure = 'tls'",
     reply_end::short_or_space, false, false, false, tls_mode::opportunistic, false, true, true,
     "first word of the trimmed line, case-sensitive", nullptr, true,
     [](lines_t l) { return first_line(l, 1, [](std::string_view x) { return token(trim(after_code(x)), " ") == "STARTTLS"; }); },
     511, true, true},

    // Ruby net-smtp 0.3 (Ruby 3.1) lib/net/smtp.rb Response#capabilities: nothing unless the first line
    // is "ddd-"; later lines split at white space, names compared case-sensitively.
    {"ruby-net-smtp", "Ruby", "Ruby Net::SMTP", "0.3", "lib/net/smtp.rb", "starttls: :auto (default) / :always",
     reply_end::not_hyphen, false, false, false, tls_mode::opportunistic, true, false, true,
     "first word (leading white space dropped), case-sensitive", nullptr, true,
     [](lines_t l) {
       if (l.front().size() < 4 || l.front()[3] != '-') return -1;
       return first_line(l, 1, [](std::string_view x) { return token(trim(after_code(x)), " \t") == "STARTTLS"; });
     }},

    // Perl libnet 3.14 Net/SMTP.pm hello(): each message line matched with
    // /([-\w]+)\b[= \t]*/ and upper-cased; Net::Cmd fails the command on a line without
    // a code, and hello() then tries HELO.
    {"perl-net-smtp", "Perl", "Perl Net::SMTP", "3.14", "Net/SMTP.pm, Net/Cmd.pm", "starttls() when supports('STARTTLS')",
     reply_end::not_hyphen, false, false, false, tls_mode::opportunistic, true, false, false,
     "first run of word characters and '-' in the line, case-insensitive",
     [](lines_t l) { return reject_if_line(l, [](std::string_view x) { return !coded(x); }, "a line has no reply code"); },
     true,
     [](lines_t l) {
       return first_line(l, 0, [](std::string_view x) {
         std::string_view t = after_code(x);
         std::size_t b = 0;
         while (b < t.size() && !(std::isalnum(static_cast<unsigned char>(t[b])) || t[b] == '_' || t[b] == '-')) ++b;
         std::size_t e = b;
         while (e < t.size() && (std::isalnum(static_cast<unsigned char>(t[e])) || t[e] == '_' || t[e] == '-')) ++e;
         return ieq(t.substr(b, e - b), "STARTTLS");
       });
     }},
}};

// The lines this client reads as the EHLO reply, and what is left after them.
struct client_view {
  std::vector<std::string> reply;     // its reply's lines
  std::vector<std::string> leftover;  // lines after its reply's end
  bool ended = false;                 // it found the end of its reply
  bool lf_only = false;               // it waits for CRLF and the reply has bare LF lines
};

bool ends_reply(const client_model& m, std::string_view x, int first_code, bool first) {
  switch (m.end) {
    case reply_end::space_or_bare_code: return coded(x) && (x.size() == 3 || x[3] == ' ');
    case reply_end::space_tab_or_bare_code: return coded(x) && (x.size() == 3 || x[3] == ' ' || x[3] == '\t');
    case reply_end::not_hyphen: return x.size() < 4 || x[3] != '-';
    case reply_end::space_only: return coded(x) && x.size() >= 4 && x[3] == ' ';
    case reply_end::coded_not_hyphen: return coded(x) && (x.size() < 4 || x[3] != '-');
    case reply_end::short_or_space: return x.size() < 4 || x[3] == ' ';
    case reply_end::same_code_space:
      if (first) return x.size() >= 4 && x[3] == ' ';
      return x.size() >= 4 && coded(x) && code_of(x) == first_code && x[3] == ' ';
  }
  return true;
}

client_view read_as(const client_model& m, std::span<const sent_line> sent) {
  // Lines as this client splits them: a bare CR ends a line only for some clients.
  std::vector<std::pair<std::string, line_ending>> lines;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    if (!lines.empty() && lines.back().second == line_ending::cr && !m.cr_ends_line) {
      lines.back().first += '\r';
      lines.back().first += sent[i].text;
      lines.back().second = sent[i].ending;
    } else {
      lines.emplace_back(std::string(sent[i].text), sent[i].ending);
    }
  }
  client_view v;
  int first_code = lines.empty() ? -1 : code_of(lines.front().first);
  std::size_t i = 0;
  for (; i < lines.size(); ++i) {
    const auto& [text, ending] = lines[i];
    if (ending == line_ending::none) break;  // the line never ends
    if (m.needs_crlf && ending == line_ending::lf) {
      v.lf_only = true;
      break;
    }
    if (m.end == reply_end::coded_not_hyphen && !coded(text)) continue;  // skipped silently
    std::size_t ending_octets = ending == line_ending::crlf ? 2 : 1;
    if (m.read_chunk > 0 && text.size() + ending_octets > m.read_chunk) {
      // Read in pieces: the end rule sees each piece, and may end the reply inside a line.
      std::string full = text + (ending == line_ending::crlf ? "\r\n" : ending == line_ending::lf ? "\n" : "\r");
      std::size_t pos = 0;
      while (pos < full.size() && !v.ended) {
        std::string_view piece = std::string_view(full).substr(pos, m.read_chunk);
        pos += piece.size();
        while (!piece.empty() && (piece.back() == '\n' || piece.back() == '\r')) piece.remove_suffix(1);
        if (ends_reply(m, piece, first_code, v.reply.empty())) v.ended = true;
      }
      v.reply.push_back(text.substr(0, std::min(pos, text.size())));
      if (v.ended) {
        if (pos < text.size()) v.leftover.push_back(text.substr(pos));
        ++i;
        break;
      }
      continue;
    }
    v.reply.push_back(text);
    if (ends_reply(m, text, first_code, v.reply.size() == 1)) {
      v.ended = true;
      ++i;
      break;
    }
  }
  for (; v.ended && i < lines.size(); ++i) v.leftover.push_back(lines[i].first);
  return v;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 40)) out += (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) ? '?' : c;
  return out + (s.size() > 40 ? "...\"" : "\"");
}

}  // namespace

std::span<const client_model> client_models() { return models; }

const client_model* find_client_model(std::string_view id) {
  for (const auto& m : models)
    if (m.id == id) return &m;
  return nullptr;
}

std::vector<sent_line> sent_lines(const server_turn& turn) {
  std::vector<sent_line> out;
  for (const auto& r : turn.replies)
    for (const auto& l : r.lines) out.push_back({r.text(l), turn.raw ? l.ending : line_ending::crlf});
  return out;
}

client_prediction predict(const client_model& m, std::span<const sent_line> sent) {
  client_prediction p;
  p.id = m.id;
  p.name = m.name;
  p.short_name = m.short_name;
  p.opportunistic = m.mode != tls_mode::off_by_default;
  p.version = m.version;
  if (sent.empty()) {
    p.outcome = p.outcome_required = tls_outcome::hang;
    p.reason = prediction_reason::no_reply;
    p.why = "no reply to EHLO";
    return p;
  }
  client_view v = read_as(m, sent);
  if (!v.ended) {
    p.outcome = p.outcome_required = tls_outcome::hang;
    p.reason = v.lf_only ? prediction_reason::waits_for_crlf : prediction_reason::waits_for_end;
    p.why = v.lf_only ? "waits for CRLF; the reply ends its lines with bare LF"
                      : "waits for the line that ends the reply by its rule";
    return p;
  }

  // Lines after its reply's end answer its next command.
  std::string desync;
  if (!v.leftover.empty()) {
    int c = code_of(v.leftover.front());
    if (m.leftover_fatal)
      desync = "data after the reply's last line ends the session";
    else if (m.mode == tls_mode::always_try)
      desync = fmt::format("does not check the STARTTLS reply; the handshake meets the leftover line {}", quote(v.leftover.front()));
    else if (m.any_2xx_starts_tls && c >= 200 && c < 300)
      desync = fmt::format("takes the leftover line {} as the go-ahead for TLS while the server still speaks plaintext; the handshake fails",
                           quote(v.leftover.front()));
    else
      desync = fmt::format("reads the leftover line {} as the reply to its next command; the dialogue falls out of step",
                           quote(v.leftover.front()));
  }

  const char* rejected = m.rejects ? m.rejects(v.reply) : nullptr;
  bool helo = m.helo_fallback;
  bool not_250 = false;
  if (!rejected && m.mode != tls_mode::always_try && code_of(v.reply.front()) != 250) {
    rejected = "the reply to EHLO is not 250";
    helo = m.helo_on_refusal;
    not_250 = true;
  }
  if (rejected) {
    p.sees_starttls = false;
    p.outcome_required = tls_outcome::fail;
    if (m.leftover_fatal && !v.leftover.empty()) {
      p.outcome = tls_outcome::fail;
      p.reason = prediction_reason::leftover_fatal;
      p.why = desync;
    } else if (helo && !v.leftover.empty()) {
      p.reason = prediction_reason::leftover_desync;
      p.outcome = tls_outcome::fail;
      p.why = fmt::format("rejects the EHLO reply ({}), falls back to HELO, and {}", rejected, desync);
    } else if (helo) {
      p.outcome = tls_outcome::plaintext;
      if (m.required_sends_after_helo) p.outcome_required = tls_outcome::tls;
      p.reason = not_250 ? prediction_reason::ehlo_not_250 : prediction_reason::rejects_reply_helo;
      p.why = fmt::format("rejects the EHLO reply ({}) and goes on without extensions, so without STARTTLS", rejected);
    } else {
      p.outcome = tls_outcome::fail;
      p.reason = not_250 ? prediction_reason::ehlo_not_250 : prediction_reason::rejects_reply;
      p.why = fmt::format("rejects the EHLO reply: {}", rejected);
    }
    return p;
  }

  int found = m.find_starttls(v.reply);
  p.sees_starttls = found >= 0;

  std::string seen_why;
  prediction_reason seen_reason = prediction_reason::sees_starttls;
  if (p.sees_starttls) {
    seen_why = fmt::format("finds STARTTLS in line {} of the reply ({})", found + 1, m.match_rule);
  } else {
    int on = -1;
    for (std::size_t i = 0; i < v.reply.size() && on < 0; ++i)
      if (mentions_starttls(v.reply[i])) on = static_cast<int>(i);
    bool in_leftover = std::any_of(v.leftover.begin(), v.leftover.end(), [](const std::string& s) { return mentions_starttls(s); });
    if (on == 0 && m.skips_greeting) {
      seen_why = "first line is taken as the greeting, so STARTTLS on it is not an extension";
      seen_reason = prediction_reason::starttls_on_greeting;
    } else if (on >= 0) {
      seen_why = fmt::format("does not match {} ({})", quote(v.reply[static_cast<std::size_t>(on)]), m.match_rule);
      seen_reason = prediction_reason::keyword_not_matched;
    } else if (in_leftover) {
      seen_why = "STARTTLS stands after the line that ends the reply for it";
      seen_reason = prediction_reason::starttls_after_end;
    } else {
      seen_why = "STARTTLS is not offered";
      seen_reason = prediction_reason::not_offered;
    }
  }

  auto decide = [&](bool attempt, tls_outcome& out, std::string& why, prediction_reason& reason) {
    bool harmless = (attempt && m.discards_leftover) || (!attempt && m.probe);
    if (!v.leftover.empty() && !harmless) {
      out = tls_outcome::fail;
      why = desync;
      reason = m.leftover_fatal ? prediction_reason::leftover_fatal : prediction_reason::leftover_desync;
    } else {
      out = attempt ? tls_outcome::tls : tls_outcome::plaintext;
      why = seen_why;
      reason = seen_reason;
    }
  };
  std::string why_default, why_required;
  prediction_reason reason_default = seen_reason, reason_required = seen_reason;
  bool attempt = m.mode == tls_mode::always_try || (m.mode == tls_mode::opportunistic && p.sees_starttls);
  decide(attempt, p.outcome, why_default, reason_default);
  if (m.mode == tls_mode::off_by_default && v.leftover.empty()) {
    why_default = fmt::format("uses no TLS unless configured ({}); {}", m.tls_setting, seen_why);
    reason_default = prediction_reason::tls_off_by_default;
  }

  bool attempt_required = p.sees_starttls || m.mode == tls_mode::always_try || m.required_sends_anyway;
  if (!attempt_required) {
    p.outcome_required = tls_outcome::fail;
  } else {
    decide(true, p.outcome_required, why_required, reason_required);
  }
  p.why = why_default;
  p.reason = reason_default;
  if (p.outcome == tls_outcome::plaintext && p.outcome_required == tls_outcome::fail && v.leftover.empty()) {
    p.why = seen_why;
    p.reason = seen_reason;
  }
  return p;
}

std::vector<client_prediction> predict_all(const server_turn& turn) {
  std::vector<sent_line> lines = sent_lines(turn);
  std::vector<client_prediction> out;
  out.reserve(models.size());
  for (const auto& m : models) out.push_back(predict(m, lines));
  return out;
}

}  // namespace mxtls
