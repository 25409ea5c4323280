#include "mxtls/client_model.hpp"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace
}  // namespace mxtls
