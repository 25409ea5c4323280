// Words and JSON for a log summary (docs/mxtls-logs.md: the text table, JSON version 1).
#include <algorithm>

#include <fmt/format.h>

#include "mxtls/json_writer.hpp"
#include "mxtls/logs.hpp"
#include "mxtls/logs_html.hpp"

namespace mxtls::logs {
namespace {

std::string time_text(const std::optional<log_time>& t) {
  if (!t) return {};
  if (!t->year_known)
    return fmt::format("{:02}-{:02}T{:02}:{:02}:{:02}", t->t.month, t->t.day, t->t.hour, t->t.minute, t->t.second);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t->t.year, t->t.month, t->t.day, t->t.hour, t->t.minute, t->t.second);
}

bool read_as(const log_summary& s, log_format f) {
  if (s.format == f) return true;
  for (const auto& i : s.input_formats)
    if (i.format == f) return true;
  return false;
}

// "sendmail", "postfix and sendmail"
std::string mtas_text(const std::vector<log_format>& mtas) {
  std::string out;
  for (std::size_t i = 0; i < mtas.size(); ++i) out += (i == 0 ? "" : i + 1 == mtas.size() ? " and " : ", ") + std::string(to_string(mtas[i]));
  return out;
}

// "postfix (detected)", "journal-export (detected), entries of sendmail", or with inputs of
// different formats each input's: "postfix (detected); per input: mail.log postfix,
// mail.export journal-export of postfix".
std::string format_text(const log_summary& s, const std::vector<std::string>& inputs) {
  std::string out = std::string(to_string(s.format)) + (s.format_forced ? " (--format)" : " (detected)");
  const input_format* first = nullptr;
  bool mixed = false;
  for (const auto& f : s.input_formats) {
    if (f.format == log_format::unknown) continue;
    if (!first) first = &f;
    else if (f.format != first->format || f.mtas != first->mtas) mixed = true;
  }
  if (!first) return out;
  if (!mixed) return first->mtas.empty() ? out : out + ", entries of " + mtas_text(first->mtas);
  out += "; per input:";
  for (std::size_t i = 0; i < s.input_formats.size(); ++i) {
    const input_format& f = s.input_formats[i];
    if (f.format == log_format::unknown) continue;
    out += fmt::format("{} {} {}", out.ends_with(":") ? "" : ",", i < inputs.size() ? inputs[i] : "-", to_string(f.format));
    if (!f.mtas.empty()) out += " of " + mtas_text(f.mtas);
  }
  return out;
}

std::string note_words(note_id n, const log_summary& s) {
  switch (n) {
    case note_id::no_tls_lines:
      if (read_as(s, log_format::exchange))
        return "no line of this log speaks of TLS: Exchange's message tracking log has no field for it (the SMTP send "
               "protocol log has, with protocol logging on the send connector, -ProtocolLoggingLevel Verbose); "
               "deliveries are counted as unknown";
      return "no line of this log speaks of TLS: it cannot show whether mail went over TLS (Postfix logs TLS only with "
             "smtp_tls_loglevel = 1 or more; the default is 0); deliveries are counted as unknown";
    case note_id::lines_not_understood: return fmt::format("{} lines were not understood (samples below)", s.lines_not_understood);
    case note_id::destinations_dropped:
      return fmt::format("{} attempts to destinations over the limit of destinations were not counted", s.destinations_dropped);
    case note_id::connections_dropped:
      return fmt::format("open connections passed their limit {} times; their pending TLS facts were forgotten", s.connections_dropped);
    case note_id::lines_cut: return fmt::format("{} lines longer than the line limit were cut", s.lines_cut);
    case note_id::no_year: return "syslog timestamps carry no year: times are shown as month-day";
    case note_id::exchange_unseen:
      // exchange_reader.cpp: no Microsoft document or published log shows a line for either.
      return "Exchange's logs do not show whether the remote certificate was verified (no documented line says so: "
             "TLS deliveries are counted as not verified), nor what a send connector that requires TLS logs when the "
             "destination offers no STARTTLS (such a session, which sends no message, is not counted)";
  }
  return {};
}

std::string reasons_text(const destination_summary& d) {
  std::string out;
  for (std::size_t i = 1; i < result_type_count; ++i)
    if (d.reasons[i]) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", to_string(static_cast<result_type>(i)), d.reasons[i]);
  return out;
}

std::string destination_text(const destination_key& k) {
  std::string s = k.domain.empty() ? std::string("-") : k.domain;
  if (!k.mx_host.empty() && k.mx_host != k.address.substr(0, k.address.find(':'))) s += " via " + k.mx_host;
  if (!k.address.empty()) s += " [" + k.address + "]";
  return s;
}

}  // namespace

