// mxtls logs: from a sending MTA's own log to the destinations that lose TLS, and why.
// Lines are read one at a time (plain, gzip or standard input), joined into delivery
// attempts by the MTA's own keys, each attempt classified, and counted per destination.
// Memory grows with the number of destinations and of connections open at once in the
// log, never with its length (each has a named limit, log_limits).
//
// Formats (docs/mxtls-logs.md): Postfix (syslog and maillog_file lines of its smtp(8)
// client), Cisco AsyncOS mail_logs (the delivery lines of esa_lines.hpp, file and syslog
// forms), Exim's main log (file and syslog forms), Sendmail's syslog lines, journald's
// export and JSON forms of Postfix's lines.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/distinct_count.hpp"
#include "mxtls/esa_lines.hpp"

namespace mxtls::logs {

// journal_export, journal_json: Postfix's and Sendmail's lines as journald keeps them,
// `journalctl -o export` and `journalctl -o json` (each entry read as the syslog line its
// fields describe, by the rules of the MTA its identifier names).
// exchange: Microsoft Exchange's SMTP send protocol log and message tracking log.
enum class log_format : std::uint8_t { unknown, postfix, esa, exim, journal_export, journal_json, exchange,
                                        sendmail };
const char* to_string(log_format f);
std::optional<log_format> parse_log_format(std::string_view s);

// What one delivery attempt came to.
enum class attempt_class : std::uint8_t {
  tls,                          // delivered over TLS
  plaintext,                    // delivered without TLS
  plaintext_after_tls_failure,  // delivered without TLS after TLS failed on the same attempt
  tls_failed,                   // deferred or bounced for a TLS reason
  other_failure,                // deferred or bounced for another reason
  unknown,                      // delivered; the log cannot say whether over TLS (no TLS lines at all)
};
inline constexpr std::size_t attempt_class_count = 6;
const char* to_string(attempt_class c);

// Why, in RFC 8460 §4.3 result-type words where one fits, else ours.
enum class result_type : std::uint8_t {
  none,
  starttls_not_supported,     // RFC 8460
  certificate_host_mismatch,  // RFC 8460
  certificate_expired,        // RFC 8460
  certificate_not_trusted,    // RFC 8460
  validation_failure,         // RFC 8460
  tlsa_invalid,               // RFC 8460: no TLSA record of the set matched (DANE)
  dnssec_invalid,             // RFC 8460: the resolver returned no valid TLSA records (DANE)
  handshake_failure,          // ours
  starttls_refused,           // ours
  connection_failed,          // ours
  greeting_refused,           // ours
  dns_failure,                // ours: the MX or address lookup failed (not a TLS failure)
  other,                      // a failure the log words in a way none of the above fits
};
inline constexpr std::size_t result_type_count = 14;
const char* to_string(result_type r);

struct log_time {
  esa::civil_time t;
  bool year_known = true;  // syslog lines carry no year
};

struct evidence_line {
  std::size_t file = 0;  // index into the inputs
  std::uint64_t line = 0;
  std::string text;
};

struct destination_key {
  std::string domain;   // the recipient's domain ("" when the log does not say)
  std::string mx_host;  // the host name the MTA connected to
  std::string address;  // address:port
  auto operator<=>(const destination_key&) const = default;
};

// What the probe (through the scan engine) found at a destination's scan_target, in the
// probe's own words and ids (mxtls logs --probe; docs/probe-json.md for the fields).
struct probe_attachment {
  std::string target;   // the scan line probed
  std::string outcome;  // probe_outcome id
  std::string verdict;  // the probe's verdict line
  int exit_code = 0;    // the probe's exit code
  std::string esa;      // what an ESA with the probe's --policy does (esa_result id), when known
  struct reason_words {
    std::string id, text;
  };
  std::vector<reason_words> reasons;
  std::string error;    // the probe itself failed (then the rest is empty)
};

// The MTA an attempt's lines came from: the host name of a syslog line; the file forms name
// no host (ESA mail_logs, Exim's mainlog, Exchange's logs), and their inputs, often one MTA's
// rotated files, count as one sender per format.
struct log_sender {
  std::string host;                          // empty: the format names it
  log_format format = log_format::unknown;   // when host is empty
  bool operator==(const log_sender&) const = default;
};
inline constexpr std::size_t max_senders_per_destination = 16;

struct destination_summary {
  destination_key key;
  std::uint64_t attempts = 0;
  std::uint64_t delivered = 0;
  // The distinct messages the attempts carried (by the MTA's queue id, message id or MID):
  // exact up to distinct_count::exact_limit, an estimate above (messages.exact() false).
  distinct_count messages;
  std::uint64_t attempts_without_message = 0;  // attempts whose lines name no message
  std::vector<log_sender> senders;  // the MTAs that attempted it, first seen first (at most max_senders_per_destination)
  bool senders_cut = false;         // more than that
  std::array<std::uint64_t, attempt_class_count> classes{};
  std::array<std::uint64_t, result_type_count> reasons{};
  std::map<std::string, std::uint64_t> tls_versions;  // "TLSv1.3 TLS_AES_256_GCM_SHA384" -> count
  std::uint64_t verified = 0;                         // TLS attempts with a verified certificate
  std::optional<log_time> first, last;
  std::vector<evidence_line> samples;  // the worst attempts' lines first
  int worst = 0;                       // rank of the worst class seen (for the order)
  std::optional<probe_attachment> probe;  // set by the caller (mxtls logs --probe)

