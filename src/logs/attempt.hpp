// One delivery attempt as a log reader found it, before it is counted for its destination:
// the type every MTA's reader hands to log_reader (log_reader.cpp's Postfix, ESA and Exim
// rules, sendmail_reader, exchange_reader).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mxtls/logs.hpp"

namespace mxtls::logs {

struct attempt {
  destination_key key;
  attempt_class cls = attempt_class::plaintext;
  result_type reason = result_type::none;
  bool delivered = false;
  bool verified = false;
  std::string tls;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  // The messages the attempt carried, as distinct_count::hash_of their MTA's id (Postfix,
  // Sendmail: queue id; Exim: message id; ESA: MID; Exchange: message-id); empty when the
  // lines name none.
  std::vector<std::uint64_t> messages;
  log_time time;
  const std::vector<evidence_line>* connection_lines = nullptr;  // the connection's, before `lines` (not owned)
  std::vector<evidence_line> lines;
};

}  // namespace mxtls::logs
