#include "mxtls/model/dialogue.hpp"

namespace mxtls {

const char* to_string(starttls_answer a) {
  switch (a) {
    case starttls_answer::not_sent: return "not-sent";
    case starttls_answer::unknown: return "unknown";
    case starttls_answer::accepted: return "accepted";
    case starttls_answer::refused: return "refused";
    case starttls_answer::other: return "other";
    case starttls_answer::no_answer: return "no-answer";
  }
  return "?";
}

const char* to_string(handshake_state h) {
  switch (h) {
    case handshake_state::not_started: return "not-started";
    case handshake_state::unknown: return "unknown";
    case handshake_state::established: return "established";
    case handshake_state::failed: return "failed";
  }
  return "?";
}

}  // namespace mxtls
