// Reading MTA logs into delivery attempts and per-destination counts (include/mxtls/logs.hpp).
//
// Postfix: the smtp(8) client's lines, as written with smtp_tls_loglevel = 1 by Postfix 3.7
// (the logs.postfix test, tests/integration/logs/postfix_logs_test.cpp, records them from a real instance; the forms are
// those of src/smtp/smtp_proto.c, smtp_connect.c and src/tls/tls_client.c, tls_verify.c):
//   "<Kind> TLS connection established to H[A]:P: V with cipher C (...)"  Kind: Anonymous,
//       Untrusted, Trusted, Verified
//   "certificate verification failed for H[A]:P: TEXT"
//   "server certificate verification failed for H[A]:P: num=N:TEXT"
//   "SSL_connect error to H[A]:P: N"
//   "connect to H[A]:P: TEXT"
//   "QUEUEID: to=<R>, [orig_to=<O>, ]relay=H[A]:P|none, delay=…, delays=…, dsn=D, status=S (TEXT)"
// A status line belongs to the smtp process (pid) that wrote it; the TLS lines before it from
// the same pid describe its connection. One connection serves the recipients of one queue
// id (Postfix does not reuse TLS connections unless smtp_tls_connection_reuse = yes).
//
// Cisco ESA: the delivery lines of esa_lines.hpp, joined by DCID; one attempt per delivery
// connection. Its recipient domain: a Connection Error's domain:, else the domain of the
// first recipient its "Delivery start DCID n MID m to RID [r, …]" (or Delayed/Bounced line)
// names, from that message's "MID m ICID i RID r To: <address>" line; a connection that
// starts no delivery (a TLS failure before MAIL) names none in any line: address only.
//
// Exim: the main log as Exim 4.96 writes it with its default log_selector (the logs.exim test,
// tests/integration/logs/exim_logs_test.cpp, records it from Debian 12's exim4-daemon-light
// delivering to mxtls serve; the line flags are those of the Exim specification, chapter "Log
// files": "=>" delivery, "->" another recipient of the same delivery, "==" deferred, "**"
// failed). Lines are "yyyy-mm-dd hh:mm:ss[.mmm][ ±zzzz][ [pid]] ID TEXT", joined by message id:
//   "ID => R [<O>] R=router T=transport H=host [A][:P] … X=TLS1.3:CIPHER:BITS CV=yes|no …"
//       X= present: delivered over TLS (tls_cipher, on by default); CV=yes: verified
//   "ID TLS session: (…): TEXT: delivering unencrypted to H=host [A] (not in hosts_require_tls)"
//       the handshake failed and tls_tempfail_tryclear retries in clear: the next => of the
//       message is plaintext after a TLS failure
//   "ID == R R=… T=… defer (N) H=host [A][:P]: TEXT", "ID ** R …: TEXT": TEXT says why
//       ("a TLS session is required, but the server did not offer TLS support",
//       "TLS session: (gnutls_handshake): …", "SMTP error from remote mail server after …")
//   "ID H=host [A] TLS error on connection (…): …" a TLS line about the connection, not its outcome
//   "ID Completed" the message is done: its pending facts are dropped
// Deliveries without H= (local transports) are not SMTP: counted as read, not as attempts.
//
// Sendmail: the syslog lines of its MTA (programs sm-mta, sendmail), read by
// sendmail_reader.cpp (its forms are listed there): STARTTLS=client and ruleset=tls_server
// lines joined to the to= line the same process writes next.
//
// journald (journalctl -o export, journalctl -o json): each entry is made into the syslog
// line its fields describe (journal_input.cpp, after https://systemd.io/JOURNAL_EXPORT_FORMATS/)
// and read by the Sendmail rules when its SYSLOG_IDENTIFIER (else _COMM) is Sendmail's MTA
// (sm-mta, sendmail), else by the Postfix rules; an entry that cannot be read is one line not
// understood.
//
// Each input has its own format (detected from its own first line that has one, or forced),
// so a journal and plain files, or logs of several MTAs, can be read in one run.
//
// Microsoft Exchange: the SMTP send protocol log (joined by session-id) and the message
// tracking log (rows by message-id), each file read as its own #Log-Type and #Fields header
// say; exchange_reader.cpp lists the forms and the Microsoft documents they come from.
#include <algorithm>
#include <charconv>
#include <memory>
#include <unordered_map>

#include "logs/attempt.hpp"
#include "logs/exchange_reader.hpp"
#include "logs/journal_input.hpp"
#include "logs/sendmail_reader.hpp"
#include "mxtls/logs.hpp"

