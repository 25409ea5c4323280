#include "mxtls/report.hpp"

namespace mxtls {

void write_lint_json(json_writer& w, const lint_result& r, std::string_view input_name, bool raw) {
  const ehlo_reply& e = r.ehlo;
  w.begin_object();
  w.member("schema", "mxtls-lint").member("version", lint_json_version);
  w.key("input").begin_object();
  w.member("name", input_name).member("mode", raw ? "raw" : "paste").member("octets", r.input_octets);
  w.member("lines", r.input_lines);
  w.key("ignored_lines").begin_array();
  for (auto line : r.ignored_lines) w.value(line);
  w.end_array();
  w.member("ehlo_replies", r.ehlo_replies_in_input);
  // Paste mode: how the input was read (docs/lint-json.md, version 1 additions).
  w.member("format", to_string(r.format)).member("line_prefix", to_string(r.prefix)).member("quoted", r.quoted);
  w.key("notes").begin_array();
  for (const auto& n : r.paste_notes)
    w.begin_object().member("change", to_string(n.change)).member("count", n.count).member("first_line", n.first_line).end_object();
  w.end_array();
  w.member("tool_lines", r.tool_lines).member("tls_dump_lines", r.tls_dump_lines);
  w.key("linted_turn").begin_object().member("index", r.linted_turn).member("reason", to_string(r.linted_reason));
  w.member("inside_tls", r.linted_inside_tls).member("plaintext_reply_missing", r.plaintext_reply_missing);
  w.key("plaintext_leftover_lines").begin_array();
  for (auto line : r.plaintext_leftover_lines) w.value(line);
  w.end_array();
  w.key("late_lines");
  if (r.late_lines_from > 0)
    w.begin_object().member("from", r.late_lines_from).member("to", r.late_lines_to).member("after_command", r.late_after_command).end_object();
  else
    w.null();
  w.end_object().end_object();
  w.key("dialogue").begin_object();
  w.member("starttls", to_string(r.dialogue.starttls)).member_if("starttls_code", r.dialogue.starttls_code >= 0, r.dialogue.starttls_code);
  w.member_if("starttls_line", r.starttls_answer_line > 0, r.starttls_answer_line);
  w.member("handshake", to_string(r.dialogue.handshake)).member_if("handshake_line", r.handshake_line > 0, r.handshake_line);
  w.member("ehlo_after_tls", r.dialogue.ehlo_after_tls).end_object();
  w.key("verdict").begin_object();
  w.member("status", r.status == verdict_status::errors     ? "errors"
                     : r.status == verdict_status::warnings ? "warnings"
                                                            : "ok");
  w.member("headline", r.headline).end_object();
  w.key("reply").begin_object().member_if("code", e.code >= 0, e.code);
  w.member("lines_sent", e.lines_sent).member("lines_read_strictly", e.lines_read_strictly).end_object();
  w.key("starttls").begin_object();
  w.member("visible_to_strict_clients", e.starttls_visible).member("present", e.starttls_anywhere).end_object();
  w.key("greeting");
  if (e.greeting) {
    const auto& g = *e.greeting;
    w.begin_object().member("domain", g.domain).member("text", g.text).member("line", g.line);
    w.member("valid", g.valid).member("address_literal", g.address_literal).end_object();
  } else {
    w.null();
  }
  w.key("extensions").begin_array();
  for (const auto& x : e.extensions) {
    w.begin_object().member("keyword", x.keyword).key("params").strings(x.params);
    w.member("line", x.line).member("seen_by_strict_client", x.seen_by_strict_client).end_object();
  }
  w.end_array();
  w.key("findings").begin_array();
  for (const auto& f : e.findings) {
    const auto& c = f.entry();
    w.begin_object().member("id", c.name).member("severity", to_string(c.level)).member("line", f.line);
    w.member("column", f.column).member("rfc", c.rfc).member("message", f.message).member("fix", c.fix).end_object();
  }
  w.end_array();
  w.key("summary").begin_object();
  w.member("errors", r.errors).member("warnings", r.warnings).member("infos", r.infos).end_object();
  w.key("clients").begin_array();
  for (const auto& c : r.clients) {
    w.begin_object().member("id", c.id).member("name", c.name).member("version", c.version);
    w.member("sees_starttls", c.sees_starttls).member("outcome", to_string(c.outcome));
    w.member("outcome_required", to_string(c.outcome_required)).member("reason", to_string(c.reason)).member("why", c.why).end_object();
  }
  w.end_array();
  // The clients' readings met with what the conversation showed (the answer to STARTTLS,
  // the handshake), grouped by the one rule the probe uses.
  lint_diagnosis d = diagnose_lint(r, r.dialogue);
  w.key("senders");
  write_sender_groups(w, d.groups);
  w.key("predictions");
  write_predictions(w, d.senders);
  w.end_object();
}

std::string render_lint_json(const lint_result& r, std::string_view input_name, bool raw) {
  std::string out;
  json_writer w(out, 2);
  write_lint_json(w, r, input_name, raw);
  return out;
}

void write_sender_groups(json_writer& w, const sender_groups& g) {
  auto list = [&](std::string_view k, const std::vector<std::string_view>& v) {
    w.key(k).begin_array();
    for (auto id : v) w.value(id);
    w.end_array();
  };
  w.begin_object();
  list("tls", g.tls);
  list("plaintext", g.plaintext);
  list("fail", g.fail);
  list("hang", g.hang);
  list("tls_off", g.tls_off);
  list("unknown", g.unknown);
  w.end_object();
}

void write_predictions(json_writer& w, std::span<const sender_prediction> senders) {
  w.begin_array();
  for (const auto& p : senders) {
    w.begin_object().member("id", p.id).member("outcome", to_string(p.outcome)).member("outcome_required", to_string(p.outcome_required));
    w.member("layer", to_string(p.layer));
    w.member("reason", p.dialogue_reason ? to_string(*p.dialogue_reason) : to_string(p.ehlo_reason));
    w.member("ehlo_reason", to_string(p.ehlo_reason)).member("assumed_handshake", p.assumed_handshake);
    w.key("tls");
    if (p.outcome == tls_outcome::tls && !p.tls_version.empty())
      w.begin_object().member("version", p.tls_version).key("cipher").value_or_null(p.tls_cipher).end_object();
    else
      w.null();
    w.end_object();
  }
  w.end_array();
}

}  // namespace mxtls
