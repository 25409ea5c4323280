// Where MTA-STS meets DANE for one MX host: RFC 8461 §2, "senders who implement MTA-STS
// validation MUST NOT allow MTA-STS Policy validation to override a failing DANE
// validation". The MTA-STS predictions (mta_sts_eval.hpp) are made as if DANE did not exist;
// this combines them with the host's DANE status (check "dane"), per sender as each
// documents what it does.
#pragma once

#include "mxtls/dane.hpp"
#include "mxtls/mta_sts_eval.hpp"

namespace mxtls {

// Usable TLSA records and DANE fails for the host: the handshake matched no record
// (mismatch) or there was none to check (no-tls).
bool dane_fails(dane_status dane);

// The host's MTA-STS senders with its DANE status: a sender that applies DANE (rfc8461 as §2
// requires, microsoft-365) refuses where the policy alone would deliver and DANE fails;
// postfix-mta-sts-resolver's policy replaces Postfix's dane level, so its row stays and says
// that DANE is not checked; gmail (no outbound DANE documented) is unchanged. `refused`
// follows the rfc8461 row, as assess_mta_sts_host sets it.
void combine_with_dane(mta_sts_host& host, dane_status dane);

}  // namespace mxtls
