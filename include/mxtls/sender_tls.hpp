// The TLS layer of each sender, as rule data: what its TLS library offers (a profile the
// probe replays as a ClientHello of its own) and what the sender does when the handshake
// fails, in its opportunistic and its required setting. Each row cites its source.
// Pure data (src/core/sender_tls.cpp); the engine turns a profile into a TLS context, the
// diagnosis combines the replayed handshakes with the EHLO layer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace mxtls {

// What a sender does after a failed TLS handshake (the STARTTLS was answered with 220).
enum class tls_failure_action : std::uint8_t {
  plaintext_retry,  // reconnects and delivers without TLS (Exim's default tls_tempfail_tryclear)
  give_up,          // this attempt delivers nothing (an MTA defers and retries later, a library reports an error)
  undocumented,     // the vendor does not document it (a service: Microsoft 365, Gmail): outcome "unknown"
};
const char* to_string(tls_failure_action a);

// A ClientHello as an OpenSSL 3.0 context makes it, or as GnuTLS makes it with a priority
// string. Senders on OpenSSL are their own settings, senders on GnuTLS (Exim, msmtp) their
// own library's handshake; Go's crypto/tls is the nearest OpenSSL settings. The differential
// suite (tests/integration/tls_senders_test.cpp) checks each against the real client on
// every restricted scenario.
struct tls_profile {
  std::string_view id;
  std::string_view library;        // the TLS stack and version it stands for
  std::string_view min_version;    // "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"; "" OpenSSL's lowest
  std::string_view max_version;    // "" the highest
  int security_level = 2;          // OpenSSL's security level (Debian 12 builds OpenSSL with 2 as default)
  std::string_view ciphers;        // OpenSSL cipher string for TLS 1.2 and below; "" OpenSSL's DEFAULT
  std::string_view ciphersuites;   // TLS 1.3 suites; "" OpenSSL's default three
  std::string_view groups;         // key exchange groups; "" OpenSSL's default list
  // Not "": the sender's TLS library is GnuTLS and the replay is GnuTLS's own handshake with
  // this priority string (gnutls_replay.hpp); the OpenSSL fields above are then unused.
  std::string_view gnutls_priority;
  // false: the vendor documents the versions it offers but not its suites; the replay offers
  // every suite OpenSSL has, so the cipher it gets is not a prediction and is not reported.
  bool suites_documented = true;
  std::string_view source;         // where the settings come from
};

// One sender's TLS layer. profile "" : not modelled (the handshake the probe saw stands for it).
struct sender_tls_rule {
  std::string_view sender;   // client model id (client_model.cpp)
  std::string_view profile;  // tls_profile id, or ""
  tls_failure_action on_failure = tls_failure_action::give_up;           // default or opportunistic setting
  tls_failure_action on_failure_required = tls_failure_action::give_up;  // TLS required
  // With TLS required it also checks the server's certificate (chain, the MX host's name,
  // dates) and gives up on one that fails: the probe's own PKIX check stands for it.
  bool verifies_when_required = false;
  // In every setting it checks the chain (trust and dates, not the name) and gives up on one
  // that fails: Jakarta Mail with the JDK's default trust manager.
  bool verifies_chain = false;
  // It refuses a certificate signed with SHA-1 (a self-signed root's own signature aside):
  // after that, what it does is on_failure / on_failure_required (Microsoft 365).
  bool refuses_sha1_certificates = false;
  std::string_view source;   // for the profile choice and the failure actions
};

// A sending service with no client model: nothing it runs can be run here, and its vendor
// does not document how it reads an EHLO reply. Its EHLO-layer outcome is that of the
// modelled clients where every one of them reads the reply the same way, else "unknown"
// (prediction_reason::ehlo_not_modelled); its TLS layer is its sender_tls_rule, from the
// vendor's documents.
struct sending_service {
  std::string_view id, name, short_name;
  std::string_view source;  // what the vendor documents of its outbound SMTP, and where
};
std::span<const sending_service> sending_services();
const sending_service* find_sending_service(std::string_view id);

std::span<const tls_profile> tls_profiles();
const tls_profile* find_tls_profile(std::string_view id);
std::span<const sender_tls_rule> sender_tls_rules();
const sender_tls_rule* find_sender_tls_rule(std::string_view sender);

}  // namespace mxtls
