// The scan's HTML report from JSONL records: counts, escaping, lines that are not records.
#include <gtest/gtest.h>

#include <sstream>

#include "mxtls/scan_html.hpp"

namespace mxtls {
namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string render(const std::string& jsonl) {
  std::istringstream in(jsonl);
  return render_scan_html(in, {});
}

TEST(ScanHtml, SummaryCountsChartsAndRows) {
  std::string page = render(
      R"({"schema":"mxtls-probe","version":1,"line":1,"input":"a.example","target":"a.example","verdict":"fine","outcome":"ok","exit_code":0,"hosts":[{"mx":"mx.a.example","address":"192.0.2.1","port":25,"verdict":"fine","senders_losing_tls":[],"tls":{"established":true,"protocol":"TLSv1.3","verified":true,"hostname_match":true,"expired":false}}]})"
      "\n"
      R"({"schema":"mxtls-probe","version":1,"line":2,"input":"b.example","target":"b.example","verdict":"seed case","outcome":"senders-lose-tls","exit_code":1,"hosts":[{"address":"192.0.2.2","port":25,"senders_losing_tls":["Postfix","Go"],"tls":{"established":true,"protocol":"TLSv1.2","verified":false,"hostname_match":false,"expired":true},"injection":{"command_injection":true}}]})"
      "\n"
      R"({"schema":"mxtls-probe","version":1,"line":4,"input":"bad one","target":"bad one","verdict":"not a target","outcome":"invalid","exit_code":2})"
      "\n");
  EXPECT_TRUE(has(page, "<!DOCTYPE html>"));
  EXPECT_TRUE(has(page, "3 destinations"));
  EXPECT_TRUE(has(page, "data-outcome=\"ok\"><b>1</b>"));
  EXPECT_TRUE(has(page, "data-outcome=\"senders-lose-tls\"><b>1</b>"));
  EXPECT_TRUE(has(page, "data-outcome=\"invalid\"><b>1</b>"));
  EXPECT_TRUE(has(page, "data-outcome=\"command-injection\"><b>1</b>"));
  for (const char* id : {"chart-outcomes", "chart-tls", "chart-certificates", "chart-senders"})
    EXPECT_TRUE(has(page, std::string("id=\"") + id + "\"")) << id;
  EXPECT_TRUE(has(page, "<title>TLSv1.2: 1</title>"));
  EXPECT_TRUE(has(page, "<title>name mismatch: 1</title>"));
  EXPECT_TRUE(has(page, "<title>expired: 1</title>"));
  EXPECT_TRUE(has(page, "<title>Postfix: 1</title>"));
  EXPECT_TRUE(has(page, "<td data-label=\"Destination\">b.example</td>"));
  EXPECT_TRUE(has(page, "href=\"#d2-2\""));
  EXPECT_TRUE(has(page, "id=\"d2-2\""));
  EXPECT_FALSE(has(page, "http://"));
  EXPECT_FALSE(has(page, "https://"));
}

TEST(ScanHtml, TextFromTheNetworkIsEscaped) {
  std::string page = render(
      R"({"line":1,"input":"<img src=x onerror=alert(1)>","verdict":"</td><script>alert(2)</script>","outcome":"unreachable","hosts":[{"address":"\"'&","transcript":[{"dir":"S","text":"<b>220</b>","ms":0}]}]})"
      "\n");
  EXPECT_FALSE(has(page, "<img src=x"));
  EXPECT_FALSE(has(page, "<script>alert(2)"));
  EXPECT_FALSE(has(page, "<b>220</b>"));
  EXPECT_TRUE(has(page, "&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_TRUE(has(page, "&lt;b&gt;220&lt;/b&gt;"));
  EXPECT_TRUE(has(page, "&quot;&#39;&amp;"));
}

TEST(ScanHtml, LinesThatAreNotRecordsAreCountedAndNamed) {
  std::string page = render("not json\n{\"no\":\"outcome\"}\n[1,2]\n\n{\"line\":3,\"input\":\"x\",\"outcome\":\"ok\"}\n{\"truncat");
  EXPECT_TRUE(has(page, ">1 destination</p>")) << "singular";
  EXPECT_TRUE(has(page, "<b>4 lines of the records file are not records (lines 1, 2, 3, 6).</b>"));
  EXPECT_TRUE(has(render(""), "0 destinations"));
}

// The row shows the host the verdict is about: the record's "verdict_host", or for version 1
// records the probe's rule (the first host that answered), not the first host with TLS.
TEST(ScanHtml, RowsShowTheHostTheVerdictIsAbout) {
  std::string no_tls = R"({"address":"192.0.2.1","port":25,"outcome":"no-starttls","senders_losing_tls":["Postfix"],"tls":{"established":false}})";
  std::string tls13 = R"({"address":"192.0.2.2","port":25,"outcome":"ok","senders_losing_tls":[],"tls":{"established":true,"protocol":"TLSv1.3","verified":true}})";
  std::string v1 = R"({"line":1,"input":"a.example","outcome":"no-starttls","hosts":[)" + no_tls + "," + tls13 + "]}\n";
  std::string page = render(v1);
  EXPECT_TRUE(has(page, "<title>none: 1</title>")) << "the verdict's host has no TLS";
  EXPECT_FALSE(has(page, "<title>TLSv1.3: 1</title>"));
  EXPECT_TRUE(has(page, "<title>Postfix: 1</title>"));
  EXPECT_TRUE(has(page, "the verdict is about this host"));

  std::string v2 = R"({"line":2,"input":"b.example","outcome":"ok","verdict_host":1,"senders":{"tls":["curl","swaks"],"plaintext":["postfix"],"fail":["exim"],"hang":[]},"hosts":[)" +
                   no_tls + "," + tls13 + "]}\n";
  page = render(v2);
  EXPECT_TRUE(has(page, "<title>TLSv1.3: 1</title>"));
  EXPECT_TRUE(has(page, "<td data-label=\"Senders\">tls 2, plaintext 1, fail 1</td>")) << "sender counts from the record";
  EXPECT_TRUE(has(page, "<title>postfix: 1</title>")) << "the losers are the record's groups, by id";
  EXPECT_TRUE(has(page, "<title>exim: 1</title>"));
  EXPECT_FALSE(has(page, "<title>Postfix: 1</title>"));
  EXPECT_TRUE(has(page, "<li><b>plaintext</b> 1: postfix</li>"));
}

// Version 2 records keep a host's TLS and transcript under "checks" and its problems as
// reasons; the report reads either version.
TEST(ScanHtml, ReadsVersion2Records) {
  std::string page = render(
      R"({"schema":"mxtls-probe","version":2,"line":1,"input":"c.example","target":"c.example","verdict":"open","outcome":"injection","exit_code":1,"verdict_host":0,)"
      R"("senders":{"tls":["curl"],"plaintext":[],"fail":[],"hang":[],"tls_off":[]},"dns":{"lookups":[{"name":"c.example","type":"MX","status":"ok","rcode":0,"detail":null}],"mx":[{"preference":10,"host":"mx.c.example"}]},)"
      R"("hosts":[{"mx":"mx.c.example","address":"192.0.2.9","port":25,"outcome":"injection","verdict":"v","reasons":[{"id":"command-injection","text":"runs <commands>"}],)"
      R"("checks":{"starttls":{"transcript":[{"dir":"S","text":"220 hi","ms":3}],"tls":{"established":true,"protocol":"TLSv1.3","verified":false,"hostname_match":true}}}}]})"
      "\n");
  EXPECT_TRUE(has(page, "data-outcome=\"injection\"><b>1</b>"));
  EXPECT_TRUE(has(page, "data-outcome=\"command-injection\"><b>1</b>"));
  EXPECT_TRUE(has(page, "<title>TLSv1.3: 1</title>"));
  EXPECT_TRUE(has(page, "<title>not verified: 1</title>"));
  EXPECT_TRUE(has(page, "     3 ms  S  220 hi"));
  EXPECT_TRUE(has(page, "<li><b>command-injection</b> runs &lt;commands&gt;</li>"));
  EXPECT_TRUE(has(page, "MX 10 mx.c.example"));
  EXPECT_TRUE(has(page, "c.example MX: ok"));
}


// The page's parts: viewport, legend, the fix-first list ordered by destinations (then
// senders, then errors first), rows tagged with their problems, DANE and MTA-STS columns.
TEST(ScanHtml, FixFirstListAndPerDestinationDaneAndMtaSts) {
  auto rec = [](int line, const std::string& input, const std::string& reasons, const std::string& hosts, const std::string& extra) {
    return "{\"version\":2,\"line\":" + std::to_string(line) + ",\"input\":\"" + input +
           "\",\"outcome\":\"certificate\",\"verdict_host\":0,\"senders\":{\"tls\":[],\"plaintext\":[\"postfix\"],\"fail\":[],\"hang\":[]},"
           "\"reasons\":[" + reasons + "],\"hosts\":[" + hosts + "]" + extra + "}\n";
  };
  std::string untrusted = R"({"id":"certificate-untrusted","severity":"warning","text":"x"})";
  std::string refused = R"({"id":"starttls-refused","severity":"error","text":"x"})";
  std::string info = R"({"id":"certificate-name-not-checked","severity":"info","text":"x"})";
  std::string host = R"({"mx":"mx.<b>","address":"192.0.2.1","port":25,"dane":{"status":"mismatch"},"mta_sts_match":false})";
  std::string sts = R"(,"mta_sts":{"status":"valid","policy":{"mode":"enforce"}},"tls_rpt":{"status":"none","rua":[]})";
  std::string page = render(rec(1, "a.example", refused, host, sts) + rec(2, "b.example", untrusted + "," + info, host, "") +
                            rec(3, "c.example", untrusted, host, ""));
  EXPECT_TRUE(has(page, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
  EXPECT_TRUE(has(page, "id=\"legend\""));
  auto first = page.find("data-problem=\"certificate-untrusted\""), second = page.find("data-problem=\"starttls-refused\"");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second) << "two destinations before one";
  EXPECT_FALSE(has(page, "data-problem=\"certificate-name-not-checked\"")) << "info is not a problem";
  EXPECT_TRUE(has(page, "<b>2</b> destinations · <b>1</b> senders lose TLS: postfix"));
  EXPECT_TRUE(has(page, "data-tags=\"certificate p:starttls-refused\""));
  EXPECT_TRUE(has(page, "<td data-label=\"DANE\">mismatch</td>"));
  EXPECT_TRUE(has(page, "<td data-label=\"MTA-STS\">valid enforce; not listed: mx.&lt;b&gt;</td>"));
  EXPECT_TRUE(has(page, "<td data-label=\"TLS-RPT\">none</td>"));
  EXPECT_TRUE(has(page, "<td data-label=\"MTA-STS\">-</td>")) << "no mta_sts: not checked";
  EXPECT_TRUE(has(page, "<th tabindex=\"0\" data-type=\"number\" data-severity=\"1\">Outcome</th>")) << "sorted by severity";
}

}  // namespace
}  // namespace mxtls
