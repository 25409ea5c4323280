// The shared parts of the HTML reports (include/mxtls/html_page.hpp).
#include "mxtls/html_page.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mxtls::html {

std::string escape(std::string_view s) {
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

namespace {

// Narrow screens (a phone is about 360-430 CSS pixels wide): the table's rows become stacked
// blocks, each cell labelled with its column (data-label), long names wrap anywhere, charts
// scale down; nothing is wider than the screen.
const char* style = R"css(
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#212121}
h1{margin:0 0 .2em;overflow-wrap:anywhere}h2{margin:1.4em 0 .4em}.note{color:#555;margin:0 0 1em;overflow-wrap:anywhere}
[hidden]{display:none!important}
.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
.card{border:0;border-radius:6px;padding:.5em .8em;color:#fff;min-width:7em;text-align:left;font:inherit;cursor:pointer}
.card b{display:block;font-size:1.6em}.card[aria-pressed=true]{outline:3px solid #212121;outline-offset:2px}
.legend summary{font-weight:600;cursor:pointer}.legend dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em .8em;margin:.5em 0}
.legend dd{margin:0}
ol.fix{padding-left:1.6em}ol.fix>li{margin:.8em 0;overflow-wrap:anywhere}.fix .cost{margin:.2em 0}.fix p{margin:.2em 0}
.sev{border-radius:4px;padding:0 .4em;color:#fff;background:#616161;font-size:.85em}
.sev-error .sev{background:#c62828}.sev-warning .sev{background:#ef6c00}.sev-info .sev{background:#1565c0}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}figure.chart{margin:0;max-width:100%;min-width:0}figcaption{font-weight:600;margin-bottom:.3em}
svg.chart{max-width:100%;height:auto}svg.chart text{font-size:12px;fill:#212121}
table{border-collapse:collapse;width:100%;margin-top:.5em}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}
th{cursor:pointer;background:#f5f5f5;user-select:none}th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
.pill{border-radius:4px;padding:0 .4em;color:#fff;white-space:nowrap}
.controls{display:flex;flex-wrap:wrap;gap:.6em;margin-top:1.5em}.controls input{flex:1;min-width:10em;padding:.3em}
.diag{display:none;border:1px solid #bbb;border-radius:6px;padding:.5em 1em;margin:1em 0;overflow-wrap:anywhere}.diag:target{display:block}
pre{background:#fafafa;overflow-x:auto;padding:.5em;max-width:100%}pre.evidence{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2em 0}
@media (max-width:700px){
body{margin:.6em}h1{font-size:1.4em}
#results thead{display:none}
#results,#results tbody,#results tr,#results td{display:block;width:100%}
#results tr{border:1px solid #ddd;border-radius:6px;margin:.5em 0;padding:.3em}
#results td{border:0;padding:.15em .3em}
#results td::before{content:attr(data-label) ": ";font-weight:600}
.legend dl{grid-template-columns:1fr}
}
)css";

// Filters (text, outcome choice, cards and the fix-first links: one tag at a time), the
// sort (worst first on load, a header click sorts by its column), and marks for people and
// for the reports' tests: data-ready, data-shown (rows visible), data-charts-drawn.
const char* script = R"js(
(function(){
  var table=document.getElementById('results');
  var filters=Array.prototype.slice.call(document.querySelectorAll('[data-filter]'));
  if(table){
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    rows.forEach(function(r,i){r.dataset.order=i;});
    var filter=document.getElementById('filter'),choice=document.getElementById('outcome'),shown=document.getElementById('shown'),tag='';
    var apply=function(){
      var q=filter.value.toLowerCase(),n=0;
      rows.forEach(function(r){
        var ok=(!tag||(' '+r.dataset.tags+' ').indexOf(' '+tag+' ')>=0)&&(!q||r.textContent.toLowerCase().indexOf(q)>=0);
        r.hidden=!ok;if(ok)n++;
      });
      shown.textContent=n+' of '+rows.length+' shown';
      filters.forEach(function(f){f.setAttribute('aria-pressed',String(tag!==''&&f.dataset.filter===tag));});
      document.body.setAttribute('data-shown',String(n));
    };
    var setTag=function(t){
      tag=t;
      choice.value=Array.prototype.some.call(choice.options,function(o){return o.value===t;})?t:'';
      apply();
    };
    filters.forEach(function(f){f.addEventListener('click',function(e){
      if(f.tagName==='A')e.preventDefault();
      setTag(tag===f.dataset.filter?'':f.dataset.filter);
      if(f.tagName==='A')table.scrollIntoView();
    });});
    filter.addEventListener('input',apply);choice.addEventListener('change',function(){setTag(choice.value);});
    var heads=Array.prototype.slice.call(table.tHead.rows[0].cells);
    var sortBy=function(i,dir){
      heads.forEach(function(c){c.removeAttribute('aria-sort');});
      heads[i].setAttribute('aria-sort',dir>0?'ascending':'descending');
      var numeric=heads[i].dataset.type==='number';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.key||a.cells[i].textContent,y=b.cells[i].dataset.key||b.cells[i].textContent;
        var d=numeric?(Number(x)-Number(y)):x.localeCompare(y);
        return dir*d||(a.dataset.order-b.dataset.order);
      });
      rows.forEach(function(r){body.appendChild(r);});
    };
    heads.forEach(function(th,i){
      var go=function(){
        var now=th.getAttribute('aria-sort');
        sortBy(i,now==='ascending'?-1:now==='descending'?1:(th.dataset.severity?-1:1));
      };
      th.addEventListener('click',go);
      th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});
    });
    heads.forEach(function(th,i){if(th.dataset.severity)sortBy(i,-1);});
    apply();
  }
  function openTarget(){var d=location.hash&&document.getElementById(location.hash.slice(1));if(d&&d.scrollIntoView)d.scrollIntoView();}
  window.addEventListener('hashchange',openTarget);
  var charts=document.querySelectorAll('svg.chart'),drawn=0;
  Array.prototype.forEach.call(charts,function(c){var b=c.getBBox();if(b.width>0&&b.height>0)drawn++;});
  document.body.setAttribute('data-charts-drawn',drawn+'/'+charts.length);
  document.body.setAttribute('data-ready','yes');
})();
)js";

}  // namespace

void begin_page(std::ostream& out, const page_info& info) {
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out << fmt::format("<title>{}</title>\n<style>{}</style></head>\n<body>\n<h1>{}</h1>\n", escape(info.title), style,
                     escape(info.title));
  if (!info.note.empty()) out << fmt::format("<p class=\"note\">{}</p>\n", escape(info.note));
  for (const auto& w : info.warnings) out << fmt::format("<p class=\"note\"><b>{}</b></p>\n", escape(w));
}

void write_cards(std::ostream& out, std::span<const card> cards) {
  out << "<section id=\"summary\"><div class=\"cards\">\n";
  for (const auto& c : cards)
    out << fmt::format(
        "<button type=\"button\" class=\"card\" style=\"background:{}\" data-filter=\"{}\" aria-pressed=\"false\" "
        "title=\"Show only these rows (again: all)\" data-outcome=\"{}\"><b>{}</b>{}</button>\n",
        escape(c.colour), escape(c.tag), escape(c.tag), c.count, escape(c.label));
  out << "</div></section>\n";
}

void write_legend(std::ostream& out, std::vector<outcome_class> classes) {
  std::stable_sort(classes.begin(), classes.end(), [](const auto& a, const auto& b) { return a.severity > b.severity; });
  out << "<details class=\"legend\" id=\"legend\" open><summary>Outcomes, worst first</summary><dl>\n";
  for (const auto& c : classes)
    out << fmt::format("<dt><span class=\"pill\" style=\"background:{}\">{}</span></dt><dd>{}</dd>\n", escape(c.colour),
                       escape(c.label), escape(c.meaning));
  out << "</dl></details>\n";
}

void begin_charts(std::ostream& out) { out << "<section class=\"charts\">\n"; }
void end_charts(std::ostream& out) { out << "</section>\n"; }

void write_bar_chart(std::ostream& out, std::string_view id, std::string_view title, std::vector<bar> bars) {
  std::stable_sort(bars.begin(), bars.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  std::uint64_t max = 1;
  for (const auto& b : bars) max = std::max(max, b.count);
  const int row = 24, label_w = 210, bar_w = 240, width = label_w + bar_w + 70;
  int height = std::max<int>(1, static_cast<int>(bars.size())) * row + 8;
  out << fmt::format("<figure class=\"chart\"><figcaption>{}</figcaption>\n", escape(title));
  out << fmt::format(
      "<svg id=\"{}\" class=\"chart\" role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">\n",
      escape(id), escape(title), width, height, width, height);
  if (bars.empty()) out << "<text x=\"0\" y=\"16\" class=\"empty\">none</text>\n";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    int y = static_cast<int>(i) * row + 4;
    int w = std::max(2, static_cast<int>(static_cast<double>(bar_w) * static_cast<double>(bars[i].count) / static_cast<double>(max)));
    out << fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
        "<title>{}: {}</title></rect><text x=\"{}\" y=\"{}\">{}</text>\n",
        label_w - 6, y + 15, escape(bars[i].label), label_w, y, w, row - 6, escape(bars[i].colour), escape(bars[i].label),
        bars[i].count, label_w + w + 6, y + 15, bars[i].count);
  }
  out << "</svg></figure>\n";
}

void order_problems(std::vector<problem>& problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const problem& a, const problem& b) {
    if (a.destinations != b.destinations) return a.destinations > b.destinations;
    if (a.messages != b.messages) return a.messages > b.messages;
    if (a.senders.size() != b.senders.size()) return a.senders.size() > b.senders.size();
    if (a.severity != b.severity) return a.severity > b.severity;
    return a.id < b.id;
  });
}

