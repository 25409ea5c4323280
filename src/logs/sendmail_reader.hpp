// Sendmail's delivery lines (syslog, program sm-mta or sendmail) read into delivery attempts,
// for log_reader (include/mxtls/logs.hpp). The line forms are in sendmail_reader.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "logs/attempt.hpp"
#include "mxtls/logs.hpp"

namespace mxtls::logs::sendmail {

// The syslog programs whose lines are Sendmail's MTA: Debian's daemon (sm-mta) and the name it
// has elsewhere (sendmail).
bool is_sendmail_program(std::string_view program);

// One delivery attempt: a "to=" line and what the same process said before it about that
// connection's TLS (its lines: the connection's, then the to= line).
using attempt_facts = attempt;

enum class line_kind : std::uint8_t {
  attempt,         // a to= line of an SMTP delivery: `out` is set
  tls,             // a line about a connection's TLS (STARTTLS=client, ruleset=tls_server)
  other,           // read, no delivery fact (from=, local deliveries, DSNs, notes)
  not_understood,  // looks like a to= line but is not one this reader can read
};

class reader {
 public:
  explicit reader(std::size_t max_open) : max_open_(max_open) {}
  // One message (the text after "program[pid]: ") written by process `pid`.
  line_kind line(std::string_view message, std::uint64_t pid, const log_time& t, evidence_line ev,
                 std::optional<attempt_facts>& out);
  std::uint64_t dropped() const { return dropped_; }

 private:
  // What a process said of one connection (by the relay name it logs) before its to= line.
  struct connection {
    bool tls = false;
    std::string verify;    // ${verify}: OK, FAIL, NO, NOT, TRUSTED, DANE_FAIL
    std::string tls_text;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
    bool handshake_failed = false;
    std::string refused;  // arg1 of "ruleset=tls_server, arg1=…": the ${verify} the rule refused
    std::vector<evidence_line> lines;
  };
  struct process {
    std::unordered_map<std::string, connection> by_relay;
    bool handshake_failed = false;  // "STARTTLS=client, error: connect failed…" (names no relay)
    std::vector<evidence_line> pending;  // its line, until a line names the relay
  };
  connection& connection_of(std::uint64_t pid, const std::string& relay);
  std::size_t max_open_;
  std::size_t open_ = 0;
  std::uint64_t dropped_ = 0;
  std::unordered_map<std::uint64_t, process> procs_;
};

}  // namespace mxtls::logs::sendmail
