// The Cisco AsyncOS (ESA) mail_logs delivery lines mxtls writes (mxtls probe --log esa) and
// reads (mxtls logs): one grammar for both, each form taken from a published example and
// cited where it is defined (src/logs/esa_lines.cpp; docs/esa-log.md lists the sources).
// A line is "TIMESTAMP Info: MESSAGE"; the timestamp is ctime's form ("Fri Sep  8 05:22:23
// 2023"), as the appliance writes its log files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace mxtls::esa {

// "New SMTP DCID 63 interface 10.10.192.50 address 10.13.101.31 port 25"
struct new_connection {
  std::uint64_t dcid = 0;
  std::string interface, address;
  unsigned port = 0;  // 0: the older form without "port"
  bool operator==(const new_connection&) const = default;
};
// "DCID 30 TLS success protocol TLSv1.2 cipher ECDHE-RSA-AES256-SHA384"
struct tls_success {
  std::uint64_t dcid = 0;
  std::string protocol, cipher;  // empty: the older bare "TLS success" form
  bool operator==(const tls_success&) const = default;
};
// "DCID 7 STARTTLS command not supported."
struct starttls_not_supported {
  std::uint64_t dcid = 0;
  bool operator==(const starttls_not_supported&) const = default;
};
// "DCID 80167 TLS failed: STARTTLS unexpected response"
struct tls_failed {
  std::uint64_t dcid = 0;
  std::string detail;
  bool operator==(const tls_failed&) const = default;
};
// "DCID 8 IP 204.15.82.140 TLS was required but could not be successfully negotiated"
struct tls_required_failed {
  std::uint64_t dcid = 0;
  std::string ip;
  bool operator==(const tls_required_failed&) const = default;
};
// "Connection Error: DCID 63 domain: example.com IP: 10.13.101.31 port: 25 details: [Errno 0]
// Error interface: 10.10.192.50 reason: network error"
struct connection_error {
  std::uint64_t dcid = 0;
  std::string domain, ip;
  unsigned port = 0;
  std::string details, interface, reason;
  bool operator==(const connection_error&) const = default;
};
// "Delivery start DCID 30 MID 14 to RID [0]"
struct delivery_start {
  std::uint64_t dcid = 0, mid = 0;
  std::string rids;  // inside the brackets: "0" or "0, 1"
  bool operator==(const delivery_start&) const = default;
};
// "Message done DCID 30 MID 14 to RID [0]"
struct message_done {
  std::uint64_t dcid = 0, mid = 0;
  std::string rids;
  bool operator==(const message_done&) const = default;
};
// "Delayed: DCID 4370 MID 10800 to RID 0 - 4.4.0 - Other network problem (…)" and
// "Bounced: DCID 3 MID 4 to RID 0 - 5.1.0 - Unknown address error ('550', […]) []"
struct delayed_or_bounced {
  bool bounced = false;
  std::uint64_t dcid = 0, mid = 0;
  std::string rid, text;  // text: what follows " - "
  bool operator==(const delayed_or_bounced&) const = default;
};
// "DCID 30 close"
struct connection_close {
  std::uint64_t dcid = 0;
  bool operator==(const connection_close&) const = default;
};

// Lines about a message, not a delivery connection (no DCID): where its recipients'
// addresses are, for the recipient domain of the connections that deliver it.
// "MID 6 ICID 5 RID 0 To: <mary@yourdomain.com>"
struct message_recipient {
  std::uint64_t mid = 0, icid = 0, rid = 0;
  std::string address;  // inside the angle brackets
  bool operator==(const message_recipient&) const = default;
};

// "Message finished MID 2317877 done"
struct message_finished {
  std::uint64_t mid = 0;
  bool operator==(const message_finished&) const = default;
};

using line = std::variant<new_connection, tls_success, starttls_not_supported, tls_failed, tls_required_failed,
                          connection_error, delivery_start, message_done, delayed_or_bounced, connection_close,
                          message_recipient, message_finished>;

// The line's DCID; 0 for the lines about a message (message_recipient, message_finished).
std::uint64_t dcid_of(const line& l);

// The message after "Info: ", as the appliance writes it.
std::string format(const line& l);
// The message after "Info: "; nullopt for a message that is none of the forms above.
std::optional<line> parse(std::string_view message);

// ctime's form of a time of day: "Fri Sep  8 05:22:23 2023" (broken-down, no zone).
struct civil_time {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  bool operator==(const civil_time&) const = default;
  auto operator<=>(const civil_time&) const = default;
};
std::string format_ctime(const civil_time& t);
std::optional<civil_time> parse_ctime(std::string_view s);  // exactly 24 characters
// The weekday of a date (0 = Sunday), proleptic Gregorian.
int weekday(int year, int month, int day);

}  // namespace mxtls::esa
