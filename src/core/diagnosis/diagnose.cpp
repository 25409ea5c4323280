// From a probe's facts to its outcome, reasons and exit code. Each rule names the reason it
// adds; tests/unit/core/diagnosis_test.cpp holds one case per reason.
#include <algorithm>

#include "mxtls/diagnosis.hpp"

namespace mxtls {

namespace {

bool has_finding(const lint_result& r, finding_id id) {
  return std::any_of(r.ehlo.findings.begin(), r.ehlo.findings.end(), [id](const finding& f) { return f.id == id; });
}

bool certificate_bad(const tls_facts& t) { return pkix_problem(t).has_value(); }

std::optional<lint_result> lint_octets(const std::string& octets, bool predict) {
  if (octets.empty()) return std::nullopt;
  lint_options lo;
  lo.raw = true;
  lo.predict_clients = predict;
  lint_result r = lint(octets, lo);
  if (!r.reply_found) return std::nullopt;
  return r;
}

void add(std::vector<reason>& v, reason_id id, int code = -1, std::string detail = {}) {
  v.push_back({id, code, std::move(detail)});
}

// Reasons of the session that reached TLS (or tried to).
void tls_reasons(const starttls_facts& s, const address_result& a, tls_policy policy, std::vector<reason>& out) {
  const tls_facts& t = s.tls;
  if (!t.established) return;
  if (!t.chain_verified) add(out, reason_id::certificate_untrusted, t.verify_code, t.verify_error);
  if (t.name_checked && !t.hostname_match) add(out, reason_id::certificate_name_mismatch, -1, a.name);
  if (!t.name_checked) add(out, reason_id::certificate_name_not_checked);
  if (t.expired) add(out, reason_id::certificate_expired, -1, t.chain.empty() ? "" : t.chain.front().not_after);
  if (t.not_yet_valid) add(out, reason_id::certificate_not_yet_valid, -1, t.chain.empty() ? "" : t.chain.front().not_before);
  if (verifies(policy) && certificate_bad(t)) add(out, reason_id::certificate_fails_policy, -1, to_string(policy));
}

}  // namespace

bool has_reason(std::span<const reason> reasons, reason_id id) {
  return std::any_of(reasons.begin(), reasons.end(), [id](const reason& r) { return r.id == id; });
}

esa_decision esa_decides(const address_result& a, const address_diagnosis& d, tls_policy policy) {
  esa_decision e;
  const starttls_facts* s = a.get<starttls_facts>();
  if (!d.answered || !s) {
    e.result = esa_result::no_connection;
    return e;
  }
  auto esa = std::find_if(d.senders.begin(), d.senders.end(), [](const sender_prediction& p) { return p.id == "cisco-esa"; });
  // The ESA sees STARTTLS when its EHLO reading finds it (before the dialogue is applied).
  e.sees_starttls = esa != d.senders.end() && (esa->ehlo_reason == prediction_reason::sees_starttls);
  if (policy == tls_policy::none) {
    e.result = esa_result::plaintext;
  } else if (!e.sees_starttls) {
    e.result = requires_tls(policy) ? esa_result::deferred : esa_result::plaintext;
  } else if (s->dialogue.starttls == starttls_answer::refused || s->dialogue.starttls == starttls_answer::other ||
             s->dialogue.starttls == starttls_answer::no_answer || s->dialogue.handshake == handshake_state::failed) {
    e.result = esa_result::tls_failed;
  } else if (verifies(policy) && s->tls.established && certificate_bad(s->tls)) {
    e.result = esa_result::verify_failed;
  } else {
    e.result = verifies(policy) && s->tls.established ? esa_result::tls_verified : esa_result::tls;
  }
  return e;
}

address_diagnosis diagnose_address(const address_result& a, tls_policy policy) {
  address_diagnosis d;
  const starttls_facts* s = a.get<starttls_facts>();
  if (!s) return d;
  std::vector<reason>& r = d.reasons;
  const session_error& err = s->error;

  d.lint = lint_octets(s->ehlo, true);
  d.lint_after_tls = lint_octets(s->ehlo_after_tls, false);
  if (d.lint) {
    d.senders = predict_senders(d.lint->clients, s->dialogue, &s->tls, a.get<tls_senders_facts>());
    d.groups = group_senders(d.senders);
  }

  // Reaching the server.
  if (err.phase == session_phase::connect) {
    add(r, reason_id::connect_failed, -1, err.detail);
    d.outcome = probe_outcome::unreachable;
    return d;
  }
  int banner = reply_code(s->banner);
  if (err.phase == session_phase::banner) {
    if (banner == 421) add(r, reason_id::greeting_refused, banner, s->banner.substr(0, s->banner.find_first_of("\r\n")));
    else if (s->banner.empty()) add(r, reason_id::no_banner, -1, to_string(err.code));
    else add(r, reason_id::bad_banner, banner, s->banner.substr(0, s->banner.find_first_of("\r\n")));
    d.outcome = probe_outcome::unreachable;
    return d;
  }
  d.answered = true;

  // The EHLO reply.
  if (err.code == session_error_code::interrupted && err.phase != session_phase::quit) {
    // Stopped before the session ended: nothing after this phase is concluded.
    add(r, reason_id::interrupted, -1, to_string(err.phase));
    d.outcome = err.phase == session_phase::ehlo || !d.lint ? probe_outcome::ehlo_fails : probe_outcome::starttls_fails;
    return d;
  } else if (err.phase == session_phase::ehlo || !d.lint) {
    add(r, reason_id::ehlo_incomplete, -1, to_string(err.code));
    d.outcome = probe_outcome::ehlo_fails;
  } else if (d.lint->ehlo.code != 250) {
    add(r, reason_id::ehlo_refused, d.lint->ehlo.code);
    d.outcome = probe_outcome::no_starttls;
  } else if (!s->starttls_offered) {
    add(r, reason_id::starttls_not_offered);
    d.outcome = probe_outcome::no_starttls;
  } else if (s->dialogue.starttls == starttls_answer::not_sent) {
    add(r, reason_id::starttls_not_sent);
    d.outcome = probe_outcome::senders_lose_tls;
  } else if (s->dialogue.starttls == starttls_answer::refused || s->dialogue.starttls == starttls_answer::other) {
    add(r, reason_id::starttls_refused, s->dialogue.starttls_code);
    d.outcome = probe_outcome::starttls_fails;
  } else if (s->dialogue.starttls == starttls_answer::no_answer) {
    add(r, reason_id::starttls_unanswered, -1, to_string(err.code));
    d.outcome = probe_outcome::starttls_fails;
  } else if (s->dialogue.handshake == handshake_state::failed) {
    add(r, reason_id::handshake_failed, -1, err.detail);
    d.outcome = probe_outcome::starttls_fails;
  } else {
    d.outcome = probe_outcome::ok;
  }

  // Senders whose own ClientHello fails where the probe's succeeded (check tls-senders).
  std::string tls_losers;
  for (const auto& p : d.senders)
    if (p.dialogue_reason == reason_id::sender_handshake_failed || p.dialogue_reason_required == reason_id::sender_handshake_failed)
      tls_losers += (tls_losers.empty() ? "" : ", ") + std::string(p.id);
  bool lost_at_smtp = std::any_of(d.senders.begin(), d.senders.end(), [](const sender_prediction& p) {
    return p.layer == decided_at::smtp && p.outcome != tls_outcome::tls && p.outcome != tls_outcome::unknown &&
           (p.tls_by_default || p.dialogue_reason);
  });
  if (!tls_losers.empty()) {
    add(r, reason_id::sender_handshake_failed, -1, tls_losers);
    // A service whose documented offer fails the handshake (no version it uses; it does not
    // deliver when TLS is required) counts, though what it does then by default is not
    // documented: the server is what to fix.
    bool service_fails = std::any_of(d.senders.begin(), d.senders.end(), [](const sender_prediction& p) {
      return p.outcome == tls_outcome::unknown && p.outcome_required == tls_outcome::fail &&
             p.dialogue_reason == reason_id::sender_handshake_failed;
    });
    if (d.outcome == probe_outcome::ok && (d.groups.any_lose() || service_fails))
      d.outcome = probe_outcome::senders_lose_tls;
  }
  // Senders that lose TLS to the EHLO reply itself (the seed case and its relatives).
  if (d.lint && d.lint->ehlo.code == 250 && lost_at_smtp && s->starttls_offered) {
    if (has_finding(*d.lint, finding_id::keyword_as_greeting)) add(r, reason_id::starttls_on_greeting);
    else if (has_finding(*d.lint, finding_id::final_line_not_last)) add(r, reason_id::starttls_after_final_line);
    else if (d.outcome == probe_outcome::ok) add(r, reason_id::ehlo_breaks_rfc5321);
    if (d.outcome == probe_outcome::ok) d.outcome = probe_outcome::senders_lose_tls;
  }

  tls_reasons(*s, a, policy, r);
  if (const tls_enum_facts* e = a.get<tls_enum_facts>()) tls_enum_reasons(*e, r);
  if (s->plaintext_after_220 > 0) add(r, reason_id::response_injection, -1, std::to_string(s->plaintext_after_220));
  if (const injection_facts* inj = a.get<injection_facts>()) {
    if (inj->status == injection_status::vulnerable) add(r, reason_id::command_injection, -1, inj->answer);
    else if (inj->status == injection_status::incomplete && s->tls.established)  // else the main session says why
      add(r, reason_id::injection_check_incomplete, -1, to_string(inj->error.code));
  }
  if (d.lint_after_tls && d.lint_after_tls->ehlo.starttls_anywhere) add(r, reason_id::starttls_after_tls);
  if (const envelope_facts* env = a.get<envelope_facts>()) {
    if (env->rcpt_code >= 400 && env->rcpt_code < 500) add(r, reason_id::rcpt_temporary, env->rcpt_code, env->rcpt_reply);
    else if (env->rcpt_code >= 500) add(r, reason_id::rcpt_refused, env->rcpt_code, env->rcpt_reply);
    else if (env->mail_code >= 400) add(r, reason_id::mail_refused, env->mail_code, env->mail_reply);
  }

  if (d.outcome == probe_outcome::ok) {
    if (has_reason(r, reason_id::response_injection) || has_reason(r, reason_id::command_injection)) d.outcome = probe_outcome::injection;
    else if (s->tls.established && certificate_bad(s->tls)) d.outcome = probe_outcome::certificate;
  }
  d.esa = esa_decides(a, d, policy);
  return d;
}

int exit_code_of(probe_outcome outcome, std::span<const reason> reasons) {
  // DANE that applies and fails: DANE senders do not deliver (RFC 7672 §2.2).
  bool dane_fails = has_reason(reasons, reason_id::dane_mismatch) || has_reason(reasons, reason_id::dane_no_tls) ||
                    has_reason(reasons, reason_id::dane_lookup_failed) || has_reason(reasons, reason_id::dnssec_bogus) ||
                    has_reason(reasons, reason_id::dane_fails_policy);
  switch (outcome) {
    case probe_outcome::ok: return dane_fails ? 1 : 0;
    case probe_outcome::certificate:
      return has_reason(reasons, reason_id::certificate_fails_policy) || dane_fails ? 1 : 0;
    case probe_outcome::unreachable:
    case probe_outcome::dns_fails: return 3;
    default: return 1;
  }
}

diagnosis diagnose(const probe_facts& f) {
  diagnosis out;
  std::vector<reason> domain;
  for (const auto& l : f.lookups) {
    if (l.type == rr_type::mx) {
      if (l.status == lookup_status::nxdomain) add(domain, reason_id::domain_nxdomain, -1, l.name);
      else if (l.status != lookup_status::ok)
        add(domain, reason_id::dns_lookup_failed, l.rcode,
            !l.detail.empty()                    ? l.detail
            : l.status == lookup_status::servfail ? "SERVFAIL"  // the rcode's name (RFC 1035 §4.1.1)
                                                  : to_string(l.status));
    } else if ((l.type == rr_type::a || l.type == rr_type::aaaa) && l.status != lookup_status::ok &&
               l.status != lookup_status::nxdomain) {
      add(domain, reason_id::address_lookup_failed, l.rcode, l.name);
    }
  }
  if (f.mx.size() == 1 && f.mx.front().host == ".") add(domain, reason_id::null_mx);
  if (std::any_of(f.mx_hosts.begin(), f.mx_hosts.end(), [](const mx_host_facts& h) { return h.implicit; }))
    add(domain, reason_id::implicit_mx, -1, f.host);
  bool dns_stop = has_reason(domain, reason_id::domain_nxdomain) || has_reason(domain, reason_id::dns_lookup_failed) || has_reason(domain, reason_id::null_mx);
  if (!dns_stop && f.hosts.empty() && !f.literal && !f.interrupted) add(domain, reason_id::no_address, -1, f.host);

  // DNSSEC: validation asked for but impossible (the resolver strips DNSSEC or cannot reach
  // the anchor's zone): no answer can be secure, so DANE cannot apply.
  if (!f.literal && f.dnssec.validating && f.dnssec.anchor_status != dnssec_status::secure)
    add(domain, reason_id::dnssec_unavailable, -1, !f.dnssec.why_bogus.empty() ? f.dnssec.why_bogus : f.dnssec.error);
  for (const auto& m : f.mx)
    if (m.dnssec == dnssec_status::bogus) {
      add(domain, reason_id::dnssec_bogus, -1, f.host);
      break;
    }
  // Some MX hosts with usable TLSA records and some securely without: DANE senders
  // authenticate some hosts only (RFC 7672 §2.2.1 treats each host alone).
  std::size_t with = 0, without = 0;
  for (const auto& h : f.mx_hosts) {
    if (!h.dane) continue;
    dane_status st = dane_status_of(*h.dane, nullptr);
    if (st == dane_status::no_tlsa || st == dane_status::insecure) ++without;
    else if (st == dane_status::no_tls) ++with;
  }
  if (with > 0 && without > 0) add(domain, reason_id::dane_partial, -1, std::to_string(without));

  for (const auto& a : f.hosts) {
    out.hosts.push_back(diagnose_address(a, f.policy));
    if (a.mx_host != no_index && a.mx_host < f.mx_hosts.size() && f.mx_hosts[a.mx_host].dane) {
      address_diagnosis& d = out.hosts.back();
      d.dane = assess_dane(*f.mx_hosts[a.mx_host].dane, a.get<starttls_facts>(), f.policy, a.get<tls_senders_facts>());
      if (const auto* e = a.get<tls_enum_facts>()) assess_dane_certificates(*d.dane, *f.mx_hosts[a.mx_host].dane, *e);
      d.reasons.insert(d.reasons.end(), d.dane->reasons.begin(), d.dane->reasons.end());
    }
  }
  if (f.mta_sts) diagnose_mta_sts(f, out, domain);
  for (std::size_t i = 0; i < out.hosts.size() && out.verdict_host == no_index; ++i)
    if (out.hosts[i].answered) out.verdict_host = i;
  if (out.verdict_host == no_index && !out.hosts.empty()) out.verdict_host = out.hosts.size() - 1;

  out.reasons = domain;
  if (out.verdict_host != no_index) {
    const address_diagnosis& h = out.hosts[out.verdict_host];
    out.outcome = h.outcome;
    out.groups = h.groups;
    out.reasons.insert(out.reasons.end(), h.reasons.begin(), h.reasons.end());
  } else {
    out.outcome = probe_outcome::dns_fails;
  }
  if (f.interrupted && !has_reason(out.reasons, reason_id::interrupted)) add(out.reasons, reason_id::interrupted);
  out.exit_code = exit_code_of(out.outcome, out.reasons);
  // MTA-STS enforce refuses the verdict host: Gmail and Microsoft 365 do not deliver to it.
  if (out.exit_code == 0 && out.verdict_host != no_index && out.hosts[out.verdict_host].mta_sts &&
      out.hosts[out.verdict_host].mta_sts->refused)
    out.exit_code = 1;
  return out;
}

}  // namespace mxtls
