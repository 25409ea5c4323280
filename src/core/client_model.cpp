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
    case prediction_reason::ehlo_not_modelled: return "ehlo-not-modelled";
  }
  return "?";
}

const char* to_string(tls_outcome o) {
  switch (o) {
    case tls_outcome::tls: return "tls";
    case tls_outcome::plaintext: return "plaintext";
    case tls_outcome::fail: return "fail";
    case tls_outcome::hang: return "hang";
    case tls_outcome::unknown: return "unknown";
  }
  return "?";
}

namespace {

using lines_t = std::span<const std::string>;

// --- Small pieces the rules share ------------------------------------------------------

constexpr std::string_view keyword = "STARTTLS";

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool coded(std::string_view l) { return l.size() >= 3 && digit(l[0]) && digit(l[1]) && digit(l[2]); }
int code_of(std::string_view l) { return coded(l) ? (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0') : -1; }
std::string_view after_code(std::string_view l) { return l.size() > 4 ? l.substr(4) : std::string_view{}; }
bool separator_in(std::string_view l, std::string_view seps) { return l.size() >= 4 && seps.find(l[3]) != std::string_view::npos; }

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return upper(x) == upper(y); });
}

// Text up to the first octet of `stops`.
std::string_view token(std::string_view s, std::string_view stops) { return s.substr(0, std::min(s.find_first_of(stops), s.size())); }

std::string_view trim(std::string_view s, std::string_view ws = " \t\r\n") {
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool keyword_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// "space, tab or '='"
std::string octets_in_words(std::string_view octets) {
  std::string out;
  for (std::size_t i = 0; i < octets.size(); ++i) {
    if (i > 0) out += i + 1 == octets.size() ? " or " : ", ";
    char c = octets[i];
    out += c == ' '    ? std::string("space")
           : c == '\t' ? std::string("tab")
           : c == '\v' ? std::string("VT")
           : c == '\f' ? std::string("FF")
                       : fmt::format("'{}'", c);
  }
  return out;
}

// --- Keyword rules ------------------------------------------------------------------------

bool is_keyword(const keyword_match& k, std::string_view word) { return k.case_sensitive ? word == keyword : ieq(word, keyword); }

std::string_view text_of(const keyword_match& k, std::string_view line, int first_code) {
  switch (k.text) {
    case keyword_text::after_code: return after_code(line);
    case keyword_text::after_code_trimmed: {
      std::string_view t = after_code(line);
      t.remove_prefix(std::min(t.find_first_not_of(k.skips_leading), t.size()));
      return trim(t, k.trims);
    }
    case keyword_text::whole_line: return line;
    case keyword_text::after_code_or_raw_line:
      return code_of(line) == first_code && separator_in(line, " -") ? line.substr(4) : line;
  }
  return line;
}

bool cut_matches(const keyword_match& k, std::string_view text) {
  switch (k.cut) {
    case keyword_cut::word: return is_keyword(k, token(text, k.stops));
    case keyword_cut::whole: return is_keyword(k, text);
    case keyword_cut::prefix: return is_keyword(k, text.substr(0, std::min(text.size(), keyword.size())));
    case keyword_cut::keyword_chars: {
      std::size_t n = 0;
      while (n < text.size() && keyword_char(text[n])) ++n;
      return is_keyword(k, text.substr(0, n));
    }
    case keyword_cut::first_word_chars: {
      std::size_t b = 0;
      while (b < text.size() && !(word_char(text[b]) || text[b] == '-')) ++b;
      std::size_t e = b;
      while (e < text.size() && (word_char(text[e]) || text[e] == '-')) ++e;
      return is_keyword(k, text.substr(b, e - b));
    }
    case keyword_cut::anywhere:
      for (std::size_t i = 0; i + keyword.size() <= text.size(); ++i)
        if (is_keyword(k, text.substr(i, keyword.size()))) return true;
      return false;
    case keyword_cut::after_space_or_hyphen:
      for (std::size_t i = 0; i + 1 + keyword.size() <= text.size(); ++i) {
        if ((text[i] != ' ' && text[i] != '-') || !is_keyword(k, text.substr(i + 1, keyword.size()))) continue;
        std::size_t next = i + 1 + keyword.size();
        if (next == text.size() || !word_char(text[next])) return true;  // \b
      }
      return false;
  }
  return false;
}

}  // namespace

bool has_form(line_form f, std::string_view l) {
  switch (f) {
    case line_form::any: return true;
    case line_form::has_code: return coded(l);
    case line_form::code_space_hyphen_or_end: return coded(l) && (l.size() == 3 || separator_in(l, " -"));
    case line_form::code_space_hyphen_tab_or_end: return coded(l) && (l.size() == 3 || separator_in(l, " -\t"));
    case line_form::code_space_or_hyphen: return coded(l) && separator_in(l, " -");
    case line_form::code_2345_space_or_hyphen: return coded(l) && l[0] >= '2' && l[0] <= '5' && separator_in(l, " -");
    case line_form::code_250_space_or_hyphen: return code_of(l) == 250 && separator_in(l, " -");
    case line_form::space_or_hyphen_fourth: return separator_in(l, " -");
  }
  return true;
}

std::string_view describe(line_form f) {
  switch (f) {
    case line_form::any: return "any line";
    case line_form::has_code: return "^ddd";
    case line_form::code_space_hyphen_or_end: return "^ddd([ -]|$)";
    case line_form::code_space_hyphen_tab_or_end: return "^ddd([ \\t-]|$)";
    case line_form::code_space_or_hyphen: return "^ddd[ -]";
    case line_form::code_2345_space_or_hyphen: return "^[2345]dd[ -]";
    case line_form::code_250_space_or_hyphen: return "^250[ -]";
    case line_form::space_or_hyphen_fourth: return "^...[ -]";
  }
  return "?";
}

