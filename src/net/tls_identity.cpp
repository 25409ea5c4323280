#include "mxtls/tls_identity.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include <fmt/format.h>

namespace mxtls {

void x509_free::operator()(X509* x) const { X509_free(x); }
void pkey_free::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

namespace {

constexpr long day = 24 * 3600;

pkey_ptr new_key(const std::string& spec = "ecdsa-p256") {
  pkey_ptr k;
  if (spec == "ecdsa-p256") k.reset(EVP_EC_gen("P-256"));
  else if (spec == "ecdsa-p384") k.reset(EVP_EC_gen("P-384"));
  else if (spec.rfind("rsa-", 0) == 0) k.reset(EVP_RSA_gen(static_cast<unsigned>(std::stoul(spec.substr(4)))));
  if (!k) throw std::runtime_error("cannot generate a " + spec + " key");
  return k;
}

const EVP_MD* digest_of(const std::string& d) { return d == "sha1" ? EVP_sha1() : EVP_sha256(); }

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error("cannot build a certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `cn` with `key`, issued by `issuer` (or itself), valid from
// now + not_before to now + not_after seconds.
x509_ptr issue(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca, long not_before,
               long not_after, long serial, const EVP_MD* md = EVP_sha256()) {
  x509_ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mxtls test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : cert.get();
  if (ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, ("DNS:" + cn).c_str());
  }
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, md))
    throw std::runtime_error("cannot sign a certificate");
  return cert;
}

}  // namespace

std::string fingerprint_sha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  std::string s;
  for (unsigned int i = 0; i < n; ++i) s += fmt::format("{}{:02X}", i ? ":" : "", md[i]);
  return s;
}

namespace {

// What a writer put into a memory BIO, as a string.
template <class Write>
std::string through_memory_bio(Write write) {
  BIO* b = BIO_new(BIO_s_mem());
  write(b);
  char* data = nullptr;
  long len = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(len));
  BIO_free(b);
  return s;
}

}  // namespace

std::string to_pem(X509* cert) {
  return through_memory_bio([&](BIO* b) { PEM_write_bio_X509(b, cert); });
}

std::string private_key_pem(EVP_PKEY* key) {
  return through_memory_bio([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
}

std::string asn1_time_text(const ASN1_TIME* t) {
  return through_memory_bio([&](BIO* b) { ASN1_TIME_print(b, t); });
}

tls_identity make_identity(const std::string& host, certificate_kind kind, const key_spec& spec) {
  tls_identity id;
  id.key = new_key(spec.key);
  const EVP_MD* md = digest_of(spec.digest);
  switch (kind) {
    case certificate_kind::self_signed:
      id.leaf = issue(host, id.key.get(), nullptr, nullptr, false, -3600, 365 * day, 1, md);
      break;
    case certificate_kind::expired:
      id.leaf = issue(host, id.key.get(), nullptr, nullptr, false, -30 * day, -day, 2, md);
      break;
    case certificate_kind::not_yet_valid:
      id.leaf = issue(host, id.key.get(), nullptr, nullptr, false, day, 30 * day, 3, md);
      break;
    case certificate_kind::wrong_host:
      id.leaf = issue("wrong-host.mxtls.test", id.key.get(), nullptr, nullptr, false, -3600, 365 * day, 4, md);
      break;
    case certificate_kind::ca_chain:
    case certificate_kind::missing_intermediate: {
      // The CAs' keys are the leaf's kind too: a server with an RSA 1024 leaf has one chain of them.
      pkey_ptr root_key = new_key(spec.key), mid_key = new_key(spec.key);
      id.root = issue("mxtls test root CA", root_key.get(), nullptr, nullptr, true, -3600, 3650 * day, 10, md);
      x509_ptr mid = issue("mxtls test intermediate CA", mid_key.get(), id.root.get(), root_key.get(), true, -3600,
                           1825 * day, 11, md);
      id.leaf = issue(host, id.key.get(), mid.get(), mid_key.get(), false, -3600, 365 * day, 12, md);
      if (kind == certificate_kind::ca_chain) id.chain.push_back(std::move(mid));
      break;
    }
  }
  id.sha256 = fingerprint_sha256(id.leaf.get());
  id.key_name = spec.key;
  return id;
}

tls_identity make_identity(const scenario& s) {
  tls_identity id = make_identity(s.host, s.certificate, {.key = s.certificate_key, .digest = s.certificate_digest});
  if (!s.second_certificate_key.empty())
    id.second = std::make_unique<tls_identity>(
        make_identity(s.host, s.certificate, {.key = s.second_certificate_key, .digest = s.certificate_digest}));
  return id;
}

tls_identity load_identity(const std::string& cert_file, const std::string& key_file) {
  tls_identity id;
  FILE* f = std::fopen(cert_file.c_str(), "r");
  if (!f) throw std::runtime_error(fmt::format("cannot open certificate file '{}'", cert_file));
  id.leaf.reset(PEM_read_X509(f, nullptr, nullptr, nullptr));
  while (X509* extra = PEM_read_X509(f, nullptr, nullptr, nullptr)) id.chain.emplace_back(extra);
  std::fclose(f);
  ERR_clear_error();
  if (!id.leaf) throw std::runtime_error(fmt::format("'{}' holds no PEM certificate", cert_file));
  f = std::fopen(key_file.c_str(), "r");
  if (!f) throw std::runtime_error(fmt::format("cannot open key file '{}'", key_file));
  id.key.reset(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!id.key) throw std::runtime_error(fmt::format("'{}' holds no PEM private key", key_file));
  if (X509_check_private_key(id.leaf.get(), id.key.get()) != 1)
    throw std::runtime_error(fmt::format("the key in '{}' does not match the certificate in '{}'", key_file, cert_file));
  id.sha256 = fingerprint_sha256(id.leaf.get());
  return id;
}

void use_identity(SSL_CTX* ctx, const tls_identity& id) {
  // One slot per key type in OpenSSL (RSA, ECDSA, ...), each with its own chain
  // (SSL_CTX_use_cert_and_key(3)): with two certificates, the one whose key type the
  // client's signature algorithms (or at TLS 1.2 and below the chosen suite) allow is sent.
  for (const tls_identity* one = &id; one; one = one->second.get()) {
    STACK_OF(X509)* chain = sk_X509_new_null();
    for (const auto& c : one->chain) sk_X509_push(chain, c.get());
    int ok = SSL_CTX_use_cert_and_key(ctx, one->leaf.get(), one->key.get(), chain, 1);
    sk_X509_free(chain);  // the context took its own references
    if (ok != 1) {
      ERR_clear_error();
      throw std::runtime_error(fmt::format("OpenSSL refuses the {} certificate and key", one->key_name.empty() ? "given" : one->key_name));
    }
  }
}

}  // namespace mxtls
