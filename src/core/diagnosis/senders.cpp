// What each sender does with a destination: the client model's reading of the EHLO reply,
// then what the dialogue after it showed. One rule, used by lint, probe, scan and every
// renderer (docs/probe-json.md, "senders").
#include <algorithm>
#include <optional>

#include "mxtls/diagnosis.hpp"
#include "mxtls/sender_tls.hpp"

namespace mxtls {

namespace {

// What the sender does after its handshake failed (sender_tls.hpp): a sender whose TLS
// layer is not modelled gives the attempt up.
tls_outcome after_failed_handshake(const sender_tls_rule* rule, bool required) {
  tls_failure_action a = !rule ? tls_failure_action::give_up : required ? rule->on_failure_required : rule->on_failure;
  switch (a) {
    case tls_failure_action::plaintext_retry: return tls_outcome::plaintext;
    case tls_failure_action::give_up: return tls_outcome::fail;
    case tls_failure_action::undocumented: return tls_outcome::unknown;
  }
  return tls_outcome::fail;
}

int version_rank(std::string_view v) {
  return v == "TLSv1" ? 1 : v == "TLSv1.1" ? 2 : v == "TLSv1.2" ? 3 : v == "TLSv1.3" ? 4 : 0;
}

// A certificate of the chain, the self-signed root's own signature aside, signed with SHA-1.
bool sha1_signed(const tls_facts& t) {
  return std::any_of(t.chain.begin(), t.chain.end(),
                     [](const certificate_facts& c) { return c.subject != c.issuer && sha1_signature(c.signature_algorithm); });
}

// A sender that sends STARTTLS (its EHLO-layer outcome is tls) meets the server's answer.
// RFC 3207 §4.1: after a refusal the client decides whether to go on; an opportunistic
// setting goes on without TLS, a required one cannot deliver. A STARTTLS that is never
// answered ends the attempt in both settings. After the 220, the TLS layer decides: the
// sender's own ClientHello (check tls-senders) where it was replayed, else the probe's
// handshake (its hello offers a superset of every sender's: a failure there fails them
// all); after a failed handshake, what the sender does then (sender_tls.hpp).
// Returns the reason when the dialogue, not the EHLO reply, decided `out`.
std::optional<reason_id> meet_dialogue(tls_outcome& out, bool required, const dialogue_facts& d, const tls_facts* tls,
                                       const tls_senders_facts* replays, sender_prediction& p) {
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
    case handshake_state::established: {
      p.layer = decided_at::tls;
      const sender_tls_rule* rule = find_sender_tls_rule(p.id);
      const tls_profile* prof = rule ? find_tls_profile(rule->profile) : nullptr;
      const profile_handshake* h = rule && replays ? replays->find(rule->profile) : nullptr;
      const bool seen = tls && tls->established;  // the probe's own handshake
      // A replay that ended before its handshake (no connection, a greeting refused) says
      // nothing about TLS: the probe's handshake stands for it.
      if (h && !h->established && h->error.phase == session_phase::tls) {
        // A service whose vendor documents its versions only: where the server's best version
        // (the probe's handshake) is one the vendor documents it using, the replay failed on
        // what the profile assumes beyond the documents (suites, groups, TLS 1.3): not known.
        if (rule->on_failure == tls_failure_action::undocumented && prof && !prof->suites_documented && seen &&
            version_rank(tls->protocol) >= version_rank(prof->min_version)) {
          out = tls_outcome::unknown;
          return reason_id::sender_handshake_failed;
        }
        out = after_failed_handshake(rule, required);
        return reason_id::sender_handshake_failed;
      }
      // A sender that refuses SHA-1-signed certificates (Microsoft 365) ends the session on one.
      if (rule && rule->refuses_sha1_certificates && seen && sha1_signed(*tls)) {
        out = after_failed_handshake(rule, required);
        return reason_id::tls_sha1_signature;
      }
      // A sender that checks the chain in every setting (Jakarta Mail) ends the session on one
      // the probe's check fails (trust, dates; the name is not checked).
      if (rule && rule->verifies_chain && seen)
        if (auto problem = pkix_problem(*tls, false)) {
          out = tls_outcome::fail;
          return problem;
        }
      // A sender that checks the certificate when TLS is required (Haraka's force_tls_hosts)
      // ends the session on one that fails.
      if (required && rule && rule->verifies_when_required && seen)
        if (auto problem = pkix_problem(*tls)) {
          out = tls_outcome::fail;
          return problem;
        }
      // A profile whose suites its vendor does not document: the cipher it got is not its.
      const bool cipher_predicted = !prof || prof->suites_documented;
      if (h && h->established) {
        p.tls_version = h->protocol;
        if (cipher_predicted) p.tls_cipher = h->cipher;
      } else if (seen) {
        p.tls_version = tls->protocol;
        if (cipher_predicted) p.tls_cipher = tls->cipher;
      }
      return std::nullopt;
    }
    case handshake_state::failed:
      out = after_failed_handshake(find_sender_tls_rule(p.id), required);
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

bool sha1_signature(std::string_view algorithm) {
  return algorithm.find("sha1") != std::string_view::npos || algorithm.find("SHA1") != std::string_view::npos;
}

std::optional<reason_id> pkix_problem(const tls_facts& t, bool with_name) {
  // The dates first: an expired chain does not verify either, and "expired" is what to fix.
  if (t.expired) return reason_id::certificate_expired;
  if (t.not_yet_valid) return reason_id::certificate_not_yet_valid;
  if (!t.chain_verified) return reason_id::certificate_untrusted;
  if (with_name && t.name_checked && !t.hostname_match) return reason_id::certificate_name_mismatch;
  return std::nullopt;
}

namespace {

// A service's EHLO layer (sending_service): what every modelled client agrees on. All of them
// find STARTTLS where they look (or use no TLS unless configured, having found it): offered;
// none of them finds it, and none gives up the reply: not offered. Else the reply is one
// clients read differently, and how the service reads it is not documented.
client_prediction service_reading(const sending_service& svc, std::span<const client_prediction> ehlo) {
  client_prediction p{.id = svc.id, .name = svc.name, .short_name = svc.short_name};
  auto all = [&](auto pred) { return std::all_of(ehlo.begin(), ehlo.end(), pred); };
  const bool seen = all([](const client_prediction& c) {
    return c.sees_starttls &&
           (c.reason == prediction_reason::sees_starttls || c.reason == prediction_reason::tls_off_by_default);
  });
  const bool absent = all([](const client_prediction& c) {
    return !c.sees_starttls && (c.reason == prediction_reason::not_offered || c.reason == prediction_reason::tls_off_by_default);
  });
  if (seen) {
    p.sees_starttls = true;
    p.outcome = p.outcome_required = tls_outcome::tls;
    p.reason = prediction_reason::sees_starttls;
  } else if (absent) {
    p.outcome = tls_outcome::plaintext;
    p.outcome_required = tls_outcome::fail;
    p.reason = prediction_reason::not_offered;
  } else {
    p.outcome = p.outcome_required = tls_outcome::unknown;
    p.reason = prediction_reason::ehlo_not_modelled;
  }
  return p;
}

}  // namespace

std::vector<sender_prediction> predict_senders(std::span<const client_prediction> ehlo, const dialogue_facts& dialogue,
                                               const tls_facts* tls, const tls_senders_facts* replays) {
  std::vector<sender_prediction> out;
  out.reserve(ehlo.size() + sending_services().size());
  // The services follow the client models, read as every modelled client agrees.
  std::vector<client_prediction> readings(ehlo.begin(), ehlo.end());
  if (!ehlo.empty())
    for (const auto& svc : sending_services()) readings.push_back(service_reading(svc, ehlo));
  for (const auto& c : readings) {
    sender_prediction p{.id = c.id,
                        .short_name = c.short_name,
                        .tls_by_default = c.opportunistic,
                        .outcome = c.outcome,
                        .outcome_required = c.outcome_required,
                        .ehlo_reason = c.reason};
    p.dialogue_reason = meet_dialogue(p.outcome, false, dialogue, tls, replays, p);
    auto required = meet_dialogue(p.outcome_required, true, dialogue, tls, replays, p);
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
      case tls_outcome::unknown: g.unknown.push_back(s.id); break;
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