std::string note_text(note_id n, const log_summary& s) { return note_words(n, s); }
std::string log_time_text(const std::optional<log_time>& t) { return time_text(t); }
std::string sender_name(const log_sender& who) {
  if (!who.host.empty()) return who.host;
  return std::string("(") + to_string(who.format) + ": no host in the log)";
}
std::vector<std::string> sender_names(const log_summary& s) {
  std::vector<std::string> names;
  for (const auto& d : s.destinations)
    for (const auto& who : d.senders) {
      std::string n = sender_name(who);
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
    }
  return names;
}
std::string senders_text(const destination_summary& d) {
  std::string t;
  for (const auto& who : d.senders) t += (t.empty() ? "" : ", ") + sender_name(who);
  return d.senders_cut ? t + ", ..." : t;
}
std::string messages_text(const destination_summary& d) {
  if (!d.messages_named()) return "-";
  return (d.messages.exact() ? "" : "~") + std::to_string(d.messages.count());
}
std::string destination_words(const destination_key& k) { return destination_text(k); }
std::string format_words(const log_summary& s, const std::vector<std::string>& inputs) { return format_text(s, inputs); }

std::string render_logs_text(const log_summary& s, const std::vector<std::string>& inputs) {
  std::string out;
  fmt::format_to(std::back_inserter(out), "format    {}\n", format_text(s, inputs));
  fmt::format_to(std::back_inserter(out), "lines     {} read, {} not understood\n", s.lines, s.lines_not_understood);
  fmt::format_to(std::back_inserter(out), "{:<6} {:>8} {:>8} {:>9} {:>6} {:>9} {:>6} {:>7}  {}\n", "worst", "attempts", "messages",
                 "delivered", "tls", "plaintext", "failed", "unknown", "destination");
  const bool several_senders = sender_names(s).size() > 1;
  for (const auto& d : s.destinations) {
    attempt_class worst = attempt_class::tls;
    for (std::size_t i = 0; i < attempt_class_count; ++i)
      if (d.classes[i] && static_cast<int>(i) >= 0) {
        auto c = static_cast<attempt_class>(i);
        auto rank = [](attempt_class x) {
          switch (x) {
            case attempt_class::tls_failed: return 5;
            case attempt_class::plaintext_after_tls_failure: return 4;
            case attempt_class::plaintext: return 3;
            case attempt_class::unknown: return 2;
            case attempt_class::other_failure: return 1;
            case attempt_class::tls: return 0;
          }
          return 0;
        };
        if (rank(c) > rank(worst)) worst = c;
      }
    std::uint64_t plain = d.count(attempt_class::plaintext) + d.count(attempt_class::plaintext_after_tls_failure);
    fmt::format_to(std::back_inserter(out), "{:<6} {:>8} {:>8} {:>9} {:>6} {:>9} {:>6} {:>7}  {}\n",
                   worst == attempt_class::tls ? "ok" : worst == attempt_class::other_failure ? "fail" : "LOST", d.attempts,
                   messages_text(d), d.delivered, d.count(attempt_class::tls), plain, d.failed(), d.count(attempt_class::unknown),
                   destination_text(d.key));
    std::string why = reasons_text(d);
    if (!why.empty()) fmt::format_to(std::back_inserter(out), "         reasons: {}\n", why);
    if (several_senders) fmt::format_to(std::back_inserter(out), "         senders: {}\n", senders_text(d));
    if (d.count(attempt_class::plaintext_after_tls_failure))
      fmt::format_to(std::back_inserter(out), "         {} plaintext after TLS failed\n", d.count(attempt_class::plaintext_after_tls_failure));
    for (const auto& [v, n] : d.tls_versions) fmt::format_to(std::back_inserter(out), "         tls: {} ({})\n", v, n);
    if (d.first) fmt::format_to(std::back_inserter(out), "         first {}  last {}\n", time_text(d.first), time_text(d.last));
    if (d.probe) {
      const probe_attachment& p = *d.probe;
      if (!p.error.empty()) {
        fmt::format_to(std::back_inserter(out), "         probe {}: failed: {}\n", p.target, p.error);
      } else {
        fmt::format_to(std::back_inserter(out), "         probe {}: {} ({})\n", p.target, p.verdict, p.outcome);
        for (const auto& r : p.reasons) fmt::format_to(std::back_inserter(out), "           {}: {}\n", r.id, r.text);
      }
    }
    if (worst != attempt_class::tls)
      for (const auto& l : d.samples)
        fmt::format_to(std::back_inserter(out), "         {}:{}: {}\n", l.file < inputs.size() ? inputs[l.file] : "-", l.line, l.text);
  }
  for (note_id n : s.notes) fmt::format_to(std::back_inserter(out), "note: {}\n", note_words(n, s));
  for (const auto& l : s.not_understood_samples)
    fmt::format_to(std::back_inserter(out), "  not understood {}:{}: {}\n", l.file < inputs.size() ? inputs[l.file] : "-", l.line, l.text);
  return out;
}

