// The probe's check "mta-sts" in words and JSON: the top-level "mta_sts" and "tls_rpt"
// objects, each host's "mta_sts_match" and "mta_sts", the text lines, the reasons' words
// (docs/probe-json.md).
#include <fmt/format.h>

#include "mxtls/mta_sts_report.hpp"
#include "mxtls/probe_report.hpp"

namespace mxtls {

namespace {

void write_lookup(json_writer& w, const dns_lookup& l) {
  w.member("name", l.name).member("lookup", to_string(l.status)).member("dnssec", to_string(l.dnssec));
}

void write_texts(json_writer& w, const std::vector<std::string>& texts) {
  w.begin_array();
  for (const auto& t : texts) w.value(t);
  w.end_array();
}

const char* certificate_word(const sts_mx_verdict& v) {
  if (!v.certificate_known) return "unknown";
  return v.certificate_ok ? "verified" : "fails";
}

}  // namespace

std::string render_mta_sts_reason(const reason& r) {
  const std::string& d = r.detail;
  switch (r.id) {
    case reason_id::mta_sts_txt_invalid:
      return "the _mta-sts TXT record is invalid (" + d + "): senders take the domain as having no MTA-STS policy";
    case reason_id::mta_sts_fetch_failed:
      return "the MTA-STS policy cannot be fetched (" + d + "): senders without a cached policy deliver as without MTA-STS";
    case reason_id::mta_sts_policy_invalid:
      return "the MTA-STS policy is invalid (" + d + "): senders do not apply it";
    case reason_id::mta_sts_testing:
      return "the MTA-STS policy is in mode testing: failures are reported (TLS-RPT), mail is still delivered";
    case reason_id::mta_sts_mx_not_listed: return "MX host " + d + " is not covered by the MTA-STS policy's mx patterns";
    case reason_id::mta_sts_certificate_fails:
      return "MX host " + d + " has no certificate that verifies for its name, as MTA-STS requires (RFC 8461 §4.2)";
    case reason_id::tls_rpt_invalid: return "the _smtp._tls TXT record is invalid (" + d + "): no TLS-RPT reports are sent";
    case reason_id::tls_rpt_missing:
      return "the domain has MTA-STS but no _smtp._tls TXT record: senders' failures to deliver are not reported";
    default: return to_string(r.id);
  }
}

void write_probe_mta_sts(json_writer& w, const probe_report& r) {
  const probe_facts& f = r.facts;
  const auto& a = r.diagnosis.mta_sts;
  w.key("mta_sts");
  if (!f.mta_sts || !a) {
    w.null();
  } else {
    const mta_sts_facts& m = *f.mta_sts;
    w.begin_object().member("status", to_string(a->status)).member("domain", m.domain).member("cached", m.cached);
    w.key("txt").begin_object();
    write_lookup(w, m.txt_lookup);
    w.key("records");
    write_texts(w, m.txt);
    w.key("id").value_or_null(a->txt.status == txt_status::valid ? a->txt.id : std::string());
    w.key("findings");
    write_sts_findings(w, a->txt.findings);
    w.end_object();
    w.key("policy");
    if (a->policy) {
      // {"mode", "max_age", "mx"} as write_sts_policy_values has them, the reader's verdict and findings beside them.
      w.begin_object();
      w.member_if("mode", a->policy->mode.has_value(), a->policy->mode ? to_string(*a->policy->mode) : "");
      w.member_if("max_age", a->policy->max_age.has_value(), a->policy->max_age.value_or(0));
      w.key("mx").begin_array();
      for (const auto& p : a->policy->mx) w.value(p.text);
      w.end_array();
      w.member("valid", a->policy->valid).key("findings");
      write_sts_findings(w, a->policy->findings);
      w.end_object();
    } else {
      w.null();
    }
    w.key("fetch");
    if (m.fetched) {
      const policy_fetch_result& x = m.fetch;
      w.begin_object().member("url", x.url).key("addresses");
      write_texts(w, x.addresses);
      w.key("address").value_or_null(x.address_used);
      w.member_if("http_status", x.http_status > 0, x.http_status);
      w.key("content_type").value_or_null(x.content_type).key("location").value_or_null(x.location);
      w.key("error");
      if (x.ok()) w.null();
      else w.value(to_string(x.error));
      w.key("detail").value_or_null(x.detail).member("elapsed_ms", x.elapsed_ms).end_object();
    } else {
      w.null();
    }
    w.key("policy_host").begin_array();
    for (const auto& l : m.policy_host_lookups) {
      w.begin_object().member("type", to_string(l.type));
      write_lookup(w, l);
      w.member("records", l.records).end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.key("tls_rpt");
  if (!f.mta_sts || !a) {
    w.null();
  } else {
    w.begin_object().member("status", tls_rpt_status_word(a->tls_rpt));
    write_lookup(w, f.mta_sts->tls_rpt_lookup);
    w.key("records");
    write_texts(w, f.mta_sts->tls_rpt);
    w.key("rua");
    write_texts(w, a->tls_rpt.rua);
    w.key("findings");
    write_sts_findings(w, a->tls_rpt.findings);
    w.end_object();
  }
}

void write_host_mta_sts(json_writer& w, const probe_report& r, std::size_t i) {
  const address_diagnosis& d = r.diagnosis.hosts[i];
  const bool judged = d.mta_sts && r.diagnosis.mta_sts && r.diagnosis.mta_sts->policy;
  w.key("mta_sts_match");
  if (judged) w.value(d.mta_sts->verdict.matches);
  else w.null();
  w.key("mta_sts");
  if (!d.mta_sts) {
    w.null();
    return;
  }
  const mta_sts_host& h = *d.mta_sts;
  w.begin_object().member("host", h.verdict.host);
  w.member_if("match", judged, h.verdict.matches);
  w.key("pattern").value_or_null(h.verdict.pattern && judged ? r.diagnosis.mta_sts->policy->mx[*h.verdict.pattern].text : std::string());
  w.member("certificate", certificate_word(h.verdict)).member("refused", h.refused);
  w.key("senders").begin_array();
  for (const auto& p : h.senders) {
    w.begin_object().member("id", p.sender).member("layer", "mta-sts").member("effect", to_string(p.effect));
    w.member("reason", p.reason).member("source", p.source).end_object();
  }
  w.end_array().end_object();
}

std::string render_probe_mta_sts_text(const probe_report& r) {
  const probe_facts& f = r.facts;
  const auto& a = r.diagnosis.mta_sts;
  if (!f.mta_sts || !a) return {};
  const mta_sts_facts& m = *f.mta_sts;
  std::string out = "\nMTA-STS:\n";
  fmt::format_to(std::back_inserter(out), "  status    {}{}\n", to_string(a->status), m.cached ? " (policy from this run's cache)" : "");
  if (a->txt.status == txt_status::valid) fmt::format_to(std::back_inserter(out), "  TXT       id={}\n", a->txt.id);
  else if (!m.txt.empty()) fmt::format_to(std::back_inserter(out), "  TXT       {} record(s), none valid\n", m.txt.size());
  else fmt::format_to(std::back_inserter(out), "  TXT       {} {}\n", m.txt_lookup.name, to_string(m.txt_lookup.status));
  if (m.fetched) {
    const policy_fetch_result& x = m.fetch;
    if (x.ok()) fmt::format_to(std::back_inserter(out), "  fetch     {} {} {}\n", x.url, x.http_status, x.content_type);
    else fmt::format_to(std::back_inserter(out), "  fetch     {} failed: {}{}\n", x.url, to_string(x.error), x.detail.empty() ? "" : " (" + x.detail + ")");
  }
  if (a->policy) {
    std::string mx;
    for (const auto& p : a->policy->mx) mx += (mx.empty() ? "" : ", ") + p.text;
    fmt::format_to(std::back_inserter(out), "  policy    mode {}, max_age {}, mx {}{}\n", a->policy->mode ? to_string(*a->policy->mode) : "?",
                   a->policy->max_age ? std::to_string(*a->policy->max_age) : "?", mx.empty() ? "(none)" : mx,
                   a->policy->valid ? "" : " (invalid)");
  }
  for (std::size_t i = 0; i < f.hosts.size() && i < r.diagnosis.hosts.size(); ++i) {
    const auto& d = r.diagnosis.hosts[i];
    if (!d.mta_sts || !a->policy) continue;
    const sts_mx_verdict& v = d.mta_sts->verdict;
    fmt::format_to(std::back_inserter(out), "  MX        {} {}, certificate {}{}\n", v.host,
                   v.matches ? "matches " + a->policy->mx[*v.pattern].text : "matches no pattern", certificate_word(v),
                   d.mta_sts->refused ? ": RFC 8461 senders (Gmail, Microsoft 365) do not deliver to it" : "");
  }
  fmt::format_to(std::back_inserter(out), "\nTLS-RPT:\n  status    {}", tls_rpt_status_word(a->tls_rpt));
  for (std::size_t i = 0; i < a->tls_rpt.rua.size(); ++i) out += (i ? ", " : " rua ") + a->tls_rpt.rua[i];
  out += "\n";
  return out;
}

}  // namespace mxtls