namespace mxtls::logs {

const char* to_string(log_format f) {
  switch (f) {
    case log_format::unknown: return "unknown";
    case log_format::postfix: return "postfix";
    case log_format::esa: return "esa";
    case log_format::exim: return "exim";
    case log_format::sendmail: return "sendmail";
    case log_format::journal_export: return "journal-export";
    case log_format::journal_json: return "journal-json";
    case log_format::exchange: return "exchange";
  }
  return "unknown";
}

std::optional<log_format> parse_log_format(std::string_view s) {
  if (s == "postfix") return log_format::postfix;
  if (s == "esa") return log_format::esa;
  if (s == "exim") return log_format::exim;
  if (s == "sendmail") return log_format::sendmail;
  if (s == "journal-export") return log_format::journal_export;
  if (s == "journal-json") return log_format::journal_json;
  if (s == "exchange") return log_format::exchange;
  return std::nullopt;
}

const char* to_string(attempt_class c) {
  switch (c) {
    case attempt_class::tls: return "tls";
    case attempt_class::plaintext: return "plaintext";
    case attempt_class::plaintext_after_tls_failure: return "plaintext-after-tls-failure";
    case attempt_class::tls_failed: return "tls-failed";
    case attempt_class::other_failure: return "other-failure";
    case attempt_class::unknown: return "unknown";
  }
  return "unknown";
}

const char* to_string(result_type r) {
  switch (r) {
    case result_type::none: return "none";
    case result_type::starttls_not_supported: return "starttls-not-supported";
    case result_type::certificate_host_mismatch: return "certificate-host-mismatch";
    case result_type::certificate_expired: return "certificate-expired";
    case result_type::certificate_not_trusted: return "certificate-not-trusted";
    case result_type::validation_failure: return "validation-failure";
    case result_type::tlsa_invalid: return "tlsa-invalid";
    case result_type::dnssec_invalid: return "dnssec-invalid";
    case result_type::handshake_failure: return "handshake-failure";
    case result_type::starttls_refused: return "starttls-refused";
    case result_type::connection_failed: return "connection-failed";
    case result_type::greeting_refused: return "greeting-refused";
    case result_type::dns_failure: return "dns-failure";
    case result_type::other: return "other";
  }
  return "none";
}

const char* to_string(note_id n) {
  switch (n) {
    case note_id::no_tls_lines: return "no-tls-lines";
    case note_id::lines_not_understood: return "lines-not-understood";
    case note_id::destinations_dropped: return "destinations-dropped";
    case note_id::connections_dropped: return "connections-dropped";
    case note_id::lines_cut: return "lines-cut";
    case note_id::no_year: return "no-year";
    case note_id::exchange_unseen: return "exchange-unseen";
  }
  return "";
}

namespace {

// Worst first: the order of the destinations and of their samples.
int rank_of(attempt_class c) {
  switch (c) {
    case attempt_class::tls_failed: return 5;
    case attempt_class::plaintext_after_tls_failure: return 4;
    case attempt_class::plaintext: return 3;
    case attempt_class::unknown: return 2;
    case attempt_class::other_failure: return 1;
    case attempt_class::tls: return 0;
  }
  return 0;
}

constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int digits2(std::string_view s, std::size_t at) {
  if (at + 2 > s.size()) return -1;
  char a = s[at] == ' ' ? '0' : s[at], b = s[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}

// A line's header: its time and what follows it.
struct header {
  log_time time;
  std::string_view rest;  // after the timestamp and one space
};

// "Mmm dd hh:mm:ss " (syslog, RFC 3164; maillog_file pads the day with 0, syslog with a space)
std::optional<header> syslog_header(std::string_view l) {
  if (l.size() < 16 || l[3] != ' ' || l[6] != ' ' || l[9] != ':' || l[12] != ':' || l[15] != ' ') return std::nullopt;
  int m = 0;
  for (int i = 0; i < 12; ++i)
    if (l.substr(0, 3) == months[i]) m = i + 1;
  int d = digits2(l, 4), hh = digits2(l, 7), mm = digits2(l, 10), ss = digits2(l, 13);
  if (!m || d < 1 || hh < 0 || mm < 0 || ss < 0) return std::nullopt;
  return header{{{.year = 0, .month = m, .day = d, .hour = hh, .minute = mm, .second = ss}, false}, l.substr(16)};
}

// "2024-01-02T03:04:05[.frac](Z|±hh:mm) " (RFC 3339, rsyslog's high-precision form)
std::optional<header> rfc3339_header(std::string_view l) {
  if (l.size() < 20 || l[4] != '-' || l[7] != '-' || l[10] != 'T' || l[13] != ':' || l[16] != ':') return std::nullopt;
  int y1 = digits2(l, 0), y2 = digits2(l, 2), mo = digits2(l, 5), d = digits2(l, 8), hh = digits2(l, 11), mm = digits2(l, 14),
      ss = digits2(l, 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || d < 1 || hh < 0 || mm < 0 || ss < 0) return std::nullopt;
  std::size_t sp = l.find(' ', 19);
  if (sp == std::string_view::npos) return std::nullopt;
  return header{{{.year = y1 * 100 + y2, .month = mo, .day = d, .hour = hh, .minute = mm, .second = ss}, true}, l.substr(sp + 1)};
}

// Exim: "yyyy-mm-dd hh:mm:ss" then ".mmm" (log_selector +millisec), " ±zzzz" (log_timezone),
// " [pid]" (+pid), then one space.
std::optional<header> exim_header(std::string_view l) {
  if (l.size() < 21 || l[4] != '-' || l[7] != '-' || l[10] != ' ' || l[13] != ':' || l[16] != ':') return std::nullopt;
  int y1 = digits2(l, 0), y2 = digits2(l, 2), mo = digits2(l, 5), d = digits2(l, 8), hh = digits2(l, 11), mm = digits2(l, 14),
      ss = digits2(l, 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || d < 1 || hh < 0 || mm < 0 || ss < 0 || l[0] == ' ' || l[2] == ' ') return std::nullopt;
  std::size_t at = 19;
  if (at < l.size() && l[at] == '.')
    for (++at; at < l.size() && l[at] >= '0' && l[at] <= '9';) ++at;
  if (at + 6 <= l.size() && l[at] == ' ' && (l[at + 1] == '+' || l[at + 1] == '-') && digits2(l, at + 2) >= 0 &&
      digits2(l, at + 4) >= 0 && (at + 6 == l.size() || l[at + 6] == ' '))
    at += 6;
  if (at >= l.size() || l[at] != ' ') return std::nullopt;
  ++at;
  if (at < l.size() && l[at] == '[') {
    std::size_t close = l.find("] ", at);
    if (close == std::string_view::npos) return std::nullopt;
    at = close + 2;
  }
  return header{{{.year = y1 * 100 + y2, .month = mo, .day = d, .hour = hh, .minute = mm, .second = ss}, true}, l.substr(at)};
}

bool base62(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The length of an Exim message id at the start of s followed by a space (0: none): 4.96's
// "tttttt-pppppp-ss" (16) or 4.97's "tttttt-ppppppppppp-ssss" (23).
std::size_t exim_id_length(std::string_view s) {
  for (std::size_t parts : {std::size_t{6}, std::size_t{11}}) {
    std::size_t last = parts == 6 ? 2 : 4, n = 6 + 1 + parts + 1 + last;
    if (s.size() <= n || s[n] != ' ' || s[6] != '-' || s[7 + parts] != '-') continue;
    bool ok = true;
    for (std::size_t i = 0; i < n && ok; ++i)
      if (i != 6 && i != 7 + parts) ok = base62(s[i]);
    if (ok) return n;
  }
  return 0;
}

// "host program[pid]: message" → program, pid, message
struct syslog_body {
  std::string_view host;
  std::string_view program;
  std::uint64_t pid = 0;
  std::string_view message;
};
std::optional<syslog_body> split_body(std::string_view rest) {
  std::size_t sp = rest.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view tag = rest.substr(sp + 1);
  std::size_t colon = tag.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  syslog_body b;
  b.host = rest.substr(0, sp);
  b.message = tag.substr(colon + 2);
  tag = tag.substr(0, colon);
  std::size_t br = tag.find('[');
  if (br != std::string_view::npos && tag.ends_with(']')) {
    std::string_view p = tag.substr(br + 1, tag.size() - br - 2);
    std::from_chars(p.data(), p.data() + p.size(), b.pid);
    tag = tag.substr(0, br);
  }
  b.program = tag;
  return b;
}

bool is_postfix_smtp(std::string_view program) {
  // "postfix/smtp", or another syslog_name ("postfix-out/smtp"); smtp only (not lmtp, smtpd).
  return program.ends_with("/smtp") && program.starts_with("postfix");
}

// "H[A]:P" at the start of s: host, address:port; the rest after it.
struct relay {
  std::string host, address;
};
std::optional<relay> parse_relay(std::string_view& s) {
  std::size_t open = s.find('[');
  std::size_t close = s.find(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  relay r;
  r.host = std::string(s.substr(0, open));
  r.address = std::string(s.substr(open + 1, close - open - 1));
  if (r.address.find(':') != std::string::npos) r.address = "[" + r.address + "]";  // IPv6: bracketed before its port
  s.remove_prefix(close + 1);
  if (s.starts_with(":")) {
    std::size_t end = 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    r.address += std::string(s.substr(0, end));
    s.remove_prefix(end);
  }
  return r;
}

std::string bracketed(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

// Exim's "host [A]" or "host [A]:P" at the start of s (the port with +outgoing_port); the
// rest after it.
std::optional<relay> exim_host(std::string_view& s) {
  std::size_t sp = s.find(" [");
  std::size_t close = s.find(']');
  if (sp == std::string_view::npos || close == std::string_view::npos || close < sp) return std::nullopt;
  relay r;
  r.host = std::string(s.substr(0, sp));
  for (char& c : r.host)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  r.address = std::string(s.substr(sp + 2, close - sp - 2));
  if (r.address.find(':') != std::string::npos) r.address = "[" + r.address + "]";
  s.remove_prefix(close + 1);
  if (s.starts_with(":")) {
    std::size_t end = 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    r.address += std::string(s.substr(0, end));
    s.remove_prefix(end);
  }
  return r;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool contains(std::string_view s, std::string_view w) { return s.find(w) != std::string_view::npos; }

// The reason a certificate failed, from Postfix's or OpenSSL's words for it. OpenSSL's text for
// X509_V_ERR_DANE_NO_MATCH, "no matching DANE TLSA records" (Postfix 3.7 at level dane, num=65,
// observed), is RFC 8460's tlsa-invalid: none of the TLSA records matched.
result_type certificate_reason(std::string_view text) {
  if (contains(text, "TLSA")) return result_type::tlsa_invalid;
  if (contains(text, "expired")) return result_type::certificate_expired;
  if (contains(text, "mismatch") || contains(text, "name")) return result_type::certificate_host_mismatch;
  if (contains(text, "self-signed") || contains(text, "self signed") || contains(text, "issuer") || contains(text, "untrusted") ||
      contains(text, "not trusted"))
    return result_type::certificate_not_trusted;
  return result_type::validation_failure;
}

struct key_hash {
  std::size_t operator()(const destination_key& k) const {
    std::hash<std::string_view> h;
    return h(k.domain) ^ (h(k.mx_host) * 31) ^ (h(k.address) * 1000003);
  }
};


// A Postfix smtp process's connection, from its TLS lines.
struct postfix_connection {
  std::string relay_address;
  bool tls = false, verified = false;
  std::string tls_text;
  result_type tls_failure = result_type::none;
  std::string queue_id;  // the transaction whose status lines it serves
  std::vector<evidence_line> lines;
};

// An Exim message between its arrival and "Completed": what its last connection said of TLS.
struct exim_message {
  result_type tls_failure = result_type::none;  // a failed handshake retried in clear
  std::string host, address;                    // of the last "H=" line (a refused connection's == line has no H=)
  std::vector<evidence_line> lines;
};

// An ESA delivery connection.
struct esa_connection {
  std::string address, domain;
  bool tls = false, starttls_missing = false, required_failed = false, attempted = false;
  std::string tls_text;
  result_type failure = result_type::none;
  log_time opened;
  std::vector<evidence_line> lines;
  std::vector<std::uint64_t> mids;  // the messages started on it (distinct_count::hash_of the MID), up to 256
};

}  // namespace

struct log_reader::state {
  log_limits limits;
  std::optional<log_format> forced;
  log_summary sum;
  std::unordered_map<destination_key, destination_summary, key_hash> dest;
  std::unordered_map<std::uint64_t, postfix_connection> pf;
  std::unordered_map<std::uint64_t, esa_connection> esa_conns;
  std::unordered_map<std::uint64_t, std::map<std::uint64_t, std::string>> esa_rcpt_domains;  // MID -> RID -> domain
  std::unordered_map<std::string, exim_message> exim_msgs;
  std::uint64_t no_tls_line_deliveries = 0;
  // The sender of the line being read (log_sender): its syslog host, else its format.
  std::string_view line_host;
  log_format line_format = log_format::unknown;
  // Each input's year for its yearless lines (set_year), and the current line's.
  std::vector<int> input_years;
  int line_year = 0;
  // A syslog header with the input's year when it is known.
  std::optional<header> syslog_at(std::string_view l) const {
    auto h = syslog_header(l);
    if (h && line_year) {
      h->time.t.year = line_year;
      h->time.year_known = true;
    }
    return h;
  }
  sendmail::reader sm{limits.max_open_connections};

  // journald's export and JSON forms (journal_input.cpp): each entry's syslog line goes
  // through add_line again and is read by the Postfix rules below, as a plain log's is.
  struct journal_feed final : journal::sink {
    state& s;
    log_reader& reader;
    std::size_t file;
    journal_feed(state& st, log_reader& r, std::size_t f) : s(st), reader(r), file(f) {}
    void entry(const journal::entry& e) override { s.journal_entry(reader, e, file); }
    void broken(std::uint64_t line, std::string_view what) override {
      ++s.sum.lines;
      s.not_understood(what, file, line);
    }
  };
  std::map<std::size_t, std::pair<std::unique_ptr<journal_feed>, std::unique_ptr<journal::export_decoder>>> journal_inputs;
  bool in_journal = false;
  log_format journal_mta = log_format::postfix;  // whose rules read the journal entry being read

  // Each input's format (and a journal's MTAs); the last one asked for, kept at hand.
  std::map<std::size_t, input_format> in_formats;
  std::size_t cur_file = 0;
  input_format* cur = nullptr;
  input_format& input(std::size_t file) {
    if (!cur || cur_file != file) cur = &in_formats[file], cur_file = file;
    return *cur;
  }

  // Exchange's send protocol and message tracking logs (exchange_reader.cpp).
  exchange::reader ex{limits.max_open_connections};
  std::vector<exchange::attempt_facts> ex_got;
  void exchange_line(std::string_view line, std::size_t file, std::uint64_t n) {
    ex_got.clear();
    std::uint64_t dropped = ex.dropped();
    exchange::line_kind k = ex.line(line, file, evidence_line{file, n, std::string(line)}, ex_got);
    sum.connections_dropped += ex.dropped() - dropped;
    switch (k) {
      case exchange::line_kind::header: ++sum.lines_other; return;
      case exchange::line_kind::not_understood: not_understood(line, file, n); return;
      case exchange::line_kind::tls: ++sum.lines_read, ++sum.tls_lines; break;
      case exchange::line_kind::other: ++sum.lines_read, ++sum.lines_other; break;
      case exchange::line_kind::attempt: ++sum.lines_read; break;
    }
    for (auto& a : ex_got) {
      if (a.cls == attempt_class::unknown) ++no_tls_line_deliveries;  // a tracking SEND: the log cannot show TLS
      record(std::move(a));
    }
  }

  void journal_entry(log_reader& reader, const journal::entry& e, std::size_t file) {
    if (!e.has_message) {
      ++sum.lines, ++sum.lines_read, ++sum.lines_other;  // an entry without a MESSAGE says nothing of mail
      return;
    }
    std::string line = journal::syslog_line(e);
    bool sm = sendmail::is_sendmail_program(e.identifier);
    journal_mta = sm ? log_format::sendmail : log_format::postfix;
    if (sm || e.identifier.starts_with("postfix")) {
      auto& mtas = input(file).mtas;
      if (std::find(mtas.begin(), mtas.end(), journal_mta) == mtas.end()) mtas.push_back(journal_mta);
    }
    in_journal = true;
    reader.add_line(line, file, e.line);
    in_journal = false;
  }
  // True when the line is one of a journal form's (then it is taken care of).
  bool journal_line(log_reader& reader, std::string_view line, std::size_t file, std::uint64_t n) {
    input_format& in = input(file);
    if (in.format == log_format::unknown) {
      if (forced) in.format = *forced;
      else if (journal::looks_like_export(line)) in.format = log_format::journal_export;
      else if (journal::looks_like_json(line)) in.format = log_format::journal_json;
      if (sum.format == log_format::unknown) sum.format = in.format;
    }
    if (in.format == log_format::journal_export) {
      auto& in = journal_inputs[file];
      if (!in.first) {
        in.first = std::make_unique<journal_feed>(*this, reader, file);
        in.second = std::make_unique<journal::export_decoder>(*in.first, limits.max_line_octets);
      }
      in.second->add_line(line, n);
      return true;
    }
    if (in.format == log_format::journal_json) {
      if (line.empty() || line == "\r") return true;
      journal::entry e;
      std::string what;
      if (journal::parse_json(line, e, what)) {
        e.line = n;
        journal_entry(reader, e, file);
      } else {
        ++sum.lines;
        not_understood(line.substr(0, limits.max_line_octets), file, n);
      }
      return true;
    }
    return false;
  }

  void not_understood(std::string_view line, std::size_t file, std::uint64_t n) {
    ++sum.lines_not_understood;
    if (sum.not_understood_samples.size() < limits.unknown_samples)
      sum.not_understood_samples.push_back({file, n, std::string(line)});
  }

  void record(attempt&& a) {
    auto it = dest.find(a.key);
    if (it == dest.end()) {
      if (dest.size() >= limits.max_destinations) {
        ++sum.destinations_dropped;
        return;
      }
      it = dest.emplace(a.key, destination_summary{.key = a.key}).first;
    }
    destination_summary& d = it->second;
    ++d.attempts;
    if (a.delivered) ++d.delivered;
    if (a.messages.empty()) ++d.attempts_without_message;
    const log_format who_format = line_host.empty() ? line_format : log_format::unknown;
    auto same = [&](const log_sender& x) { return x.host == line_host && x.format == who_format; };
    if (std::none_of(d.senders.begin(), d.senders.end(), same)) {
      if (d.senders.size() < max_senders_per_destination) d.senders.push_back({std::string(line_host), who_format});
      else d.senders_cut = true;
    }
    // Queue ids are each host's own: the same id from two hosts is two messages.
    const std::uint64_t host_salt = line_host.empty() ? 0 : distinct_count::hash_of(line_host);
    for (std::uint64_t m : a.messages) d.messages.add(m ^ host_salt);
    ++d.classes[static_cast<std::size_t>(a.cls)];
    if (a.reason != result_type::none) ++d.reasons[static_cast<std::size_t>(a.reason)];
    if (a.cls == attempt_class::tls) {
      if (!a.tls.empty()) ++d.tls_versions[a.tls];
      if (a.verified) ++d.verified;
    }
    if (!d.first || a.time.t < d.first->t) d.first = a.time;
    if (!d.last || d.last->t < a.time.t) d.last = a.time;
    int r = rank_of(a.cls);
    // Samples: the worst attempt's lines replace better ones: the connection's first lines
    // (the cause, as a rule), then the attempt's own (its status), which always get a place.
    // (The connection's lines are copied only then.)
    if (d.samples.empty() || r > d.worst) {
      d.samples.clear();
      std::size_t own = std::min(a.lines.size(), limits.samples_per_destination);
      if (a.connection_lines)
        for (const auto& l : *a.connection_lines)
          if (d.samples.size() + own < limits.samples_per_destination) d.samples.push_back(l);
      for (auto& l : a.lines)
        if (d.samples.size() < limits.samples_per_destination) d.samples.push_back(std::move(l));
    }
    d.worst = std::max(d.worst, r);
  }

  // Postfix smtp(8) message.
  bool postfix_message(std::string_view m, std::uint64_t pid, const log_time& t, evidence_line ev) {
    static constexpr std::string_view established = " TLS connection established to ";
    static constexpr std::string_view verify_failed = "certificate verification failed for ";
    static constexpr std::string_view ssl_error = "SSL_connect error to ";
    static constexpr std::string_view connect_to = "connect to ";
    static constexpr std::string_view tlsa_error = "TLSA lookup error for ";
    static constexpr std::string_view name_error = "Name service error for name=";
    auto conn = [&]() -> postfix_connection* {
      auto it = pf.find(pid);
      if (it != pf.end()) return &it->second;
      if (pf.size() >= limits.max_open_connections) {
        ++sum.connections_dropped;
        pf.clear();
      }
      return &pf[pid];
    };
    if (std::size_t at = m.find(established); at != std::string_view::npos && at <= 10) {
      ++sum.tls_lines;
      std::string_view kind = m.substr(0, at);
      std::string_view rest = m.substr(at + established.size());
      auto r = parse_relay(rest);
      if (!r || !rest.starts_with(": ")) return false;
      rest.remove_prefix(2);
      postfix_connection& c = *conn();
      // A TLS line begins a new connection of this process.
      postfix_connection fresh;
      fresh.relay_address = r->address;
      fresh.tls = true;
      fresh.verified = kind == "Verified";
      fresh.tls_failure = c.relay_address == r->address && c.queue_id.empty() ? c.tls_failure : result_type::none;
      // The lines before it: of a failed verification of this relay, or of the lookups before
      // any connection (the DANE warnings below).
      bool before = c.relay_address.empty() && c.queue_id.empty();
      if (fresh.tls_failure != result_type::none || before) fresh.lines = std::move(c.lines);
      std::size_t with = rest.find(" with cipher ");
      if (with != std::string_view::npos) {
        std::string_view cipher = rest.substr(with + 13);
        cipher = cipher.substr(0, cipher.find(' '));
        fresh.tls_text = std::string(rest.substr(0, with)) + " " + std::string(cipher);
      }
      fresh.lines.push_back(std::move(ev));
      c = std::move(fresh);
      return true;
    }
    // tls_verify.c writes "certificate verification failed for …" for the errors it words itself
    // (self-signed, untrusted issuer, chain too long) and "server certificate verification
    // failed for …: num=N:TEXT" with OpenSSL's text for the others (hostname mismatch,
    // expired, not yet valid).
    std::string_view vm = m.starts_with("server ") ? m.substr(7) : m;
    bool vf = vm.starts_with(verify_failed), se = m.starts_with(ssl_error);
    if (vf || se) {
      ++sum.tls_lines;
      std::string_view rest = vf ? vm.substr(verify_failed.size()) : m.substr(ssl_error.size());
      auto r = parse_relay(rest);
      if (!r) return false;
      postfix_connection& c = *conn();
      if (c.relay_address != r->address || !c.queue_id.empty()) c = postfix_connection{.relay_address = r->address};
      if (rest.starts_with(": ")) rest.remove_prefix(2);
      c.tls_failure = vf ? certificate_reason(rest) : result_type::handshake_failure;
      c.lines.push_back(std::move(ev));
      return true;
    }
    // The warnings of the lookups before a connection, or instead of one (Postfix 3.7 at level
    // dane, observed; src/tls/tls_dane.c, src/smtp/smtp_tls_policy.c, smtp_addr.c):
    //   "warning: DANE TLSA lookup problem: …", "warning: TLS policy lookup for D:P/H: …",
    //   "warning: _P._tcp.H unsupported TLSA certificate usage: …" (and the other TLSA words),
    //   "warning: no MX host for D has a valid address record".
    // Kept as evidence of the attempt that follows: the status line (relay=none) or the
    // connection's TLS line.
    bool dane_warning = m.starts_with("warning: ") && (contains(m, "TLSA") || m.starts_with("warning: TLS policy lookup for "));
    if (dane_warning || m.starts_with("warning: no MX host for ")) {
      if (dane_warning) ++sum.tls_lines;
      else ++sum.lines_other;
      postfix_connection& c = *conn();
      if (!c.relay_address.empty() || !c.queue_id.empty()) c = postfix_connection{};
      if (c.lines.size() < 4) c.lines.push_back(std::move(ev));
      return true;
    }
    if (m.starts_with("warning: TLS library problem: ")) {
      ++sum.tls_lines;
      auto it = pf.find(pid);
      if (it != pf.end() && it->second.lines.size() < 4) it->second.lines.push_back(std::move(ev));
      return true;
    }
    if (m.starts_with(connect_to)) {
      std::string_view rest = m.substr(connect_to.size());
      auto r = parse_relay(rest);
      if (!r) return false;
      postfix_connection& c = *conn();
      c = postfix_connection{.relay_address = r->address};
      c.lines.push_back(std::move(ev));
      return true;
    }
    // "QUEUEID: to=<…>, …, status=…"
    std::size_t colon = m.find(": to=<");
    if (colon != std::string_view::npos && colon > 0 && colon <= 20) {
      std::string_view qid = m.substr(0, colon);
      std::string_view f = m.substr(colon + 6);
      std::size_t gt = f.find('>');
      if (gt == std::string_view::npos) return false;
      std::string_view rcpt = f.substr(0, gt);
      std::size_t relay_at = f.find(", relay=");
      std::size_t status_at = f.find(", status=");
      if (relay_at == std::string_view::npos || status_at == std::string_view::npos) return false;
      std::string_view relay_text = f.substr(relay_at + 8);
      std::string_view status = f.substr(status_at + 9);
      std::string_view status_word = status.substr(0, status.find(' '));
      std::string_view text;
      if (std::size_t p = status.find(" ("); p != std::string_view::npos) {
        text = status.substr(p + 2);
        if (text.ends_with(")")) text.remove_suffix(1);
      }
      attempt a;
      std::size_t at = rcpt.rfind('@');
      a.key.domain = at == std::string_view::npos ? std::string() : lower(rcpt.substr(at + 1));
      a.time = t;
      if (relay_text.starts_with("none")) {
        // No connection: the address is in the text ("connect to H[A]:P: …"), or the MX host
        // is, without its address ("TLSA lookup error for H:P", "… Name service error for
        // name=H type=A: …").
        std::string_view ct = text;
        if (ct.starts_with(connect_to)) {
          ct.remove_prefix(connect_to.size());
          if (auto r = parse_relay(ct)) a.key.mx_host = lower(r->host), a.key.address = r->address;
        } else if (std::size_t at = ct.find(tlsa_error); at != std::string_view::npos) {
          ct.remove_prefix(at + tlsa_error.size());
          a.key.mx_host = lower(ct.substr(0, ct.rfind(':')));
        } else if (std::size_t n = ct.find(name_error); n != std::string_view::npos) {
          ct.remove_prefix(n + name_error.size());
          std::size_t sp = ct.find(' ');
          if (sp != std::string_view::npos && (ct.substr(sp).starts_with(" type=A:") || ct.substr(sp).starts_with(" type=AAAA:")))
            a.key.mx_host = lower(ct.substr(0, sp));
        }
      } else if (auto r = parse_relay(relay_text)) {
        a.key.mx_host = lower(r->host);
        a.key.address = r->address;
      }
      postfix_connection* c = nullptr;
      if (auto it = pf.find(pid); it != pf.end() && it->second.relay_address == a.key.address &&
                                  (it->second.queue_id.empty() || it->second.queue_id == qid))
        c = &it->second;
      else if (it != pf.end())
        pf.erase(it);
      if (c) {
        c->queue_id = std::string(qid);
        a.connection_lines = &c->lines;
      }
      a.messages.push_back(distinct_count::hash_of(qid));
      a.lines.push_back(std::move(ev));
      if (status_word == "sent") {
        a.delivered = true;
        if (c && c->tls) {
          a.cls = attempt_class::tls;
          a.tls = c->tls_text;
          a.verified = c->verified;
        } else if (c && c->tls_failure != result_type::none) {
          a.cls = attempt_class::plaintext_after_tls_failure;
          a.reason = c->tls_failure;
        } else {
          a.cls = attempt_class::plaintext;
          ++no_tls_line_deliveries;
        }
      } else if (status_word == "deferred" || status_word == "bounced" || status_word == "expired") {
        // smtp_proto.c's words for a TLS requirement that was not met.
        if (contains(text, "TLS is required, but was not offered")) {
          a.cls = attempt_class::tls_failed, a.reason = result_type::starttls_not_supported;
        } else if (contains(text, "refused to start TLS")) {
          a.cls = attempt_class::tls_failed, a.reason = result_type::starttls_refused;
        } else if (contains(text, "Cannot start TLS")) {
          a.cls = attempt_class::tls_failed, a.reason = result_type::handshake_failure;
        } else if (contains(text, tlsa_error)) {
          // smtp_tls_policy.c: the TLSA query failed (SERVFAIL: a bogus answer, or a name
          // server that does not answer; Postfix's words are the same for both): RFC 8460's
          // dnssec-invalid, no valid records from the resolver.
          a.cls = attempt_class::tls_failed, a.reason = result_type::dnssec_invalid;
        } else if (contains(text, "Server certificate not") || contains(text, "certificate verification")) {
          a.cls = attempt_class::tls_failed;
          a.reason = c && c->tls_failure != result_type::none ? c->tls_failure : result_type::validation_failure;
        } else if (text.starts_with(connect_to)) {
          a.cls = attempt_class::other_failure, a.reason = result_type::connection_failed;
        } else if (contains(text, name_error) || text.starts_with("Host or domain name not found")) {
          // The MX or address lookup failed: with a validating resolver also a bogus answer,
          // which fails only the senders that validate (observed for a tampered MX and A record).
          a.cls = attempt_class::other_failure, a.reason = result_type::dns_failure;
        } else if (contains(text, "refused to talk to me")) {
          a.cls = attempt_class::other_failure, a.reason = result_type::greeting_refused;
        } else {
          a.cls = attempt_class::other_failure, a.reason = result_type::other;
        }
      } else {
        return false;
      }
      record(std::move(a));
      return true;
    }
    return false;
  }

  // Exim main log message (after the message id and its space).
  bool exim_line(std::string_view id, std::string_view m, const log_time& t, evidence_line ev) {
    auto msg = [&]() -> exim_message& {
      auto it = exim_msgs.find(std::string(id));
      if (it != exim_msgs.end()) return it->second;
      if (exim_msgs.size() >= limits.max_open_connections) {
        ++sum.connections_dropped;
        exim_msgs.clear();
      }
      return exim_msgs[std::string(id)];
    };
    auto keep = [&](exim_message& x) {
      if (x.lines.size() < limits.samples_per_destination + 2) x.lines.push_back(std::move(ev));
    };
    if (m == "Completed") {
      exim_msgs.erase(std::string(id));
      ++sum.lines_other;
      return true;
    }
    if (m.starts_with("TLS session: ") && contains(m, ": delivering unencrypted to ")) {
      ++sum.tls_lines;
      exim_message& x = msg();
      std::string_view why = m.substr(13);
      x.tls_failure = contains(why, "certificate") ? certificate_reason(why) : result_type::handshake_failure;
      keep(x);
      return true;
    }
    // Exim's DANE (hosts_try_dane, hosts_require_dane; Exim 4.96 with GnuTLS, observed): no
    // TLSA record matched the served chain. The == line that follows says
    // "TLS session: (certificate verification failed): …" (GnuTLS's words: "Verification
    // failed. The certificate differs.", "TLSA record problem: none usable"): tlsa-invalid.
    //   "ID DANE attempt failed; TLS connection to H [A]: (certificate verification failed): …"
    static constexpr std::string_view dane_failed = "DANE attempt failed; TLS connection to ";
    if (m.starts_with(dane_failed)) {
      ++sum.tls_lines;
      exim_message& x = msg();
      std::string_view h = m.substr(dane_failed.size());
      if (auto host = exim_host(h)) x.host = host->host, x.address = host->address;
      x.tls_failure = result_type::tlsa_invalid;
      keep(x);
      return true;
    }
    if (m.starts_with("H=")) {
      // About a connection: "TLS error on connection (recv): …", "a TLS session is required…",
      // "Connection refused", "DANE error: tlsa lookup DEFER"; the outcome line that follows decides.
      if (contains(m, " TLS error on connection ") || contains(m, ": DANE error: ")) ++sum.tls_lines;
      exim_message& x = msg();
      std::string_view h = m.substr(2);
      if (auto host = exim_host(h)) x.host = host->host, x.address = host->address;
      keep(x);
      return true;
    }
    bool delivered = m.starts_with("=> ") || m.starts_with("-> ") || m.starts_with(">> ");
    bool failed = m.starts_with("== ") || m.starts_with("** ");
    if (!delivered && !failed) {
      ++sum.lines_other;  // "<=" arrivals, "*>" suppressed deliveries, other notes
      return true;
    }
    std::string_view rest = m.substr(3);
    std::string_view rcpt = rest.substr(0, rest.find(' '));
    std::size_t h_at = rest.find(" H=");
    // The router's DNS lookup failed (dnslookup; "== R R=router defer (-1): host lookup did not
    // complete", observed for a bogus MX and a bogus address record with a validating
    // resolver): an attempt that made no connection, a DNS failure.
    bool dns_failed = failed && contains(rest, "): host lookup did not complete");
    if (!dns_failed && (rest.find(" T=") == std::string_view::npos || (delivered && h_at == std::string_view::npos))) {
      ++sum.lines_other;  // routing failures, local deliveries: not an SMTP attempt
      return true;
    }
    attempt a;
    std::size_t at = rcpt.rfind('@');
    a.key.domain = at == std::string_view::npos ? std::string() : lower(rcpt.substr(at + 1));
    a.time = t;
    std::string_view text;  // after the host, for failures
    auto found = exim_msgs.find(std::string(id));
    exim_message* x = found == exim_msgs.end() ? nullptr : &found->second;
    if (h_at != std::string_view::npos) {
      std::string_view h = rest.substr(h_at + 3);
      auto host = exim_host(h);
      if (!host) return false;
      a.key.mx_host = host->host;
      a.key.address = host->address;
      text = h.starts_with(": ") ? h.substr(2) : h;
    } else {
      // "defer (111): Connection refused": the host is on the message's line before.
      if (std::size_t colon = rest.find("): "); colon != std::string_view::npos) text = rest.substr(colon + 3);
      if (x && !dns_failed) a.key.mx_host = x->host, a.key.address = x->address;
    }
    if (x) a.connection_lines = &x->lines;
    a.messages.push_back(distinct_count::hash_of(id));
    a.lines.push_back(std::move(ev));
    if (delivered) {
      a.delivered = true;
      std::size_t x_at = rest.find(" X=");
      if (x_at != std::string_view::npos) {
        ++sum.tls_lines;
        // "X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256": version, cipher, bits
        std::string_view xv = rest.substr(x_at + 3);
        xv = xv.substr(0, xv.find(' '));
        std::string_view version = xv.substr(0, xv.find(':'));
        std::string_view cipher = version.size() < xv.size() ? xv.substr(version.size() + 1) : std::string_view{};
        cipher = cipher.substr(0, cipher.rfind(':'));
        std::string v(version);
        if (v.starts_with("TLS") && v.size() > 3 && v[3] != 'v') v.insert(3, "v");
        a.cls = attempt_class::tls;
        a.tls = cipher.empty() ? v : v + " " + std::string(cipher);
        a.verified = contains(rest, " CV=yes") || contains(rest, " CV=dane");
      } else if (x && x->tls_failure != result_type::none) {
        a.cls = attempt_class::plaintext_after_tls_failure;
        a.reason = x->tls_failure;
      } else {
        a.cls = attempt_class::plaintext;
        ++no_tls_line_deliveries;
      }
    } else if (dns_failed) {
      a.cls = attempt_class::other_failure, a.reason = result_type::dns_failure;
    } else if (text.starts_with("DANE error: tlsa lookup ")) {
      // src/transports/smtp.c: the TLSA query failed (DEFER: SERVFAIL, a bogus answer or a
      // name server that does not answer, observed for both): dnssec-invalid, as for Postfix.
      a.cls = attempt_class::tls_failed, a.reason = result_type::dnssec_invalid;
    } else if (x && x->tls_failure == result_type::tlsa_invalid && text.starts_with("TLS session: ")) {
      a.cls = attempt_class::tls_failed, a.reason = result_type::tlsa_invalid;
    } else if (contains(text, "a TLS session is required, but the server did not offer TLS support")) {
      a.cls = attempt_class::tls_failed, a.reason = result_type::starttls_not_supported;
    } else if (contains(text, "after STARTTLS") || contains(text, "a TLS session is required, but an attempt to start TLS failed")) {
      // The second: STARTTLS answered with 454 under hosts_require_tls (observed); a failed
      // handshake is worded "TLS session: (gnutls_handshake): …".
      a.cls = attempt_class::tls_failed, a.reason = result_type::starttls_refused;
    } else if (text.ends_with("TLS session: (certificate verification failed)")) {
      // Exim with GnuTLS (src/tls-gnutls.c verify_certificate()) gives a failed chain its words
      // ("…failed): certificate invalid", also for an expired, not yet valid or untrusted one); the
      // one check it fails without words is the name check of tls_verify_cert_hostnames. Real line,
      // Exim 4.96 (Debian 12) verifying cert-wrong-host: "… == x@… R=verify_scenario T=remote_verify
      // defer (-37) H=mx.mxtls.test [127.0.0.1]:44851: TLS session: (certificate verification failed)".
      a.cls = attempt_class::tls_failed, a.reason = result_type::certificate_host_mismatch;
    } else if (text.starts_with("TLS session: ") || contains(text, "a TLS session is required")) {
      a.cls = attempt_class::tls_failed;
      a.reason = contains(text, "certificate") ? certificate_reason(text) : result_type::handshake_failure;
    } else if (contains(text, "Connection refused") || contains(text, "Connection timed out") || contains(text, "No route to host") ||
               contains(text, "Network is unreachable")) {
      a.cls = attempt_class::other_failure, a.reason = result_type::connection_failed;
    } else if (contains(text, "after initial connection")) {
      a.cls = attempt_class::other_failure, a.reason = result_type::greeting_refused;
    } else {
      a.cls = attempt_class::other_failure, a.reason = result_type::other;
    }
    if (!delivered && x) x->tls_failure = result_type::none;  // the next attempt starts afresh
    record(std::move(a));
    return true;
  }

  // ESA delivery message (after "Info: ").
  bool esa_message(std::string_view m, const log_time& t, evidence_line ev) {
    auto parsed = esa::parse(m);
    if (!parsed) return false;
    // A message's recipients, until the message is finished (memory: messages in the queue,
    // at most max_open_connections of them, 1000 recipients each).
    if (auto* r = std::get_if<esa::message_recipient>(&*parsed)) {
      if (esa_rcpt_domains.size() >= limits.max_open_connections && !esa_rcpt_domains.count(r->mid)) {
        ++sum.connections_dropped;
        esa_rcpt_domains.clear();
      }
      auto& rids = esa_rcpt_domains[r->mid];
      std::size_t at = r->address.rfind('@');
      if (at != std::string::npos && rids.size() < 1000) rids[r->rid] = lower(std::string_view(r->address).substr(at + 1));
      ++sum.lines_other;
      return true;
    }
    if (auto* f = std::get_if<esa::message_finished>(&*parsed)) {
      esa_rcpt_domains.erase(f->mid);
      ++sum.lines_other;
      return true;
    }
    // The domain of a message's first recipient in `rids` ("0" or "0, 1"), when known.
    auto domain_of = [&](std::uint64_t mid, std::string_view rids) -> std::string {
      auto m = esa_rcpt_domains.find(mid);
      if (m == esa_rcpt_domains.end()) return {};
      std::uint64_t rid = 0;
      auto [p, ec] = std::from_chars(rids.data(), rids.data() + rids.size(), rid);
      if (ec != std::errc()) return {};
      auto d = m->second.find(rid);
      return d == m->second.end() ? std::string() : d->second;
    };
    std::uint64_t dcid = esa::dcid_of(*parsed);
    auto get = [&]() -> esa_connection& {
      if (esa_conns.size() >= limits.max_open_connections && !esa_conns.count(dcid)) {
        ++sum.connections_dropped;
        esa_conns.clear();
      }
      return esa_conns[dcid];
    };
    auto finish_attempt = [&](esa_connection& c, bool delivered, attempt_class cls, result_type why) {
      attempt a;
      a.key = {c.domain, "", c.address};
      a.time = c.opened;
      a.cls = cls;
      a.reason = why;
      a.delivered = delivered;
      a.tls = c.tls_text;
      a.connection_lines = &c.lines;
      a.messages = c.mids;
      c.attempted = true;
      record(std::move(a));
    };
    // A message the connection carries: remembered for its attempt, or counted for the
    // destination when the attempt was already recorded (the connection's second message on).
    auto carried = [&](esa_connection& c, std::uint64_t mid) {
      std::uint64_t h = distinct_count::hash_of(mid);
      if (c.attempted) {
        if (auto d = dest.find({c.domain, "", c.address}); d != dest.end()) d->second.messages.add(h);
      } else if (c.mids.size() < 256 && std::find(c.mids.begin(), c.mids.end(), h) == c.mids.end()) {
        c.mids.push_back(h);
      }
    };
    auto outcome_of = [&](const esa_connection& c) {
      if (c.tls) return std::pair{attempt_class::tls, result_type::none};
      if (c.required_failed) return std::pair{attempt_class::tls_failed, c.failure == result_type::none ? result_type::starttls_not_supported : c.failure};
      if (c.failure != result_type::none) return std::pair{attempt_class::plaintext_after_tls_failure, c.failure};
      return std::pair{attempt_class::plaintext, result_type::none};
    };
    if (auto* x = std::get_if<esa::new_connection>(&*parsed)) {
      esa_connection& c = get();
      c = esa_connection{};
      c.address = bracketed(x->address) + (x->port ? ":" + std::to_string(x->port) : std::string());
      c.opened = t;
      c.lines.push_back(std::move(ev));
      return true;
    }
    if (auto* x = std::get_if<esa::connection_error>(&*parsed)) {
      esa_connection& c = get();
      if (c.address.empty()) c.address = bracketed(x->ip) + (x->port ? ":" + std::to_string(x->port) : std::string()), c.opened = t;
      if (!x->domain.empty()) c.domain = lower(x->domain);
      c.lines.push_back(std::move(ev));
      finish_attempt(c, false, attempt_class::other_failure, result_type::connection_failed);
      esa_conns.erase(dcid);
      return true;
    }
    auto it = esa_conns.find(dcid);
    if (it == esa_conns.end()) {
      // A line of a connection opened before the log begins: counted as read, not joined.
      ++sum.lines_other;
      return true;
    }
    esa_connection& c = it->second;
    if (c.lines.size() < limits.samples_per_destination + 2) c.lines.push_back(std::move(ev));
    if (auto* x = std::get_if<esa::tls_success>(&*parsed)) {
      ++sum.tls_lines;
      c.tls = true;
      c.tls_text = x->protocol.empty() ? std::string() : x->protocol + " " + x->cipher;
    } else if (std::holds_alternative<esa::starttls_not_supported>(*parsed)) {
      ++sum.tls_lines;
      c.starttls_missing = true;
      c.failure = result_type::starttls_not_supported;
    } else if (auto* f = std::get_if<esa::tls_failed>(&*parsed)) {
      ++sum.tls_lines;
      c.failure = f->detail == "STARTTLS unexpected response" ? result_type::starttls_refused : result_type::handshake_failure;
    } else if (std::holds_alternative<esa::tls_required_failed>(*parsed)) {
      ++sum.tls_lines;
      c.required_failed = true;
    } else if (auto* ds = std::get_if<esa::delivery_start>(&*parsed)) {
      if (c.domain.empty()) c.domain = domain_of(ds->mid, ds->rids);
      carried(c, ds->mid);
    } else if (auto* done = std::get_if<esa::message_done>(&*parsed)) {
      carried(c, done->mid);
      if (!c.attempted) {
        auto [cls, why] = outcome_of(c);
        finish_attempt(c, true, cls, why);
      } else if (auto d = dest.find({c.domain, "", c.address}); d != dest.end()) {
        ++d->second.delivered;
      }
    } else if (auto* b = std::get_if<esa::delayed_or_bounced>(&*parsed)) {
      if (c.domain.empty()) c.domain = domain_of(b->mid, b->rid);
      carried(c, b->mid);
      if (!c.attempted) {
        auto [cls, why] = outcome_of(c);
        if (cls != attempt_class::tls_failed) cls = attempt_class::other_failure, why = result_type::other;
        finish_attempt(c, false, cls, why);
      }
      (void)b;
    } else if (std::holds_alternative<esa::connection_close>(*parsed)) {
      if (!c.attempted) {
        auto [cls, why] = outcome_of(c);
        // A connection that delivered nothing: a TLS failure, or nothing to say about delivery.
        if (cls == attempt_class::plaintext_after_tls_failure) cls = attempt_class::tls_failed;
        finish_attempt(c, false, cls, why);
      }
      esa_conns.erase(it);
    }
    return true;
  }
};

std::optional<log_format> detect_format(std::string_view line) {
  if (journal::looks_like_export(line)) return log_format::journal_export;
  if (journal::looks_like_json(line)) return log_format::journal_json;
  if (exchange::looks_like_exchange(line)) return log_format::exchange;
  if (line.size() > 25 && esa::parse_ctime(line.substr(0, 24)) && line.substr(24).starts_with(" Info: ")) return log_format::esa;
  if (auto e = exim_header(line); e && exim_id_length(e->rest)) return log_format::exim;
  std::optional<header> h = syslog_header(line);
  if (!h) h = rfc3339_header(line);
  if (!h) return std::nullopt;
  auto b = split_body(h->rest);
  if (!b) return std::nullopt;
  if (b->program.starts_with("postfix")) return log_format::postfix;
  if (b->message.starts_with("Info: ")) return log_format::esa;
  if (b->program == "exim" || b->program == "exim4") return log_format::exim;
  if (sendmail::is_sendmail_program(b->program)) return log_format::sendmail;
  return std::nullopt;
}

log_reader::log_reader(log_limits limits, std::optional<log_format> forced) : s_(new state{.limits = limits, .forced = forced}) {
  if (forced) {
    s_->sum.format = *forced;
    s_->sum.format_forced = true;
  }
}

log_reader::~log_reader() { delete s_; }

void log_reader::add_line(std::string_view line, std::size_t file, std::uint64_t n) {
  state& s = *s_;
  if (!s.in_journal && s.journal_line(*this, line, file, n)) return;
  ++s.sum.lines;
  if (line.size() > s.limits.max_line_octets) {
    line = line.substr(0, s.limits.max_line_octets);
    ++s.sum.lines_cut;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  s.line_host = {};
  s.line_year = file < s.input_years.size() ? s.input_years[file] : 0;
  // The rules that read the line: the journal entry's MTA's, else the input's format's; an
  // input not yet detected is read as the run's first format (other programs' lines at its
  // start are then read and not used, as they would be further down).
  log_format fmt = s.journal_mta;
  if (!s.in_journal) {
    input_format& in = s.input(file);
    if (in.format == log_format::unknown)
      if (auto f = detect_format(line)) {
        in.format = *f;
        if (s.sum.format == log_format::unknown) s.sum.format = *f;
      }
    fmt = in.format != log_format::unknown ? in.format : s.sum.format;
    if (fmt == log_format::unknown) return s.not_understood(line, file, n);
  }
  s.line_format = fmt;
  // The line as evidence, copied only for the lines a rule may keep.
  auto ev = [&] { return evidence_line{file, n, std::string(line)}; };
  if (fmt == log_format::esa) {
    // File form: "Www Mmm dd hh:mm:ss yyyy Info: …"; syslog form: "Mmm dd hh:mm:ss host prog: Info: …".
    log_time t;
    std::string_view msg;
    if (line.size() > 25 && line.substr(24).starts_with(" Info: ")) {
      auto ct = esa::parse_ctime(line.substr(0, 24));
      if (!ct) return s.not_understood(line, file, n);
      t = {*ct, true};
      msg = line.substr(31);
    } else if (auto h = s.syslog_at(line)) {
      t = h->time;
      std::size_t info = h->rest.find(": Info: ");
      if (info == std::string_view::npos) {
        ++s.sum.lines_other;
        return;
      }
      s.line_host = h->rest.substr(0, h->rest.find(' '));
      msg = h->rest.substr(info + 8);
    } else {
      // Lines of other levels ("Debug:", "Trace:", "Warning:") carry no delivery facts here.
      if (line.size() > 25 && esa::parse_ctime(line.substr(0, 24))) {
        ++s.sum.lines_other;
        return;
      }
      return s.not_understood(line, file, n);
    }
    ++s.sum.lines_read;
    bool delivery_form = msg.starts_with("New SMTP DCID") || msg.starts_with("DCID ") || msg.starts_with("Connection Error: DCID") ||
                         msg.starts_with("Delivery start DCID") || msg.starts_with("Message done DCID") ||
                         msg.starts_with("Delayed: DCID") || msg.starts_with("Bounced: DCID");
    if (!s.esa_message(msg, t, ev())) {
      if (delivery_form) s.not_understood(line, file, n);
      else ++s.sum.lines_other;
    }
    return;
  }
  if (fmt == log_format::exim) {
    // File form, or syslog's "Mmm dd hh:mm:ss host exim[pid]: " before it (syslog_timestamp:
    // Exim's own time follows unless turned off).
    std::optional<header> h = exim_header(line);
    if (!h) {
      auto sh = s.syslog_at(line);
      auto b = sh ? split_body(sh->rest) : std::nullopt;
      if (!b || !(b->program == "exim" || b->program == "exim4")) return s.not_understood(line, file, n);
      s.line_host = b->host;
      h = exim_header(b->message);
      if (!h) h = header{sh->time, b->message};
    }
    ++s.sum.lines_read;
    std::size_t id = exim_id_length(h->rest);
    if (id == 0) {
      ++s.sum.lines_other;  // queue runs, daemon start, notes about no message
      return;
    }
    std::string_view m = h->rest.substr(id + 1);
    bool outcome_form = m.starts_with("=> ") || m.starts_with("-> ") || m.starts_with("== ") || m.starts_with("** ");
    if (!s.exim_line(h->rest.substr(0, id), m, h->time, ev())) {
      if (outcome_form) s.not_understood(line, file, n);
      else ++s.sum.lines_other;
    }
    return;
  }
  if (fmt == log_format::exchange) return s.exchange_line(line, file, n);
  if (fmt == log_format::sendmail) {
    std::optional<header> h = s.syslog_at(line);
    if (!h) h = rfc3339_header(line);
    auto b = h ? split_body(h->rest) : std::nullopt;
    if (!b) return s.not_understood(line, file, n);
    ++s.sum.lines_read;
    s.line_host = b->host;
    if (!sendmail::is_sendmail_program(b->program)) {
      ++s.sum.lines_other;  // other programs, the submission program's queue runner (sm-msp-queue) among them
      return;
    }
    std::optional<sendmail::attempt_facts> got;
    std::uint64_t dropped = s.sm.dropped();
    switch (s.sm.line(b->message, b->pid, h->time, ev(), got)) {
      case sendmail::line_kind::attempt:
        if (got->cls == attempt_class::plaintext) ++s.no_tls_line_deliveries;
        s.record(std::move(*got));
        break;
      case sendmail::line_kind::tls: ++s.sum.tls_lines; break;
      case sendmail::line_kind::other: ++s.sum.lines_other; break;
      case sendmail::line_kind::not_understood: s.not_understood(line, file, n); break;
    }
    s.sum.connections_dropped += s.sm.dropped() - dropped;
    return;
  }
  // Postfix
  std::optional<header> h = s.syslog_at(line);
  if (!h) h = rfc3339_header(line);
  if (!h) return s.not_understood(line, file, n);
  auto b = split_body(h->rest);
  if (!b) return s.not_understood(line, file, n);
  ++s.sum.lines_read;
  s.line_host = b->host;
  if (!is_postfix_smtp(b->program)) {
    ++s.sum.lines_other;  // qmgr, cleanup, pickup, smtpd, other programs: not about outbound TLS
    return;
  }
  if (!s.postfix_message(b->message, b->pid, h->time, ev())) {
    // smtp lines no rule reads: warnings and others that do not describe a delivery's TLS.
    if (b->message.starts_with("warning: ") || b->message.starts_with("fatal: ")) ++s.sum.lines_other;
    else s.not_understood(line, file, n);
  }
}

void log_reader::set_year(std::size_t file, int year) {
  if (file >= (std::size_t{1} << 16)) return;
  if (s_->input_years.size() <= file) s_->input_years.resize(file + 1, 0);
  s_->input_years[file] = year;
}

void log_reader::end_input(std::size_t file) {
  if (auto it = s_->journal_inputs.find(file); it != s_->journal_inputs.end()) it->second.second->finish();
}

log_summary log_reader::finish() {
  state& s = *s_;
  for (auto& [file, in] : s.journal_inputs) in.second->finish();
  log_summary out = s.sum;
  if (!s.in_formats.empty() && s.in_formats.rbegin()->first < (std::size_t{1} << 16)) {
    out.input_formats.resize(s.in_formats.rbegin()->first + 1);
    for (const auto& [file, f] : s.in_formats) out.input_formats[file] = f;
  }
  if (!out.format_forced)
    for (const auto& f : out.input_formats)
      if (f.format != log_format::unknown) {
        out.format = f.format;  // the first input's, whichever was read first
        break;
      }
  for (auto& [k, d] : s.dest) out.destinations.push_back(d);
  // No TLS line at all: deliveries cannot be told apart (Postfix smtp_tls_loglevel = 0, or
  // an ESA log without TLS lines): "plaintext" becomes "unknown".
  if (out.tls_lines == 0 && s.no_tls_line_deliveries > 0) {
    out.notes.push_back(note_id::no_tls_lines);
    for (auto& d : out.destinations) {
      auto& p = d.classes[static_cast<std::size_t>(attempt_class::plaintext)];
      d.classes[static_cast<std::size_t>(attempt_class::unknown)] += p;
      p = 0;
      if (d.worst == rank_of(attempt_class::plaintext)) d.worst = rank_of(attempt_class::unknown);
    }
  }
  if (out.lines_not_understood) out.notes.push_back(note_id::lines_not_understood);
  if (out.destinations_dropped) out.notes.push_back(note_id::destinations_dropped);
  if (out.connections_dropped) out.notes.push_back(note_id::connections_dropped);
  if (out.lines_cut) out.notes.push_back(note_id::lines_cut);
  bool no_year = std::any_of(out.destinations.begin(), out.destinations.end(), [](const auto& d) { return d.first && !d.first->year_known; });
  if (no_year) out.notes.push_back(note_id::no_year);
  if (out.format == log_format::exchange ||
      std::any_of(out.input_formats.begin(), out.input_formats.end(), [](const auto& f) { return f.format == log_format::exchange; }))
    out.notes.push_back(note_id::exchange_unseen);
  std::stable_sort(out.destinations.begin(), out.destinations.end(), [](const destination_summary& a, const destination_summary& b) {
    if (a.worst != b.worst) return a.worst > b.worst;
    std::uint64_t la = a.attempts - a.count(attempt_class::tls), lb = b.attempts - b.count(attempt_class::tls);
    if (la != lb) return la > lb;
    return a.key < b.key;
  });
  return out;
}

bool lost_tls(const destination_summary& d) {
  return d.count(attempt_class::plaintext) || d.count(attempt_class::plaintext_after_tls_failure) ||
         d.count(attempt_class::tls_failed);
}

std::string scan_target(const destination_key& k, target_form form) {
  if (form == target_form::domain && !k.domain.empty()) return k.domain;
  if (k.address.empty()) return k.domain;
  if (k.address.front() == '[') return k.address;  // "[v6]" or "[v6]:port"
  std::size_t colon = k.address.find(':');
  if (colon == std::string::npos) return "[" + k.address + "]";
  return "[" + k.address.substr(0, colon) + "]" + k.address.substr(colon);
}

std::vector<std::string> lost_tls_targets(const log_summary& s, target_form form) {
  std::vector<std::string> out;
  for (const auto& d : s.destinations) {
    if (!lost_tls(d)) continue;
    std::string t = scan_target(d.key, form);
    if (t.empty() || std::find(out.begin(), out.end(), t) != out.end()) continue;
    out.push_back(t);
  }
  return out;
}

int logs_exit_code(const log_summary& s) {
  std::uint64_t attempts = 0;
  bool lost = false;
  for (const auto& d : s.destinations) {
    attempts += d.attempts;
    lost = lost || lost_tls(d);
  }
  if (attempts == 0) return 3;
  return lost ? 1 : 0;
}

}  // namespace mxtls::logs
