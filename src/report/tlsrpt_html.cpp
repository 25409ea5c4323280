// The HTML report of TLS-RPT reports (mxtls tlsrpt --format html), on the shared page code
// (include/mxtls/html_page.hpp): what to fix first (each result type, ordered by the MX hosts
// and failed sessions it costs, with the reporting organisations and failure details), one
// row per policy and MX host, worst first, and every input that was not a valid report.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "mxtls/html_page.hpp"
#include "mxtls/tlsrpt_report.hpp"

namespace mxtls {
namespace {

using html::escape;

// Page severity of a result type: higher is worse (tls_rpt.hpp severity_rank: lower is worse).
int page_severity(tlsrpt_result r) { return 10 - severity_rank(r); }

const char* colour_of(tlsrpt_result r) {
  switch (r) {
    case tlsrpt_result::starttls_not_supported: return "#c62828";
    case tlsrpt_result::certificate_host_mismatch:
    case tlsrpt_result::certificate_expired:
    case tlsrpt_result::certificate_not_trusted:
    case tlsrpt_result::validation_failure: return "#ad1457";
    case tlsrpt_result::tlsa_invalid:
    case tlsrpt_result::dnssec_invalid:
    case tlsrpt_result::dane_required: return "#6a1b9a";
    case tlsrpt_result::sts_policy_fetch_error:
    case tlsrpt_result::sts_policy_invalid:
    case tlsrpt_result::sts_webpki_invalid: return "#ef6c00";
    case tlsrpt_result::other: return "#546e7a";
  }
  return "#546e7a";
}

// RFC 8460 §4.3.2: what the result type says, and what the receiving domain does about it.
struct result_words {
  const char* meaning;
  const char* fix;
};
result_words words_of(tlsrpt_result r) {
  switch (r) {
    case tlsrpt_result::starttls_not_supported:
      return {"the MX host does not offer STARTTLS", "Enable STARTTLS on the MX host; check nothing in front of it strips it (mxtls probe shows the EHLO reply)."};
    case tlsrpt_result::certificate_host_mismatch:
      return {"the certificate does not match the MX host name", "Install a certificate whose subjectAltName covers the MX host name."};
    case tlsrpt_result::certificate_expired: return {"the certificate has expired", "Renew the certificate, reload the server, automate the renewal."};
    case tlsrpt_result::certificate_not_trusted:
      return {"the certificate is not trusted", "Install a certificate from a public CA and send its intermediate chain."};
    case tlsrpt_result::validation_failure:
      return {"a validation failure of another kind", "Read the failure details; probe the MX host with mxtls probe."};
    case tlsrpt_result::tlsa_invalid:
      return {"no TLSA record matches the MX host's certificate (DANE)", "Publish the TLSA record of the served key (mxtls tlsa), keep the old one until caches expire."};
    case tlsrpt_result::dnssec_invalid:
      return {"DNSSEC validation failed for the MX host or its TLSA records", "Fix the zone's signatures and DS records."};
    case tlsrpt_result::dane_required:
      return {"the sender requires DANE and found no usable TLSA records", "Publish valid TLSA records in a signed zone."};
    case tlsrpt_result::sts_policy_fetch_error:
      return {"the MTA-STS policy could not be fetched",
              "Serve https://mta-sts.<domain>/.well-known/mta-sts.txt: status 200, text/plain, a certificate valid for mta-sts.<domain>, no redirect."};
    case tlsrpt_result::sts_policy_invalid:
      return {"the MTA-STS policy is invalid", "Fix the policy (mxtls lint --mta-sts FILE), then change the _mta-sts TXT id."};
    case tlsrpt_result::sts_webpki_invalid:
      return {"the MX certificate fails PKIX validation under MTA-STS", "Install a certificate from a public CA valid for the MX host name."};
    case tlsrpt_result::other: return {"a result type not in RFC 8460", "Read the failure details the reporter gave."};
  }
  return {"", ""};
}

std::string mx_name(const std::string& h) { return h.empty() ? std::string("(MX not named by the reporter)") : h; }
std::string policy_name(const std::string& type, const std::string& domain) {
  return (type.empty() ? std::string("?") : type) + " " + (domain.empty() ? std::string("(no domain)") : domain);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string render_tlsrpt_html(const tlsrpt_summary& s, const std::vector<tlsrpt_input>& inputs, const tlsrpt_html_options& opt) {
  std::ostringstream out;
  std::uint64_t total = s.successful + s.failed;
  html::page_info page{.title = opt.title, .note = {}, .warnings = {}};
  page.note = fmt::format("{} report{} from {} organisation{}; {} sessions, {} failed", s.reports, s.reports == 1 ? "" : "s",
                          s.organizations.size(), s.organizations.size() == 1 ? "" : "s", total, s.failed);
  if (s.period_start && s.period_end) page.note += fmt::format("; period {} to {}", format_utc(*s.period_start), format_utc(*s.period_end));
  if (!opt.generated.empty()) page.note += "; generated " + opt.generated;
  if (s.invalid_reports + s.unreadable > 0)
    page.warnings.push_back(fmt::format("{} of {} input file{}: {} unreadable, {} invalid report{} (listed under Inputs; an invalid "
                                        "report's counts are included as far as they could be read)",
                                        s.unreadable + s.invalid_reports, s.inputs, s.inputs == 1 ? "" : "s", s.unreadable,
                                        s.invalid_reports, s.invalid_reports == 1 ? "" : "s"));
  html::begin_page(out, page);

  // Rows: each policy's MX hosts with failures; a policy without failures is one row.
  struct row {
    const tlsrpt_policy_summary* policy;
    const tlsrpt_mx_summary* mx;  // null: the policy's row without failures
    std::string outcome;
    int severity;
    const char* colour;
  };
  std::vector<row> rows;
  for (const auto& p : s.policies) {
    for (const auto& m : p.mx_hosts) {
      tlsrpt_result worst = m.results.empty() ? tlsrpt_result::other : m.results.front().result;
      std::string text = m.results.empty() ? std::string("other") : m.results.front().result_text;
      for (const auto& r : m.results)
        if (page_severity(r.result) > page_severity(worst)) worst = r.result, text = r.result_text;
      rows.push_back({&p, &m, text, page_severity(worst), colour_of(worst)});
    }
    if (p.mx_hosts.empty()) rows.push_back({&p, nullptr, "successful", 0, "#2e7d32"});
  }

  // Cards, choices and legend: the rows' outcomes, worst first.
  std::map<std::string, std::pair<std::uint64_t, const row*>> counts;
  for (const auto& r : rows) {
    auto& c = counts[r.outcome];
    ++c.first;
    c.second = &r;
  }
  std::vector<const row*> kinds;
  for (const auto& [o, c] : counts) kinds.push_back(c.second);
  std::stable_sort(kinds.begin(), kinds.end(), [](const row* a, const row* b) { return a->severity > b->severity; });
  std::vector<html::card> cards;
  std::vector<html::filter_choice> choices;
  std::vector<html::outcome_class> legend;
  for (const row* k : kinds) {
    cards.push_back({.tag = k->outcome, .label = k->outcome, .colour = k->colour, .count = counts[k->outcome].first});
    choices.push_back({.tag = k->outcome, .label = k->outcome, .count = counts[k->outcome].first});
  }
  for (auto r : {tlsrpt_result::starttls_not_supported, tlsrpt_result::certificate_host_mismatch, tlsrpt_result::certificate_expired,
                 tlsrpt_result::certificate_not_trusted, tlsrpt_result::validation_failure, tlsrpt_result::tlsa_invalid,
                 tlsrpt_result::dnssec_invalid, tlsrpt_result::dane_required, tlsrpt_result::sts_policy_fetch_error,
                 tlsrpt_result::sts_policy_invalid, tlsrpt_result::sts_webpki_invalid, tlsrpt_result::other})
    legend.push_back({.id = to_string(r), .label = to_string(r), .colour = colour_of(r), .meaning = words_of(r).meaning,
                      .severity = page_severity(r)});
  legend.push_back({.id = "successful", .label = "successful", .colour = "#2e7d32",
                    .meaning = "the policy's sessions all succeeded (no failure reported)", .severity = 0});
  std::erase_if(legend, [&](const html::outcome_class& c) { return !counts.count(c.id); });  // the outcomes this report has
  html::write_cards(out, cards);
  html::write_legend(out, legend);
  out << "<p class=\"note\">A row's outcome is the worst result type reported for its MX host (RFC 8460 §4.3.2).</p>\n";

  // Problems: each result type over every report: the (policy, MX host) pairs and failed
  // sessions it costs, the organisations that reported it, the failure details.
  struct acc {
    std::set<std::pair<std::string, std::string>> where;
    std::uint64_t sessions = 0;
    std::set<std::string> orgs;
    std::vector<std::string> examples, details;
    tlsrpt_result result = tlsrpt_result::other;
  };
  constexpr std::size_t examples = 5, details = 5;
  std::map<std::string, acc> by_result;
  for (const auto& in : inputs)
    for (const auto& rep : in.reports)
      for (const auto& pol : rep.policies)
        for (const auto& f : pol.failures) {
          acc& a = by_result[f.result_text];
          a.result = f.result;
          a.sessions += f.failed_sessions;
          a.orgs.insert(rep.organization.empty() ? std::string("(unnamed)") : rep.organization);
          if (a.where.insert({pol.policy_domain, f.receiving_mx_hostname}).second && a.examples.size() < examples)
            a.examples.push_back(mx_name(f.receiving_mx_hostname) + " (" + policy_name(pol.type_text, pol.policy_domain) + ")");
          for (const std::string* d : {&f.additional_information, &f.failure_reason_code})
            if (!d->empty() && a.details.size() < details && std::find(a.details.begin(), a.details.end(), *d) == a.details.end())
              a.details.push_back(*d);
        }
  std::vector<html::problem> problems;
  for (auto& [text, a] : by_result) {
    result_words w = words_of(a.result);
    std::string detail_html;
    if (!a.details.empty()) {
      detail_html = "<p>Failure details:</p><pre class=\"evidence\">";
      for (const auto& d : a.details) detail_html += escape(d) + "\n";
      detail_html += "</pre>";
    }
    std::string title = a.result == tlsrpt_result::other ? text + ": " + w.meaning : std::string(w.meaning);
    if (a.result != tlsrpt_result::other && !title.empty() && title[0] >= 'a' && title[0] <= 'z') title[0] = static_cast<char>(title[0] - 'a' + 'A');
    problems.push_back({.id = text,
                        .title = title,
                        .fix = w.fix,
                        .severity = page_severity(a.result),
                        .severity_word = "error",
                        .destinations = a.where.size(),
                        .messages = a.sessions,
                        .senders = std::vector<std::string>(a.orgs.begin(), a.orgs.end()),
                        .examples = a.examples,
                        .details_html = detail_html});
  }
  html::write_fix_first(out, std::move(problems),
                        {.destinations = "MX hosts",
                         .messages = "failed sessions",
                         .senders = "reporting organisations",
                         .order_note = "Each result type once, ordered by how many MX hosts (per policy) it was reported "
                                       "for, then how many sessions failed, then how many organisations reported it."});

  std::vector<html::bar> bars;
  for (const auto& r : s.results)
    bars.push_back({.label = r.result_text, .count = r.failed, .colour = colour_of(r.result)});
  html::begin_charts(out);
  html::write_bar_chart(out, "chart-results", "Failed sessions by result type", bars);
  html::end_charts(out);

  const std::vector<html::column> columns{{.title = "Policy"},
                                          {.title = "MX host"},
                                          {.title = "Outcome", .severity = true},
                                          {.title = "Failed sessions", .numeric = true},
                                          {.title = "Result types"},
                                          {.title = "Reported by"},
                                          {.title = "Receiving IPs"},
                                          {.title = "Details"}};
  html::begin_table(out, columns, choices);
  for (const auto& r : rows) {
    const tlsrpt_policy_summary& p = *r.policy;
    std::string policy = fmt::format("{}: {} failed of {}", policy_name(p.type_text, p.policy_domain), p.failed, p.successful + p.failed);
    std::string tags = r.outcome, results, orgs, ips, detail;
    std::uint64_t failed = 0;
    if (r.mx) {
      failed = r.mx->failed;
      for (const auto& x : r.mx->results) {
        tags += " p:" + x.result_text;
        results += fmt::format("{}{} {}", results.empty() ? "" : ", ", x.result_text, x.failed);
      }
      orgs = join(r.mx->organizations);
      ips = join(r.mx->receiving_ips);
      detail = join(r.mx->details);
    } else {
      std::vector<std::string> names;
      for (const auto& o : p.organizations) names.push_back(o.organization.empty() ? std::string("(unnamed)") : o.organization);
      orgs = join(names);
    }
    std::string key = std::to_string(static_cast<std::uint64_t>(r.severity) * 1'000'000'000'000ull + std::min<std::uint64_t>(failed, 999'999'999'999ull));
    const std::vector<html::cell> cells{
        {.html = escape(policy), .key = {}},
        {.html = r.mx ? escape(mx_name(r.mx->host)) : std::string("-"), .key = {}},
        {.html = fmt::format("<span class=\"pill\" style=\"background:{}\">{}</span>", r.colour, escape(r.outcome)), .key = key},
        {.html = std::to_string(failed), .key = {}},
        {.html = escape(results), .key = {}},
        {.html = escape(orgs), .key = {}},
        {.html = escape(ips), .key = {}},
        {.html = escape(detail), .key = {}}};
    html::write_row(out, columns, r.outcome, tags, cells);
  }
  html::end_table(out);

  // Every input: reports with their problems, inputs that held none.
  out << "<h2 id=\"inputs\">Inputs</h2>\n<ul class=\"inputs\">\n";
  for (const auto& in : inputs) {
    for (const auto& u : in.unreadable)
      out << fmt::format("<li class=\"sev-error\"><span class=\"sev\">unreadable</span> {}: {}</li>\n", escape(u.source), escape(u.message));
    for (const auto& rep : in.reports) {
      out << fmt::format("<li class=\"sev-{}\"><span class=\"sev\">{}</span> {}{}{}{}", rep.valid ? "info" : "error",
                         rep.valid ? "valid" : "invalid", escape(rep.source), rep.report_id.empty() ? "" : " " + escape(rep.report_id),
                         rep.organization.empty() ? "" : " from " + escape(rep.organization),
                         rep.start_text.empty() ? "" : ", " + escape(rep.start_text) + " to " + escape(rep.end_text));
      if (!rep.problems.empty() || rep.problems_dropped) {
        out << "<ul>";
        for (const auto& pr : rep.problems)
          out << fmt::format("<li>{} {}{}{}</li>", to_string(pr.level), escape(pr.path), pr.path.empty() ? "" : ": ", escape(pr.message));
        if (rep.problems_dropped) out << fmt::format("<li>{} more problems (max_problems)</li>", rep.problems_dropped);
        out << "</ul>";
      }
      out << "</li>\n";
    }
  }
  out << "</ul>\n";
  html::end_page(out);
  return out.str();
}

}  // namespace mxtls
