#include "mxtls/scan_records.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "mxtls/probe_report.hpp"
#include "mxtls/target_text.hpp"

namespace mxtls {

using json = nlohmann::json;

std::string_view record_outcome_text(record_kind kind, probe_outcome outcome) {
  switch (kind) {
    case record_kind::invalid: return "invalid";
    case record_kind::error: return "error";
    case record_kind::probed: break;
  }
  return to_string(outcome);
}

std::optional<record_outcome> parse_record_outcome(std::string_view text) {
  if (text == "invalid") return record_outcome{.kind = record_kind::invalid};
  if (text == "error") return record_outcome{.kind = record_kind::error};
  for (auto o : all_probe_outcomes)
    if (text == to_string(o)) return record_outcome{.kind = record_kind::probed, .outcome = o};
  return std::nullopt;
}

std::string record_input(const scan_line& l) { return l.written.empty() ? l.text : escape_text(l.written); }

std::string scan_record(const scan_result& r) {
  std::string out;
  json_writer w(out);
  const scan_line& l = *r.line;
  if (r.kind == record_kind::probed && r.report) {
    write_probe_json(w, *r.report, {l.line, record_input(l)});
  } else {
    bool invalid = r.kind == record_kind::invalid;
    std::string verdict = invalid ? std::string(r.error) : "the probe failed: " + std::string(r.error);
    w.begin_object().member("schema", "mxtls-probe").member("version", probe_json_version);
    w.member("line", l.line).member("input", record_input(l)).member("target", l.text).member("verdict", verdict);
    w.member("outcome", record_outcome_text(r.kind, probe_outcome::dns_fails));
    w.member("exit_code", invalid ? invalid_record_exit_code : error_record_exit_code).end_object();
  }
  out += '\n';
  return out;
}

namespace {

// Reads "line" and "input" of the top-level object and stops there: an earlier run's
// records are kilobytes each and lists have millions of lines, and these two come first.
struct head_sax : nlohmann::json_sax<json> {
  int depth = 0;
  bool top_object = false, at_line = false, at_input = false;
  std::optional<std::size_t> line;
  std::optional<std::string> input;

