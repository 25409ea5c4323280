// Fuzz target: the parse of a server's first flight after the TLS enumeration's own hellos
// (src/net/tls_hello.cpp), read whole and as it arrives (every prefix, as the reads of a
// slow server hand it over), each way the caller asks it. Aborts when an answer breaks its
// own contract: an alert without a description, a malformed answer without a reason.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/tls_hello.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxtls::tls_hello;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (bool tls13 : {true, false})
    for (bool dhe : {true, false}) {
      auto is_dhe = [dhe](std::uint16_t) { return dhe; };
      for (std::size_t n = size > 512 ? size : 0; n <= size; ++n) {
        answer a = read_answer(in.substr(0, n), tls13, is_dhe);
        if (a.kind == answer_kind::alert && (a.alert < 0 || a.alert > 255)) std::abort();
        if (a.kind == answer_kind::malformed && a.why.empty()) std::abort();
        if (a.kind != answer_kind::malformed && !a.why.empty()) std::abort();
      }
    }
  return 0;
}
