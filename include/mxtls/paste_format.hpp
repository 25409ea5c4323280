// Which tool or log wrote a pasted SMTP conversation. The transcript reader detects it from
// signature lines, strips what every line of that format carries (program names, syslog
// headers, timestamps, line numbers, CSV columns) and maps its direction markers.
#pragma once

#include <cstdint>

namespace mxtls {

enum class paste_format : std::uint8_t {
  plain,             // S:/C:, <-/->, bare lines: no tool recognised
  swaks,             // "=== Trying", "<-  250-...", " -> EHLO", "<~" inside TLS
  posttls_finger,    // "posttls-finger: < 250-..." (also -v, -L)
  openssl_s_client,  // "CONNECTED(...)", certificate and session blocks; hides the plaintext reply
  curl,              // curl -v: "< 250-...", "> EHLO", "* ..."
  msmtp,             // msmtp --debug: "<-- 250-...", "--> EHLO"
  postfix_log,       // Postfix debug_peer_list lines, syslog or journald: "postfix/smtp[1]: < host[addr]:25: 250-..."
  exim_debug,        // exim -d / mainlog debug: "SMTP<< 250-...", "SMTP>> EHLO"
  exchange_log,      // Exchange SMTP send or receive protocol log (CSV)
  outlook_log,       // Outlook troubleshooting log: "SMTP (host): <rx> 250-...", "[tx] EHLO"
  thunderbird_log,   // Thunderbird MOZ_LOG=SMTP:5: "SMTP Response: 250-...", "SMTP Send: EHLO"
  telnet,            // telnet or nc: "Trying ...", "Escape character is '^]'."
  wireshark,         // tshark / Wireshark "Follow TCP stream" as ASCII
  cisco_esa_telnet,  // the ESA CLI "telnet" command, with its prompts
};
const char* to_string(paste_format f);  // stable id: "openssl-s_client", "postfix-log", ...

// What every line of the paste carried in front of the SMTP text, stripped before reading.
enum class line_prefix : std::uint8_t {
  none,
  syslog,       // "Dec  1 11:02:16 host prog[pid]: " or ISO / journald short-iso headers
  timestamp,    // "[09:00:01] ", "09:00:01 ", "2026-12-01 09:00:01.123 "
  line_number,  // "12: ", "12 | ", "  12  " counting up with the input lines
  csv_columns,  // Exchange protocol log: the data column of each row
};
const char* to_string(line_prefix p);

}  // namespace mxtls
