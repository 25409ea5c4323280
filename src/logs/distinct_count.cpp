// distinct_count: exact, then a HyperLogLog sketch read with Ertl's improved raw estimator
// (O. Ertl, "New cardinality estimation algorithms for HyperLogLog sketches", 2017, §3),
// which needs no bias table and holds its error over the whole range, small counts included.
#include "mxtls/distinct_count.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>

namespace mxtls {

namespace {

constexpr std::size_t registers = std::size_t{1} << distinct_count::precision;
constexpr unsigned q = 64 - distinct_count::precision;  // the hash bits that give a register its value

// The finaliser of SplitMix64 (Steele, Lea, Flood 2014): every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Ertl's σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), for the registers still 0 (x = their share).
double sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0, z = x, before = 0.0;
  do {
    x *= x;
    before = z;
    z += x * y;
    y += y;
  } while (z != before);
  return z;
}

// Ertl's τ(x) = (1 - x - Σ_{k≥1} (1 - x^(2^-k))^2 2^-k) / 3, for the registers at q+1.
double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, before = 0.0;
  do {
    x = std::sqrt(x);
    before = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != before);
  return z / 3.0;
}

}  // namespace

distinct_count::distinct_count(const distinct_count& o) : hashes_(o.hashes_) {
  if (o.registers_) {
    registers_ = std::make_unique<std::uint8_t[]>(registers);
    std::copy_n(o.registers_.get(), registers, registers_.get());
  }
}

distinct_count& distinct_count::operator=(const distinct_count& o) {
  if (this != &o) *this = distinct_count(o);
  return *this;
}

void distinct_count::sketch(std::uint64_t hash) {
  std::size_t index = hash >> q;
  std::uint64_t rest = hash & ((std::uint64_t{1} << q) - 1);
  auto value = static_cast<std::uint8_t>(rest == 0 ? q + 1 : std::countl_zero(rest) - precision + 1);
  registers_[index] = std::max(registers_[index], value);
}

void distinct_count::add(std::uint64_t hash) {
  if (registers_) return sketch(hash);
  auto at = std::lower_bound(hashes_.begin(), hashes_.end(), hash);
  if (at != hashes_.end() && *at == hash) return;
  if (hashes_.size() < exact_limit) {
    hashes_.insert(at, hash);
    return;
  }
  registers_ = std::make_unique<std::uint8_t[]>(registers);  // zeroed
  for (std::uint64_t h : hashes_) sketch(h);
  std::vector<std::uint64_t>().swap(hashes_);
  sketch(hash);
}

std::uint64_t distinct_count::count() const {
  if (!registers_) return hashes_.size();
  std::uint64_t histogram[q + 2] = {};
  for (std::size_t i = 0; i < registers; ++i) ++histogram[registers_[i]];
  const double m = registers;
  double z = m * tau(1.0 - histogram[q + 1] / m);
  for (unsigned k = q; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * sigma(histogram[0] / m);
  const double alpha = 1.0 / (2.0 * std::log(2.0));
  return static_cast<std::uint64_t>(std::llround(alpha * m * m / z));
}

std::size_t distinct_count::footprint() const {
  return registers_ ? registers : hashes_.capacity() * sizeof(std::uint64_t);
}

std::uint64_t distinct_count::hash_of(std::string_view text) { return mix(std::hash<std::string_view>{}(text)); }
std::uint64_t distinct_count::hash_of(std::uint64_t number) { return mix(number + 0x9e3779b97f4a7c15ULL); }

}  // namespace mxtls
