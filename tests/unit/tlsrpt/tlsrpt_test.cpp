// TLS-RPT reports as files, gzip and mail (tests/conformance/tlsrpt/cases.json), and the summary.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "../../read_file.hpp"
#include "mxtls/tls_rpt.hpp"
#include "mxtls/tlsrpt_report.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path dir = fs::path(MXTLS_SOURCE_DIR) / "tests" / "conformance" / "tlsrpt";

std::string gzip(std::string_view in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += t[v & 63];
    if (out.size() % 78 == 76) out += "\r\n";
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += t[v >> 18], out += t[(v >> 12) & 63], out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += '=';
  }
  return out;
}

// A report mail as RFC 8460 §5.3 describes it: multipart/report, a text part, the report part.
std::string mail(std::string_view payload, std::string_view type, std::string_view filename) {
  return "From: tlsrpt@sender.example\r\nTo: tlsrpt@example.com\r\nSubject: Report Domain: example.com Submitter: sender.example\r\n"
         "TLS-Report-Domain: example.com\r\nTLS-Report-Submitter: sender.example\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"----=_b1\"\r\n\r\n"
         "This is a multi-part message.\r\n------=_b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
         "This is an aggregate TLS report.\r\n------=_b1\r\nContent-Type: " + std::string(type) +
         "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n\tfilename=\"" + std::string(filename) +
         "\"\r\n\r\n" + base64(payload) + "\r\n------=_b1--\r\n";
}

std::string bytes_of(const json& c) {
  std::string text = c.contains("file") ? test::read_file(dir / c.at("file").get<std::string>()) : c.at("text").get<std::string>();
  std::string form = c.at("form");
  if (form == "gzip") return gzip(text);
  if (form == "gzip-truncated") {
    std::string g = gzip(text);
    return g.substr(0, g.size() / 2);
  }
  if (form == "eml-gzip") return mail(gzip(text), "application/tlsrpt+gzip", "google.com!example.com!1709251200!1709337599.json.gz");
  if (form == "eml-json") return mail(text, "application/tlsrpt+json", "report.json");
  return text;
}

TEST(TlsRptReports, Vectors) {
  json v = json::parse(test::read_file(dir / "cases.json"));
  for (const auto& c : v.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::string b = bytes_of(c);
    tlsrpt_input in = read_tlsrpt(b, "case");
    ASSERT_EQ(in.reports.size(), c.at("reports").get<std::size_t>());
    EXPECT_EQ(in.unreadable.size(), c.value("unreadable", std::size_t{0}));
    for (const auto& u : in.unreadable) EXPECT_FALSE(u.message.empty());
    if (c.contains("valid")) {
      for (std::size_t i = 0; i < in.reports.size(); ++i) EXPECT_EQ(in.reports[i].valid, c.at("valid")[i].get<bool>()) << i;
    }
    if (c.contains("problems")) {
      for (std::size_t i = 0; i < in.reports.size(); ++i) {
        std::vector<std::string> got;
        for (const auto& p : in.reports[i].problems) got.push_back(std::string(to_string(p.level)) + "@" + p.path);
        EXPECT_EQ(got, c.at("problems")[i].get<std::vector<std::string>>());
      }
    }
    tlsrpt_summary s = summarise({in});
    if (c.contains("failed")) {
      EXPECT_EQ(s.failed, c.at("failed").get<std::uint64_t>());
    }
    if (c.contains("successful")) {
      EXPECT_EQ(s.successful, c.at("successful").get<std::uint64_t>());
    }
    if (c.contains("worst_mx")) {
      ASSERT_FALSE(s.mx_hosts.empty());
      EXPECT_EQ(s.mx_hosts.front().host, c.at("worst_mx").get<std::string>());
      EXPECT_EQ(s.mx_hosts.front().results.front().result_text, c.at("worst_result").get<std::string>());
    }
    if (c.contains("report_domain")) {
      EXPECT_EQ(in.reports.at(0).mail_report_domain, c.at("report_domain").get<std::string>());
    }
    // Both renderers take every case; the JSON parses.
    std::vector<tlsrpt_input> all{in};
    EXPECT_FALSE(render_tlsrpt_text(s, all, false).empty());
    json parsed;
    EXPECT_NO_THROW(parsed = json::parse(render_tlsrpt_json(s, all)));
  }
}

TEST(TlsRptReports, SummaryWorstFirstAcrossReports) {
  std::vector<tlsrpt_input> inputs;
  for (const char* f : {"clean.json", "sts-no-zone.json", "sts-google-style.json"})
    inputs.push_back(read_tlsrpt(test::read_file(dir / f), f));
  tlsrpt_summary s = summarise(inputs);
  EXPECT_EQ(s.reports, 3u);
  EXPECT_EQ(s.failed, 23u);
  ASSERT_EQ(s.policies.size(), 3u);  // sts example.com, tlsa example.com, no-policy-found other.example
  EXPECT_EQ(s.policies[0].policy_domain, "example.com");
  EXPECT_EQ(s.policies[0].type_text, "sts");
  EXPECT_EQ(s.policies[0].failed, 23u);
  ASSERT_EQ(s.policies[0].organizations.size(), 2u);
  EXPECT_EQ(s.policies[0].organizations[0].organization, "Google Inc.");
  ASSERT_EQ(s.policies[0].mx_hosts.size(), 3u);
  EXPECT_EQ(s.policies[0].mx_hosts[0].host, "mx2.backup.example.com");
  EXPECT_EQ(s.results.front().result_text, "certificate-host-mismatch");
  ASSERT_TRUE(s.period_start && s.period_end);
  EXPECT_EQ(format_utc(*s.period_start), "2024-03-01T00:00:00Z");
  EXPECT_EQ(format_utc(*s.period_end), "2024-03-02T23:59:59Z");
}

TEST(TlsRptReports, Times) {
  bool missing = false;
  EXPECT_EQ(parse_report_time("1970-01-01T00:00:00Z", &missing), 0);
  EXPECT_FALSE(missing);
  EXPECT_EQ(parse_report_time("2016-04-01T00:00:00Z"), 1459468800);
  EXPECT_EQ(parse_report_time("2016-04-01T02:00:00+02:00"), 1459468800);
  EXPECT_EQ(parse_report_time("2016-04-01T00:00:00.123Z"), 1459468800);
  EXPECT_EQ(parse_report_time("2016-04-01T00:00:00", &missing), 1459468800);
  EXPECT_TRUE(missing);
  EXPECT_FALSE(parse_report_time("2016-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_report_time("2016-04-01T25:00:00Z"));
  EXPECT_FALSE(parse_report_time("2016-04-01T00:00:00Q"));
  EXPECT_EQ(format_utc(1459468800), "2016-04-01T00:00:00Z");
}

TEST(TlsRptReports, GzipBombStopsAtTheLimit) {
  std::string big(4 * 1024 * 1024, ' ');
  tlsrpt_limits lim;
  lim.max_report_octets = 1024 * 1024;
  tlsrpt_input in = read_tlsrpt(gzip(big), "bomb", lim);
  EXPECT_TRUE(in.reports.empty());
  ASSERT_EQ(in.unreadable.size(), 1u);
  EXPECT_NE(in.unreadable[0].message.find("max_report_octets"), std::string::npos);
}

}  // namespace
}  // namespace mxtls
