// What each sender does with a destination: the client model's reading of the EHLO reply,
// then what the dialogue after it showed. One rule, used by lint, probe, scan and every
// renderer (docs/probe-json.md, "senders").
#include <algorithm>
#include <optional>

#include "mxtls/diagnosis.hpp"

namespace mxtls {

namespace {

// A sender that sends STARTTLS (its EHLO-layer outcome is tls) meets the server's answer.
// RFC 3207 §4.1: after a refusal the client decides whether to go on; an opportunistic
// setting goes on without TLS, a required one cannot deliver. A handshake that fails, or a
// STARTTLS that is never answered, ends the attempt in both settings: this attempt delivers
// nothing (how each sender retries is the TLS layer's model, not yet this one's).
// Returns the reason when the dialogue, not the EHLO reply, decided `out`.
std::optional<reason_id> meet_dialogue(tls_outcome& out, bool required, const dialogue_facts& d, const tls_facts* tls,
                                       sender_prediction& p) {
  if (out != tls_outcome::tls) return std::nullopt;
  switch (d.starttls) {
    case starttls_answer::not_sent:
    case starttls_answer::unknown:
      p.assumed_handshake = true;
      return std::nullopt;
    case starttls_answer::refused:
      out = required ? tls_outcome::fail : tls_outcome::plaintext;
      return reason_id::starttls_refused;
    case starttls_answer::other:
    case starttls_answer::no_answer:
      out = tls_outcome::fail;
      return reason_id::starttls_unanswered;
    case starttls_answer::accepted:
      break;
  }
  switch (d.handshake) {
    case handshake_state::established:
      p.layer = decided_at::tls;
      if (tls && tls->established) {
        p.tls_version = tls->protocol;
        p.tls_cipher = tls->cipher;
      }
      return std::nullopt;
    case handshake_state::failed:
      out = tls_outcome::fail;
      p.layer = decided_at::tls;
      return reason_id::handshake_failed;
    case handshake_state::not_started:
    case handshake_state::unknown:
      p.assumed_handshake = true;
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::vector<sender_prediction> predict_senders(std::span<const client_prediction> ehlo, const dialogue_facts& dialogue,
                                               const tls_facts* tls) {
  std::vector<sender_prediction> out;
  out.reserve(ehlo.size());
  for (const auto& c : ehlo) {
    sender_prediction p{.id = c.id,
                        .short_name = c.short_name,
                        .tls_by_default = c.opportunistic,
                        .outcome = c.outcome,
                        .outcome_required = c.outcome_required,
                        .ehlo_reason = c.reason};
    p.dialogue_reason = meet_dialogue(p.outcome, false, dialogue, tls, p);
    auto required = meet_dialogue(p.outcome_required, true, dialogue, tls, p);
    if (!p.dialogue_reason) p.dialogue_reason_required = required;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string_view> sender_groups::lose() const {
  std::vector<std::string_view> all = plaintext;
  all.insert(all.end(), fail.begin(), fail.end());
  all.insert(all.end(), hang.begin(), hang.end());
  return all;
}

sender_groups group_senders(std::span<const sender_prediction> senders) {
  sender_groups g;
  for (const auto& s : senders) {
    switch (s.outcome) {
      case tls_outcome::tls: g.tls.push_back(s.id); break;
      case tls_outcome::plaintext:
        // Plaintext because its TLS is off unless configured: nothing this server can fix.
        (!s.tls_by_default && !s.dialogue_reason ? g.tls_off : g.plaintext).push_back(s.id);
        break;
      case tls_outcome::fail: g.fail.push_back(s.id); break;
      case tls_outcome::hang: g.hang.push_back(s.id); break;
    }
  }
  return g;
}

std::vector<std::string_view> short_names(std::span<const sender_prediction> senders, std::span<const std::string_view> ids) {
  std::vector<std::string_view> out;
  for (const auto& s : senders)
    if (std::find(ids.begin(), ids.end(), s.id) != ids.end()) out.push_back(s.short_name);
  return out;
}

lint_diagnosis diagnose_lint(const lint_result& r, const dialogue_facts& dialogue) {
  lint_diagnosis d;
  d.senders = predict_senders(r.clients, dialogue);
  d.groups = group_senders(d.senders);
  return d;
}

}  // namespace mxtls
