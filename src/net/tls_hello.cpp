// The enumeration's own ClientHellos and the parse of the server's first flight
// (tls_hello.hpp says why they are not OpenSSL's). Structures: RFC 8446 §4.1.2-4.1.4 (TLS
// 1.3 hellos and HelloRetryRequest), RFC 5246 §7.4 (TLS 1.2 hellos, ServerKeyExchange),
// RFC 8422 §5.4 (ECDHE parameters), RFC 5746 §3.3 (the renegotiation SCSV).
#include "net/tls_hello.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace mxtls::tls_hello {

namespace {

// Extension numbers (IANA "TLS ExtensionType Values").
enum : std::uint16_t {
  ext_server_name = 0,
  ext_supported_groups = 10,
  ext_ec_point_formats = 11,
  ext_signature_algorithms = 13,
  ext_encrypt_then_mac = 22,
  ext_extended_master_secret = 23,
  ext_supported_versions = 43,
  ext_psk_key_exchange_modes = 45,
  ext_key_share = 51,
};

// SHA-256 of "HelloRetryRequest": a ServerHello with this random is a retry (RFC 8446 §4.1.3).
constexpr std::array<unsigned char, 32> retry_random = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

void put8(std::string& s, unsigned v) { s.push_back(static_cast<char>(v & 0xff)); }
void put16(std::string& s, unsigned v) {
  put8(s, v >> 8);
  put8(s, v);
}
void put24(std::string& s, std::size_t v) {
  put8(s, static_cast<unsigned>(v >> 16));
  put16(s, static_cast<unsigned>(v));
}
void extension(std::string& s, std::uint16_t type, const std::string& body) {
  put16(s, type);
  put16(s, static_cast<unsigned>(body.size()));
  s += body;
}
std::string list16(const std::vector<std::uint16_t>& v) {
  std::string s;
  put16(s, static_cast<unsigned>(v.size() * 2));
  for (auto x : v) put16(s, x);
  return s;
}
bool is_address(std::string_view name) {
  return name.find(':') != std::string_view::npos ||
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// Reads big-endian numbers from a bounded span; every read past the end sets `bad`.
struct reader {
  const unsigned char* p;
  std::size_t n;
  bool bad = false;
  unsigned u8() {
    if (n < 1) return bad = true, 0;
    --n;
    return *p++;
  }
  unsigned u16() {
    unsigned hi = u8();
    return (hi << 8) | u8();
  }
  std::size_t u24() {
    std::size_t hi = u8();
    return (hi << 16) | u16();
  }
  reader take(std::size_t k) {
    if (k > n) {
      bad = true;
      return {p, 0, true};
    }
    reader r{p, k};
    p += k;
    n -= k;
    return r;
  }
};

answer malformed(std::string why) {
  answer a;
  a.kind = answer_kind::malformed;
  a.why = std::move(why);
  return a;
}

// A ServerHello's body into `a`; false (with a.why) when it does not parse.
bool server_hello(reader body, answer& a) {
  a.version = static_cast<int>(body.u16());
  reader random = body.take(32);
  bool retry = !random.bad && std::memcmp(random.p, retry_random.data(), 32) == 0;
  body.take(body.u8());  // legacy_session_id_echo
  a.suite = static_cast<std::uint16_t>(body.u16());
  body.u8();  // compression
  if (body.bad) return a.why = "a ServerHello cut short", false;
  if (body.n > 0) {
    reader exts = body.take(body.u16());
    while (exts.n > 0 && !exts.bad) {
      unsigned type = exts.u16();
      reader data = exts.take(exts.u16());
      if (type == ext_supported_versions) a.version = static_cast<int>(data.u16());
      if (type == ext_key_share) a.group = static_cast<std::uint16_t>(data.u16());  // first in both forms
      if (data.bad) exts.bad = true;
    }
    if (exts.bad) return a.why = "a ServerHello's extensions do not parse", false;
  }
  a.kind = retry ? answer_kind::retry : answer_kind::server_hello;
  return true;
}

// The significant bits of a big-endian number.
int bits_of(reader n) {
  while (n.n > 0 && *n.p == 0) {
    ++n.p;
    --n.n;
  }
  if (n.n == 0) return 0;
  int top = 0;
  for (unsigned v = *n.p; v; v >>= 1) ++top;
  return static_cast<int>((n.n - 1) * 8) + top;
}

struct group_row {
  const char* name;
  std::uint16_t id;
};
constexpr group_row group_rows[] = {
    {"sect163k1", 1},  {"sect163r1", 2},         {"sect163r2", 3},         {"sect193r1", 4},         {"sect193r2", 5},
    {"sect233k1", 6},  {"sect233r1", 7},         {"sect239k1", 8},         {"sect283k1", 9},         {"sect283r1", 10},
    {"sect409k1", 11}, {"sect409r1", 12},        {"sect571k1", 13},        {"sect571r1", 14},        {"secp160k1", 15},
    {"secp160r1", 16}, {"secp160r2", 17},        {"secp192k1", 18},        {"secp192r1", 19},        {"secp224k1", 20},
    {"secp224r1", 21}, {"secp256k1", 22},        {"P-256", 23},            {"P-384", 24},            {"P-521", 25},
    {"brainpoolP256r1", 26}, {"brainpoolP384r1", 27}, {"brainpoolP512r1", 28}, {"X25519", 29},   {"X448", 30},
    {"ffdhe2048", 256}, {"ffdhe3072", 257},      {"ffdhe4096", 258},       {"ffdhe6144", 259},       {"ffdhe8192", 260}};

}  // namespace

std::uint16_t group_id(std::string_view name) {
  for (const auto& g : group_rows)
    if (name == g.name) return g.id;
  return 0;
}

std::string client_hello(const offer& o) {
  if (o.suites.empty()) return "";
  bool tls13 = o.version >= 0x0304;
  std::string body;
  put16(body, tls13 ? 0x0303 : static_cast<unsigned>(o.version));  // legacy_version
  unsigned char random[32 + 32];
  if (RAND_bytes(random, sizeof random) != 1) return "";
  body.append(reinterpret_cast<const char*>(random), 32);
  // TLS 1.3: a session id, as OpenSSL's own hellos send in middlebox compatibility mode.
  put8(body, tls13 ? 32 : 0);
  if (tls13) body.append(reinterpret_cast<const char*>(random + 32), 32);
  std::vector<std::uint16_t> suites = o.suites;
  if (!tls13) suites.push_back(0x00FF);  // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
  body += list16(suites);
  put8(body, 1);
  put8(body, 0);  // compression: null only

  std::string exts;
  if (!o.sni.empty() && !is_address(o.sni) && o.sni.size() < 256) {
    std::string sn;
    put16(sn, static_cast<unsigned>(o.sni.size() + 3));
    put8(sn, 0);  // host_name
    put16(sn, static_cast<unsigned>(o.sni.size()));
    sn += o.sni;
    extension(exts, ext_server_name, sn);
  }
  if (!o.groups.empty()) {
    extension(exts, ext_ec_point_formats, std::string("\x01\x00", 2));  // uncompressed
    extension(exts, ext_supported_groups, list16(o.groups));
  }
  if (o.version >= 0x0303 && !o.sigalgs.empty()) extension(exts, ext_signature_algorithms, list16(o.sigalgs));
  if (!tls13) {
    extension(exts, ext_encrypt_then_mac, "");
    extension(exts, ext_extended_master_secret, "");
  } else {
    extension(exts, ext_supported_versions, std::string("\x02\x03\x04", 3));
    extension(exts, ext_psk_key_exchange_modes, std::string("\x01\x01", 2));  // psk_dhe_ke
    extension(exts, ext_key_share, std::string("\x00\x00", 2));               // no share: the server names its group
  }
  put16(body, static_cast<unsigned>(exts.size()));
  body += exts;

  std::string hs;
  put8(hs, 1);  // client_hello
  put24(hs, body.size());
  hs += body;
  if (hs.size() > 16384) return "";
  std::string record;
  put8(record, 22);      // handshake
  put16(record, 0x0301); // legacy_record_version, as OpenSSL writes its first record
  put16(record, static_cast<unsigned>(hs.size()));
  record += hs;
  return record;
}

answer read_answer(std::string_view octets, bool tls13, const std::function<bool(std::uint16_t)>& dhe_suite) {
  if (octets.size() > max_answer_octets) return malformed("a first flight of more than 64 KiB");
  // The records' handshake octets, joined (a message may span records).
  std::string handshake;
  reader in{reinterpret_cast<const unsigned char*>(octets.data()), octets.size()};
  while (in.n >= 5) {
    unsigned type = in.p[0];
    if (type != 20 && type != 21 && type != 22) {
      if (handshake.empty()) return malformed("not a TLS record (first octet " + std::to_string(type) + ")");
      break;  // past the first flight (the session is given up anyway)
    }
    std::size_t len = (static_cast<std::size_t>(in.p[3]) << 8) | in.p[4];
    if (len > 16384 + 2048) return malformed("a record of " + std::to_string(len) + " octets");
    if (in.n < 5 + len) break;  // more to come
    in.take(5);
    reader rec = in.take(len);
    if (type == 21) {
      if (len < 2) return malformed("an alert record cut short");
      answer a;
      a.kind = answer_kind::alert;
      a.alert = rec.p[1];
      return a;
    }
    if (type == 22) handshake.append(reinterpret_cast<const char*>(rec.p), rec.n);
  }
  answer a;
  reader hs{reinterpret_cast<const unsigned char*>(handshake.data()), handshake.size()};
  bool hello_seen = false;
  while (hs.n >= 4) {
    unsigned type = hs.u8();
    std::size_t len = hs.u24();
    if (hs.n < len) break;  // more to come
    reader body = hs.take(len);
    if (!hello_seen) {
      if (type != 2) return malformed("the first handshake message is of type " + std::to_string(type) + ", not a ServerHello");
      if (!server_hello(body, a)) return malformed(a.why);
      hello_seen = true;
      if (tls13 && (a.kind == answer_kind::retry || a.version >= 0x0304)) return a;
      continue;
    }
    if (type == 11 && a.version < 0x0304) {  // Certificate: the list, then each one with its length
      reader list = body.take(body.u24());
      reader first = list.take(list.u24());
      if (!first.bad) a.leaf.assign(reinterpret_cast<const char*>(first.p), first.n);
    }
    if (type == 12 && a.version < 0x0304) {  // ServerKeyExchange: the parameters, then (TLS 1.2) the signature
      if (dhe_suite && dhe_suite(a.suite)) {
        a.dh_prime_bits = bits_of(body.take(body.u16()));
        body.take(body.u16());  // g
        body.take(body.u16());  // Ys
      } else if (body.u8() == 3) {  // named_curve
        a.group = static_cast<std::uint16_t>(body.u16());
        body.take(body.u8());  // the point
      }
      if (a.version == 0x0303 && body.n >= 4 && !body.bad) a.key_signature = static_cast<std::uint16_t>(body.u16());
    }
    if (type == 14) {  // ServerHelloDone: the end of the first flight
      a.kind = answer_kind::server_hello;
      return a;
    }
  }
  return {};  // incomplete
}

}  // namespace mxtls::tls_hello
