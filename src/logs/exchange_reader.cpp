// Microsoft Exchange Server's transport logs (exchange_reader.hpp).
//
// Sources (no Exchange runs here; every form below is taken from these, and the test logs are
// built from them: tests/unit/logs/exchange/README.md):
//   [PL] Microsoft, "Protocol logging" (Exchange Server 2016/2019),
//        https://learn.microsoft.com/en-us/exchange/mail-flow/connectors/protocol-logging:
//        the header (#Software, #Version, #Log-Type "SMTP Send Protocol Log", #Date, #Fields),
//        the fields date-time, connector-id, session-id (one per SMTP session),
//        sequence-number, local-endpoint, remote-endpoint (IP:port), event ("+" connect, "-"
//        disconnect, ">" send, "<" receive, "*" information), data, context.
//   [MT] Microsoft, "Message tracking",
//        https://learn.microsoft.com/en-us/exchange/mail-flow/transport-logs/message-tracking:
//        #Log-Type "Message Tracking Log"; the fields (server-ip, server-hostname "of the
//        destination server", connector-id, source "SMTP", event-id SEND "sent by SMTP", FAIL,
//        DEFER "delivery was delayed", internal-message-id, message-id, recipient-address and
//        recipient-status, each ";"-separated in the same order, e.g. "550 4.4.7
//        QUEUE.Expired;<ErrorText>").
//   [KB] Microsoft KB 4495258, "TLS negotiation failed with error NoCredentials error if
//        messages to external domains are deferred" (learn.microsoft.com, Exchange
//        troubleshooting): a send connector's verbose protocol log, "*,,Sending certificate",
//        "*,CN=…,Certificate subject", …, "*,,TLS negotiation failed with error NoCredentials".
//   [QA] Microsoft Q&A 1054876, https://learn.microsoft.com/en-us/answers/questions/1054876/
//        (an Exchange 2016 SMTP Send Protocol Log quoted whole): "<,220 … ESMTP Postfix",
//        ">,EHLO …", "<,250 … SIZE 1000000 HELP ENHANCEDSTATUSCODES OK" (a multi-line reply on
//        one line), "*,,sending message with RecordId N and InternetMessageId <…>", ">,MAIL
//        FROM:<> SIZE=…", ">,RCPT TO:<…>", ">,DATA", "<,354 …", "<,250 ok …", ">,QUIT",
//        "-,,Remote".
//   [CASE] a published Exchange 2013 SMTP Send log excerpt (case 17388217, 2019, an AD trust
//        write-up): "*,,\"TLS protocol SP_PROT_TLS1_0_CLIENT negotiation succeeded using bulk
//        encryption algorithm CALG_AES_256 with strength 256 bits, MAC hash algorithm …\"",
//        "*,,Received certificate", "*,THUMBPRINT,Certificate thumbprint", and the EHLO reply
//        one line per entry ("<,250-SIZE,", …, "<,250 XSHADOW,").
//   The SMTP commands and replies in data are RFC 5321's, STARTTLS RFC 3207's (220 to go on,
//   454 refused; "250-STARTTLS" offered).
//
// Send protocol log: lines joined by session-id from "+" to "-"; replies matched to commands
// in order. A message ("MAIL FROM" to the reply after its data) is one attempt per recipient:
// delivered when its final reply is 2xx (tls after "negotiation succeeded", plaintext after
// STARTTLS was refused, or without STARTTLS); a refused recipient or final reply is a failure.
// A session that sends no message but had STARTTLS refused or its TLS negotiation fail is
// one attempt failed for that reason; one whose greeting was 4xx/5xx failed (greeting-refused).
//
// Message tracking log: rows of source SMTP with event SEND (delivered; the log never says
// whether over TLS: class unknown), FAIL or DEFER (failed), one attempt per recipient, to
// server-hostname [server-ip]. A row whose message-id a send protocol session of the same run
// named (InternetMessageId) is the same delivery: read, not counted again.
#include "logs/exchange_reader.hpp"

#include <algorithm>

