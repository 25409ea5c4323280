#include "mxtls/client_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "mxtls/lint.hpp"

namespace mxtls {
namespace {

TEST(ClientModels, EveryRequiredClientHasAModel) {
  const char* required[] = {"cisco-esa", "postfix", "posttls-finger", "exim", "sendmail", "opensmtpd",
                            "python-smtplib", "go-net-smtp", "jakarta-mail", "mailkit", "dotnet-smtpclient", "curl",
                            "curl-8.17", "msmtp", "swaks", "openssl-s-client", "haraka", "nodemailer", "lettre",
                            "phpmailer", "ruby-net-smtp", "perl-net-smtp"};
  for (const char* id : required) EXPECT_NE(find_client_model(id), nullptr) << id;
  std::set<std::string_view> ids;
  for (const auto& m : client_models()) {
    EXPECT_TRUE(ids.insert(m.id).second) << "duplicate " << m.id;
    EXPECT_FALSE(m.version.empty()) << m.id;
    EXPECT_FALSE(m.source.empty()) << m.id;
    EXPECT_FALSE(m.short_name.empty()) << m.id;
    EXPECT_FALSE(describe(m.match_rule).empty()) << m.id;
  }
  EXPECT_EQ(find_client_model("no-such-client"), nullptr);
}

TEST(ClientModels, NoReplyMeansEveryClientWaits) {
  for (const auto& m : client_models()) {
    auto p = predict(m, {});
    EXPECT_EQ(p.outcome, tls_outcome::hang) << m.id;
    EXPECT_EQ(p.outcome_required, tls_outcome::hang) << m.id;
  }
}

TEST(ClientModels, EveryPredictionSaysWhy) {
  for (const char* reply : {"250-mx.example.com\r\n250 STARTTLS\r\n", "250-STARTTLS\r\n250 mx.example.com\r\n",
                            "250 mx.example.com\r\n", "250-mx\r\n250 PIPELINING\r\n250 STARTTLS\r\n"}) {
    auto preds = predict_all(ehlo_turn_from_raw(reply, {}));
    ASSERT_EQ(preds.size(), client_models().size());
    for (const auto& p : preds) EXPECT_FALSE(p.why.empty()) << p.id << " on " << reply;
  }
}

TEST(ClientModels, PastedTextIsReadWithCrlfEndings) {
  lint_result r = lint("EHLO x\n250-mx.example.com\n250 STARTTLS\n");
  for (const auto& p : r.clients) {
    if (p.id == "lettre" || p.id == "dotnet-smtpclient") {
      EXPECT_NE(p.outcome, tls_outcome::hang) << p.id;
    }
  }
}

TEST(ClientModels, VerdictNamesTheSendersThatLoseTls) {
  lint_result r = lint("250-STARTTLS\n250-mail.domain1.com\n250 SIZE 30000000\n");
  for (const char* name : {"Cisco ESA", "Postfix", "Exim", "Sendmail", "Python", "Go"})
    EXPECT_NE(r.headline.find(name), std::string::npos) << name << " missing from: " << r.headline;
  EXPECT_EQ(r.headline.find("swaks"), std::string::npos) << r.headline;
}

// --- One case per prediction reason -----------------------------------------------------
//
// Each reason id is decided by one rule of predict(); its case is a (model, reply) pair that
// must produce it, with the outcomes that go with it. If the rule changes, its case fails.

struct reason_case {
  prediction_reason reason;
  const char* model;
  const char* reply;  // raw octets as the server sent them
  tls_outcome outcome;
  tls_outcome outcome_required;
};

constexpr tls_outcome tls = tls_outcome::tls, plaintext = tls_outcome::plaintext, fail = tls_outcome::fail,
                      hang = tls_outcome::hang;

const reason_case reason_cases[] = {
    {prediction_reason::sees_starttls, "postfix", "250-mx.example.com\r\n250 STARTTLS\r\n", tls, tls},
    // The seed case: Postfix takes line 1 as the greeting; posttls-finger reads it as a keyword.
    {prediction_reason::starttls_on_greeting, "postfix", "250-STARTTLS\r\n250 mx.example.com\r\n", plaintext, fail},
    {prediction_reason::sees_starttls, "posttls-finger", "250-STARTTLS\r\n250 mx.example.com\r\n", tls, tls},
    // Exim compares case-sensitively, Postfix does not.
    {prediction_reason::keyword_not_matched, "exim", "250-mx.example.com\r\n250 starttls\r\n", plaintext, fail},
    {prediction_reason::sees_starttls, "postfix", "250-mx.example.com\r\n250 starttls\r\n", tls, tls},
    // A final line too early: a probe that sends no mail is not harmed by the leftover line.
    {prediction_reason::starttls_after_end, "posttls-finger", "250-mx.example.com\r\n250 PIPELINING\r\n250 STARTTLS\r\n",
     plaintext, fail},
    {prediction_reason::leftover_desync, "postfix", "250-mx.example.com\r\n250 PIPELINING\r\n250 STARTTLS\r\n", fail, fail},
    // Sendmail (observed): a line left over answers MAIL; one reply behind, it waits at DATA.
    {prediction_reason::leftover_desync, "sendmail", "250-mx.example.com\r\n250 PIPELINING\r\n250 STARTTLS\r\n", hang, fail},
    // Sendmail skips a line that is not ddd[ -] (observed): STARTTLS after it is seen.
    {prediction_reason::sees_starttls, "sendmail", "250-mx.example.com\r\n250_PIPELINING\r\n250 STARTTLS\r\n", tls, tls},
    {prediction_reason::not_offered, "postfix", "250-mx.example.com\r\n250 PIPELINING\r\n", plaintext, fail},
    {prediction_reason::tls_off_by_default, "msmtp", "250-mx.example.com\r\n250 STARTTLS\r\n", plaintext, tls},
    {prediction_reason::rejects_reply_helo, "posttls-finger", "250-mx.example.com\r\n250_STARTTLS\r\n250 SIZE 1000\r\n", plaintext, fail},
    // Exim defers the message on a malformed EHLO reply (observed: no HELO).
    {prediction_reason::rejects_reply, "exim", "250-mx.example.com\r\n250_STARTTLS\r\n250 SIZE 1000\r\n", fail, fail},
    {prediction_reason::rejects_reply, "mailkit", "250-mail.example.com\r\n290 STARTTLS\r\n", fail, fail},
    {prediction_reason::ehlo_not_250, "postfix", "502 5.5.2 Command not recognized\r\n", plaintext, fail},
    {prediction_reason::leftover_fatal, "opensmtpd", "250-mx.example.com\r\nSTARTTLS\r\n250 SIZE 1000\r\n", fail, fail},
    {prediction_reason::waits_for_crlf, "lettre", "250-mx.example.com\n250 STARTTLS\n", hang, hang},
    {prediction_reason::waits_for_end, "postfix", "250-mx.example.com\r\n250-STARTTLS\r\n", hang, hang},
    {prediction_reason::no_reply, "postfix", "", hang, hang},
};

// Exim's response buffer, at the boundary observed with the real Exim 4.96: 4092 octets
// counted as the lines without their endings plus one each.
TEST(ClientModel, EximReplyLengthLimit) {
  const client_model* exim = find_client_model("exim");
  ASSERT_NE(exim, nullptr);
  auto reply = [](std::size_t total) {  // three CRLF lines, `total` octets as sent
    std::string head = "250-mx.example.com\r\n", tail = "250 STARTTLS\r\n";
    return head + "250-X" + std::string(total - head.size() - tail.size() - 7, 'A') + "\r\n" + tail;
  };
  EXPECT_EQ(predict(*exim, sent_lines(ehlo_turn_from_raw(reply(4095), {}))).outcome, tls_outcome::tls);
  auto p = predict(*exim, sent_lines(ehlo_turn_from_raw(reply(4096), {})));
  EXPECT_EQ(p.outcome, tls_outcome::fail) << p.why;
  EXPECT_EQ(p.reason, prediction_reason::rejects_reply) << p.why;
}

// Haraka 3.3.4, as the client matrix observed it: the text after the code must equal
// STARTTLS; with TLS required a refused EHLO leaves the message without a verdict; lines left
// over after the reply put it one reply behind, a race the prediction calls `fail`.
TEST(ClientModel, HarakaAsObserved) {
  const client_model* haraka = find_client_model("haraka");
  ASSERT_NE(haraka, nullptr);
  auto run = [&](const std::string& reply) { return predict(*haraka, sent_lines(ehlo_turn_from_raw(reply, {}))); };
  EXPECT_EQ(run("250-mx.example.com\r\n250 starttls\r\n").outcome, tls_outcome::tls);
  for (const char* hidden : {"250-mx.example.com\r\n250 STARTTLS \r\n", "250-mx.example.com\r\n250 STARTTLS REQUIRED\r\n"}) {
    auto p = run(hidden);
    EXPECT_EQ(p.outcome, tls_outcome::plaintext) << hidden << ": " << p.why;
    EXPECT_EQ(p.outcome_required, tls_outcome::fail) << hidden << ": " << p.why;
    EXPECT_EQ(p.reason, prediction_reason::keyword_not_matched) << p.why;
  }
  auto refused = run("502 5.5.2 Command not recognized\r\n");
  EXPECT_EQ(refused.outcome, tls_outcome::plaintext) << refused.why;
  EXPECT_EQ(refused.outcome_required, tls_outcome::hang) << refused.why;
  EXPECT_NE(refused.why.find("will not send HELO in clear"), std::string::npos) << refused.why;
  auto behind = run("250-mx.example.com\r\n250 PIPELINING\r\n250 STARTTLS\r\n");
  EXPECT_EQ(behind.outcome, tls_outcome::fail) << behind.why;
  EXPECT_EQ(behind.reason, prediction_reason::leftover_desync) << behind.why;
  EXPECT_NE(behind.why.find("depending on timing"), std::string::npos) << behind.why;
  // Another client without the race keeps the plain out-of-step text.
  auto postfix = predict(*find_client_model("postfix"),
                         sent_lines(ehlo_turn_from_raw("250-mx.example.com\r\n250 PIPELINING\r\n250 STARTTLS\r\n", {})));
  EXPECT_EQ(postfix.why.find("depending on timing"), std::string::npos) << postfix.why;
}

void PrintTo(const reason_case& c, std::ostream* os) { *os << to_string(c.reason) << " / " << c.model; }

class PredictionReason : public ::testing::TestWithParam<reason_case> {};

TEST_P(PredictionReason, RuleDecides) {
  const reason_case& c = GetParam();
  const client_model* m = find_client_model(c.model);
  ASSERT_NE(m, nullptr) << c.model;
  client_prediction p = predict(*m, sent_lines(ehlo_turn_from_raw(c.reply, {})));
  EXPECT_EQ(to_string(p.reason), std::string(to_string(c.reason))) << p.why;
  EXPECT_EQ(p.outcome, c.outcome) << to_string(p.outcome) << ": " << p.why;
  EXPECT_EQ(p.outcome_required, c.outcome_required) << to_string(p.outcome_required) << ": " << p.why;
  EXPECT_EQ(p.sees_starttls, c.reason == prediction_reason::sees_starttls || c.reason == prediction_reason::tls_off_by_default);
}

INSTANTIATE_TEST_SUITE_P(Cases, PredictionReason, ::testing::ValuesIn(reason_cases),
                         [](const ::testing::TestParamInfo<reason_case>& i) {
                           std::string n = std::string(to_string(i.param.reason)) + "_" + i.param.model;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n + "_" + std::to_string(i.index);
                         });

// Every reason id (every value to_string names) has a case above: a new reason cannot be
// added without one. The ids are distinct and stable in form (lower case and '-').
TEST(PredictionReason, EveryReasonHasACase) {
  std::set<std::string> names;
  for (int v = 0; v <= 255; ++v) {
    auto r = static_cast<prediction_reason>(v);
    std::string name = to_string(r);
    if (name == "?") continue;
    EXPECT_TRUE(names.insert(name).second) << "two reasons named " << name;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos) << name;
    // The services' reading, never a model's: SenderTls.ServicesFollowTheModelsWhereAllAgreeAndAreUnknownElse.
    if (r == prediction_reason::ehlo_not_modelled) continue;
    bool covered = std::any_of(std::begin(reason_cases), std::end(reason_cases), [r](const reason_case& c) { return c.reason == r; });
    EXPECT_TRUE(covered) << name << " has no case in reason_cases";
  }
  EXPECT_EQ(names.size(), 15u) << "a reason was added or removed: give it a case and a line in docs/lint-json.md";
}

// --- The rules are the explanation ------------------------------------------------------

// The "why" of a prediction quotes the rule that decided it, as describe() words it.
TEST(ClientModels, WhyQuotesTheKeywordRule) {
  server_turn turn = ehlo_turn_from_raw("250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n", {});
  auto lines = sent_lines(turn);  // views into `turn`
  for (const auto& m : client_models()) {
    client_prediction p = predict(m, lines);
    ASSERT_TRUE(p.sees_starttls) << m.id;
    EXPECT_NE(p.why.find(describe(m.match_rule)), std::string::npos) << m.id << ": " << p.why;
    EXPECT_EQ(std::string(m.match_rule), describe(m.match_rule)) << m.id;
  }
}

TEST(ClientModels, RuleWording) {
  EXPECT_EQ(describe(find_client_model("postfix")->match_rule),
            "first word of the trimmed text after the code, cut at space, tab or '=', case-insensitive, on the lines "
            "after the first non-empty one, only lines matching ^ddd([ \\t-]|$)");
  EXPECT_EQ(describe(find_client_model("swaks")->match_rule),
            "the text after the code equals STARTTLS, case-sensitive, on every line");
  auto p = predict(*find_client_model("postfix"), sent_lines(ehlo_turn_from_raw("250-mx.example.com\r\n250 STARTTLS\r\n", {})));
  EXPECT_EQ(p.why.substr(0, 38), "finds STARTTLS in line 2 of the reply ");
  EXPECT_EQ(rejection({.max_line_octets = 4}, std::vector<std::string>{"250 x", "250 STARTTLS"}), "a line is longer than 4 octets");
  EXPECT_EQ(rejection({.every_line = line_form::code_space_or_hyphen}, std::vector<std::string>{"250-x", "250"}),
            "a line does not match ^ddd[ -]");
  EXPECT_EQ(rejection({.same_code = true}, std::vector<std::string>{"250-x", "251 y"}), "the code changes between lines");
  EXPECT_EQ(rejection({.max_lines = 2, .last_code_250 = true}, std::vector<std::string>{"250-x", "250 y"}), "");
}

// Each way of cutting the word, on lines where it matters.
TEST(ClientModels, KeywordCuts) {
  auto find = [](keyword_match k, std::vector<std::string> lines) { return find_keyword(k, lines); };
  std::vector<std::string> tab = {"250-mx", "250-STARTTLS\tx"};
  EXPECT_EQ(find({.stops = " "}, tab), -1);
  EXPECT_EQ(find({.stops = " \t"}, tab), 1);
  EXPECT_EQ(find({.cut = keyword_cut::prefix}, tab), 1);
  EXPECT_EQ(find({.cut = keyword_cut::whole}, tab), -1);
  EXPECT_EQ(find({.cut = keyword_cut::keyword_chars}, {"250-mx", "250-starttls=1"}), 1);
  EXPECT_EQ(find({.cut = keyword_cut::keyword_chars, .case_sensitive = true}, {"250-mx", "250-starttls=1"}), -1);
  EXPECT_EQ(find({.cut = keyword_cut::first_word_chars}, {"250-mx", "250- ,STARTTLS."}), 1);
  EXPECT_EQ(find({.text = keyword_text::whole_line, .cut = keyword_cut::anywhere}, {"250-mx", "250-X-STARTTLSY"}), 1);
  EXPECT_EQ(find({.text = keyword_text::whole_line, .cut = keyword_cut::after_space_or_hyphen}, {"250-mx", "250-X-STARTTLSY"}), -1);
  EXPECT_EQ(find({.text = keyword_text::whole_line, .cut = keyword_cut::after_space_or_hyphen}, {"250-mx", "250-X-STARTTLS."}), 1);
  // Lines searched: the greeting, the host name, and only after "ddd-".
  EXPECT_EQ(find({.lines = keyword_lines::every_line}, {"250-STARTTLS", "250 x"}), 0);
  EXPECT_EQ(find({.lines = keyword_lines::after_greeting}, {"250-STARTTLS", "250 x"}), -1);
  EXPECT_EQ(find({.lines = keyword_lines::after_host_name, .text = keyword_text::after_code_trimmed}, {"250-", "250-STARTTLS", "250 STARTTLS"}), 2);
  EXPECT_EQ(find({.only_if_first_line_continues = true}, {"250 mx", "250 STARTTLS"}), -1);
  // Go: a line with another code is read whole, so its first word is "251-STARTTLS".
  EXPECT_EQ(find({.text = keyword_text::after_code_or_raw_line}, {"250-mx", "251-STARTTLS"}), -1);
  EXPECT_EQ(find({.text = keyword_text::after_code_or_raw_line}, {"250-mx", "250-STARTTLS"}), 1);
}

// A reason text names the reading rule an octet of the reply met (Postfix's printable(),
// Exim's search that ends at a NUL, PHP's trim(), lines read as C strings), and only then.
TEST(ClientModels, WhySaysTheOctetRuleThatDecided) {
  auto why = [](std::string_view id, std::string_view raw) {
    server_turn turn = ehlo_turn_from_raw(raw, {});
    return predict(*find_client_model(id), sent_lines(turn)).why;
  };
  using namespace std::string_literals;
  const std::string tab_before = "250-mx.example.com\r\n250-\tSTARTTLS\r\n250 SIZE 1000\r\n";
  const std::string nul_after = "250-mx.example.com\r\n250-STARTTLS\0\r\n250 SIZE 1000\r\n"s;
  const std::string nul_before = "250-mx.example.com\r\n250-\0STARTTLS\r\n250 SIZE 1000\r\n"s;
  EXPECT_NE(why("postfix", tab_before).find("TAB included, as '?'"), std::string::npos) << why("postfix", tab_before);
  EXPECT_NE(why("exim", nul_after).find("stops at the reply's first NUL"), std::string::npos) << why("exim", nul_after);
  EXPECT_NE(why("sendmail", nul_after).find("a line ends at its first NUL"), std::string::npos) << why("sendmail", nul_after);
  EXPECT_NE(why("postfix", nul_after).find("a line ends at its first NUL"), std::string::npos) << why("postfix", nul_after);
  EXPECT_NE(why("phpmailer", nul_before).find("its trim also strips NUL and VT"), std::string::npos) << why("phpmailer", nul_before);
  const std::string plain = "250-mx.example.com\r\n250-STARTTLS\r\n250 SIZE 1000\r\n";
  for (const char* id : {"postfix", "exim", "sendmail", "phpmailer"})
    EXPECT_EQ(why(id, plain).find(';'), std::string::npos) << id << ": " << why(id, plain);
}

}  // namespace
}  // namespace mxtls
