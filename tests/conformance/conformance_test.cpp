// Conformance vectors: tests/conformance/*.json, input -> expected findings.
// Every vector is also fed to the push parser split at every octet offset.
#include <gtest/gtest.h>

#include "../read_file.hpp"
#include "vector_input.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../unit/reply_compare.hpp"
#include "mxtls/lint.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path conformance_dir = fs::path(MXTLS_SOURCE_DIR) / "tests" / "conformance";

std::string slurp(const std::filesystem::path& p) { return mxtls::test::read_file(p); }

struct vector_case {
  std::string file;  // the JSON file it came from
  std::string mode;
  json data;
  std::string name() const { return file + ": " + data.value("name", "?"); }
};

void PrintTo(const vector_case& c, std::ostream* os) { *os << c.name(); }

std::vector<vector_case> load_cases() {
  std::vector<vector_case> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(conformance_dir))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    json j = json::parse(slurp(f));
    for (const auto& c : j.at("cases")) out.push_back({f.filename().string(), j.at("mode"), c});
  }
  return out;
}

// "input" (tests/conformance/vector_input.hpp); "file" names a file beside the vectors.
std::string input_of(const vector_case& c) {
  if (c.data.contains("file")) return slurp(conformance_dir / c.data.at("file").get<std::string>());
  return test::vector_input(c.data.at("input"));
}

lint_options options_of(const vector_case& c) {
  lint_options o;
  o.raw = c.mode == "raw";
  if (c.data.contains("limits")) {
    const json& l = c.data["limits"];
    o.limits.max_lines = l.value("max_lines", o.limits.max_lines);
    o.limits.max_line_octets = l.value("max_line_octets", o.limits.max_line_octets);
    o.limits.max_reply_octets = l.value("max_reply_octets", o.limits.max_reply_octets);
  }
  return o;
}

class Conformance : public ::testing::TestWithParam<vector_case> {};

TEST_P(Conformance, Findings) {
  const vector_case& c = GetParam();
  lint_result r = lint(input_of(c), options_of(c));
  if (c.data.value("no_reply", false)) {
    EXPECT_FALSE(r.reply_found);
    EXPECT_FALSE(r.no_reply_reason.empty());
    return;
  }
  ASSERT_TRUE(r.reply_found) << r.no_reply_reason;
  if (c.data.contains("findings")) {
    std::multiset<std::string> expected, actual;
    for (const auto& f : c.data.at("findings")) expected.insert(f.get<std::string>());
    for (const auto& f : r.ehlo.findings)
      actual.insert(fmt::format("{}@{}:{}", f.entry().name, f.line, f.column));
    EXPECT_EQ(actual, expected);
  }
  if (c.data.contains("clients")) {
    for (const auto& [id, want] : c.data["clients"].items()) {
      auto it = std::find_if(r.clients.begin(), r.clients.end(), [&](const client_prediction& p) { return p.id == id; });
      ASSERT_NE(it, r.clients.end()) << "no client model " << id;
      std::string got = fmt::format("{}/{}/{}", to_string(it->outcome), to_string(it->outcome_required),
                                    it->sees_starttls ? "yes" : "no");
      EXPECT_EQ(got, want.get<std::string>()) << id << ": " << it->why;
    }
  }
  if (c.data.contains("greeting")) {
    ASSERT_TRUE(r.ehlo.greeting.has_value());
    EXPECT_EQ(r.ehlo.greeting->domain, c.data["greeting"].get<std::string>());
  }
  if (c.data.contains("greeting_line")) {
    ASSERT_TRUE(r.ehlo.greeting.has_value());
    EXPECT_EQ(r.ehlo.greeting->line, c.data["greeting_line"].get<std::size_t>());
  }
  if (c.data.contains("starttls_visible")) {
    EXPECT_EQ(r.ehlo.starttls_visible, c.data["starttls_visible"].get<bool>());
  }
  if (c.data.contains("ignored_lines")) {
    EXPECT_EQ(r.ignored_lines, c.data["ignored_lines"].get<std::vector<std::size_t>>());
  }
  if (c.data.contains("ehlo_replies")) {
    EXPECT_EQ(r.ehlo_replies_in_input, c.data["ehlo_replies"].get<std::size_t>());
  }
  // Every error or warning names its place in the input.
  for (const auto& f : r.ehlo.findings) {
    EXPECT_GE(f.line, 1u);
    EXPECT_GE(f.column, 1u);
  }
}

TEST_P(Conformance, ParserSplitAtEveryOffset) {
  const vector_case& c = GetParam();
  std::string in = input_of(c);
  parser_limits limits = options_of(c).limits;
  std::string whole = test::dump(parse_replies(in, limits));
  std::size_t step = in.size() > 2000 ? 97 : 1;  // long vectors: every 97th offset and both ends
  for (std::size_t at = 0; at <= in.size(); at += step)
    ASSERT_EQ(test::dump(test::parse_split(in, at, limits)), whole) << "split at " << at;
  ASSERT_EQ(test::dump(test::parse_split(in, in.size(), limits)), whole);
}

INSTANTIATE_TEST_SUITE_P(Vectors, Conformance, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<vector_case>& info) {
                           std::string n = std::to_string(info.index) + "_" + info.param.data.value("name", "");
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// Every finding id has a vector that expects it.
TEST(ConformanceCoverage, EveryFindingIdHasAVector) {
  std::set<std::string> covered;
  for (const auto& c : load_cases())
    if (c.data.contains("findings"))
      for (const auto& f : c.data["findings"]) {
        std::string s = f.get<std::string>();
        covered.insert(s.substr(0, s.find('@')));
      }
  for (const auto& e : catalogue()) EXPECT_TRUE(covered.count(std::string(e.name))) << e.name << " has no vector";
}

// Both seed transcripts stay identical to the copies in examples/.
TEST(ConformanceCoverage, SeedCopiesMatchExamples) {
  for (const char* f : {"seed-transcript.txt", "seed-compliant.txt"})
    EXPECT_EQ(slurp(conformance_dir / f), slurp(fs::path(MXTLS_SOURCE_DIR) / "examples" / f)) << f;
}

}  // namespace
}  // namespace mxtls
