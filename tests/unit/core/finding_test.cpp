#include "mxtls/finding.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace mxtls {
namespace {

TEST(Catalogue, EntriesAreInIdOrderAndComplete) {
  auto c = catalogue();
  ASSERT_EQ(c.size(), static_cast<std::size_t>(finding_id::count_));
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(c[i].id), i) << c[i].name;
    EXPECT_TRUE(names.insert(c[i].name).second) << "duplicate name " << c[i].name;
    EXPECT_TRUE(std::regex_match(std::string(c[i].name), std::regex("[a-z0-9]+(-[a-z0-9]+)*"))) << c[i].name;
    EXPECT_FALSE(c[i].rfc.empty());
    EXPECT_FALSE(c[i].summary.empty());
    EXPECT_FALSE(c[i].fix.empty());
    EXPECT_EQ(find_entry(c[i].name), &c[i]);
  }
  EXPECT_EQ(find_entry("no-such-id"), nullptr);
}

// docs/findings.md documents every id with its severity and an example.
TEST(Catalogue, EveryIdIsDocumented) {
  std::ifstream in(std::filesystem::path(MXTLS_SOURCE_DIR) / "docs" / "findings.md");
  ASSERT_TRUE(in) << "docs/findings.md is missing";
  std::stringstream s;
  s << in.rdbuf();
  std::string doc = s.str();
  for (const auto& e : catalogue()) {
    std::string heading = "### `" + std::string(e.name) + "`";
    auto at = doc.find(heading);
    ASSERT_NE(at, std::string::npos) << e.name << " is not documented";
    auto next = doc.find("\n### ", at + 1);
    std::string section = doc.substr(at, next == std::string::npos ? std::string::npos : next - at);
    EXPECT_NE(section.find(std::string("Severity: ") + to_string(e.level)), std::string::npos)
        << e.name << ": severity missing or different";
    EXPECT_NE(section.find("```"), std::string::npos) << e.name << ": no example";
  }
}

}  // namespace
}  // namespace mxtls
