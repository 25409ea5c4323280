// The TLS layer per sender: the rule data (every row names a known sender and profile and
// cites a source) and how the diagnosis combines it with the EHLO layer.
#include <gtest/gtest.h>

#include <set>

#include "mxtls/client_model.hpp"
#include "mxtls/diagnosis.hpp"
#include "mxtls/sender_tls.hpp"

namespace mxtls {
namespace {

TEST(SenderTls, EveryRowNamesAKnownSenderAndProfileAndCitesASource) {
  std::set<std::string_view> seen;
  for (const auto& r : sender_tls_rules()) {
    EXPECT_TRUE(find_client_model(r.sender) || find_sending_service(r.sender)) << r.sender;
    EXPECT_TRUE(seen.insert(r.sender).second) << r.sender << " twice";
    EXPECT_TRUE(r.profile.empty() || find_tls_profile(r.profile)) << r.sender << ": " << r.profile;
    EXPECT_FALSE(r.source.empty()) << r.sender;
  }
  for (const auto& p : tls_profiles()) {
    EXPECT_FALSE(p.source.empty()) << p.id;
    EXPECT_FALSE(p.library.empty()) << p.id;
  }
  const sender_tls_rule* exim = find_sender_tls_rule("exim");
  ASSERT_NE(exim, nullptr);
  EXPECT_EQ(exim->on_failure, tls_failure_action::plaintext_retry) << "tls_tempfail_tryclear";
  EXPECT_EQ(exim->on_failure_required, tls_failure_action::give_up) << "hosts_require_tls defers";
  // Sendmail: OpenSSL's defaults; a failed handshake defers (no TLSFallbacktoClear by default).
  const sender_tls_rule* sendmail = find_sender_tls_rule("sendmail");
  ASSERT_NE(sendmail, nullptr);
  EXPECT_EQ(sendmail->profile, "openssl-default");
  EXPECT_EQ(sendmail->on_failure, tls_failure_action::give_up) << "TLSFallbacktoClear is off by default";
  EXPECT_EQ(sendmail->on_failure_required, tls_failure_action::give_up);
}

// An EHLO reply every client reads as offering STARTTLS, answered with 220.
std::vector<sender_prediction> predict_with(handshake_state hs, const tls_senders_facts* replays) {
  auto turn = ehlo_turn_from_raw("250-mx.example\r\n250 STARTTLS\r\n", {});
  auto ehlo = predict_all(turn);
  dialogue_facts d{.starttls = starttls_answer::accepted, .starttls_code = 220, .handshake = hs};
  tls_facts t;
  t.established = hs == handshake_state::established;
  t.protocol = "TLSv1";
  t.cipher = "ECDHE-ECDSA-AES128-SHA";
  return predict_senders(ehlo, d, &t, replays);
}

const sender_prediction& of(const std::vector<sender_prediction>& v, std::string_view id) {
  for (const auto& p : v)
    if (p.id == id) return p;
  throw std::runtime_error("no sender " + std::string(id));
}

TEST(SenderTls, AFailedReplayFailsThatSenderOnly) {
  tls_senders_facts r;
  profile_handshake ok{.profile = "openssl-seclevel0", .replayed = false, .established = true, .protocol = "TLSv1",
                       .cipher = "ECDHE-ECDSA-AES128-SHA", .group = "X25519", .error = {}};
  profile_handshake refused{.profile = "openssl-default", .replayed = true, .established = false, .protocol = "", .cipher = "",
                            .group = "", .error = {session_phase::tls, session_error_code::handshake_failed, "protocol version"}};
  // A replay that never reached its handshake says nothing about TLS.
  profile_handshake busy{.profile = "go-1.19", .replayed = true, .established = false, .protocol = "", .cipher = "", .group = "",
                         .error = {session_phase::banner, session_error_code::bad_banner, "421"}};
  r.handshakes = {ok, refused, busy};
  auto s = predict_with(handshake_state::established, &r);
  EXPECT_EQ(of(s, "python-smtplib").outcome, tls_outcome::fail);
  EXPECT_EQ(of(s, "python-smtplib").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(s, "python-smtplib").dialogue_reason, reason_id::sender_handshake_failed);
  EXPECT_EQ(of(s, "python-smtplib").layer, decided_at::tls);
  EXPECT_EQ(of(s, "postfix").outcome, tls_outcome::tls);
  EXPECT_EQ(of(s, "postfix").tls_version, "TLSv1");
  EXPECT_EQ(of(s, "go-net-smtp").outcome, tls_outcome::tls) << "the probe's handshake stands for it";
  EXPECT_EQ(of(s, "exim").outcome, tls_outcome::tls) << "its profile was not replayed: the probe's handshake stands for it";

  // Exim's GnuTLS hello refused: tls_tempfail_tryclear delivers in clear; required defers.
  profile_handshake gnutls_refused = refused;
  gnutls_refused.profile = "gnutls-normal";
  r.handshakes = {ok, gnutls_refused};
  auto e = predict_with(handshake_state::established, &r);
  EXPECT_EQ(of(e, "exim").outcome, tls_outcome::plaintext);
  EXPECT_EQ(of(e, "exim").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(e, "exim").dialogue_reason, reason_id::sender_handshake_failed);

  // The probe's own handshake failed: every sender's fails; Postfix 3.7 defers (observed).
  auto f = predict_with(handshake_state::failed, nullptr);
  EXPECT_EQ(of(f, "postfix").outcome, tls_outcome::fail);
  EXPECT_EQ(of(f, "postfix").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(f, "python-smtplib").outcome, tls_outcome::fail);
  EXPECT_EQ(of(f, "postfix").dialogue_reason, reason_id::handshake_failed);
  EXPECT_EQ(of(f, "exim").outcome, tls_outcome::plaintext) << "tls_tempfail_tryclear";
  EXPECT_EQ(of(f, "exim").outcome_required, tls_outcome::fail);
}

// Haraka with force_tls_hosts checks the certificate; with its defaults, and every other
// sender with TLS required, it does not. Jakarta Mail checks the chain, not the name, always.
TEST(SenderTls, HarakaRequiredChecksTheCertificate) {
  auto turn = ehlo_turn_from_raw("250-mx.example\r\n250 STARTTLS\r\n", {});
  auto ehlo = predict_all(turn);
  dialogue_facts d{.starttls = starttls_answer::accepted, .starttls_code = 220, .handshake = handshake_state::established};
  tls_facts t;
  t.established = true;
  t.protocol = "TLSv1.3";
  t.cipher = "TLS_AES_256_GCM_SHA384";
  t.name_checked = true;
  t.chain_verified = false;
  t.hostname_match = true;
  auto untrusted = predict_senders(ehlo, d, &t, nullptr);
  EXPECT_EQ(of(untrusted, "haraka").outcome, tls_outcome::tls);
  EXPECT_EQ(of(untrusted, "haraka").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(untrusted, "haraka").dialogue_reason_required, reason_id::certificate_untrusted);
  EXPECT_EQ(of(untrusted, "exim").outcome_required, tls_outcome::tls);
  // Jakarta Mail checks the chain in both settings (the JDK's default trust manager).
  EXPECT_EQ(of(untrusted, "jakarta-mail").outcome, tls_outcome::fail);
  EXPECT_EQ(of(untrusted, "jakarta-mail").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(untrusted, "jakarta-mail").dialogue_reason, reason_id::certificate_untrusted);
  EXPECT_EQ(of(untrusted, "jakarta-mail").layer, decided_at::tls);
  EXPECT_EQ(of(untrusted, "nodemailer").outcome_required, tls_outcome::tls);
  t.chain_verified = true;
  t.hostname_match = false;
  auto mismatch = predict_senders(ehlo, d, &t, nullptr);
  EXPECT_EQ(of(mismatch, "haraka").dialogue_reason_required, reason_id::certificate_name_mismatch);
  EXPECT_EQ(of(mismatch, "jakarta-mail").outcome, tls_outcome::tls) << "Jakarta Mail does not check the name by default";
  t.hostname_match = true;
  t.expired = true;  // an expired chain does not verify either: the date is what is named
  t.chain_verified = false;
  auto expired = predict_senders(ehlo, d, &t, nullptr);
  EXPECT_EQ(of(expired, "haraka").dialogue_reason_required, reason_id::certificate_expired);
  EXPECT_EQ(of(expired, "jakarta-mail").dialogue_reason, reason_id::certificate_expired);
  t.expired = false;
  t.chain_verified = true;
  auto good = predict_senders(ehlo, d, &t, nullptr);
  EXPECT_EQ(of(good, "haraka").outcome_required, tls_outcome::tls);
  EXPECT_EQ(of(good, "haraka").tls_version, "TLSv1.3");
}

// The services: no EHLO model, so what every model agrees on; their TLS layer from the
// vendors' documents, with what they do after a failed handshake not documented.
TEST(SenderTls, ServicesFollowTheModelsWhereAllAgreeAndAreUnknownElse) {
  for (const auto& svc : sending_services()) {
    EXPECT_EQ(find_client_model(svc.id), nullptr) << svc.id << " is a service, not a model";
    const sender_tls_rule* rule = find_sender_tls_rule(svc.id);
    ASSERT_NE(rule, nullptr) << svc.id;
    EXPECT_EQ(rule->on_failure, tls_failure_action::undocumented) << svc.id;
    EXPECT_EQ(rule->on_failure_required, tls_failure_action::give_up) << svc.id;
    EXPECT_FALSE(find_tls_profile(rule->profile)->suites_documented) << svc.id;
  }
  EXPECT_EQ(find_tls_profile("exchange-online")->min_version, "TLSv1.2") << "never TLS 1.0 or 1.1 outbound";
  EXPECT_EQ(find_tls_profile("gmail")->min_version, "TLSv1");

  dialogue_facts ok{.starttls = starttls_answer::accepted, .starttls_code = 220, .handshake = handshake_state::established};
  tls_facts t;
  t.established = true;
  t.protocol = "TLSv1.2";
  t.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
  auto predict = [&](std::string_view raw, const tls_senders_facts* replays) {
    return predict_senders(predict_all(ehlo_turn_from_raw(std::string(raw), {})), ok, &t, replays);
  };

  // Every model finds STARTTLS: the services send it; the cipher is not theirs to report.
  auto plain = predict("250-mx.example\r\n250 STARTTLS\r\n", nullptr);
  ASSERT_EQ(plain.size(), client_models().size() + sending_services().size());
  EXPECT_EQ(plain[client_models().size()].id, "microsoft-365") << "services follow the models";
  for (std::string_view id : {"microsoft-365", "gmail"}) {
    EXPECT_EQ(of(plain, id).outcome, tls_outcome::tls) << id;
    EXPECT_EQ(of(plain, id).outcome_required, tls_outcome::tls) << id;
    EXPECT_EQ(of(plain, id).ehlo_reason, prediction_reason::sees_starttls) << id;
    EXPECT_EQ(of(plain, id).tls_version, "TLSv1.2") << id;
    EXPECT_EQ(of(plain, id).tls_cipher, "") << id;
  }
  EXPECT_EQ(of(plain, "postfix").tls_cipher, "ECDHE-RSA-AES128-GCM-SHA256");

  // The seed: the models disagree, so the services' reading is unknown in both settings.
  auto seed = predict("250-STARTTLS\r\n250-mx.example\r\n250 SIZE 1000\r\n", nullptr);
  for (std::string_view id : {"microsoft-365", "gmail"}) {
    EXPECT_EQ(of(seed, id).outcome, tls_outcome::unknown) << id;
    EXPECT_EQ(of(seed, id).outcome_required, tls_outcome::unknown) << id;
    EXPECT_EQ(of(seed, id).ehlo_reason, prediction_reason::ehlo_not_modelled) << id;
  }
  sender_groups g = group_senders(seed);
  EXPECT_EQ(g.unknown, (std::vector<std::string_view>{"microsoft-365", "gmail"}));
  for (auto id : g.lose()) {
    EXPECT_NE(id, "gmail") << "unknown is not counted as a loss";
    EXPECT_NE(id, "microsoft-365") << "unknown is not counted as a loss";
  }

  // No STARTTLS anywhere: every model agrees, so plaintext, and no delivery when required.
  auto none = predict("250-mx.example\r\n250 SIZE 1000\r\n", nullptr);
  EXPECT_EQ(of(none, "gmail").outcome, tls_outcome::plaintext);
  EXPECT_EQ(of(none, "gmail").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(none, "gmail").ehlo_reason, prediction_reason::not_offered);

  // Microsoft 365's TLS 1.2 hello refused by a server whose best version is TLS 1.0: no
  // version Microsoft documents it using; what it does then is not documented, and with TLS
  // required it does not deliver.
  tls_senders_facts r;
  profile_handshake refused{.profile = "exchange-online", .replayed = true, .established = false, .protocol = "", .cipher = "",
                            .group = "", .error = {session_phase::tls, session_error_code::handshake_failed, "protocol version"}};
  profile_handshake gmail{.profile = "gmail", .replayed = true, .established = true, .protocol = "TLSv1.3",
                          .cipher = "TLS_AES_128_GCM_SHA256", .group = "X25519", .error = {}};
  r.handshakes = {refused, gmail};
  t.protocol = "TLSv1";
  auto v10 = predict("250-mx.example\r\n250 STARTTLS\r\n", &r);
  EXPECT_EQ(of(v10, "microsoft-365").outcome, tls_outcome::unknown);
  EXPECT_EQ(of(v10, "microsoft-365").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(v10, "microsoft-365").dialogue_reason, reason_id::sender_handshake_failed);
  EXPECT_EQ(of(v10, "microsoft-365").layer, decided_at::tls);
  EXPECT_EQ(of(v10, "gmail").outcome, tls_outcome::tls);
  EXPECT_EQ(of(v10, "gmail").tls_version, "TLSv1.3");
  EXPECT_EQ(of(v10, "gmail").tls_cipher, "");
  EXPECT_EQ(group_senders(v10).unknown, (std::vector<std::string_view>{"microsoft-365"}));
  // The same refusal from a TLS 1.3-only server: the probe got a version Microsoft documents it
  // using, so the failure is of what the profile assumes beyond the documents (no TLS 1.3): not
  // known in either setting.
  t.protocol = "TLSv1.3";
  auto v13 = predict("250-mx.example\r\n250 STARTTLS\r\n", &r);
  EXPECT_EQ(of(v13, "microsoft-365").outcome, tls_outcome::unknown);
  EXPECT_EQ(of(v13, "microsoft-365").outcome_required, tls_outcome::unknown);
  EXPECT_EQ(of(v13, "microsoft-365").dialogue_reason, reason_id::sender_handshake_failed);

  // A chain signed with SHA-1: Microsoft 365 refuses it (documented), Gmail does not say.
  t.protocol = "TLSv1.2";
  t.chain = {{.subject = "CN=mx", .issuer = "CN=ca", .signature_algorithm = "sha1WithRSAEncryption"},
             {.subject = "CN=ca", .issuer = "CN=ca", .signature_algorithm = "sha1WithRSAEncryption"}};
  auto sha1 = predict("250-mx.example\r\n250 STARTTLS\r\n", nullptr);
  EXPECT_EQ(of(sha1, "microsoft-365").outcome, tls_outcome::unknown);
  EXPECT_EQ(of(sha1, "microsoft-365").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(sha1, "microsoft-365").dialogue_reason, reason_id::tls_sha1_signature);
  EXPECT_EQ(of(sha1, "gmail").outcome, tls_outcome::tls);
  // Only the root is SHA-1 signed (its own signature is not checked): accepted.
  t.chain.front().signature_algorithm = "sha256WithRSAEncryption";
  EXPECT_EQ(of(predict("250-mx.example\r\n250 STARTTLS\r\n", nullptr), "microsoft-365").outcome, tls_outcome::tls);
  t.chain.clear();

  // The probe's own handshake failed: every sender's does; the services' default is unknown.
  ok.handshake = handshake_state::failed;
  t.established = false;
  auto failed = predict("250-mx.example\r\n250 STARTTLS\r\n", nullptr);
  EXPECT_EQ(of(failed, "gmail").outcome, tls_outcome::unknown);
  EXPECT_EQ(of(failed, "gmail").outcome_required, tls_outcome::fail);
  EXPECT_EQ(of(failed, "gmail").dialogue_reason, reason_id::handshake_failed);

  // No EHLO reading at all (nothing to agree on): no services either.
  EXPECT_TRUE(predict_senders({}, ok, &t, nullptr).empty());
}

}  // namespace
}  // namespace mxtls
