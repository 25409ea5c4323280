// A JSON writer that appends straight to a string, for the reports written in volume (one
// probe record per destination in a scan). Building an nlohmann::json tree first and then
// dumping it cost 1.1 million instructions per scan record, a fifth of a probe's CPU; this
// writes the same text without the tree.
//
// Output is the text nlohmann::ordered_json::dump(indent, ' ', false, replace) gives for
// the same document: indent 0 is compact ("a":1,"b":2), indent n puts every member on its
// own line n spaces deeper, empty containers stay {} and []. Octets that are not UTF-8
// become U+FFFD the way nlohmann's replace handler does it
// (tests/unit/report/json_writer_test.cpp compares the two on every pair of octets and on
// random octets; the reply parser's fuzz target on every input).
//
// Members are written in the order of the calls; the writer checks nothing, so a caller
// that opens a container must close it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mxtls {

class json_writer {
 public:
  explicit json_writer(std::string& out, int indent = 0) : out_(out), indent_(indent) {}

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }

  // The name of the next member of the open object.
  json_writer& key(std::string_view name);

  json_writer& value(std::string_view s);
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(bool b);
  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  json_writer& value(T n) {
    if constexpr (std::is_signed_v<T>)
      return number(static_cast<std::int64_t>(n));
    else
      return number(static_cast<std::uint64_t>(n));
  }
  json_writer& null();
  // A string, or null when it is empty.
  json_writer& value_or_null(std::string_view s) { return s.empty() ? null() : value(s); }
  json_writer& strings(const std::vector<std::string>& list);

  // key(name).value(v) in one call.
  template <class T>
  json_writer& member(std::string_view name, const T& v) {
    return key(name).value(v);
  }
  // A member whose value is null when it is not known (no reply code, no TLS to speak of).
  template <class T>
  json_writer& member_if(std::string_view name, bool known, const T& v) {
    key(name);
    return known ? value(v) : null();
  }

 private:
  json_writer& number(std::int64_t n);
  json_writer& number(std::uint64_t n);
  json_writer& open(char c);
  json_writer& close(char c);
  void element();  // separator and indentation before a member or an array element
  void newline(std::size_t depth);

  std::string& out_;
  int indent_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// `s` as a JSON string with its quotes, appended to `out` (same escaping as json_writer).
void append_json_string(std::string& out, std::string_view s);

}  // namespace mxtls
