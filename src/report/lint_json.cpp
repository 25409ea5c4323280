#include "mxtls/report.hpp"

namespace mxtls {

nlohmann::ordered_json lint_to_json(const lint_result& r, std::string_view input_name, bool raw) {
  using json = nlohmann::ordered_json;
  const ehlo_reply& e = r.ehlo;
  json j;
  j["schema"] = "mxtls-lint";
  j["version"] = lint_json_version;
  j["input"] = {{"name", input_name},
                {"mode", raw ? "raw" : "paste"},
                {"octets", r.input_octets},
                {"lines", r.input_lines},
                {"ignored_lines", r.ignored_lines},
                {"ehlo_replies", r.ehlo_replies_in_input}};
  j["verdict"] = {{"status", r.status == verdict_status::errors     ? "errors"
                             : r.status == verdict_status::warnings ? "warnings"
                                                                    : "ok"},
                  {"headline", r.headline}};
  j["reply"] = {{"code", e.code >= 0 ? json(e.code) : json(nullptr)},
                {"lines_sent", e.lines_sent},
                {"lines_read_strictly", e.lines_read_strictly}};
  j["starttls"] = {{"visible_to_strict_clients", e.starttls_visible}, {"present", e.starttls_anywhere}};
  if (e.greeting)
    j["greeting"] = {{"domain", e.greeting->domain},
                     {"text", e.greeting->text},
                     {"line", e.greeting->line},
                     {"valid", e.greeting->valid},
                     {"address_literal", e.greeting->address_literal}};
  else
    j["greeting"] = nullptr;
  j["extensions"] = json::array();
  for (const auto& x : e.extensions)
    j["extensions"].push_back({{"keyword", x.keyword},
                               {"params", x.params},
                               {"line", x.line},
                               {"seen_by_strict_client", x.seen_by_strict_client}});
  j["findings"] = json::array();
  for (const auto& f : e.findings) {
    const auto& c = f.entry();
    j["findings"].push_back({{"id", c.name},
                             {"severity", to_string(c.level)},
                             {"line", f.line},
                             {"column", f.column},
                             {"rfc", c.rfc},
                             {"message", f.message},
                             {"fix", c.fix}});
  }
  j["summary"] = {{"errors", r.errors}, {"warnings", r.warnings}, {"infos", r.infos}};
  j["clients"] = json::array();
  for (const auto& c : r.clients)
    j["clients"].push_back({{"id", c.id},
                            {"name", c.name},
                            {"version", c.version},
                            {"sees_starttls", c.sees_starttls},
                            {"outcome", to_string(c.outcome)},
                            {"outcome_required", to_string(c.outcome_required)},
                            {"why", c.why}});
  return j;
}

std::string render_lint_json(const lint_result& r, std::string_view input_name, bool raw) {
  return lint_to_json(r, input_name, raw).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace mxtls
