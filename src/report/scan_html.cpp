#include "mxtls/scan_html.hpp"

#include "mxtls/scan_records.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mxtls {

namespace {

using json = nlohmann::json;

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

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

// A horizontal bar chart as inline SVG: one bar per (label, count), largest first.
std::string bar_chart(const std::string& id, const std::string& title, std::vector<std::pair<std::string, std::size_t>> bars,
                      bool outcome_colours_on) {
  std::stable_sort(bars.begin(), bars.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::size_t max = 1;
  for (const auto& b : bars) max = std::max(max, b.second);
  const int row = 24, label_w = 210, bar_w = 240;
  int height = std::max<int>(1, static_cast<int>(bars.size())) * row + 8;
  std::string out = fmt::format("<figure class=\"chart\"><figcaption>{}</figcaption>\n", esc(title));
  out += fmt::format("<svg id=\"{}\" class=\"chart\" role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">\n",
                     id, esc(title), label_w + bar_w + 70, height, label_w + bar_w + 70, height);
  if (bars.empty())
    out += fmt::format("<text x=\"0\" y=\"16\" class=\"empty\">none</text>\n");
  for (std::size_t i = 0; i < bars.size(); ++i) {
    int y = static_cast<int>(i) * row + 4;
    int w = std::max(2, static_cast<int>(bar_w * bars[i].second / max));
    std::string colour = outcome_colours_on ? colour_of(bars[i].first) : "#1565c0";
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
        "<title>{}: {}</title></rect><text x=\"{}\" y=\"{}\">{}</text>\n",
        label_w - 6, y + 15, esc(bars[i].first), label_w, y, w, row - 6, colour, esc(bars[i].first), bars[i].second,
        label_w + w + 6, y + 15, bars[i].second);
  }
  out += "</svg></figure>\n";
  return out;
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

const char* style = R"css(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#212121}
h1{margin:0 0 .2em}.note{color:#555;margin:0 0 1em}
.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
.card{border-radius:6px;padding:.5em .8em;color:#fff;min-width:7em}.card b{display:block;font-size:1.6em}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}figure.chart{margin:0}figcaption{font-weight:600;margin-bottom:.3em}
svg.chart text{font-size:12px;fill:#212121}
table{border-collapse:collapse;width:100%;margin-top:.5em}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f5f5f5;user-select:none}th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
.pill{border-radius:4px;padding:0 .4em;color:#fff;white-space:nowrap}
.controls{display:flex;gap:.6em;margin-top:1.5em}.controls input{flex:1;padding:.3em}
.diag{display:none;border:1px solid #bbb;border-radius:6px;padding:.5em 1em;margin:1em 0}.diag:target{display:block}
pre{background:#fafafa;overflow-x:auto;padding:.5em}
)css";

const char* script = R"js(
(function(){
  var table=document.getElementById('results'),body=table.tBodies[0];
  var rows=Array.prototype.slice.call(body.rows);
  var filter=document.getElementById('filter'),outcome=document.getElementById('outcome'),shown=document.getElementById('shown');
  function apply(){
    var q=filter.value.toLowerCase(),o=outcome.value,n=0;
    rows.forEach(function(r){
      var ok=(!o||r.dataset.outcome===o)&&(!q||r.textContent.toLowerCase().indexOf(q)>=0);
      r.hidden=!ok;if(ok)n++;
    });
    shown.textContent=n+' of '+rows.length+' shown';
  }
  filter.addEventListener('input',apply);outcome.addEventListener('change',apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.addEventListener('click',function(){
      var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
      Array.prototype.forEach.call(table.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',dir>0?'ascending':'descending');
      var numeric=th.dataset.type==='number';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.key||a.cells[i].textContent,y=b.cells[i].dataset.key||b.cells[i].textContent;
        return dir*(numeric?(Number(x)-Number(y)):x.localeCompare(y));
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  function openTarget(){var d=location.hash&&document.getElementById(location.hash.slice(1));if(d&&d.scrollIntoView)d.scrollIntoView();}
  window.addEventListener('hashchange',openTarget);
  apply();
  // Rendered-check for people and for the report's test: every chart has laid-out bars.
  var charts=document.querySelectorAll('svg.chart'),drawn=0;
  Array.prototype.forEach.call(charts,function(c){var b=c.getBBox();if(b.width>0&&b.height>0)drawn++;});
  document.body.setAttribute('data-charts-drawn',drawn+'/'+charts.length);
  document.body.setAttribute('data-ready','yes');
})();
)js";

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
  // Three readings of the records (summary and charts, table, diagnoses), so that memory
  // does not grow with the number of destinations.
  std::map<std::string, std::size_t> outcomes, tls_versions, cert_problems, losers;
  std::size_t records = 0, not_records = 0, injection = 0;
  std::vector<std::size_t> bad_lines;
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
      },
      &not_records, &bad_lines);

  auto as_bars = [](const std::map<std::string, std::size_t>& m) {
    return std::vector<std::pair<std::string, std::size_t>>(m.begin(), m.end());
  };
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out << fmt::format("<title>{}</title>\n<style>{}</style></head>\n<body>\n<h1>{}</h1>\n", esc(opt.title), style, esc(opt.title));
  std::string note = fmt::format("{} destination{}", records, records == 1 ? "" : "s");
  if (!opt.generated.empty()) note += ", generated " + opt.generated;
  if (!opt.note.empty()) note += "; " + opt.note;
  out << fmt::format("<p class=\"note\">{}</p>\n", esc(note));
  if (not_records > 0) {
    std::string which;
    for (auto l : bad_lines) which += (which.empty() ? "" : ", ") + std::to_string(l);
    out << fmt::format("<p class=\"note\"><b>{} lines of the records file are not records</b> (lines {}{}).</p>\n", not_records,
                       which, not_records > bad_lines.size() ? ", ..." : "");
  }
  out << "<section id=\"summary\"><div class=\"cards\">\n";
  for (const auto& ro : summary_order()) {
    std::string o(record_outcome_text(ro.kind, ro.outcome));
    const char* colour = colour_of(ro.kind, ro.outcome);
    auto it = outcomes.find(o);
    if (it == outcomes.end()) continue;
    out << fmt::format("<div class=\"card\" style=\"background:{}\" data-outcome=\"{}\"><b>{}</b>{}</div>\n", colour, o, it->second, o);
  }
  if (injection > 0)
    out << fmt::format("<div class=\"card\" style=\"background:#b71c1c\" data-outcome=\"command-injection\"><b>{}</b>command injection</div>\n",
                       injection);
  out << "</div></section>\n<section class=\"charts\">\n";
  out << bar_chart("chart-outcomes", "Outcomes", as_bars(outcomes), true);
  out << bar_chart("chart-tls", "TLS versions (no TLS: none)", as_bars(tls_versions), false);
  out << bar_chart("chart-certificates", "Certificate problems (destinations with TLS)", as_bars(cert_problems), false);
  out << bar_chart("chart-senders", "Senders that lose TLS", as_bars(losers), false);
  out << "</section>\n<div class=\"controls\" id=\"table\"><input id=\"filter\" type=\"search\" placeholder=\"Filter: any text in a row\">";
  out << "<select id=\"outcome\"><option value=\"\">every outcome</option>";
  for (const auto& [o, n] : outcomes) out << fmt::format("<option value=\"{}\">{} ({})</option>", esc(o), esc(o), n);
  out << "</select><span id=\"shown\"></span></div>\n";
  out << "<table id=\"results\"><thead><tr><th data-type=\"number\">Line</th><th>Destination</th><th>Outcome</th><th>TLS</th>"
         "<th>Certificate</th><th>Senders</th><th>Verdict</th><th>Details</th></tr></thead>\n<tbody>\n";

  std::size_t n = 0;
  auto anchor_of = [&](const read_record& rec) { return fmt::format("d{}-{}", rec.line, ++n); };
  for_each_record(in, [&](const read_record& r) {
    const json& rec = r.object;
    const std::string& outcome = r.outcome_text;
    row_facts f = facts_of(r);
    std::string senders = sender_counts(r);
    std::string cert;
    for (const auto& p : f.cert_problems) cert += (cert.empty() ? "" : ", ") + p;
    out << fmt::format(
        "<tr data-outcome=\"{}\"><td data-key=\"{}\">{}</td><td>{}</td><td data-key=\"{}\"><span class=\"pill\" "
        "style=\"background:{}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td><a href=\"#{}\">diagnosis</a></td></tr>\n",
        esc(outcome), r.line, r.line, esc(r.input), esc(outcome), colour_of(outcome), esc(outcome), esc(f.tls), esc(cert),
        esc(senders), esc(str(rec, "verdict")), f.injection ? " <b>(command injection)</b>" : "", anchor_of(r));
  });
  out << "</tbody></table>\n<h2>Diagnoses</h2>\n<p class=\"note\">Open one with its table row's link.</p>\n";
  n = 0;
  for_each_record(in, [&](const read_record& rec) { out << diagnosis_section(rec, anchor_of(rec)); });
  out << fmt::format("<script>{}</script>\n</body></html>\n", script);
}

std::string render_scan_html(std::istream& in, const scan_html_options& opt) {
  std::ostringstream out;
  write_scan_html(in, out, opt);
  return out.str();
}

}  // namespace mxtls
