// Sendmail's delivery lines, as Sendmail 8.17 writes them via syslog(3) at its default
// LogLevel 9 (the logs.sendmail test, tests/integration/logs/sendmail_logs_test.cpp, records
// them from Debian 12's sendmail-bin delivering to mxtls serve; the forms are those of
// sendmail/deliver.c logdelivery() and starttls(), sendmail/tls.c tls_get_info(),
// sendmail/parseaddr.c rscheck() and the tls_server ruleset of cf/m4/proto.m4):
//   "STARTTLS=client, relay=R, version=V, verify=X, cipher=C, bits=A/B"
//       a handshake done with relay R; X is ${verify}: OK (the chain verified against
//       CACertFile/CACertPath), FAIL, NO, NOT, TRUSTED (DANE), DANE_FAIL
//   "STARTTLS=client, error: connect failed=N, reason=TEXT, …"  the handshake failed (no relay named)
//   "ruleset=tls_server, arg1=X, relay=R, reject=CODE DSN TEXT"  the tls_server ruleset refused
//       the connection's TLS: X is ${verify} then: NONE (no STARTTLS in the EHLO reply), TEMP
//       (STARTTLS answered 4xx), PROTOCOL (answered otherwise), SOFTWARE (the handshake
//       failed), FAIL/NO/NOT (VERIFY required, the certificate did not verify), CLEAR
//   "QID: to=RCPT[,RCPT…], [ctladdr=…, ]delay=…, xdelay=…, mailer=M, pri=N, relay=H [A],
//       dsn=D, [reply=…, ]stat=S"  one delivery attempt: S is "Sent (…)", "Deferred: …" or the
//       failure's words
// Lines are joined by process id: the TLS lines a process writes describe the connection it
// then logs a to= line for (the relay H of the to= line is the R of the TLS lines). A
// tls_server refusal defers the message, unless TLSFallbacktoClear is set: then Sendmail
// connects again without STARTTLS at once and the to= line says Sent (observed): plaintext
// after a TLS failure. A failed attempt ends its connection (its facts are dropped); one
// delivered over TLS may leave the connection open for the process's next message
// (Sendmail's connection cache), so its facts stay.
// The to= line names no port (Sendmail logs none): the destination's address is the IP alone.
// Deliveries by mailers that do not connect (relay=local, no relay) are not SMTP attempts.
#include "sendmail_reader.hpp"

#include <algorithm>

namespace mxtls::logs::sendmail {

namespace {

bool contains(std::string_view s, std::string_view w) { return s.find(w) != std::string_view::npos; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The value of ", key=" (or "key=" at the start) up to the next ", ".
std::optional<std::string_view> field(std::string_view m, std::string_view key) {
  std::string k = std::string(key) + "=";
  std::size_t at;
  if (m.starts_with(k)) at = 0;
  else if ((at = m.find(", " + k)) != std::string_view::npos) at += 2;
  else return std::nullopt;
  std::string_view v = m.substr(at + k.size());
  return v.substr(0, std::min(v.find(", "), v.size()));
}

// "QID: " at the start: Sendmail's queue ids are letters and digits.
std::string_view after_queue_id(std::string_view m) {
  std::size_t colon = m.find(": ");
  if (colon == std::string_view::npos || colon == 0 || colon > 32) return {};
  for (char c : m.substr(0, colon))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return {};
  return m.substr(colon + 2);
}

}  // namespace

bool is_sendmail_program(std::string_view program) { return program == "sm-mta" || program == "sendmail"; }

reader::connection& reader::connection_of(std::uint64_t pid, const std::string& relay) {
  auto& p = procs_[pid];
  auto it = p.by_relay.find(relay);
  if (it != p.by_relay.end()) return it->second;
  if (open_ >= max_open_) {
    ++dropped_;
    procs_.clear();
    open_ = 0;
  }
  ++open_;
  return procs_[pid].by_relay[relay];
}

line_kind reader::line(std::string_view m, std::uint64_t pid, const log_time& t, evidence_line ev,
                       std::optional<attempt_facts>& out) {
  out.reset();
  auto keep = [](std::vector<evidence_line>& lines, evidence_line&& e) {
    if (lines.size() < 6) lines.push_back(std::move(e));
  };
  if (m.starts_with("STARTTLS=client, relay=")) {
    auto relay = field(m, "relay");
    if (!relay) return line_kind::not_understood;
    // A new handshake with this relay: a new connection of the process.
    connection& c = connection_of(pid, std::string(*relay));
    c = connection{};
    c.tls = true;
    c.verify = std::string(field(m, "verify").value_or(""));
    std::string version(field(m, "version").value_or("")), cipher(field(m, "cipher").value_or(""));
    c.tls_text = cipher.empty() ? version : version + " " + cipher;
    keep(c.lines, std::move(ev));
    return line_kind::tls;
  }
  if (m.starts_with("STARTTLS=client, error: connect failed")) {
    process& p = procs_[pid];
    p.handshake_failed = true;
    keep(p.pending, std::move(ev));
    return line_kind::tls;
  }
  if (m.starts_with("STARTTLS")) return line_kind::tls;  // read errors, unsafe files, load errors: no outcome
  std::string_view body = after_queue_id(m);
  if (m.starts_with("ruleset=tls_server, ") || body.starts_with("ruleset=tls_rcpt, ")) {
    std::string_view r = m.starts_with("ruleset=") ? m : body;
    auto relay = field(r, "relay");
    if (!relay) return line_kind::tls;
    connection& c = connection_of(pid, std::string(*relay));
    process& p = procs_[pid];
    if (p.handshake_failed) {
      c.handshake_failed = true;
      for (auto& l : p.pending) keep(c.lines, std::move(l));
      p.pending.clear();
      p.handshake_failed = false;
    }
    c.refused = r.starts_with("ruleset=tls_rcpt") ? "RCPT" : std::string(field(r, "arg1").value_or(""));
    keep(c.lines, std::move(ev));
    return line_kind::tls;
  }
  if (!body.starts_with("to=")) return line_kind::other;  // from=, DSN notes, queue runs, daemon start
  auto to = field(body, "to");
  auto stat_at = body.find(", stat=");
  if (!to || stat_at == std::string_view::npos) return line_kind::not_understood;
  if (to->ends_with(" [more]")) return line_kind::other;  // a long recipient list's first part: the last part counts
  std::string_view stat = body.substr(stat_at + 7);
  std::string_view head = body.substr(0, stat_at);
  auto relay_v = field(head, "relay");
  std::string_view mailer = field(head, "mailer").value_or("");
  if (!relay_v || *relay_v == "local" || mailer == "local" || mailer == "prog" || mailer == "*file*" || mailer == "*include*")
    return line_kind::other;  // not delivered over SMTP
  // "H [A]", or "H" alone when no address was reached.
  std::string_view relay_host = relay_v->substr(0, relay_v->find(' '));
  std::string address;
  if (std::size_t open = relay_v->find(" ["); open != std::string_view::npos && relay_v->ends_with("]"))
    address = std::string(relay_v->substr(open + 2, relay_v->size() - open - 3));
  else if (relay_host.starts_with("[") && relay_host.ends_with("]"))
    address = std::string(relay_host.substr(1, relay_host.size() - 2));
  if (address.starts_with("IPv6:")) address = address.substr(5);
  if (address.find(':') != std::string::npos) address = "[" + address + "]";

  attempt_facts a;
  std::string_view first = to->substr(0, to->find(','));
  if (first.starts_with("<")) first.remove_prefix(1);
  if (first.ends_with(">")) first.remove_suffix(1);
  std::size_t at = first.rfind('@');
  a.key.domain = at == std::string_view::npos ? std::string() : lower(first.substr(at + 1));
  std::string host = lower(relay_host);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.starts_with("ipv6:")) host = host.substr(5);
  if (!host.empty() && host.back() == '.') host.pop_back();
  a.key.mx_host = host;
  a.key.address = address;
  a.time = t;
  a.messages.push_back(distinct_count::hash_of(m.substr(0, m.size() - body.size() - 2)));  // the queue id