namespace mxtls::logs::exchange {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == (y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y);
         });
}
bool istarts(std::string_view s, std::string_view p) { return s.size() >= p.size() && iequals(s.substr(0, p.size()), p); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

int reply_code(std::string_view d) {
  if (d.size() < 3 || d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9') return 0;
  return (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
}

// "2022-10-19T08:44:33.159Z" (ISO 8601, UTC).
std::optional<log_time> iso_time(std::string_view s) {
  auto two = [&](std::size_t at) {
    if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return -1;
    return (s[at] - '0') * 10 + (s[at + 1] - '0');
  };
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  int y1 = two(0), y2 = two(2), mo = two(5), d = two(8), h = two(11), mi = two(14), sec = two(17);
  if (y1 < 0 || y2 < 0 || mo < 1 || d < 1 || h < 0 || mi < 0 || sec < 0) return std::nullopt;
  return log_time{{.year = y1 * 100 + y2, .month = mo, .day = d, .hour = h, .minute = mi, .second = sec}, true};
}

std::string domain_of(std::string_view addr) {
  std::size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string() : lower(addr.substr(at + 1));
}

// "RCPT TO:<a@b> NOTIFY=…" -> "a@b"
std::string path_of(std::string_view cmd) {
  std::size_t lt = cmd.find('<'), gt = cmd.find('>');
  if (lt == std::string_view::npos || gt == std::string_view::npos || gt < lt) return {};
  return std::string(cmd.substr(lt + 1, gt - lt - 1));
}

// "TLS protocol SP_PROT_TLS1_2_CLIENT negotiation succeeded using bulk encryption algorithm
// CALG_AES_256 …" -> "TLSv1.2 CALG_AES_256"
std::string tls_words(std::string_view c) {
  std::string_view p = c.substr(13);
  p = p.substr(0, p.find(' '));
  std::string version(p);
  static constexpr std::pair<std::string_view, std::string_view> names[] = {
      {"TLS1_3", "TLSv1.3"}, {"TLS1_2", "TLSv1.2"}, {"TLS1_1", "TLSv1.1"}, {"TLS1_0", "TLSv1"}, {"SSL3", "SSLv3"}};
  for (auto [k, v] : names)
    if (p.find(k) != std::string_view::npos) version = std::string(v);
  std::string_view alg;
  if (std::size_t at = c.find("bulk encryption algorithm "); at != std::string_view::npos) {
    alg = c.substr(at + 26);
    alg = alg.substr(0, alg.find(' '));
  }
  return alg.empty() ? version : version + " " + std::string(alg);
}

}  // namespace

bool looks_like_exchange(std::string_view line) {
  return istarts(line, "#Software: Microsoft Exchange Server") || istarts(line, "#Log-Type: SMTP Send Protocol Log") ||
         istarts(line, "#Log-Type: Message Tracking Log");
}

bool split_csv(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::string cur;
  bool quoted = false, started = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') cur += '"', ++i;
        else quoted = false;
      } else {
        cur += c;
      }
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
      started = false;
    } else if (c == '"' && !started && cur.empty()) {
      quoted = started = true;
    } else {
      cur += c;
      started = true;
    }
  }
  out.push_back(std::move(cur));
  return !quoted;
}

void reader::keep(session& s, const evidence_line& ev, bool always) {
  if (always ? s.lines.size() < 12 : s.lines.size() < 6) s.lines.push_back(ev);
}

void reader::end_message(session& s, const log_time& t, std::vector<attempt_facts>& out) {
  bool ok = reply_code(s.msg.final_reply) / 100 == 2;
  auto add = [&](const std::string& rcpt, bool delivered) {
    attempt_facts a;
    a.key = {domain_of(rcpt), "", s.remote};
    a.time = t;
    if (!s.msg.id.empty()) a.messages.push_back(distinct_count::hash_of(s.msg.id));
    a.delivered = delivered;
    a.lines = s.lines;
    if (!delivered) {
      a.cls = attempt_class::other_failure, a.reason = result_type::other;
    } else if (s.tls) {
      a.cls = attempt_class::tls, a.tls = s.tls_text;
    } else if (s.tls_failure != result_type::none) {
      a.cls = attempt_class::plaintext_after_tls_failure, a.reason = s.tls_failure;
    } else {
      a.cls = attempt_class::plaintext;
    }
    out.push_back(std::move(a));
  };
  for (const auto& r : s.msg.rcpts) add(r, ok);
  for (const auto& [r, why] : s.msg.refused) add(r, false);
  if (!s.msg.id.empty()) {
    if (sent_ids_.size() >= max_open_) sent_ids_.clear();
    sent_ids_.insert(s.msg.id);
  }
  s.msg = message{};
  s.in_message = false;
  // The session's next message has its own recipients and replies as evidence.
  s.lines.erase(std::remove_if(s.lines.begin(), s.lines.end(),
                               [](const evidence_line& l) { return l.text.find(",>,RCPT TO:") != std::string::npos; }),
                s.lines.end());
}

void reader::end_session(session& s, const log_time& t, std::vector<attempt_facts>& out) {
  std::size_t before = out.size();
  if (s.in_message) end_message(s, t, out);
  if (out.size() != before) return;
  attempt_facts a;
  a.key = {"", "", s.remote};
  a.time = s.first;
  a.lines = s.lines;
  if (s.tls_failure != result_type::none && !s.tls) {
    a.cls = attempt_class::tls_failed, a.reason = s.tls_failure;
    out.push_back(std::move(a));
  } else if (!s.greeting_refused.empty()) {
    a.cls = attempt_class::other_failure, a.reason = result_type::greeting_refused;
    out.push_back(std::move(a));
  }
}