  bool enough() const { return !(line && input); }  // false stops the parser
  bool value() {
    at_line = at_input = false;
    return depth > 0 && enough();
  }
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t v) override {
    if (depth == 1 && at_line) line = static_cast<std::size_t>(v);
    return value();
  }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& v) override {
    if (depth == 1 && at_input) input = v;
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    if (depth == 0) top_object = true;
    ++depth;
    at_line = at_input = false;
    return top_object;
  }
  bool key(string_t& k) override {
    at_line = depth == 1 && k == "line";
    at_input = depth == 1 && k == "input";
    return true;
  }
  bool end_object() override {
    --depth;
    return enough();
  }
  bool start_array(std::size_t) override {
    ++depth;
    at_line = at_input = false;
    return depth > 1;
  }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

std::string str_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// The host the verdict is about: the record says so ("verdict_host"), or, in records
// written before it did, the probe's rule: the first host that answered (its outcome is
// not "unreachable"), else the last one tried.
std::optional<std::size_t> verdict_host_of(const json& rec) {
  auto hosts = rec.find("hosts");
  std::size_t n = hosts != rec.end() && hosts->is_array() ? hosts->size() : 0;
  auto vh = rec.find("verdict_host");
  if (vh != rec.end()) {
    if (vh->is_number_unsigned() && vh->get<std::size_t>() < n) return vh->get<std::size_t>();
    return std::nullopt;
  }
  if (n == 0) return std::nullopt;
  for (std::size_t i = 0; i < n; ++i) {
    const json& h = (*hosts)[i];
    if (h.is_object() && str_of(h, "outcome") != "unreachable") return i;
  }
  return n - 1;
}

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

const json* host_tls(const json& host) {
  const json* checks = member(host, "checks");
  const json* starttls = checks ? member(*checks, "starttls") : nullptr;
  const json* tls = starttls ? member(*starttls, "tls") : member(host, "tls");
  return tls && tls->is_object() ? tls : nullptr;
}

const json* host_transcript(const json& host) {
  const json* checks = member(host, "checks");
  const json* starttls = checks ? member(*checks, "starttls") : nullptr;
  const json* t = starttls ? member(*starttls, "transcript") : member(host, "transcript");
  return t && t->is_array() ? t : nullptr;
}

bool host_command_injection(const json& host) {
  if (const json* reasons = member(host, "reasons"); reasons && reasons->is_array()) {
    for (const auto& r : *reasons)
      if (const json* id = member(r, "id"); id && id->is_string() && *id == "command-injection") return true;
    return false;
  }
  const json* inj = member(host, "injection");
  const json* c = inj ? member(*inj, "command_injection") : nullptr;
  return c && c->is_boolean() && c->get<bool>();
}

namespace {

bool fill_whole(json&& j, read_record& r) {
  if (j.is_discarded() || !j.is_object()) return false;
  auto oc = j.find("outcome");
  if (oc == j.end() || !oc->is_string()) return false;
  r.outcome_text = oc->get<std::string>();
  if (auto o = parse_record_outcome(r.outcome_text)) {
    r.kind = o->kind;
    if (o->kind == record_kind::probed) r.outcome = o->outcome;
  }
  auto line = j.find("line");
  if (line != j.end() && line->is_number_unsigned()) r.line = line->get<std::size_t>();
  r.input = str_of(j, "input");
  r.target = str_of(j, "target");
  auto ec = j.find("exit_code");
  if (ec != j.end() && ec->is_number_integer()) r.exit_code = ec->get<int>();
  r.verdict_host = verdict_host_of(j);
  auto senders = j.find("senders");
  if (senders != j.end() && senders->is_object()) {
    r.senders = record_senders{.tls = strings_of(*senders, "tls"),
                               .plaintext = strings_of(*senders, "plaintext"),
                               .fail = strings_of(*senders, "fail"),
                               .hang = strings_of(*senders, "hang"),
                               .unknown = strings_of(*senders, "unknown")};
  }
  if (auto hosts = j.find("hosts"); hosts != j.end() && hosts->is_array())
    for (const auto& h : *hosts)
      if (host_command_injection(h)) r.command_injection = true;
  r.object = std::move(j);
  return true;
}

}  // namespace

record_reader::record_reader(std::istream& in, options opt) : in_(in), opt_(opt), buf_(64 * 1024) {}

bool record_reader::fill() {
  if (!in_) return false;
  in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  len_ = static_cast<std::size_t>(in_.gcount());
  pos_ = 0;
  return len_ > 0;
}

record_reader::item record_reader::next() {
  while (true) {
    line_.clear();
    bool too_long = false, newline = false, any = false;
    while (!newline) {
      if (pos_ == len_ && !fill()) break;
      any = true;
      const char* start = buf_.data() + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      std::size_t n = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : len_ - pos_;
      if (!too_long && line_.size() + n <= opt_.max_line) line_.append(start, n);
      else {
        too_long = true;
        line_.clear();  // the rest is skipped up to the newline, never held
      }
      pos_ += n;
      offset_ += n;
      if (nl) {
        ++pos_;
        ++offset_;
        newline = true;
      }
    }
    item it;
    if (!any) return it;  // end
    it.jsonl_line = ++jsonl_line_;
    it.cut_short = !newline;
    it.end_offset = offset_;
    if (too_long) {
      it.kind = item::bad;
      it.why = bad_line::too_long;
      return it;
    }
    if (line_.empty() && newline) continue;  // a blank line is neither a record nor a bad one
    it.kind = item::bad;
    it.why = bad_line::not_json;
    read_record& r = it.rec;
    r.jsonl_line = it.jsonl_line;
    if (opt_.what == detail::head) {
      head_sax sax;
      json::sax_parse(line_, &sax, nlohmann::detail::input_format_t::json, true);
      if (!sax.top_object || !sax.line || !sax.input) return it;
      r.line = *sax.line;
      r.input = std::move(*sax.input);
    } else if (!fill_whole(json::parse(line_, nullptr, false), r)) {
      return it;
    }
    it.kind = item::record;
    return it;
  }
}

resume_result resume_scan(const std::string& path, scan_list& list) {
  resume_result out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return out;
    out.ok = false;
    out.error = fmt::format("cannot open '{}' to resume: {}", path, std::strerror(errno));
    return out;
  }
  std::set<std::pair<std::size_t, std::string>> done;
  std::uint64_t good_end = 0;
  record_reader reader(in, {.what = record_reader::detail::head});
  for (auto it = reader.next(); it.kind != record_reader::item::end; it = reader.next()) {
    if (it.cut_short) break;  // cut off below
    good_end = it.end_offset;
    if (it.kind == record_reader::item::record) done.emplace(it.rec.line, std::move(it.rec.input));
  }
  if (reader.read_error()) {
    out.ok = false;
    out.error = fmt::format("cannot read '{}' to resume", path);
    return out;
  }
  in.close();
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size != good_end && ::truncate(path.c_str(), static_cast<off_t>(good_end)) != 0) {
    out.ok = false;
    out.error = fmt::format("cannot cut the incomplete last record off '{}': {}", path, std::strerror(errno));
    return out;
  }
  auto drop = [&](std::vector<scan_line>& v) {
    std::erase_if(v, [&](const scan_line& l) {
      bool d = done.count({l.line, record_input(l)}) > 0;
      out.already += d;
      return d;
    });
  };
  drop(list.targets);
  drop(list.invalid);
  return out;
}

}  // namespace mxtls
