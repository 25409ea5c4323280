// Check "mta-sts" in the diagnosis: the domain's policy read from the check's facts, each
// probed address of an MX host judged as an MTA-STS sender judges it (RFC 8461 §4.1 the MX
// pattern, §4.2 the certificate: PKIX and the MX host's name), and the reasons that follow.
#include <fmt/format.h>

#include "mxtls/diagnosis.hpp"
#include "mxtls/mta_sts_dane.hpp"

namespace mxtls {

namespace {

void add(std::vector<reason>& v, reason_id id, std::string detail = {}) { v.push_back({id, -1, std::move(detail)}); }

// The first finding of at least `level` (its stable id), for a reason's detail.
std::string first_finding(std::span<const sts_finding> findings, severity level) {
  for (const auto& f : findings)
    if (f.level() == level) return std::string(f.entry().name);
  return {};
}

}  // namespace

void diagnose_mta_sts(const probe_facts& f, diagnosis& out, std::vector<reason>& domain) {
  if (!f.mta_sts) return;
  mta_sts_assessment a = assess_mta_sts(*f.mta_sts);
  switch (a.status) {
    case mta_sts_status::none:
    case mta_sts_status::valid: break;
    case mta_sts_status::txt_invalid: add(domain, reason_id::mta_sts_txt_invalid, first_finding(a.txt.findings, severity::error)); break;
    case mta_sts_status::fetch_failed: {
      const policy_fetch_result& r = f.mta_sts->fetch;
      std::string what = to_string(r.error);
      if (r.error == fetch_error::http_status || r.error == fetch_error::redirect) what += fmt::format(" {}", r.http_status);
      else if (r.error == fetch_error::content_type) what += " " + (r.content_type.empty() ? std::string("(none)") : r.content_type);
      else if (!r.detail.empty()) what += ": " + r.detail;
      add(domain, reason_id::mta_sts_fetch_failed, what);
      break;
    }
    case mta_sts_status::policy_invalid:
      add(domain, reason_id::mta_sts_policy_invalid, a.policy ? first_finding(a.policy->findings, severity::error) : "");
      break;
  }
  bool applies = a.status == mta_sts_status::valid && a.policy && a.policy->mode && *a.policy->mode != sts_mode::none;
  if (applies && *a.policy->mode == sts_mode::testing) add(domain, reason_id::mta_sts_testing);
  if (a.tls_rpt.status == txt_status::invalid) add(domain, reason_id::tls_rpt_invalid, first_finding(a.tls_rpt.findings, severity::error));
  else if (a.tls_rpt.status == txt_status::none && a.status != mta_sts_status::none) add(domain, reason_id::tls_rpt_missing);

  for (std::size_t i = 0; i < f.hosts.size() && i < out.hosts.size(); ++i) {
    const address_result& h = f.hosts[i];
    if (h.mx_host == no_index || h.mx_host >= f.mx_hosts.size()) continue;
    address_diagnosis& d = out.hosts[i];
    const starttls_facts* s = h.get<starttls_facts>();
    // A sender has decided once TLS is up (then the certificate counts) or cannot come up:
    // STARTTLS missing, refused or failing gives no certificate that verifies.
    bool known = false, ok = false;
    if (s && s->tls.established) {
      const tls_facts& t = s->tls;
      known = true;
      ok = t.chain_verified && t.name_checked && t.hostname_match && !t.expired && !t.not_yet_valid;
    } else if (s && d.answered && (d.outcome == probe_outcome::no_starttls || d.outcome == probe_outcome::starttls_fails)) {
      known = true;
    }
    const std::string& mx = f.mx_hosts[h.mx_host].name;
    d.mta_sts = assess_mta_sts_host(a, mx, known, ok);
    // The DANE layer of the same address (assessed first by diagnose()): RFC 8461 §2.
    if (d.dane) combine_with_dane(*d.mta_sts, d.dane->status);
    if (applies) {
      if (!d.mta_sts->verdict.matches) add(d.reasons, reason_id::mta_sts_mx_not_listed, mx);
      else if (known && !ok) add(d.reasons, reason_id::mta_sts_certificate_fails, mx);
    }
  }
  out.mta_sts = std::move(a);
}

}  // namespace mxtls
