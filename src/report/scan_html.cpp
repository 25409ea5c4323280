#include "mxtls/scan_html.hpp"

#include "mxtls/html_page.hpp"
#include "mxtls/reason_advice.hpp"
#include "mxtls/scan_records.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mxtls {

namespace {

using json = nlohmann::json;

std::string esc(std::string_view s) { return html::escape(s); }

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool flag(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

long long num(const json& j, const char* key, long long fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<long long>() : fallback;
}

// Colours per outcome: green for fine, amber for partial, red for broken, grey for no
// answer. A switch without default: an outcome added to probe_outcome and not given a
// colour here is a compiler warning.
const char* colour_of(record_kind kind, probe_outcome o) {
  switch (kind) {
    case record_kind::invalid: return "#9e9e9e";
    case record_kind::error: return "#212121";
    case record_kind::probed: break;
  }
  switch (o) {
    case probe_outcome::ok: return "#2e7d32";
    case probe_outcome::certificate: return "#9e9d24";
    case probe_outcome::injection: return "#b71c1c";
    case probe_outcome::senders_lose_tls: return "#ef6c00";
    case probe_outcome::no_starttls: return "#c62828";
    case probe_outcome::starttls_fails: return "#ad1457";
    case probe_outcome::ehlo_fails: return "#6a1b9a";
    case probe_outcome::unreachable: return "#546e7a";
    case probe_outcome::dns_fails: return "#78909c";
  }
  return "#9e9e9e";
}

// The summary's outcomes in the order it shows them: the probe's, then the scan's own.
std::vector<record_outcome> summary_order() {
  std::vector<record_outcome> v;
  for (auto o : all_probe_outcomes) v.push_back({.kind = record_kind::probed, .outcome = o});
  v.push_back({.kind = record_kind::invalid, .outcome = {}});
  v.push_back({.kind = record_kind::error, .outcome = {}});
  return v;
}

// By the outcome's word, which is what the records file holds (an outcome this build does
// not know gets grey).
std::string colour_of(std::string_view outcome) {
  auto o = parse_record_outcome(outcome);
  return o ? colour_of(o->kind, o->outcome) : "#9e9e9e";
}

struct row_facts {
  std::string tls = "none";
  std::vector<std::string> cert_problems;
  std::vector<std::string> losers;  // by client id from "senders", else by name from the verdict's host
  bool injection = false;
};

// The facts a row shows, all about the host the record says its verdict is about.
row_facts facts_of(const read_record& rec) {
  row_facts f;
  f.injection = rec.command_injection;
  const json& obj = rec.object;
  if (rec.senders) {
    for (const auto* group : {&rec.senders->plaintext, &rec.senders->fail, &rec.senders->hang})
      f.losers.insert(f.losers.end(), group->begin(), group->end());
  }
  if (!rec.verdict_host) return f;
  const json& h = obj["hosts"][*rec.verdict_host];
  if (!h.is_object()) return f;
  const json* tls = host_tls(h);
  if (tls && flag(*tls, "established")) {
    f.tls = str(*tls, "protocol");
    if (tls->contains("verified") && (*tls)["verified"].is_boolean() && !flag(*tls, "verified"))
      f.cert_problems.push_back("not verified");
    if (tls->contains("hostname_match") && (*tls)["hostname_match"].is_boolean() && !flag(*tls, "hostname_match"))
      f.cert_problems.push_back("name mismatch");
    if (flag(*tls, "expired")) f.cert_problems.push_back("expired");
  }
  if (!rec.senders) {
    auto losers = h.find("senders_losing_tls");
    if (losers != h.end() && losers->is_array())
      for (const auto& name : *losers)
        if (name.is_string()) f.losers.push_back(name.get<std::string>());
  }
  return f;
}

// "plaintext 9, fail 2" from the record's sender groups; empty without them.
std::string sender_counts(const read_record& rec) {
  if (!rec.senders) return {};
  std::string out;
  auto add = [&](const char* name, const std::vector<std::string>& ids) {
    if (!ids.empty()) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, ids.size());
  };
  add("tls", rec.senders->tls);
  add("plaintext", rec.senders->plaintext);
  add("fail", rec.senders->fail);
  add("hang", rec.senders->hang);
  add("unknown", rec.senders->unknown);
  return out;
}

// How bad an outcome is for mail over TLS, for the order of the table and the legend
// (higher is worse): every sender loses TLS, then some senders do, then open to injection,
// then no mail at all for reasons that are not TLS's, then a certificate problem (mail still
// goes over TLS), then lines the scan could not probe.
int outcome_severity(record_kind kind, probe_outcome o) {
  switch (kind) {
    case record_kind::invalid: return 1;
    case record_kind::error: return 1;
    case record_kind::probed: break;
  }
  switch (o) {
    case probe_outcome::starttls_fails: return 9;
    case probe_outcome::no_starttls: return 8;
    case probe_outcome::ehlo_fails: return 7;
    case probe_outcome::senders_lose_tls: return 6;
    case probe_outcome::injection: return 5;
    case probe_outcome::unreachable: return 4;
    case probe_outcome::dns_fails: return 3;
    case probe_outcome::certificate: return 2;
    case probe_outcome::ok: return 0;
  }
  return 1;
}

// The legend's words (docs/probe-json.md, "Outcomes").
const char* meaning_of(record_kind kind, probe_outcome o) {
  switch (kind) {
    case record_kind::invalid: return "the line of the list is not a destination";
    case record_kind::error: return "the probe itself failed (a bug: the record says why)";
    case record_kind::probed: break;
  }
  switch (o) {
    case probe_outcome::ok: return "TLS works for every sender; the certificate verifies and matches";
    case probe_outcome::certificate:
      return "TLS works for every sender; the certificate does not verify, does not match, or is expired or not yet valid";
    case probe_outcome::injection:
      return "TLS works for every sender, but the server is open to STARTTLS command or response injection";
    case probe_outcome::senders_lose_tls: return "STARTTLS works, but some senders will not use it (their mail goes in plaintext or fails)";
    case probe_outcome::no_starttls: return "STARTTLS is not offered, or EHLO is refused: no sender uses TLS";
    case probe_outcome::starttls_fails: return "STARTTLS is refused or unanswered, or the TLS handshake fails";
    case probe_outcome::ehlo_fails: return "no complete EHLO reply";
    case probe_outcome::unreachable: return "no connection, no banner, 421 or another non-220 greeting (not a TLS problem)";
    case probe_outcome::dns_fails: return "NXDOMAIN, null MX, no address, a failed or timed-out lookup";
  }
  return "";
}

std::vector<html::outcome_class> outcome_classes() {
  std::vector<html::outcome_class> v;
  for (const auto& ro : summary_order())
    v.push_back({.id = std::string(record_outcome_text(ro.kind, ro.outcome)),
                 .label = std::string(record_outcome_text(ro.kind, ro.outcome)),
                 .colour = colour_of(ro.kind, ro.outcome),
                 .meaning = meaning_of(ro.kind, ro.outcome),
                 .severity = outcome_severity(ro.kind, ro.outcome)});
  return v;
}

int outcome_severity(std::string_view outcome) {
  auto o = parse_record_outcome(outcome);
  return o ? outcome_severity(o->kind, o->outcome) : 1;
}

// A destination's problems: the reason ids of severity error or warning on the record
// (domain and verdict host) and on every host, each once, with the senders each costs: the
// record's senders that lose TLS; for DNSSEC and DANE reasons the DANE senders that defer;
// for MTA-STS reasons the senders that refuse the host.
struct destination_problem {
  std::string id, severity;
  std::set<std::string> senders;
};

std::vector<destination_problem> problems_of(const read_record& rec, const row_facts& f) {
  const json& obj = rec.object;
  std::map<std::string, destination_problem> by_id;
  std::set<std::string> dane_defer, sts_refuse;
  auto add = [&](const json& reasons) {
    if (!reasons.is_array()) return;
    for (const auto& r : reasons) {
      if (!r.is_object()) continue;
      std::string id = str(r, "id"), sev = str(r, "severity");
      if (id.empty()) continue;
      if (sev.empty())
        if (auto known = parse_reason_id(id)) sev = to_string(mxtls::severity_of(*known));
      if (sev != "error" && sev != "warning") continue;
      by_id.try_emplace(id, destination_problem{.id = id, .severity = sev, .senders = {}});
    }
  };
  if (auto r = obj.find("reasons"); r != obj.end()) add(*r);
  if (auto hosts = obj.find("hosts"); hosts != obj.end() && hosts->is_array())
    for (const auto& h : *hosts) {
      if (!h.is_object()) continue;
      if (auto r = h.find("reasons"); r != h.end()) add(*r);
      if (auto d = h.find("dane"); d != h.end() && d->is_object())
        if (auto s = d->find("senders"); s != d->end() && s->is_array())
          for (const auto& x : *s)
            if (x.is_object() && str(x, "outcome") == "defer") dane_defer.insert(str(x, "id"));
      if (auto m = h.find("mta_sts"); m != h.end() && m->is_object())
        if (auto s = m->find("senders"); s != m->end() && s->is_array())
          for (const auto& x : *s)
            if (x.is_object() && str(x, "effect") == "refuses") sts_refuse.insert(str(x, "id"));
    }
  std::vector<destination_problem> out;
  for (auto& [id, p] : by_id) {
    if (id.starts_with("dane-") || id.starts_with("dnssec-"))
      p.senders = dane_defer;
    else if (id.starts_with("mta-sts-"))
      p.senders = sts_refuse;
    else
      p.senders.insert(f.losers.begin(), f.losers.end());
    out.push_back(std::move(p));
  }
  return out;
}

// The DANE column: each host's "dane" status, counted when the hosts differ; "-" when no
// host has one (an address target, a record without the check).
std::string dane_text(const json& obj) {
  std::map<std::string, std::size_t> statuses;
  if (auto hosts = obj.find("hosts"); hosts != obj.end() && hosts->is_array())
    for (const auto& h : *hosts)
      if (h.is_object())
        if (auto d = h.find("dane"); d != h.end() && d->is_object() && !str(*d, "status").empty()) ++statuses[str(*d, "status")];
  if (statuses.empty()) return "-";
  if (statuses.size() == 1) return statuses.begin()->first;
  std::string out;
  for (const auto& [s, n] : statuses) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", s, n);
  return out;
}

// The MTA-STS column: the domain's status and mode, and the MX hosts the policy does not
// list or refuses.
std::string mta_sts_text(const json& obj) {
  auto m = obj.find("mta_sts");
  if (m == obj.end() || !m->is_object()) return "-";
  std::string out = str(*m, "status");
  if (auto p = m->find("policy"); p != m->end() && p->is_object() && !str(*p, "mode").empty()) out += " " + str(*p, "mode");
  std::set<std::string> not_listed, refused;
  if (auto hosts = obj.find("hosts"); hosts != obj.end() && hosts->is_array())
    for (const auto& h : *hosts) {
      if (!h.is_object()) continue;
      auto match = h.find("mta_sts_match");
      if (match != h.end() && match->is_boolean() && !match->get<bool>()) not_listed.insert(str(h, "mx"));
      if (auto hm = h.find("mta_sts"); hm != h.end() && hm->is_object() && flag(*hm, "refused")) refused.insert(str(h, "mx"));
    }
  auto names = [](const std::set<std::string>& s) {
    std::string t;
    for (const auto& x : s) t += (t.empty() ? "" : ", ") + x;
    return t;
  };
  if (!not_listed.empty()) out += "; not listed: " + names(not_listed);
  if (!refused.empty()) out += "; refused: " + names(refused);
  return out;
}

std::string tls_rpt_text(const json& obj) {
  auto t = obj.find("tls_rpt");
  if (t == obj.end() || !t->is_object()) return "-";
  std::string out = str(*t, "status");
  if (auto rua = t->find("rua"); rua != t->end() && rua->is_array() && !rua->empty())
    out += fmt::format(" ({} rua)", rua->size());
  return out;
}

std::string diagnosis_section(const read_record& r, const std::string& anchor) {
  const json& rec = r.object;
  std::string out = fmt::format("<section class=\"diag\" id=\"{}\"><h3>Line {}: {}</h3>\n<p class=\"verdict\">{}</p>\n", anchor,
                                num(rec, "line"), esc(str(rec, "input")), esc(str(rec, "verdict")));
  if (r.senders) {
    out += "<h4>Senders</h4><ul>";
    auto group = [&](const char* name, const std::vector<std::string>& ids) {
      std::string list;
      for (const auto& id : ids) list += (list.empty() ? "" : ", ") + esc(id);
      out += fmt::format("<li><b>{}</b> {}{}</li>", name, ids.size(), ids.empty() ? "" : ": " + list);
    };
    group("tls", r.senders->tls);
    group("plaintext", r.senders->plaintext);
    group("fail", r.senders->fail);
    group("hang", r.senders->hang);
    if (!r.senders->unknown.empty()) group("unknown (not documented)", r.senders->unknown);
    out += "</ul>\n";
  }
  // DNS: lines of text (version 1), or lookups and MX records (version 2).
  std::string dns;
  if (auto d = rec.find("dns"); d != rec.end() && d->is_array()) {
    for (const auto& line : *d)
      if (line.is_string()) dns += esc(line.get<std::string>()) + "\n";
  } else if (d != rec.end() && d->is_object()) {
    if (auto l = d->find("lookups"); l != d->end() && l->is_array())
      for (const auto& x : *l)
        if (x.is_object())
          dns += fmt::format("{} {}: {}{}\n", esc(str(x, "name")), esc(str(x, "type")), esc(str(x, "status")),
                             str(x, "detail").empty() ? "" : " (" + esc(str(x, "detail")) + ")");
    if (auto m = d->find("mx"); m != d->end() && m->is_array())
      for (const auto& x : *m)
        if (x.is_object()) dns += fmt::format("MX {} {}\n", num(x, "preference"), esc(str(x, "host")));
  }
  if (!dns.empty()) out += "<h4>DNS</h4><pre>" + dns + "</pre>\n";
  // MTA-STS and TLS-RPT of the domain (docs/probe-json.md: mta_sts, tls_rpt).
  if (auto m = rec.find("mta_sts"); m != rec.end() && m->is_object()) {
    std::string text = "status " + str(*m, "status");
    if (auto p = m->find("policy"); p != m->end() && p->is_object()) {
      text += "; mode " + str(*p, "mode");
      if (auto mx = p->find("mx"); mx != p->end() && mx->is_array())
        for (const auto& x : *mx)
          if (x.is_string()) text += "; mx " + x.get<std::string>();
    }
    if (auto f = m->find("fetch"); f != m->end() && f->is_object()) {
      text += "; " + str(*f, "url");
      if (!str(*f, "error").empty()) text += " failed: " + str(*f, "error") + " " + str(*f, "detail");
    }
    out += "<h4>MTA-STS</h4><p>" + esc(text) + "</p>\n";
  }
  if (auto t = rec.find("tls_rpt"); t != rec.end() && t->is_object()) {
    std::string text = "status " + str(*t, "status");
    if (auto rua = t->find("rua"); rua != t->end() && rua->is_array())
      for (const auto& x : *rua)
        if (x.is_string()) text += "; rua " + x.get<std::string>();
    out += "<h4>TLS-RPT</h4><p>" + esc(text) + "</p>\n";
  }
  if (rec.contains("hosts") && rec["hosts"].is_array()) {
    std::size_t index = 0;
    for (const auto& h : rec["hosts"]) {
      bool verdict_host = r.verdict_host && *r.verdict_host == index++;
      if (!h.is_object()) continue;
      out += fmt::format("<h4{}>Host {} {}:{} — {}{}</h4>\n<pre>", verdict_host ? " class=\"verdict-host\"" : "",
                         esc(str(h, "mx")), esc(str(h, "address")), num(h, "port"), esc(str(h, "verdict")),
                         verdict_host && rec["hosts"].size() > 1 ? " (the verdict is about this host)" : "");
      if (const json* transcript = host_transcript(h))
        for (const auto& t : *transcript)
          if (t.is_object()) out += fmt::format("{:>6} ms  {}  {}\n", num(t, "ms"), esc(str(t, "dir")), esc(str(t, "text")));
      out += "</pre>\n";
      if (auto reasons = h.find("reasons"); reasons != h.end() && reasons->is_array() && !reasons->empty()) {
        out += "<ul>";
        for (const auto& x : *reasons)
          if (x.is_object()) out += fmt::format("<li><b>{}</b> {}</li>", esc(str(x, "id")), esc(str(x, "text")));
        out += "</ul>\n";
      }
      if (const json* tls = host_tls(h); tls && flag(*tls, "established")) {
        const auto& t = *tls;
        out += fmt::format("<p>TLS {} {}; verified: {}{}</p>\n", esc(str(t, "protocol")), esc(str(t, "cipher")),
                           flag(t, "verified") ? "yes" : "no", flag(t, "verified") ? "" : " (" + esc(str(t, "verify_error")) + ")");
        if (t.contains("chain") && t["chain"].is_array()) {
          out += "<ul>";
          for (const auto& c : t["chain"])
            if (c.is_object())
              out += fmt::format("<li>{} <small>issuer {}; valid {} to {}; SHA-256 {}</small></li>", esc(str(c, "subject")),
                                 esc(str(c, "issuer")), esc(str(c, "not_before")), esc(str(c, "not_after")), esc(str(c, "sha256")));
          out += "</ul>\n";
        }
      }
      if (auto d = h.find("dane"); d != h.end() && d->is_object()) {
        std::string text = "DANE " + str(*d, "status");
        if (!str(*d, "tlsa_name").empty()) text += " at " + str(*d, "tlsa_name");
        if (auto tlsa = d->find("tlsa"); tlsa != d->end() && tlsa->is_array())
          for (const auto& x : *tlsa)
            if (x.is_object())
              text += fmt::format("; TLSA {} {} {} {}{}", num(x, "usage"), num(x, "selector"), num(x, "mtype"), str(x, "data"),
                                  flag(x, "usable") ? "" : " (unusable)");
        if (auto m = d->find("matched"); m != d->end() && m->is_object()) text += fmt::format("; matched at depth {}", num(*m, "depth"));
        out += "<p>" + esc(text) + "</p>\n";
      }
      if (h.contains("lint") && h["lint"].is_object() && h["lint"].contains("findings")) {
        const auto& findings = h["lint"]["findings"];
        if (findings.is_array() && !findings.empty()) {
          out += "<h4>EHLO reply findings</h4><ul>";
          for (const auto& f : findings)
            if (f.is_object())
              out += fmt::format("<li><b>{}</b> {} (line {}, column {}; {}): {} <i>Fix:</i> {}</li>", esc(str(f, "severity")),
                                 esc(str(f, "id")), num(f, "line"), num(f, "column"), esc(str(f, "rfc")),
                                 esc(str(f, "message")), esc(str(f, "fix")));
          out += "</ul>\n";
        }
      }
    }
  }
  out += "<p><a href=\"#table\">back to the table</a></p></section>\n";
  return out;
}

}  // namespace