line_kind reader::protocol_line(const file_state& f, const std::vector<std::string>& v, const evidence_line& ev,
                                std::vector<attempt_facts>& out) {
  auto get = [&](const char* name) -> std::string_view {
    auto it = f.at.find(name);
    return it == f.at.end() || it->second >= v.size() ? std::string_view{} : std::string_view(v[it->second]);
  };
  std::string_view id = get("session-id"), event = get("event"), data = get("data"), context = get("context");
  auto t = iso_time(get("date-time"));
  if (id.empty() || !t) return line_kind::not_understood;
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) {
    if (sessions_.size() >= max_open_) {
      dropped_ += sessions_.size();
      sessions_.clear();
    }
    it = sessions_.emplace(std::string(id), session{}).first;
    it->second.first = *t;
  }
  session& s = it->second;
  if (s.remote.empty()) s.remote = std::string(get("remote-endpoint"));
  if (event == "+") {
    s.connected = true;
    s.pending.push_back("greeting");
    return line_kind::other;
  }
  if (event == "-") {
    end_session(s, *t, out);
    sessions_.erase(it);
    return out.empty() ? line_kind::other : line_kind::attempt;
  }
  if (event == "*") {
    std::string_view c = context.empty() ? data : context;
    if (istarts(c, "TLS protocol ") && c.find(" negotiation succeeded") != std::string_view::npos) {
      s.tls = true;
      s.tls_text = tls_words(c);
      keep(s, ev, true);
      return line_kind::tls;
    }
    if (istarts(c, "TLS negotiation failed with error")) {
      s.tls_failure = result_type::handshake_failure;
      keep(s, ev, true);
      return line_kind::tls;
    }
    if (istarts(c, "sending message with RecordId ")) {
      std::size_t at = c.find("InternetMessageId ");
      if (at != std::string_view::npos) s.msg.id = std::string(c.substr(at + 18));
      return line_kind::other;
    }
    if (c == "Sending certificate" || c == "Received certificate" || c == "Remote certificate") return line_kind::tls;
    return line_kind::other;
  }
  if (event == ">") {
    std::string cmd;
    if (istarts(data, "EHLO") || istarts(data, "HELO")) cmd = "EHLO";
    else if (iequals(data, "STARTTLS")) cmd = "STARTTLS", s.starttls_sent = true, keep(s, ev, true);
    else if (istarts(data, "MAIL FROM:")) {
      std::string mid = std::move(s.msg.id);
      s.msg = message{};
      s.msg.id = std::move(mid);
      s.in_message = true;
      cmd = "MAIL";
    } else if (istarts(data, "RCPT TO:")) cmd = "RCPT " + path_of(data), keep(s, ev, false);
    else if (iequals(data, "DATA")) cmd = "DATA";
    else if (istarts(data, "BDAT ")) cmd = data.find("LAST") != std::string_view::npos ? "END" : "BDAT";
    else cmd = "OTHER";
    bool tls_command = cmd == "STARTTLS";
    if (s.pending.size() < 64) s.pending.push_back(std::move(cmd));
    return tls_command ? line_kind::tls : line_kind::other;
  }
  if (event == "<") {
    int code = reply_code(data);
    bool final_line = data.size() == 3 || (data.size() > 3 && data[3] != '-');
    std::string_view front = s.pending.empty() ? std::string_view{} : std::string_view(s.pending.front());
    if (front == "EHLO") {
      // Offered when a line of the reply (one per entry, or the whole reply on one) names it.
      std::string_view rest = data.size() > 4 ? data.substr(4) : std::string_view{};
      if (istarts(rest, "STARTTLS") || data.find(" STARTTLS") != std::string_view::npos) s.offered = true;
      if (!final_line) return line_kind::other;
      s.pending.pop_front();
      if (!s.offered && !s.tls) keep(s, ev, false);  // the evidence that STARTTLS was not offered
      return line_kind::tls;  // the reply says whether STARTTLS is offered
    }
    if (!final_line || code == 0) return line_kind::other;
    if (s.pending.empty()) return line_kind::other;
    std::string cmd = std::move(s.pending.front());
    s.pending.pop_front();
    if (cmd == "greeting") {
      if (code / 100 != 2) s.greeting_refused = std::string(data), keep(s, ev, true);
      return line_kind::other;
    }
    if (cmd == "STARTTLS") {
      keep(s, ev, true);
      if (code != 220) s.tls_failure = result_type::starttls_refused;
      return line_kind::tls;
    }
    if (cmd.starts_with("RCPT ")) {
      if (code / 100 == 2) s.msg.rcpts.push_back(cmd.substr(5));
      else s.msg.refused.emplace_back(cmd.substr(5), std::string(data)), keep(s, ev, true);
      return line_kind::other;
    }
    if (cmd == "DATA" && code == 354) {
      s.pending.push_front("END");
      return line_kind::other;
    }
    if (cmd == "DATA" || cmd == "END" || (cmd == "MAIL" && code / 100 != 2)) {
      if (!s.in_message) return line_kind::other;
      s.msg.final_reply = std::string(data);
      keep(s, ev, true);
      std::size_t before = out.size();
      end_message(s, *t, out);
      return out.size() == before ? line_kind::other : line_kind::attempt;
    }
    return line_kind::other;
  }
  return line_kind::other;  // event empty: "attempting to connect", "Set Session Permissions" ([QA])
}

