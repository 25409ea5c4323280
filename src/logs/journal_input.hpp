// systemd journal entries as mail-log lines: `journalctl -o export` (the Journal Export
// Format) and `journalctl -o json` (the Journal JSON Format), both as systemd documents them
// in https://systemd.io/JOURNAL_EXPORT_FORMATS/ (docs/JOURNAL_EXPORT_FORMATS.md of systemd).
// Each entry becomes the syslog line its fields describe ("TIME HOST IDENTIFIER[PID]:
// MESSAGE", TIME in RFC 3339 from __REALTIME_TIMESTAMP, in the local time of TZ as journalctl
// shows it, with its offset), which log_reader then reads like any other line: by the
// Sendmail rules when the entry's identifier is Sendmail's (sm-mta, sendmail), else by the
// Postfix rules; the join and the classes are theirs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxtls::logs::journal {

// The fields of one entry a mail-log line is made of.
struct entry {
  std::uint64_t line = 0;      // where the entry's MESSAGE is (its first line when it has none)
  std::uint64_t realtime = 0;  // __REALTIME_TIMESTAMP: microseconds since the epoch
  bool has_time = false;
  bool has_message = false;
  std::string identifier;      // SYSLOG_IDENTIFIER ("postfix/smtp"), else _COMM
  std::string hostname;        // _HOSTNAME
  std::uint64_t pid = 0;       // SYSLOG_PID, else _PID
  std::string message;         // MESSAGE (the first value; up to its first newline)
};

// "2026-12-01T14:10:54.123456+00:00 HOST IDENTIFIER[PID]: MESSAGE" (no [PID] when 0), the
// time local_time_of(realtime).
std::string syslog_line(const entry& e);

// A journal time (microseconds since the epoch) as the clock of the zone TZ names shows it,
// with that zone's offset: what journalctl prints, and what a syslog daemon on the same host
// writes into its plain files, so that both kinds of input merge in time order.
struct local_time {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  std::uint32_t micro = 0;
  long offset = 0;  // seconds east of UTC
};
local_time local_time_of(std::uint64_t realtime);

// The __REALTIME_TIMESTAMP a line names: an export line "__REALTIME_TIMESTAMP=N", or the
// member of that name in a JSON entry; nullopt for any other line.
std::optional<std::uint64_t> realtime_of_line(std::string_view line);

// Whether a line opens the export form ("__CURSOR=…", "__REALTIME_TIMESTAMP=…", …) or is a
// JSON entry ('{' with "__REALTIME_TIMESTAMP" or "__CURSOR" in it).
bool looks_like_export(std::string_view line);
bool looks_like_json(std::string_view line);

// What to do with what the decoder found.
class sink {
 public:
  virtual ~sink() = default;
  virtual void entry(const journal::entry& e) = 0;
  // An entry the decoder could not read: where it starts and what was wrong.
  virtual void broken(std::uint64_t line, std::string_view what) = 0;
};

// The export form, fed the lines of its input as line_source splits them (without their
// '\n'); binary fields (NAME '\n' le64 SIZE DATA '\n') are put back together across lines.
// Memory: the fields of one entry that a line is made of, each cut at `max_value` octets;
// a binary field larger than `max_field` is not read (the entry is broken and the decoder
// finds its way back at the next empty line).
class export_decoder {
 public:
  explicit export_decoder(sink& out, std::size_t max_value = 64 * 1024, std::uint64_t max_field = 16u << 20)
      : out_(out), max_value_(max_value), max_field_(max_field) {}
  void add_line(std::string_view line, std::uint64_t line_no);
  // The end of the input: an entry without its closing empty line is handed over; one cut
  // inside a binary field is broken.
  void finish();

 private:
  enum class mode : std::uint8_t { text, size, data, newline, skip };
  void field(std::string_view name, std::string_view value, std::uint64_t line_no);
  void bytes(std::string_view b, std::uint64_t line_no);
  void fail(std::string what);
  void end_entry();

  sink& out_;
  std::size_t max_value_;
  std::uint64_t max_field_;
  mode mode_ = mode::text;
  bool open_ = false;       // some field of the entry seen
  bool broken_ = false;
  std::string problem_;
  std::uint64_t first_line_ = 0;
  entry e_;
  std::uint64_t source_realtime_ = 0, comm_pid_ = 0;
  std::string comm_;
  std::string name_;        // of the binary field being read
  std::uint64_t name_line_ = 0;
  unsigned char size_[8]{};
  std::size_t size_have_ = 0;
  std::uint64_t left_ = 0;  // of the binary field's data
  std::string value_;
};

// One line of the JSON form; false (and `what`) when it is not a journal entry.
bool parse_json(std::string_view line, entry& e, std::string& what);

}  // namespace mxtls::logs::journal
