// Certificates for the mock server, made in memory with OpenSSL: ECDSA or RSA keys (one of
// each when a scenario has two certificates), self-signed or issued by a generated test CA, valid, expired, not yet valid, or for
// another host name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mxtls/scenario.hpp"

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct ssl_ctx_st SSL_CTX;
struct asn1_string_st;

namespace mxtls {

struct x509_free {
  void operator()(X509* x) const;
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const;
};
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

struct tls_identity {
  pkey_ptr key;
  x509_ptr leaf;
  std::vector<x509_ptr> chain;  // sent after the leaf
  x509_ptr root;                // the test CA, when there is one (not sent)
  std::string sha256;           // leaf fingerprint, "AB:CD:..."
  std::string key_name;         // the key as a scenario names it (ecdsa-p256, rsa-2048, ...); empty: from files
  // A second certificate of the other key type, installed beside this one (scenario
  // tls.second_key); the server chooses between them per ClientHello.
  std::unique_ptr<tls_identity> second;
};

// The key and signature hash of generated certificates.
struct key_spec {
  std::string key = "ecdsa-p256";  // ecdsa-p256, ecdsa-p384, rsa-BITS
  std::string digest = "sha256";   // sha256 or sha1
};
// A fresh identity of the given kind for `host`.
tls_identity make_identity(const std::string& host, certificate_kind kind, const key_spec& key = {});
// The scenario's: its host, certificate kind, key and digest.
tls_identity make_identity(const scenario& s);
// An identity from PEM files (certificate chain file and private key file); throws
// std::runtime_error naming the file on failure.
tls_identity load_identity(const std::string& cert_file, const std::string& key_file);

// Installs the identity in a server context: each certificate with its own chain, the second
// one (when there is one) beside the first, so that OpenSSL chooses per ClientHello.
void use_identity(SSL_CTX* ctx, const tls_identity& id);
std::string fingerprint_sha256(X509* cert);
std::string to_pem(X509* cert);
std::string private_key_pem(EVP_PKEY* key);
// "Nov 27 18:25:45 2026 GMT"
std::string asn1_time_text(const asn1_string_st* t);

}  // namespace mxtls
