#include "mxtls/tlsrpt_report.hpp"

#include <fmt/format.h>

#include <chrono>

#include "mxtls/json_writer.hpp"

namespace mxtls {

std::string format_utc(std::int64_t t) {
  using namespace std::chrono;
  std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  std::int64_t secs = t - days * 86400;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), secs / 3600, secs / 60 % 60, secs % 60);
}

namespace {

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

struct colors {
  bool on;
  std::string_view red() const { return on ? "\033[1;31m" : ""; }
  std::string_view yellow() const { return on ? "\033[1;33m" : ""; }
  std::string_view green() const { return on ? "\033[1;32m" : ""; }
  std::string_view bold() const { return on ? "\033[1m" : ""; }
  std::string_view reset() const { return on ? "\033[0m" : ""; }
};

std::string host_name(const std::string& h) { return h.empty() ? std::string("(MX not named by the reporter)") : h; }

void write_results(std::string& out, const std::vector<tlsrpt_count_by_result>& rs, std::string_view indent) {
  std::size_t width = 0;
  for (const auto& r : rs) width = std::max(width, r.result_text.size());
  for (const auto& r : rs) fmt::format_to(std::back_inserter(out), "{}{:<{}}  {}\n", indent, r.result_text, width, r.failed);
}

std::string list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string render_tlsrpt_text(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs, bool color) {
  colors c{color};
  std::string out;
  std::uint64_t total = s.successful + s.failed;
  std::string orgs;
  for (std::size_t i = 0; i < s.organizations.size() && i < 5; ++i)
    orgs += (i ? ", " : "") + (s.organizations[i].organization.empty() ? std::string("(unnamed)") : s.organizations[i].organization);
  if (s.organizations.size() > 5) orgs += fmt::format(" and {} more", s.organizations.size() - 5);
  std::string_view head = s.failed > 0 ? c.red() : (s.invalid_reports + s.unreadable) > 0 ? c.yellow() : c.green();
  fmt::format_to(std::back_inserter(out), "{}TLS-RPT: {} report{} from {} organisation{}{}{}{}\n", head, s.reports,
                 s.reports == 1 ? "" : "s", s.organizations.size(), s.organizations.size() == 1 ? "" : "s",
                 orgs.empty() ? "" : " (" + orgs + ")", c.reset(), "");
  if (s.period_start && s.period_end)
    fmt::format_to(std::back_inserter(out), "Period: {} to {}\n", format_utc(*s.period_start), format_utc(*s.period_end));
  fmt::format_to(std::back_inserter(out), "Sessions: {} successful, {} failed ({} failed)\n", s.successful, s.failed,
                 percent(s.failed, total));
  fmt::format_to(std::back_inserter(out), "Input: {} file{}, {} valid report{}, {} invalid, {} unreadable{}\n", s.inputs,
                 s.inputs == 1 ? "" : "s", s.valid_reports, s.valid_reports == 1 ? "" : "s", s.invalid_reports, s.unreadable,
                 (s.invalid_reports + s.unreadable) ? " (listed at the end)" : "");

  for (const auto& p : s.policies) {
    std::uint64_t pt = p.successful + p.failed;
    fmt::format_to(std::back_inserter(out), "\n{}{}Policy {} {}{}: {} failed of {} sessions ({})\n", p.failed ? c.red() : c.green(),
                   "", p.type_text.empty() ? "?" : p.type_text, p.policy_domain.empty() ? "(no domain)" : p.policy_domain,
                   c.reset(), p.failed, pt, percent(p.failed, pt));
    for (const auto& ps : p.policy_strings) fmt::format_to(std::back_inserter(out), "  policy: {}\n", ps);
    out += "  organisations:";
    for (std::size_t i = 0; i < p.organizations.size(); ++i) {
      const auto& o = p.organizations[i];
      fmt::format_to(std::back_inserter(out), "{} {} {} failed of {}", i ? ";" : "", o.organization.empty() ? "(unnamed)" : o.organization,
                     o.failed, o.successful + o.failed);
    }
    out += "\n";
    for (const auto& m : p.mx_hosts) {
      fmt::format_to(std::back_inserter(out), "  {}MX {}{}: {} failed sessions, reported by {}\n", c.bold(), host_name(m.host), c.reset(),
                     m.failed, list(m.organizations));
      write_results(out, m.results, "      ");
      if (!m.receiving_ips.empty()) fmt::format_to(std::back_inserter(out), "    receiving IPs: {}\n", list(m.receiving_ips));
      for (const auto& d : m.details) fmt::format_to(std::back_inserter(out), "    detail: {}\n", d);
    }
  }
  if (!s.results.empty()) {
    out += "\nResult types, all policies:\n";
    write_results(out, s.results, "  ");
  }
  if (s.mx_hosts.size() > 1) {
    out += "\nMX hosts, all policies:\n";
    for (const auto& m : s.mx_hosts) {
      std::string worst = m.results.empty() ? "" : m.results.front().result_text;
      fmt::format_to(std::back_inserter(out), "  {}  {} failed (most: {})\n", host_name(m.host), m.failed, worst);
    }
  }
  bool any_problem = false;
  for (const auto& in : inputs) {
    for (const auto& r : in.reports)
      if (!r.problems.empty() || r.problems_dropped) any_problem = true;
    if (!in.unreadable.empty()) any_problem = true;
  }
  if (any_problem) {
    out += "\nProblems:\n";
    for (const auto& in : inputs) {
      for (const auto& u : in.unreadable)
        fmt::format_to(std::back_inserter(out), "  {}{}: unreadable: {}{}\n", c.red(), u.source, u.message, c.reset());
      for (const auto& r : in.reports) {
        if (r.problems.empty() && !r.problems_dropped) continue;
        fmt::format_to(std::back_inserter(out), "  {}{}{}: {} report{}{}\n", r.valid ? c.yellow() : c.red(), r.source, c.reset(),
                       r.valid ? "valid" : "invalid", r.report_id.empty() ? "" : " " + r.report_id,
                       r.organization.empty() ? "" : " from " + r.organization);
        for (const auto& p : r.problems)
          fmt::format_to(std::back_inserter(out), "    {} {}{}{}\n", to_string(p.level), p.path, p.path.empty() ? "" : ": ", p.message);
        if (r.problems_dropped) fmt::format_to(std::back_inserter(out), "    {} more problems (max_problems)\n", r.problems_dropped);
      }
    }
  }
  return out;
}

namespace {

void write_results_json(json_writer& w, const std::vector<tlsrpt_count_by_result>& rs) {
  w.begin_array();
  for (const auto& r : rs)
    w.begin_object().member("result_type", r.result_text).member("known", r.result != tlsrpt_result::other).member("failed", r.failed).end_object();
  w.end_array();
}

void write_orgs_json(json_writer& w, const std::vector<tlsrpt_org_count>& os) {
  w.begin_array();
  for (const auto& o : os)
    w.begin_object().member("organization", o.organization).member("reports", o.reports).member("successful", o.successful)
        .member("failed", o.failed).end_object();
  w.end_array();
}

void write_mx_json(json_writer& w, const std::vector<tlsrpt_mx_summary>& ms) {
  w.begin_array();
  for (const auto& m : ms) {
    w.begin_object().member_if("host", !m.host.empty(), m.host).member("failed", m.failed);
    w.key("results");
    write_results_json(w, m.results);
    w.key("organizations").strings(m.organizations);
    w.key("receiving_ips").strings(m.receiving_ips);
    w.key("details").strings(m.details);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string render_tlsrpt_json(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs) {
  std::string out;
  json_writer w(out, 2);
  w.begin_object().member("schema", "mxtls-tlsrpt").member("version", tlsrpt_json_version);
  w.key("input").begin_object().member("files", s.inputs).member("reports", s.reports).member("valid_reports", s.valid_reports);
  w.member("invalid_reports", s.invalid_reports).member("unreadable", s.unreadable).end_object();
  w.key("period");
  if (s.period_start && s.period_end)
    w.begin_object().member("start", format_utc(*s.period_start)).member("end", format_utc(*s.period_end)).end_object();
  else
    w.null();
  w.key("sessions").begin_object().member("successful", s.successful).member("failed", s.failed).end_object();
  w.key("organizations");
  write_orgs_json(w, s.organizations);
  w.key("policies").begin_array();
  for (const auto& p : s.policies) {
    w.begin_object().member("policy_domain", p.policy_domain).member("policy_type", p.type_text);
    w.key("policy_strings").strings(p.policy_strings);
    w.member("successful", p.successful).member("failed", p.failed);
    w.key("organizations");
    write_orgs_json(w, p.organizations);
    w.key("mx_hosts");
    write_mx_json(w, p.mx_hosts);
    w.key("results");
    write_results_json(w, p.results);
    w.end_object();
  }
  w.end_array();
  w.key("mx_hosts");
  write_mx_json(w, s.mx_hosts);
  w.key("results");
  write_results_json(w, s.results);
  w.key("reports").begin_array();
  for (const auto& in : inputs)
    for (const auto& r : in.reports) {
      w.begin_object().member("source", r.source).member("valid", r.valid).member("organization", r.organization);
      w.member("report_id", r.report_id).member("contact", r.contact);
      w.member("start", r.start_text).member("end", r.end_text);
      w.key("mail");
      if (!r.mail_content_type.empty())
        w.begin_object().member("content_type", r.mail_content_type).member("report_domain", r.mail_report_domain)
            .member("submitter", r.mail_submitter).end_object();
      else
        w.null();
      w.key("problems").begin_array();
      for (const auto& p : r.problems)
        w.begin_object().member("level", to_string(p.level)).member("path", p.path).member("message", p.message).end_object();
      w.end_array();
      w.member("problems_not_shown", r.problems_dropped);
      w.end_object();
    }
  w.end_array();
  w.key("unreadable").begin_array();
  for (const auto& in : inputs)
    for (const auto& u : in.unreadable) w.begin_object().member("source", u.source).member("message", u.message).end_object();
  w.end_array();
  w.end_object();
  return out;
}

}  // namespace mxtls
