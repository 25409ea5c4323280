#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mxtls/report.hpp"

namespace mxtls {
namespace {

const char* seed = "EHLO esa.example\n250-STARTTLS <--- here\n250-mail.domain1.com\n250 SIZE 30000000\n";

TEST(LintText, VerdictFirstThenCaretUnderTheColumn) {
  auto r = lint(seed);
  std::string out = render_lint_text(r, {false, "seed.txt"});
  EXPECT_EQ(out.rfind("FAIL", 0), 0u) << out;
  EXPECT_NE(out.find("error[keyword-as-greeting]"), std::string::npos);
  EXPECT_NE(out.find("  --> seed.txt:2:5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  2 | 250-STARTTLS <--- here\n    |     ^^^^^^^^\n"), std::string::npos) << out;
  EXPECT_NE(out.find("= fix: "), std::string::npos);
  EXPECT_EQ(out.find('\033'), std::string::npos) << "no colour unless asked";
  std::string coloured = render_lint_text(r, {true, "seed.txt"});
  EXPECT_NE(coloured.find("\033[1;31m"), std::string::npos);
}

TEST(LintText, ControlOctetsAreShownOneColumnEach) {
  lint_options o;
  o.raw = true;
  auto r = lint(std::string_view("250-mx.example.com\r\n250-A\x01\tB\r\n250 STARTTLS\r\n"), o);
  std::string out = render_lint_text(r, {false, "x"});
  EXPECT_NE(out.find("| 250-A? B\n"), std::string::npos) << out;
}

TEST(LintJson, SchemaFields) {
  auto r = lint(seed);
  auto j = nlohmann::json::parse(render_lint_json(r, "seed.txt", false));
  EXPECT_EQ(j["schema"], "mxtls-lint");
  EXPECT_EQ(j["version"], lint_json_version);
  EXPECT_EQ(j["greeting"]["domain"], "STARTTLS");
  EXPECT_EQ(j["greeting"]["line"], 2);
  ASSERT_EQ(j["extensions"].size(), 2u);
  EXPECT_EQ(j["extensions"][1]["keyword"], "SIZE");
  EXPECT_EQ(j["extensions"][1]["params"][0], "30000000");
  EXPECT_EQ(j["findings"][0]["id"], "keyword-as-greeting");
  EXPECT_EQ(j["findings"][0]["severity"], "error");
  EXPECT_EQ(j["findings"][0]["line"], 2);
  EXPECT_EQ(j["findings"][0]["column"], 5);
  EXPECT_TRUE(j["findings"][0]["rfc"].is_string());
  EXPECT_TRUE(j["findings"][0]["fix"].is_string());
  EXPECT_TRUE(j["clients"].is_array());
  EXPECT_EQ(j["verdict"]["status"], "errors");
}

}  // namespace
}  // namespace mxtls
