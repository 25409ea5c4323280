// MTA-STS evaluation (RFC 8461 §4, §5) and the senders' models. Each model cites what it
// follows; where a real implementation differs from the RFC, the model says how.
#include "mxtls/mta_sts_eval.hpp"

#include <fmt/format.h>

namespace mxtls {

const char* to_string(mta_sts_status s) {
  switch (s) {
    case mta_sts_status::valid: return "valid";
    case mta_sts_status::none: return "none";
    case mta_sts_status::txt_invalid: return "txt-invalid";
    case mta_sts_status::fetch_failed: return "fetch-failed";
    case mta_sts_status::policy_invalid: return "policy-invalid";
  }
  return "?";
}

const char* to_string(sts_effect e) {
  switch (e) {
    case sts_effect::not_applied: return "not-applied";
    case sts_effect::delivers: return "delivers";
    case sts_effect::delivers_reports: return "delivers-reports";
    case sts_effect::refuses: return "refuses";
  }
  return "?";
}

mta_sts_status mta_sts_status_of(const sts_txt& txt, bool fetched, const std::optional<sts_policy>& policy) {
  if (txt.status == txt_status::none) return mta_sts_status::none;
  if (txt.status == txt_status::invalid) return mta_sts_status::txt_invalid;
  if (!fetched || !policy) return mta_sts_status::fetch_failed;
  return policy->valid ? mta_sts_status::valid : mta_sts_status::policy_invalid;
}

sts_mx_verdict evaluate_mx(const sts_policy& policy, std::string_view host, bool certificate_known, bool certificate_ok) {
  sts_mx_verdict v;
  v.host = std::string(host);
  v.pattern = match_mx(policy, host);
  v.matches = v.pattern.has_value();
  v.certificate_known = certificate_known;
  v.certificate_ok = certificate_known && certificate_ok;
  return v;
}

namespace {

constexpr std::string_view rfc_source = "RFC 8461 §4.1, §4.2, §5";
constexpr std::string_view gmail_source =
    "Google Workspace Admin Help, About MTA-STS and TLS reporting (support.google.com/a/answer/9261504): Gmail "
    "complies with MTA-STS policies in enforced mode when sending";
constexpr std::string_view m365_source =
    "Microsoft Learn, Enhancing mail flow with MTA-STS (learn.microsoft.com/purview/enhancing-mail-flow-with-mta-sts): "
    "outbound validation always on, an enforce failure returns an NDR; over a smart-host connector the smart host's "
    "domain is validated instead";
constexpr std::string_view resolver_source =
    "postfix-mta-sts-resolver 1.1.2 (Debian), responder.py: mode none, and testing unless strict_testing, give no "
    "policy; otherwise 'secure match=' with the patterns' '*' stripped (Postfix then matches the certificate names, "
    "'.domain' at any depth); utils.py: a repeated key keeps its last value";

// An RFC 8461 sender (Gmail and Microsoft 365 document that they are one).
sts_sender_prediction rfc_sender(std::string_view id, std::string_view source, mta_sts_status status,
                                 const std::optional<sts_policy>& policy, const sts_mx_verdict& mx) {
  sts_sender_prediction p{.sender = id, .effect = sts_effect::not_applied, .reason = {}, .source = source};
  if (status != mta_sts_status::valid || !policy || !policy->mode) {
    p.reason = fmt::format("no usable policy (status {}): delivers as without MTA-STS", to_string(status));
    return p;
  }
  sts_mode mode = *policy->mode;
  if (mode == sts_mode::none) {
    p.reason = "mode none: the policy is withdrawn; delivers as without MTA-STS";
    return p;
  }
  std::string why;
  if (!mx.matches) why = fmt::format("{} is not covered by any mx pattern of the policy", mx.host);
  else if (!mx.certificate_known) why = "";
  else if (!mx.certificate_ok) why = fmt::format("the certificate of {} does not verify (PKIX and the MX name)", mx.host);
  if (why.empty()) {
    p.effect = sts_effect::delivers;
    p.reason = mx.certificate_known ? "the MX matches the policy and its certificate verifies: delivers over verified TLS"
                                    : "the MX matches the policy; its certificate was not seen, so whether it verifies is unknown";
    return p;
  }
  if (mode == sts_mode::testing) {
    p.effect = sts_effect::delivers_reports;
    p.reason = why + "; mode testing: delivers anyway and reports the failure (TLS-RPT)";
  } else {
    p.effect = sts_effect::refuses;
    p.reason = why + "; mode enforce: does not deliver to this MX";
  }
  return p;
}

sts_sender_prediction resolver_sender(mta_sts_status status, const std::optional<sts_policy>& policy, const sts_mx_verdict& mx) {
  sts_sender_prediction p{.sender = "postfix-mta-sts-resolver", .effect = sts_effect::not_applied, .reason = {},
                          .source = resolver_source};
  if (status != mta_sts_status::valid || !policy || !policy->mode) {
    p.reason = fmt::format("no usable policy (status {}): Postfix's own TLS settings apply", to_string(status));
    return p;
  }
  // A repeated mode: the resolver keeps the last line's value.
  sts_mode mode = *policy->mode;
  if (policy->last_mode_text)
    if (auto m = parse_sts_mode(*policy->last_mode_text)) mode = *m;
  if (mode != sts_mode::enforce) {
    p.reason = fmt::format("mode {}: the resolver returns no policy (strict_testing off by default)", to_string(mode));
    return p;
  }
  // Postfix matches the certificate's names against the patterns; the MX name stands in for
  // the certificate name here, with '*.' read as any depth.
  bool matches = match_mx(*policy, mx.host, wildcard_rule::any_depth).has_value();
  if (!matches) {
    p.effect = sts_effect::refuses;
    p.reason = fmt::format("'secure match=' on the policy's names: a certificate named {} matches none; defers", mx.host);
  } else if (mx.certificate_known && !mx.certificate_ok) {
    p.effect = sts_effect::refuses;
    p.reason = "'secure' level: the certificate does not verify; Postfix defers the mail";
  } else {
    p.effect = sts_effect::delivers;
    p.reason = "'secure' level with the policy's names: delivers over verified TLS";
  }
  return p;
}

struct ignorer {
  std::string_view id, source;
};
constexpr ignorer ignorers[] = {
    {"cisco-esa", "unconfirmed: no MTA-STS setting in the AsyncOS 15.0/16.0 'What's New' pages searched (cisco.com "
                  "b_ESA_Admin_Guide_15-0, 16-0); TLS per destination comes from Destination Controls"},
    {"postfix", "Postfix without a policy service: MTA-STS only through smtp_tls_policy_maps (postfix-mta-sts-resolver)"},
    {"exim", "unconfirmed: no MTA-STS option in the smtp transport chapter of the Exim 4.98 specification searched"},
    {"libraries", "client libraries (smtplib, nodemailer, ...) deliver to the host they are given; no MTA-STS"},
};

}  // namespace

std::vector<sts_sender_prediction> predict_mta_sts(mta_sts_status status, const std::optional<sts_policy>& policy,
                                                   const sts_mx_verdict& mx) {
  std::vector<sts_sender_prediction> out;
  out.push_back(rfc_sender("rfc8461", rfc_source, status, policy, mx));
  out.push_back(rfc_sender("gmail", gmail_source, status, policy, mx));
  out.push_back(rfc_sender("microsoft-365", m365_source, status, policy, mx));
  out.push_back(resolver_sender(status, policy, mx));
  for (const auto& i : ignorers)
    out.push_back({.sender = i.id, .effect = sts_effect::not_applied,
                   .reason = "does not implement MTA-STS: delivers as without the policy", .source = i.source});
  return out;
}

}  // namespace mxtls
