// DANE in the client handshake through OpenSSL's DANE API (SSL_dane_enable(3)): the records
// go in before the handshake, what matched comes out after it. The PKIX facts of the same
// handshake (what senders without DANE see) are verified apart, against the context's store.
#include "dane_tls.hpp"
#include "mxtls/target_text.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace mxtls {

namespace {

// DER of the certificate (selector 0) or of its SubjectPublicKeyInfo (selector 1).
std::vector<unsigned char> selected(X509* cert, int selector) {
  unsigned char* der = nullptr;
  int len = selector == 0 ? i2d_X509(cert, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  std::vector<unsigned char> out;
  if (len > 0) out.assign(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string tlsa_digest(X509* cert, int selector, int mtype) {
  std::vector<unsigned char> data = selected(cert, selector);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), md, &n, mtype == 1 ? EVP_sha256() : EVP_sha512(), nullptr) != 1) return {};
  return hex_text({md, n});
}

std::vector<chain_digest> chain_digests(STACK_OF(X509) * chain) {
  std::vector<chain_digest> out;
  if (!chain) return out;
  for (int depth = 0; depth < sk_X509_num(chain); ++depth) {
    X509* cert = sk_X509_value(chain, depth);
    for (int selector : {0, 1})
      for (int mtype : {1, 2})
        out.push_back({.depth = depth,
                       .selector = static_cast<std::uint8_t>(selector),
                       .mtype = static_cast<std::uint8_t>(mtype),
                       .hex = tlsa_digest(cert, selector, mtype)});
  }
  return out;
}

void dane_before_handshake(SSL* ssl, const dane_request& req, dane_tls_facts& f) {
  if (req.records.empty() || req.base_domain.empty()) return;
  // The context must have DANE on once (make_client_tls_context does); the connection's
  // base domain is the primary reference identifier and, unless one is set, the SNI.
  if (SSL_CTX_dane_enable(SSL_get_SSL_CTX(ssl)) <= 0) return;
  if (SSL_dane_enable(ssl, req.base_domain.c_str()) <= 0) return;
  // RFC 7672 §3.1.1 / RFC 7671 §5.1: DANE-EE(3) authenticates the key alone: no name, no
  // expiry checks. OpenSSL ignores expiry for DANE-EE; names need this flag.
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  // RFC 7672 §3.2.2: for DANE-TA(2) the names accepted are the TLSA base domain and the
  // MX host name (before CNAME expansion).
  for (const auto& n : req.other_names)
    if (!n.empty() && n != req.base_domain) SSL_add1_host(ssl, n.c_str());
  for (const auto& r : req.records)
    if (SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.mtype, r.data.data(), r.data.size()) > 0) ++f.records_added;
  f.enabled = true;
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  f.sni = sni ? sni : req.base_domain;
}

void dane_after_handshake(SSL* ssl, const dane_request& req, dane_tls_facts& f, tls_facts& tls) {
  if (f.enabled) {
    long verdict = SSL_get_verify_result(ssl);
    f.verify_code = static_cast<int>(verdict);
    f.verified = verdict == X509_V_OK;
    if (!f.verified) f.verify_error = X509_verify_cert_error_string(verdict);
    std::uint8_t usage = 0, selector = 0, mtype = 0;
    const unsigned char* data = nullptr;
    std::size_t len = 0;
    int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &len);
    if (f.verified && depth >= 0) {
      f.matched_depth = depth;
      f.matched = tlsa_record{.usage = usage, .selector = selector, .mtype = mtype, .data = {data, data + len}};
    }
    // The verification result above is DANE's; the PKIX facts are verified apart, as a
    // sender without DANE would (the CA store of the context, the same served chain).
    X509* leaf = SSL_get0_peer_certificate(ssl);
    X509_STORE_CTX* sctx = X509_STORE_CTX_new();
    if (leaf && sctx &&
        X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), leaf, SSL_get_peer_cert_chain(ssl)) == 1) {
      X509_STORE_CTX_set_default(sctx, "ssl_server");
      int ok = X509_verify_cert(sctx);
      int err = X509_STORE_CTX_get_error(sctx);
      tls.chain_verified = ok == 1;
      tls.verify_code = ok == 1 ? 0 : err;
      tls.verify_error = ok == 1 ? std::string() : X509_verify_cert_error_string(err);
    }
    X509_STORE_CTX_free(sctx);
  }
  if (req.digests || (f.enabled && !f.verified)) f.chain_digests = chain_digests(SSL_get_peer_cert_chain(ssl));
}

}  // namespace mxtls

// ---- PEM files (mxtls tlsa) ------------------------------------------------------------

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "mxtls/dane_chain.hpp"

namespace mxtls {

pem_chain read_pem_chain(const std::string& file) {
  pem_chain out;
  FILE* f = std::fopen(file.c_str(), "r");
  if (!f) {
    out.error = "cannot open " + file;
    return out;
  }
  STACK_OF(X509)* chain = sk_X509_new_null();
  while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) sk_X509_push(chain, x);
  std::fclose(f);
  if (sk_X509_num(chain) == 0) {
    out.error = file + " holds no PEM certificate";
  } else {
    out.digests = chain_digests(chain);
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      char buf[512];
      X509_NAME_oneline(X509_get_subject_name(sk_X509_value(chain, i)), buf, sizeof buf);
      out.subjects.emplace_back(buf);
    }
    if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(sk_X509_value(chain, 0), NID_subject_alt_name, nullptr, nullptr))) {
      for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
        GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS)
          out.leaf_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                                      static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName)));
      }
      GENERAL_NAMES_free(sans);
    }
  }
  sk_X509_pop_free(chain, X509_free);
  return out;
}

std::string spki_sha256_of_pem(const std::string& file, std::string& error) {
  FILE* f = std::fopen(file.c_str(), "r");
  if (!f) {
    error = "cannot open " + file;
    return {};
  }
  // A certificate, a public key or a private key: whichever the file holds first.
  EVP_PKEY* key = nullptr;
  if (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    key = X509_get_pubkey(x);
    X509_free(x);
  }
  if (!key) {
    std::rewind(f);
    key = PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  }
  if (!key) {
    std::rewind(f);
    key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  }
  std::fclose(f);
  if (!key) {
    error = file + " holds no PEM certificate, public key or private key";
    return {};
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  EVP_PKEY_free(key);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(der, static_cast<std::size_t>(len), md, &n, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  return hex_text({md, n});
}

}  // namespace mxtls