namespace {

// Calls `fn` with each record of the file, from its start (through the one reader of
// records); counts the lines that are not records (and notes the first of them) when
// `bad` is given.
template <class Fn>
void for_each_record(std::istream& in, Fn fn, std::size_t* bad = nullptr, std::vector<std::size_t>* bad_lines = nullptr) {
  in.clear();
  in.seekg(0);
  record_reader reader(in);
  for (auto it = reader.next(); it.kind != record_reader::item::end; it = reader.next()) {
    if (it.kind == record_reader::item::bad) {
      if (bad) ++*bad;
      if (bad_lines && bad_lines->size() < 20) bad_lines->push_back(it.jsonl_line);
      continue;
    }
    fn(it.rec);
  }
}

}  // namespace

void write_scan_html(std::istream& in, std::ostream& out, const scan_html_options& opt) {
  // Three readings of the records (summary, problems and charts; table; diagnoses), so that
  // memory does not grow with the number of destinations (the problems keep a few examples).
  std::map<std::string, std::size_t> outcomes, tls_versions, cert_problems, losers;
  std::size_t records = 0, not_records = 0, injection = 0;
  std::vector<std::size_t> bad_lines;
  std::map<std::string, html::problem> problems;
  constexpr std::size_t examples_per_problem = 5;
  std::size_t n = 0;
  auto anchor_of = [&](const read_record& rec) { return fmt::format("d{}-{}", rec.line, ++n); };
  for_each_record(
      in,
      [&](const read_record& rec) {
        ++records;
        ++outcomes[rec.outcome_text];
        row_facts f = facts_of(rec);
        // Destinations that got as far as a connection attempt.
        if (rec.kind == record_kind::probed && rec.outcome != probe_outcome::dns_fails) ++tls_versions[f.tls];
        if (f.tls != "none") {
          if (f.cert_problems.empty()) ++cert_problems["none"];
          for (const auto& p : f.cert_problems) ++cert_problems[p];
        }
        for (const auto& l : f.losers) ++losers[l];
        if (f.injection) ++injection;
        for (auto& dp : problems_of(rec, f)) {
          auto [it, fresh] = problems.try_emplace(dp.id);
          html::problem& p = it->second;
          if (fresh) {
            auto known = parse_reason_id(dp.id);
            reason_advice words = known ? advice_for(*known) : reason_advice{};
            p.id = dp.id;
            p.title = words.title.empty() ? dp.id : std::string(words.title);
            p.fix = words.fix.empty() ? std::string("See the reason in docs/probe-json.md.") : std::string(words.fix);
            p.severity_word = dp.severity;
            p.severity = dp.severity == "error" ? 2 : 1;
          }
          ++p.destinations;
          for (const auto& s : dp.senders)
            if (std::find(p.senders.begin(), p.senders.end(), s) == p.senders.end()) p.senders.push_back(s);
          if (p.examples.size() < examples_per_problem) p.examples.push_back(rec.input);
        }
      },
      &not_records, &bad_lines);

  html::page_info page{.title = opt.title, .note = {}, .warnings = {}};
  page.note = fmt::format("{} destination{}", records, records == 1 ? "" : "s");
  if (!opt.generated.empty()) page.note += ", generated " + opt.generated;
  if (!opt.note.empty()) page.note += "; " + opt.note;
  if (not_records > 0) {
    std::string which;
    for (auto l : bad_lines) which += (which.empty() ? "" : ", ") + std::to_string(l);
    page.warnings.push_back(fmt::format("{} lines of the records file are not records (lines {}{}).", not_records, which,
                                        not_records > bad_lines.size() ? ", ..." : ""));
  }
  html::begin_page(out, page);

  std::vector<html::card> cards;
  std::vector<html::filter_choice> choices;
  auto classes = outcome_classes();
  std::stable_sort(classes.begin(), classes.end(), [](const auto& a, const auto& b) { return a.severity > b.severity; });
  for (const auto& c : classes) {
    auto it = outcomes.find(c.id);
    if (it == outcomes.end()) continue;
    cards.push_back({.tag = c.id, .label = c.label, .colour = c.colour, .count = it->second});
    choices.push_back({.tag = c.id, .label = c.label, .count = it->second});
  }
  // Outcomes this build does not know (records of a newer one), in grey.
  for (const auto& [o, count] : outcomes)
    if (!parse_record_outcome(o)) {
      cards.push_back({.tag = o, .label = o, .colour = "#9e9e9e", .count = count});
      choices.push_back({.tag = o, .label = o, .count = count});
    }
  if (injection > 0) cards.push_back({.tag = "command-injection", .label = "command injection", .colour = "#b71c1c", .count = injection});
  html::write_cards(out, cards);
  std::vector<html::outcome_class> present;  // the legend names the outcomes this report has
  for (const auto& c : outcome_classes())
    if (outcomes.count(c.id)) present.push_back(c);
  html::write_legend(out, present);

  std::vector<html::problem> list;
  for (auto& [id, p] : problems) list.push_back(std::move(p));
  html::write_fix_first(out, std::move(list),
                        {.destinations = "destinations",
                         .messages = {},
                         .senders = "senders lose TLS",
                         .order_note = "Each problem once, with the destinations it was found at (errors and warnings of "
                                       "the diagnoses), ordered by how many destinations it costs, then by how many "
                                       "senders, then errors before warnings. A link shows its destinations in the table."});

  auto as_bars = [](const std::map<std::string, std::size_t>& m, bool outcome_colours_on) {
    std::vector<html::bar> bars;
    for (const auto& [label, count] : m)
      bars.push_back({.label = label, .count = count, .colour = outcome_colours_on ? colour_of(label) : std::string("#1565c0")});
    return bars;
  };
  html::begin_charts(out);
  html::write_bar_chart(out, "chart-outcomes", "Outcomes", as_bars(outcomes, true));
  html::write_bar_chart(out, "chart-tls", "TLS versions (no TLS: none)", as_bars(tls_versions, false));
  html::write_bar_chart(out, "chart-certificates", "Certificate problems (destinations with TLS)", as_bars(cert_problems, false));
  html::write_bar_chart(out, "chart-senders", "Senders that lose TLS", as_bars(losers, false));
  html::end_charts(out);

  const std::vector<html::column> columns{
      {.title = "Line", .numeric = true},    {.title = "Destination"},          {.title = "Outcome", .severity = true},
      {.title = "TLS"},                      {.title = "Certificate"},          {.title = "DANE"},
      {.title = "MTA-STS"},                  {.title = "TLS-RPT"},              {.title = "Senders"},
      {.title = "Verdict"},                  {.title = "Details"}};
  html::begin_table(out, columns, choices);
  for_each_record(in, [&](const read_record& r) {
    const json& rec = r.object;
    const std::string& outcome = r.outcome_text;
    row_facts f = facts_of(r);
    std::string cert;
    for (const auto& p : f.cert_problems) cert += (cert.empty() ? "" : ", ") + p;
    std::string tags = outcome;
    if (f.injection) tags += " command-injection";
    for (const auto& p : problems_of(r, f)) tags += " p:" + p.id;
    // Worst first: the outcome's severity, then how many senders lose TLS.
    std::string key = std::to_string(outcome_severity(outcome) * 1000 + static_cast<int>(std::min<std::size_t>(f.losers.size(), 999)));
    const std::vector<html::cell> cells{
        {.html = std::to_string(r.line), .key = std::to_string(r.line)},
        {.html = esc(r.input), .key = {}},
        {.html = fmt::format("<span class=\"pill\" style=\"background:{}\">{}</span>", colour_of(outcome), esc(outcome)), .key = key},
        {.html = esc(f.tls), .key = {}},
        {.html = esc(cert), .key = {}},
        {.html = esc(dane_text(rec)), .key = {}},
        {.html = esc(mta_sts_text(rec)), .key = {}},
        {.html = esc(tls_rpt_text(rec)), .key = {}},
        {.html = esc(sender_counts(r)), .key = {}},
        {.html = esc(str(rec, "verdict")) + (f.injection ? " <b>(command injection)</b>" : ""), .key = {}},
        {.html = fmt::format("<a href=\"#{}\">diagnosis</a>", anchor_of(r)), .key = {}}};
    html::write_row(out, columns, outcome, tags, cells);
  });
  html::end_table(out);
  out << "<h2>Diagnoses</h2>\n<p class=\"note\">Open one with its table row's link.</p>\n";
  n = 0;
  for_each_record(in, [&](const read_record& rec) { out << diagnosis_section(rec, anchor_of(rec)); });
  html::end_page(out);
}

std::string render_scan_html(std::istream& in, const scan_html_options& opt) {
  std::ostringstream out;
  write_scan_html(in, out, opt);
  return out.str();
}

}  // namespace mxtls
