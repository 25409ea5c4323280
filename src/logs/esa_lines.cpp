// Cisco AsyncOS mail_logs delivery lines: one grammar for writing and reading.
//
// Sources of the forms (docs/esa-log.md has the table):
//  [UG]   Cisco AsyncOS for Email User Guide, chapter "Logging", "Examples of Text Mail Log
//         Entries" (AsyncOS 7.3 to 9.1 editions): "New SMTP DCID 5 interface 172.19.0.11
//         address 63.251.108.110", "Delivery start DCID 5 MID 4 to RID [0]", "Message done
//         DCID 5 MID 4 to RID [0]", "DCID 5 close", "Bounced: DCID 3 MID 4 to RID 0 - 5.1.0 -
//         Unknown address error ('550', [...]) []".
//  [TN212837] Cisco tech note 212837 (delay warning messages), a 2018 log:
//         "New SMTP DCID 7436 interface 10.10.1.12 address 10.10.1.25 port 25".
//  [QA]   Microsoft Q&A question 1363239 (2023), an ESA's mail_logs quoted:
//         "New SMTP DCID 30 interface 10.13.102.10 address 10.13.101.31 port 25",
//         "DCID 30 TLS success protocol TLSv1.2 cipher ECDHE-RSA-AES256-SHA384",
//         "Connection Error: DCID 63 domain: domainsample2.com IP: 10.13.101.31 port: 25
//         details: [Errno 0] Error interface: 10.10.192.50 reason: network error".
//  [SEED] Cisco tech note (German), why TLS from the ESA fails although STARTTLS is offered:
//         "Info: DCID xxxxxx STARTTLS command not supported."
//  [S2W]  IronPort Systems' spamtowho mail_logs reader (2004-2006), log lines quoted in its
//         comments: "DCID 80167 TLS failed: STARTTLS unexpected response", "DCID 8 IP
//         204.15.82.140 TLS was required but could not be successfully negotiated",
//         "Delayed: DCID: 4370 Message 10800 to 0 - 4.4.0 - Other network problem (...)",
//         "Connection Error: DCID: 263 IP: ... details: EOF interface: ... reason: network
//         error", "DCID 239490 TLS success protocol TLSv1 cipher RC4-SHA CN=...".
//  [TN118232] Cisco tech note 118232 (the message, injection connection and delivery
//         connection ids of text mail logs; .../email-security-appliance/118232-technote-esa-00.html),
//         its example of one message received and delivered:
//         "MID 6 ICID 5 RID 0 To: <mary@yourdomain.com>", then "New SMTP DCID 8 interface
//         192.168.42.42 address 10.5.3.25", "Delivery start DCID 8 MID 6 to RID [0]".
//  [UG] also, "Message Receiving" and "Messages Sent to the Spam Quarantine" examples
//         (AsyncOS 9.x user guides): "MID 200257070 ICID 282204970 RID 0 To:
//         <user@example.com>", "Message finished MID 2317877 done".
#include "mxtls/esa_lines.hpp"

#include <charconv>

#include <fmt/format.h>

namespace mxtls::esa {
namespace {

// A cursor over one message: literal words and fields in order.
struct cursor {
  std::string_view s;
  bool ok = true;

  bool lit(std::string_view w) {
    if (!ok || !s.starts_with(w)) return ok = false;
    s.remove_prefix(w.size());
    return true;
  }
  bool try_lit(std::string_view w) {
    if (!ok || !s.starts_with(w)) return false;
    s.remove_prefix(w.size());
    return true;
  }
  std::uint64_t number() {
    std::uint64_t v = 0;
    if (!ok) return 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p == s.data()) {
      ok = false;
      return 0;
    }
    s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    return v;
  }
  // Up to the next space (or the end); at least one character.
  std::string word() {
    if (!ok) return {};
    std::size_t n = s.find(' ');
    if (n == std::string_view::npos) n = s.size();
    if (n == 0) {
      ok = false;
      return {};
    }
    std::string w(s.substr(0, n));
    s.remove_prefix(n);
    return w;
  }
  // Up to the last occurrence of `until` (exclusive); the text may hold spaces.
  std::string until_last(std::string_view until) {
    if (!ok) return {};
    std::size_t n = s.rfind(until);
    if (n == std::string_view::npos) {
      ok = false;
      return {};
    }
    std::string w(s.substr(0, n));
    s.remove_prefix(n);
    return w;
  }
  // Up to the first occurrence of `until` (exclusive).
  std::string until_first(std::string_view until) {
    if (!ok) return {};
    std::size_t n = s.find(until);
    if (n == std::string_view::npos) {
      ok = false;
      return {};
    }
    std::string w(s.substr(0, n));
    s.remove_prefix(n);
    return w;
  }
  std::string rest() {
    std::string w(s);
    s = {};
    return w;
  }
  bool end() const { return ok && s.empty(); }
};

std::optional<line> parse_dcid_message(std::string_view m) {
  // "DCID n ..." forms.
  cursor c{m};
  c.lit("DCID ");
  std::uint64_t dcid = c.number();
  if (!c.ok) return std::nullopt;
  if (c.try_lit(" close") && c.end()) return connection_close{dcid};
  cursor t = c;
  // [SEED] "DCID xxxxxx STARTTLS command not supported." (the period as the note prints it;
  // read with or without it)
  if (t.try_lit(" STARTTLS command not supported")) {
    t.try_lit(".");
    if (t.end()) return starttls_not_supported{dcid};
  }
  t = c;
  // [S2W] "DCID 80167 TLS failed: STARTTLS unexpected response"
  if (t.try_lit(" TLS failed: ")) return tls_failed{dcid, t.rest()};
  t = c;
  // [QA] "DCID 30 TLS success protocol TLSv1.2 cipher ECDHE-RSA-AES256-SHA384"; [S2W] older
  // appliances add " CN=…" or write "TLS success" alone; others add " for DOMAIN".
  if (t.try_lit(" TLS success")) {
    tls_success r;
    r.dcid = dcid;
    if (t.try_lit(" protocol ")) {
      r.protocol = t.word();
      t.lit(" cipher ");
      r.cipher = t.word();
    }
    if (t.ok) return r;
    return std::nullopt;
  }
  t = c;
  // [S2W] "DCID 8 IP 204.15.82.140 TLS was required but could not be successfully negotiated"
  if (t.try_lit(" IP ")) {
    std::string ip = t.word();
    if (t.try_lit(" TLS was required but could not be successfully negotiated") && t.end()) return tls_required_failed{dcid, ip};
  }
  return std::nullopt;
}

}  // namespace

