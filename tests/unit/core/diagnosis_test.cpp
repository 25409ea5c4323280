// core/diagnosis from facts built by hand: one case per reason id (a test fails when a reason
// has none, so a new reason cannot land untested), the outcome and exit code of each, and the
// one rule for the sender groups.
#include "mxtls/diagnosis.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <fmt/format.h>
#include <functional>
#include <set>

namespace mxtls {
namespace {

const char* const compliant_ehlo = "250-mx.example.com\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE 10000000\r\n";
const char* const seed_ehlo =
    "250-STARTTLS\r\n250-mail.domain1.com\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-HELP\r\n250-DELIVERBY 300\r\n250 SIZE 30000000\r\n";

// A session that went the whole way: 220, the given EHLO reply, STARTTLS 220, a handshake
// with a certificate that verifies and matches.
starttls_facts good_session(const std::string& ehlo = compliant_ehlo) {
  starttls_facts s;
  s.banner = "220 mx.example.com ESMTP\r\n";
  s.ehlo = ehlo;
  s.starttls_offered = ehlo.find("STARTTLS") != std::string::npos || ehlo.find("starttls") != std::string::npos;
  s.starttls_sent = s.starttls_offered;
  if (s.starttls_sent) {
    s.dialogue = {.starttls = starttls_answer::accepted, .starttls_code = 220, .handshake = handshake_state::established,
                  .ehlo_after_tls = true};
    s.tls.established = true;
    s.tls.protocol = "TLSv1.3";
    s.tls.cipher = "TLS_AES_256_GCM_SHA384";
    s.tls.chain_verified = true;
    s.tls.name_checked = true;
    s.tls.hostname_match = true;
    s.tls.chain.push_back({.subject = "/CN=mx.example.com", .not_before = "then", .not_after = "later"});
    s.ehlo_after_tls = "250-mx.example.com\r\n250 SIZE 10000000\r\n";
  }
  return s;
}

probe_facts one_host(starttls_facts s, tls_policy policy = tls_policy::preferred) {
  probe_facts f;
  f.target = "[192.0.2.25]:25";
  f.host = "192.0.2.25";
  f.literal = true;
  f.policy = policy;
  address_result a;
  a.address = "192.0.2.25";
  a.name = "mx.example.com";
  a.checks.emplace_back(std::move(s));
  f.hosts.push_back(std::move(a));
  return f;
}

probe_facts domain(std::vector<dns_lookup> lookups, std::vector<mx_record> mx = {}) {
  probe_facts f;
  f.target = f.host = "example.com";
  f.lookups = std::move(lookups);
  f.mx = std::move(mx);
  return f;
}

struct reason_case {
  const char* name;
  reason_id expect;
  std::function<probe_facts()> facts;
  probe_outcome outcome;
  int exit_code;
};

std::vector<reason_case> cases() {
  using o = probe_outcome;
  std::vector<reason_case> v;
  auto with = [](auto change, tls_policy p = tls_policy::preferred) {
    return [change, p] {
      starttls_facts s = good_session();
      change(s);
      return one_host(std::move(s), p);
    };
  };
  v.push_back({"mx servfail", reason_id::dns_lookup_failed,
               [] { return domain({{.name = "example.com", .type = rr_type::mx, .status = lookup_status::servfail, .rcode = 2}}); },
               o::dns_fails, 3});
  v.push_back({"nxdomain", reason_id::domain_nxdomain,
               [] { return domain({{.name = "example.com", .type = rr_type::mx, .status = lookup_status::nxdomain, .rcode = 3}}); },
               o::dns_fails, 3});
  v.push_back({"null mx", reason_id::null_mx,
               [] { return domain({{.name = "example.com", .type = rr_type::mx, .records = 1}}, {{.preference = 0, .host = "."}}); },
               o::dns_fails, 3});
  v.push_back({"no address", reason_id::no_address,
               [] {
                 auto f = domain({{.name = "example.com", .type = rr_type::mx, .records = 1},
                                  {.name = "mx.example.com", .type = rr_type::a}},
                                 {{.preference = 10, .host = "mx.example.com"}});
                 f.mx_hosts.push_back({.name = "mx.example.com", .preference = 10});
                 return f;
               },
               o::dns_fails, 3});
  v.push_back({"implicit mx", reason_id::implicit_mx,
               [] {
                 auto f = one_host(good_session());
                 f.literal = false;
                 f.host = "example.com";
                 f.mx_hosts.push_back({.name = "example.com", .implicit = true});
                 f.hosts[0].mx_host = 0;
                 return f;
               },
               o::ok, 0});
  v.push_back({"aaaa timeout", reason_id::address_lookup_failed,
               [] {
                 auto f = one_host(good_session());
                 f.literal = false;
                 f.lookups = {{.name = "example.com", .type = rr_type::mx, .records = 1},
                              {.name = "mx.example.com", .type = rr_type::aaaa, .status = lookup_status::timeout}};
                 return f;
               },
               o::ok, 0});
  v.push_back({"refused", reason_id::connect_failed, [] {
                 starttls_facts s;
                 s.error = {session_phase::connect, session_error_code::connect_refused, "Connection refused"};
                 return one_host(s);
               },
               o::unreachable, 3});
  v.push_back({"421", reason_id::greeting_refused, [] {
                 starttls_facts s;
                 s.banner = "421 4.3.2 busy\r\n";
                 s.error = {session_phase::banner, session_error_code::bad_banner, "421"};
                 return one_host(s);
               },
               o::unreachable, 3});
  v.push_back({"tarpit", reason_id::no_banner, [] {
                 starttls_facts s;
                 s.error = {session_phase::banner, session_error_code::read_timeout, "30000"};
                 return one_host(s);
               },
               o::unreachable, 3});
  v.push_back({"554 banner", reason_id::bad_banner, [] {
                 starttls_facts s;
                 s.banner = "554 no\r\n";
                 s.error = {session_phase::banner, session_error_code::bad_banner, "554"};
                 return one_host(s);
               },
               o::unreachable, 3});
  v.push_back({"ehlo never ends", reason_id::ehlo_incomplete, [] {
                 starttls_facts s;
                 s.banner = "220 mx\r\n";
                 s.ehlo = "250-mx.example.com\r\n";
                 s.error = {session_phase::ehlo, session_error_code::read_timeout, "30000"};
                 return one_host(s);
               },
               o::ehlo_fails, 1});
  v.push_back({"ehlo 502", reason_id::ehlo_refused, [] { return one_host(good_session("502 5.5.1 no\r\n")); }, o::no_starttls, 1});
  v.push_back({"no starttls", reason_id::starttls_not_offered,
               [] { return one_host(good_session("250-mx.example.com\r\n250 SIZE 1\r\n")); }, o::no_starttls, 1});
  v.push_back({"seed", reason_id::starttls_on_greeting, [] { return one_host(good_session(seed_ehlo)); }, o::senders_lose_tls, 1});
  v.push_back({"lower-case keyword", reason_id::ehlo_breaks_rfc5321,
               [] { return one_host(good_session("250-mx.example.com\r\n250-starttls\r\n250 SIZE 1\r\n")); }, o::senders_lose_tls, 1});
  v.push_back({"final line too early", reason_id::starttls_after_final_line,
               [] {
                 auto s = good_session("250-mx.example.com\r\n250 PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n");
                 s.ehlo_after_final = 24;
                 return one_host(s);
               },
               o::senders_lose_tls, 1});
  v.push_back({"--as would not", reason_id::starttls_not_sent, with([](starttls_facts& s) {
                 s.starttls_sent = false;
                 s.dialogue = {};
                 s.tls = {};
               }),
               o::senders_lose_tls, 1});
  v.push_back({"454", reason_id::starttls_refused, with([](starttls_facts& s) {
                 s.dialogue = {.starttls = starttls_answer::refused, .starttls_code = 454};
                 s.tls = {};
               }),
               o::starttls_fails, 1});
  v.push_back({"silent", reason_id::starttls_unanswered, with([](starttls_facts& s) {
                 s.dialogue = {.starttls = starttls_answer::no_answer};
                 s.tls = {};
                 s.error = {session_phase::starttls, session_error_code::read_timeout, "30000"};
               }),
               o::starttls_fails, 1});
  v.push_back({"handshake", reason_id::handshake_failed, with([](starttls_facts& s) {
                 s.dialogue.handshake = handshake_state::failed;
                 s.tls = {};
                 s.error = {session_phase::tls, session_error_code::handshake_failed, "unsupported protocol"};
               }),
               o::starttls_fails, 1});
  v.push_back({"a sender's own hello refused", reason_id::sender_handshake_failed,
               [] {
                 auto f = one_host(good_session());
                 tls_senders_facts t;
                 profile_handshake h;
                 h.profile = "openssl-default";
                 h.replayed = true;
                 h.error = {session_phase::tls, session_error_code::handshake_failed, "legacy sigalg disallowed"};
                 t.handshakes.push_back(h);
                 f.hosts[0].checks.emplace_back(std::move(t));
                 return f;
               },
               o::senders_lose_tls, 1});
  v.push_back({"self-signed", reason_id::certificate_untrusted, with([](starttls_facts& s) {
                 s.tls.chain_verified = false;
                 s.tls.verify_code = 18;
                 s.tls.verify_error = "self-signed certificate";
               }),
               o::certificate, 0});
  v.push_back({"wrong host", reason_id::certificate_name_mismatch, with([](starttls_facts& s) { s.tls.hostname_match = false; }),
               o::certificate, 0});
  v.push_back({"expired", reason_id::certificate_expired, with([](starttls_facts& s) { s.tls.expired = true; }), o::certificate, 0});
  v.push_back({"not yet valid", reason_id::certificate_not_yet_valid, with([](starttls_facts& s) { s.tls.not_yet_valid = true; }),
               o::certificate, 0});
  v.push_back({"address without --name", reason_id::certificate_name_not_checked,
               with([](starttls_facts& s) { s.tls.name_checked = false; }), o::ok, 0});
  v.push_back({"self-signed, required-verify", reason_id::certificate_fails_policy, with([](starttls_facts& s) {
                 s.tls.chain_verified = false;
                 s.tls.verify_error = "self-signed certificate";
               }, tls_policy::required_verify),
               o::certificate, 1});
  v.push_back({"plaintext after 220", reason_id::response_injection, with([](starttls_facts& s) { s.plaintext_after_220 = 14; }),
               o::injection, 1});
  v.push_back({"command injection", reason_id::command_injection,
               [] {
                 auto f = one_host(good_session());
                 f.hosts[0].checks.emplace_back(injection_facts{.status = injection_status::vulnerable, .waited_ms = 3, .answer = "250 2.0.0 Ok"});
                 return f;
               },
               o::injection, 1});
  v.push_back({"injection check cut short", reason_id::injection_check_incomplete,
               [] {
                 auto f = one_host(good_session());
                 f.hosts[0].checks.emplace_back(injection_facts{
                     .status = injection_status::incomplete, .error = {session_phase::tls, session_error_code::closed, "eof"}});
                 return f;
               },
               o::ok, 0});
  v.push_back({"starttls inside tls", reason_id::starttls_after_tls,
               with([](starttls_facts& s) { s.ehlo_after_tls = "250-mx.example.com\r\n250 STARTTLS\r\n"; }), o::ok, 0});
  auto envelope = [](int mail, int rcpt) {
    return [mail, rcpt] {
      auto f = one_host(good_session());
      f.hosts[0].checks.emplace_back(envelope_facts{.rcpt = "a@example.com", .mail_code = mail, .rcpt_code = rcpt,
                                                    .mail_reply = std::to_string(mail), .rcpt_reply = std::to_string(rcpt)});
      return f;
    };
  };
  v.push_back({"greylisted", reason_id::rcpt_temporary, envelope(250, 450), o::ok, 0});
  v.push_back({"no such user", reason_id::rcpt_refused, envelope(250, 550), o::ok, 0});
  v.push_back({"MAIL refused", reason_id::mail_refused, envelope(451, -1), o::ok, 0});
  v.push_back({"interrupted", reason_id::interrupted,
               [] {
                 starttls_facts s = good_session();
                 s.tls = {};
                 s.dialogue = {.starttls = starttls_answer::no_answer};
                 s.error = {session_phase::starttls, session_error_code::interrupted};
                 auto f = one_host(s);
                 f.interrupted = true;
                 return f;
               },
               o::starttls_fails, 1});
  // DNSSEC and DANE: one MX host with its TLSA facts, one address with the handshake's DANE facts.
  auto record = [](std::uint8_t u, std::uint8_t sel, std::uint8_t m, std::size_t len, std::uint8_t fill) {
    return tlsa_facts{.record = {.usage = u, .selector = sel, .mtype = m, .data = std::vector<std::uint8_t>(len, fill)},
                      .usability = usability_of({.usage = u, .selector = sel, .mtype = m, .data = std::vector<std::uint8_t>(len, fill)})};
  };
  auto hex_of = [](std::size_t len, std::uint8_t fill) {
    std::string h;
    for (std::size_t i = 0; i < len; ++i) h += fmt::format("{:02x}", fill);
    return h;
  };
  auto dane_probe = [](dane_facts d, auto change_session, tls_policy p = tls_policy::preferred) {
    return [d, change_session, p] {
      starttls_facts s = good_session();
      change_session(s);
      probe_facts f = one_host(std::move(s), p);
      f.literal = false;
      f.target = f.host = "example.com";
      f.mx = {{.preference = 10, .host = "mx.example.com", .dnssec = dnssec_status::secure}};
      f.mx_hosts.push_back({.name = "mx.example.com", .preference = 10, .dane = d});
      f.hosts[0].mx_host = 0;
      return f;
    };
  };
  auto secure_tlsa = [](std::vector<tlsa_facts> records, dnssec_status addresses = dnssec_status::secure) {
    return dane_facts{.host = "mx.example.com",
                      .address_dnssec = addresses,
                      .looked_up = addresses == dnssec_status::secure,
                      .base_domain = "mx.example.com",
                      .tlsa_name = "_25._tcp.mx.example.com",
                      .lookup = {.name = "_25._tcp.mx.example.com", .type = rr_type::tlsa, .dnssec = dnssec_status::secure,
                                 .records = records.size()},
                      .records = std::move(records)};
  };
  auto verified = [](std::uint8_t usage) {
    return [usage](starttls_facts& s) {
      s.tls.dane = {.enabled = true, .records_added = 1, .verified = true, .matched_depth = usage == 3 ? 0 : 1,
                    .matched = tlsa_record{.usage = usage, .selector = 1, .mtype = 1, .data = std::vector<std::uint8_t>(32, 1)}};
    };
  };
  auto mismatch = [hex_of](starttls_facts& s) {
    s.tls.dane = {.enabled = true, .records_added = 1, .verified = false, .verify_code = 65, .verify_error = "no matching DANE TLSA records",
                  .chain_digests = {{.depth = 0, .selector = 1, .mtype = 1, .hex = hex_of(32, 7)},
                                    {.depth = 0, .selector = 1, .mtype = 2, .hex = hex_of(64, 8)},
                                    {.depth = 1, .selector = 1, .mtype = 1, .hex = hex_of(32, 9)}}};
  };
  auto unchanged = [](starttls_facts&) {};
  v.push_back({"resolver strips DNSSEC", reason_id::dnssec_unavailable,
               [] {
                 auto f = one_host(good_session());
                 f.literal = false;
                 f.dnssec = {.validating = true, .anchor_zones = {"."}, .anchor_status = dnssec_status::bogus, .why_bogus = "no signatures"};
                 return f;
               },
               o::ok, 0});
  v.push_back({"bogus address", reason_id::dnssec_bogus, dane_probe(secure_tlsa({}, dnssec_status::bogus), unchanged), o::ok, 1});
  v.push_back({"DANE-EE verified", reason_id::dane_verified, dane_probe(secure_tlsa({record(3, 1, 1, 32, 1)}), verified(3)), o::ok, 0});
  v.push_back({"stale TLSA", reason_id::dane_mismatch, dane_probe(secure_tlsa({record(3, 1, 1, 32, 1)}), mismatch), o::ok, 1});
  v.push_back({"TLSA without TLS", reason_id::dane_no_tls, dane_probe(secure_tlsa({record(3, 1, 1, 32, 1)}), unchanged), o::ok, 1});
  v.push_back({"TLSA servfail", reason_id::dane_lookup_failed,
               dane_probe(
                   [&] {
                     auto d = secure_tlsa({});
                     d.lookup.status = lookup_status::servfail;
                     d.lookup.rcode = 2;
                     d.lookup.dnssec = dnssec_status::insecure;
                     return d;
                   }(),
                   unchanged),
               o::ok, 1});
  v.push_back({"only PKIX-EE", reason_id::dane_unusable, dane_probe(secure_tlsa({record(1, 1, 1, 32, 1)}), unchanged), o::ok, 0});
  v.push_back({"PKIX-TA beside DANE-EE", reason_id::dane_pkix_usage,
               dane_probe(secure_tlsa({record(0, 1, 1, 32, 1), record(3, 1, 1, 32, 1)}), verified(3)), o::ok, 0});
  v.push_back({"short digest", reason_id::dane_malformed,
               dane_probe(secure_tlsa({record(3, 1, 1, 5, 1), record(3, 1, 1, 32, 1)}), verified(3)), o::ok, 0});
  v.push_back({"TLSA in an unsigned zone", reason_id::dane_tlsa_insecure,
               dane_probe(
                   [&] {
                     auto d = secure_tlsa({record(3, 1, 1, 32, 1)});
                     d.lookup.dnssec = dnssec_status::insecure;
                     return d;
                   }(),
                   unchanged),
               o::ok, 0});
  v.push_back({"one record only", reason_id::dane_no_rollover, dane_probe(secure_tlsa({record(3, 1, 1, 32, 1)}), verified(3)), o::ok, 0});
  v.push_back({"3 0 1", reason_id::dane_full_certificate, dane_probe(secure_tlsa({record(3, 0, 1, 32, 1)}), verified(3)), o::ok, 0});
  v.push_back({"DANE-TA not sent", reason_id::dane_ta_not_in_chain, dane_probe(secure_tlsa({record(2, 1, 1, 32, 1)}), mismatch), o::ok, 1});
  v.push_back({"wrong 3 1 2 hides a right 3 1 1", reason_id::dane_digest_trap,
               dane_probe(secure_tlsa({record(3, 1, 1, 32, 7), record(3, 1, 2, 64, 1)}), mismatch), o::ok, 1});
  v.push_back({"DANE-EE on a self-signed certificate", reason_id::dane_ee_pkix_fails,
               dane_probe(secure_tlsa({record(3, 1, 1, 32, 1), record(3, 1, 1, 32, 2)}),
                          [verified](starttls_facts& s) {
                            verified(3)(s);
                            s.tls.chain_verified = false;
                            s.tls.verify_error = "self-signed certificate";
                          }),
               o::certificate, 0});
  v.push_back({"an RSA certificate without TLSA beside a matched ECDSA one", reason_id::dane_key_not_covered,
               [=] {
                 auto f = dane_probe(secure_tlsa({record(3, 1, 1, 32, 1), record(3, 1, 1, 32, 2)}), verified(3))();
                 tls_enum_facts e;
                 e.certificates.push_back({.leaf = {.key_type = "id-ecPublicKey", .key_bits = 256}, .spki_sha256 = hex_of(32, 1)});
                 e.certificates.push_back({.leaf = {.key_type = "rsaEncryption", .key_bits = 2048}, .spki_sha256 = hex_of(32, 5)});
                 f.hosts[0].checks.emplace_back(std::move(e));
                 return f;
               },
               o::ok, 0});
  v.push_back({"one MX host without TLSA", reason_id::dane_partial,
               [=] {
                 auto f = dane_probe(secure_tlsa({record(3, 1, 1, 32, 1), record(3, 1, 1, 32, 2)}), verified(3))();
                 f.mx_hosts.push_back({.name = "mx2.example.com", .preference = 20, .dane = secure_tlsa({})});
                 return f;
               },
               o::ok, 0});
  v.push_back({"dane-mandatory without TLSA", reason_id::dane_fails_policy,
               dane_probe(secure_tlsa({}), unchanged, tls_policy::dane_mandatory), o::ok, 1});
  // Check "mta-sts": example.com with one MX host, mx.example.com, and its policy's facts.
  auto sts = [](std::vector<std::string> txt, std::string body, std::vector<std::string> rpt,
                std::function<void(starttls_facts&)> session = {}, fetch_error error = fetch_error::none) {
    return [=] {
      probe_facts f;
      f.target = f.host = "example.com";
      f.mx = {{.preference = 10, .host = "mx.example.com", .dnssec = dnssec_status::indeterminate}};
      f.mx_hosts = {{.name = "mx.example.com", .preference = 10}};
      address_result a;
      a.mx_host = 0;
      a.address = "192.0.2.25";
      a.name = "mx.example.com";
      starttls_facts st = good_session();
      if (session) session(st);
      a.checks.emplace_back(std::move(st));
      f.hosts.push_back(std::move(a));
      mta_sts_facts m;
      m.domain = "example.com";
      m.txt = txt;
      m.tls_rpt = rpt;
      m.fetched = parse_sts_txt(txt).status == txt_status::valid;
      m.fetch.url = "https://mta-sts.example.com/.well-known/mta-sts.txt";
      m.fetch.error = error;
      m.fetch.http_status = error == fetch_error::none ? 200 : 404;
      m.fetch.content_type = "text/plain";
      m.fetch.body = body;
      f.mta_sts = std::move(m);
      return f;
    };
  };
  const std::vector<std::string> sts_txt = {"v=STSv1; id=20240101"}, rpt = {"v=TLSRPTv1; rua=mailto:tlsrpt@example.com"};
  const std::string enforce = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n";
  v.push_back({"_mta-sts with a bad id", reason_id::mta_sts_txt_invalid, sts({"v=STSv1; id=no-dashes!"}, "", rpt), o::ok, 0});
  v.push_back({"policy 404", reason_id::mta_sts_fetch_failed, sts(sts_txt, "", rpt, {}, fetch_error::http_status), o::ok, 0});
  v.push_back({"policy mode bogus", reason_id::mta_sts_policy_invalid,
               sts(sts_txt, "version: STSv1\nmode: bogus\nmx: mx.example.com\nmax_age: 604800\n", rpt), o::ok, 0});
  v.push_back({"policy in testing", reason_id::mta_sts_testing,
               sts(sts_txt, "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 604800\n", rpt), o::ok, 0});
  v.push_back({"MX not in an enforce policy", reason_id::mta_sts_mx_not_listed,
               sts(sts_txt, "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 604800\n", rpt), o::ok, 1});
  v.push_back({"enforce and an untrusted certificate", reason_id::mta_sts_certificate_fails,
               sts(sts_txt, enforce, rpt,
                   [](starttls_facts& s) {
                     s.tls.chain_verified = false;
                     s.tls.verify_error = "self-signed certificate";
                   }),
               o::certificate, 1});
  v.push_back({"_smtp._tls without rua", reason_id::tls_rpt_invalid, sts(sts_txt, enforce, {"v=TLSRPTv1;"}), o::ok, 0});
  v.push_back({"MTA-STS without TLS-RPT", reason_id::tls_rpt_missing, sts(sts_txt, enforce, {}), o::ok, 0});
  // Check tls-enum: what the server accepts; the outcome stays what the session showed.
  auto enumerated = [](std::function<void(tls_enum_facts&)> change) {
    return [change] {
      auto f = one_host(good_session());
      tls_enum_facts e;
      tls_enum_version v13, v12;
      v13.version = "TLSv1.3";
      v13.accepted = true;
      v13.suites.push_back({.name = "TLS_AES_256_GCM_SHA384", .kx = "any", .auth = "any", .enc = "AES-256-GCM", .bits = 256});
      v12.version = "TLSv1.2";
      e.versions = {v13, v12};
      e.certificates.push_back({.leaf = {.key_type = "id-ecPublicKey", .key_bits = 256}, .signature_algorithm = "ecdsa-with-SHA256"});
      change(e);
      f.hosts[0].checks.emplace_back(std::move(e));
      return f;
    };
  };
  auto suite12 = [](tls_enum_facts& e, tls_enum_suite s) {
    e.versions[1].accepted = true;
    e.versions[1].suites.push_back(std::move(s));
  };
  v.push_back({"TLS 1.0 accepted", reason_id::tls_legacy_version, enumerated([](tls_enum_facts& e) {
                 tls_enum_version v10;
                 v10.version = "TLSv1";
                 v10.accepted = true;
                 e.versions.push_back(v10);
               }),
               o::ok, 0});
  v.push_back({"RC4 accepted", reason_id::tls_rc4, enumerated([suite12](tls_enum_facts& e) {
                 suite12(e, {.name = "ECDHE-RSA-RC4-SHA", .kx = "ECDHE", .auth = "RSA", .enc = "RC4", .bits = 128});
               }),
               o::ok, 0});
  v.push_back({"3DES accepted", reason_id::tls_3des, enumerated([suite12](tls_enum_facts& e) {
                 suite12(e, {.name = "ECDHE-RSA-DES-CBC3-SHA", .kx = "ECDHE", .auth = "RSA", .enc = "DES-EDE3-CBC", .bits = 112});
               }),
               o::ok, 0});
  v.push_back({"single DES accepted", reason_id::tls_export, enumerated([suite12](tls_enum_facts& e) {
                 suite12(e, {.name = "EDH-RSA-DES-CBC-SHA", .kx = "DHE", .auth = "RSA", .enc = "DES-CBC", .bits = 56});
               }),
               o::ok, 0});
  v.push_back({"NULL encryption accepted", reason_id::tls_null_cipher, enumerated([suite12](tls_enum_facts& e) {
                 suite12(e, {.name = "ECDHE-ECDSA-NULL-SHA", .kx = "ECDHE", .auth = "ECDSA", .enc = "NULL", .bits = 0});
               }),
               o::ok, 0});
  v.push_back({"anonymous suite accepted", reason_id::tls_anonymous, enumerated([suite12](tls_enum_facts& e) {
                 suite12(e, {.name = "AECDH-AES128-SHA", .kx = "ECDHE", .auth = "NULL", .enc = "AES-128-CBC", .bits = 128});
               }),
               o::ok, 0});
  v.push_back({"1024-bit DH", reason_id::tls_weak_dh, enumerated([](tls_enum_facts& e) { e.dh_bits = 1024; }), o::ok, 0});
  v.push_back({"RSA 1024 certificate", reason_id::tls_weak_rsa_key, enumerated([](tls_enum_facts& e) {
                 e.certificates[0].leaf.key_type = "rsaEncryption";
                 e.certificates[0].leaf.key_bits = 1024;
               }),
               o::ok, 0});
  v.push_back({"SHA-1 signed certificate", reason_id::tls_sha1_signature, enumerated([](tls_enum_facts& e) {
                 e.certificates[0].signature_algorithm = "sha1WithRSAEncryption";
               }),
               o::ok, 0});
  v.push_back({"RSA key transport accepted", reason_id::tls_no_forward_secrecy, enumerated([suite12](tls_enum_facts& e) {
                 suite12(e, {.name = "AES128-GCM-SHA256", .kx = "RSA", .auth = "RSA", .enc = "AES-128-GCM", .bits = 128});
               }),
               o::ok, 0});
  v.push_back({"enumeration cut short", reason_id::tls_enum_incomplete, enumerated([](tls_enum_facts& e) {
                 e.complete = false;
                 e.handshakes = 300;
               }),
               o::ok, 0});
  return v;
}

bool has(const std::vector<reason>& v, reason_id id) {
  return std::any_of(v.begin(), v.end(), [id](const reason& r) { return r.id == id; });
}

TEST(Diagnosis, ReasonTableIsInEnumOrderAndIdsRoundTrip) {
  EXPECT_TRUE(reason_table_in_order());
  std::set<std::string> seen;
  for (std::size_t i = 0; i < reason_count; ++i) {
    auto id = static_cast<reason_id>(i);
    EXPECT_TRUE(seen.insert(to_string(id)).second) << "duplicate id " << to_string(id);
    EXPECT_EQ(parse_reason_id(to_string(id)), id);
  }
}

TEST(Diagnosis, EachReasonHasACaseThatProducesIt) {
  std::set<reason_id> covered;
  for (const auto& c : cases()) {
    probe_facts f = c.facts();
    diagnosis d = diagnose(f);
    EXPECT_TRUE(has(d.reasons, c.expect)) << c.name << ": no " << to_string(c.expect);
    EXPECT_EQ(d.outcome, c.outcome) << c.name << ": " << to_string(d.outcome);
    EXPECT_EQ(d.exit_code, c.exit_code) << c.name;
    covered.insert(c.expect);
  }
  for (std::size_t i = 0; i < reason_count; ++i)
    EXPECT_TRUE(covered.count(static_cast<reason_id>(i))) << "reason " << to_string(static_cast<reason_id>(i)) << " has no case";
}

TEST(Diagnosis, ReasonsAreNotGivenWithoutTheirFacts) {
  diagnosis d = diagnose(one_host(good_session()));
  EXPECT_EQ(d.outcome, probe_outcome::ok);
  EXPECT_TRUE(d.reasons.empty()) << to_string(d.reasons.front().id);
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_FALSE(d.groups.any_lose());
}

std::vector<std::string_view> ids(std::initializer_list<std::string_view> l) { return l; }

TEST(Diagnosis, SeedGroupsAreTheClientModelsAndNothingElse) {
  diagnosis d = diagnose(one_host(good_session(seed_ehlo)));
  // The senders that read the first line as the greeting go plaintext; the others get TLS.
  for (auto id : ids({"cisco-esa", "postfix", "exim", "sendmail", "python-smtplib", "go-net-smtp"}))
    EXPECT_NE(std::find(d.groups.plaintext.begin(), d.groups.plaintext.end(), id), d.groups.plaintext.end()) << id;
  for (auto id : ids({"posttls-finger", "swaks", "openssl-s-client"}))
    EXPECT_NE(std::find(d.groups.tls.begin(), d.groups.tls.end(), id), d.groups.tls.end()) << id;
  // TLS off by default is its own group, not a loss.
  for (auto id : d.groups.tls_off) EXPECT_EQ(std::find(d.groups.plaintext.begin(), d.groups.plaintext.end(), id), d.groups.plaintext.end());
  // The host's groups are the verdict's.
  EXPECT_EQ(d.groups.plaintext, d.hosts[0].groups.plaintext);
}

TEST(Diagnosis, RefusedStarttlsTurnsEverySenderThatTriesIntoPlaintextOrFail) {
  starttls_facts s = good_session();
  s.dialogue = {.starttls = starttls_answer::refused, .starttls_code = 454};
  s.tls = {};
  diagnosis d = diagnose(one_host(s));
  EXPECT_TRUE(d.groups.tls.empty());
  for (const auto& p : d.hosts[0].senders) {
    if (p.ehlo_reason != prediction_reason::sees_starttls) continue;
    EXPECT_EQ(p.dialogue_reason, reason_id::starttls_refused) << p.id;
    EXPECT_TRUE(p.tls_by_default) << p.id << ": a sender whose TLS is off does not meet the refusal by default";
    EXPECT_NE(p.outcome, tls_outcome::tls) << p.id;
    EXPECT_EQ(p.outcome_required, tls_outcome::fail) << p.id;
  }
}

TEST(Diagnosis, HandshakeFailureIsDecidedAtTheTlsLayer) {
  starttls_facts s = good_session();
  s.dialogue.handshake = handshake_state::failed;
  s.tls = {};
  diagnosis d = diagnose(one_host(s));
  auto postfix = std::find_if(d.hosts[0].senders.begin(), d.hosts[0].senders.end(), [](const auto& p) { return p.id == "postfix"; });
  ASSERT_NE(postfix, d.hosts[0].senders.end());
  EXPECT_EQ(postfix->outcome, tls_outcome::fail);
  EXPECT_EQ(postfix->layer, decided_at::tls);
  // TLS off by default: plaintext whatever the handshake does, and not a loss.
  for (auto id : d.groups.tls_off) EXPECT_EQ(std::find(d.groups.fail.begin(), d.groups.fail.end(), id), d.groups.fail.end());
  EXPECT_FALSE(d.groups.tls_off.empty());
  // Exim (tls_tempfail_tryclear) and OpenSMTPD (smtp://: "downgrading to plain") retry in
  // clear after a failed handshake.
  EXPECT_EQ(d.groups.plaintext, (std::vector<std::string_view>{"exim", "opensmtpd"}));
}

TEST(Diagnosis, EsaDecisionPerSetting) {
  auto esa = [](const std::string& ehlo, tls_policy p, bool verified = true) {
    starttls_facts s = good_session(ehlo);
    s.tls.chain_verified = verified;
    return diagnose(one_host(s, p)).hosts[0].esa.result;
  };
  EXPECT_EQ(esa(seed_ehlo, tls_policy::preferred), esa_result::plaintext);
  EXPECT_EQ(esa(seed_ehlo, tls_policy::required), esa_result::deferred);
  EXPECT_EQ(esa(compliant_ehlo, tls_policy::preferred), esa_result::tls);
  EXPECT_EQ(esa(compliant_ehlo, tls_policy::none), esa_result::plaintext);
  EXPECT_EQ(esa(compliant_ehlo, tls_policy::preferred_verify), esa_result::tls_verified);
  EXPECT_EQ(esa(compliant_ehlo, tls_policy::required_verify, false), esa_result::verify_failed);
}

TEST(Diagnosis, VerdictHostIsTheFirstThatAnswered) {
  probe_facts f = one_host(good_session(seed_ehlo));
  address_result dead;
  dead.address = "192.0.2.26";
  starttls_facts s;
  s.error = {session_phase::connect, session_error_code::connect_timeout, "10000"};
  dead.checks.emplace_back(s);
  f.hosts.insert(f.hosts.begin(), dead);
  diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict_host, 1u);
  EXPECT_EQ(d.outcome, probe_outcome::senders_lose_tls);
  EXPECT_EQ(d.hosts[0].outcome, probe_outcome::unreachable);
}

TEST(Diagnosis, LintUsesTheSameSenderRule) {
  lint_options lo;
  lo.raw = true;
  lint_result r = lint(seed_ehlo, lo);
  lint_diagnosis l = diagnose_lint(r, {});
  diagnosis d = diagnose(one_host(good_session(seed_ehlo)));
  EXPECT_EQ(l.groups.plaintext, d.groups.plaintext);
  EXPECT_EQ(l.groups.fail, d.groups.fail);
}

TEST(Checks, SelectionFollowsTheRegistry) {
  check_set def = check_set::defaults();
  EXPECT_TRUE(def.has(check_id::starttls));
  EXPECT_TRUE(def.has(check_id::injection));
  EXPECT_FALSE(def.has(check_id::envelope));
  std::vector<std::string> none, inj{"injection"}, env{"envelope"}, st{"starttls"}, bogus{"nope"};
  EXPECT_FALSE(select_checks(none, inj).has(check_id::injection));
  EXPECT_TRUE(select_checks(env, none).has(check_id::envelope));
  EXPECT_THROW(select_checks(none, st), std::invalid_argument);  // injection needs starttls
  EXPECT_THROW(select_checks(bogus, none), std::invalid_argument);
  for (const auto& c : all_checks()) {
    EXPECT_EQ(find_check(c.name), c.id);
    EXPECT_EQ(&info(c.id), &c);
  }
}

}  // namespace
}  // namespace mxtls