int find_keyword(const keyword_match& k, lines_t lines) {
  if (lines.empty()) return -1;
  if (k.only_if_first_line_continues && !separator_in(lines.front(), "-")) return -1;
  int first_code = code_of(lines.front());
  bool host_name_seen = false;
  // Nothing after the reply's first octet 0 is searched: its line ends there, and no later
  // line is seen.
  std::size_t searched = lines.size();
  if (k.nul_ends_search)
    for (std::size_t i = 0; i < lines.size() && searched == lines.size(); ++i)
      if (lines[i].find('\0') != std::string::npos) searched = i + 1;
  std::string censored;
  for (std::size_t i = k.lines == keyword_lines::after_greeting ? 1 : 0; i < searched; ++i) {
    std::string_view line = lines[i];
    if (k.nul_ends_search) line = line.substr(0, std::min(line.find('\0'), line.size()));
    if (k.unprintable_as_question_mark) {
      censored.assign(line);
      for (char& c : censored)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
      line = censored;
    }
    if (!has_form(k.form, line)) continue;
    std::string_view text = text_of(k, line, first_code);
    if (k.lines == keyword_lines::after_host_name) {
      if (text.empty()) continue;  // empty lines do not count
      if (!host_name_seen) {
        host_name_seen = true;
        continue;
      }
    }
    if (cut_matches(k, text)) return static_cast<int>(i);
  }
  return -1;
}

std::string describe(const keyword_match& k) {
  std::string_view text = "the text after the code";
  switch (k.text) {
    case keyword_text::after_code: break;
    case keyword_text::after_code_trimmed: text = "the trimmed text after the code"; break;
    case keyword_text::whole_line: text = "the line"; break;
    case keyword_text::after_code_or_raw_line:
      text = "the text after the code (the whole line if it is not ^ddd[ -] with the first line's code)";
      break;
  }
  std::string s;
  switch (k.cut) {
    case keyword_cut::word: s = fmt::format("first word of {}, cut at {}", text, octets_in_words(k.stops)); break;
    case keyword_cut::whole: s = fmt::format("{} equals STARTTLS", text); break;
    case keyword_cut::prefix: s = fmt::format("{} starts with STARTTLS", text); break;
    case keyword_cut::keyword_chars: s = fmt::format("leading letters, digits and '-' of {}", text); break;
    case keyword_cut::first_word_chars: s = fmt::format("first run of letters, digits, '_' and '-' in {}", text); break;
    case keyword_cut::anywhere: s = fmt::format("STARTTLS anywhere in {}", text); break;
    case keyword_cut::after_space_or_hyphen: s = fmt::format("/[ -]STARTTLS\\b/ anywhere in {}", text); break;
  }
  s += k.case_sensitive ? ", case-sensitive" : ", case-insensitive";
  switch (k.lines) {
    case keyword_lines::every_line: s += ", on every line"; break;
    case keyword_lines::after_greeting: s += ", on every line but the first"; break;
    case keyword_lines::after_host_name: s += ", on the lines after the first non-empty one"; break;
  }
  if (k.form != line_form::any) s += fmt::format(", only lines matching {}", describe(k.form));
  if (k.only_if_first_line_continues) s += ", only when the first line is ^ddd-";
  return s;
}

keyword_match::operator std::string() const { return describe(*this); }

std::string rejection(const reply_checks& c, lines_t lines) {
  if (lines.empty()) return {};
  if (c.max_lines > 0 && lines.size() > c.max_lines) return fmt::format("more than {} lines", c.max_lines);
  for (const auto& l : lines)
    if (c.max_line_octets > 0 && l.size() > c.max_line_octets) return fmt::format("a line is longer than {} octets", c.max_line_octets);
  if (c.max_reply_octets > 0) {
    std::size_t stored = 0;
    for (const auto& l : lines) stored += l.size() + 1;
    if (stored > c.max_reply_octets)
      return fmt::format("the reply is longer than {} octets (its lines, one octet for each line ending)", c.max_reply_octets);
  }
  for (const auto& l : lines)
    if (!has_form(c.every_line, l)) return fmt::format("a line does not match {}", describe(c.every_line));
  if (!has_form(c.first_line, lines.front())) return fmt::format("the first line does not match {}", describe(c.first_line));
  int first = code_of(lines.front());
  if (c.same_code)
    for (const auto& l : lines)
      if (code_of(l) != first) return "the code changes between lines";
  if (c.first_code_250 && first != 250) return "the first line's code is not 250";
  if (c.last_code_250 && code_of(lines.back()) != 250) return "the reply's last code is not 250, so no extension counts";
  return {};
}

