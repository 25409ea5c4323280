// The "fix first" words of each reason (include/mxtls/reason_advice.hpp). A switch without
// default: a reason added to reason_id and not worded here is a compiler warning.
#include "mxtls/reason_advice.hpp"

namespace mxtls {

reason_advice advice_for(reason_id r) {
  switch (r) {
    case reason_id::dns_lookup_failed:
      return {"The MX lookup fails", "Check the domain's name servers answer MX queries (SERVFAIL and timeouts defer all mail)."};
    case reason_id::domain_nxdomain: return {"The domain does not exist", "Remove the domain from the list, or register and delegate it."};
    case reason_id::null_mx: return {"The domain has a null MX (accepts no mail)", "Nothing to fix if the domain is not meant to receive mail; else publish real MX records."};
    case reason_id::no_address: return {"No MX host has an address", "Publish A or AAAA records for the MX hosts, or point the MX at hosts that have them."};
    case reason_id::implicit_mx: return {"No MX records (implicit MX)", "Publish MX records naming the mail hosts."};
    case reason_id::address_lookup_failed: return {"An MX host's address lookup fails", "Check the name servers of the MX host's zone answer A and AAAA queries."};
    case reason_id::connect_failed: return {"No TCP connection to port 25", "Check the server listens on port 25 and that firewalls let the senders reach it."};
    case reason_id::greeting_refused: return {"The server refuses the connection with 421", "Not a TLS problem: check the server's connection limits and blocklists."};
    case reason_id::no_banner: return {"No greeting within the timeout", "Check the server is not overloaded or tarpitting (greet delay) every client."};
    case reason_id::bad_banner: return {"The greeting is not 220", "Make the server greet with 220, or find what refuses the connection in front of it."};
    case reason_id::ehlo_incomplete: return {"No complete EHLO reply", "Check what closes the session after EHLO (a filter, a proxy, a crashing server)."};
    case reason_id::ehlo_refused: return {"EHLO is refused", "Accept EHLO (RFC 5321): with HELO senders cannot see STARTTLS."};
    case reason_id::starttls_not_offered:
      return {"STARTTLS is not offered", "Enable STARTTLS with a certificate on the server (Postfix smtpd_tls_security_level = may); check no proxy or firewall strips it from the EHLO reply."};
    case reason_id::starttls_on_greeting:
      return {"STARTTLS stands on the EHLO reply's greeting line", "Fix the EHLO reply so the greeting line comes first and STARTTLS on a line of its own (often a proxy or appliance rewrites it)."};
    case reason_id::ehlo_breaks_rfc5321: return {"The EHLO reply breaks RFC 5321 where some senders read it", "Fix the EHLO reply per the lint findings (the diagnosis lists them)."};
    case reason_id::starttls_after_final_line: return {"The EHLO reply's final line comes before its other lines", "Make the server send the final line (code and space) last."};
    case reason_id::starttls_not_sent: return {"The probe did not send STARTTLS", "Probe again without --policy none or --as a client that would not send it."};
    case reason_id::starttls_refused: return {"STARTTLS is offered but refused", "Give the server a working certificate and key, or stop offering STARTTLS where it cannot be used."};
    case reason_id::starttls_unanswered: return {"STARTTLS is offered but never answered", "Check what drops the session after STARTTLS (a filter, a proxy, a firewall inspecting SMTP)."};
    case reason_id::handshake_failed: return {"The TLS handshake fails", "Configure protocol versions and ciphers senders use (TLS 1.2 and 1.3), and a certificate with its key."};
    case reason_id::sender_handshake_failed: return {"Some senders' own TLS handshake fails", "Enable the versions, ciphers and groups those senders offer (the diagnosis names them)."};
    case reason_id::certificate_untrusted: return {"The certificate does not verify", "Install a certificate from a public CA with its full intermediate chain."};
    case reason_id::certificate_name_mismatch: return {"The certificate does not match the MX host name", "Get a certificate that names the MX host (subjectAltName)."};
    case reason_id::certificate_expired: return {"The certificate has expired", "Renew the certificate and reload the server; automate the renewal."};
    case reason_id::certificate_not_yet_valid: return {"The certificate is not valid yet", "Check the server's clock and the certificate's notBefore."};
    case reason_id::certificate_name_not_checked: return {"The certificate's name was not checked", "Probe with --name or by domain to check it."};
    case reason_id::certificate_fails_policy: return {"The certificate fails the chosen TLS setting", "Fix the certificate (trust, name, dates), or lower the setting for this destination."};
    case reason_id::response_injection: return {"Plaintext follows the 220 to STARTTLS", "Update the server or the proxy in front of it that sends data after the 220."};
    case reason_id::command_injection: return {"STARTTLS command injection", "Update the server: it must discard input buffered before the TLS handshake (CVE-2011-0411 class)."};
    case reason_id::injection_check_incomplete: return {"The command-injection check did not complete", "Probe again; check what closes the session after TLS."};
    case reason_id::starttls_after_tls: return {"STARTTLS is still offered inside TLS", "Stop offering STARTTLS in the EHLO reply after the handshake (RFC 3207 §4.2)."};
    case reason_id::rcpt_temporary: return {"RCPT is deferred (greylisting)", "Not a TLS problem."};
    case reason_id::rcpt_refused: return {"RCPT is refused", "Check the recipient exists and the server accepts mail for it."};
    case reason_id::mail_refused: return {"MAIL FROM:<> is refused", "Accept the null sender (RFC 5321 §4.5.5): bounces use it."};
    case reason_id::dnssec_unavailable: return {"DNSSEC cannot be validated through this resolver", "Probe through a validating resolver that passes DNSSEC records."};
    case reason_id::dnssec_bogus: return {"DNSSEC validation fails (bogus)", "Fix the zone's signatures or DS records (expired RRSIG, DS without DNSKEY): validating senders cannot resolve it."};
    case reason_id::dane_verified: return {"DANE verified", "Nothing to fix."};
    case reason_id::dane_mismatch: return {"No TLSA record matches the served certificate", "Publish the TLSA record of the current key (the diagnosis gives it), keep the old one until caches expire."};
    case reason_id::dane_no_tls: return {"TLSA records but no TLS handshake", "Make STARTTLS work on the host: DANE senders defer all mail to it."};
    case reason_id::dane_lookup_failed: return {"The TLSA lookup fails", "Make the zone's name servers answer TLSA queries (with NODATA when there is none)."};
    case reason_id::dane_unusable: return {"Every TLSA record is unusable for SMTP", "Publish DANE-EE (3 1 1) or DANE-TA (2 1 1) records."};
    case reason_id::dane_pkix_usage: return {"TLSA records with PKIX usages (ignored by SMTP senders)", "Replace usages 0 and 1 by 3 1 1 or 2 1 1 (RFC 7672 §3.1.3)."};
    case reason_id::dane_malformed: return {"Malformed TLSA records", "Fix the records' selector, matching type and digest length."};
    case reason_id::dane_tlsa_insecure: return {"TLSA records in an unsigned zone", "Sign the zone (DNSSEC) or remove the records: senders ignore them."};
    case reason_id::dane_no_rollover: return {"A single TLSA record: no rollover", "Publish the next key's record in advance (RFC 7671 §8.1)."};
    case reason_id::dane_full_certificate: return {"A TLSA record pins the whole certificate", "Use selector 1 (the key) so a renewal with the same key keeps matching."};
    case reason_id::dane_ta_not_in_chain: return {"The DANE-TA certificate is not in the served chain", "Send the full chain, including the certificate the 2 x x record names."};
    case reason_id::dane_digest_trap: return {"A wrong SHA2-512 TLSA record hides a right SHA2-256 one", "Fix or remove the 512 record (RFC 7671 §9)."};
    case reason_id::dane_ee_pkix_fails: return {"DANE-EE passes but the certificate fails PKIX", "Use a certificate that also verifies for its name, for senders without DANE."};
    case reason_id::dane_partial: return {"Some MX hosts have TLSA records, others none", "Publish TLSA records for every MX host."};
    case reason_id::dane_fails_policy: return {"DANE fails the chosen TLS setting", "Fix the DANE problem above, or use a setting without DANE for this destination."};
    case reason_id::dane_key_not_covered: return {"A certificate of the server is not covered by TLSA", "Publish a record for every certificate the server can send (RSA and ECDSA), e.g. 3 1 1 of each key."};
    case reason_id::mta_sts_txt_invalid: return {"The _mta-sts TXT record is invalid", "Publish exactly one record: v=STSv1; id=<new id>."};
    case reason_id::mta_sts_fetch_failed: return {"The MTA-STS policy cannot be fetched", "Serve https://mta-sts.<domain>/.well-known/mta-sts.txt as text/plain with status 200, no redirect, and a certificate valid for mta-sts.<domain>."};
    case reason_id::mta_sts_policy_invalid: return {"The MTA-STS policy is invalid", "Fix the policy per RFC 8461 §3.2 (version, mode, mx, max_age), then change the TXT id."};
    case reason_id::mta_sts_testing: return {"The MTA-STS policy is in mode testing", "Switch to enforce once TLS-RPT reports show no failures."};
    case reason_id::mta_sts_mx_not_listed: return {"An MX host is not in the MTA-STS policy", "Add the MX host to the policy's mx lines and change the TXT id: Gmail and Microsoft 365 do not deliver to it in mode enforce."};
    case reason_id::mta_sts_certificate_fails: return {"An MX host's certificate fails MTA-STS", "Install a certificate from a public CA valid for the MX host's name."};
    case reason_id::tls_rpt_invalid: return {"The _smtp._tls TXT record is invalid", "Publish v=TLSRPTv1; rua=mailto:... (RFC 8460 §3)."};
    case reason_id::tls_rpt_missing: return {"No TLS-RPT record", "Publish _smtp._tls TXT v=TLSRPTv1; rua=mailto:... to receive failure reports."};
    case reason_id::tls_legacy_version: return {"TLS 1.0 or 1.1 is accepted", "Disable TLS 1.0 and 1.1 (RFC 8996) once the senders you need speak TLS 1.2."};
    case reason_id::tls_rc4: return {"RC4 suites are accepted", "Remove RC4 from the server's cipher list (RFC 7465)."};
    case reason_id::tls_3des: return {"3DES suites are accepted", "Remove 3DES suites (Sweet32; RFC 7525 §4.1)."};
    case reason_id::tls_export: return {"Export-grade or single-DES suites are accepted", "Remove every suite below 112 bits (RFC 7525 §4.1)."};
    case reason_id::tls_null_cipher: return {"Suites without encryption are accepted", "Remove the NULL suites (RFC 7525 §4.1)."};
    case reason_id::tls_anonymous: return {"Anonymous suites are accepted", "Remove the anonymous (aNULL) suites from the cipher list."};
    case reason_id::tls_weak_dh: return {"The DHE group is smaller than 2048 bits", "Configure a DHE group of 2048 bits or more, or prefer ECDHE (RFC 7525 §4.3)."};
    case reason_id::tls_weak_rsa_key: return {"An RSA key smaller than 2048 bits", "Issue the certificate for a key of 2048 bits or more."};
    case reason_id::tls_sha1_signature: return {"SHA-1 signatures", "Use a certificate signed with SHA-256 and let the server sign with SHA-256 (RFC 9155)."};
    case reason_id::tls_no_forward_secrecy: return {"Suites without forward secrecy are accepted", "Prefer ECDHE and DHE suites; remove the RSA key-transport ones where senders allow."};
    case reason_id::tls_enum_incomplete: return {"The TLS enumeration did not complete", "Probe again with --check tls-enum."};
    case reason_id::interrupted: return {"The probe was interrupted", "Probe again."};
  }
  return {"", ""};
}

}  // namespace mxtls
