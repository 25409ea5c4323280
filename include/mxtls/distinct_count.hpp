// How many distinct things (a destination's messages in mxtls logs) were seen, in memory
// bounded per counter: exact up to `exact_limit` distinct hashes, then a HyperLogLog sketch
// (Flajolet, Fusy, Gandouet, Meunier 2007; read with Ertl's estimator, distinct_count.cpp)
// of 2^precision one-octet registers, whose relative standard error is
// 1.04 / sqrt(2^precision): 2.3 % at precision 11, 2 KiB.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace mxtls {

class distinct_count {
 public:
  static constexpr std::size_t exact_limit = 256;
  static constexpr unsigned precision = 11;

  distinct_count() = default;
  distinct_count(const distinct_count& o);
  distinct_count& operator=(const distinct_count& o);
  distinct_count(distinct_count&&) noexcept = default;
  distinct_count& operator=(distinct_count&&) noexcept = default;

  // One item, by a 64-bit hash of it (hash_of below); the same hash again counts nothing.
  void add(std::uint64_t hash);
  // The count: exact while exact() is true, else the sketch's estimate.
  std::uint64_t count() const;
  bool exact() const { return !registers_; }
  // Octets this counter holds beyond its own size (the memory bound in docs/mxtls-logs.md).
  std::size_t footprint() const;

  // A well-mixed 64-bit hash of a text (an MTA's queue id) or a number (an ESA MID).
  static std::uint64_t hash_of(std::string_view text);
  static std::uint64_t hash_of(std::uint64_t number);

 private:
  std::vector<std::uint64_t> hashes_;               // while exact: sorted, distinct
  std::unique_ptr<std::uint8_t[]> registers_;       // the sketch, once over exact_limit
  void sketch(std::uint64_t hash);
};

}  // namespace mxtls
