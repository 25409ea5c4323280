// DANE in the client handshake (OpenSSL's SSL_dane_* API), for smtp_session's STARTTLS.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "mxtls/model/dane.hpp"
#include "mxtls/model/session.hpp"

namespace mxtls {

// Before the handshake: DANE on for this connection with the request's records (none: off).
void dane_before_handshake(SSL* ssl, const dane_request& req, dane_tls_facts& f);
// After it: what matched, at which depth; the PKIX facts in `tls` verified apart (DANE
// replaced them in the handshake's own result); the served chain's digests when asked or
// when DANE failed.
void dane_after_handshake(SSL* ssl, const dane_request& req, dane_tls_facts& f, tls_facts& tls);
// Every certificate of the chain (leaf first) for selectors 0 and 1, matching types 1 and 2.
std::vector<chain_digest> chain_digests(STACK_OF(X509) * chain);
// A TLSA record's association data for this certificate, hex: selector 0 (the certificate) or
// 1 (its SubjectPublicKeyInfo), matching type 1 (SHA2-256) or 2 (SHA2-512).
std::string tlsa_digest(X509* cert, int selector, int mtype);

}  // namespace mxtls
