// Many TLS-RPT reports into one view: per policy, per MX host, per result type, worst first.
#include <algorithm>
#include <map>

#include "mxtls/tls_rpt.hpp"

namespace mxtls {

namespace {

constexpr std::size_t max_listed = 16;  // distinct IPs, details, policy strings kept per entry

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

void add_distinct(std::vector<std::string>& v, const std::string& s) {
  if (s.empty() || v.size() >= max_listed) return;
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

void add_result(std::vector<tlsrpt_count_by_result>& v, const tlsrpt_failure& f) {
  for (auto& r : v)
    if (r.result_text == f.result_text) {
      r.failed += f.failed_sessions;
      return;
    }
  v.push_back({f.result, f.result_text, f.failed_sessions});
}

void add_org(std::vector<tlsrpt_org_count>& v, const std::string& org, std::uint64_t ok, std::uint64_t failed, bool new_report) {
  for (auto& o : v)
    if (o.organization == org) {
      o.successful += ok;
      o.failed += failed;
      if (new_report) ++o.reports;
      return;
    }
  v.push_back({org, ok, failed, new_report ? std::size_t{1} : std::size_t{0}});
}

tlsrpt_mx_summary& mx_of(std::vector<tlsrpt_mx_summary>& v, const std::string& host) {
  for (auto& m : v)
    if (m.host == host) return m;
  v.push_back({.host = host});
  return v.back();
}

void add_failure(tlsrpt_mx_summary& m, const tlsrpt_failure& f, const std::string& org) {
  m.failed += f.failed_sessions;
  add_result(m.results, f);
  add_distinct(m.organizations, org);
  add_distinct(m.receiving_ips, f.receiving_ip);
  add_distinct(m.details, f.failure_reason_code);
  add_distinct(m.details, f.additional_information);
}

// Most failed sessions first; among equals the worse result type, then the name.
void sort_results(std::vector<tlsrpt_count_by_result>& v) {
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.failed != b.failed) return a.failed > b.failed;
    if (severity_rank(a.result) != severity_rank(b.result)) return severity_rank(a.result) < severity_rank(b.result);
    return a.result_text < b.result_text;
  });
}
int worst_rank(const std::vector<tlsrpt_count_by_result>& v) {
  int r = 99;
  for (const auto& x : v)
    if (x.failed > 0) r = std::min(r, severity_rank(x.result));
  return r;
}
void sort_mx(std::vector<tlsrpt_mx_summary>& v) {
  for (auto& m : v) sort_results(m.results);
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.failed != b.failed) return a.failed > b.failed;
    if (worst_rank(a.results) != worst_rank(b.results)) return worst_rank(a.results) < worst_rank(b.results);
    return a.host < b.host;
  });
}
void sort_orgs(std::vector<tlsrpt_org_count>& v) {
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.failed != b.failed) return a.failed > b.failed;
    return a.organization < b.organization;
  });
}

}  // namespace

tlsrpt_summary summarise(const std::vector<tlsrpt_input>& inputs) {
  tlsrpt_summary s;
  s.inputs = inputs.size();
  std::map<std::pair<std::string, std::string>, std::size_t> policy_index;
  for (const auto& in : inputs) {
    s.unreadable += in.unreadable.size();
    for (const auto& r : in.reports) {
      ++s.reports;
      (r.valid ? s.valid_reports : s.invalid_reports) += 1;
      if (r.start && (!s.period_start || *r.start < *s.period_start)) s.period_start = r.start;
      if (r.end && (!s.period_end || *r.end > *s.period_end)) s.period_end = r.end;
      std::uint64_t ok = 0, failed = 0;
      std::vector<std::size_t> counted;  // policies this report already counted as a report for the org
      for (const auto& p : r.policies) {
        ok += p.successful;
        failed += p.failed;
        auto key = std::make_pair(lower(p.policy_domain), p.type_text);
        auto [it, fresh] = policy_index.try_emplace(key, s.policies.size());
        if (fresh) s.policies.push_back({.policy_domain = key.first, .type = p.type, .type_text = p.type_text});
        tlsrpt_policy_summary& ps = s.policies[it->second];
        ps.successful += p.successful;
        ps.failed += p.failed;
        std::string joined;
        for (const auto& line : p.policy_string) joined += (joined.empty() ? "" : "; ") + line;
        add_distinct(ps.policy_strings, joined);
        bool first_here = std::find(counted.begin(), counted.end(), it->second) == counted.end();
        if (first_here) counted.push_back(it->second);
        add_org(ps.organizations, r.organization, p.successful, p.failed, first_here);
        for (const auto& f : p.failures) {
          std::string host = lower(f.receiving_mx_hostname);
          if (!host.empty() && host.back() == '.') host.pop_back();
          add_failure(mx_of(ps.mx_hosts, host), f, r.organization);
          add_failure(mx_of(s.mx_hosts, host), f, r.organization);
          add_result(ps.results, f);
          add_result(s.results, f);
        }
      }
      s.successful += ok;
      s.failed += failed;
      add_org(s.organizations, r.organization, ok, failed, true);
    }
  }
  for (auto& p : s.policies) {
    sort_results(p.results);
    sort_mx(p.mx_hosts);
    sort_orgs(p.organizations);
  }
  std::stable_sort(s.policies.begin(), s.policies.end(), [](const auto& a, const auto& b) {
    if (a.failed != b.failed) return a.failed > b.failed;
    if (worst_rank(a.results) != worst_rank(b.results)) return worst_rank(a.results) < worst_rank(b.results);
    return a.policy_domain < b.policy_domain;
  });
  sort_mx(s.mx_hosts);
  sort_results(s.results);
  sort_orgs(s.organizations);
  return s;
}

}  // namespace mxtls
