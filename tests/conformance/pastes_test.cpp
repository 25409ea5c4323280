// Pastes as postmasters bring them: tests/conformance/pastes/*.json, one file per format,
// each case a capture made with the real tool against `mxtls serve` (or built from the
// format's documented layout, marked so in the data) and what lint must read from it.
// tests/conformance/pastes/record.py rewrites the expectations for review.
#include <gtest/gtest.h>

#include "../read_file.hpp"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "mxtls/lint.hpp"
#include "mxtls/report.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path pastes_dir = fs::path(MXTLS_SOURCE_DIR) / "tests" / "conformance" / "pastes";

struct paste_case {
  std::string file;  // the JSON file
  json data;
  std::string name() const { return file + ": " + data.value("name", "?"); }
};

void PrintTo(const paste_case& c, std::ostream* os) { *os << c.name(); }

std::vector<paste_case> load_cases() {
  std::vector<paste_case> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(pastes_dir))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    json j = json::parse(test::read_file(f));
    for (const auto& c : j.at("cases")) out.push_back({f.filename().string(), c});
  }
  return out;
}

class Pastes : public ::testing::TestWithParam<paste_case> {};

TEST_P(Pastes, ReadAsExpected) {
  const paste_case& c = GetParam();
  const json& e = c.data.at("expect");
  std::string input = test::read_file(pastes_dir / c.data.at("file").get<std::string>());
  lint_result r = lint(input);
  // The CLI's exit codes: 0 no error finding, 1 error findings, 2 no reply in the input.
  int exit_code = !r.reply_found ? 2 : r.errors > 0 ? 1 : 0;
  ASSERT_EQ(exit_code, e.at("exit").get<int>()) << r.headline << r.no_reply_reason;
  if (!r.reply_found) {
    EXPECT_EQ(r.no_reply_reason, e.at("no_reply").get<std::string>());
    return;
  }
  EXPECT_EQ(to_string(r.format), e.at("format").get<std::string>());
  EXPECT_EQ(to_string(r.prefix), e.at("line_prefix").get<std::string>());
  std::vector<std::string> notes;
  for (const auto& n : r.paste_notes) notes.push_back(to_string(n.change));
  EXPECT_EQ(notes, e.at("notes").get<std::vector<std::string>>());
  EXPECT_EQ(r.ehlo_replies_in_input, e.at("ehlo_replies").get<std::size_t>());
  EXPECT_EQ(r.linted_turn, e.at("linted_turn").get<std::size_t>());
  EXPECT_EQ(r.linted_inside_tls, e.at("inside_tls").get<bool>());
  EXPECT_EQ(r.plaintext_reply_missing, e.at("plaintext_reply_missing").get<bool>());
  if (e.at("greeting").is_null()) {
    EXPECT_FALSE(r.ehlo.greeting.has_value());
  } else {
    ASSERT_TRUE(r.ehlo.greeting.has_value());
    EXPECT_EQ(r.ehlo.greeting->domain, e.at("greeting").get<std::string>());
  }
  std::vector<std::string> found;
  for (const auto& f : r.ehlo.findings)
    found.push_back(std::string(f.entry().name) + "@" + std::to_string(f.line) + ":" + std::to_string(f.column));
  EXPECT_EQ(found, e.at("findings").get<std::vector<std::string>>()) << r.headline;
  EXPECT_EQ(to_string(r.dialogue.starttls), e.at("starttls").get<std::string>());
  EXPECT_EQ(r.dialogue.starttls_code, e.at("starttls_code").is_null() ? -1 : e.at("starttls_code").get<int>());
  EXPECT_EQ(to_string(r.dialogue.handshake), e.at("handshake").get<std::string>());
  EXPECT_EQ(r.dialogue.ehlo_after_tls, e.at("ehlo_after_tls").get<bool>());
  for (const auto& item : e.at("predictions").items()) {
    // Not a structured binding: clang 14 (the fuzz preset's compiler) cannot capture one.
    const std::string id = item.key();
    const json& outcome = item.value();
    auto it = std::find_if(r.clients.begin(), r.clients.end(), [&](const client_prediction& p) { return p.id == id; });
    ASSERT_NE(it, r.clients.end()) << id;
    EXPECT_EQ(to_string(it->outcome), outcome.get<std::string>()) << id;
  }
  if (e.at("predictions").empty()) {
    EXPECT_TRUE(r.clients.empty());
  }
  EXPECT_EQ(r.headline.substr(0, r.headline.find(':')), e.at("headline_starts").get<std::string>());
  // Never blame the server for the paste: no leftover line of openssl s_client is linted,
  // and a refused STARTTLS never reads as TLS in the headline.
  for (auto line : r.plaintext_leftover_lines)
    for (const auto& f : r.ehlo.findings) EXPECT_NE(f.line, line) << "finding on the s_client leftover line";
  if (r.dialogue.starttls == starttls_answer::refused) {
    EXPECT_NE(r.headline.find("no sender gets TLS"), std::string::npos) << r.headline;
    EXPECT_EQ(r.headline.find("will not use TLS"), std::string::npos) << r.headline;
  }
  // Both renderers take every paste.
  EXPECT_FALSE(render_lint_text(r, {false, c.data.at("file").get<std::string>()}).empty());
  auto j = json::parse(render_lint_json(r, "paste", false));
  EXPECT_EQ(j["input"]["format"], e.at("format"));
}

INSTANTIATE_TEST_SUITE_P(Captures, Pastes, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<paste_case>& i) {
                           std::string n = i.param.data.value("name", "case");
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// Every capture is named in exactly one data file, and the data says how it was made.
TEST(PastesData, EveryCaptureIsACase) {
  std::vector<std::string> named;
  for (const auto& c : load_cases()) {
    named.push_back(c.data.at("file"));
    EXPECT_TRUE(c.data.contains("captured")) << c.name();
  }
  std::sort(named.begin(), named.end());
  EXPECT_EQ(std::adjacent_find(named.begin(), named.end()), named.end());
  for (const auto& e : fs::directory_iterator(pastes_dir)) {
    if (e.path().extension() != ".txt") continue;
    EXPECT_TRUE(std::binary_search(named.begin(), named.end(), e.path().filename().string())) << e.path();
  }
  EXPECT_GE(named.size(), 30u);
}

}  // namespace
}  // namespace mxtls
