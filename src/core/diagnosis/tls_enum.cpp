// Check "tls-enum": what the server accepts that the TLS RFCs deprecate or forbid. Each rule
// names its source; docs/probe-json.md lists the reason ids. A sender that offers only good
// suites still gets one, so none of these changes the outcome: they say what to fix.
#include <string>
#include <vector>

#include "mxtls/diagnosis.hpp"

namespace mxtls {

namespace {

void add(std::vector<reason>& v, reason_id id, std::string detail) { v.push_back({id, -1, std::move(detail)}); }

void append(std::string& list, const std::string& name) {
  if (list.find(name) != std::string::npos) return;
  list += (list.empty() ? "" : ", ") + name;
}

bool forward_secret(const tls_enum_suite& s) {
  // Ephemeral key exchange; TLS 1.3 suites ("any") always have it (RFC 8446 §2).
  return s.kx == "ECDHE" || s.kx == "DHE" || s.kx == "ECDHE-PSK" || s.kx == "DHE-PSK" || s.kx == "any";
}

}  // namespace

void tls_enum_reasons(const tls_enum_facts& f, std::vector<reason>& out) {
  // RFC 8996: TLS 1.0 and TLS 1.1 MUST NOT be used.
  std::string legacy;
  for (const auto& v : f.versions)
    if (v.accepted && (v.version == "TLSv1" || v.version == "TLSv1.1")) append(legacy, v.version);
  if (!legacy.empty()) add(out, reason_id::tls_legacy_version, legacy);

  std::string rc4, des3, weak, null, anon, no_fs;
  for (const auto& v : f.versions)
    for (const auto& s : v.suites) {
      // RFC 7465 §2: RC4 cipher suites MUST NOT be negotiated.
      if (s.enc.rfind("RC4", 0) == 0) append(rc4, s.name);
      // RFC 7525 §4.1: NULL encryption MUST NOT be negotiated; suites below 112 bits (export
      // grade, single DES) MUST NOT; below 128 bits (3DES: 112, Sweet32, CVE-2016-2183) SHOULD NOT.
      if (s.enc == "NULL") append(null, s.name);
      else if (s.bits < 112 && s.enc.rfind("RC4", 0) != 0) append(weak, s.name);
      if (s.enc == "DES-EDE3-CBC") append(des3, s.name);
      // RFC 5246 §F.1.1.1: anonymous key exchange gives no protection against an active attacker.
      if (s.auth == "NULL") append(anon, s.name);
      // RFC 7525 §6.3: forward secrecy, which static RSA key transport lacks.
      if (!forward_secret(s)) append(no_fs, s.name);
    }
  if (!rc4.empty()) add(out, reason_id::tls_rc4, rc4);
  if (!des3.empty()) add(out, reason_id::tls_3des, des3);
  if (!weak.empty()) add(out, reason_id::tls_export, weak);
  if (!null.empty()) add(out, reason_id::tls_null_cipher, null);
  if (!anon.empty()) add(out, reason_id::tls_anonymous, anon);

  // RFC 7525 §4.3: DH groups and RSA keys of at least 2048 bits.
  if (f.dh_bits > 0 && f.dh_bits < 2048) add(out, reason_id::tls_weak_dh, std::to_string(f.dh_bits));
  std::string small_rsa, sha1;
  for (const auto& c : f.certificates) {
    if (c.leaf.key_type == "rsaEncryption" && c.leaf.key_bits > 0 && c.leaf.key_bits < 2048)
      append(small_rsa, std::to_string(c.leaf.key_bits));
    // The certificate's own signature: SHA-1 collisions are practical (SHAttered, 2017).
    if (sha1_signature(c.signature_algorithm)) append(sha1, c.signature_algorithm);
  }
  if (!small_rsa.empty()) add(out, reason_id::tls_weak_rsa_key, small_rsa);
  // RFC 9155: SHA-1 MUST NOT be used in TLS 1.2 handshake signatures; the server chose it
  // from an offer of every algorithm.
  if (const tls_enum_version* v12 = f.find("TLSv1.2"); v12 && v12->accepted && v12->signature_digest == "SHA1")
    append(sha1, "handshake");
  if (!sha1.empty()) add(out, reason_id::tls_sha1_signature, sha1);
  if (!no_fs.empty()) add(out, reason_id::tls_no_forward_secrecy, no_fs);
  if (!f.complete) add(out, reason_id::tls_enum_incomplete, std::to_string(f.handshakes));
}

}  // namespace mxtls
