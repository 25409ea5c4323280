#include "mxtls/mta_sts_report.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace mxtls {

namespace {

std::string_view level_color(severity s, bool on) {
  if (!on) return {};
  switch (s) {
    case severity::error: return "\033[1;31m";
    case severity::warning: return "\033[1;33m";
    case severity::info: return "\033[1;36m";
  }
  return {};
}

// One display column per octet so that the caret lines up (as the EHLO lint shows lines).
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\t') c = ' ';
    else if (u < 32 || u > 126) c = '?';
  }
  return out;
}

void render_finding(std::string& out, const sts_finding& f, std::string_view name, bool color) {
  const auto& e = f.entry();
  std::string_view reset = color ? "\033[0m" : "", bold = color ? "\033[1m" : "", dim = color ? "\033[2m" : "";
  fmt::format_to(std::back_inserter(out), "{}{}[{}]{}{}: {}{}\n", level_color(e.level, color), to_string(e.level),
                 e.name, reset, bold, f.message, reset);
  fmt::format_to(std::back_inserter(out), "  {}-->{} {}:{}:{}\n", dim, reset, name, f.line, f.column);
  if (!f.excerpt.empty()) {
    constexpr std::size_t window = 100;
    std::size_t start = f.column > window ? f.column - window / 2 : 1;
    std::string_view line = f.excerpt;
    std::string shown = printable(line.substr(std::min(line.size(), start - 1), window + window / 2));
    std::string lead = start > 1 ? "..." : "";
    std::string num = std::to_string(f.line), pad(num.size(), ' ');
    fmt::format_to(std::back_inserter(out), "  {} {}|{}\n  {} {}|{} {}{}\n", pad, dim, reset, num, dim, reset, lead, shown);
    fmt::format_to(std::back_inserter(out), "  {} {}|{} {}{}{}{}\n", pad, dim, reset,
                   std::string(lead.size() + (f.column - start), ' '), level_color(e.level, color),
                   std::string(std::min<std::size_t>(f.width, 80), '^'), reset);
  }
  fmt::format_to(std::back_inserter(out), "  = {}\n  = why: {}\n  = fix: {}\n\n", e.rfc, e.summary, e.fix);
}

}  // namespace

std::string render_policy_lint_text(const sts_policy& p, std::string_view name, bool color) {
  std::string out;
  auto c = count(p.findings);
  std::string_view reset = color ? "\033[0m" : "";
  std::string head;
  if (p.valid)
    head = fmt::format("MTA-STS policy valid: mode {}, {} mx pattern{}, max_age {}", p.mode ? to_string(*p.mode) : "?",
                       p.mx.size(), p.mx.size() == 1 ? "" : "s", p.max_age ? *p.max_age : 0);
  else
    head = fmt::format("MTA-STS policy invalid: senders that honour MTA-STS apply no policy ({} error{})", c.errors,
                       c.errors == 1 ? "" : "s");
  std::string_view head_color = !color ? "" : !p.valid ? "\033[1;31m" : c.warnings ? "\033[1;33m" : "\033[1;32m";
  fmt::format_to(std::back_inserter(out), "{}{}{}\n\n", head_color, head, reset);
  for (const auto& f : p.findings) render_finding(out, f, name, color);
  if (p.findings_dropped)
    fmt::format_to(std::back_inserter(out), "{} more finding{} not shown (max_findings)\n\n", p.findings_dropped,
                   p.findings_dropped == 1 ? "" : "s");
  fmt::format_to(std::back_inserter(out), "{} error{}, {} warning{}, {} note{}; {} line{}, {} octets\n", c.errors,
                 c.errors == 1 ? "" : "s", c.warnings, c.warnings == 1 ? "" : "s", c.infos, c.infos == 1 ? "" : "s",
                 p.lines, p.lines == 1 ? "" : "s", p.octets);
  return out;
}

void write_sts_findings(json_writer& w, std::span<const sts_finding> findings) {
  w.begin_array();
  for (const auto& f : findings) {
    const auto& e = f.entry();
    w.begin_object().member("id", e.name).member("severity", to_string(e.level));
    w.member("line", f.line).member("column", f.column).member("width", f.width);
    w.member("message", f.message).member("excerpt", f.excerpt).member("rfc", e.rfc);
    w.member("summary", e.summary).member("fix", e.fix).end_object();
  }
  w.end_array();
}

void write_sts_policy_values(json_writer& w, const sts_policy& p) {
  w.begin_object();
  w.member_if("mode", p.mode.has_value(), p.mode ? to_string(*p.mode) : "");
  w.member_if("max_age", p.max_age.has_value(), p.max_age.value_or(0));
  w.key("mx").begin_array();
  for (const auto& m : p.mx) w.value(m.text);
  w.end_array().end_object();
}

std::string render_policy_lint_json(const sts_policy& p, std::string_view name) {
  std::string out;
  json_writer w(out, 2);
  auto c = count(p.findings);
  w.begin_object().member("schema", "mxtls-lint-mta-sts").member("version", mta_sts_lint_json_version);
  w.key("input").begin_object().member("name", name).member("octets", p.octets).member("lines", p.lines);
  w.member("crlf_lines", p.crlf_lines).member("lf_lines", p.lf_lines).member("cr_lines", p.cr_lines).end_object();
  w.member("valid", p.valid);
  w.key("policy");
  write_sts_policy_values(w, p);
  w.key("counts").begin_object().member("errors", c.errors).member("warnings", c.warnings).member("infos", c.infos);
  w.member("not_shown", p.findings_dropped).end_object();
  w.key("findings");
  write_sts_findings(w, p.findings);
  w.end_object();
  return out;
}

}  // namespace mxtls
