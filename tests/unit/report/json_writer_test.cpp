#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "mxtls/json_writer.hpp"
#include "mxtls/probe_report.hpp"
#include "mxtls/report.hpp"

namespace mxtls {
namespace {

using ojson = nlohmann::ordered_json;

std::string nlohmann_text(const ojson& j, int indent) {
  return j.dump(indent, ' ', false, ojson::error_handler_t::replace);
}

std::string writer_text(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonString, EveryOctetAndEveryPairOfOctetsAsNlohmannEscapesThem) {
  for (int a = 0; a < 256; ++a) {
    std::string one(1, static_cast<char>(a));
    ASSERT_EQ(writer_text(one), nlohmann_text(one, -1)) << "octet " << a;
    for (int b = 0; b < 256; ++b) {
      std::string two{static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(writer_text(two), nlohmann_text(two, -1)) << "octets " << a << " " << b;
    }
  }
}

TEST(JsonString, RandomOctetsAsNlohmannReplacesThem) {
  // Octets drawn mostly from the places UTF-8 decoding goes wrong: leads, continuation
  // octets, the edges of their ranges, controls, quotes.
  const unsigned char interesting[] = {0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, '"',  '\\', 'A',  0x7f,
                                       0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec,
                                       0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
  std::mt19937 rng(20261127);
  std::uniform_int_distribution<std::size_t> length(0, 12), pick(0, sizeof interesting - 1);
  std::uniform_int_distribution<int> any(0, 255), coin(0, 3);
  for (int n = 0; n < 200'000; ++n) {
    std::string s(length(rng), '\0');
    for (auto& c : s) c = static_cast<char>(coin(rng) ? interesting[pick(rng)] : any(rng));
    ASSERT_EQ(writer_text(s), nlohmann_text(s, -1)) << "case " << n;
  }
}

TEST(JsonString, ValidUtf8IsKeptAsItIs) {
  std::string s = "gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x93\xA7 \xED\x9F\xBF \xEE\x80\x80 \xF4\x8F\xBF\xBF";
  EXPECT_EQ(writer_text(s), "\"" + s + "\"");
  EXPECT_EQ(writer_text("tab\there \"q\" back\\slash \x01"), R"("tab\there \"q\" back\\slash \u0001")");
}

// One document, written by hand and built as an nlohmann tree.
void write_sample(json_writer& w) {
  w.begin_object();
  w.member("s", "text").member("n", -42).member("u", std::numeric_limits<std::size_t>::max());
  w.member("t", true).member("f", false).key("z").null();
  w.key("empty_object").begin_object().end_object();
  w.key("empty_array").begin_array().end_array();
  w.key("list").begin_array().value(1).value("two").begin_object().member("three", 3).end_object();
  w.begin_array().end_array().begin_array().value(false).end_array().end_array();
  w.key("strings").strings({"a", "b"});
  w.key("maybe").value_or_null("").key("surely").value_or_null("x");
  w.member_if("unknown", false, 7).member_if("known", true, 7);
  w.end_object();
}

ojson sample_tree() {
  ojson j;
  j["s"] = "text";
  j["n"] = -42;
  j["u"] = std::numeric_limits<std::size_t>::max();
  j["t"] = true;
  j["f"] = false;
  j["z"] = nullptr;
  j["empty_object"] = ojson::object();
  j["empty_array"] = ojson::array();
  j["list"] = ojson::array({1, "two", ojson{{"three", 3}}, ojson::array(), ojson::array({false})});
  j["strings"] = {"a", "b"};
  j["maybe"] = nullptr;
  j["surely"] = "x";
  j["unknown"] = nullptr;
  j["known"] = 7;
  return j;
}

TEST(JsonWriter, CompactAndIndentedAsNlohmannDumpsThem) {
  for (int indent : {0, 2, 4}) {
    std::string out;
    json_writer w(out, indent);
    write_sample(w);
    EXPECT_EQ(out, nlohmann_text(sample_tree(), indent == 0 ? -1 : indent)) << "indent " << indent;
  }
}

probe_report sample_probe() {
  probe_report r;
  probe_facts& f = r.facts;
  f.target = f.host = "example.com";
  f.lookups = {{.name = "example.com", .type = rr_type::mx, .records = 1}, {.name = "mx.example.com", .type = rr_type::a, .records = 1}};
  f.mx = {{.preference = 10, .host = "mx.example.com"}};
  f.mx_hosts = {{.name = "mx.example.com", .preference = 10, .addresses = {{.host = "mx.example.com", .address = "192.0.2.1"}}}};
  address_result h;
  h.mx_host = 0;
  h.name = "mx.example.com";
  h.address = "192.0.2.1";
  h.port = 25;
  starttls_facts s;
  s.events = {{.kind = event_kind::line_received, .ms = 3, .octets = 40, .text = "220 mx.example.com ESMTP \xFF garbage"},
              {.kind = event_kind::line_sent, .ms = 4, .octets = 20, .text = "EHLO mxtls.invalid"}};
  s.banner = "220 mx.example.com ESMTP\r\n";
  s.ehlo = "250-STARTTLS\r\n250-mx.example.com\r\n250 SIZE 1000\r\n";
  s.starttls_offered = s.starttls_sent = true;
  s.dialogue = {.starttls = starttls_answer::accepted, .starttls_code = 220, .handshake = handshake_state::established};
  s.tls = {.established = true, .protocol = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .group = "X25519",
           .chain = {{.subject = "CN = mx.example.com", .issuer = "CN = mx.example.com", .sha256 = "AB:CD",
                      .not_before = "Jan  1 00:00:00 2026 GMT", .not_after = "Jan  1 00:00:00 2027 GMT",
                      .key_type = "id-ecPublicKey", .key_bits = 256, .dns_names = {"mx.example.com"}}},
           .verify_code = 18, .verify_error = "self-signed certificate", .name_checked = true};
  h.checks.emplace_back(s);
  h.checks.emplace_back(envelope_facts{.rcpt = "a@example.com", .mail_code = 250, .rcpt_reply = "550 no such user"});
  f.hosts.push_back(h);
  address_result refused;
  refused.address = "2001:db8::1";
  refused.port = 2525;
  starttls_facts none;
  none.error = {session_phase::connect, session_error_code::connect_refused, "Connection refused"};
  refused.checks.emplace_back(none);
  f.hosts.push_back(refused);
  r.diagnosis = diagnose(f);
  return r;
}

TEST(ProbeJson, IndentedTextIsWhatNlohmannPrintsForTheSameDocument) {
  std::string text = render_probe_json(sample_probe());
  auto j = ojson::parse(text);  // octets that were not UTF-8 are U+FFFD by now
  EXPECT_EQ(nlohmann_text(j, 2), text);
  const auto& st = j["hosts"][0]["checks"]["starttls"];
  EXPECT_EQ(st["transcript"][0]["text"], "220 mx.example.com ESMTP \xEF\xBF\xBD garbage");
  EXPECT_EQ(j["hosts"][0]["lint"]["findings"][0]["id"], "keyword-as-greeting");
  EXPECT_EQ(st["tls"]["hostname_match"], false);
  EXPECT_TRUE(st["reply_code"] == 220);
  EXPECT_TRUE(j["hosts"][0]["checks"]["envelope"]["rcpt_code"].is_null());
  EXPECT_TRUE(j["hosts"][1]["name"].is_null());
  EXPECT_TRUE(j["hosts"][1]["checks"]["starttls"]["tls"]["protocol"].is_null());
  EXPECT_EQ(j["hosts"][1]["checks"]["starttls"]["error"]["phase"], "connect");
  EXPECT_EQ(j["verdict_host"], 0);
  EXPECT_EQ(j["outcome"], "senders-lose-tls");
  EXPECT_EQ(j["senders"]["plaintext"][0], "cisco-esa");
}

TEST(ProbeJson, ScanHeadComesRightAfterTheVersion) {
  std::string out;
  json_writer w(out);
  write_probe_json(w, sample_probe(), {7, "example.com # partner"});
  auto j = ojson::parse(out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  ASSERT_GE(keys.size(), 5u);
  EXPECT_EQ((std::vector<std::string>(keys.begin(), keys.begin() + 5)),
            (std::vector<std::string>{"schema", "version", "line", "input", "target"}));
  EXPECT_EQ(j["line"], 7);
  EXPECT_EQ(nlohmann_text(j, -1), out) << "compact, one line";
}

}  // namespace
}  // namespace mxtls
