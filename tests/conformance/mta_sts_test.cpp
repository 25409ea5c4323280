// Conformance vectors of the MTA-STS and TLS-RPT readers: tests/conformance/mta-sts/*.json.
// Every policy is also fed to the push parser split at every octet offset (small inputs) or
// in chunks of several sizes (large ones), and must give the same result.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "../read_file.hpp"
#include "mxtls/mta_sts.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path vectors_dir = fs::path(MXTLS_SOURCE_DIR) / "tests" / "conformance" / "mta-sts";

json load(const char* name) { return json::parse(test::read_file(vectors_dir / name)); }

// "input" is a string, or a list of strings and {"repeat": s, "count": n}.
std::string input_of(const json& c) {
  const json& in = c.at("input");
  if (in.is_string()) return in.get<std::string>();
  std::string s;
  for (const auto& piece : in) {
    if (piece.is_string()) {
      s += piece.get<std::string>();
    } else {
      std::string r = piece.at("repeat");
      for (int i = 0; i < piece.at("count").get<int>(); ++i) s += r;
    }
  }
  return s;
}

std::vector<std::string> ids(const std::vector<sts_finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(std::string(f.entry().name) + "@" + std::to_string(f.line) + ":" + std::to_string(f.column));
  return out;
}

std::vector<std::string> strings(const json& j) { return j.get<std::vector<std::string>>(); }

// The result as one comparable text: what a split must not change.
std::string summary(const sts_policy& p) {
  json j;
  j["findings"] = ids(p.findings);
  j["dropped"] = p.findings_dropped;
  j["valid"] = p.valid;
  j["mode"] = p.mode ? to_string(*p.mode) : "";
  j["max_age"] = p.max_age ? static_cast<long long>(*p.max_age) : -1;
  j["lines"] = p.lines;
  j["octets"] = p.octets;
  json mx = json::array();
  for (const auto& m : p.mx) mx.push_back(m.text);
  j["mx"] = mx;
  return j.dump();
}

TEST(MtaStsPolicyVectors, Each) {
  json v = load("policy.json");
  for (const auto& c : v.at("cases")) {
    std::string name = c.at("name");
    SCOPED_TRACE(name);
    std::string in = input_of(c);
    sts_policy p = parse_sts_policy(in);
    if (c.contains("findings")) {
      EXPECT_EQ(ids(p.findings), strings(c.at("findings")));
    }
    if (c.contains("findings_contain")) {
      auto got = ids(p.findings);
      for (const auto& want : strings(c.at("findings_contain")))
        EXPECT_NE(std::find(got.begin(), got.end(), want), got.end()) << want;
    }
    EXPECT_EQ(p.valid, c.at("valid").get<bool>());
    if (c.contains("mode")) {
      EXPECT_STREQ(p.mode ? to_string(*p.mode) : "", c.at("mode").get<std::string>().c_str());
    }
    if (c.contains("max_age")) {
      ASSERT_TRUE(p.max_age);
      EXPECT_EQ(*p.max_age, c.at("max_age").get<std::uint64_t>());
    }
    if (c.contains("mx")) {
      std::vector<std::string> mx;
      for (const auto& m : p.mx) mx.push_back(m.text);
      EXPECT_EQ(mx, strings(c.at("mx")));
    }
    if (c.contains("mx_domains")) {
      std::vector<std::string> mx;
      for (const auto& m : p.mx) mx.push_back(m.domain);
      EXPECT_EQ(mx, strings(c.at("mx_domains")));
    }
    if (c.contains("last_mode")) {
      ASSERT_TRUE(p.last_mode_text);
      EXPECT_EQ(*p.last_mode_text, c.at("last_mode").get<std::string>());
    }
    for (const auto& f : p.findings) {
      EXPECT_GE(f.line, 1u);
      EXPECT_GE(f.column, 1u);
      EXPECT_LE(f.excerpt.size(), 512u);
    }
    EXPECT_LE(p.findings.size(), policy_limits{}.max_findings + 1);  // + the body-cut finding, always kept

    // The same result whatever the chunks.
    std::string whole = summary(p);
    auto fed = [&](std::size_t first, std::size_t chunk) {
      policy_parser parser;
      parser.feed(std::string_view(in).substr(0, first));
      for (std::size_t i = first; i < in.size(); i += chunk) parser.feed(std::string_view(in).substr(i, chunk));
      return summary(parser.finish());
    };
    if (in.size() <= 512) {
      for (std::size_t cut = 0; cut <= in.size(); ++cut) ASSERT_EQ(fed(cut, in.size() + 1), whole) << "split at " << cut;
      ASSERT_EQ(fed(0, 1), whole) << "one octet at a time";
    } else {
      for (std::size_t chunk : {1, 3, 7, 64, 4096}) ASSERT_EQ(fed(0, chunk), whole) << "chunks of " << chunk;
    }
  }
}