std::uint64_t dcid_of(const line& l) {
  return std::visit(
      [](const auto& x) -> std::uint64_t {
        if constexpr (requires { x.dcid; }) return x.dcid;
        else return 0;
      },
      l);
}

std::string format(const line& l) {
  struct v {
    std::string operator()(const new_connection& x) const {
      // [QA], [TN212837]: AsyncOS 4.6 and later write the port.
      if (x.port == 0) return fmt::format("New SMTP DCID {} interface {} address {}", x.dcid, x.interface, x.address);
      return fmt::format("New SMTP DCID {} interface {} address {} port {}", x.dcid, x.interface, x.address, x.port);
    }
    std::string operator()(const tls_success& x) const {
      if (x.protocol.empty()) return fmt::format("DCID {} TLS success", x.dcid);
      return fmt::format("DCID {} TLS success protocol {} cipher {}", x.dcid, x.protocol, x.cipher);
    }
    std::string operator()(const starttls_not_supported& x) const {
      return fmt::format("DCID {} STARTTLS command not supported.", x.dcid);
    }
    std::string operator()(const tls_failed& x) const { return fmt::format("DCID {} TLS failed: {}", x.dcid, x.detail); }
    std::string operator()(const tls_required_failed& x) const {
      return fmt::format("DCID {} IP {} TLS was required but could not be successfully negotiated", x.dcid, x.ip);
    }
    std::string operator()(const connection_error& x) const {
      return fmt::format("Connection Error: DCID {} domain: {} IP: {} port: {} details: {} interface: {} reason: {}", x.dcid,
                         x.domain, x.ip, x.port, x.details, x.interface, x.reason);
    }
    std::string operator()(const delivery_start& x) const {
      return fmt::format("Delivery start DCID {} MID {} to RID [{}]", x.dcid, x.mid, x.rids);
    }
    std::string operator()(const message_done& x) const {
      return fmt::format("Message done DCID {} MID {} to RID [{}]", x.dcid, x.mid, x.rids);
    }
    std::string operator()(const delayed_or_bounced& x) const {
      return fmt::format("{}: DCID {} MID {} to RID {} - {}", x.bounced ? "Bounced" : "Delayed", x.dcid, x.mid, x.rid, x.text);
    }
    std::string operator()(const connection_close& x) const { return fmt::format("DCID {} close", x.dcid); }
    std::string operator()(const message_recipient& x) const {
      return fmt::format("MID {} ICID {} RID {} To: <{}>", x.mid, x.icid, x.rid, x.address);
    }
    std::string operator()(const message_finished& x) const { return fmt::format("Message finished MID {} done", x.mid); }
  };
  return std::visit(v{}, l);
}

