// `mxtls probe --log esa` read back by `mxtls logs`: the probe writes only the published ESA
// line forms (include/mxtls/esa_lines.hpp), and the reader, on the same grammar, gives each
// scenario's destination the class and reason of esa-probe-scenarios.json. Every line the
// probe wrote is understood; several probes' logs given as several files read as one log.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "../served.hpp"

namespace mxtls::test {
namespace {

using json = nlohmann::json;

json cases() {
  std::ifstream in(fs::path(MXTLS_SOURCE_DIR) / "tests/integration/logs/esa-probe-scenarios.json");
  return json::parse(in)["cases"];
}

struct probed {
  std::string address;  // 127.0.0.1:PORT
  std::string file;     // the probe's --log esa output
};

probed probe(const json& c, const fs::path& dir, const served& s) {
  std::string port = std::to_string(s.port());
  client_run r = run(dir, {MXTLS_BINARY, "probe", "[127.0.0.1]:" + port, "--log", "esa", "--policy", c["policy"],
                           "--no-injection-test", "--timeout", "5"}, 60s);
  EXPECT_FALSE(r.timed_out);
  fs::path f = dir / (c["scenario"].get<std::string>() + "-" + c["policy"].get<std::string>() + ".esa.log");
  std::ofstream(f) << r.output;
  return {"127.0.0.1:" + port, f.string()};
}

void expect_destination(const json& doc, const json& c, const std::string& address) {
  const json* d = nullptr;
  for (const auto& x : doc["destinations"])
    if (x["destination"]["address"] == address) d = &x;
  ASSERT_NE(d, nullptr) << doc.dump(2);
  EXPECT_EQ((*d)["attempts"], 1);
  EXPECT_EQ((*d)["delivered"], 0);
  std::string cls = c["class"];
  std::string field = cls == "tls" ? "tls" : cls == "tls-failed" ? "tls_failed" : cls;
  EXPECT_EQ((*d)[field], 1) << d->dump(2);
  if (c["reason"].is_null())
    EXPECT_TRUE((*d)["reasons"].empty()) << d->dump(2);
  else
    EXPECT_EQ((*d)["reasons"], json({{c["reason"].get<std::string>(), 1}})) << d->dump(2);
}

class EsaProbe : public ::testing::TestWithParam<json> {};

TEST_P(EsaProbe, ReadBackGivesTheExpectedClass) {
  const json& c = GetParam();
  fs::path dir = temp_dir();
  served s(c["scenario"], dir);
  ASSERT_NE(s.port(), 0) << s.output();
  probed p = probe(c, dir, s);
  std::string text = slurp(p.file);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), c["lines"].get<long>()) << text;
  client_run logs = run(dir, {MXTLS_BINARY, "logs", "--json", p.file});
  json doc = json::parse(logs.output);
  EXPECT_EQ(doc["format"], "esa");
  EXPECT_EQ(doc["lines"]["total"], c["lines"]);
  EXPECT_EQ(doc["lines"]["not_understood"], 0) << text;
  EXPECT_EQ(logs.exit_code, c["class"] == "tls" ? 0 : 1);
  expect_destination(doc, c, p.address);
  fs::remove_all(dir);
}

std::vector<json> case_list() {
  std::vector<json> v;
  for (const auto& c : cases()) v.push_back(c);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, EsaProbe, ::testing::ValuesIn(case_list()), [](const auto& info) {
  std::string n = info.param["scenario"].template get<std::string>() + "_" + info.param["policy"].template get<std::string>();
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

// The probes' logs of every case, one file each, read by one mxtls logs (each probe numbers
// its connection DCID 1: a connection ends with its close line before the next file begins).
TEST(EsaProbeFiles, SeveralProbesReadAsOneLog) {
  fs::path dir = temp_dir();
  std::vector<std::unique_ptr<served>> servers;
  std::vector<probed> runs;
  std::vector<std::string> argv = {MXTLS_BINARY, "logs", "--json"};
  json all = cases();
  for (const auto& c : all) {
    fs::path sub = dir / (c["scenario"].get<std::string>() + "-" + c["policy"].get<std::string>());
    fs::create_directories(sub);
    servers.push_back(std::make_unique<served>(c["scenario"], sub));
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_NE(servers[i]->port(), 0);
    runs.push_back(probe(all[i], dir, *servers[i]));
    argv.push_back(runs.back().file);
  }
  client_run logs = run(dir, argv);
  json doc = json::parse(logs.output);
  EXPECT_EQ(doc["lines"]["not_understood"], 0);
  EXPECT_EQ(doc["destinations"].size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    SCOPED_TRACE(runs[i].file);
    expect_destination(doc, all[i], runs[i].address);
  }
  EXPECT_EQ(logs.exit_code, 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mxtls::test
