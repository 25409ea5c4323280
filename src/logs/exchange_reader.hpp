// Microsoft Exchange Server's transport logs read into delivery attempts, for log_reader
// (include/mxtls/logs.hpp): the SMTP send protocol log (SENDyyyymmdd-nnnn.log) and the message
// tracking log (MSGTRK*.log). Both are CSV files whose header names their type (#Log-Type)
// and fields (#Fields); each file's own header decides how its lines are read, so the two
// logs of one server can be read in one run. The forms are listed in exchange_reader.cpp.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "logs/attempt.hpp"
#include "mxtls/logs.hpp"

namespace mxtls::logs::exchange {

// Whether a line opens an Exchange log ("#Software: Microsoft Exchange Server", or its
// #Log-Type line).
bool looks_like_exchange(std::string_view line);

// One CSV record: fields split at commas, "…" quoted with "" for a quote (RFC 4180, the form
// the logs are written in). False when a quote is not closed.
bool split_csv(std::string_view line, std::vector<std::string>& out);

using attempt_facts = attempt;  // verified stays false: no documented line says it

enum class line_kind : std::uint8_t { header, attempt, tls, other, not_understood };

class reader {
 public:
  explicit reader(std::size_t max_open) : max_open_(max_open) {}
  // One line of input `file`; attempts it completes are appended to `out`.
  line_kind line(std::string_view text, std::size_t file, const evidence_line& ev, std::vector<attempt_facts>& out);
  // The end of the input: sessions still open (a log cut before their "-" line) are dropped.
  std::uint64_t dropped() const { return dropped_; }
  bool tracking_seen() const { return tracking_seen_; }

 private:
  enum class kind : std::uint8_t { unknown, send_protocol, tracking, other };
  struct file_state {
    kind k = kind::unknown;
    std::vector<std::string> fields;
    std::unordered_map<std::string, std::size_t> at;  // field name -> index
  };
  struct message {
    std::string id;                       // InternetMessageId
    std::vector<std::string> rcpts;       // accepted (250 to RCPT)
    std::vector<std::pair<std::string, std::string>> refused;  // RCPT refused: recipient, reply
    std::string final_reply;              // to the end of data
  };
  struct session {
    std::string remote;  // remote-endpoint, address:port
    bool connected = false, greeted = false, offered = false, starttls_sent = false;
    bool tls = false;
    result_type tls_failure = result_type::none;
    std::string tls_text;
    std::string greeting_refused;  // the reply when the greeting was 4xx/5xx
    std::deque<std::string> pending;  // commands awaiting their reply, in order
    message msg;
    bool in_message = false;
    log_time first;
    std::vector<evidence_line> lines;  // the TLS lines and the last few, as evidence
  };
  line_kind protocol_line(const file_state& f, const std::vector<std::string>& v, const evidence_line& ev,
                          std::vector<attempt_facts>& out);
  line_kind tracking_line(const file_state& f, const std::vector<std::string>& v, const evidence_line& ev,
                          std::vector<attempt_facts>& out);
  void end_message(session& s, const log_time& t, std::vector<attempt_facts>& out);
  void end_session(session& s, const log_time& t, std::vector<attempt_facts>& out);
  void keep(session& s, const evidence_line& ev, bool always);

  std::size_t max_open_;
  std::uint64_t dropped_ = 0;
  bool tracking_seen_ = false;
  std::unordered_map<std::size_t, file_state> files_;
  std::unordered_map<std::string, session> sessions_;
  std::unordered_set<std::string> sent_ids_;  // InternetMessageIds the protocol log delivered or tried
  std::vector<std::string> parts_;
};

}  // namespace mxtls::logs::exchange
