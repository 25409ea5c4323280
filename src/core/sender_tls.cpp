// Sender TLS profiles and failure actions (include/mxtls/sender_tls.hpp), one row each,
// with its source. "observed" sources name the command run on Debian 12 that showed the
// setting; the differential suite (tests/integration/tls_senders_test.cpp, docs/tls-matrix.md)
// runs every real client against every restricted scenario and compares with the prediction.
#include <algorithm>
#include <array>

#include "mxtls/sender_tls.hpp"

namespace mxtls {

const char* to_string(tls_failure_action a) {
  switch (a) {
    case tls_failure_action::plaintext_retry: return "plaintext-retry";
    case tls_failure_action::give_up: return "give-up";
    case tls_failure_action::undocumented: return "undocumented";
  }
  return "?";
}

namespace {

constexpr std::array<tls_profile, 11> profiles{{
    {.id = "openssl-default",
     .library = "OpenSSL 3.0.19 (Debian 12), defaults untouched",
     .security_level = 2,
     .source = "observed: SSL_CTX_get_security_level() of a new client context is 2 on Debian 12's libssl3 (built with "
               "that default; /etc/ssl/openssl.cnf sets no CipherString or MinProtocol); cipher list DEFAULT"},
    {.id = "openssl-seclevel0",
     .library = "OpenSSL 3.0 at security level 0 (Postfix 3.7 libtls)",
     .min_version = "TLSv1",
     .security_level = 0,
     .ciphers = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
     .groups = "X25519:X448:P-256:P-521:P-384",
     .source = "postconf -d (Postfix 3.7.11, Debian 12): smtp_tls_protocols = smtp_tls_mandatory_protocols = >=TLSv1, "
               "smtp_tls_ciphers = smtp_tls_mandatory_ciphers = medium, tls_medium_cipherlist = "
               "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH, tls_eecdh_auto_curves = X25519 X448 prime256v1 secp521r1 "
               "secp384r1 (no finite-field group: posttls-finger fails scenario tls13-ffdhe-only); observed: Postfix smtp and posttls-finger negotiate TLSv1 with a "
               "SHA-1 ServerKeyExchange signature (scenario tls10-only), which OpenSSL 3.0 allows at security level 0 only"},
    {.id = "node-18",
     .library = "Node.js 18 tls on OpenSSL 3.0",
     .min_version = "TLSv1.2",
     .security_level = 1,
     .ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:"
                "ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA256:HIGH:"
                "!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!SRP:!CAMELLIA",
     .source = "observed: node -e 'tls.DEFAULT_MIN_VERSION, tls.DEFAULT_CIPHERS' (TLSv1.2, the list here); security "
               "level 1: nodemailer completes a DHE handshake with 1024-bit DH (scenario dh1024), which level 2 refuses"},
    {.id = "perl-io-socket-ssl",
     .library = "IO::Socket::SSL 2.081 (Perl, swaks) on OpenSSL 3.0",
     .security_level = 2,
     .ciphers = "DEFAULT:!EXP:!MEDIUM:!LOW:!eNULL:!aNULL:!RC4:!DES:!MD5:!PSK:!SRP",
     .source = "/usr/share/perl5/IO/Socket/SSL.pm (Debian libio-socket-ssl-perl 2.081): SSL_version "
               "SSLv23:!SSLv3:!SSLv2, SSL_cipher_list 'DEFAULT !EXP !MEDIUM !LOW !eNULL !aNULL !RC4 !DES !MD5 !PSK !SRP'"},
    {.id = "php-8.2",
     .library = "PHP 8.2 openssl streams (PHPMailer) on OpenSSL 3.0",
     .security_level = 2,
     .ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-DSS-AES128-GCM-SHA256:kEDH+AESGCM:"
                "ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:"
                "ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES256-SHA:"
                "DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA256:DHE-RSA-AES256-SHA256:DHE-DSS-AES256-SHA:"
                "DHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128:AES256:HIGH:!SSLv2:!aNULL:!eNULL:!EXPORT:"
                "!DES:!MD5:!RC4:!ADH",
     .source = "observed: php -r 'echo OPENSSL_DEFAULT_STREAM_CIPHERS;' (the list here)"},
    // Go's crypto/tls is not OpenSSL: its 1.19 defaults as the nearest OpenSSL settings.
    {.id = "go-1.19",
     .library = "Go 1.19 crypto/tls (as OpenSSL settings)",
     .min_version = "TLSv1.2",
     .security_level = 0,
     .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:"
                "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA:ECDHE-RSA-DES-CBC3-SHA:DES-CBC3-SHA",
     .groups = "X25519:P-256:P-384:P-521",
     .source = "Go 1.19 src/crypto/tls/common.go (client MinVersion default TLS 1.2, defaultCurvePreferences X25519, "
               "P-256, P-384, P-521; no finite-field DHE) and cipher_suites.go (cipherSuitesPreferenceOrder); no minimum "
               "key size before Go 1.24"},
    // Java's JSSE is not OpenSSL: OpenJDK 17's defaults as the nearest OpenSSL settings.
    // java.security jdk.tls.disabledAlgorithms keeps TLS 1.0 and 1.1 off, refuses DH below
    // 1024 bits and EC below 224. Security level 0 here, as for Go: level 1 would also refuse
    // the SHA-1 signatures the JDK accepts (scenario sha1-cert). So a server whose only key
    // exchange is DHE below 1024 bits is predicted `tls` for it, which the JDK refuses: a
    // known gap, met by no scenario. TLS 1.3 suites are OpenSSL's three, the same as the JDK's.
    {.id = "jdk-17",
     .library = "OpenJDK 17 JSSE (as OpenSSL settings)",
     .min_version = "TLSv1.2",
     .security_level = 0,
     .ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
                "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:DHE-DSS-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:"
                "DHE-DSS-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:"
                "ECDHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:DHE-DSS-AES256-SHA256:DHE-RSA-AES128-SHA256:"
                "DHE-DSS-AES128-SHA256:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA:"
                "ECDHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:"
                "AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA",
     .groups = "X25519:P-256:P-384:P-521:X448:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192",
     .source = "observed with Debian 12's openjdk-17 (17.0.15): SSLContext.getDefault().getDefaultSSLParameters() gives "
               "TLSv1.3 and TLSv1.2 and these suites in this order (Java names mapped to OpenSSL's); its ClientHello, "
               "traced by openssl s_server -trace, offers the groups x25519, P-256, P-384, P-521, x448, ffdhe2048-8192; "
               "/etc/java-17-openjdk/security/java.security jdk.tls.disabledAlgorithms: SSLv3, TLSv1, TLSv1.1, RC4, "
               "DES, MD5withRSA, DH keySize < 1024, EC keySize < 224, 3DES_EDE_CBC, anon, NULL, ECDH"},
    // GnuTLS itself (gnutls_replay.cpp), with the priority string the senders give it.
    {.id = "gnutls-normal",
     .library = "GnuTLS 3.7.9 (Debian 12), priority NORMAL",
     .gnutls_priority = "NORMAL",
     .source = "GnuTLS's own handshake with priority NORMAL (gnutls_priority_init(3)); observed: gnutls-cli --list "
               "--priority NORMAL (GnuTLS 3.7.9, Debian 12): TLS 1.0 to 1.3, 29 suites, groups SECP256R1, SECP384R1, "
               "SECP521R1, X25519, X448, FFDHE2048-8192, SHA-1 signatures allowed"},
    // Versions and ciphers as Cisco documents them; its TLS library's key-size limits are not
    // documented, so none are applied (security level 0).
    {.id = "cisco-esa-13.5",
     .library = "Cisco AsyncOS 13.5.1 and later, outbound SMTP defaults",
     .min_version = "TLSv1.1",
     .max_version = "TLSv1.2",
     .security_level = 0,
     .ciphers = "RC4-SHA:RC4-MD5:ALL:-aNULL:-EXPORT",
     .source = "https://www.cisco.com/c/en/us/support/docs/security/secure-email-gateway/"
               "220516-why-is-tls-version-1-0-disabled-after-as.html (from 13.5.1 TLS 1.0 is disabled on upgrade, 1.1 "
               "and 1.2 enabled); https://www.cisco.com/c/en/us/support/docs/security/email-security-appliance/"
               "215282-configure-tlsv1-0-on-the-cisco-esa-and-c.html (outbound ciphers RC4-SHA:RC4-MD5:ALL:-aNULL:-EXPORT, "
               "versions only as a contiguous range); TLS 1.3 only from AsyncOS 15.5"},
    // Services, from their vendors' documents (sending_services() below).
    // Microsoft documents, for outbound mail, only the versions: never TLS 1.0 or 1.1. Its
    // table of the suites "Office 365 supports" (RSA-authenticated only, weakest 112 bits) is
    // what its servers accept; it is not said to be what Exchange Online offers when it
    // connects, so it is not used: every suite OpenSSL has is offered at security level 0, and
    // the cipher the replay gets is not reported. TLS 1.3 is supported "by some of the
    // services", without saying that outbound SMTP is one of them: the profile stops at TLS
    // 1.2, so a TLS 1.3-only server comes out "unknown", not "tls". Not replayed either:
    // Microsoft's refusal of SHA-1 certificates: the replay does not check the chain, the
    // rule does (sender_tls_rule::refuses_sha1_certificates, from the chain the probe saw).
    {.id = "exchange-online",
     .library = "Microsoft 365 (Exchange Online) outbound SMTP, as Microsoft documents it (versions only)",
     .min_version = "TLSv1.2",
     .max_version = "TLSv1.2",
     .security_level = 0,
     .ciphers = "ALL:COMPLEMENTOFALL:-aNULL:-eNULL",
     .suites_documented = false,
     .source = "https://techcommunity.microsoft.com/blog/exchange/understanding-email-scenarios-if-tls-versions-cannot-"
               "be-agreed-on-with-exchange-/2065089 (2021-01-15): 'Exchange Online will never use TLS 1.0 or 1.1 to send "
               "outbound email'; https://learn.microsoft.com/purview/technical-reference-details-about-encryption "
               "(MicrosoftDocs/microsoft-365-docs, technical-reference-details-about-encryption.md): Office 365 supports "
               "TLS 1.2, TLS 1.3 by some of the services, and no SHA-1 certificate for outbound or inbound connections "
               "since June 2016; its suite table is what Office 365 accepts, not stated as its outbound offer"},
    // Google documents the versions Gmail's outbound servers offer; the list of suites that
    // follows on the same page is not in the copy this profile was taken from, so every
    // suite OpenSSL has is offered (security level 0: Google keeps 3DES and TLS 1.0 for
    // compatibility) and the cipher the replay gets is not reported as Gmail's.
    {.id = "gmail",
     .library = "Gmail outbound SMTP, as Google documents it (versions only)",
     .min_version = "TLSv1",
     .security_level = 0,
     .ciphers = "ALL:COMPLEMENTOFALL:-aNULL:-eNULL",
     .suites_documented = false,
     .source = "https://support.google.com/a/answer/9795993 (Ciphers for Gmail SMTP TLS connections, 'Outbound server "
               "ciphers'): 'Gmail tells the receiving server that it supports TLS versions 1.3, 1.2, 1.1, and 1.0', the "
               "receiving server chooses, no SSLv3; TLS 1.0, 1.1 and 3DES supported for compatibility; the outbound suite "
               "list itself is not in the stored copy, so no suite is predicted"},
}};

// Postfix's postconf(5) says of smtp_tls_security_level "may": "When TLS handshakes fail,
// the connection is retried with TLS disabled" (https://www.postfix.org/postconf.5.html).
// Postfix 3.7.11 on Debian 12 does not: the message is deferred ("status=deferred (Cannot
// start TLS: handshake failure)", dsn 4.7.5) and the next attempt, forced with postqueue -i,
// tries TLS again and is deferred again (observed against scenario tls12-brainpool-only; the
// same report on postfix-users: https://mail-archive.com/postfix-users@postfix.org/msg75035.html).
// Libraries report the error to the application (the drivers in tests/integration/clients/
// exit non-zero): nothing is delivered.
constexpr std::string_view postfix_source =
    "observed: Postfix 3.7.11 smtp with may and with encrypt defers after a failed handshake (dsn 4.7.5, 'Cannot start "
    "TLS: handshake failure') and retries with TLS, not in plaintext (tests/integration/tls_senders_test.cpp); "
    "postconf(5) smtp_tls_security_level describes a retry with TLS disabled that this version does not make";
constexpr std::string_view library_source = "the library raises the handshake error to the application; observed in "
                                            "tests/integration/tls_senders_test.cpp";

constexpr std::array<sender_tls_rule, 24> rules{{
    // Cisco documents both settings: under "Preferred" a failure before the 220 to STARTTLS
    // goes on in clear, an error after the 220 (the handshake) does not fall back to clear
    // text; under "Required" no mail is sent through the connection. What then becomes of the
    // message (retry, bounce after the queue lifetime) is not in those documents.
    {.sender = "cisco-esa", .profile = "cisco-esa-13.5",
     .source = "profile: Cisco's documents above; failure: https://www.cisco.com/c/en/us/support/docs/security/"
               "email-security-appliance/118955-Control-TLS-Negotiation-ESA-00.html and the AsyncOS 8.0.1 user guide, "
               "'Encrypting Communication with Other MTAs' (Preferred: an error after the 220 response does not fall "
               "back to clear text; Required: if the negotiation fails, no email is sent through the connection); "
               "the message's later retries are not documented there"},
    {.sender = "postfix", .profile = "openssl-seclevel0", .source = postfix_source},
    {.sender = "posttls-finger", .profile = "openssl-seclevel0",
     .source = "posttls-finger(1) uses Postfix's libtls with the smtp_tls_* defaults; it reports, it does not deliver"},
    {.sender = "python-smtplib", .profile = "openssl-default",
     .source = "observed: /usr/bin/python3 (Debian 12, 3.11.2) ssl.create_default_context(): minimum_version "
               "MINIMUM_SUPPORTED, security_level 2, get_ciphers() = OpenSSL's DEFAULT (Debian's build keeps the system "
               "list; upstream CPython builds such as pyenv's 3.11.7 use their own list, TLS 1.2 and up, no RSA key "
               "exchange); the error is raised to the application"},
    {.sender = "go-net-smtp", .profile = "go-1.19", .source = library_source},
    {.sender = "curl", .profile = "openssl-default", .source = library_source},
    {.sender = "curl-8.17", .profile = "openssl-default", .source = library_source},
    {.sender = "msmtp", .profile = "gnutls-normal", .source = "msmtp 1.8.23 is built on GnuTLS (msmtp --version); it reports the handshake error"},
    {.sender = "swaks", .profile = "perl-io-socket-ssl", .source = library_source},
    {.sender = "openssl-s-client", .profile = "openssl-default", .source = "openssl s_client with its defaults"},
    {.sender = "nodemailer", .profile = "node-18", .source = library_source},
    // Jakarta Mail with its defaults, as an application leaves them (mail.smtp.ssl.protocols,
    // .ciphersuites, .trust and .checkserveridentity unset): its STARTTLS handshakes behave as
    // the JDK's defaults in every restricted scenario, and the JDK's default trust manager
    // checks the chain against its trust store in both settings, but not the name (observed:
    // "Could not convert socket to TLS ... PKIX path building failed" for an untrusted chain;
    // a chain whose root is in the trust store passes for 127.0.0.1, a name it does not hold).
    // The probe's PKIX check (its CA store, or --ca) stands for the JDK's. Known gaps: the
    // JDK's own limits (jdk.certpath.disabledAlgorithms: SHA-1 refused in chains anchored in
    // its cacerts, RSA below 1024) are not the probe's, and an application with its own trust
    // store or mail.smtp.ssl.trust trusts other chains.
    {.sender = "jakarta-mail", .profile = "jdk-17", .verifies_chain = true,
     .source = "observed: Jakarta Mail 2.0.0 (Debian 12 libjakarta-mail-java) on openjdk-17 with its defaults negotiates "
               "as the JDK's defaults (TLS 1.0, 1.1 and brainpool-only refused), checks the chain against the JDK's "
               "trust store in both settings but not the name, and raises a failure to the application "
               "(MessagingException: 'PKIX path building failed' for an untrusted chain), in "
               "tests/integration/tls_senders_test.cpp (the scenario's root in the JDK's trust store, and untrusted)"},
    // Haraka 3.3.4 (npm) outbound: outbound/tls.js get_tls_options() hands Node's tls.connect
    // what tls.ini [outbound] sets (its skeleton configuration, haraka -i, sets nothing), so
    // Node's defaults, as for nodemailer on the same Node. A failed upgrade (err.source 'tls')
    // goes through obtls.mark_tls_nogo(), which remembers the host for a plaintext retry only
    // with tls.ini [redis] disable_for_failed_hosts (off by default), then to the next MX; with
    // none left the message is deferred ("Tried all MXs"), and the next attempt tries TLS
    // again. force_tls_hosts (required) defers the same way.
    // With force_tls_hosts, hmail.js sets rejectUnauthorized: Node checks the chain (its CA
    // store, NODE_EXTRA_CA_CERTS) and the name (the MX host's, from DNS), and a certificate
    // that fails is deferred ("Host failed TLS verification required by configuration").
    {.sender = "haraka", .profile = "node-18", .verifies_when_required = true,
     .source = "Haraka 3.3.4 outbound/hmail.js and outbound/tls.js: tls.ini [outbound] sets no TLS option by default, "
               "so Node's defaults; a failed handshake is deferred ('Tried all MXs') and tried with TLS again, a plaintext "
               "retry only with tls.ini [redis] disable_for_failed_hosts (off by default); with force_tls_hosts "
               "(required) rejectUnauthorized is set, so a certificate that fails Node's check is deferred too; observed "
               "with TLS when offered in tests/integration/tls_senders_test.cpp (tests/integration/haraka-instance), and "
               "required against a certificate Node trusts for 'localhost' (delivered) and a self-signed one (deferred), "
               "in TlsSendersUntrusted.HarakaRequiredChecksTheCertificate"},
    {.sender = "phpmailer", .profile = "php-8.2", .source = library_source},
    {.sender = "ruby-net-smtp", .profile = "openssl-default",
     .source = "observed: ruby -ropenssl (SSLContext#set_params: min_version TLS 1.0, security_level 2, ciphers DEFAULT)"},
    {.sender = "perl-net-smtp", .profile = "perl-io-socket-ssl", .source = library_source},
    // Sendmail 8.17.1.9 as Debian 12 ships it (sendmail-bin 8.17.1.9-2+deb12u2, on libssl3).
    // Offer: sendmail/tls.c inittls() makes an SSLv23_client_method() context and calls
    // SSL_CTX_set_cipher_list() only when CipherList is set (cf/README: confCIPHER_LIST
    // "[undefined]"); it sets no protocol range and no security level, and its client options
    // (conf.c setdefaults(): SSL_OP_ALL | SSL_OP_NO_SSLv2 | SSL_OP_NO_TICKET) change neither
    // versions nor suites: OpenSSL's defaults. Debian sets none of it: cf/debian/sendmail.mc
    // has no TLS option and the starttls.m4 that sendmailconfig adds sets certificate paths,
    // confTO_STARTTLS and an empty confTLS_SRV_OPTIONS only (sendmail-base, examples/tls/).
    // After a failed handshake: deliver.c deliver() gives the tls_server ruleset
    // {verify} = SOFTWARE, drops the connection ("the TLS negotiation failed, we have to drop the
    // connection no matter what") and connects again without STARTTLS only when
    // TLSFallbacktoClear is set (cf/README: confTLS_FALLBACK_TO_CLEAR "[undefined]"; the
    // compile-time default true needs _FFR_TLSFB2CLEAR, which `sendmail -d0.1` of the Debian
    // binary does not list); else the message is deferred ("454 4.7.0 TLS handshake failed.").
    // The required setting (access map TLS_Srv:host ENCR:112) defers as well. Observed with
    // that binary in tests/integration/tls_senders_test.cpp (tests/integration/sendmail-instance).
    {.sender = "sendmail", .profile = "openssl-default",
     .source = "Sendmail 8.17.1.9 (Debian 12 sendmail-bin, OpenSSL 3): no CipherList, so OpenSSL's defaults (sendmail/tls.c "
               "inittls(): SSL_CTX_set_cipher_list only when CipherList is set; cf/README confCIPHER_LIST [undefined]; "
               "Debian's cf/debian/sendmail.mc and starttls.m4 set no cipher or protocol option); a failed handshake "
               "drops the connection and is retried in clear only with TLSFallbacktoClear (sendmail/deliver.c "
               "deliver(), rcode EX_SOFTWARE; cf/README confTLS_FALLBACK_TO_CLEAR [undefined]; _FFR_TLSFB2CLEAR not in "
               "`sendmail -d0.1`), else deferred; TLS_Srv ENCR:112 required: deferred; observed in "
               "tests/integration/tls_senders_test.cpp"},
    // Exim 4.96 as Debian 12 ships it (exim4-daemon-light 4.96-15+deb12u11, built on GnuTLS
    // 3.7.9). The smtp transport's defaults, as `exim -bP transport remote_smtp` prints them:
    // tls_require_ciphers unset, tls_dh_min_bits = 1024, tls_tempfail_tryclear (true),
    // hosts_require_tls unset. With tls_require_ciphers unset Exim hands GnuTLS the priority
    // "NORMAL" (src/src/tls-gnu.c, exim_default_gnutls_priority). Debian's exim4-config sets no
    // TLS option for remote_smtp unless a macro asks (conf.d/transport/30_exim4-config_remote_smtp:
    // REMOTE_SMTP_HOSTS_REQUIRE_TLS, TLS_DH_MIN_BITS). The Exim specification, chapter "The smtp
    // transport", option tls_tempfail_tryclear: after a temporary TLS failure the delivery is
    // retried in clear on the same host unless the host is in hosts_require_tls, which defers.
    // Observed with that binary in tests/integration/tls_senders_test.cpp. The DH minimum of 1024
    // bits has no OpenSSL setting apart from the rest of security level 1; no scenario serves a
    // smaller group.
    {.sender = "exim", .profile = "gnutls-normal", .on_failure = tls_failure_action::plaintext_retry,
     .on_failure_required = tls_failure_action::give_up,
     .source = "Exim 4.96 (Debian 12 exim4-daemon-light, GnuTLS): tls_require_ciphers unset, so GnuTLS priority "
               "NORMAL (src/src/tls-gnu.c exim_default_gnutls_priority); tls_dh_min_bits 1024; tls_tempfail_tryclear "
               "true: a failed handshake is retried in clear on the same host; hosts_require_tls: deferred (Exim "
               "specification, chapter 'The smtp transport'; `exim -bP transport` of the Debian binary; Debian "
               "exim4-config conf.d/transport/30_exim4-config_remote_smtp sets neither); observed in "
               "tests/integration/tls_senders_test.cpp"},
    // OpenSMTPD 6.8.0p2 as Debian 12 ships it (opensmtpd 6.8.0p2-4+b4, linked with libssl3): its
    // client context keeps OpenSSL's defaults, security level 2 included (observed: TLSv1 and
    // TLSv1.1 refused with "legacy sigalg disallowed or unsupported", a 1024-bit DH group with
    // "dh key too small", brainpool-only with a handshake failure; TLS 1.3 with ffdhe only
    // established). After a failed handshake, usr.sbin/smtpd/mta_session.c (tag v6.8.0p2,
    // mta_io() IO_ERROR in state MTA_STARTTLS with use_smtp_tls) logs "opportunistic TLS
    // failed, downgrading to plain" and connects again without STARTTLS; with smtp+tls://
    // (TLS required) it is mta_error(): the route is disabled and the message waits for a retry.
    {.sender = "opensmtpd", .profile = "openssl-default", .on_failure = tls_failure_action::plaintext_retry,
     .on_failure_required = tls_failure_action::give_up,
     .source = "OpenSMTPD 6.8.0p2 (Debian 12 opensmtpd, libssl3): OpenSSL's defaults; usr.sbin/smtpd/mta_session.c "
               "(v6.8.0p2) mta_io(): a failed handshake under smtp:// is retried in clear ('opportunistic TLS failed, "
               "downgrading to plain'), under smtp+tls:// it is an error and a later retry; observed in "
               "tests/integration/tls_senders_test.cpp"},
    // Services (sending_services()). Neither vendor documents what its opportunistic setting
    // does after a failed handshake (Microsoft: "if the receiving server does not support
    // TLS" it sends without TLS, which is the EHLO layer; Google likewise), so that outcome is
    // "unknown". Their required settings (an Exchange Online connector with TLS required,
    // Gmail's Secure transport (TLS) compliance setting, which bounces) send only over TLS: fail.
    {.sender = "microsoft-365", .profile = "exchange-online", .on_failure = tls_failure_action::undocumented,
     .on_failure_required = tls_failure_action::give_up, .refuses_sha1_certificates = true,
     .source = "Microsoft: opportunistic TLS by default, 'the message will be sent unencrypted if the recipient "
               "organization doesn't support TLS encryption'; a connector can require TLS (https://learn.microsoft.com/"
               "purview/exchange-online-uses-tls-to-secure-email-connections, MicrosoftDocs/microsoft-365-docs "
               "exchange-online-uses-tls-to-secure-email-connections.md); what becomes of a message whose handshake "
               "fails is not in the documents this row was taken from"},
    {.sender = "gmail", .profile = "gmail", .on_failure = tls_failure_action::undocumented,
     .on_failure_required = tls_failure_action::give_up,
     .source = "https://support.google.com/a/answer/2520500 (Send email over a secure TLS connection): 'By default, "
               "Gmail always tries to send messages over a secure TLS connection', and sends without TLS when the "
               "receiving server does not use it; with the Secure transport (TLS) compliance setting, outgoing messages "
               "that cannot go over TLS are not delivered and bounce (its certificate checks are options, off unless "
               "chosen); what becomes of a message whose handshake fails by default is not documented there"},
    // Not modelled: no profile (the probe's handshake stands for them), each with the reason.
    {.sender = "mailkit",
     .source = "not modelled: MailKit hands SslStream its SslProtocols and .NET leaves the suites to the operating "
               "system's TLS library (OpenSSL on Linux, SChannel on Windows, "
               "https://learn.microsoft.com/dotnet/api/system.security.authentication.sslprotocols), so the offer "
               "depends on the host; .NET is not a Debian 12 package, so nothing was observed here"},
    {.sender = "dotnet-smtpclient",
     .source = "not modelled: System.Net.Mail's SslStream leaves versions and suites to the operating system's TLS "
               "library (SslProtocols.None: 'allows the operating system to choose the best protocol', "
               "https://learn.microsoft.com/dotnet/api/system.security.authentication.sslprotocols), so the offer "
               "depends on the host; .NET is not a Debian 12 package, so nothing was observed here"},
    {.sender = "lettre",
     .source = "not modelled: lettre's TLS is the backend the application builds it with (https://docs.rs/lettre, "
               "Features: native-tls by default, OpenSSL on Linux, schannel on Windows, Security-Framework on macOS; "
               "rustls or boring-tls instead), each with its own defaults; crates.io is not a source this project "
               "uses, so nothing was observed here"},
}};

constexpr std::array<sending_service, 2> services{{
    {.id = "microsoft-365", .name = "Microsoft 365 (Exchange Online)", .short_name = "Microsoft 365",
     .source = "Exchange Online's outbound SMTP, from Microsoft's documents (sender_tls_rules()); how it reads an EHLO "
               "reply is not documented"},
    {.id = "gmail", .name = "Gmail (Google Workspace)", .short_name = "Gmail",
     .source = "Gmail's outbound SMTP, from Google's documents (sender_tls_rules()); how it reads an EHLO reply is not "
               "documented"},
}};

}  // namespace

std::span<const sending_service> sending_services() { return services; }
const sending_service* find_sending_service(std::string_view id) {
  auto it = std::find_if(services.begin(), services.end(), [&](const sending_service& s) { return s.id == id; });
  return it == services.end() ? nullptr : &*it;
}

std::span<const tls_profile> tls_profiles() { return profiles; }
const tls_profile* find_tls_profile(std::string_view id) {
  auto it = std::find_if(profiles.begin(), profiles.end(), [&](const tls_profile& p) { return p.id == id; });
  return it == profiles.end() ? nullptr : &*it;
}
std::span<const sender_tls_rule> sender_tls_rules() { return rules; }
const sender_tls_rule* find_sender_tls_rule(std::string_view sender) {
  auto it = std::find_if(rules.begin(), rules.end(), [&](const sender_tls_rule& r) { return r.sender == sender; });
  return it == rules.end() || it->profile.empty() ? nullptr : &*it;
}

}  // namespace mxtls
