// The shared page (html_page.hpp) and the logs and TLS-RPT pages made on it: the order of the
// fix-first list, rows tagged with their problems, text from the inputs escaped.
#include <gtest/gtest.h>

#include <sstream>

#include "mxtls/html_page.hpp"
#include "mxtls/logs_html.hpp"
#include "mxtls/tlsrpt_report.hpp"

namespace mxtls {
namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(HtmlPage, FixFirstOrderIsDestinationsThenMessagesThenSendersThenSeverity) {
  std::vector<html::problem> v{
      {.id = "a", .severity = 2, .destinations = 1, .messages = 9},
      {.id = "b", .severity = 1, .destinations = 3, .messages = 1},
      {.id = "c", .severity = 1, .destinations = 1, .messages = 9, .senders = {"x", "y"}},
      {.id = "d", .severity = 2, .destinations = 1, .messages = 9, .senders = {"x", "y"}},
      {.id = "e", .severity = 1, .destinations = 1, .messages = 10},
  };
  html::order_problems(v);
  std::string order;
  for (const auto& p : v) order += p.id;
  EXPECT_EQ(order, "bedca");
}

TEST(HtmlPage, EverythingGivenAsTextIsEscaped) {
  std::ostringstream out;
  html::begin_page(out, {.title = "<t>", .note = "\"n\"", .warnings = {"<w>"}});
  html::write_cards(out, std::vector<html::card>{{.tag = "x\"y", .label = "<l>", .colour = "red\"", .count = 1}});
  html::write_fix_first(out, {{.id = "<id>", .title = "<t2>", .fix = "<f>", .severity_word = "error", .destinations = 1,
                               .senders = {"<s>"}, .examples = {"<e>"}}},
                        {});
  std::string page = out.str();
  for (const char* raw : {"<t>", "<w>", "<l>", "<id>", "<t2>", "<f>", "<s>", "<e>", "x\"y"}) EXPECT_FALSE(has(page, raw)) << raw;
  EXPECT_TRUE(has(page, "&lt;t2&gt;"));
}

TEST(LogsHtml, ProblemsRowsAndEscaping) {
  logs::log_summary s;
  s.format = logs::log_format::postfix;
  s.lines = 10;
  logs::destination_summary bad;
  bad.key = {.domain = "<script>x</script>.example", .mx_host = "mx", .address = "192.0.2.1:25"};
  bad.attempts = 3;
  bad.attempts_without_message = 3;
  bad.classes[static_cast<std::size_t>(logs::attempt_class::tls_failed)] = 2;
  bad.classes[static_cast<std::size_t>(logs::attempt_class::plaintext)] = 1;
  bad.reasons[static_cast<std::size_t>(logs::result_type::starttls_not_supported)] = 2;
  bad.samples.push_back({.file = 0, .line = 7, .text = "status=deferred <b>"});
  logs::destination_summary good;
  good.key = {.domain = "ok.example", .mx_host = "mx", .address = "192.0.2.2:25"};
  good.attempts = 1;
  good.attempts_without_message = 1;
  good.delivered = 1;
  good.classes[static_cast<std::size_t>(logs::attempt_class::tls)] = 1;
  s.destinations = {bad, good};
  std::string page = logs::render_logs_html(s, {"mail.log"}, {});
  EXPECT_FALSE(has(page, "<script>x"));
  EXPECT_FALSE(has(page, "deferred <b>"));
  EXPECT_TRUE(has(page, "mail.log:7: status=deferred &lt;b&gt;")) << "evidence with file and line";
  EXPECT_TRUE(has(page, "data-tags=\"tls-failed p:starttls-not-supported p:plaintext\""));
  EXPECT_TRUE(has(page, "data-problem=\"starttls-not-supported\""));
  EXPECT_TRUE(has(page, "data-problem=\"plaintext\""));
  EXPECT_TRUE(has(page, "<b>1</b> destinations · <b>2</b> attempts")) << "no line names a message: the attempts";
  // Once the log names messages, the second cost is the messages sent to the destinations.
  s.destinations[0].attempts_without_message = 0;
  for (int i = 0; i < 5; ++i) s.destinations[0].messages.add(distinct_count::hash_of(std::uint64_t(i)));
  page = logs::render_logs_html(s, {"mail.log"}, {});
  EXPECT_TRUE(has(page, "<b>1</b> destinations · <b>5</b> messages to them")) << page;
  EXPECT_TRUE(has(page, "<td data-label=\"Messages\" data-key=\"5\">5</td>")) << page;
  EXPECT_TRUE(has(page, "data-filter=\"tls-failed\""));
  EXPECT_TRUE(has(page, "data-filter=\"tls\""));
}

TEST(TlsrptHtml, RowsPerPolicyAndMxAndInputsCounted) {
  std::string report = R"({"organization-name":"Org <1>","date-range":{"start-datetime":"2024-03-01T00:00:00Z","end-datetime":"2024-03-01T23:59:59Z"},
    "contact-info":"a@b","report-id":"r1","policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com","mx-host":["mx.example.com"]},
    "summary":{"total-successful-session-count":5,"total-failure-session-count":2},
    "failure-details":[{"result-type":"starttls-not-supported","receiving-mx-hostname":"<mx>","failed-session-count":2}]},
    {"policy":{"policy-type":"no-policy-found","policy-domain":"other.example"},"summary":{"total-successful-session-count":4,"total-failure-session-count":0}}]})";
  std::vector<tlsrpt_input> inputs{read_tlsrpt(report, "r.json"), read_tlsrpt("not json", "bad.json")};
  std::string page = render_tlsrpt_html(summarise(inputs), inputs, {});
  EXPECT_FALSE(has(page, "<mx>"));
  EXPECT_FALSE(has(page, "Org <1>"));
  EXPECT_TRUE(has(page, "data-tags=\"starttls-not-supported p:starttls-not-supported\""));
  EXPECT_TRUE(has(page, "data-tags=\"successful\"")) << "a policy without failures is a row";
  EXPECT_TRUE(has(page, "1 unreadable")) << page.substr(0, 3000);
  EXPECT_TRUE(has(page, "bad.json"));
  EXPECT_TRUE(has(page, "<b>1</b> MX hosts · <b>2</b> failed sessions · <b>1</b> reporting organisations: Org &lt;1&gt;"));
}

}  // namespace
}  // namespace mxtls