line_kind reader::tracking_line(const file_state& f, const std::vector<std::string>& v, const evidence_line& ev,
                                std::vector<attempt_facts>& out) {
  auto get = [&](const char* name) -> std::string_view {
    auto it = f.at.find(name);
    return it == f.at.end() || it->second >= v.size() ? std::string_view{} : std::string_view(v[it->second]);
  };
  tracking_seen_ = true;
  auto t = iso_time(get("date-time"));
  std::string_view event = get("event-id");
  if (!t || event.empty()) return line_kind::not_understood;
  if (get("source") != "SMTP" || !(event == "SEND" || event == "FAIL" || event == "DEFER")) return line_kind::other;
  std::string_view mid = get("message-id");
  if (!mid.empty() && sent_ids_.count(std::string(mid))) return line_kind::other;  // the protocol log's session has it
  std::vector<std::string> rcpts, statuses;
  auto split = [](std::string_view s, std::vector<std::string>& to) {
    while (!s.empty()) {
      std::size_t semi = s.find(';');
      to.emplace_back(s.substr(0, semi));
      if (semi == std::string_view::npos) break;
      s.remove_prefix(semi + 1);
    }
  };
  split(get("recipient-address"), rcpts);
  std::string_view status = get("recipient-status");
  // A status holds ';' itself ("550 4.4.7 QUEUE.Expired;<ErrorText>"): one recipient, one status.
  if (rcpts.size() <= 1) statuses.emplace_back(status);
  else split(status, statuses);
  if (rcpts.empty()) return line_kind::not_understood;
  for (std::size_t i = 0; i < rcpts.size(); ++i) {
    attempt_facts a;
    a.key = {domain_of(rcpts[i]), lower(get("server-hostname")), std::string(get("server-ip"))};
    a.time = *t;
    if (!mid.empty()) a.messages.push_back(distinct_count::hash_of(mid));
    a.lines.push_back(ev);
    std::string_view st = i < statuses.size() ? std::string_view(statuses[i]) : std::string_view{};
    if (event == "SEND") {
      a.delivered = true;
      a.cls = attempt_class::unknown;  // [MT]: no field says whether the SMTP session used TLS
    } else if (st.find("TLS negotiation failed") != std::string_view::npos) {
      a.cls = attempt_class::tls_failed, a.reason = result_type::handshake_failure;  // [KB]'s words
    } else {
      a.cls = attempt_class::other_failure, a.reason = result_type::other;
    }
    out.push_back(std::move(a));
  }
  return line_kind::attempt;
}

line_kind reader::line(std::string_view text, std::size_t file, const evidence_line& ev, std::vector<attempt_facts>& out) {
  file_state& f = files_[file];
  if (text.starts_with("#")) {
    if (istarts(text, "#Log-Type: ")) {
      std::string_view type = text.substr(11);
      f.k = istarts(type, "SMTP Send Protocol Log") ? kind::send_protocol
            : istarts(type, "Message Tracking Log") ? kind::tracking
                                                      : kind::other;
    } else if (istarts(text, "#Fields: ")) {
      split_csv(text.substr(9), f.fields);
      f.at.clear();
      for (std::size_t i = 0; i < f.fields.size(); ++i) f.at[lower(f.fields[i])] = i;
      if (f.k == kind::unknown) {
        // A file without #Log-Type: its fields say which log it is.
        if (f.at.count("session-id") && f.at.count("event")) f.k = kind::send_protocol;
        else if (f.at.count("event-id") && f.at.count("recipient-address")) f.k = kind::tracking;
      }
    }
    return line_kind::header;
  }
  if (f.fields.empty() || f.k == kind::unknown) return line_kind::not_understood;
  if (f.k == kind::other) return line_kind::other;  // SMTP Receive Protocol Log and others: not outbound
  if (!split_csv(text, parts_)) return line_kind::not_understood;
  return f.k == kind::send_protocol ? protocol_line(f, parts_, ev, out) : tracking_line(f, parts_, ev, out);
}

}  // namespace mxtls::logs::exchange
