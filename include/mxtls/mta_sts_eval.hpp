// What an MTA-STS policy means for a domain's MX hosts and for each sender (RFC 8461 §4, §5):
// decisions in core, from the facts the readers and the fetch recorded.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mxtls/model/mta_sts.hpp"
#include "mxtls/mta_sts.hpp"

namespace mxtls {

// The top-level "mta_sts" status of the probe JSON (names fixed).
enum class mta_sts_status : std::uint8_t { valid, none, txt_invalid, fetch_failed, policy_invalid };
const char* to_string(mta_sts_status s);  // "valid", "none", "txt-invalid", "fetch-failed", "policy-invalid"

// fetched: the fetch gave a 200 text/plain body within the limit (policy then holds it parsed).
mta_sts_status mta_sts_status_of(const sts_txt& txt, bool fetched, const std::optional<sts_policy>& policy);

// One MX host as an MTA-STS sender judges it (RFC 8461 §4.1, §4.2).
struct sts_mx_verdict {
  std::string host;
  bool matches = false;                   // "mta_sts_match": an mx pattern covers the host
  std::optional<std::size_t> pattern;     // which
  bool certificate_ok = false;            // PKIX chain and the MX host name (RFC 6125), as probed
  bool certificate_known = false;         // the probe saw a certificate to judge
};
sts_mx_verdict evaluate_mx(const sts_policy& policy, std::string_view host, bool certificate_known, bool certificate_ok);

// What one sender does with the policy for one MX host.
enum class sts_effect : std::uint8_t {
  not_applied,      // the sender does not implement MTA-STS, or the domain has no usable policy
  delivers,         // the policy is applied and the MX passes
  delivers_reports, // testing: the MX fails, mail still goes (a TLS-RPT report says so)
  refuses,          // enforce: the MX fails; the sender does not deliver to it
};
const char* to_string(sts_effect e);

struct sts_sender_prediction {
  std::string_view sender;   // sender id, as in the diagnosis (gmail, microsoft-365, ...)
  sts_effect effect = sts_effect::not_applied;
  std::string reason;        // words for this case
  std::string_view source;   // the documentation or source the model follows
};

// For one MX host, every modelled sender. `status` and `policy` as above.
std::vector<sts_sender_prediction> predict_mta_sts(mta_sts_status status, const std::optional<sts_policy>& policy,
                                                   const sts_mx_verdict& mx);

// ---- The probe's check "mta-sts": its facts read and judged ----

// The domain's MTA-STS and TLS-RPT records and policy, as core reads the check's facts.
struct mta_sts_assessment {
  mta_sts_status status = mta_sts_status::none;
  sts_txt txt;
  std::optional<sts_policy> policy;  // the fetched body parsed (a 200 text/plain within the limit)
  tls_rpt_record tls_rpt;
  bool cached = false;
};
mta_sts_assessment assess_mta_sts(const mta_sts_facts& f);

// "tls_rpt" status of the probe JSON: "valid", "none", "invalid".
const char* tls_rpt_status_word(const tls_rpt_record& r);

// One address of an MX host against the domain's policy. certificate_known: the session
// reached a point where a sender has decided (TLS established, or STARTTLS missing, refused,
// or the handshake failed: then there is no certificate that verifies).
struct mta_sts_host {
  sts_mx_verdict verdict;
  std::vector<sts_sender_prediction> senders;  // one per predict_mta_sts() row
  bool refused = false;  // an RFC 8461 sender in mode enforce does not deliver to this address
};
mta_sts_host assess_mta_sts_host(const mta_sts_assessment& a, std::string_view mx_host, bool certificate_known,
                                 bool certificate_ok);

}  // namespace mxtls