  process& p = procs_[pid];
  connection* c = nullptr;
  if (auto it = p.by_relay.find(std::string(relay_host)); it != p.by_relay.end()) c = &it->second;
  bool handshake_failed = (c && c->handshake_failed) || p.handshake_failed;
  if (c) a.lines = c->lines;
  for (const auto& l : p.pending) a.lines.push_back(l);
  a.lines.push_back(std::move(ev));

  a.delivered = stat.starts_with("Sent");
  if (a.delivered) {
    if (c && c->tls) {
      a.cls = attempt_class::tls;
      a.tls = c->tls_text;
      a.verified = c->verify == "OK" || c->verify == "TRUSTED";
    } else if (handshake_failed || (c && !c->refused.empty())) {
      // TLSFallbacktoClear: the refused TLS connection, then one in clear that delivered.
      a.cls = attempt_class::plaintext_after_tls_failure;
      a.reason = result_type::handshake_failure;
    } else {
      a.cls = attempt_class::plaintext;
    }
  } else if (c && !c->refused.empty()) {
    a.cls = attempt_class::tls_failed;
    const std::string& v = c->refused;
    if (v == "NONE") a.reason = result_type::starttls_not_supported;
    else if (v == "TEMP" || v == "PROTOCOL") a.reason = result_type::starttls_refused;
    else if (v == "SOFTWARE") a.reason = result_type::handshake_failure;
    // VERIFY required and the chain did not verify; at LogLevel 9 the log says not why.
    else if (v == "FAIL" || v == "NO" || v == "NOT") a.reason = result_type::validation_failure;
    // sendmail/tls.c: the DANE check failed (no TLSA record matched): RFC 8460's tlsa-invalid.
    else if (v == "DANE_FAIL") a.reason = result_type::tlsa_invalid;
    else a.reason = result_type::other;
  } else if (handshake_failed) {
    a.cls = attempt_class::tls_failed, a.reason = result_type::handshake_failure;
  } else if (contains(stat, "Connection refused") || contains(stat, "Connection timed out") || contains(stat, "No route to host") ||
             contains(stat, "Network is unreachable")) {
    a.cls = attempt_class::other_failure, a.reason = result_type::connection_failed;
  } else {
    // Also a 421 greeting: Sendmail's line names no SMTP stage (the reply= text is the server's).
    a.cls = attempt_class::other_failure, a.reason = result_type::other;
  }
  // A failed attempt closed its connection, and a connection in clear has no TLS facts to
  // keep: the process's next attempt starts afresh.
  p.pending.clear();
  p.handshake_failed = false;
  if (c && !(a.delivered && c->tls)) {
    p.by_relay.erase(std::string(relay_host));
    if (open_ > 0) --open_;
  }
  out = std::move(a);
  return line_kind::attempt;
}

}  // namespace mxtls::logs::sendmail
