// The octets of a conformance vector's "input": a string, or a list of pieces, each a
// string, {"repeat": s, "count": n} (s, n times) or {"hex": "ff c2a0"} (octets in hex,
// spaces ignored). JSON strings are UTF-8, so an octet that is not (0xFF alone, a lone
// 0x80) can only be written as hex; NUL can also be written as "\u0000".
#pragma once

#include <cctype>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace mxtls::test {

inline std::string vector_input(const nlohmann::json& in) {
  if (in.is_string()) return in.get<std::string>();
  std::string s;
  for (const auto& piece : in) {
    if (piece.is_string()) {
      s += piece.get<std::string>();
    } else if (piece.contains("hex")) {
      std::string digits;
      for (char c : piece.at("hex").get<std::string>()) {
        if (c == ' ') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) throw std::invalid_argument("hex piece with a non-hex digit");
        digits += c;
      }
      if (digits.size() % 2 != 0) throw std::invalid_argument("hex piece with an odd number of digits: " + digits);
      for (std::size_t i = 0; i < digits.size(); i += 2)
        s += static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16));
    } else {
      for (int i = 0; i < piece.at("count").get<int>(); ++i) s += piece.at("repeat").get<std::string>();
    }
  }
  return s;
}

}  // namespace mxtls::test
