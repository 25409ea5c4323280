// The probe's check "mta-sts" in core: its facts (model/mta_sts.hpp) read with the TXT and
// policy readers and judged per MX host with the evaluation (mta_sts_eval.cpp).
#include "mxtls/mta_sts_eval.hpp"

namespace mxtls {

const char* to_string(fetch_error e) {
  switch (e) {
    case fetch_error::none: return "none";
    case fetch_error::no_address: return "no-address";
    case fetch_error::connect: return "connect";
    case fetch_error::tls: return "tls";
    case fetch_error::tls_verify: return "tls-verify";
    case fetch_error::timeout: return "timeout";
    case fetch_error::http_status: return "http-status";
    case fetch_error::redirect: return "redirect";
    case fetch_error::content_type: return "content-type";
    case fetch_error::too_large: return "too-large";
    case fetch_error::other: return "other";
  }
  return "?";
}

mta_sts_assessment assess_mta_sts(const mta_sts_facts& f) {
  mta_sts_assessment a;
  a.txt = parse_sts_txt(f.txt);
  a.tls_rpt = parse_tls_rpt_txt(f.tls_rpt);
  a.cached = f.cached;
  // RFC 8461 §3.3: only a 200 text/plain answer within the size limit is a policy body.
  bool fetched = f.fetched && f.fetch.ok();
  if (fetched) a.policy = parse_sts_policy(f.fetch.body);
  a.status = mta_sts_status_of(a.txt, fetched, a.policy);
  return a;
}

const char* tls_rpt_status_word(const tls_rpt_record& r) {
  switch (r.status) {
    case txt_status::none: return "none";
    case txt_status::valid: return "valid";
    case txt_status::invalid: return "invalid";
  }
  return "?";
}

mta_sts_host assess_mta_sts_host(const mta_sts_assessment& a, std::string_view mx_host, bool certificate_known,
                                 bool certificate_ok) {
  mta_sts_host h;
  if (a.policy) h.verdict = evaluate_mx(*a.policy, mx_host, certificate_known, certificate_ok);
  else h.verdict.host = std::string(mx_host);
  h.senders = predict_mta_sts(a.status, a.policy, h.verdict);
  for (const auto& s : h.senders)
    if (s.sender == "rfc8461" && s.effect == sts_effect::refuses) h.refused = true;
  return h;
}

}  // namespace mxtls