void write_fix_first(std::ostream& out, std::vector<problem> problems, const fix_first_words& words) {
  out << "<section id=\"fix-first\"><h2>What to fix first</h2>\n";
  if (problems.empty()) {
    out << "<p class=\"note\">Nothing to fix: no problem was found.</p></section>\n";
    return;
  }
  order_problems(problems);
  if (!words.order_note.empty()) out << fmt::format("<p class=\"note\">{}</p>\n", escape(words.order_note));
  out << "<ol class=\"fix\">\n";
  for (const auto& p : problems) {
    std::string cost = fmt::format("<b>{}</b> {}", p.destinations, escape(words.destinations));
    if (!words.messages.empty()) cost += fmt::format(" · <b>{}</b> {}", p.messages, escape(words.messages));
    if (!words.senders.empty()) {
      std::string names;
      for (const auto& s : p.senders) names += (names.empty() ? "" : ", ") + escape(s);
      cost += fmt::format(" · <b>{}</b> {}{}", p.senders.size(), escape(words.senders), names.empty() ? "" : ": " + names);
    }
    std::string examples;
    for (const auto& e : p.examples) examples += (examples.empty() ? "" : ", ") + escape(e);
    out << fmt::format(
        "<li class=\"sev-{}\" data-problem=\"{}\"><div><span class=\"sev\">{}</span> <b>{}</b> <code>{}</code></div>\n"
        "<div class=\"cost\">{}</div>\n<p><i>Fix:</i> {}</p>\n",
        escape(p.severity_word), escape(p.id), escape(p.severity_word), escape(p.title), escape(p.id), cost, escape(p.fix));
    if (!examples.empty())
      out << fmt::format(
          "<p class=\"examples\">{}{} <a href=\"#table\" data-filter=\"p:{}\" aria-pressed=\"false\">show in the table</a></p>\n",
          examples, p.examples.size() < p.destinations ? ", ..." : "", escape(p.id));
    out << p.details_html << "</li>\n";
  }
  out << "</ol></section>\n";
}