namespace {

// --- The models: one entry per client ---------------------------------------------------
//
// Each entry names the version and source file it follows. `match_rule` is the client's
// keyword match; `rejects` lists what makes it give up the EHLO reply. Fields left out
// keep the defaults of client_model (include/mxtls/client_model.hpp).

// PHP's trim() without a character list: " \t\n\r\0\x0B".
constexpr std::string_view php_trim{" \t\n\r\0\v", 6};
// Ruby's white space for String#split(' ') and #strip's leading side: " \t\n\v\f\r".
constexpr std::string_view ruby_space = " \t\n\v\f\r";

constexpr std::array<client_model, 22> models{{
    // Cisco AsyncOS mail_logs: "Info: DCID n STARTTLS command not supported." (the seed
    // tech note). Closed source: the greeting rule is documented by Cisco; keyword
    // matching is assumed to follow Postfix's (first word, case-insensitive).
    {.id = "cisco-esa",
     .short_name = "Cisco ESA",
     .name = "Cisco ESA (AsyncOS)",
     .version = "AsyncOS 14-15",
     .source = "Cisco tech note (docs/seed), closed source; keyword match assumed to be Postfix's",
     .tls_setting = "Destination Controls TLS: Preferred / Required",
     .end = reply_end::space_or_bare_code,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_greeting, .text = keyword_text::after_code, .stops = " \t="},
     .rejects = {},
     .helo_fallback = true},

    // Postfix 3.7 src/smtp/smtp_proto.c smtp_helo(): the first non-empty line is the server
    // name; each later line's first word (leading white space skipped, split at space, tab
    // or '=') is compared with strcasecmp. smtp_chat.c: a reply ends at "ddd" followed by
    // white space or nothing; malformed lines are skipped and reading goes on; a line cut
    // at 2048 octets spoils the extensions. (Checked against Postfix 3.7 delivering through
    // a relayhost.) smtp_chat_resp() runs printable(STR(session->buffer), '?') on each line
    // as it arrives (util/printable.c: every octet that is not printable ASCII, TAB included,
    // becomes '?', UTF-8 sequences aside), and appends it to the reply with vstring_strcat(),
    // so a line is a C string that ends at its first octet 0. Observed with Debian 12's
    // Postfix 3.7: STARTTLS with a TAB before or after it is not seen (it reads
    // "?STARTTLS", "STARTTLS?"); "STARTTLS" followed by an octet 0 is.
    {.id = "postfix",
     .short_name = "Postfix",
     .name = "Postfix smtp(8)",
     .version = "3.7",
     .source = "src/smtp/smtp_proto.c, src/smtp/smtp_chat.c, src/util/printable.c",
     .tls_setting = "smtp_tls_security_level = may / encrypt",
     .end = reply_end::space_tab_or_bare_code,
     .nul_ends_line = true,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_host_name,
                    .form = line_form::code_space_hyphen_tab_or_end,
                    .text = keyword_text::after_code_trimmed,
                    .stops = " \t=",
                    .unprintable_as_question_mark = true},
     .rejects = {.max_line_octets = 2048},
     .helo_fallback = true},

