// The scan's records: one JSON object per line (JSONL), one per line of the list. One writer
// makes every record (a probed destination, a line that is not a destination, a probe that
// failed); one reader reads them back, for --resume, the HTML report and any other program.
// docs/mxtls-scan.md describes the records.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxtls/probe.hpp"
#include "mxtls/scan.hpp"

namespace mxtls {

// What a record is about. Only `probed` records carry the probe's diagnosis.
enum class record_kind {
  probed,   // the probe ran: its outcome is one of probe_outcome
  invalid,  // the line is not a destination (outcome "invalid")
  error,    // the probe itself failed, a bug (outcome "error")
};

// Exit codes written in the records that have no probe report.
inline constexpr int invalid_record_exit_code = 2;
inline constexpr int error_record_exit_code = 70;

// The outcome word of a record: the probe's outcome, "invalid" or "error".
std::string_view record_outcome_text(record_kind kind, probe_outcome outcome);
// The inverse; nullopt for a word that names no outcome.
struct record_outcome {
  record_kind kind = record_kind::probed;
  probe_outcome outcome = probe_outcome::dns_fails;  // meaningful for `probed` only
};
std::optional<record_outcome> parse_record_outcome(std::string_view text);

// One line of the list once the scan is done with it.
struct scan_result {
  const scan_line* line = nullptr;
  record_kind kind = record_kind::probed;
  const probe_report* report = nullptr;  // set for `probed`
  std::string_view error;                // why the line is invalid, or why the probe failed
};

// The record of `r` as one JSONL line (with its newline): the probe's JSON document with
// "line" and "input" after "version"; without a report, the same head, then "target",
// "verdict", "outcome" and "exit_code".
std::string scan_record(const scan_result& r);

// The sender groups of a record (the probe JSON's "senders", by client id), when present.
struct record_senders {
  std::vector<std::string> tls, plaintext, fail, hang, unknown;  // unknown: absent before the services
};

// A record read back.
struct read_record {
  std::size_t jsonl_line = 0;  // 1-based line of the records file
  std::size_t line = 0;        // the list's line
  std::string input, target;
  record_kind kind = record_kind::probed;
  std::optional<probe_outcome> outcome;  // for `probed`; none for a word this build does not know
  std::string outcome_text;              // as written
  std::optional<int> exit_code;
  // The index into "hosts" of the host the verdict is about: the record's "verdict_host"
  // when it has one (null: none), else the probe's rule for version 1 records (the first
  // host that is not unreachable, else the last host tried).
  std::optional<std::size_t> verdict_host;
  std::optional<record_senders> senders;
  bool command_injection = false;  // some host is open to STARTTLS command injection
  nlohmann::json object;  // the whole record (record_reader::detail::whole only)
};

// Where the two versions of the probe JSON keep a host's facts (version 2 under "checks",
// version 1 on the host itself), for readers of records of either version.
const nlohmann::json* host_tls(const nlohmann::json& host);         // the "tls" object, or null
const nlohmann::json* host_transcript(const nlohmann::json& host);  // the transcript array, or null
// Open to STARTTLS command injection: the reason "command-injection" (version 2), or
// "injection": {"command_injection": true} (version 1).
bool host_command_injection(const nlohmann::json& host);

// Reads records one line at a time from the current position of `in`; memory is bounded
// by `max_line` whatever the file holds.
class record_reader {
 public:
  enum class detail {
    head,   // "line" and "input" only, which come first: the rest of the line is not parsed
    whole,  // every field above, and the parsed object
  };
  // Why a line is not a record.
  enum class bad_line {
    not_json,    // not a JSON object, or one without "line", "input" and "outcome"
    too_long,    // more than max_line octets (skipped without holding them)
  };
  struct options {
    detail what = detail::whole;
    std::size_t max_line = 64u << 20;
  };
  // Each call: a record, a line that is not one, or the end.
  struct item {
    enum { record, bad, end } kind = end;
    read_record rec;      // for `record`
    bad_line why{};       // for `bad`
    std::size_t jsonl_line = 0;
    // The line had no newline: the last line of a file that was cut short (a kill in the
    // middle of a write), or still being written.
    bool cut_short = false;
    std::uint64_t end_offset = 0;  // octets from where reading began to the end of this line
  };

  record_reader(std::istream& in, options opt);
  explicit record_reader(std::istream& in) : record_reader(in, options{}) {}
  item next();
  bool read_error() const { return in_.bad(); }
  // Octets the reader holds now (its buffer and the line being read): below
  // 2 x max_line + 64 KiB, whatever the input.
  std::size_t held() const { return buf_.capacity() + line_.capacity(); }

 private:
  bool fill();
  std::istream& in_;
  options opt_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, len_ = 0;
  std::size_t jsonl_line_ = 0;
  std::uint64_t offset_ = 0;
  std::string line_;
};

// --resume: the records file of an earlier run. Its last line, when cut short, is cut off
// the file (so the run appends after whole records), and the lines of `list` it holds a
// record for (same list line and text) are removed from `list`. A missing file holds none.
struct resume_result {
  bool ok = true;
  std::string error;          // for the user, when !ok
  std::size_t already = 0;    // lines of the list removed
};
resume_result resume_scan(const std::string& records_path, scan_list& list);

}  // namespace mxtls