std::optional<line> parse(std::string_view m) {
  if (m.starts_with("DCID ")) return parse_dcid_message(m);
  cursor c{m};
  if (c.try_lit("MID ")) {
    // [TN118232], [UG] "MID 6 ICID 5 RID 0 To: <mary@yourdomain.com>" (other "MID n ..." lines
    // of a message, "From:", "Subject", "ready", are none of these forms)
    message_recipient r;
    r.mid = c.number();
    c.lit(" ICID ");
    r.icid = c.number();
    c.lit(" RID ");
    r.rid = c.number();
    c.lit(" To: <");
    r.address = c.until_first(">");
    c.lit(">");
    if (c.end()) return r;
    return std::nullopt;
  }
  if (c.try_lit("Message finished MID ")) {
    // [UG] "Message finished MID 2317877 done"
    message_finished r{c.number()};
    c.lit(" done");
    if (c.end()) return r;
    return std::nullopt;
  }
  if (c.try_lit("New SMTP DCID ")) {
    // [UG] without the port; [QA], [TN212837] with it.
    new_connection r;
    r.dcid = c.number();
    c.lit(" interface ");
    r.interface = c.word();
    c.lit(" address ");
    r.address = c.word();
    if (c.try_lit(" port ")) r.port = static_cast<unsigned>(c.number());
    if (c.end()) return r;
    return std::nullopt;
  }
  if (c.try_lit("Connection Error: DCID")) {
    // [QA] "Connection Error: DCID 63 domain: D IP: A port: 25 details: T interface: I reason: R";
    // [S2W] older: "DCID: 263 IP: A details: T interface: I reason: R" (no domain, no port).
    connection_error r;
    c.try_lit(":");
    c.lit(" ");
    r.dcid = c.number();
    if (c.try_lit(" domain: ")) r.domain = c.word();
    c.lit(" IP: ");
    r.ip = c.word();
    if (c.try_lit(" port: ")) r.port = static_cast<unsigned>(c.number());
    c.lit(" details: ");
    if (!c.ok) return std::nullopt;
    r.details = c.until_last(" interface: ");
    c.lit(" interface: ");
    r.interface = c.word();
    if (c.try_lit(" reason: ")) r.reason = c.rest();
    if (c.end()) return r;
    return std::nullopt;
  }
  bool start = false;
  if ((start = c.try_lit("Delivery start DCID ")) || c.try_lit("Message done DCID ")) {
    // [UG] "Delivery start DCID 5 MID 4 to RID [0]"; [S2W] older "… to [0]".
    std::uint64_t dcid = c.number();
    c.lit(" MID ");
    std::uint64_t mid = c.number();
    c.lit(" to ");
    c.try_lit("RID ");
    c.lit("[");
    std::string rids = c.until_first("]");
    c.lit("]");
    if (!c.ok) return std::nullopt;
    // Message done may be followed by the message's headers ("[('X-SBRS', 'None')]" in [UG]).
    if (start) return delivery_start{dcid, mid, rids};
    return message_done{dcid, mid, rids};
  }
  bool bounced = false;
  if ((bounced = c.try_lit("Bounced: DCID")) || c.try_lit("Delayed: DCID")) {
    // [UG] "Bounced: DCID 3 MID 4 to RID 0 - 5.1.0 - …"; [S2W] "Delayed: DCID: 4370 Message
    // 10800 to 0 - 4.4.0 - …".
    delayed_or_bounced r{.bounced = bounced};
    c.try_lit(":");
    c.lit(" ");
    r.dcid = c.number();
    if (!c.try_lit(" MID ")) c.lit(" Message ");
    r.mid = c.number();
    c.lit(" to ");
    c.try_lit("RID ");
    r.rid = c.word();
    c.lit(" - ");
    r.text = c.rest();
    if (c.ok) return r;
    return std::nullopt;
  }
  return std::nullopt;
}

int weekday(int y, int m, int d) {
  // Sakamoto's method.
  static constexpr int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (m < 3) y -= 1;
  return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

namespace {
constexpr std::string_view day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int two(std::string_view s, std::size_t at, bool space_pad = false) {
  char a = s[at], b = s[at + 1];
  if (space_pad && a == ' ') a = '0';
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}
}  // namespace

std::string format_ctime(const civil_time& t) {
  // ctime(3): "Www Mmm dd hh:mm:ss yyyy", the day padded with a space ("Sep  8").
  int wd = weekday(t.year, t.month, t.day);
  return fmt::format("{} {} {:>2} {:02}:{:02}:{:02} {}", day_names[wd], month_names[t.month - 1], t.day, t.hour, t.minute,
                     t.second, t.year);
}

std::optional<civil_time> parse_ctime(std::string_view s) {
  if (s.size() != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != ' ')
    return std::nullopt;
  civil_time t;
  int month = 0;
  for (int i = 0; i < 12; ++i)
    if (s.substr(4, 3) == month_names[i]) month = i + 1;
  if (!month) return std::nullopt;
  t.month = month;
  t.day = two(s, 8, true);
  t.hour = two(s, 11);
  t.minute = two(s, 14);
  t.second = two(s, 17);
  int y1 = two(s, 20), y2 = two(s, 22);
  if (t.day < 1 || t.day > 31 || t.hour < 0 || t.hour > 23 || t.minute < 0 || t.minute > 59 || t.second < 0 || t.second > 60 ||
      y1 < 0 || y2 < 0)
    return std::nullopt;
  t.year = y1 * 100 + y2;
  return t;
}

}  // namespace mxtls::esa
