// RFC 8461 §2 in the sender predictions: see include/mxtls/mta_sts_dane.hpp.
#include "mxtls/mta_sts_dane.hpp"

#include <fmt/format.h>

namespace mxtls {

bool dane_fails(dane_status d) { return d == dane_status::mismatch || d == dane_status::no_tls; }

void combine_with_dane(mta_sts_host& host, dane_status dane) {
  if (!dane_fails(dane)) return;  // DANE verified or not applying: the policy decides (no precedence of DANE is modelled)
  for (auto& p : host.senders) {
    bool lets_mail_go = p.effect == sts_effect::delivers || p.effect == sts_effect::delivers_reports;
    if (!lets_mail_go) continue;
    if (p.sender == "rfc8461" || p.sender == "microsoft-365") {
      // RFC 8461 §2. Microsoft 365 validates DANE outbound (How SMTP DANE works,
      // learn.microsoft.com/purview/how-smtp-dane-works), so the rule binds it.
      p.effect = sts_effect::refuses;
      p.reason = fmt::format("usable TLSA records and DANE {} for {}: MTA-STS does not override a failing DANE check "
                             "(RFC 8461 §2); does not deliver to this MX",
                             to_string(dane), host.verdict.host);
    } else if (p.sender == "postfix-mta-sts-resolver") {
      // Its "secure" policy replaces Postfix's smtp_tls_security_level (dane) for the domain:
      // DANE is not checked, a failing DANE check is overridden. Its README says so since
      // 1.1.5 ("MTA-STS policy overrides DANE TLS authentication", pull request #92).
      p.reason += fmt::format("; DANE {} here is not checked: the policy's 'secure' level replaces Postfix's 'dane' "
                              "level (README since 1.1.5; unlike RFC 8461 §2)",
                              to_string(dane));
    }
    // gmail: no outbound DANE in its documentation (support.google.com/a/answer/9261504 names
    // MTA-STS and TLS reporting): the policy alone decides.
  }
  host.refused = false;
  for (const auto& p : host.senders)
    if (p.sender == "rfc8461" && p.effect == sts_effect::refuses) host.refused = true;
}

}  // namespace mxtls
