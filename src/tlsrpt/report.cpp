// One TLS-RPT report's JSON checked against RFC 8460 §4.3 and read into the model.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>

#include "mxtls/tls_rpt.hpp"

namespace mxtls {

namespace {

using nlohmann::json;

struct result_name {
  tlsrpt_result r;
  std::string_view name;
  int rank;  // worst first: what stops delivery under a policy before what only degrades it
};

// RFC 8460 §4.3.2.1 (negotiation), §4.3.2.2 (DANE), §4.3.2.3 (MTA-STS).
constexpr std::array<result_name, 11> results{{
    {tlsrpt_result::starttls_not_supported, "starttls-not-supported", 0},
    {tlsrpt_result::certificate_host_mismatch, "certificate-host-mismatch", 1},
    {tlsrpt_result::certificate_expired, "certificate-expired", 1},
    {tlsrpt_result::certificate_not_trusted, "certificate-not-trusted", 1},
    {tlsrpt_result::validation_failure, "validation-failure", 2},
    {tlsrpt_result::tlsa_invalid, "tlsa-invalid", 1},
    {tlsrpt_result::dnssec_invalid, "dnssec-invalid", 1},
    {tlsrpt_result::dane_required, "dane-required", 1},
    {tlsrpt_result::sts_policy_fetch_error, "sts-policy-fetch-error", 3},
    {tlsrpt_result::sts_policy_invalid, "sts-policy-invalid", 3},
    {tlsrpt_result::sts_webpki_invalid, "sts-webpki-invalid", 1},
}};

}  // namespace

const char* to_string(tlsrpt_result r) {
  for (const auto& n : results)
    if (n.r == r) return n.name.data();
  return "other";
}

std::optional<tlsrpt_result> parse_tlsrpt_result(std::string_view s) {
  for (const auto& n : results)
    if (n.name == s) return n.r;
  return std::nullopt;
}

int severity_rank(tlsrpt_result r) {
  for (const auto& n : results)
    if (n.r == r) return n.rank;
  return 4;
}

const char* to_string(tlsrpt_policy_type t) {
  switch (t) {
    case tlsrpt_policy_type::sts: return "sts";
    case tlsrpt_policy_type::tlsa: return "tlsa";
    case tlsrpt_policy_type::no_policy_found: return "no-policy-found";
    case tlsrpt_policy_type::other: return "other";
  }
  return "?";
}

// RFC 3339 §5.6: full-date "T" full-time, time-offset "Z" / ("+" / "-") hh:mm; "t", "z" and a
// space for "T" accepted (§5.6 NOTE). Reporters also write the time without an offset.
std::optional<std::int64_t> parse_report_time(std::string_view s, bool* zone_missing) {
  auto num = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  if (!y || !mo || !d || s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
  int h = 0, mi = 0, se = 0;
  std::size_t i = 10;
  if (s.size() > 10) {
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
    auto hh = num(11, 2), mm = num(14, 2), ss = num(17, 2);
    if (!hh || !mm || !ss || s[13] != ':' || s[16] != ':' || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
    h = *hh, mi = *mm, se = *ss;
    i = 19;
    if (i < s.size() && s[i] == '.') {
      ++i;
      std::size_t digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
      if (digits == 0) return std::nullopt;
    }
  }
  std::int64_t offset = 0;
  bool missing = false;
  if (i == s.size()) {
    missing = true;
  } else if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
  } else if ((s[i] == '+' || s[i] == '-') && i + 6 == s.size() && s[i + 3] == ':') {
    auto oh = num(i + 1, 2), om = num(i + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset = (*oh * 60 + *om) * 60 * (s[i] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  if (zone_missing) *zone_missing = missing;
  using namespace std::chrono;
  year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60 + se - offset;
}

namespace {

class reader {
 public:
  reader(tlsrpt_report& r, const tlsrpt_limits& l) : r_(r), limits_(l) {}

  void problem(severity level, std::string path, std::string message) {
    if (r_.problems.size() >= limits_.max_problems) {
      ++r_.problems_dropped;
      if (level == severity::error) dropped_error_ = true;
      return;
    }
    r_.problems.push_back({level, std::move(path), std::move(message)});
  }
  void error(std::string path, std::string message) { problem(severity::error, std::move(path), std::move(message)); }
  void warning(std::string path, std::string message) { problem(severity::warning, std::move(path), std::move(message)); }

  // A required (or optional) string member; "" when absent or not a string.
  std::string string_member(const json& obj, const std::string& path, const char* name, bool required) {
    auto it = obj.find(name);
    if (it == obj.end()) {
      if (required) error(path, fmt::format("\"{}\" is missing", name));
      return "";
    }
    if (!it->is_string()) {
      error(join(path, name), fmt::format("\"{}\" is {}, not a string", name, it->type_name()));
      return "";
    }
    return it->get<std::string>();
  }

  // A non-negative integer count; RFC 8460 §4.3 gives them as JSON numbers.
  std::uint64_t count_member(const json& obj, const std::string& path, const char* name, bool required) {
    auto it = obj.find(name);
    if (it == obj.end()) {
      if (required) error(path, fmt::format("\"{}\" is missing", name));
      return 0;
    }
    if (it->is_number_unsigned()) return it->get<std::uint64_t>();
    if (it->is_number_integer()) {
      error(join(path, name), fmt::format("\"{}\" is negative ({})", name, it->get<std::int64_t>()));
      return 0;
    }
    if (it->is_string()) {
      // Seen from some reporters: the count as a string. Read it, say so.
      const std::string& s = it->get_ref<const std::string&>();
      if (!s.empty() && s.size() <= 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        warning(join(path, name), fmt::format("\"{}\" is the string \"{}\", not a number; read as {}", name, s, s));
        return std::stoull(s);
      }
    }
    error(join(path, name), fmt::format("\"{}\" is {}, not a non-negative integer", name, it->type_name()));
    return 0;
  }

  std::optional<std::int64_t> time_member(const json& obj, const std::string& path, const char* name, std::string& text) {
    text = string_member(obj, path, name, true);
    if (text.empty()) return std::nullopt;
    bool missing = false;
    auto t = parse_report_time(text, &missing);
    if (!t) {
      error(join(path, name), fmt::format("\"{}\" is not an RFC 3339 date-time", text));
    } else if (missing) {
      warning(join(path, name), fmt::format("\"{}\" has no time zone; read as UTC", text));
    }
    return t;
  }

  static std::string join(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
  }

  void read(const json& j) {
    if (!j.is_object()) {
      error("", fmt::format("the report is {}, not an object", j.type_name()));
      return;
    }
    // RFC 8460 §4.3 report fields.
    r_.organization = string_member(j, "", "organization-name", true);
    r_.contact = string_member(j, "", "contact-info", true);
    r_.report_id = string_member(j, "", "report-id", true);
    auto dr = j.find("date-range");
    if (dr == j.end()) {
      error("", "\"date-range\" is missing");
    } else if (!dr->is_object()) {
      error("date-range", "\"date-range\" is not an object");
    } else {
      r_.start = time_member(*dr, "date-range", "start-datetime", r_.start_text);
      r_.end = time_member(*dr, "date-range", "end-datetime", r_.end_text);
      if (r_.start && r_.end && *r_.end < *r_.start) error("date-range", "end-datetime is before start-datetime");
    }
    auto ps = j.find("policies");
    if (ps == j.end()) {
      error("", "\"policies\" is missing");
      return;
    }
    if (!ps->is_array()) {
      error("policies", "\"policies\" is not an array");
      return;
    }
    for (std::size_t i = 0; i < ps->size(); ++i) read_policy((*ps)[i], fmt::format("policies[{}]", i));
  }

  void read_policy(const json& p, const std::string& path) {
    tlsrpt_policy out;
    if (!p.is_object()) {
      error(path, "not an object");
      return;
    }
    auto pol = p.find("policy");
    if (pol == p.end() || !pol->is_object()) {
      error(path, pol == p.end() ? "\"policy\" is missing" : "\"policy\" is not an object");
    } else {
      std::string pp = path + ".policy";
      out.type_text = string_member(*pol, pp, "policy-type", true);
      out.type = out.type_text == "sts"               ? tlsrpt_policy_type::sts
                 : out.type_text == "tlsa"            ? tlsrpt_policy_type::tlsa
                 : out.type_text == "no-policy-found" ? tlsrpt_policy_type::no_policy_found
                                                      : tlsrpt_policy_type::other;
      if (out.type == tlsrpt_policy_type::other && !out.type_text.empty())
        error(pp + ".policy-type", fmt::format("policy-type \"{}\" is not sts, tlsa or no-policy-found", out.type_text));
      out.policy_domain = string_member(*pol, pp, "policy-domain", true);
      if (auto s = pol->find("policy-string"); s != pol->end()) {
        if (s->is_array()) {
          for (const auto& line : *s)
            if (line.is_string()) out.policy_string.push_back(line.get<std::string>());
            else error(pp + ".policy-string", "an element is not a string");
        } else if (s->is_string()) {
          warning(pp + ".policy-string", "a string, not an array of strings; read as one line");
          out.policy_string.push_back(s->get<std::string>());
        } else {
          error(pp + ".policy-string", "not an array of strings");
        }
      } else if (out.type == tlsrpt_policy_type::sts || out.type == tlsrpt_policy_type::tlsa) {
        warning(pp, "\"policy-string\" is missing");
      }
      // RFC 8460 §4.3 names the field "mx-host" in the prose and "mx-host-pattern" in its
      // example; reporters write either, as a list or as one string.
      for (const char* name : {"mx-host", "mx-host-pattern"}) {
        auto m = pol->find(name);
        if (m == pol->end()) continue;
        if (m->is_string()) out.mx_host.push_back(m->get<std::string>());
        else if (m->is_array())
          for (const auto& h : *m) {
            if (h.is_string()) out.mx_host.push_back(h.get<std::string>());
            else error(pp + "." + name, "an element is not a string");
          }
        else error(pp + "." + name, "not a string or an array of strings");
      }
    }
    auto sum = p.find("summary");
    if (sum == p.end() || !sum->is_object()) {
      error(path, sum == p.end() ? "\"summary\" is missing" : "\"summary\" is not an object");
    } else {
      out.successful = count_member(*sum, path + ".summary", "total-successful-session-count", true);
      out.failed = count_member(*sum, path + ".summary", "total-failure-session-count", true);
    }
    std::uint64_t detailed = 0;
    if (auto fd = p.find("failure-details"); fd != p.end()) {
      if (!fd->is_array()) {
        error(path + ".failure-details", "not an array");
      } else {
        for (std::size_t i = 0; i < fd->size(); ++i) {
          std::string fp = fmt::format("{}.failure-details[{}]", path, i);
          const json& f = (*fd)[i];
          if (!f.is_object()) {
            error(fp, "not an object");
            continue;
          }
          tlsrpt_failure x;
          x.result_text = string_member(f, fp, "result-type", true);
          auto r = parse_tlsrpt_result(x.result_text);
          x.result = r.value_or(tlsrpt_result::other);
          if (!r && !x.result_text.empty())
            warning(fp + ".result-type", fmt::format("result-type \"{}\" is not one of RFC 8460 §4.3.2", x.result_text));
          x.sending_mta_ip = string_member(f, fp, "sending-mta-ip", false);
          x.receiving_mx_hostname = string_member(f, fp, "receiving-mx-hostname", false);
          x.receiving_mx_helo = string_member(f, fp, "receiving-mx-helo", false);
          x.receiving_ip = string_member(f, fp, "receiving-ip", false);
          x.additional_information = string_member(f, fp, "additional-information", false);
          x.failure_reason_code = string_member(f, fp, "failure-reason-code", false);
          x.failed_sessions = count_member(f, fp, "failed-session-count", true);
          detailed += x.failed_sessions;
          out.failures.push_back(std::move(x));
        }
      }
    }
    if (detailed > out.failed)
      warning(path, fmt::format("failure-details count {} sessions, more than total-failure-session-count {}", detailed,
                                out.failed));
    r_.policies.push_back(std::move(out));
  }

  bool dropped_error() const { return dropped_error_; }

 private:
  tlsrpt_report& r_;
  const tlsrpt_limits& limits_;
  bool dropped_error_ = false;
};

}  // namespace

tlsrpt_report read_tlsrpt_json(std::string_view text, std::string_view source, const tlsrpt_limits& limits) {
  tlsrpt_report r;
  r.source = std::string(source);
  reader rd(r, limits);
  // Depth is bounded by nlohmann's recursion on the input; the size by max_report_octets.
  if (text.size() > limits.max_report_octets) {
    rd.error("", fmt::format("{} octets, over max_report_octets ({})", text.size(), limits.max_report_octets));
    return r;
  }
  // A report is a few levels deep; refuse deep nesting before the parser builds it.
  constexpr std::size_t max_depth = 64;
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        rd.error("", fmt::format("nested deeper than {} levels", max_depth));
        return r;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) {
    rd.error("", "not JSON");
    return r;
  }
  rd.read(j);
  r.valid = !rd.dropped_error() &&
            std::none_of(r.problems.begin(), r.problems.end(), [](const tlsrpt_problem& p) { return p.level == severity::error; });
  return r;
}

}  // namespace mxtls