    // posttls-finger (Postfix 3.7) src/posttls-finger/posttls-finger.c: unlike smtp(8) it
    // examines line 0 too, and a malformed line or one over 2048 octets makes it ignore the
    // extensions. A probe: it sends no mail. response() turns octets that are neither
    // printable nor white space into '?' (TAB stays, so it is white space for it) and joins
    // the lines with vstring_strcat(): each line ends at its first octet 0 (observed:
    // "STARTTLS" followed by an octet 0 is seen). After the code and '-' it skips
    // `while (ISSPACE(*cp))`, C white space with VT and FF, and main() takes each line's first
    // word with mystrtok(&words, " \t="): STARTTLS after a VT or FF is seen, STARTTLS followed
    // by one is not (observed).
    {.id = "posttls-finger",
     .short_name = "posttls-finger",
     .name = "posttls-finger",
     .version = "3.7",
     .source = "src/posttls-finger/posttls-finger.c",
     .tls_setting = "-l may / -l encrypt",
     .end = reply_end::space_or_bare_code,
     .nul_ends_line = true,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line,
                    .text = keyword_text::after_code_trimmed,
                    .stops = " \t=",
                    .skips_leading = " \t\n\v\f\r"},
     .rejects = {.max_line_octets = 2048, .every_line = line_form::code_space_hyphen_or_end},
     .helo_fallback = true,
     .probe = true},

    // Exim 4.96 src/src/transports/smtp.c: regex "\n250[\s\-]STARTTLS(\s|\n|$)" over the
    // reply, so the first line never matches; case-sensitive. smtp_read_response(): each
    // line must be ddd followed by '-', SP or its end. Observed with Debian 12's
    // exim4-daemon-light 4.96 (tests/integration/client_matrix_test.cpp): a line that breaks
    // that rule, or a reply too long for the response buffer, is "Malformed SMTP reply in
    // response to EHLO" and the message is deferred (no HELO); the longest reply accepted is
    // 4092 octets counted as its lines without their endings plus one octet each (4095 octets
    // as sent in three CRLF lines, 4103 in eleven). read_response_line() copies every octet
    // up to LF, an octet 0 too, and smtp_read_response() joins the lines in one buffer, but
    // ehlo_response() matches the regex over Ustrlen(buf) octets: the search ends at the
    // reply's first octet 0 (observed: "STARTTLS" followed by an octet 0 is seen, on a middle
    // line and on the last). The regex's \s is PCRE2's white space: space, HT, LF, VT, FF
    // and CR (VT since PCRE 8.34, https://www.pcre.org/original/changelog.txt), so STARTTLS
    // followed by VT or FF matches (observed, on a middle line and on the last).
    {.id = "exim",
     .short_name = "Exim",
     .name = "Exim",
     .version = "4.96",
     .source = "src/src/transports/smtp.c, src/src/smtp_out.c",
     .tls_setting = "smtp transport defaults (TLS when offered) / hosts_require_tls = *",
     .end = reply_end::space_or_bare_code,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_greeting,
                    .form = line_form::code_250_space_or_hyphen,
                    .text = keyword_text::after_code,
                    .stops = " \t\v\f",
                    .case_sensitive = true,
                    .nul_ends_search = true},
     .rejects = {.max_reply_octets = 4092, .every_line = line_form::code_space_hyphen_or_end},
     .helo_fallback = false},

    // Sendmail 8.17 sendmail/usersmtp.c. reply(): each line comes from sfgets() (libsm/fget.c
    // sm_io_fgets, up to LF) and is then handled as a C string; a line that is not
    // ISSMTPREPLY (sendmail.h: three digits, then SP, '-' or the end) is skipped ("ignore
    // improperly formatted input") and does not count as the first line; the reply ends at a
    // kept line whose fourth octet is not '-'. helo_options(): "if (firstline) return"; the
    // text after the code is cut at the first space or '=' (strpbrk) and compared with
    // strcasecmp. Run in the client matrix (Debian 12's sendmail-bin 8.17.1.9,
    // tests/integration/sendmail-instance): an underscore- or tab-separated line is skipped
    // (STARTTLS after "250_PIPELINING" is seen), "STARTTLS" followed by an octet 0 matches,
    // and when lines left over after an early final line answer MAIL it goes on one reply
    // behind and waits at DATA until its timeout. Default: STARTTLS when offered; a failed
    // handshake defers the message (the tls_server ruleset, arg1=SOFTWARE). Required: the
    // access map's TLS_Srv: entry (ENCR:bits or VERIFY; cf/README "STARTTLS").
    {.id = "sendmail",
     .short_name = "Sendmail",
     .name = "Sendmail",
     .version = "8.17",
     .source = "sendmail/usersmtp.c, sendmail/sendmail.h, libsm/fget.c",
     .tls_setting = "defaults (STARTTLS when offered) / access map TLS_Srv:host ENCR:112",
     .end = reply_end::space_or_bare_code,
     .nul_ends_line = true,
     .skips_unless = line_form::code_space_hyphen_or_end,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_greeting, .text = keyword_text::after_code, .stops = " ="},
     .rejects = {},
     .helo_fallback = true,
     .leftover_waits = true},

    // OpenSMTPD 6.8.0p2 (Debian 12; tag v6.8.0p2) usr.sbin/smtpd/mta_session.c: strcmp(msg,
    // "STARTTLS") on every line, msg being the text after the code; only '-' continues a
    // reply; data left after the reply drops the session ("Remote host sent too much data").
    // iobuf.c iobuf_getline() ends the line at LF and makes it a C string, so an octet NUL ends
    // what strcmp sees; util.c parse_smtp_response() refuses a line of LINE_MAX (2048)
    // octets or more, one shorter than 3, and a code outside 2xx-5xx ("Bad response"). Later
    // releases (7.x util.c) also refuse any unprintable octet; this model is 6.8's, the one
    // run here.
    {.id = "opensmtpd",
     .short_name = "OpenSMTPD",
     .name = "OpenSMTPD",
     .version = "6.8.0p2",
     .source = "usr.sbin/smtpd/mta_session.c, usr.sbin/smtpd/util.c, usr.sbin/smtpd/iobuf.c",
     .tls_setting = "relay (tls when offered) / relay tls",
     .end = reply_end::not_hyphen,
     .nul_ends_line = true,
     .leftover_fatal = true,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line,
                    .text = keyword_text::after_code,
                    .cut = keyword_cut::whole,
                    .case_sensitive = true},
     .rejects = {.max_line_octets = 2047, .every_line = line_form::has_code},
     .helo_fallback = false},

    // CPython 3.11 Lib/smtplib.py: getreply() ends at any fourth octet other than '-' and
    // strips each line; ehlo() drops line 0 ("del resp[0]") and takes the leading
    // [A-Za-z0-9-] run of each line, lower-cased. Features count only when the reply's
    // last code is 250. Lines over 8192 octets raise.
    {.id = "python-smtplib",
     .short_name = "Python",
     .name = "Python smtplib",
     .version = "3.11",
     .source = "Lib/smtplib.py",
     .tls_setting = "starttls() when has_extn('starttls')",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_greeting,
                    .text = keyword_text::after_code_trimmed,
                    .cut = keyword_cut::keyword_chars},
     .rejects = {.max_line_octets = 8192, .last_code_250 = true},
     .helo_fallback = true},

    // Go 1.19 src/net/smtp/smtp.go ehlo(): extList[1:]; each line split at the first
    // space; Extension() upper-cases the name asked for, the stored names keep their case.
    // net/textproto ReadResponse keeps malformed or other-code lines raw and reads on.
    {.id = "go-net-smtp",
     .short_name = "Go",
     .name = "Go net/smtp",
     .version = "1.19",
     .source = "src/net/smtp/smtp.go, src/net/textproto/reader.go",
     .tls_setting = "SendMail: StartTLS when Extension(\"STARTTLS\")",
     .end = reply_end::same_code_space,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_greeting,
                    .text = keyword_text::after_code_or_raw_line,
                    .stops = " ",
                    .case_sensitive = true},
     .rejects = {.first_line = line_form::code_space_or_hyphen, .first_code_250 = true},
     .helo_fallback = true},

    // Jakarta Mail 2.0 (Debian 12: libjakarta-mail-java 2.0.0; Angus Mail since 2.1)
    // com/sun/mail/smtp/SMTPTransport.java: readServerResponse reads while the fourth octet is
    // '-'; ehlo() skips the first line; the name is the text up to the first space, upper-cased.
    // Its line reader also ends a line at a bare CR. Run in the client matrix: when lines left
    // over after an early final line answer MAIL (no STARTTLS sent), it goes on one reply
    // behind and waits at the end of the message (killed at the deadline), where other
    // clients fail on a wrong code; a leftover line answering STARTTLS fails it (not 220).
    {.id = "jakarta-mail",
     .short_name = "Jakarta Mail",
     .name = "Jakarta Mail (Angus)",
     .version = "2.0",
     .source = "com/sun/mail/smtp/SMTPTransport.java",
     .tls_setting = "mail.smtp.starttls.enable / mail.smtp.starttls.required",
     .end = reply_end::not_hyphen,
     .cr_ends_line = true,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_greeting, .text = keyword_text::after_code, .stops = " "},
     .rejects = {},
     .helo_fallback = true,
     .leftover_waits = true},

    // MailKit 4.x MailKit/Net/Smtp/SmtpStream.cs + SmtpClient.cs: strict reply reader
    // (non-digit code, bad separator or changing code raise); capabilities from every line,
    // case-insensitive, trailing white space trimmed.
    {.id = "mailkit",
     .short_name = "MailKit",
     .name = "MailKit (.NET)",
     .version = "4.3",
     .source = "MailKit/Net/Smtp/SmtpStream.cs, SmtpClient.cs",
     .tls_setting = "SecureSocketOptions.StartTlsWhenAvailable / StartTls",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line, .text = keyword_text::after_code_trimmed, .stops = " "},
     .rejects = {.every_line = line_form::code_space_hyphen_or_end, .same_code = true},
     .helo_fallback = false},

    // .NET System.Net.Mail (runtime 8) SmtpReplyReaderFactory.cs + EHelloCommand: line 0
    // skipped; extension names compared case-insensitively by prefix; the separator must be
    // space or '-'; the reader waits for CRLF. EnableSsl is its only TLS setting (required).
    {.id = "dotnet-smtpclient",
     .short_name = ".NET SmtpClient",
     .name = ".NET System.Net.Mail.SmtpClient",
     .version = "8.0",
     .source = "src/libraries/System.Net.Mail/src/System/Net/Mail/SmtpReplyReaderFactory.cs, SmtpConnection.cs",
     .tls_setting = "EnableSsl = false (default) / true",
     .end = reply_end::not_hyphen,
     .needs_crlf = true,
     .mode = tls_mode::off_by_default,
     .match_rule = {.lines = keyword_lines::after_greeting, .text = keyword_text::after_code, .cut = keyword_cut::prefix},
     .rejects = {.every_line = line_form::code_space_hyphen_or_end},
     .helo_fallback = false},

    // curl 7.88 (Debian 12) to 8.16 lib/smtp.c smtp_state_ehlo_resp(): every line whose
    // fourth octet is space or '-' is compared with memcmp(line + 4, "STARTTLS", 8):
    // a case-sensitive prefix. A reply ends at "ddd SP" or "ddd" alone.
    {.id = "curl",
     .short_name = "curl",
     .name = "curl",
     .version = "7.88-8.16",
     .source = "lib/smtp.c",
     .tls_setting = "--ssl / --ssl-reqd",
     .end = reply_end::space_or_bare_code,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line,
                    .form = line_form::space_or_hyphen_fourth,
                    .text = keyword_text::after_code,
                    .cut = keyword_cut::prefix,
                    .case_sensitive = true},
     .rejects = {},
     .helo_fallback = false},

    // curl 8.17 and later: the same prefix, compared case-insensitively.
    {.id = "curl-8.17",
     .short_name = "curl 8.17+",
     .name = "curl 8.17+",
     .version = "8.17",
     .source = "lib/smtp.c",
     .tls_setting = "--ssl / --ssl-reqd",
     .end = reply_end::space_or_bare_code,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line,
                    .form = line_form::space_or_hyphen_fourth,
                    .text = keyword_text::after_code,
                    .cut = keyword_cut::prefix},
     .rejects = {},
     .helo_fallback = false},

    // msmtp 1.8 src/smtp.c smtp_get_msg() / smtp_init(): strict reader (digits then space or
    // '-', at most 1024 octets a line and 50 lines); upper-cases each line and compares the
    // 8 octets after the code. Without "tls on" it never sends STARTTLS.
    {.id = "msmtp",
     .short_name = "msmtp",
     .name = "msmtp",
     .version = "1.8.23",
     .source = "src/smtp.c",
     .tls_setting = "tls off (default) / tls on (required)",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::off_by_default,
     .match_rule = {.lines = keyword_lines::every_line, .text = keyword_text::after_code, .cut = keyword_cut::prefix},
     .rejects = {.max_lines = 50, .max_line_octets = 1024, .every_line = line_form::code_space_or_hyphen},
     .helo_fallback = false},

    // swaks 20201014: reads until a line matching ^\d\d\d<space>; the reply's code is the
    // last line's, and anything but 250 makes it try HELO; strips four octets and looks
    // for /^STARTTLS$/: exact, case-sensitive, no trailing space.
    {.id = "swaks",
     .short_name = "swaks",
     .name = "swaks",
     .version = "20201014",
     .source = "swaks (Perl script)",
     .tls_setting = "--tls-optional / --tls",
     .end = reply_end::space_only,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line,
                    .text = keyword_text::after_code,
                    .cut = keyword_cut::whole,
                    .case_sensitive = true},
     .rejects = {.last_code_250 = true},
     .helo_fallback = true},

    // OpenSSL 3.0 apps/s_client.c (-starttls smtp): strstr(line, "STARTTLS") on every line
    // while the fourth octet is '-' through a line buffer it then drops; sends STARTTLS
    // even when it was not found and reads the reply from the socket without looking at
    // its code, so lines left over in the buffer do not matter.
    {.id = "openssl-s-client",
     .short_name = "openssl s_client",
     .name = "openssl s_client -starttls smtp",
     .version = "3.0",
     .source = "apps/s_client.c",
     .tls_setting = "(always sends STARTTLS)",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::always_try,
     .required_sends_anyway = true,
     .match_rule = {.lines = keyword_lines::every_line,
                    .text = keyword_text::whole_line,
                    .cut = keyword_cut::anywhere,
                    .case_sensitive = true},
     .rejects = {},
     .helo_fallback = false,
     .probe = true,
     .discards_leftover = true},

    // Haraka 3.3.4 outbound/hmail.js (npm; run here by the client matrix): a line not
    // matching smtp_regexp /^([2345]\d\d)([ -])#?(?:(\d\.\d\.\d)\s)?(.*)/ bounces the message;
    // set_ehlo_props() compares each line's text after the code, upper-cased, with STARTTLS as
    // a whole (a parameter or a trailing space hides it). With force_tls_hosts (TLS required)
    // send_command() refuses any command but EHLO, LHLO and STARTTLS in clear, so after a
    // refused EHLO its HELO is blocked and the message gets no verdict. Lines left over after
    // the reply answer MAIL; any 2xx goes on, so the body is sent on RCPT's reply and again on
    // the 354: delivered, or deferred when the 354 comes after the final dot (observed: 25
    // and 5 of 30 runs on a loaded machine).
    {.id = "haraka",
     .short_name = "Haraka",
     .name = "Haraka outbound",
     .version = "3.3.4",
     .source = "outbound/hmail.js",
     .tls_setting = "outbound.ini enable_tls (default on) / tls.ini [outbound] force_tls_hosts",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line, .text = keyword_text::after_code, .cut = keyword_cut::whole},
     .rejects = {.every_line = line_form::code_2345_space_or_hyphen},
     .helo_fallback = false,
     .required_refusal_stalls = true,
     .leftover_races = true},

    // nodemailer 6.9 lib/smtp-connection/index.js: /[ -]STARTTLS\b/mi over the whole reply
    // (the greeting line and names such as X-STARTTLS match too). requireTLS sends
    // STARTTLS even when it is not offered.
    {.id = "nodemailer",
     .short_name = "Nodemailer",
     .name = "Nodemailer",
     .version = "6.9",
     .source = "lib/smtp-connection/index.js",
     .tls_setting = "default (opportunistic) / requireTLS",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::opportunistic,
     .required_sends_anyway = true,
     .match_rule = {.lines = keyword_lines::every_line,
                    .text = keyword_text::whole_line,
                    .cut = keyword_cut::after_space_or_hyphen},
     .rejects = {},
     .helo_fallback = true},

    // lettre 0.11 src/transport/smtp/response.rs + extension.rs: the nom parser wants CRLF
    // and one code for all lines; each line's first word matched case-sensitively.
    {.id = "lettre",
     .short_name = "lettre",
     .name = "lettre (Rust)",
     .version = "0.11",
     .source = "src/transport/smtp/response.rs, extension.rs",
     .tls_setting = "Tls::Opportunistic / Tls::Required",
     .end = reply_end::not_hyphen,
     .needs_crlf = true,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line,
                    .text = keyword_text::after_code,
                    .stops = " ",
                    .case_sensitive = true},
     .rejects = {.every_line = line_form::code_space_hyphen_or_end, .same_code = true},
     .helo_fallback = false},

    // PHPMailer 6.6 src/SMTP.php: get_lines() reads with fgets() in pieces of 511 octets
    // and stops at a piece shorter than four octets or whose fourth octet is a space, CR or
    // LF; parseHelloFields() skips the first line, trims each other line and takes its
    // first word as an array key (case-sensitive). SMTPSecure = 'tls' sends STARTTLS
    // whether it was offered or not. PHP's trim() takes space, tab, LF, CR, NUL and VT
    // (php.net/manual/function.trim): observed, an octet 0 before or after STARTTLS is
    // trimmed away and STARTTLS is seen.
    {.id = "phpmailer",
     .short_name = "PHPMailer",
     .name = "PHPMailer",
     .version = "6.6",
     .source = "src/SMTP.php",
     .tls_setting = "SMTPAutoTLS = true (default) / SMTPSecure = 'tls'",
     .end = reply_end::short_or_space,
     .mode = tls_mode::opportunistic,
     .required_sends_anyway = true,
     .match_rule = {.lines = keyword_lines::after_greeting,
                    .text = keyword_text::after_code_trimmed,
                    .stops = " ",
                    .trims = php_trim,
                    .case_sensitive = true},
     .rejects = {},
     .helo_fallback = true,
     .read_chunk = 511,
     .required_sends_after_helo = true},

    // Ruby net-smtp 0.3 (Ruby 3.1) lib/net/smtp.rb Response#capabilities: nothing unless the
    // first line is "ddd-"; later lines split at white space, names compared case-sensitively.
    // The split is String#split(' '), awk-style: leading white space is dropped and words end
    // at any of space, HT, LF, VT, FF and CR (Ruby's String#split documentation; observed: STARTTLS
    // before or after a VT or FF is seen), not at an octet 0.
    {.id = "ruby-net-smtp",
     .short_name = "Ruby",
     .name = "Ruby Net::SMTP",
     .version = "0.3",
     .source = "lib/net/smtp.rb",
     .tls_setting = "starttls: :auto (default) / :always",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::after_greeting,
                    .text = keyword_text::after_code_trimmed,
                    .stops = " \t\v\f",
                    .trims = ruby_space,
                    .case_sensitive = true,
                    .only_if_first_line_continues = true},
     .rejects = {},
     .helo_fallback = true},

    // Perl libnet 3.14 Net/SMTP.pm hello(): each message line matched with
    // /([-\w]+)\b[= \t]*/ and upper-cased; Net::Cmd fails the command on a line without
    // a code, and hello() then tries HELO.
    {.id = "perl-net-smtp",
     .short_name = "Perl",
     .name = "Perl Net::SMTP",
     .version = "3.14",
     .source = "Net/SMTP.pm, Net/Cmd.pm",
     .tls_setting = "starttls() when supports('STARTTLS')",
     .end = reply_end::not_hyphen,
     .mode = tls_mode::opportunistic,
     .match_rule = {.lines = keyword_lines::every_line, .text = keyword_text::after_code, .cut = keyword_cut::first_word_chars},
     .rejects = {.every_line = line_form::has_code},
     .helo_fallback = true},
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
  if (m.nul_ends_line)
    for (auto& [text, ending] : lines)
      if (std::size_t nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
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
    if (!has_form(m.skips_unless, text)) continue;  // skipped silently
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

namespace {

// Lines after its reply's end answer the next command it sends.
std::string desync_why(const client_model& m, const client_view& v, std::string_view next_command) {
  if (m.leftover_fatal) return "data after the reply's last line ends the session";
  if (next_command == "STARTTLS" && m.mode == tls_mode::always_try)
    return fmt::format("sends STARTTLS without checking its reply; the handshake meets the leftover line {}",
                       quote(v.leftover.front()));
  return fmt::format("reads the leftover line {} as the reply to {}; the dialogue falls out of step",
                     quote(v.leftover.front()), next_command);
}

struct decision {
  tls_outcome outcome;
  prediction_reason reason;
  std::string why;
};

bool unprintable(char c) { return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e; }

// The reading rules that an octet of this reply met, in words: what a reason text adds to
// the keyword rule when one of them changed the text the rule saw. "" when none did.
std::string octet_rules(const client_model& m, std::span<const sent_line> sent, const client_view& v) {
  auto any_line = [](const auto& lines, auto&& text_of_line, auto&& pred) {
    return std::any_of(lines.begin(), lines.end(), [&](const auto& l) {
      std::string_view t = text_of_line(l);
      return std::any_of(t.begin(), t.end(), pred);
    });
  };
  auto sent_text = [](const sent_line& l) { return l.text; };
  auto own = [](const std::string& l) { return std::string_view(l); };
  auto is_nul = [](char c) { return c == '\0'; };
  const keyword_match& k = m.match_rule;
  std::vector<std::string> said;
  if (m.nul_ends_line && any_line(sent, sent_text, is_nul))
    said.emplace_back("it reads each line as a C string, so a line ends at its first NUL");
  if (k.nul_ends_search && any_line(v.reply, own, is_nul))
    said.emplace_back("its search of the reply stops at the reply's first NUL");
  if (k.unprintable_as_question_mark && any_line(v.reply, own, unprintable))
    said.emplace_back("it reads every octet outside printable ASCII, TAB included, as '?'");
  if (k.text == keyword_text::after_code_trimmed && !k.skips_leading.empty()) {
    auto skipped_lead = [&](const std::string& l) {
      std::string_view t = after_code(l);
      return !t.empty() && k.skips_leading.find(t.front()) != std::string_view::npos &&
             k.trims.find(t.front()) == std::string_view::npos;
    };
    if (std::any_of(v.reply.begin(), v.reply.end(), skipped_lead))
      said.emplace_back("it skips every C white-space octet after the code, VT and FF too");
  }
  if (k.text == keyword_text::after_code_trimmed) {
    constexpr std::string_view usual = " \t\r\n";
    std::string extra;
    for (char c : k.trims)
      if (usual.find(c) == std::string_view::npos) extra += c;
    // Only where such an octet stands at an end of the text the trim takes.
    auto at_an_end = [&](const std::string& l) {
      std::string_view t = after_code(l);
      return !t.empty() && (extra.find(t.front()) != std::string::npos || extra.find(t.back()) != std::string::npos);
    };
    if (!extra.empty() && std::any_of(v.reply.begin(), v.reply.end(), at_an_end)) {
      std::vector<std::string> names;
      for (char c : extra) names.push_back(c == '\0' ? "NUL" : c == '\v' ? "VT" : c == '\f' ? "FF" : fmt::format("{:#04x}", c));
      said.push_back(fmt::format("its trim also strips {}", fmt::join(names, " and ")));
    }
  }
  return fmt::format("{}", fmt::join(said, "; "));
}

// "RULE" or "RULE; NOTES", for the parentheses of a reason text.
std::string rule_with_notes(const client_model& m, const std::string& notes) {
  return notes.empty() ? describe(m.match_rule) : describe(m.match_rule) + "; " + notes;
}

}  // namespace

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
  const bool leftover = !v.leftover.empty();

  // It gives up the EHLO reply: it tries HELO (no extensions, so no STARTTLS) or fails.
  std::string rejected = rejection(m.rejects, v.reply);
  bool helo = m.helo_fallback;
  bool not_250 = false;
  if (rejected.empty() && m.mode != tls_mode::always_try && code_of(v.reply.front()) != 250) {
    rejected = "the reply to EHLO is not 250";
    helo = m.helo_on_refusal;
    not_250 = true;
  }
  if (!rejected.empty()) {
    p.sees_starttls = false;
    // A client that will not send HELO in clear when TLS is required (Haraka) stalls on a
    // refused EHLO whatever follows the reply.
    const bool stalls = m.required_refusal_stalls && not_250;
    p.outcome_required = stalls ? tls_outcome::hang : tls_outcome::fail;
    if (m.leftover_fatal && leftover) {
      p.outcome = tls_outcome::fail;
      p.reason = prediction_reason::leftover_fatal;
      p.why = desync_why(m, v, "HELO");
    } else if (helo && leftover) {
      p.outcome = tls_outcome::fail;
      p.reason = prediction_reason::leftover_desync;
      p.why = fmt::format("rejects the EHLO reply ({}), falls back to HELO, and {}", rejected, desync_why(m, v, "HELO"));
    } else if (helo) {
      p.outcome = tls_outcome::plaintext;
      if (m.required_sends_after_helo) p.outcome_required = tls_outcome::tls;
      p.reason = not_250 ? prediction_reason::ehlo_not_250 : prediction_reason::rejects_reply_helo;
      p.why = fmt::format("rejects the EHLO reply ({}) and goes on without extensions, so without STARTTLS", rejected);
      if (stalls)
        p.why += "; with TLS required it will not send HELO in clear and leaves the message without a verdict";
    } else {
      p.outcome = tls_outcome::fail;
      p.reason = not_250 ? prediction_reason::ehlo_not_250 : prediction_reason::rejects_reply;
      p.why = fmt::format("rejects the EHLO reply: {}", rejected);
    }
    return p;
  }

  // Where its keyword rule finds STARTTLS, or why it does not.
  int found = find_keyword(m.match_rule, v.reply);
  p.sees_starttls = found >= 0;
  decision seen{tls_outcome::tls, prediction_reason::sees_starttls, {}};
  const std::string notes = octet_rules(m, sent, v);
  if (p.sees_starttls) {
    seen.why = fmt::format("finds STARTTLS in line {} of the reply ({})", found + 1, rule_with_notes(m, notes));
  } else {
    int on = -1;
    for (std::size_t i = 0; i < v.reply.size() && on < 0; ++i)
      if (mentions_starttls(v.reply[i])) on = static_cast<int>(i);
    bool in_leftover = std::any_of(v.leftover.begin(), v.leftover.end(), [](const std::string& s) { return mentions_starttls(s); });
    if (on == 0 && m.match_rule.lines != keyword_lines::every_line) {
      seen.reason = prediction_reason::starttls_on_greeting;
      seen.why = "first line is taken as the greeting, so STARTTLS on it is not an extension";
    } else if (on >= 0) {
      seen.reason = prediction_reason::keyword_not_matched;
      seen.why = fmt::format("does not match {} ({})", quote(v.reply[static_cast<std::size_t>(on)]), rule_with_notes(m, notes));
    } else if (in_leftover) {
      seen.reason = prediction_reason::starttls_after_end;
      seen.why = "STARTTLS stands after the line that ends the reply for it";
    } else {
      seen.reason = prediction_reason::not_offered;
      seen.why = "STARTTLS is not offered";
    }
  }

  // With or without STARTTLS, lines left over answer its next command, unless it drops them
  // (before reading the reply to STARTTLS) or sends no mail (a probe without STARTTLS).
  auto decide = [&](bool attempt) {
    bool harmless = (attempt && m.discards_leftover) || (!attempt && m.probe);
    if (leftover && !harmless) {
      bool waits = m.leftover_waits && !attempt;
      bool races = m.leftover_races && !attempt;
      return decision{waits ? tls_outcome::hang : tls_outcome::fail,
                      m.leftover_fatal ? prediction_reason::leftover_fatal : prediction_reason::leftover_desync,
                      desync_why(m, v, attempt ? "STARTTLS" : "its next command") +
                          (waits ? ", then waits for a reply the server has already sent" : "") +
                          (races ? ", takes it as a positive reply and goes on one reply behind: the message is "
                                   "deferred, or sent twice in plaintext and delivered, depending on timing"
                                 : "")};
    }
    return decision{attempt ? tls_outcome::tls : tls_outcome::plaintext, seen.reason, seen.why};
  };
  bool attempt = m.mode == tls_mode::always_try || (m.mode == tls_mode::opportunistic && p.sees_starttls);
  decision by_default = decide(attempt);
  if (m.mode == tls_mode::off_by_default && !leftover) {
    by_default.reason = prediction_reason::tls_off_by_default;
    by_default.why = fmt::format("uses no TLS unless configured ({}); {}", m.tls_setting, seen.why);
  }
  bool attempt_required = p.sees_starttls || m.mode == tls_mode::always_try || m.required_sends_anyway;
  p.outcome_required = attempt_required ? decide(true).outcome : tls_outcome::fail;

  p.outcome = by_default.outcome;
  p.reason = by_default.reason;
  p.why = std::move(by_default.why);
  // Plaintext now, no delivery with TLS required: the keyword rule is the story.
  if (p.outcome == tls_outcome::plaintext && p.outcome_required == tls_outcome::fail && !leftover) {
    p.reason = seen.reason;
    p.why = seen.why;
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
