// What the dialogue after the EHLO reply showed: the answer to STARTTLS and what became of
// the handshake. Facts only, filled by the probe (from the live session) and by lint (from a
// pasted conversation); core/diagnosis turns them, with the client predictions of the EHLO
// reply, into one outcome per sender.
#pragma once

#include <cstdint>

namespace mxtls {

enum class starttls_answer : std::uint8_t {
  not_sent,   // STARTTLS was not sent (not offered, not seen, or the paste ends before it)
  unknown,    // sent, but what followed is not known (a paste that stops at the command)
  accepted,   // 220
  refused,    // 4xx or 5xx (e.g. 454 TLS not available, 501)
  other,      // another code (1xx, 2xx other than 220, 3xx)
  no_answer,  // the server closed the connection or never answered
};
const char* to_string(starttls_answer a);

enum class handshake_state : std::uint8_t {
  not_started,  // no 220, so no handshake
  unknown,      // 220 seen; the paste does not show the handshake
  established,
  failed,
};
const char* to_string(handshake_state h);

struct dialogue_facts {
  starttls_answer starttls = starttls_answer::not_sent;
  int starttls_code = -1;  // the reply code, when there was one
  handshake_state handshake = handshake_state::not_started;
  bool ehlo_after_tls = false;  // an EHLO reply inside TLS was seen
};

}  // namespace mxtls