  std::uint64_t count(attempt_class c) const { return classes[static_cast<std::size_t>(c)]; }
  bool messages_named() const { return attempts_without_message < attempts; }  // some line named a message
  std::uint64_t failed() const { return count(attempt_class::tls_failed) + count(attempt_class::other_failure); }
};

struct log_limits {
  std::size_t max_destinations = 100000;      // more: counted as dropped, noted
  std::size_t max_open_connections = 100000;  // Postfix smtp processes / ESA DCIDs / Exim messages awaiting their outcome
  std::size_t samples_per_destination = 3;
  std::size_t unknown_samples = 5;
  std::size_t max_line_octets = 64 * 1024;    // a longer line is cut there (and counted)
};

enum class note_id : std::uint8_t {
  no_tls_lines,          // deliveries seen, no TLS line at all: Postfix smtp_tls_loglevel 0, or an ESA without TLS lines
  lines_not_understood,  // lines of the format that no rule reads
  destinations_dropped,  // over log_limits::max_destinations
  connections_dropped,   // over log_limits::max_open_connections
  lines_cut,             // over log_limits::max_line_octets
  no_year,               // syslog timestamps without a year
  exchange_unseen,       // Exchange's logs were read: what they cannot show (no documented line for it)
};
const char* to_string(note_id n);

// What one input was read as.
struct input_format {
  log_format format = log_format::unknown;  // detected from the input's own lines, or forced
  std::vector<log_format> mtas;             // a journal's: whose entries it held (postfix, sendmail), first seen first
};

struct log_summary {
  log_format format = log_format::unknown;  // the first input's that has one
  bool format_forced = false;
  std::vector<input_format> input_formats;  // by input index (an input never read: unknown)
  std::uint64_t lines = 0, lines_read = 0, lines_not_understood = 0, lines_other = 0;
  std::uint64_t tls_lines = 0;  // lines that say something about TLS
  std::uint64_t destinations_dropped = 0, connections_dropped = 0, lines_cut = 0;
  std::vector<evidence_line> not_understood_samples;
  std::vector<note_id> notes;
  std::vector<destination_summary> destinations;  // worst first
};

// A log line's format, from the line alone (nullopt: not recognised).
std::optional<log_format> detect_format(std::string_view line);

class log_reader {
 public:
  explicit log_reader(log_limits limits = {}, std::optional<log_format> forced = std::nullopt);
  ~log_reader();
  log_reader(const log_reader&) = delete;
  log_reader& operator=(const log_reader&) = delete;

  // One line without its line ending.
  void add_line(std::string_view line, std::size_t file, std::uint64_t line_no);
  // The year of input `file`'s lines that carry none (syslog), from here on: read_inputs
  // works it out when it merges such an input with one whose lines carry a year (a journal,
  // RFC 3339 lines, Exim's or the ESA's). 0: not known (the default).
  void set_year(std::size_t file, int year);
  // Input `file` has ended (a journal export's last entry, which has no empty line after
  // it, is read now, in its place in time; finish() does it for every input otherwise).
  void end_input(std::size_t file);
  // Everything read so far, worst destination first.
  log_summary finish();

 private:
  struct state;
  state* s_;
};

// Reads a stream line by line into the reader; a gzip stream (RFC 1952 magic) is inflated
// with zlib. Returns an error text (empty: read to the end).
std::string read_stream(std::istream& in, log_reader& reader, std::size_t file);
// The same for a file name ("-": standard input).
std::string read_file(const std::string& path, log_reader& reader, std::size_t file);

struct read_options {
  // Several inputs merged in time order: always the input whose current line is earliest
  // (the first given on a tie); a line without a time stays after the one before it in its
  // input. Syslog lines carry no year: each input counts years from its first line (a
  // December-to-January turn inside an input is seen, one between inputs is not). False:
  // one input after the other, in the order given.
  bool merge = true;
  // Called now and then while reading (at most every `progress_interval`): octets read of
  // the inputs as stored (compressed for gzip), their total size (0 when unknown: standard
  // input), lines read.
  std::function<void(std::uint64_t octets, std::uint64_t total, std::uint64_t lines)> progress;
  std::chrono::milliseconds progress_interval{250};
};
struct read_result {
  std::string error;             // empty: every input read to its end
  std::size_t failed_input = 0;  // which input the error is about
};
// Every input ("-": standard input) into the reader, merged by time unless options.merge is false.
read_result read_inputs(const std::vector<std::string>& paths, log_reader& reader, const read_options& options = {});

// Whether some attempt to the destination lost TLS: plaintext, plaintext after a TLS
// failure, or failed for a TLS reason.
bool lost_tls(const destination_summary& d);

// What a scan probes for a destination: the server the MTA connected to, "[address]:port"
// (what the log's evidence is about; the domain's MX may since point elsewhere, or the MTA
// may route it by its own table), else the domain; or, with target_form::domain, the
// recipient domain (its MX as DNS gives it now), else the address.
enum class target_form : std::uint8_t { address, domain };
std::string scan_target(const destination_key& k, target_form form = target_form::address);

// The destinations that lost TLS, as scan-list lines (scan_target), each once, worst first.
std::vector<std::string> lost_tls_targets(const log_summary& s, target_form form = target_form::address);

std::string render_logs_text(const log_summary& s, const std::vector<std::string>& inputs);
inline constexpr int logs_json_version = 1;
std::string render_logs_json(const log_summary& s, const std::vector<std::string>& inputs);

// 0: every attempt used TLS; 1: some destination lost TLS (plaintext, TLS failure); 3: no
// delivery attempt in the input; 2 (usage, unreadable input) is the CLI's.
int logs_exit_code(const log_summary& s);

}  // namespace mxtls::logs