std::string render_logs_json(const log_summary& s, const std::vector<std::string>& inputs) {
  std::string out;
  json_writer w(out, 2);
  w.begin_object().member("version", logs_json_version).member("format", to_string(s.format)).member("format_forced", s.format_forced);
  w.key("inputs").begin_array();
  for (const auto& i : inputs) w.value(i);
  w.end_array();
  w.key("input_formats").begin_array();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const input_format f = i < s.input_formats.size() ? s.input_formats[i] : input_format{};
    w.begin_object().member("input", inputs[i]).member("format", to_string(f.format));
    w.key("mtas").begin_array();
    for (log_format m : f.mtas) w.value(to_string(m));
    w.end_array().end_object();
  }
  w.end_array();
  w.key("lines").begin_object().member("total", s.lines).member("not_understood", s.lines_not_understood).member("tls", s.tls_lines).end_object();
  w.key("notes").begin_array();
  for (note_id n : s.notes) w.begin_object().member("id", to_string(n)).member("text", note_words(n, s)).end_object();
  w.end_array();
  auto line_obj = [&](const evidence_line& l) {
    w.begin_object().member("input", l.file < inputs.size() ? inputs[l.file] : std::string("-")).member("line", l.line).member("text", l.text).end_object();
  };
  w.key("not_understood").begin_array();
  for (const auto& l : s.not_understood_samples) line_obj(l);
  w.end_array();
  w.key("destinations").begin_array();
  for (const auto& d : s.destinations) {
    w.begin_object();
    w.key("destination").begin_object().member("domain", d.key.domain).member("mx_host", d.key.mx_host).member("address", d.key.address).end_object();
    w.member("attempts", d.attempts);
    w.key("messages");
    if (!d.messages_named()) w.null();
    else w.value(d.messages.count());
    w.member("messages_estimated", !d.messages.exact()).member("attempts_without_message", d.attempts_without_message);
    w.member("delivered", d.delivered);
    w.key("senders").begin_array();
    for (const auto& who : d.senders) w.value(sender_name(who));
    w.end_array().member("senders_cut", d.senders_cut);
    w.member("tls", d.count(attempt_class::tls)).member("tls_verified", d.verified);
    w.member("plaintext", d.count(attempt_class::plaintext));
    w.member("plaintext_after_tls_failure", d.count(attempt_class::plaintext_after_tls_failure));
    w.member("failed", d.failed()).member("tls_failed", d.count(attempt_class::tls_failed));
    w.member("other_failed", d.count(attempt_class::other_failure)).member("unknown", d.count(attempt_class::unknown));
    w.key("reasons").begin_object();
    for (std::size_t i = 1; i < result_type_count; ++i)
      if (d.reasons[i]) w.member(to_string(static_cast<result_type>(i)), d.reasons[i]);
    w.end_object();
    w.key("tls_versions").begin_object();
    for (const auto& [v, n] : d.tls_versions) w.member(v, n);
    w.end_object();
    w.key("first").value_or_null(time_text(d.first));
    w.key("last").value_or_null(time_text(d.last));
    w.key("samples").begin_array();
    for (const auto& l : d.samples) line_obj(l);
    w.end_array();
    w.key("probe");
    if (!d.probe) {
      w.null();
    } else {
      const probe_attachment& p = *d.probe;
      w.begin_object().member("target", p.target);
      if (!p.error.empty()) {
        w.member("error", p.error);
      } else {
        w.member("outcome", p.outcome).member("verdict", p.verdict).member("exit_code", p.exit_code);
        w.key("esa").value_or_null(p.esa);
        w.key("reasons").begin_array();
        for (const auto& r : p.reasons) w.begin_object().member("id", r.id).member("text", r.text).end_object();
        w.end_array();
      }
      w.end_object();
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

}  // namespace mxtls::logs