void begin_table(std::ostream& out, std::span<const column> columns, std::span<const filter_choice> choices) {
  out << "<div class=\"controls\" id=\"table\"><input id=\"filter\" type=\"search\" placeholder=\"Filter: any text in a row\" "
         "aria-label=\"Filter the rows\">";
  out << "<select id=\"outcome\" aria-label=\"Outcome\"><option value=\"\">every outcome</option>";
  for (const auto& c : choices)
    out << fmt::format("<option value=\"{}\">{} ({})</option>", escape(c.tag), escape(c.label), c.count);
  out << "</select><span id=\"shown\"></span></div>\n<table id=\"results\"><thead><tr>";
  for (const auto& c : columns)
    out << fmt::format("<th tabindex=\"0\"{}{}>{}</th>", c.numeric || c.severity ? " data-type=\"number\"" : "",
                       c.severity ? " data-severity=\"1\"" : "", escape(c.title));
  out << "</tr></thead>\n<tbody>\n";
}

void write_row(std::ostream& out, std::span<const column> columns, std::string_view outcome, std::string_view tags,
               std::span<const cell> cells) {
  out << fmt::format("<tr data-outcome=\"{}\" data-tags=\"{}\">", escape(outcome), escape(tags));
  for (std::size_t i = 0; i < cells.size(); ++i) {
    std::string label = i < columns.size() ? escape(columns[i].title) : std::string();
    if (cells[i].key.empty())
      out << fmt::format("<td data-label=\"{}\">{}</td>", label, cells[i].html);
    else
      out << fmt::format("<td data-label=\"{}\" data-key=\"{}\">{}</td>", label, escape(cells[i].key), cells[i].html);
  }
  out << "</tr>\n";
}

void end_table(std::ostream& out) { out << "</tbody></table>\n"; }

void end_page(std::ostream& out) { out << fmt::format("<script>{}</script>\n</body></html>\n", script); }

}  // namespace mxtls::html