TEST(MtaStsPolicyLimits, AtTheBoundary) {
  std::string head = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n";
  policy_limits lim;
  lim.max_policy_octets = head.size();
  EXPECT_TRUE(parse_sts_policy(head, lim).valid) << "exactly max_policy_octets is read whole";
  sts_policy over = parse_sts_policy(head + "x", lim);
  EXPECT_FALSE(over.valid);
  EXPECT_EQ(ids(over.findings), std::vector<std::string>{"limit-exceeded@5:1"});
  EXPECT_EQ(over.octets, head.size() + 1);

  lim = {};
  lim.max_mx_patterns = 2;
  std::string three = "version: STSv1\nmode: enforce\nmx: a.example.com\nmx: b.example.com\nmx: c.example.com\nmax_age: 604800\n";
  sts_policy p = parse_sts_policy(three, lim);
  EXPECT_EQ(p.mx.size(), 2u);
  EXPECT_EQ(ids(p.findings), std::vector<std::string>{"limit-exceeded@5:5"});

  lim = {};
  lim.max_findings = 3;
  std::string many = head;
  for (int i = 0; i < 10; ++i) many += "x: y\n";
  p = parse_sts_policy(many, lim);
  EXPECT_EQ(p.findings.size(), 3u);
  EXPECT_EQ(p.findings_dropped, 7u);

  lim = {};
  lim.max_line_octets = 20;
  std::string line = std::string("mx: ") + std::string(16, 'a');  // 20 octets: kept whole
  p = parse_sts_policy("version: STSv1\nmode: enforce\n" + line + "\nmax_age: 604800\n", lim);
  EXPECT_TRUE(p.valid);
  p = parse_sts_policy("version: STSv1\nmode: enforce\n" + line + "a\nmax_age: 604800\n", lim);
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(ids(p.findings).front(), "limit-exceeded@3:21");
}

std::vector<std::string> records_of(const json& c) { return strings(c.at("records")); }

TEST(MtaStsTxtVectors, Each) {
  json v = load("txt.json");
  for (const auto& c : v.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto recs = records_of(c);
    sts_txt t = parse_sts_txt(recs);
    EXPECT_STREQ(to_string(t.status), c.at("status").get<std::string>().c_str());
    EXPECT_EQ(ids(t.findings), strings(c.at("findings")));
    if (c.contains("id")) {
      EXPECT_EQ(t.id, c.at("id").get<std::string>());
    }
    if (t.status != txt_status::valid) {
      EXPECT_TRUE(t.id.empty() || t.status == txt_status::invalid);
    }
  }
}

TEST(TlsRptTxtVectors, Each) {
  json v = load("tls-rpt-txt.json");
  for (const auto& c : v.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto recs = records_of(c);
    tls_rpt_record t = parse_tls_rpt_txt(recs);
    EXPECT_STREQ(to_string(t.status), c.at("status").get<std::string>().c_str());
    EXPECT_EQ(ids(t.findings), strings(c.at("findings")));
    if (c.contains("rua")) {
      EXPECT_EQ(t.rua, strings(c.at("rua")));
    }
  }
}

TEST(MxPatternVectors, Each) {
  json v = load("mx-match.json");
  for (const auto& c : v.at("cases")) {
    std::string pattern = c.at("pattern"), host = c.at("host");
    SCOPED_TRACE(pattern + " / " + host);
    sts_policy p = parse_sts_policy("version: STSv1\nmode: enforce\nmx: " + pattern + "\nmax_age: 86400\n");
    ASSERT_TRUE(p.valid);
    EXPECT_EQ(match_mx(p, host).has_value(), c.at("rfc").get<bool>());
    EXPECT_EQ(match_mx(p, host, wildcard_rule::any_depth).has_value(), c.at("any_depth").get<bool>());
  }
}

TEST(MtaStsCatalogue, NamesUniqueAndComplete) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < sts_catalogue().size(); ++i) {
    const auto& e = sts_catalogue()[i];
    EXPECT_EQ(static_cast<std::size_t>(e.id), i);
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
    EXPECT_FALSE(e.summary.empty());
    EXPECT_FALSE(e.fix.empty());
    EXPECT_EQ(find_sts_entry(e.name), &e);
  }
}

}  // namespace
}  // namespace mxtls

#include "mxtls/mta_sts_dane.hpp"
#include "mxtls/mta_sts_eval.hpp"

namespace mxtls {
namespace {

TEST(MtaStsEvaluationVectors, Each) {
  json v = load("evaluation.json");
  for (const auto& c : v.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto recs = strings(c.at("txt"));
    sts_txt txt = parse_sts_txt(recs);
    std::optional<sts_policy> policy;
    if (!c.at("policy").is_null()) policy = parse_sts_policy(c.at("policy").get<std::string>());
    mta_sts_status st = mta_sts_status_of(txt, policy.has_value(), policy);
    EXPECT_STREQ(to_string(st), c.at("status").get<std::string>().c_str());
    std::string host = c.at("mx");
    sts_mx_verdict mx;
    mx.host = host;
    if (policy) mx = evaluate_mx(*policy, host, true, c.at("cert_ok").get<bool>());
    if (c.contains("match")) {
      EXPECT_EQ(mx.matches, c.at("match").get<bool>());
    }
    auto preds = predict_mta_sts(st, policy, mx);
    // "dane": the host's DANE status (check dane) by its JSON word, combined as the
    // diagnosis does (RFC 8461 §2).
    if (c.contains("dane")) {
      std::optional<dane_status> dane;
      for (int i = 0; i < 8 && !dane; ++i)
        if (c.at("dane").get<std::string>() == to_string(static_cast<dane_status>(i))) dane = static_cast<dane_status>(i);
      ASSERT_TRUE(dane.has_value()) << c.at("dane");
      mta_sts_host h{.verdict = mx, .senders = preds, .refused = false};
      combine_with_dane(h, *dane);
      preds = h.senders;
      if (c.contains("refused")) {
        EXPECT_EQ(h.refused, c.at("refused").get<bool>());
      }
    }
    for (const auto& [sender, effect] : c.at("effects").items()) {
      auto it = std::find_if(preds.begin(), preds.end(), [&](const auto& p) { return p.sender == sender; });
      ASSERT_NE(it, preds.end()) << sender;
      EXPECT_STREQ(to_string(it->effect), effect.get<std::string>().c_str()) << sender << ": " << it->reason;
      EXPECT_FALSE(it->source.empty());
    }
  }
}

}  // namespace
}  // namespace mxtls
