// Certificate chains and keys read from PEM files, as TLSA digests (mxtls tlsa). OpenSSL.
#pragma once

#include <string>
#include <vector>

#include "mxtls/model/dane.hpp"

namespace mxtls {

struct pem_chain {
  std::vector<chain_digest> digests;     // every certificate, leaf first: selectors 0/1, mtypes 1/2
  std::vector<std::string> subjects;     // one line each, OpenSSL's one-line form
  std::vector<std::string> leaf_names;   // the leaf's DNS subjectAltNames
  std::string error;                     // the file could not be read, or holds no certificate
};
pem_chain read_pem_chain(const std::string& file);

// The SHA2-256 of the SubjectPublicKeyInfo in a PEM certificate, public key or private key
// (the data of a 3 1 1 record for that key); empty with `error` set when there is none.
std::string spki_sha256_of_pem(const std::string& file, std::string& error);

}  // namespace mxtls
